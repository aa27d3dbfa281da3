//! Reads a recording: its files (FILE.3 … FILE.1, FILE, oldest first, as rotation left them)
//! as one sequence of frames, through an index built on open, so that reading any moment
//! decodes only the frames since the full frame before it. A frame that is cut short or fails
//! its checksum ends its file's part of the index (a warning names the file and offset;
//! everything before it reads).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustc_hash::FxHashMap;

use super::cursor::Cursor;
use super::frame::{self, Body, Frame, Header, HeaderError, Key};
use super::table::Table;
use super::writer::{GENERATIONS, generation};
use crate::model::{Snapshot, Socket, Source};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Header { path: String, source: HeaderError },
    #[error("{path}: no complete frame ({why})")]
    NoFrame { path: String, why: String },
    #[error("{path}: {why} at byte offset {offset}")]
    Frame {
        path: String,
        offset: u64,
        why: String,
    },
}

impl ReadError {
    /// Not a recording at all or of a newer format: the user named the wrong file (exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ReadError::Header {
                source: HeaderError::NotRecording | HeaderError::Newer(..),
                ..
            }
        )
    }
}

/// Where a file's bytes are: an open file, read at offsets (a recording of hundreds of MiB
/// is never held in memory), or bytes handed over whole (tests, the fuzzer).
enum Store {
    File(File),
    Mem(Vec<u8>),
}

impl Store {
    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<()> {
        match self {
            Store::File(f) => f.read_exact_at(buf, off),
            Store::Mem(m) => {
                let start = usize::try_from(off).map_err(|_| io::ErrorKind::UnexpectedEof)?;
                let src = m
                    .get(start..start.saturating_add(buf.len()))
                    .ok_or(io::ErrorKind::UnexpectedEof)?;
                buf.copy_from_slice(src);
                Ok(())
            }
        }
    }
}

/// One file of the recording.
struct Part {
    /// Its path, escaped for display.
    name: String,
    header: Header,
    store: Store,
}

/// One frame in the index: where it is and what it is, without its sockets.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    part: u16,
    off: u64,
    len: u32,
    pub at: SystemTime,
    pub full: bool,
    pub source: Source,
}

/// Time between two files of the recording in which nothing was recorded (the recorder was
/// stopped, or a rotated file is missing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub from: SystemTime,
    pub to: SystemTime,
    /// The index of the first frame after the gap.
    pub next: usize,
}

/// A recording: its files, oldest first, and the index of their frames in time order.
pub struct Recording {
    /// The newest file's header, with `collected` only what every file collected and
    /// `started` when the oldest one started.
    pub header: Header,
    parts: Vec<Part>,
    index: Vec<Entry>,
    /// Why parts of it could not be read (damaged tails, unreadable older files).
    pub warnings: Vec<String>,
    /// The first damaged frame (checksum, decompression, decoding) met while opening, as
    /// "WHY at byte offset N": a file with no readable frame says this rather than "cut".
    damage: Option<String>,
    pub gaps: Vec<Gap>,
    /// Where the newest file's frames read so far end, for [`Recording::follow`].
    tail: Tail,
    /// The path the recorder writes, when opened by name with its rotated files: following
    /// picks up the file a rotation starts there.
    live: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Tail {
    /// Offset after the last whole frame (u64::MAX after a damaged one: nothing more reads).
    end: u64,
    seen_full: bool,
}

impl Recording {
    /// The recording at `path` with the older files rotation keeps beside it (`path.1` …
    /// `path.3`), read as one. The named file must be a recording; an older one that is not
    /// is skipped with a warning.
    pub fn open(path: &Path) -> Result<Recording, ReadError> {
        let mut parts = Vec::new();
        let mut warnings = Vec::new();
        for n in (1..GENERATIONS).rev() {
            let p = generation(path, n);
            if !p.is_file() {
                continue;
            }
            match Part::open(&p) {
                Ok(part) => parts.push(part),
                Err(e) => warnings.push(format!("{e}; that file is skipped")),
            }
        }
        match Part::open(path) {
            Ok(p) => parts.push(p),
            // The recorder rotated and could not start the new file (a full disk): the
            // older files still read.
            Err(e) if !parts.is_empty() && !e.is_usage() => {
                warnings.push(format!("{e}; reading the older files"));
            }
            Err(e) => return Err(e),
        }
        let shown = crate::text::escape(&path.to_string_lossy()).into_owned();
        let mut rec = Recording::build(parts, warnings);
        if rec.index.is_empty() {
            return Err(no_frame(shown, rec.damage.as_deref()));
        }
        rec.live = Some(path.to_path_buf());
        Ok(rec)
    }

