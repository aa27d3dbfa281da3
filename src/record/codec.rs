//! The hand-written binary form of a socket and of the kernel counters inside a frame
//! (before compression): LEB128 varints, a presence bitmask for the optional fields, strings
//! as length + UTF-8. Hand-written rather than serde because the model is not serde-derived
//! and a fixed field order makes a socket ~40 bytes before compression; FORMAT.md documents
//! every field in this order.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::model::{
    Endpoint, Holders, KernelCounters, MemInfo, Netid, ProcessRef, Socket, TcpInfo, TcpState,
    Timer, TimerKind,
};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("frame ends inside a record")]
    Short,
    #[error("bad value in a record ({0})")]
    Bad(&'static str),
}

/// Appends to a byte buffer.
#[derive(Default)]
pub struct Enc {
    pub buf: Vec<u8>,
}

impl Enc {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn var(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
    pub fn ivar(&mut self, v: i64) {
        self.var(((v << 1) ^ (v >> 63)) as u64);
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.var(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

/// Reads what [`Enc`] wrote; every read is bounds-checked.
pub struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    pub fn new(buf: &'a [u8]) -> Dec<'a> {
        Dec { buf, pos: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self.buf.get(self.pos).ok_or(DecodeError::Short)?;
        self.pos += 1;
        Ok(b)
    }
    pub fn var(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::Bad("varint too long"))
    }
    pub fn ivar(&mut self) -> Result<i64, DecodeError> {
        let v = self.var()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.var()?).map_err(|_| DecodeError::Bad("u32 out of range"))
    }
    pub fn len(&mut self) -> Result<usize, DecodeError> {
        let n = usize::try_from(self.var()?).map_err(|_| DecodeError::Bad("length"))?;
        // A length can never exceed what is left: refuse before allocating for it.
        if n > self.buf.len() - self.pos.min(self.buf.len()) {
            return Err(DecodeError::Short);
        }
        Ok(n)
    }
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.len()?;
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }
    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| DecodeError::Bad("string not UTF-8"))
    }
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let end = self.pos.checked_add(N).ok_or(DecodeError::Short)?;
        let b = self.buf.get(self.pos..end).ok_or(DecodeError::Short)?;
        self.pos = end;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }
}

// Presence bits of a socket's optional fields.
const RECV_Q: u16 = 1;
const SEND_Q: u16 = 1 << 1;
const UID: u16 = 1 << 2;
const COOKIE: u16 = 1 << 3;
const IFINDEX: u16 = 1 << 4;
const V6ONLY_KNOWN: u16 = 1 << 5;
const V6ONLY: u16 = 1 << 6;
const TIMER: u16 = 1 << 7;
const TCP_INFO: u16 = 1 << 8;
const MEMORY: u16 = 1 << 9;
const PROCESSES: u16 = 1 << 10;

/// The table's number in the file: its position in the header's table list.
pub fn netid_code(n: Netid) -> u8 {
    Netid::ALL.iter().position(|x| *x == n).unwrap_or(0) as u8
}

pub fn put_socket(e: &mut Enc, s: &Socket) {
    let mut bits = 0u16;
    let flag = |b: bool, f: u16| if b { f } else { 0 };
    bits |= flag(s.recv_q.is_some(), RECV_Q);
    bits |= flag(s.send_q.is_some(), SEND_Q);
    bits |= flag(s.uid.is_some(), UID);
    bits |= flag(s.cookie.is_some(), COOKIE);
    bits |= flag(s.ifindex.is_some(), IFINDEX);
    bits |= flag(s.v6only.is_some(), V6ONLY_KNOWN);
    bits |= flag(s.v6only == Some(true), V6ONLY);
    bits |= flag(s.timer.is_some(), TIMER);
    bits |= flag(s.tcp_info.is_some(), TCP_INFO);
    bits |= flag(s.memory.is_some(), MEMORY);
    bits |= flag(!s.processes.is_empty(), PROCESSES);
    e.u8(netid_code(s.netid));
    e.u8(s.state as u8);
    e.var(u64::from(bits));
    put_endpoint(e, &s.local);
    put_endpoint(e, &s.peer);
    e.var(s.inode);
    for v in [s.recv_q, s.send_q, s.uid, s.ifindex].into_iter().flatten() {
        e.var(u64::from(v));
    }
    if let Some(c) = s.cookie {
        e.var(c);
    }
    if let Some(t) = s.timer {
        e.u8(t.kind as u8);
        e.var(t.expires_ms);
        e.var(u64::from(t.retrans));
    }
    if let Some(i) = &s.tcp_info {
        put_tcp_info(e, i);
    }
    if let Some(m) = &s.memory {
        for v in [
            m.rmem_alloc,
            m.rcvbuf,
            m.wmem_alloc,
            m.sndbuf,
            m.fwd_alloc,
            m.wmem_queued,
            m.optmem,
            m.backlog,
            m.drops,
        ] {
            e.var(u64::from(v));
        }
    }
    if !s.processes.is_empty() {
        e.var(s.processes.len() as u64);
        for p in s.processes.iter() {
            e.str(&p.command);
            e.var(u64::from(p.pid));
            e.var(u64::from(p.fd));
        }
    }
}

