//! `Host::in_netns`: a collector reading another network namespace (a named one made with
//! `ip netns add`), from a thread that entered it. Needs root.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use sockeye::collect::{Collector, Host, NetidSet, Query, SourcePref};
use sockeye::model::{Netid, Socket};

/// A named namespace with loopback up, deleted on drop.
struct Netns(String);

impl Netns {
    fn add() -> Option<Netns> {
        let name = format!("sockeye-host-{}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        let ns = Netns(name);
        let up = Command::new("ip")
            .args(["-n", &ns.0, "link", "set", "lo", "up"])
            .status()
            .is_ok_and(|s| s.success());
        up.then_some(ns)
    }

    fn path(&self) -> String {
        format!("/run/netns/{}", self.0)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn ours(port: u16) -> Query {
    Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        keep: Some(Arc::new(move |s: &Socket| s.local_port() == Some(port))),
        counters: true,
        ..Query::default()
    }
}

#[test]
fn a_collector_in_another_namespace_sees_its_sockets_not_ours() {
    if !is_root() {
        eprintln!("skipped: needs root (ip netns add, setns)");
        return;
    }
    let Some(ns) = Netns::add() else {
        eprintln!("skipped: `ip netns add` is not available here");
        return;
    };
    let here = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = here.local_addr().unwrap().port();
    let host = Host::in_netns(Path::new(&ns.path())).unwrap();

    // A listener made inside the namespace, by a socket opened on a thread that entered it.
    let inside = {
        let file = std::fs::File::open(ns.path()).unwrap();
        std::thread::spawn(move || {
            // SAFETY: setns on a valid namespace fd, changing only this thread.
            let rc =
                unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0);
            TcpListener::bind(("127.0.0.1", port)).unwrap()
        })
        .join()
        .unwrap()
    };

    for source in [SourcePref::Netlink, SourcePref::Proc] {
        let q = Query {
            source,
            ..ours(port)
        };
        let mut c = Collector::on_host(q.clone(), host.clone());
        for _ in 0..2 {
            let snap = c.snapshot().unwrap();
            let inodes: Vec<u64> = snap.sockets.iter().map(|s| s.inode).collect();
            assert_eq!(inodes.len(), 1, "{source:?}: {:?}", snap.sockets);
            let ino_inside = inode(&inside);
            assert_eq!(
                inodes[0], ino_inside,
                "{source:?}: the namespace's listener"
            );
            assert!(snap.counters.as_ref().unwrap().somaxconn.is_some());
        }
        // And this namespace's collector sees only ours.
        let snap = Collector::new(q).snapshot().unwrap();
        let inodes: Vec<u64> = snap.sockets.iter().map(|s| s.inode).collect();
        assert_eq!(inodes, vec![inode(&here)], "{source:?}");
    }
    assert_eq!(host.interface_name(1).as_deref(), Some("lo"));
    drop((inside, here));
    drop(ns);
}

fn inode(fd: &impl std::os::fd::AsRawFd) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
    link.to_string_lossy()
        .trim_start_matches("socket:[")
        .trim_end_matches(']')
        .parse()
        .unwrap()
}

#[test]
fn a_namespace_that_cannot_be_entered_is_an_error() {
    let e = Host::in_netns(Path::new("/nonexistent/netns")).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    // A file that is no namespace: setns refuses it.
    if is_root() {
        let e = Host::in_netns(Path::new("/etc/hostname")).unwrap_err();
        assert!(e.raw_os_error().is_some(), "{e}");
    }
}
