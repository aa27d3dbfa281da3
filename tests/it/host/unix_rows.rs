//! /proc/net/unix cannot be forged by a socket path, and lists the same sockets as netlink.

use std::collections::BTreeSet;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;

use sockeye::collect::{Collector, Host, NetidSet, Query, SourcePref};
use sockeye::model::{Endpoint, Netid, Snapshot, Socket};

use super::tree;

fn unix_query(source: SourcePref) -> Query {
    Query {
        netids: NetidSet::of(&[Netid::UnixStream, Netid::UnixDgram, Netid::UnixSeqpacket]),
        source,
        ..Query::default()
    }
}

fn path_of(s: &Socket) -> Option<&str> {
    match &s.local {
        Endpoint::Unix { path, .. } => path.as_deref(),
        _ => None,
    }
}

fn inode_of(fd: &impl AsRawFd) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
    let link = link.to_string_lossy();
    link.trim_start_matches("socket:[")
        .trim_end_matches(']')
        .parse()
        .unwrap()
}

/// A real socket bound to a path holding a newline and a whole made-up row: `--source proc`
/// shows the real socket with its whole path, and no socket of the made-up row.
#[test]
fn a_path_with_a_newline_and_a_fake_row_forges_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fake_row = "0000000000000000: 00000002 00000000 00010000 0001 01 4000000000 @forged";
    let path = dir.path().join(format!("s\n{fake_row}"));
    if path.as_os_str().len() > 107 {
        eprintln!("skipped: the temporary directory's path is too long for a socket path");
        return;
    }
    let l = UnixListener::bind(&path).unwrap();
    let ino = inode_of(&l);

    let snap: Snapshot = Collector::new(unix_query(SourcePref::Proc))
        .snapshot()
        .unwrap();
    assert!(
        !snap
            .sockets
            .iter()
            .any(|s| s.inode == 4_000_000_000 || path_of(s) == Some("@forged")),
        "a forged socket is listed"
    );
    let real = snap.sockets.iter().find(|s| s.inode == ino).unwrap();
    assert_eq!(path_of(real), path.to_str());
    assert!(
        snap.warnings.iter().any(|w| w.contains("held a newline")),
        "{:?}",
        snap.warnings
    );

    // The same through the command line, as JSON: the path exact, no forged socket.
    let out = assert_cmd::Command::cargo_bin("sockeye")
        .unwrap()
        .args(["dump", "-xa", "--source", "proc", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert!(!rows.iter().any(|r| r["inode"] == 4_000_000_000u64));
    assert!(
        rows.iter()
            .any(|r| r["inode"] == ino && r["path"] == path.to_str().unwrap())
    );
    drop(l);
}

/// A fixture file (the fake host's /proc/net/unix): rows a path could hold are part of it
/// when they copy another row's inode or when netlink (recorded answers) does not know them.
#[test]
fn forged_rows_in_a_fixture_file() {
    let root = tree::fixtures().join("proc/forged");
    let read = |host: Host| -> Snapshot {
        Collector::on_host(unix_query(SourcePref::Proc), host)
            .snapshot()
            .unwrap()
    };
    let inodes = |s: &Snapshot| s.sockets.iter().map(|s| s.inode).collect::<BTreeSet<_>>();

    // /proc alone: the copied inode is caught, the fresh one cannot be.
    let alone = read(Host::fake(&root));
    assert_eq!(
        inodes(&alone),
        BTreeSet::from([111671, 111672, 111673, 111674, 99999])
    );
    let path = |s: &Snapshot, inode: u64| {
        path_of(s.sockets.iter().find(|s| s.inode == inode).unwrap()).map(str::to_string)
    };
    assert_eq!(
        path(&alone, 111673).as_deref(),
        Some(
            "@sockeye-fixture\n0000000000000000: 00000002 00000000 00010000 0001 01 111674 \
             /run/copied-inode.sock"
        )
    );
    assert_eq!(
        path(&alone, 99999).as_deref(),
        Some("/run/fresh-inode.sock\nlines")
    );
    assert!(
        alone
            .warnings
            .iter()
            .any(|w| w.contains("2 socket paths held a newline")),
        "{:?}",
        alone.warnings
    );

    // With netlink (the recorded answers know 111671..111674): the fresh inode is caught.
    let checked = read(tree::host(&root));
    assert_eq!(
        inodes(&checked),
        BTreeSet::from([111671, 111672, 111673, 111674])
    );
    assert_eq!(
        path(&checked, 111671).as_deref(),
        Some(
            "/tmp/sockeye-fixture.sock\n0000000000000000: 00000002 00000000 00010000 0001 01 \
             99999 /run/fresh-inode.sock"
        )
    );
    // "lines" no longer fits in what a path can print (108 bytes): junk, not a path.
    assert_eq!(checked.skipped_records, 1);
}

fn relisten(fd: i32, backlog: i32) {
    // SAFETY: listen on a valid socket fd we own.
    assert_eq!(unsafe { libc::listen(fd, backlog) }, 0);
}

/// A backlog-1 listener with two connections waiting in its queue: netlink and /proc list
/// the same sockets (the listener and the clients; the queued server ends in neither).
#[test]
fn queued_unix_connections_are_the_same_through_both_sources() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queued.sock");
    let l = UnixListener::bind(&path).unwrap();
    relisten(l.as_raw_fd(), 1);
    let clients = [
        UnixStream::connect(&path).unwrap(),
        UnixStream::connect(&path).unwrap(),
    ];
    let mut ours: BTreeSet<u64> = clients.iter().map(inode_of).collect();
    ours.insert(inode_of(&l));
    let ours = Arc::new(ours);
    let dir_text = dir.path().to_string_lossy().to_string();

    let read = |source: SourcePref| -> BTreeSet<(Netid, u64, Option<String>)> {
        let (ours, dir_text) = (Arc::clone(&ours), dir_text.clone());
        let q = Query {
            keep: Some(Arc::new(move |s: &Socket| {
                ours.contains(&s.inode) || path_of(s).is_some_and(|p| p.starts_with(&dir_text))
            })),
            ..unix_query(source)
        };
        let snap = Collector::new(q).snapshot().unwrap();
        snap.sockets
            .iter()
            .map(|s| (s.netid, s.inode, path_of(s).map(str::to_string)))
            .collect()
    };
    let netlink = read(SourcePref::Netlink);
    let proc = read(SourcePref::Proc);
    assert_eq!(netlink.len(), 3, "{netlink:?}");
    assert_eq!(proc, netlink);
    assert!(Path::new(&path).exists());
    drop(clients);
}