    /// One file alone (no rotated siblings).
    pub fn open_file(path: &Path) -> Result<Recording, ReadError> {
        let shown = crate::text::escape(&path.to_string_lossy()).into_owned();
        let rec = Recording::build(vec![Part::open(path)?], Vec::new());
        if rec.index.is_empty() {
            return Err(no_frame(shown, rec.damage.as_deref()));
        }
        Ok(rec)
    }

    /// A recording held in memory. The header must be whole; frames read up to the first
    /// damaged one.
    pub fn parse(data: &[u8]) -> Result<Recording, HeaderError> {
        let (header, first) = frame::decode_header(data)?;
        let part = Part {
            name: "the recording".into(),
            header,
            store: Store::Mem(data.to_vec()),
        };
        let mut rec = Recording::build_with(vec![(part, first as u64, data.len() as u64)]);
        // In memory the file name would only repeat itself.
        for w in &mut rec.warnings {
            if let Some(rest) = w.strip_prefix("the recording: ") {
                *w = rest.to_string();
            }
        }
        Ok(rec)
    }

    fn build(parts: Vec<(Part, u64, u64)>, mut warnings: Vec<String>) -> Recording {
        let mut rec = Recording::build_with(parts);
        warnings.append(&mut rec.warnings);
        rec.warnings = warnings;
        rec
    }

    fn build_with(parts: Vec<(Part, u64, u64)>) -> Recording {
        let mut index = Vec::new();
        let mut warnings = Vec::new();
        let mut gaps = Vec::new();
        let mut kept = Vec::with_capacity(parts.len());
        let mut tail = Tail::default();
        let mut damage = None;
        for (part, first, total) in parts {
            let before = index.len();
            let n = kept.len() as u16;
            let mut seen_full = false;
            let end = scan(
                n,
                &part,
                first,
                total,
                &mut seen_full,
                false,
                &mut index,
                &mut warnings,
                &mut damage,
            );
            tail = Tail { end, seen_full };
            seam(&part, &index, before, &mut gaps, &mut warnings);
            kept.push(part);
        }
        let newest = kept.last().map(|p| p.header.clone());
        let mut header = newest.unwrap_or_else(|| {
            Header::new(
                Duration::from_secs(1),
                Default::default(),
                SystemTime::now(),
            )
        });
        if let Some(first) = kept.first() {
            header.started = first.header.started;
        }
        for p in &kept {
            header.collected.narrow(p.header.collected);
        }
        Recording {
            header,
            parts: kept,
            index,
            warnings,
            damage,
            gaps,
            tail,
            live: None,
        }
    }

    /// Reads the frames appended to the newest file since it was opened or last followed
    /// (a recorder still writing it); a frame still being written is read next time. When
    /// the recorder has rotated (the named path is another file now), the old file's tail is
    /// read to its end and then the new file's frames. Returns how many frames were added.
    pub fn follow(&mut self) -> usize {
        let mut added = self.follow_tail();
        if self.rotated() {
            added += self.follow_new_file();
        }
        added
    }

    /// Whether the named path now holds another file than the newest one read: by device and
    /// inode, as a rename keeps them and a new file gets its own.
    fn rotated(&self) -> bool {
        let Some(path) = &self.live else {
            return false;
        };
        let Ok(now) = std::fs::metadata(path) else {
            return false;
        };
        let Some(Store::File(f)) = self.parts.last().map(|p| &p.store) else {
            return false;
        };
        let Ok(was) = f.metadata() else {
            return false;
        };
        now.is_file() && (now.dev(), now.ino()) != (was.dev(), was.ino())
    }

