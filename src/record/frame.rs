//! File header and frames: the envelope (length, CRC-32, LZ4 block) and what a frame holds
//! (a full table or a delta against the previous frame). FORMAT.md is the specification.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::codec::{self, Dec, DecodeError, Enc};
use crate::model::{Endpoint, KernelCounters, Netid, Socket, Source};

pub const MAGIC: &[u8; 8] = b"SOCKEYE\x1a";
/// A reader refuses a file of a newer major version; minor versions only append.
pub const MAJOR: u16 = 1;
/// 1.1: more kernel counters; timers count down across frames (a socket whose timer only ran
/// down is not written again).
pub const MINOR: u16 = 1;
/// The envelope: u32 length + u32 CRC-32 of the compressed bytes, both little-endian.
pub const ENVELOPE: usize = 8;
/// No frame is larger (compressed): a corrupted length cannot make a reader allocate more.
pub const MAX_FRAME: usize = 1 << 30;

pub const KIND_FULL: u8 = 0;
pub const KIND_DELTA: u8 = 1;

/// What the recorder was asked to collect (header flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    pub processes: bool,
    pub tcp_info: bool,
    pub memory: bool,
}

impl Collected {
    /// Keep only what `other` collected too: a recording of several files has a report only
    /// where every file has it.
    pub fn narrow(&mut self, other: Collected) {
        self.processes &= other.processes;
        self.tcp_info &= other.tcp_info;
        self.memory &= other.memory;
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub major: u16,
    pub minor: u16,
    pub interval: Duration,
    pub collected: Collected,
    pub started: SystemTime,
    /// The file's table numbers (index) as names; an unknown name reads as None.
    pub netids: Vec<Option<Netid>>,
}

impl Header {
    pub fn new(interval: Duration, collected: Collected, started: SystemTime) -> Header {
        Header {
            major: MAJOR,
            minor: MINOR,
            interval,
            collected,
            started,
            netids: Netid::ALL.iter().copied().map(Some).collect(),
        }
    }

    /// magic, major, minor, u32 body length, u32 CRC of the body, body.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Enc::default();
        body.var(self.interval.as_micros() as u64);
        let c = self.collected;
        body.var(u64::from(c.processes) | u64::from(c.tcp_info) << 1 | u64::from(c.memory) << 2);
        body.ivar(micros(self.started));
        body.var(Netid::ALL.len() as u64);
        for n in Netid::ALL {
            body.str(n.as_str());
        }
        let mut out = Vec::with_capacity(body.buf.len() + 20);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.major.to_le_bytes());
        out.extend_from_slice(&self.minor.to_le_bytes());
        out.extend_from_slice(&(body.buf.len() as u32).to_le_bytes());
        out.extend_from_slice(&super::crc::crc32(&body.buf).to_le_bytes());
        out.extend_from_slice(&body.buf);
        out
    }
}

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("the file is empty")]
    Empty,
    #[error("not a sockeye recording (no SOCKEYE header)")]
    NotRecording,
    #[error(
        "recorded by a newer sockeye (format {0}.{1}); this one reads format {MAJOR}.x: \
         upgrade sockeye to read it"
    )]
    Newer(u16, u16),
    #[error("the header is cut short or damaged")]
    Damaged,
}

/// The header and the offset of the first frame.
pub fn decode_header(buf: &[u8]) -> Result<(Header, usize), HeaderError> {
    if buf.is_empty() {
        return Err(HeaderError::Empty);
    }
    let n = buf.len().min(MAGIC.len());
    if buf[..n] != MAGIC[..n] {
        return Err(HeaderError::NotRecording);
    }
    let fixed = buf.get(..20).ok_or(HeaderError::Damaged)?;
    let le16 = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]);
    let le32 = |i: usize| u32::from_le_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
    let (major, minor) = (le16(8), le16(10));
    if major > MAJOR {
        return Err(HeaderError::Newer(major, minor));
    }
    let len = le32(12) as usize;
    let body = buf.get(20..20 + len).ok_or(HeaderError::Damaged)?;
    if super::crc::crc32(body) != le32(16) {
        return Err(HeaderError::Damaged);
    }
    let mut d = Dec::new(body);
    let parse = |d: &mut Dec| -> Result<Header, DecodeError> {
        let interval = Duration::from_micros(d.var()?);
        let bits = d.var()?;
        let collected = Collected {
            processes: bits & 1 != 0,
            tcp_info: bits & 2 != 0,
            memory: bits & 4 != 0,
        };
        let started = from_micros(d.ivar()?);
        let count = d.len()?;
        let mut netids = Vec::with_capacity(count);
        for _ in 0..count {
            netids.push(Netid::from_ss_name(d.str()?));
        }
        Ok(Header {
            major,
            minor,
            interval,
            collected,
            started,
            netids,
        })
    };
    let header = parse(&mut d).map_err(|_| HeaderError::Damaged)?;
    Ok((header, 20 + len))
}

