//! `-T`: every thread holding each socket, as ss lists them (`("cmd",pid=P,tid=T,fd=F)`).
//!
//! A one-shot scan of /proc/PID/task/TID/fd, separate from the process cache: threads
//! usually share their process's fd table, but one made with `unshare(CLONE_FILES)` does
//! not, so each thread's own table is read, as ss reads it.

use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::fds::{list_pids, parse_pid, read_stat, scan_fds};
use crate::model::{Details, Socket, ThreadRef};

/// Fill [`Details::threads`] of `sockets` from `proc_root`. Processes and threads that
/// vanish or cannot be read mid-scan are skipped, as ss skips them.
pub fn attach(proc_root: &Path, sockets: &mut [Socket]) {
    let mut wanted: FxHashMap<u64, Vec<ThreadRef>> = sockets
        .iter()
        .filter(|s| s.inode != 0)
        .map(|s| (s.inode, Vec::new()))
        .collect();
    if wanted.is_empty() {
        return;
    }
    let Ok(pids) = list_pids(proc_root) else {
        return;
    };
    let mut links = 0;
    for (pid, _) in pids {
        let pid_dir = proc_root.join(pid.to_string());
        let Some((command, _)) = read_stat(&pid_dir) else {
            continue;
        };
        let Ok(tasks) = std::fs::read_dir(pid_dir.join("task")) else {
            continue;
        };
        let mut tids: Vec<u32> = tasks
            .flatten()
            .filter_map(|e| parse_pid(e.file_name().as_encoded_bytes()))
            .collect();
        // ss lists the last thread found first.
        tids.sort_unstable_by(|a, b| b.cmp(a));
        for tid in tids {
            let fd_dir = pid_dir.join(format!("task/{tid}/fd"));
            let Ok(fds) = scan_fds(&fd_dir, None, &mut links) else {
                continue;
            };
            for (fd, inode) in fds {
                if let Some(v) = wanted.get_mut(&inode) {
                    v.push(ThreadRef {
                        command: Arc::clone(&command),
                        pid,
                        tid,
                        fd,
                    });
                }
            }
        }
    }
    for s in sockets.iter_mut() {
        let Some(threads) = wanted.get_mut(&s.inode).map(std::mem::take) else {
            continue;
        };
        if threads.is_empty() {
            continue;
        }
        s.details
            .get_or_insert_with(Box::<Details>::default)
            .threads = threads;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Netid, TcpState};

    trait RawU32 {
        fn as_raw_fd_u32(&self) -> u32;
    }
    impl RawU32 for std::net::TcpListener {
        fn as_raw_fd_u32(&self) -> u32 {
            use std::os::fd::AsRawFd;
            self.as_raw_fd() as u32
        }
    }

    #[test]
    fn own_socket_is_held_by_this_thread() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let ino = {
            use std::os::fd::AsRawFd;
            let link =
                std::fs::read_link(format!("/proc/self/fd/{}", l.as_raw_fd())).expect("fd link");
            let t = link.to_string_lossy().into_owned();
            t.trim_start_matches("socket:[")
                .trim_end_matches(']')
                .parse::<u64>()
                .expect("inode")
        };
        let ep = Endpoint::Unix {
            path: None,
            inode: 0,
        };
        let mut s = Socket::new(Netid::Tcp, TcpState::Listen, ep.clone(), ep);
        s.inode = ino;
        let mut v = vec![s];
        attach(Path::new("/proc"), &mut v);
        let threads = &v[0].details.as_ref().expect("details").threads;
        let me = std::process::id();
        assert!(!threads.is_empty());
        assert!(
            threads
                .iter()
                .all(|t| t.pid == me && t.fd == l.as_raw_fd_u32())
        );
    }
}