    /// Adds the file a rotation started at the named path. One whose header is not yet whole
    /// (just created) is tried again next time.
    fn follow_new_file(&mut self) -> usize {
        let Some(path) = self.live.clone() else {
            return 0;
        };
        let Ok((part, first, total)) = Part::open(&path) else {
            return 0;
        };
        if self.parts.len() >= usize::from(u16::MAX) {
            return 0;
        }
        // The file read so far is the first older one now.
        if let Some(prev) = self.parts.last_mut() {
            prev.name = crate::text::escape(&generation(&path, 1).to_string_lossy()).into_owned();
        }
        let n = self.parts.len() as u16;
        let before = self.index.len();
        let mut seen_full = false;
        let end = scan(
            n,
            &part,
            first,
            total,
            &mut seen_full,
            true,
            &mut self.index,
            &mut self.warnings,
            &mut None,
        );
        seam(
            &part,
            &self.index,
            before,
            &mut self.gaps,
            &mut self.warnings,
        );
        self.header.collected.narrow(part.header.collected);
        self.parts.push(part);
        self.tail = Tail { end, seen_full };
        self.index.len() - before
    }

    /// Reads what was appended to the newest file read.
    fn follow_tail(&mut self) -> usize {
        let Some(last) = self.parts.len().checked_sub(1) else {
            return 0;
        };
        let part = &self.parts[last];
        let Store::File(f) = &part.store else {
            return 0;
        };
        let Ok(total) = f.metadata().map(|m| m.len()) else {
            return 0;
        };
        if self.tail.end >= total {
            return 0;
        }
        let before = self.index.len();
        self.tail.end = scan(
            last as u16,
            part,
            self.tail.end,
            total,
            &mut self.tail.seen_full,
            true,
            &mut self.index,
            &mut self.warnings,
            &mut None,
        );
        self.index.len() - before
    }

    /// Frames in the recording.
    pub fn len(&self) -> usize {
        self.index.len()
    }
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
    /// The index: each frame's time, kind and source.
    pub fn entries(&self) -> &[Entry] {
        &self.index
    }
    /// The files read, oldest first (escaped for display).
    pub fn files(&self) -> Vec<&str> {
        self.parts.iter().map(|p| p.name.as_str()).collect()
    }

    pub fn start(&self) -> SystemTime {
        self.index.first().map_or(self.header.started, |f| f.at)
    }
    pub fn end(&self) -> SystemTime {
        self.index.last().map_or(self.header.started, |f| f.at)
    }

    /// The index of the last frame taken at or before `t`; None when `t` is before the first.
    pub fn frame_at(&self, t: SystemTime) -> Option<usize> {
        let n = self.index.partition_point(|f| f.at <= t);
        n.checked_sub(1)
    }

    /// The last full frame at or before `i`: where rebuilding moment `i` starts.
    pub fn full_before(&self, i: usize) -> usize {
        self.index[..=i.min(self.index.len().saturating_sub(1))]
            .iter()
            .rposition(|e| e.full)
            .unwrap_or(0)
    }

    /// Whether frame `i`'s file counts timers down across frames (format 1.1 on): its
    /// writer left out sockets whose timer only ran down.
    pub fn counts_down(&self, i: usize) -> bool {
        self.index
            .get(i)
            .and_then(|e| self.parts.get(usize::from(e.part)))
            .is_some_and(|p| p.header.major > 1 || p.header.minor >= 1)
    }

