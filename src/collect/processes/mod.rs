//! Process attribution (`-p`): socket inode -> the processes holding it, from the
//! `socket:[INODE]` links in /proc/PID/fd.
//!
//! The scan is the expensive part of `ss -p` (one readlink per open fd of every process), so
//! the cache keeps each process's sockets across refreshes and only looks again where
//! something may have changed:
//! - a pid seen for the first time (or reused: its /proc directory has a new inode) is
//!   scanned fully; if it holds a socket not seen before, its parent is rescanned too (a
//!   fork shares fds);
//! - sockets whose inode is not attributed yet (inode 0 never needs attribution) are first
//!   looked for in the processes that recently gained sockets (a server accepting
//!   connections), cheapest first, stopping once all are found; such a rescan reads only the
//!   links of new fd numbers, of fds that were no socket and of fds whose socket left the
//!   snapshot, so a server holding 50k connections is not re-read in full for each one it
//!   accepts;
//! - an inode still unknown at the *next* refresh is looked for everywhere, reading every
//!   link (socket holders first, fewest fds first, stopping once found), and remembered as ownerless if nobody
//!   holds it. Waiting one refresh matters: under connection churn, most unknown sockets seen
//!   in a snapshot are gone (TIME-WAIT, inode 0) by the next one, and searching for them at
//!   once would rescan every process every second;
//! - every process is rescanned now and then (`full_rescan_interval`) to drop fds that were
//!   closed while the socket lived on elsewhere. Such a rescan lists each fd directory but
//!   reads only the links of new fd numbers and of fds whose socket left the snapshot: a
//!   closed fd shows as a missing number. It is spread over refreshes (about
//!   [`VERIFY_BUDGET`] fds each), so no single refresh lists 100,000 fds. Reading every
//!   link again (a "deep" rescan, ~300 ms for 100,000 fds, all at once) is needed only for
//!   a number closed and reused for another file while its old socket lives on elsewhere,
//!   so it runs every [`DEEP_EVERY`]th time.
//!
//! Pids are listed with plain `read_dir` (its d_ino tells pid reuse apart for free). Fds are
//! read with `readlinkat` relative to the open /proc/PID/fd directory: plain `read_dir` +
//! `read_link` was already ~30% faster than the procfs crate's fd iterator (which builds an
//! enum and a PathBuf per fd), and readlinkat spares the path walk and the allocations too.
//! The procfs crate parses /proc/PID/stat for the command name and parent pid.
//! Processes exit and fds close mid-scan: ENOENT/ESRCH/EACCES are normal and skipped.
//!
//! Files: this one (the cache and its public API), `refresh` (what a refresh rescans and in
//! which order), `holders` (one process's reading merged into the inode -> holders table),
//! `fds` (reading /proc: pids, fd links, stat), `selinux` (`-Z`/`-z` contexts on the holders).

mod fds;
mod holders;
mod refresh;
pub mod selinux;
pub mod threads;

/// A process's command name and parent pid.
pub type Command = (Arc<str>, u32);

/// The parsers of /proc process files, on bytes, for the fuzz targets: an fd link
/// (`socket:[N]`), a pid or fd name, and /proc/PID/stat (command and parent pid).
#[doc(hidden)]
pub fn parse_for_fuzz(link: &[u8]) -> (Option<u64>, Option<u32>, Option<Command>) {
    (
        fds::socket_inode(link),
        fds::parse_pid(link),
        fds::parse_stat(link),
    )
}

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::{Holders, PREFETCH_AHEAD, Socket};
use fds::Read;

/// By default, rescan everything at most this often even when nothing looks unknown.
pub const DEFAULT_FULL_RESCAN: Duration = Duration::from_secs(30);

// Inodes and pids are small kernel-assigned integers, not attacker-chosen keys: FxHash is
// enough and much cheaper than SipHash over 100k sockets a second.
type IntMap<K, V> = FxHashMap<K, V>;
type IntSet<K> = FxHashSet<K>;

/// Every this many periodic rescans, one re-reads every fd link (see the module doc).
pub const DEEP_EVERY: u64 = 10;

/// A light periodic rescan lists at most about this many fds per refresh.
pub const VERIFY_BUDGET: usize = 10_000;

