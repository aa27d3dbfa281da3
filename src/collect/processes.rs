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

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::{Holders, ProcessRef, Socket};

/// By default, rescan everything at most this often even when nothing looks unknown.
pub const DEFAULT_FULL_RESCAN: Duration = Duration::from_secs(30);

/// Inodes and pids are small kernel-assigned integers, not attacker-chosen keys: a
/// multiplicative hash is enough and much cheaper than SipHash over 100k sockets a second.
#[derive(Default)]
struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;
type IntSet<K> = HashSet<K, BuildHasherDefault<IntHasher>>;

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
        }
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
        for (i, s) in sockets.iter_mut().enumerate() {
            if s.inode == 0 {
                continue;
            }
            match self.owners.get(&s.inode) {
                Some(refs) => s.processes.clone_from(refs),
                None => {
                    unknown_at.push(i);
                    unknown.push(s.inode);
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
            let stats = self.stats;
            *self = ProcessCache::with_full_rescan_interval(self.full_rescan_interval);
            self.stats = stats;
            self.root = Some(proc_root.to_path_buf());
        }
    }

    /// The refresh, given the snapshot's inodes the cache does not know.
    fn refresh_with(
        &mut self,
        proc_root: &Path,
        sockets: &[Socket],
        unknown: Vec<u64>,
    ) -> Option<String> {
        self.stats.refreshes += 1;
        let sliced = std::mem::take(&mut self.sliced);
        if !sliced {
            self.stats.last_pids_scanned = 0;
            self.stats.last_links_read = 0;
        }
        let now = self.stats.refreshes;
        let listing = match list_pids(proc_root) {
            Ok(l) => l,
            Err(e) => {
                return Some(format!(
                    "processes are not shown: cannot list {}: {e}",
                    proc_root.display()
                ));
            }
        };

        let due = self.last_full.is_none()
            || self
                .full_rescan_interval
                .zip(self.last_full)
                .is_some_and(|(every, last)| last.elapsed() >= every);
        // A round still in progress finishes first (the next starts when it is done).
        let start = due && self.verify.is_empty();
        if start {
            self.last_full = Some(Instant::now());
            self.stats.full_scans += 1;
        }
        // The first periodic rescan (an empty cache) and every DEEP_EVERYth read every link of
        // every process at once; the others are light and spread over refreshes.
        let full = start && (self.stats.full_scans - 1).is_multiple_of(DEEP_EVERY);
        if start && !full {
            self.verify = self.pids.keys().copied().collect();
            self.verify.sort_unstable_by(|a, b| b.cmp(a)); // popped lowest pid first
        }

        // Forget processes that exited or whose pid now names another process.
        let live: IntMap<u32, u64> = listing.iter().copied().collect();
        let gone: Vec<u32> = self
            .pids
            .iter()
            .filter(|(pid, e)| live.get(pid) != Some(&e.dir_ino))
            .map(|(pid, _)| *pid)
            .collect();
        for pid in gone {
            self.forget(pid);
        }

        let mut unknown: IntSet<u64> = unknown
            .into_iter()
            .filter(|i| full || !self.unowned.contains(i))
            .collect();

        // New processes (all of them on a full scan).
        let mut scanned: IntSet<u32> = IntSet::default();
        // Processes whose every link was read this refresh (not a light rescan, which trusts
        // what it saw before and can miss a socket).
        let mut read_fully: IntSet<u32> = IntSet::default();
        let mut parents: Vec<u32> = Vec::new();
        // A full scan finds every socket "new": it must not mark every process as active.
        let no_inodes = IntSet::default();
        let news = if full { &no_inodes } else { &unknown };
        for &(pid, dir_ino) in &listing {
            if !full && self.pids.contains_key(&pid) {
                continue;
            }
            self.scan(proc_root, pid, dir_ino, news, Read::All);
            scanned.insert(pid);
            read_fully.insert(pid);
            if let Some(e) = self.pids.get(&pid)
                && !full
                && e.gained_at == Some(now)
            {
                parents.push(e.ppid);
            }
        }
        // A known process that opened a socket and then forked holds it too.
        for ppid in parents {
            if let Some(dir_ino) = self.pids.get(&ppid).map(|e| e.dir_ino)
                && read_fully.insert(ppid)
            {
                scanned.insert(ppid);
                self.scan(proc_root, ppid, dir_ino, &unknown, Read::All);
            }
        }
        // The check for closed fds in progress, unless this refresh's slice already ran
        // (the collector runs it while the kernel dumps sockets).
        if !sliced {
            self.verify_slice_inner(proc_root);
        }
        unknown.retain(|i| !self.owners.contains_key(i));

        if full {
            // Every process was read: whatever is still unknown has no readable owner.
            self.unowned = unknown;
            self.pending.clear();
        } else {
            // Processes that recently gained sockets are the likely owners of new ones. Their
            // rescan reads only the links of fds that are new, were no socket, or whose
            // socket is gone from the snapshot (a reused fd number); the rest is trusted.
            if !unknown.is_empty() {
                let candidates = self.candidates(&scanned, |e| {
                    e.gained_at.is_some_and(|at| at + ACTIVE_REFRESHES >= now)
                });
                if !candidates.is_empty() {
                    let present: IntSet<u64> = sockets
                        .iter()
                        .map(|s| s.inode)
                        .filter(|i| *i != 0)
                        .collect();
                    self.search(
                        proc_root,
                        candidates,
                        &mut unknown,
                        &mut scanned,
                        Read::Present(&present),
                        |u| u.is_empty(),
                    );
                }
            }
            // Unknown twice in a row: the socket lives on, look everywhere, reading every link
            // (also of the processes a light rescan already looked at).
            let pending = std::mem::take(&mut self.pending);
            if unknown.iter().any(|i| pending.contains(i)) {
                let candidates = self.candidates(&read_fully, |_| true);
                self.search(
                    proc_root,
                    candidates,
                    &mut unknown,
                    &mut scanned,
                    Read::All,
                    |u| !u.iter().any(|i| pending.contains(i)),
                );
                let (ownerless, fresh): (IntSet<u64>, IntSet<u64>) =
                    unknown.into_iter().partition(|i| pending.contains(i));
                self.unowned.extend(ownerless);
                self.pending = fresh;
            } else {
                self.pending = unknown;
            }
        }

        if self.pids.values().any(|e| e.denied) {
            // SAFETY: geteuid has no preconditions and cannot fail.
            let euid = unsafe { libc::geteuid() };
            Some(if euid == 0 {
                "some processes could not be inspected (permission denied)".to_string()
            } else {
                "processes of other users are not shown (run as root to see them)".to_string()
            })
        } else {
            None
        }
    }

    /// Known, readable processes not scanned in this refresh that pass `wanted`: socket
    /// holders first, then by fewest sockets (the cheapest rescans first).
    fn candidates(
        &self,
        scanned: &IntSet<u32>,
        wanted: impl Fn(&PidEntry) -> bool,
    ) -> Vec<(u32, u64)> {
        let mut c: Vec<(bool, usize, u32, u64)> = self
            .pids
            .iter()
            .filter(|(pid, e)| !e.denied && !scanned.contains(pid) && wanted(e))
            .map(|(pid, e)| (e.sockets == 0, e.sockets, *pid, e.dir_ino))
            .collect();
        c.sort_unstable();
        c.into_iter().map(|(_, _, pid, ino)| (pid, ino)).collect()
    }

    /// Rescan `candidates` in order, removing found inodes from `unknown`, until `done`.
    fn search(
        &mut self,
        proc_root: &Path,
        candidates: Vec<(u32, u64)>,
        unknown: &mut IntSet<u64>,
        scanned: &mut IntSet<u32>,
        read: Read<'_>,
        done: impl Fn(&IntSet<u64>) -> bool,
    ) {
        for (pid, dir_ino) in candidates {
            if done(unknown) {
                break;
            }
            self.scan(proc_root, pid, dir_ino, unknown, read);
            scanned.insert(pid);
            if let Some(e) = self.pids.get(&pid) {
                for (_, i) in &e.fds {
                    unknown.remove(i);
                }
            }
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

    fn forget(&mut self, pid: u32) -> Option<PidEntry> {
        let e = self.pids.remove(&pid)?;
        for &(fd, inode) in &e.fds {
            self.remove_ref(inode, pid, fd);
        }
        Some(e)
    }

    /// Drop `pid`'s `fd` from the holders of `inode`.
    fn remove_ref(&mut self, inode: u64, pid: u32, fd: u32) {
        if inode == 0 {
            return;
        }
        if let Some(t) = self.touched.as_mut() {
            t.insert(inode);
        }
        if let Some(refs) = self.owners.get_mut(&inode) {
            *refs = refs
                .iter()
                .filter(|r| (r.pid, r.fd) != (pid, fd))
                .cloned()
                .collect();
            if refs.is_empty() {
                self.owners.remove(&inode);
            }
        }
    }

    /// Add a holder of `inode`, keeping the list sorted by (pid, fd).
    fn add_ref(&mut self, inode: u64, new: ProcessRef) {
        if let Some(t) = self.touched.as_mut() {
            t.insert(inode);
        }
        let refs = self.owners.entry(inode).or_default();
        // Nearly every socket has one holder: build the shared list directly.
        *refs = if refs.is_empty() {
            vec![new].into()
        } else {
            let mut v = refs.to_vec();
            let at = v
                .binary_search_by_key(&(new.pid, new.fd), |r| (r.pid, r.fd))
                .unwrap_or_else(|at| at);
            v.insert(at, new);
            v.into()
        };
    }

    /// (Re)read one process. A process that vanished is simply forgotten. With `present`
    /// (the snapshot's inodes) a known process is read incrementally: see `scan_fds`. Only
    /// the fds that changed since the last read touch the owners table, so rereading a
    /// process that holds 50,000 sockets costs one directory listing when nothing changed.
    fn scan(
        &mut self,
        proc_root: &Path,
        pid: u32,
        dir_ino: u64,
        unknown: &IntSet<u64>,
        read: Read<'_>,
    ) {
        let now = self.stats.refreshes;
        let old = self.pids.remove(&pid);
        self.stats.pids_scanned += 1;
        self.stats.last_pids_scanned += 1;
        let mut dir = proc_root.join(pid.to_string());
        dir.push("fd");
        let trust = match read {
            Read::All => None,
            Read::Present(p) => Some(Trust::Present(p)),
            Read::Sockets => Some(Trust::Sockets),
        };
        let previous = old
            .as_ref()
            .filter(|o| !o.denied)
            .zip(trust)
            .map(|(o, t)| (o.fds.as_slice(), t));
        let (fds, denied) = match scan_fds(&dir, previous, &mut self.stats.last_links_read) {
            Ok(fds) => (fds, false),
            Err(e) if e.kind() == ErrorKind::PermissionDenied => (Vec::new(), true),
            Err(_) => {
                // Exited (ENOENT, ESRCH) or not a process directory.
                for &(fd, inode) in old.as_ref().map_or(&[][..], |o| o.fds.as_slice()) {
                    self.remove_ref(inode, pid, fd);
                }
                return;
            }
        };
        dir.pop();
        // The same process (same /proc inode) keeps its name: no need to read stat again.
        let (command, ppid, mut gained_at, old_fds) = match old {
            Some(o) => (o.command, o.ppid, o.gained_at, o.fds),
            None => {
                let (command, ppid) = read_stat(&dir).unwrap_or_else(|| (Arc::from(""), 0));
                (command, ppid, None, Vec::new())
            }
        };
        // Both lists are sorted by fd: walk them together. An fd whose target changed is a
        // removal and an addition.
        let (mut i, mut j) = (0, 0);
        while i < old_fds.len() || j < fds.len() {
            let (o, n) = (old_fds.get(i), fds.get(j));
            let (gone, new) = match (o, n) {
                (Some(a), Some(b)) if a.0 == b.0 => {
                    i += 1;
                    j += 1;
                    if a.1 == b.1 {
                        (None, None)
                    } else {
                        (Some(*a), Some(*b))
                    }
                }
                (Some(a), Some(b)) if a.0 < b.0 => {
                    i += 1;
                    (Some(*a), None)
                }
                (Some(a), None) => {
                    i += 1;
                    (Some(*a), None)
                }
                (_, Some(b)) => {
                    j += 1;
                    (None, Some(*b))
                }
                (None, None) => break,
            };
            if let Some((fd, inode)) = gone {
                self.remove_ref(inode, pid, fd);
            }
            if let Some((fd, inode)) = new
                && inode != 0
            {
                if unknown.contains(&inode) {
                    gained_at = Some(now);
                }
                let command = Arc::clone(&command);
                self.add_ref(inode, ProcessRef { command, pid, fd });
            }
        }
        let sockets = fds.iter().filter(|&&(_, inode)| inode != 0).count();
        self.pids.insert(
            pid,
            PidEntry {
                dir_ino,
                ppid,
                command,
                fds,
                sockets,
                denied,
                gained_at,
            },
        );
    }
}

/// Numeric entries of the proc root: (pid, inode of its directory).
fn list_pids(proc_root: &Path) -> std::io::Result<Vec<(u32, u64)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(proc_root)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        if let Some(pid) = parse_pid(name.as_bytes()) {
            out.push((pid, entry.ino()));
        }
    }
    Ok(out)
}