    /// Frame `i`, decoded.
    pub fn frame(&self, i: usize) -> Result<Frame, ReadError> {
        let e = self.index.get(i).ok_or_else(|| ReadError::Frame {
            path: "the recording".into(),
            offset: 0,
            why: format!("no frame {i}"),
        })?;
        let part = &self.parts[usize::from(e.part)];
        let fail = |why: String| ReadError::Frame {
            path: part.name.clone(),
            offset: e.off,
            why,
        };
        let payload = load(&part.store, e.off, e.len).map_err(fail)?;
        Frame::decode(&payload, &part.header.netids)
            .map_err(|err| fail(format!("undecodable frame ({err})")))
    }

    /// The moment of frame `i` as a snapshot: the last full frame at or before it, with the
    /// deltas up to it applied.
    pub fn moment(&self, i: usize) -> Result<Snapshot, ReadError> {
        let mut c = Cursor::default();
        c.seek(self, i, |_, _| {})?;
        Ok(c.snapshot())
    }

    /// What changed in the frames after `from` up to and including `to`: sockets that
    /// appeared (as first seen) and that vanished (as last seen), each with its moment.
    pub fn changes(&self, from: usize, to: usize) -> Result<Changes, ReadError> {
        let mut out = Changes::default();
        let mut table = Table::default();
        for j in self.full_before(from)..=from.min(self.len().saturating_sub(1)) {
            table.apply(&self.frame(j)?.body);
        }
        for j in (from + 1)..=to.min(self.len().saturating_sub(1)) {
            let f = self.frame(j)?;
            match &f.body {
                // A full frame is compared with the table as it was.
                Body::Full(sockets) => {
                    let before: FxHashMap<Key, Socket> = table.map();
                    let now: FxHashMap<Key, &Socket> =
                        sockets.iter().map(|s| (Key::of(s), s)).collect();
                    for (k, s) in &before {
                        if !now.contains_key(k) {
                            out.vanished.push((f.at, s.clone()));
                        }
                    }
                    for s in sockets {
                        if !before.contains_key(&Key::of(s)) {
                            out.appeared.push((f.at, s.clone()));
                        }
                    }
                }
                Body::Delta { vanished, upserted } => {
                    for k in vanished {
                        if let Some(s) = table.get(k) {
                            out.vanished.push((f.at, s.clone()));
                        }
                    }
                    for s in upserted {
                        if table.get(&Key::of(s)).is_none() {
                            out.appeared.push((f.at, s.clone()));
                        }
                    }
                }
            }
            table.apply(&f.body);
        }
        Ok(out)
    }
}

/// No frame read: why, in the one line the error is. The first frame failing its checksum
/// (or not decoding) is damage, not a cut, and its offset is what to look at.
fn no_frame(path: String, damage: Option<&str>) -> ReadError {
    ReadError::NoFrame {
        why: damage.map_or_else(
            || "the file is cut before its first one".into(),
            str::to_owned,
        ),
        path,
    }
}

impl Part {
    fn open(path: &Path) -> Result<(Part, u64, u64), ReadError> {
        let name = crate::text::escape(&path.to_string_lossy()).into_owned();
        let io = |source| ReadError::Io {
            path: name.clone(),
            source,
        };
        let file = crate::input::open_regular(path).map_err(io)?;
        let total = file.metadata().map_err(io)?.len();
        // The header is small; its length field is capped by what the file holds.
        let mut head = vec![0u8; total.min(64 << 10) as usize];
        file.read_exact_at(&mut head, 0).map_err(io)?;
        let header = match frame::decode_header(&head) {
            Ok((h, first)) => Ok((h, first)),
            // A header body longer than the first 64 KiB (tables named at length).
            Err(HeaderError::Damaged) if total > head.len() as u64 => {
                let mut all = vec![
                    0u8;
                    usize::try_from(total).map_err(|_| {
                        io(io::Error::other("the header is impossibly long"))
                    })?
                ];
                file.read_exact_at(&mut all, 0).map_err(io)?;
                frame::decode_header(&all)
            }
            Err(e) => Err(e),
        };
        let (header, first) = header.map_err(|source| ReadError::Header {
            path: name.clone(),
            source,
        })?;
        Ok((
            Part {
                name,
                header,
                store: Store::File(file),
            },
            first as u64,
            total,
        ))
    }
}

/// Where a file's frames (from `index[before]`) follow the file before it: a gap when the
/// recorder stopped in between, a warning when the clock went back.
fn seam(
    part: &Part,
    index: &[Entry],
    before: usize,
    gaps: &mut Vec<Gap>,
    warnings: &mut Vec<String>,
) {
    if before == 0 || index.len() <= before {
        return;
    }
    let (prev, next) = (index[before - 1].at, index[before].at);
    let slack = part.header.interval * 2 + Duration::from_secs(1);
    match next.duration_since(prev) {
        Ok(d) if d > slack => gaps.push(Gap {
            from: prev,
            to: next,
            next: before,
        }),
        Ok(_) => {}
        Err(_) => warnings.push(format!(
            "{} starts before the file before it ends (the clock was set back?); \
             moments are read in file order",
            part.name
        )),
    }
}

/// Index one file's frames from `off` to `total`: envelope, checksum, decompression and the
/// payload's head. Deltas before the file's first full frame have nothing to apply to and
/// are left out. Returns where the frames read end; `following` takes a cut-short tail for
/// a frame still being written (no warning: it is read when it is whole).
#[allow(clippy::too_many_arguments)]
fn scan(
    part_no: u16,
    part: &Part,
    mut off: u64,
    total: u64,
    seen_full: &mut bool,
    following: bool,
    index: &mut Vec<Entry>,
    warnings: &mut Vec<String>,
    damage: &mut Option<String>,
) -> u64 {
    while off < total {
        let step = envelope(&part.store, off, total).and_then(|len| {
            let head = load_head(&part.store, off, len)?;
            let (full, at, source) =
                Frame::head(&head).map_err(|e| format!("undecodable frame ({e})"))?;
            Ok((len, full, at, source))
        });
        match step {
            Ok((len, full, at, source)) => {
                *seen_full |= full;
                if *seen_full {
                    index.push(Entry {
                        part: part_no,
                        off,
                        len,
                        at,
                        full,
                        source,
                    });
                }
                off += frame::ENVELOPE as u64 + u64::from(len);
            }
            Err(why) if following && why.starts_with("truncated") => break,
            Err(why) => {
                warnings.push(format!(
                    "{}: {why} at byte offset {off}; the {} byte(s) from there on are skipped",
                    part.name,
                    total - off
                ));
                // Damaged, not just unfinished: nothing after it is read, also when following.
                if !why.starts_with("truncated") {
                    damage.get_or_insert_with(|| format!("{why} at byte offset {off}"));
                    off = u64::MAX;
                }
                break;
            }
        }
    }
    off
}

/// The compressed length of the frame at `off`, checked against what the file holds.
fn envelope(store: &Store, off: u64, total: u64) -> Result<u32, String> {
    if total - off < frame::ENVELOPE as u64 {
        return Err("truncated frame header".into());
    }
    let mut env = [0u8; frame::ENVELOPE];
    store
        .read_at(off, &mut env)
        .map_err(|e| format!("unreadable frame ({e})"))?;
    let len = u32::from_le_bytes([env[0], env[1], env[2], env[3]]);
    if len as usize > frame::MAX_FRAME {
        return Err("corrupted frame (impossible length)".into());
    }
    if total - off - (frame::ENVELOPE as u64) < u64::from(len) {
        return Err("truncated frame".into());
    }
    Ok(len)
}

/// The envelope and block of the frame at `off` whose block is `len` bytes, checksum checked.
fn load_block(store: &Store, off: u64, len: u32) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; frame::ENVELOPE + len as usize];
    store
        .read_at(off, &mut buf)
        .map_err(|e| format!("unreadable frame ({e})"))?;
    let crc = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if super::crc::crc32(&buf[frame::ENVELOPE..]) != crc {
        return Err("corrupted frame (checksum mismatch)".into());
    }
    Ok(buf)
}

