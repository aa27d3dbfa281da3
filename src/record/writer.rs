//! Appends frames to a recording and rotates it: FILE, FILE.1 … FILE.(GENERATIONS-1), each
//! at most a GENERATIONS-th of the size limit, so the newest data always fits within it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use super::frame::{self, Body, Frame, Header, Key};
use crate::model::{Snapshot, Socket, TimerKind};

/// A timer that ran down by the time between two frames, give or take this much, is
/// unchanged: where in a netlink dump a socket comes moves its reading by a few ms.
pub const TIMER_SLACK_MS: i64 = 250;

/// Whether `s` (taken at `now`, ms) reads back as `p` (written at `at`) with its timer
/// counted down: everything equal, and the timer's expiry within [`TIMER_SLACK_MS`].
fn same(p: &mut Socket, at: i64, s: &Socket, now: i64) -> bool {
    match (p.timer, s.timer) {
        (None, None) => p == s,
        // A timer that is not running does not count down: its value is compared as it is.
        (Some(a), Some(_)) if a.kind == TimerKind::Off => p == s,
        (Some(a), Some(b)) => {
            let ms = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
            let (ea, eb) = (
                at.saturating_add(ms(a.expires_ms)),
                now.saturating_add(ms(b.expires_ms)),
            );
            if a.kind != b.kind || a.retrans != b.retrans || ea.abs_diff(eb) > TIMER_SLACK_MS as u64
            {
                return false;
            }
            // Compare the rest with the timers made equal.
            p.timer = s.timer;
            let eq = p == s;
            p.timer = Some(a);
            eq
        }
        _ => false,
    }
}

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

/// When written frames are forced to the disk (fdatasync). The page cache alone may keep
/// them unwritten for tens of seconds (the kernel's writeback delay): a power cut or a crash
/// of the machine would lose all of that, not just the last interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPolicy {
    /// After every frame: a crash loses at most the frame being written.
    EveryFrame,
    /// At most this often: a crash loses at most this long.
    Every(Duration),
    /// Never (the kernel writes back when it will); for scratch recordings on slow disks.
    Never,
}