/// A process that gained a socket within this many refreshes is searched first.
const ACTIVE_REFRESHES: u64 = 60;

/// Counters that make the cache's work observable (tests, benchmarks, `--verbose`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Calls to `refresh`.
    pub refreshes: u64,
    /// Refreshes that scanned every process.
    pub full_scans: u64,
    /// fd directories read, over all refreshes.
    pub pids_scanned: u64,
    /// fd directories read by the last refresh.
    pub last_pids_scanned: usize,
    /// fd links read (readlinkat calls) by the last refresh.
    pub last_links_read: usize,
}

struct PidEntry {
    /// Inode of /proc/PID: a new one means a new process with a reused pid.
    dir_ino: u64,
    ppid: u32,
    command: Arc<str>,
    /// The pid inside its pid namespace, when it differs and was asked for.
    nspid: Option<u32>,
    /// Every fd as (fd, socket inode), sorted by fd; inode 0 for fds that are not sockets.
    fds: Vec<(u32, u64)>,
    /// How many of `fds` are sockets.
    sockets: usize,
    /// /proc/PID/fd could not be read (another user's process).
    denied: bool,
    /// The refresh at which a rescan last found a socket here that was unknown before.
    gained_at: Option<u64>,
}

/// inode -> owning processes, cached across refreshes.
pub struct ProcessCache {
    root: Option<PathBuf>,
    pids: IntMap<u32, PidEntry>,
    /// inode -> holders, sorted by (pid, fd); shared with the snapshots' sockets.
    owners: IntMap<u64, Holders>,
    /// Inodes no readable process held when searched for; they trigger no rescan.
    unowned: IntSet<u64>,
    /// Inodes unknown at the last refresh: searched for everywhere if still unknown now.
    pending: IntSet<u64>,
    full_rescan_interval: Option<Duration>,
    last_full: Option<Instant>,
    /// While [`ProcessCache::attribute`] runs: inodes whose owners changed.
    touched: Option<IntSet<u64>>,
    /// Pids the light rescan in progress has yet to read (popped from the end).
    verify: Vec<u32>,
    /// This refresh's slice of it already ran ([`ProcessCache::verify_slice`]).
    sliced: bool,
    stats: ScanStats,
    /// Read each new process's pid as its own pid namespace sees it (`ProcessRef::nspid`).
    want_nspid: bool,
}

impl Default for ProcessCache {
    fn default() -> Self {
        ProcessCache::with_full_rescan_interval(Some(DEFAULT_FULL_RESCAN))
    }
}

impl ProcessCache {
    /// `None`: never rescan everything once the cache is warm (tests).
    pub fn with_full_rescan_interval(interval: Option<Duration>) -> ProcessCache {
        ProcessCache {
            root: None,
            pids: IntMap::default(),
            owners: IntMap::default(),
            unowned: IntSet::default(),
            pending: IntSet::default(),
            full_rescan_interval: interval,
            last_full: None,
            touched: None,
            verify: Vec::new(),
            sliced: false,
            stats: ScanStats::default(),
            want_nspid: false,
        }
    }

    /// Also read the pid each process has inside its own pid namespace (one more /proc file
    /// per new process): for output that spans containers.
    pub fn with_nspid(mut self) -> ProcessCache {
        self.want_nspid = true;
        self
    }

    pub fn stats(&self) -> ScanStats {
        self.stats
    }

    /// Bring the cache up to date for `sockets` (the snapshot about to be attributed).
    /// Returns a note when some processes could not be inspected (not root).
    pub fn refresh(&mut self, proc_root: &Path, sockets: &[Socket]) -> Option<String> {
        self.set_root(proc_root);
        let unknown: Vec<u64> = sockets
            .iter()
            .map(|s| s.inode)
            .filter(|i| *i != 0 && !self.owners.contains_key(i))
            .collect();
        self.refresh_with(proc_root, sockets, unknown)
    }