/// The first bytes of the frame's payload (kind, time, source: what the index keeps),
/// decompressed without the rest: opening a recording then costs a checksum a frame, not a
/// decompression.
fn load_head(store: &Store, off: u64, len: u32) -> Result<Vec<u8>, String> {
    let buf = load_block(store, off, len)?;
    let block = buf
        .get(frame::ENVELOPE + 4..)
        .ok_or("corrupted frame (no size)")?;
    Ok(lz4_prefix(block, HEAD_BYTES))
}

/// Enough payload for [`Frame::head`]: a kind byte, a time (a varint of at most 10 bytes)
/// and a source byte.
const HEAD_BYTES: usize = 12;

/// The first `want` bytes (or fewer, where the block ends or is malformed: the head's decoder
/// then reports it) of an LZ4 block's output.
fn lz4_prefix(block: &[u8], want: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(want + 32);
    let mut i = 0;
    let byte = |i: &mut usize| -> Option<usize> {
        let b = *block.get(*i)?;
        *i += 1;
        Some(usize::from(b))
    };
    let ext = |i: &mut usize, mut n: usize| -> Option<usize> {
        if n == 15 {
            loop {
                let b = byte(i)?;
                n = n.checked_add(b)?;
                if b != 255 {
                    break;
                }
            }
        }
        Some(n)
    };
    while out.len() < want {
        let Some(token) = byte(&mut i) else { break };
        let Some(lit) = ext(&mut i, token >> 4) else {
            break;
        };
        let Some(lits) = block.get(i..i.saturating_add(lit)) else {
            break;
        };
        out.extend_from_slice(lits);
        i += lit;
        if out.len() >= want {
            break;
        }
        let (Some(lo), Some(hi)) = (byte(&mut i), byte(&mut i)) else {
            break;
        };
        let offset = lo | hi << 8;
        let Some(m) = ext(&mut i, token & 15) else {
            break;
        };
        if offset == 0 || offset > out.len() {
            break;
        }
        // A match may overlap its own output: copy byte by byte, only as far as needed.
        for _ in 0..(m + 4).min(want.saturating_sub(out.len())) {
            out.push(out[out.len() - offset]);
        }
    }
    out.truncate(want);
    out
}