/// A socket's identity across frames: the kernel's cookie when known, else its table, ends
/// and inode (what /proc gives).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    Cookie(Netid, u64),
    Ends(Netid, Endpoint, Endpoint, u64),
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        fn ep<H: std::hash::Hasher>(e: &Endpoint, h: &mut H) {
            match e {
                Endpoint::Inet { addr, port } => (addr, port).hash(h),
                Endpoint::Unix { path, inode } => (path, inode).hash(h),
                other => other.hash(h),
            }
        }
        match self {
            Key::Cookie(n, c) => (0u8, n, c).hash(h),
            Key::Ends(n, l, p, i) => {
                (1u8, n, i).hash(h);
                ep(l, h);
                ep(p, h);
            }
        }
    }
}

impl Key {
    pub fn of(s: &Socket) -> Key {
        match s.cookie {
            Some(c) => Key::Cookie(s.netid, c),
            None => Key::Ends(s.netid, s.local.clone(), s.peer.clone(), s.inode),
        }
    }
    fn put(&self, e: &mut Enc) {
        match self {
            Key::Cookie(n, c) => {
                e.u8(0);
                e.u8(codec::netid_code(*n));
                e.var(*c);
            }
            Key::Ends(n, l, p, i) => {
                e.u8(1);
                e.u8(codec::netid_code(*n));
                codec::put_endpoint(e, l);
                codec::put_endpoint(e, p);
                e.var(*i);
            }
        }
    }
    fn get(d: &mut Dec, netids: &[Option<Netid>]) -> Result<Key, DecodeError> {
        let tag = d.u8()?;
        let netid = netids
            .get(usize::from(d.u8()?))
            .copied()
            .flatten()
            .ok_or(DecodeError::Bad("unknown table"))?;
        match tag {
            0 => Ok(Key::Cookie(netid, d.var()?)),
            1 => {
                let l = codec::get_endpoint(d)?;
                let p = codec::get_endpoint(d)?;
                Ok(Key::Ends(netid, l, p, d.var()?))
            }
            _ => Err(DecodeError::Bad("key kind")),
        }
    }
}

/// One frame, decoded.
#[derive(Clone, Debug)]
pub struct Frame {
    pub at: SystemTime,
    pub source: Source,
    pub counters: Option<KernelCounters>,
    pub body: Body,
}

#[derive(Clone, Debug)]
pub enum Body {
    /// Every socket of the moment.
    Full(Vec<Socket>),
    /// Against the previous frame: keys that vanished, then sockets that appeared or changed.
    Delta {
        vanished: Vec<Key>,
        upserted: Vec<Socket>,
    },
}

impl Frame {
    /// The uncompressed payload: kind, time (µs since the epoch, zigzag), source, counters,
    /// then the body.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        let counters = self.counters.as_ref();
        match &self.body {
            Body::Full(sockets) => encode_full(&mut buf, self.at, self.source, counters, sockets),
            Body::Delta { vanished, upserted } => encode_delta(
                &mut buf,
                self.at,
                self.source,
                counters,
                vanished,
                upserted.iter(),
            ),
        }
        buf
    }

    /// What an index needs of a payload: whether it is full, its time and source.
    pub fn head(buf: &[u8]) -> Result<(bool, SystemTime, Source), DecodeError> {
        let mut d = Dec::new(buf);
        let (kind, at, source) = Frame::head_from(&mut d)?;
        Ok((kind == KIND_FULL, at, source))
    }

    fn head_from(d: &mut Dec) -> Result<(u8, SystemTime, Source), DecodeError> {
        let kind = d.u8()?;
        if kind != KIND_FULL && kind != KIND_DELTA {
            return Err(DecodeError::Bad("frame kind"));
        }
        let at = from_micros(d.ivar()?);
        let source = match d.u8()? {
            0 => Source::Netlink,
            1 => Source::Proc,
            _ => return Err(DecodeError::Bad("source")),
        };
        Ok((kind, at, source))
    }

    pub fn decode(buf: &[u8], netids: &[Option<Netid>]) -> Result<Frame, DecodeError> {
        let mut d = Dec::new(buf);
        let (kind, at, source) = Frame::head_from(&mut d)?;
        let counters = match d.u8()? {
            0 => None,
            _ => Some(codec::get_counters(&mut d)?),
        };
        let sockets = |d: &mut Dec| -> Result<Vec<Socket>, DecodeError> {
            let n = d.len()?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(codec::get_socket(d, netids)?);
            }
            Ok(v)
        };
        let body = match kind {
            KIND_FULL => Body::Full(sockets(&mut d)?),
            KIND_DELTA => {
                let n = d.len()?;
                let mut vanished = Vec::with_capacity(n);
                for _ in 0..n {
                    vanished.push(Key::get(&mut d, netids)?);
                }
                Body::Delta {
                    vanished,
                    upserted: sockets(&mut d)?,
                }
            }
            _ => return Err(DecodeError::Bad("frame kind")),
        };
        Ok(Frame {
            at,
            source,
            counters,
            body,
        })
    }
}