fn parse_pid(name: &[u8]) -> Option<u32> {
    if name.is_empty() || name.len() > 10 || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// A process's last fd list and the inodes of the current snapshot.
type Previous<'a> = (&'a [(u32, u64)], Trust<'a>);

/// Which links a rescan of a known process may take from its last reading.
#[derive(Clone, Copy)]
enum Read<'a> {
    /// None: read every link.
    All,
    /// Fds that held a socket still in the snapshot (these inodes).
    Present(&'a IntSet<u64>),
    /// Fds that held a socket: the check for closed fds, which needs only the numbers.
    Sockets,
}

/// [`Read`] without `All`.
#[derive(Clone, Copy)]
enum Trust<'a> {
    Present(&'a IntSet<u64>),
    Sockets,
}

/// Every fd of a process as (fd, socket inode or 0), sorted by fd.
///
/// One `readlinkat` per fd relative to the open fd directory, into a stack buffer: no path
/// walk and no allocation per fd (std's `read_link` takes a full path and allocates).
/// With `previous` (the last result for this same process, and the inodes of the current
/// snapshot), an fd is taken from `previous` without reading its link when it held a socket
/// that is still in the snapshot: new fd numbers, fds whose socket is gone (a closed number
/// now reused) and fds that were no socket are read. The last matter: a number that held a
/// file or a directory a moment ago (the collector's own, when it watches itself) is often
/// the next socket accepted. A socket behind a number whose old socket lives on elsewhere is
/// missed here and found by a full read.
fn scan_fds(
    fd_dir: &Path,
    previous: Option<Previous<'_>>,
    links_read: &mut usize,
) -> std::io::Result<Vec<(u32, u64)>> {
    let dir = FdDir::open(fd_dir)?;
    let mut out = Vec::with_capacity(previous.map_or(16, |(p, _)| p.len() + 16));
    let mut link = [0u8; 64];
    while let Some(name) = dir.next_name() {
        let Some(fd) = parse_pid(name.to_bytes()) else {
            continue;
        };
        if let Some((prev, trust)) = previous
            && let Ok(i) = prev.binary_search_by_key(&fd, |&(fd, _)| fd)
            && prev[i].1 != 0
            && match trust {
                Trust::Present(present) => present.contains(&prev[i].1),
                Trust::Sockets => true,
            }
        {
            out.push(prev[i]);
            continue;
        }
        *links_read += 1;
        // The fd may close between listing and reading the link: then it is skipped.
        if let Some(target) = dir.read_link(name, &mut link) {
            out.push((fd, socket_inode(target).unwrap_or(0)));
        }
    }
    out.sort_unstable_by_key(|&(fd, _)| fd);
    Ok(out)
}

/// An open directory stream (libc `DIR`), closed on drop.
struct FdDir(std::ptr::NonNull<libc::DIR>);

impl FdDir {
    fn open(path: &Path) -> std::io::Result<FdDir> {
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(ErrorKind::InvalidInput))?;
        // SAFETY: `c` is a valid NUL-terminated string; the result is checked.
        let dir = unsafe { libc::opendir(c.as_ptr()) };
        std::ptr::NonNull::new(dir)
            .map(FdDir)
            .ok_or_else(std::io::Error::last_os_error)
    }

    /// Next entry name; `None` at the end or on a read error (the process exited).
    fn next_name(&self) -> Option<&std::ffi::CStr> {
        // SAFETY: the stream is open; readdir's entry stays valid until the next readdir or
        // closedir on this stream, which the borrow of `self` and the caller's loop respect.
        unsafe {
            let ent = libc::readdir(self.0.as_ptr());
            if ent.is_null() {
                return None;
            }
            Some(std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()))
        }
    }

    /// The link target of entry `name`, if it fits in `buf` (socket links always do).
    fn read_link<'b>(&self, name: &std::ffi::CStr, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        // SAFETY: the stream is open, `name` is NUL-terminated and `buf` is writable for
        // its length; readlinkat writes at most that many bytes and returns the count.
        let n = unsafe {
            libc::readlinkat(
                libc::dirfd(self.0.as_ptr()),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        let n = usize::try_from(n).ok()?;
        (n < buf.len()).then(|| &buf[..n])
    }
}

impl Drop for FdDir {
    fn drop(&mut self) {
        // SAFETY: the stream was opened by opendir and is closed exactly once.
        unsafe {
            libc::closedir(self.0.as_ptr());
        }
    }
}

/// `socket:[12345]` -> 12345.
fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Command name (comm, as ss shows it) and parent pid, from /proc/PID/stat.
fn read_stat(pid_dir: &Path) -> Option<(Arc<str>, u32)> {
    use ::procfs::FromRead;
    let stat = ::procfs::process::Stat::from_file(pid_dir.join("stat")).ok()?;
    Some((
        Arc::from(stat.comm.as_str()),
        u32::try_from(stat.ppid).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_and_name_parsing() {
        assert_eq!(socket_inode(b"socket:[123]"), Some(123));
        assert_eq!(socket_inode(b"socket:[]"), None);
        assert_eq!(socket_inode(b"pipe:[123]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
        assert_eq!(parse_pid(b"4000"), Some(4000));
        assert_eq!(parse_pid(b"self"), None);
        assert_eq!(parse_pid(b""), None);
    }
}