/// `netids` maps the file's table numbers to this build's tables (None: unknown here).
pub fn get_socket(d: &mut Dec, netids: &[Option<Netid>]) -> Result<Socket, DecodeError> {
    let netid = netids
        .get(usize::from(d.u8()?))
        .copied()
        .flatten()
        .ok_or(DecodeError::Bad("unknown table"))?;
    let state = TcpState::from_kernel(d.u8()?).ok_or(DecodeError::Bad("state"))?;
    let bits = u16::try_from(d.var()?).map_err(|_| DecodeError::Bad("presence bits"))?;
    let local = get_endpoint(d)?;
    let peer = get_endpoint(d)?;
    let mut s = Socket::new(netid, state, local, peer);
    s.inode = d.var()?;
    let has = |f: u16| bits & f != 0;
    if has(RECV_Q) {
        s.recv_q = Some(d.u32()?);
    }
    if has(SEND_Q) {
        s.send_q = Some(d.u32()?);
    }
    if has(UID) {
        s.uid = Some(d.u32()?);
    }
    if has(IFINDEX) {
        s.ifindex = Some(d.u32()?);
    }
    if has(COOKIE) {
        s.cookie = Some(d.var()?);
    }
    if has(V6ONLY_KNOWN) {
        s.v6only = Some(has(V6ONLY));
    }
    if has(TIMER) {
        let kind = match d.u8()? {
            0 => TimerKind::Off,
            1 => TimerKind::Retransmit,
            2 => TimerKind::Keepalive,
            3 => TimerKind::TimeWait,
            4 => TimerKind::Probe,
            _ => return Err(DecodeError::Bad("timer kind")),
        };
        s.timer = Some(Timer {
            kind,
            expires_ms: d.var()?,
            retrans: d.u32()?,
        });
    }
    if has(TCP_INFO) {
        s.tcp_info = Some(Box::new(get_tcp_info(d)?));
    }
    if has(MEMORY) {
        s.memory = Some(Box::new(MemInfo {
            rmem_alloc: d.u32()?,
            rcvbuf: d.u32()?,
            wmem_alloc: d.u32()?,
            sndbuf: d.u32()?,
            fwd_alloc: d.u32()?,
            wmem_queued: d.u32()?,
            optmem: d.u32()?,
            backlog: d.u32()?,
            drops: d.u32()?,
        }));
    }
    if has(PROCESSES) {
        let n = d.len()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let command: Arc<str> = Arc::from(d.str()?);
            v.push(ProcessRef {
                command,
                pid: d.u32()?,
                fd: d.u32()?,
                nspid: None,
                proc_ctx: None,
                sock_ctx: None,
            });
        }
        s.processes = Holders::from(v);
    }
    Ok(s)
}

pub fn put_endpoint(e: &mut Enc, ep: &Endpoint) {
    match ep {
        Endpoint::Inet {
            addr: IpAddr::V4(a),
            port,
        } => {
            e.u8(0);
            e.buf.extend_from_slice(&a.octets());
            e.buf.extend_from_slice(&port.to_be_bytes());
        }
        Endpoint::Inet {
            addr: IpAddr::V6(a),
            port,
        } => {
            e.u8(1);
            e.buf.extend_from_slice(&a.octets());
            e.buf.extend_from_slice(&port.to_be_bytes());
        }
        Endpoint::Unix { path, inode } => {
            e.u8(if path.is_some() { 3 } else { 2 });
            if let Some(p) = path {
                e.str(p);
            }
            e.var(*inode);
        }
        // The packet settings (-e) are not recorded.
        Endpoint::Link {
            protocol, ifindex, ..
        } => {
            e.u8(4);
            e.buf.extend_from_slice(&protocol.to_be_bytes());
            e.var((*ifindex).into());
        }
        Endpoint::Netlink {
            protocol,
            portid,
            groups,
        } => {
            e.u8(5);
            e.u8(*protocol);
            e.buf.extend_from_slice(&portid.to_be_bytes());
            e.var((*groups).into());
        }
        Endpoint::NetlinkPeer { group, portid } => {
            e.u8(6);
            e.var((*group).into());
            e.buf.extend_from_slice(&portid.to_be_bytes());
        }
        Endpoint::Nothing => e.u8(7),
        Endpoint::Vsock { cid, port } => {
            e.u8(8);
            e.var((*cid).into());
            e.var((*port).into());
        }
        Endpoint::Xdp { ifindex, queue } => {
            e.u8(9);
            e.var((*ifindex).into());
            e.var((*queue).into());
        }
        Endpoint::Tipc { node, port } => {
            e.u8(10);
            e.var((*node).into());
            e.var((*port).into());
        }
    }
}

