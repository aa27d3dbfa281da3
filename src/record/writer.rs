//! Appends frames to a recording and rotates it: FILE, FILE.1 … FILE.(GENERATIONS-1), each
//! at most a GENERATIONS-th of the size limit, so the newest data always fits within it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::frame::{self, Header, Key};
use super::mirror::{Matched, Mirror};
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
    prev: Mirror,
    /// Buffers kept across frames: at 100,000 sockets a full frame is megabytes.
    matched: Matched,
    vanished: Vec<Key>,
    payload: Vec<u8>,
    sealed: Vec<u8>,
    since_full: u32,
    sync: SyncPolicy,
    synced: Instant,
}

impl Writer {
    /// Starts a new recording at `path`; an existing file there is rotated away first (never
    /// appended to: its header may not match).
    pub fn create(path: &Path, header: Header, max_size: u64) -> io::Result<Writer> {
        if path.exists() {
            check_rotatable(path)
                .map_err(|why| io::Error::new(io::ErrorKind::AlreadyExists, why))?;
            rotate(path)?;
        }
        let (file, len) = start(path, &header)?;
        Ok(Writer {
            path: path.to_path_buf(),
            file,
            len,
            header,
            max_size,
            prev: Mirror::default(),
            matched: Matched::default(),
            vanished: Vec::new(),
            payload: Vec::new(),
            sealed: Vec::new(),
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
        let now = frame::micros(snap.taken_at) / 1000;
        // `prev` becomes this snapshot: changed and new sockets copied, vanished ones
        // removed. A socket whose timer only ran down keeps the time it was written.
        self.prev.update(&snap.sockets, now, &mut self.matched);
        // Two sockets with one key (only /proc can give that) cannot be told apart in a delta.
        let unique = self.matched.unique;
        let full = !unique || self.since_full == 0 || self.since_full >= FULL_EVERY;
        self.vanished.clear();
        self.prev.sweep((!full).then_some(&mut self.vanished));
        let mut uncompressed = self.seal(snap, full);
        let mut rotated = false;
        let limit = self.max_size / u64::from(GENERATIONS);
        if self.len + self.sealed.len() as u64 > limit && self.len > frame::ENVELOPE as u64 + 64 {
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
                uncompressed = self.seal(snap, true);
            }
        }
        if full || rotated {
            // A full frame writes every timer as of now.
            self.prev.rewrite_timers(&snap.sockets, now);
        }
        let sealed = std::mem::take(&mut self.sealed);
        let appended = self.append(&sealed);
        let bytes = sealed.len() as u64;
        self.sealed = sealed;
        appended?;
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
            bytes,
            uncompressed,
            full: full || rotated,
            rotated,
        })
    }

    /// Encodes and seals the frame into `self.sealed`; gives the payload's size.
    fn seal(&mut self, snap: &Snapshot, full: bool) -> u64 {
        let (at, source, counters) = (snap.taken_at, snap.source, snap.counters.as_ref());
        if full {
            // Encoded straight from the snapshot, without a copy of its table.
            frame::encode_full(&mut self.payload, at, source, counters, &snap.sockets);
        } else {
            let upserted = self.matched.changed.iter().map(|&i| &snap.sockets[i]);
            frame::encode_delta(
                &mut self.payload,
                at,
                source,
                counters,
                &self.vanished,
                upserted,
            );
        }
        frame::seal_into(&self.payload, &mut self.sealed);
        self.payload.len() as u64
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

/// Rotation renames FILE and its generations and drops the oldest: only earlier recordings
/// may be there. `record -o notes.txt`, `-o DIR` or `-o /dev/full` moved that file aside (and
/// a later run dropped it). An empty file, or one cut inside the magic, passes: it is what a
/// recorder stopped at its first write leaves. Err: why not, one line naming the file.
pub fn check_rotatable(path: &Path) -> Result<(), String> {
    for n in 0..GENERATIONS {
        let p = generation(path, n);
        if fs::symlink_metadata(&p).is_err() {
            continue;
        }
        let shown = crate::text::escape(&p.to_string_lossy()).into_owned();
        let mut head = Vec::with_capacity(frame::MAGIC.len());
        let read = crate::input::open_regular(&p)
            .and_then(|f| f.take(frame::MAGIC.len() as u64).read_to_end(&mut head));
        let why = match read {
            Err(e) => e.to_string(),
            Ok(_) if frame::MAGIC.starts_with(&head) => continue,
            Ok(_) => "it is not a sockeye recording".to_string(),
        };
        return Err(format!(
            "{shown} is in the way: {why}, and rotation would move it; remove it or choose \
             another --output"
        ));
    }
    Ok(())
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
