//! Reads a recording: the header, then frames until the end or the first frame that is cut
//! short or fails its checksum (a warning names its offset; everything before it reads).

use std::path::Path;
use std::time::SystemTime;

use rustc_hash::FxHashMap;

use super::frame::{self, Body, Frame, Header, HeaderError, Key};
use crate::model::{KernelCounters, Snapshot, Socket, Source};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Header { path: String, source: HeaderError },
    #[error("{path}: no complete frame (the file is cut before its first one)")]
    NoFrame { path: String },
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

/// A recording, its frames decoded (they are small: deltas between periodic full frames).
pub struct Recording {
    pub header: Header,
    pub frames: Vec<Frame>,
    /// Why reading stopped early (at most one: the first damaged frame ends the read).
    pub warnings: Vec<String>,
}

impl Recording {
    pub fn open(path: &Path) -> Result<Recording, ReadError> {
        let shown = crate::text::escape(&path.to_string_lossy()).into_owned();
        let data = std::fs::read(path).map_err(|source| ReadError::Io {
            path: shown.clone(),
            source,
        })?;
        let rec = Recording::parse(&data).map_err(|source| ReadError::Header {
            path: shown.clone(),
            source,
        })?;
        if rec.frames.is_empty() {
            return Err(ReadError::NoFrame { path: shown });
        }
        Ok(rec)
    }

    /// The header must be whole; frames read up to the first damaged one.
    pub fn parse(data: &[u8]) -> Result<Recording, HeaderError> {
        let (header, mut off) = frame::decode_header(data)?;
        let mut frames = Vec::new();
        let mut warnings = Vec::new();
        while off < data.len() {
            match read_frame(data, off, &header) {
                Ok((f, next)) => {
                    // A delta before any full frame has nothing to apply to.
                    if !frames.is_empty() || matches!(f.body, Body::Full(_)) {
                        frames.push(f);
                    }
                    off = next;
                }
                Err(why) => {
                    warnings.push(format!(
                        "{why} at byte offset {off}; the {} byte(s) from there on are skipped",
                        data.len() - off
                    ));
                    break;
                }
            }
        }
        Ok(Recording {
            header,
            frames,
            warnings,
        })
    }

    pub fn start(&self) -> SystemTime {
        self.frames.first().map_or(self.header.started, |f| f.at)
    }
    pub fn end(&self) -> SystemTime {
        self.frames.last().map_or(self.header.started, |f| f.at)
    }

    /// The index of the last frame taken at or before `t`; None when `t` is before the first.
    pub fn frame_at(&self, t: SystemTime) -> Option<usize> {
        let n = self.frames.partition_point(|f| f.at <= t);
        n.checked_sub(1)
    }

    /// The moment of frame `i` as a snapshot: the last full frame at or before it, with the
    /// deltas up to it applied.
    pub fn moment(&self, i: usize) -> Snapshot {
        let mut table = Table::default();
        let i = i.min(self.frames.len().saturating_sub(1));
        let first = self.frames[..=i]
            .iter()
            .rposition(|f| matches!(f.body, Body::Full(_)))
            .unwrap_or(0);
        for f in &self.frames[first..=i] {
            table.apply(&f.body);
        }
        let f = &self.frames[i];
        snapshot(f.at, f.source, f.counters.clone(), table.into_sockets())
    }

    /// What changed in the frames after `from` up to and including `to`: sockets that
    /// appeared (as first seen) and that vanished (as last seen), each with its moment.
    pub fn changes(&self, from: usize, to: usize) -> Changes {
        let mut out = Changes::default();
        let first = self.frames[..=from]
            .iter()
            .rposition(|f| matches!(f.body, Body::Full(_)))
            .unwrap_or(0);
        let mut table = Table::default();
        for f in &self.frames[first..=from] {
            table.apply(&f.body);
        }
        for f in self.frames.iter().take(to + 1).skip(from + 1) {
            let before: FxHashMap<Key, Socket> = match &f.body {
                // A full frame is compared with the table as it was.
                Body::Full(_) => table.map(),
                Body::Delta { .. } => FxHashMap::default(),
            };
            match &f.body {
                Body::Full(sockets) => {
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
        out
    }
}

#[derive(Default, Debug)]
pub struct Changes {
    pub appeared: Vec<(SystemTime, Socket)>,
    pub vanished: Vec<(SystemTime, Socket)>,
}

/// The sockets of a moment, in the order the recording first saw them.
#[derive(Default)]
struct Table {
    slots: Vec<Option<Socket>>,
    index: FxHashMap<Key, usize>,
}

impl Table {
    fn apply(&mut self, body: &Body) {
        match body {
            Body::Full(sockets) => {
                self.slots.clear();
                self.index.clear();
                // Every socket, even two sharing a key (the writer makes the next frame full).
                for s in sockets {
                    self.index.insert(Key::of(s), self.slots.len());
                    self.slots.push(Some(s.clone()));
                }
            }
            Body::Delta { vanished, upserted } => {
                for k in vanished {
                    if let Some(i) = self.index.remove(k) {
                        self.slots[i] = None;
                    }
                }
                for s in upserted {
                    self.upsert(s);
                }
            }
        }
    }
    fn upsert(&mut self, s: &Socket) {
        let k = Key::of(s);
        match self.index.get(&k) {
            Some(&i) => self.slots[i] = Some(s.clone()),
            None => {
                self.index.insert(k, self.slots.len());
                self.slots.push(Some(s.clone()));
            }
        }
    }
    fn get(&self, k: &Key) -> Option<&Socket> {
        self.index.get(k).and_then(|i| self.slots[*i].as_ref())
    }
    fn map(&self) -> FxHashMap<Key, Socket> {
        self.slots
            .iter()
            .flatten()
            .map(|s| (Key::of(s), s.clone()))
            .collect()
    }
    fn into_sockets(self) -> Vec<Socket> {
        self.slots.into_iter().flatten().collect()
    }
}

fn snapshot(
    at: SystemTime,
    source: Source,
    counters: Option<KernelCounters>,
    sockets: Vec<Socket>,
) -> Snapshot {
    Snapshot::new(at, source, sockets, counters)
}

/// One frame at `off`: envelope, checksum, decompression, decoding.
fn read_frame(data: &[u8], off: usize, header: &Header) -> Result<(Frame, usize), String> {
    let env = data
        .get(off..off + frame::ENVELOPE)
        .ok_or("truncated frame header")?;
    let len = u32::from_le_bytes([env[0], env[1], env[2], env[3]]) as usize;
    let crc = u32::from_le_bytes([env[4], env[5], env[6], env[7]]);
    if len > frame::MAX_FRAME {
        return Err("corrupted frame (impossible length)".into());
    }
    let start = off + frame::ENVELOPE;
    let block = data.get(start..start + len).ok_or("truncated frame")?;
    if super::crc::crc32(block) != crc {
        return Err("corrupted frame (checksum mismatch)".into());
    }
    // The prepended size is checked by lz4_flex against the output it can produce, but cap
    // it first so a forged size cannot make it allocate gigabytes.
    let size = block
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("corrupted frame (no size)")?;
    if size > frame::MAX_FRAME || size > len.saturating_mul(256).saturating_add(64) {
        return Err("corrupted frame (impossible size)".into());
    }
    let payload = lz4_flex::block::decompress_size_prepended(block)
        .map_err(|e| format!("corrupted frame ({e})"))?;
    let f =
        Frame::decode(&payload, &header.netids).map_err(|e| format!("undecodable frame ({e})"))?;
    Ok((f, start + len))
}