/// The payload of the frame at `off` whose block is `len` bytes: checksum, decompression.
fn load(store: &Store, off: u64, len: u32) -> Result<Vec<u8>, String> {
    let buf = load_block(store, off, len)?;
    let block = &buf[frame::ENVELOPE..];
    // The prepended size is checked by lz4_flex against the output it can produce, but cap
    // it first so a forged size cannot make it allocate gigabytes.
    let size = block
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("corrupted frame (no size)")?;
    if size > frame::MAX_FRAME || size > block.len().saturating_mul(256).saturating_add(64) {
        return Err("corrupted frame (impossible size)".into());
    }
    lz4_flex::block::decompress_size_prepended(block).map_err(|e| format!("corrupted frame ({e})"))
}

#[derive(Default, Debug)]
pub struct Changes {
    pub appeared: Vec<(SystemTime, Socket)>,
    pub vanished: Vec<(SystemTime, Socket)>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_head_of_a_block_decompresses_alone() {
        let mut cases: Vec<Vec<u8>> = vec![
            vec![0; 100],
            (0..=255u8).cycle().take(5000).collect(),
            b"abababababababababab and some more text".to_vec(),
            vec![1, 2, 3],
            Vec::new(),
        ];
        cases.push(
            (0..20_000u32)
                .flat_map(|i| (i % 97).to_le_bytes())
                .collect(),
        );
        for payload in cases {
            let block = lz4_flex::block::compress(&payload);
            for want in [1, 5, 12, 40] {
                let n = want.min(payload.len());
                assert_eq!(super::lz4_prefix(&block, want), payload[..n], "{want}");
            }
        }
        // Garbage never panics and never gives more than asked for.
        for seed in 0..200u32 {
            let junk: Vec<u8> = (0..64).map(|i| (i * 31 + seed * 7) as u8).collect();
            assert!(super::lz4_prefix(&junk, 12).len() <= 12);
        }
    }
}
