//! Appends frames to a recording and rotates it: FILE, FILE.1 … FILE.(GENERATIONS-1), each
//! at most a GENERATIONS-th of the size limit, so the newest data always fits within it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use super::frame::{self, Body, Frame, Header, Key};
use crate::model::Snapshot;

/// Files kept by rotation (the live one included).
pub const GENERATIONS: u32 = 4;
/// A full frame at least this often; the frames between are deltas. A reader seeking to a
/// moment decodes at most this many frames.
pub const FULL_EVERY: u32 = 60;

/// What one appended frame cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Written {
    pub bytes: u64,
    pub uncompressed: u64,
    pub full: bool,
    pub rotated: bool,
}

pub struct Writer {
    path: PathBuf,
    file: File,
    /// Bytes in the live file.
    len: u64,
    header: Header,
    max_size: u64,
    prev: FxHashMap<Key, crate::model::Socket>,
    since_full: u32,
}

impl Writer {
    /// Starts a new recording at `path`; an existing file there is rotated away first (never
    /// appended to: its header may not match).
    pub fn create(path: &Path, header: Header, max_size: u64) -> io::Result<Writer> {
        if path.exists() {
            rotate(path)?;
        }
        let (file, len) = start(path, &header)?;
        Ok(Writer {
            path: path.to_path_buf(),
            file,
            len,
            header,
            max_size,
            prev: FxHashMap::default(),
            since_full: 0,
        })
    }

    /// Appends the snapshot as a full frame or a delta against the previous one.
    pub fn push(&mut self, snap: &Snapshot) -> io::Result<Written> {
        let mut next: FxHashMap<Key, crate::model::Socket> = FxHashMap::default();
        next.reserve(snap.sockets.len());
        let mut unique = true;
        for s in &snap.sockets {
            unique &= next.insert(Key::of(s), s.clone()).is_none();
        }
        // Two sockets with one key (only /proc can give that) cannot be told apart in a delta.
        let full = !unique || self.since_full == 0 || self.since_full >= FULL_EVERY;
        let mut out = self.seal(snap, full, &next);
        let mut rotated = false;
        let limit = self.max_size / u64::from(GENERATIONS);
        if self.len + out.0.len() as u64 > limit && self.len > frame::ENVELOPE as u64 + 64 {
            self.file.flush()?;
            rotate(&self.path)?;
            let (file, len) = start(&self.path, &self.header)?;
            self.file = file;
            self.len = len;
            rotated = true;
            if !full {
                // A new file must read on its own: it starts with a full frame.
                out = self.seal(snap, true, &next);
            }
        }
        self.file.write_all(&out.0)?;
        self.len += out.0.len() as u64;
        // After a frame with shared keys the next one is full too: a delta against the
        // deduplicated table could not remove the extra socket a reader keeps.
        self.since_full = if !unique {
            0
        } else if full || rotated {
            1
        } else {
            self.since_full + 1
        };
        self.prev = next;
        Ok(Written {
            bytes: out.0.len() as u64,
            uncompressed: out.1,
            full: full || rotated,
            rotated,
        })
    }

    fn seal(
        &self,
        snap: &Snapshot,
        full: bool,
        next: &FxHashMap<Key, crate::model::Socket>,
    ) -> (Vec<u8>, u64) {
        let body = if full {
            Body::Full(snap.sockets.clone())
        } else {
            let vanished = self
                .prev
                .keys()
                .filter(|k| !next.contains_key(*k))
                .cloned()
                .collect();
            let upserted = snap
                .sockets
                .iter()
                .filter(|s| self.prev.get(&Key::of(s)) != Some(*s))
                .cloned()
                .collect();
            Body::Delta { vanished, upserted }
        };
        let f = Frame {
            at: snap.taken_at,
            source: snap.source,
            counters: snap.counters.clone(),
            body,
        };
        let payload = f.encode();
        (frame::seal(&payload), payload.len() as u64)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The name of generation `n` (0 is the live file).
pub fn generation(path: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return path.to_path_buf();
    }
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// FILE → FILE.1 → … ; the oldest generation is dropped.
fn rotate(path: &Path) -> io::Result<()> {
    for n in (0..GENERATIONS - 1).rev() {
        let from = generation(path, n);
        if from.exists() {
            fs::rename(&from, generation(path, n + 1))?;
        }
    }
    Ok(())
}

fn start(path: &Path, header: &Header) -> io::Result<(File, u64)> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    let h = header.encode();
    file.write_all(&h)?;
    Ok((file, h.len() as u64))
}