/// The payload of a full frame of `sockets` (what [`Frame::encode`] gives for one, without
/// building the frame), in `buf` (cleared first; its allocation is reused).
pub fn encode_full(
    buf: &mut Vec<u8>,
    at: SystemTime,
    source: Source,
    counters: Option<&KernelCounters>,
    sockets: &[Socket],
) {
    let mut e = encode_head(buf, KIND_FULL, at, source, counters);
    e.var(sockets.len() as u64);
    for s in sockets {
        codec::put_socket(&mut e, s);
    }
    *buf = e.buf;
}

/// The payload of a delta frame, in `buf` as [`encode_full`].
pub fn encode_delta<'a>(
    buf: &mut Vec<u8>,
    at: SystemTime,
    source: Source,
    counters: Option<&KernelCounters>,
    vanished: &[Key],
    upserted: impl ExactSizeIterator<Item = &'a Socket>,
) {
    let mut e = encode_head(buf, KIND_DELTA, at, source, counters);
    e.var(vanished.len() as u64);
    for k in vanished {
        k.put(&mut e);
    }
    e.var(upserted.len() as u64);
    for s in upserted {
        codec::put_socket(&mut e, s);
    }
    *buf = e.buf;
}

/// Kind, time, source and counters, into `buf` cleared.
fn encode_head(
    buf: &mut Vec<u8>,
    kind: u8,
    at: SystemTime,
    source: Source,
    counters: Option<&KernelCounters>,
) -> Enc {
    let mut e = Enc {
        buf: std::mem::take(buf),
    };
    e.buf.clear();
    e.u8(kind);
    e.ivar(micros(at));
    e.u8(match source {
        Source::Netlink => 0,
        Source::Proc => 1,
    });
    match counters {
        Some(k) => {
            e.u8(1);
            codec::put_counters(&mut e, k);
        }
        None => e.u8(0),
    }
    e
}

/// A frame as stored: u32 length, u32 CRC-32 of the compressed bytes, the LZ4 block (which
/// starts with the uncompressed size, u32 LE).
pub fn seal(payload: &[u8]) -> Vec<u8> {
    let block = lz4_flex::block::compress_prepend_size(payload);
    let mut out = Vec::with_capacity(block.len() + ENVELOPE);
    out.extend_from_slice(&(block.len() as u32).to_le_bytes());
    out.extend_from_slice(&super::crc::crc32(&block).to_le_bytes());
    out.extend_from_slice(&block);
    out
}

/// [`seal`] into `out` (cleared first; its allocation is reused).
pub fn seal_into(payload: &[u8], out: &mut Vec<u8>) {
    let head = ENVELOPE + 4;
    out.clear();
    out.resize(
        head + lz4_flex::block::get_maximum_output_size(payload.len()),
        0,
    );
    let n = match lz4_flex::block::compress_into(payload, &mut out[head..]) {
        Ok(n) => n,
        // Not reached (the output has the maximum size); the allocating form then.
        Err(_) => {
            *out = seal(payload);
            return;
        }
    };
    out.truncate(head + n);
    out[ENVELOPE..head].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    let block = &out[ENVELOPE..];
    let (len, crc) = (block.len() as u32, super::crc::crc32(block));
    out[..4].copy_from_slice(&len.to_le_bytes());
    out[4..ENVELOPE].copy_from_slice(&crc.to_le_bytes());
}

pub fn micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

pub fn from_micros(us: i64) -> SystemTime {
    if us >= 0 {
        UNIX_EPOCH + Duration::from_micros(us as u64)
    } else {
        UNIX_EPOCH - Duration::from_micros(us.unsigned_abs())
    }
}