    /// [`refresh`](Self::refresh) then [`attach`](Self::attach), with one cache lookup per
    /// socket instead of two: what the cache knows is attached first, the rest is what the
    /// refresh looks for. Sockets whose owners the refresh changed (a process exited or was
    /// rescanned) are attached again, so the result is the same as refresh + attach.
    pub fn attribute(&mut self, proc_root: &Path, sockets: &mut [Socket]) -> Option<String> {
        self.set_root(proc_root);
        let mut unknown_at = Vec::new();
        let mut unknown = Vec::new();
        // Each lookup is made PREFETCH_AHEAD sockets before its clone, and the holders'
        // reference count fetched meanwhile (see `Holders::prefetch`).
        let owners = &self.owners;
        let look = |s: &Socket| (s.inode != 0).then(|| owners.get(&s.inode));
        let mut ahead: [Option<Option<&Holders>>; PREFETCH_AHEAD] = [None; PREFETCH_AHEAD];
        for (slot, s) in ahead.iter_mut().zip(sockets.iter()) {
            *slot = look(s);
            if let Some(Some(h)) = slot {
                h.prefetch();
            }
        }
        for i in 0..sockets.len() {
            let found = ahead[i % PREFETCH_AHEAD].take();
            if let Some(s) = sockets.get(i + PREFETCH_AHEAD) {
                let next = look(s);
                if let Some(Some(h)) = next {
                    h.prefetch();
                }
                ahead[i % PREFETCH_AHEAD] = next;
            }
            match found {
                None => {} // inode 0: nobody to attribute
                Some(Some(refs)) => sockets[i].processes.clone_from(refs),
                Some(None) => {
                    unknown_at.push(i);
                    unknown.push(sockets[i].inode);
                }
            }
        }
        self.touched = Some(IntSet::default());
        let note = self.refresh_with(proc_root, sockets, unknown);
        let touched = self.touched.take().unwrap_or_default();
        if !touched.is_empty() {
            for s in sockets.iter_mut() {
                if s.inode != 0 && touched.contains(&s.inode) {
                    s.processes = self.owners.get(&s.inode).cloned().unwrap_or_default();
                }
            }
        }
        for i in unknown_at {
            if let Some(refs) = self.owners.get(&sockets[i].inode) {
                sockets[i].processes.clone_from(refs);
            }
        }
        note
    }

    /// Whether the periodic check for closed fds is in progress (see [`Self::verify_slice`]).
    pub fn verifying(&self) -> bool {
        !self.verify.is_empty()
    }

    /// One slice of the periodic check for closed fds, when one is in progress: about
    /// [`VERIFY_BUDGET`] fds (at least one process), listing each fd directory and reading
    /// only links of new numbers and of fds that were no socket. It needs no snapshot, so the
    /// collector runs it on another thread while the kernel dumps the sockets; the next
    /// [`refresh`](Self::refresh) or [`attribute`](Self::attribute) then skips it. (A number
    /// reused for another socket is not seen here; that socket is unknown to the cache and
    /// the refresh looks for it.)
    pub fn verify_slice(&mut self, proc_root: &Path) {
        self.set_root(proc_root);
        self.stats.last_pids_scanned = 0;
        self.stats.last_links_read = 0;
        self.verify_slice_inner(proc_root);
        self.sliced = true;
    }

    fn verify_slice_inner(&mut self, proc_root: &Path) {
        let none = IntSet::default();
        let mut budget = VERIFY_BUDGET;
        while budget > 0
            && let Some(pid) = self.verify.pop()
        {
            let Some(e) = self.pids.get(&pid) else {
                continue; // exited meanwhile
            };
            budget = budget.saturating_sub(e.fds.len().max(1));
            let dir_ino = e.dir_ino;
            self.scan(proc_root, pid, dir_ino, &none, Read::Sockets);
        }
    }

    /// Start afresh when asked about another /proc (tests point it at fixture trees).
    fn set_root(&mut self, proc_root: &Path) {
        if self.root.as_deref() != Some(proc_root) {
            let (stats, nspid) = (self.stats, self.want_nspid);
            *self = ProcessCache::with_full_rescan_interval(self.full_rescan_interval);
            self.stats = stats;
            self.want_nspid = nspid;
            self.root = Some(proc_root.to_path_buf());
        }
    }

    /// Fill `processes` of every socket whose inode is known (sorted by pid, then fd).
    pub fn attach(&self, sockets: &mut [Socket]) {
        for s in sockets {
            if s.inode == 0 {
                continue;
            }
            if let Some(refs) = self.owners.get(&s.inode) {
                s.processes.clone_from(refs);
            }
        }
    }
}
