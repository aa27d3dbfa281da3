//! One refresh: forget exited processes, read new ones, and look for unknown inodes where
//! they most likely are, cheapest first (see the module doc of `processes`).

use std::path::Path;
use std::time::Instant;

use super::fds::{Read, list_pids};
use super::{ACTIVE_REFRESHES, DEEP_EVERY, IntMap, IntSet, PidEntry, ProcessCache};
use crate::model::Socket;

impl ProcessCache {
    /// The refresh, given the snapshot's inodes the cache does not know.
    pub(super) fn refresh_with(
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
}