pub fn get_endpoint(d: &mut Dec) -> Result<Endpoint, DecodeError> {
    Ok(match d.u8()? {
        0 => {
            let a: [u8; 4] = d.fixed()?;
            let port = u16::from_be_bytes(d.fixed()?);
            Endpoint::Inet {
                addr: IpAddr::V4(Ipv4Addr::from(a)),
                port,
            }
        }
        1 => {
            let a: [u8; 16] = d.fixed()?;
            let port = u16::from_be_bytes(d.fixed()?);
            Endpoint::Inet {
                addr: IpAddr::V6(Ipv6Addr::from(a)),
                port,
            }
        }
        2 => Endpoint::Unix {
            path: None,
            inode: d.var()?,
        },
        3 => Endpoint::Unix {
            path: Some(d.str()?.into()),
            inode: d.var()?,
        },
        4 => Endpoint::Link {
            protocol: u16::from_be_bytes(d.fixed()?),
            ifindex: u32::try_from(d.var()?).map_err(|_| DecodeError::Bad("interface index"))?,
            info: None,
        },
        5 => Endpoint::Netlink {
            protocol: d.u8()?,
            portid: i32::from_be_bytes(d.fixed()?),
            groups: u32::try_from(d.var()?).map_err(|_| DecodeError::Bad("netlink groups"))?,
        },
        6 => Endpoint::NetlinkPeer {
            group: u32::try_from(d.var()?).map_err(|_| DecodeError::Bad("netlink group"))?,
            portid: i32::from_be_bytes(d.fixed()?),
        },
        7 => Endpoint::Nothing,
        8 => Endpoint::Vsock {
            cid: u32::try_from(d.var()?).map_err(|_| DecodeError::Bad("vsock cid"))?,
            port: u32::try_from(d.var()?).map_err(|_| DecodeError::Bad("vsock port"))?,
        },
        9 => Endpoint::Xdp {
            ifindex: u32::try_from(d.var()?).map_err(|_| DecodeError::Bad("xdp interface"))?,
            queue: u32::try_from(d.var()?).map_err(|_| DecodeError::Bad("xdp queue"))?,
        },
        10 => Endpoint::Tipc {
            node: u32::try_from(d.var()?).map_err(|_| DecodeError::Bad("tipc node"))?,
            port: u32::try_from(d.var()?).map_err(|_| DecodeError::Bad("tipc port"))?,
        },
        _ => return Err(DecodeError::Bad("endpoint kind")),
    })
}

/// The tcp_info fields, in the model's order (FORMAT.md lists them).
macro_rules! tcp_info_fields {
    ($m:ident) => {
        $m!(
            snd_wscale: u8, rcv_wscale: u8, rto_us: u32, ato_us: u32, rtt_us: u32,
            rttvar_us: u32, min_rtt_us: u32, snd_mss: u32, rcv_mss: u32, advmss: u32,
            pmtu: u32, snd_cwnd: u32, unacked: u32, sacked: u32, lost: u32, retrans: u32,
            total_retrans: u32, retransmits: u8, probes: u8, backoff: u8, bytes_acked: u64,
            bytes_received: u64, bytes_sent: u64, bytes_retrans: u64, segs_out: u32,
            segs_in: u32, data_segs_out: u32, data_segs_in: u32, delivery_rate: u64,
            pacing_rate: u64, last_data_sent_ms: u32, last_data_recv_ms: u32,
            last_ack_recv_ms: u32, rcv_space: u32, rcv_ssthresh: u32, snd_wnd: u32,
            busy_time_us: u64, delivered: u32
        )
    };
}

fn put_tcp_info(e: &mut Enc, i: &TcpInfo) {
    match &i.congestion {
        Some(c) => {
            e.u8(1);
            e.str(c);
        }
        None => e.u8(0),
    }
    // ssthresh: 0 = "infinite" (None), else value + 1.
    e.var(i.snd_ssthresh.map_or(0, |v| u64::from(v) + 1));
    e.u8(u8::from(i.app_limited));
    macro_rules! put {
        ($($f:ident: $t:ty),*) => { $( e.var(i.$f as u64); )* };
    }
    tcp_info_fields!(put);
}

