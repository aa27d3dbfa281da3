//! One process's reading merged into the inode -> holders table.

use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;

use super::fds::{Read, Trust, read_nspid, read_stat, scan_fds};
use super::{IntSet, PidEntry, ProcessCache};
use crate::model::ProcessRef;

impl ProcessCache {
    pub(super) fn forget(&mut self, pid: u32) -> Option<PidEntry> {
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
    pub(super) fn scan(
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
        // The same process (same /proc inode) usually keeps its name, but execve(2) and
        // PR_SET_NAME change it under the same pid: a shell that forks and execs a server
        // was seen as `bash` and its listener kept that name. So stat is read again only
        // when the process holds a socket it did not hold before (cheap: once per process
        // that gains sockets), and a new name is given to all its sockets.
        let (command, ppid, nspid, mut gained_at, old_fds) = match old {
            Some(o) => {
                let gained = gains_a_socket(&o.fds, &fds);
                match gained.then(|| read_stat(&dir)).flatten() {
                    Some((command, ppid)) if command != o.command => {
                        for &(fd, inode) in &o.fds {
                            self.remove_ref(inode, pid, fd);
                        }
                        (command, ppid, o.nspid, o.gained_at, Vec::new())
                    }
                    _ => (o.command, o.ppid, o.nspid, o.gained_at, o.fds),
                }
            }
            None => {
                let (command, ppid) = read_stat(&dir).unwrap_or_else(|| (Arc::from(""), 0));
                let nspid = if self.want_nspid {
                    read_nspid(&dir, pid)
                } else {
                    None
                };
                (command, ppid, nspid, None, Vec::new())
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
                let r = ProcessRef {
                    command,
                    pid,
                    fd,
                    nspid,
                    proc_ctx: None,
                    sock_ctx: None,
                };
                self.add_ref(inode, r);
            }
        }
        let sockets = fds.iter().filter(|&&(_, inode)| inode != 0).count();
        self.pids.insert(
            pid,
            PidEntry {
                dir_ino,
                ppid,
                command,
                nspid,
                fds,
                sockets,
                denied,
                gained_at,
            },
        );
    }
}

/// Whether `new` has a socket at an fd number where `old` had none or another one. Both are
/// sorted by fd (as `scan_fds` returns them): one linear walk.
fn gains_a_socket(old: &[(u32, u64)], new: &[(u32, u64)]) -> bool {
    let mut i = 0;
    for &(fd, inode) in new {
        while old.get(i).is_some_and(|&(o, _)| o < fd) {
            i += 1;
        }
        let before = old.get(i).filter(|&&(o, _)| o == fd).map(|&(_, n)| n);
        if inode != 0 && before != Some(inode) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::gains_a_socket;

    #[test]
    fn a_gained_socket_is_a_new_number_or_a_number_with_a_new_socket() {
        let old = [(0, 0), (3, 10), (5, 11)];
        assert!(!gains_a_socket(&old, &old));
        assert!(!gains_a_socket(&old, &[(3, 10)]), "closing gains nothing");
        assert!(!gains_a_socket(&old, &[(0, 0), (3, 10), (4, 0), (5, 11)]));
        assert!(gains_a_socket(&old, &[(0, 0), (3, 10), (4, 12), (5, 11)]));
        assert!(gains_a_socket(&old, &[(0, 0), (3, 10), (5, 13)]));
        assert!(gains_a_socket(&old, &[(0, 14)]));
        assert!(gains_a_socket(&[], &[(7, 1)]));
        assert!(!gains_a_socket(&old, &[]));
    }
}
