//! Namespaces coming and going under a collector that spans them all: one removed between
//! refreshes (and released: the collector's thread leaves it), a process exiting while its
//! namespace is read, and 200 namespaces at once. Needs root; skips with a line otherwise.

use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use sockeye::collect::{Collector, Query};
use sockeye::model::TcpState;

use super::dump::{TestNs, available, sockeye, stdout};
use std::time::Duration;

use crate::common::{require_tool, wait_until};

/// The namespaces this process's threads are in.
fn our_threads_namespaces() -> Vec<u64> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter_map(|t| std::fs::metadata(t.path().join("ns/net")).ok())
        .map(|m| m.ino())
        .collect()
}

#[test]
fn a_namespace_removed_between_refreshes_is_dropped_and_released() {
    if !available() {
        return;
    }
    let mut c = Collector::all_netns(Query::default());
    let ns = TestNs::with_listener();
    let inode = ns.inode();
    let name = ns.name.clone();
    let port = ns.port;
    let has = |snap: &sockeye::model::Snapshot| {
        snap.sockets.iter().any(|s| {
            s.state == TcpState::Listen
                && s.local_port() == Some(port)
                && s.netns.as_ref().is_some_and(|t| t.inode == inode)
        })
    };
    let first = c.snapshot().unwrap();
    assert!(has(&first), "the new namespace is picked up");
    let reads = first.netns.as_ref().unwrap();
    assert!(
        reads
            .read
            .iter()
            .any(|r| r.tag.name.as_deref() == Some(&*name))
    );
    assert!(
        our_threads_namespaces().contains(&inode),
        "entered once, kept"
    );
    drop(ns); // holder killed, `ip netns del`
    let second = c.snapshot().unwrap();
    assert!(!has(&second), "gone at the next refresh");
    assert!(second.netns.as_ref().unwrap().unreadable.is_empty());
    // The thread ends when its collector is dropped (asynchronously).
    assert!(
        wait_until(Duration::from_secs(10), || !our_threads_namespaces()
            .contains(&inode)),
        "its thread ended, so the namespace can be freed"
    );
}

/// Processes holding unnamed namespaces start and exit while the collector reads: no
/// snapshot fails and none reports a namespace it could not read.
#[test]
fn processes_exiting_while_their_namespace_is_read() {
    if !available() || !require_tool("unshare", "util-linux") {
        return;
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|sc| {
        for _ in 0..2 {
            sc.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let _ = Command::new("unshare")
                        .args([
                            "-n",
                            "python3",
                            "-c",
                            "import socket; socket.socket().listen()",
                        ])
                        .status();
                }
            });
        }
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = Stop(&stop);
        let mut c = Collector::all_netns(Query {
            processes: true,
            ..Query::default()
        });
        for _ in 0..6 {
            let snap = c.snapshot().unwrap();
            let reads = snap.netns.as_ref().unwrap();
            assert!(reads.unreadable.is_empty(), "{:?}", reads.unreadable);
        }
    });
}

#[test]
fn two_hundred_namespaces() {
    if !available() {
        return;
    }
    let all: Vec<TestNs> = (0..200).map(|_| TestNs::add()).collect();
    let o = sockeye(&["--all-netns", "-s", "--json"]);
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let parts = v["namespaces"].as_array().unwrap();
    for ns in &all {
        let inode = ns.inode();
        let found = parts
            .iter()
            .filter(|p| p["netns"]["inode"] == inode)
            .count();
        assert_eq!(found, 1, "{} once", ns.name);
    }
    assert!(parts.len() >= 201, "ours and the host's: {}", parts.len());
    // The live collector holds them all across refreshes.
    let mut c = Collector::all_netns(Query::default());
    for _ in 0..2 {
        let snap = c.snapshot().unwrap();
        assert!(snap.netns.as_ref().unwrap().read.len() >= 201);
    }
}