fn get_tcp_info(d: &mut Dec) -> Result<TcpInfo, DecodeError> {
    let congestion = match d.u8()? {
        0 => None,
        _ => Some(d.str()?.into()),
    };
    let ss = d.var()?;
    let snd_ssthresh = match ss {
        0 => None,
        v => Some(u32::try_from(v - 1).map_err(|_| DecodeError::Bad("ssthresh"))?),
    };
    let app_limited = d.u8()? != 0;
    let mut i = TcpInfo {
        congestion,
        snd_ssthresh,
        app_limited,
        ..TcpInfo::default()
    };
    macro_rules! get {
        ($($f:ident: $t:ty),*) => {
            $( i.$f = <$t>::try_from(d.var()?).map_err(|_| DecodeError::Bad(stringify!($f)))?; )*
        };
    }
    tcp_info_fields!(get);
    // What the format does not hold reads as what shows nothing, never as a value the
    // kernel would not give: ss and dump print `reordering:N` unless N is 3 (the default;
    // the kernel never reports 0), and print the scales only with tcpi_options' window
    // scaling bit, which the kernel sets whenever it sends scales that are not 0.
    i.reordering = 3;
    if i.snd_wscale != 0 || i.rcv_wscale != 0 {
        i.options |= crate::model::tcpi_opt::WSCALE;
    }
    Ok(i)
}

/// Kernel counters, in the model's order; FORMAT.md lists them.
macro_rules! counter_fields {
    ($m:ident) => {
        $m!(
            active_opens,
            passive_opens,
            attempt_fails,
            estab_resets,
            curr_estab,
            in_segs,
            out_segs,
            retrans_segs,
            in_errs,
            out_rsts,
            listen_overflows,
            listen_drops,
            tcp_timeouts,
            tw_recycled,
            tcp_abort_on_data,
            sockets_used,
            tcp_inuse,
            tcp_orphan,
            tcp_tw,
            tcp_alloc,
            tcp_mem_pages,
            udp_inuse,
            udp_mem_pages,
            udplite_inuse,
            raw_inuse,
            frag_inuse,
            tcp6_inuse,
            udp6_inuse,
            raw6_inuse,
            frag6_inuse,
            somaxconn,
            tcp_max_syn_backlog,
            tcp_abort_on_overflow,
            tcp_max_tw_buckets,
            tcp_fin_timeout,
            // Format 1.1 appends these.
            syncookies_sent,
            syncookies_recv,
            syncookies_failed,
            tcp_req_q_full_drop,
            tcp_abort_on_memory,
            udp_in_datagrams,
            udp_rcvbuf_errors,
            udp_in_errors,
            tcp_max_orphans,
            tcp_syncookies,
            rmem_default,
            rmem_max
        )
    };
}

/// The number of u64 counters [`put_counters`] writes before the port range.
const COUNTERS: u64 = {
    macro_rules! count {
        ($($f:ident),*) => { [$(stringify!($f)),*].len() as u64 };
    }
    counter_fields!(count)
};

/// Count, then per counter a presence byte and the value; then the port range.
pub fn put_counters(e: &mut Enc, k: &KernelCounters) {
    e.var(COUNTERS);
    macro_rules! put {
        ($($f:ident),*) => { $( match k.$f { Some(v) => { e.u8(1); e.var(v); } None => e.u8(0) } )* };
    }
    counter_fields!(put);
    match k.ip_local_port_range {
        Some((a, b)) => {
            e.u8(1);
            e.var(u64::from(a));
            e.var(u64::from(b));
        }
        None => e.u8(0),
    }
}

pub fn get_counters(d: &mut Dec) -> Result<KernelCounters, DecodeError> {
    let n = d.var()?;
    // A newer minor version may append counters; an older file has fewer.
    let mut vals = Vec::new();
    for _ in 0..n {
        vals.push(match d.u8()? {
            0 => None,
            _ => Some(d.var()?),
        });
    }
    let mut it = vals.into_iter();
    let mut k = KernelCounters::default();
    macro_rules! get {
        ($($f:ident),*) => { $( k.$f = it.next().flatten(); )* };
    }
    counter_fields!(get);
    if d.u8()? != 0 {
        let a = u16::try_from(d.var()?).map_err(|_| DecodeError::Bad("port range"))?;
        let b = u16::try_from(d.var()?).map_err(|_| DecodeError::Bad("port range"))?;
        k.ip_local_port_range = Some((a, b));
    }
    Ok(k)
}