pub struct Writer {
    path: PathBuf,
    file: File,
    /// Bytes in the live file.
    len: u64,
    header: Header,
    max_size: u64,
    /// The table as a reader has it: each socket as last written, with that frame's time in
    /// ms (its timer counts down from there).
    prev: FxHashMap<Key, (Socket, i64)>,
    since_full: u32,
    sync: SyncPolicy,
    synced: Instant,
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
            sync: SyncPolicy::EveryFrame,
            synced: Instant::now(),
        })
    }

    pub fn set_sync(&mut self, sync: SyncPolicy) {
        self.sync = sync;
    }

    /// Bytes in the live file (all of them whole frames).
    pub fn bytes(&self) -> u64 {
        self.len
    }

    /// Append whole or not at all: a failed write (a full disk) is cut back off, so the file
    /// ends with its last whole frame and reads without a warning.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Err(e) = self.file.write_all(bytes) {
            let _ = self.file.set_len(self.len);
            return Err(e);
        }
        self.len += bytes.len() as u64;
        let due = match self.sync {
            SyncPolicy::EveryFrame => true,
            SyncPolicy::Every(d) => self.synced.elapsed() >= d,
            SyncPolicy::Never => false,
        };
        if due {
            self.file.sync_data()?;
            self.synced = Instant::now();
        }
        Ok(())
    }

    /// Appends the snapshot as a full frame or a delta against the previous one.
    pub fn push(&mut self, snap: &Snapshot) -> io::Result<Written> {
        // The snapshot's sockets by key, as indices: at 100,000 sockets a copy of the table
        // is tens of MiB, and only what changed needs copying into `prev`.
        let mut next: FxHashMap<Key, usize> = FxHashMap::default();
        next.reserve(snap.sockets.len());
        let mut unique = true;
        let keys: Vec<Key> = snap.sockets.iter().map(Key::of).collect();
        for (i, k) in keys.iter().enumerate() {
            unique &= next.insert(k.clone(), i).is_none();
        }
        // Two sockets with one key (only /proc can give that) cannot be told apart in a delta.
        let full = !unique || self.since_full == 0 || self.since_full >= FULL_EVERY;
        let now = frame::micros(snap.taken_at) / 1000;
        let vanished: Vec<Key> = if full {
            Vec::new()
        } else {
            self.prev
                .keys()
                .filter(|k| !next.contains_key(*k))
                .cloned()
                .collect()
        };
        // `prev` becomes this snapshot: vanished sockets removed, changed and new ones copied.
        // A socket whose timer only ran down keeps the time it was written.
        self.prev.retain(|k, _| next.contains_key(k));
        let mut changed = Vec::new();
        for (i, (k, s)) in keys.into_iter().zip(&snap.sockets).enumerate() {
            if next.get(&k) != Some(&i) {
                continue;
            }
            match self.prev.get_mut(&k) {
                Some((p, at)) => {
                    if !same(p, *at, s, now) {
                        p.clone_from(s);
                        *at = now;
                        changed.push(i);
                    }
                }
                None => {
                    self.prev.insert(k, (s.clone(), now));
                    changed.push(i);
                }
            }
        }
        let mut out = self.seal(snap, full, vanished, &changed);
        let mut rotated = false;
        let limit = self.max_size / u64::from(GENERATIONS);
        if self.len + out.0.len() as u64 > limit && self.len > frame::ENVELOPE as u64 + 64 {
            if self.sync != SyncPolicy::Never {
                self.file.sync_data()?;
            }
            rotate(&self.path)?;
            let (file, len) = start(&self.path, &self.header)?;
            self.file = file;
            self.len = len;
            rotated = true;
            if !full {
                // A new file must read on its own: it starts with a full frame.
                out = self.seal(snap, true, Vec::new(), &[]);
            }
        }
        if full || rotated {
            // A full frame writes every timer as of now.
            for (p, at) in self.prev.values_mut() {
                if p.timer.is_some() {
                    *at = now;
                }
            }
            for (k, i) in &next {
                if let Some((p, _)) = self.prev.get_mut(k) {
                    p.timer = snap.sockets[*i].timer;
                }
            }
        }
        self.append(&out.0)?;
        // After a frame with shared keys the next one is full too: a delta against the
        // deduplicated table could not remove the extra socket a reader keeps.
        self.since_full = if !unique {
            0
        } else if full || rotated {
            1
        } else {
            self.since_full + 1
        };
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
        vanished: Vec<Key>,
        changed: &[usize],
    ) -> (Vec<u8>, u64) {
        let payload = if full {
            // Encoded straight from the snapshot, without a copy of its table.
            frame::encode_full(
                snap.taken_at,
                snap.source,
                snap.counters.as_ref(),
                &snap.sockets,
            )
        } else {
            let upserted = changed.iter().map(|&i| snap.sockets[i].clone()).collect();
            Frame {
                at: snap.taken_at,
                source: snap.source,
                counters: snap.counters.clone(),
                body: Body::Delta { vanished, upserted },
            }
            .encode()
        };
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

/// FILE → FILE.1 → … ; the oldest generation is dropped. The directory is synced so the
/// new names survive a crash.
fn rotate(path: &Path) -> io::Result<()> {
    for n in (0..GENERATIONS - 1).rev() {
        let from = generation(path, n);
        if from.exists() {
            fs::rename(&from, generation(path, n + 1))?;
        }
    }
    sync_dir(path);
    Ok(())
}

/// Best effort: a directory that cannot be opened or synced (some file systems refuse)
/// costs only the durability of the names.
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A new file with its header; one that could not be written whole is removed again, so a
/// full disk never leaves a file without a header (the rotated ones still read).
fn start(path: &Path, header: &Header) -> io::Result<(File, u64)> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    let h = header.encode();
    if let Err(e) = file.write_all(&h).and_then(|()| file.sync_data()) {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(e);
    }
    sync_dir(path);
    Ok((file, h.len() as u64))
}
