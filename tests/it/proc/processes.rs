//! Process attribution: the cache on a fake /proc tree (symlinks `socket:[N]` in a tempdir),
//! and live on this test's own sockets.

use std::fs;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::Path;

use sockeye::collect::processes::ProcessCache;
use sockeye::collect::{NetidSet, Query, procfs};
use sockeye::model::{Endpoint, Netid, ProcessRef, Socket, TcpState};

fn socket(inode: u64) -> Socket {
    let peer = Endpoint::Unix {
        path: None,
        inode: 0,
    };
    Socket {
        inode,
        ..Socket::new(
            Netid::UnixStream,
            TcpState::Established,
            Endpoint::Unix { path: None, inode },
            peer,
        )
    }
}

/// A fake /proc/PID: `stat` naming `comm` and `ppid`, fds linking to sockets or files.
fn fake_process(root: &Path, pid: u32, comm: &str, ppid: u32, fds: &[(u32, &str)]) {
    let dir = root.join(pid.to_string());
    fs::create_dir_all(dir.join("fd")).unwrap();
    fs::write(
        dir.join("stat"),
        format!(
            "{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 84361 \
             3133440 383 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 1 1 1 1 1 1 1 0\n"
        ),
    )
    .unwrap();
    for (fd, target) in fds {
        add_fd(root, pid, *fd, target);
    }
}

fn add_fd(root: &Path, pid: u32, fd: u32, target: &str) {
    symlink(target, root.join(format!("{pid}/fd/{fd}"))).unwrap();
}

fn refs(cache: &ProcessCache, inode: u64) -> Vec<(String, u32, u32)> {
    let mut s = [socket(inode)];
    cache.attach(&mut s);
    s[0].processes
        .iter()
        .map(|p| (p.command.to_string(), p.pid, p.fd))
        .collect()
}

fn r(cmd: &str, pid: u32, fd: u32) -> (String, u32, u32) {
    (cmd.to_string(), pid, fd)
}

#[test]
fn fake_tree_attribution_and_cache_behaviour() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fake_process(
        root,
        100,
        "my server",
        1,
        &[
            (3, "socket:[123]"),
            (4, "/dev/null"),
            (5, "socket:[456]"),
            (6, "pipe:[77]"),
        ],
    );
    fake_process(root, 200, "worker", 100, &[(3, "socket:[123]")]);
    fake_process(root, 250, "idle", 1, &[(0, "/dev/null")]);
    fs::create_dir(root.join("self")).unwrap(); // not a pid: ignored
    fs::write(root.join("uptime"), "1 1\n").unwrap();

    let mut cache = ProcessCache::with_full_rescan_interval(None);
    let mut sockets = vec![socket(123), socket(456), socket(789), socket(0)];
    assert_eq!(cache.refresh(root, &sockets), None);
    cache.attach(&mut sockets);
    assert_eq!(
        sockets[0].processes.to_vec(),
        vec![
            ProcessRef {
                command: "my server".into(),
                pid: 100,
                fd: 3,
                nspid: None,
                proc_ctx: None,
                sock_ctx: None,
            },
            ProcessRef {
                command: "worker".into(),
                pid: 200,
                fd: 3,
                nspid: None,
                proc_ctx: None,
                sock_ctx: None,
            }
        ]
    );
    // One Arc per process, shared by all its sockets.
    assert!(std::sync::Arc::ptr_eq(
        &sockets[0].processes[0].command,
        &sockets[1].processes[0].command
    ));
    assert_eq!(refs(&cache, 456), vec![r("my server", 100, 5)]);
    assert!(refs(&cache, 789).is_empty());
    assert!(sockets[3].processes.is_empty());
    let s = cache.stats();
    assert_eq!((s.full_scans, s.last_pids_scanned), (1, 3));

    // Steady state: nothing new, nothing unknown (789 was looked for already): no scan.
    let sockets = vec![socket(123), socket(456), socket(789), socket(0)];
    cache.refresh(root, &sockets);
    assert_eq!(cache.stats().last_pids_scanned, 0);
    assert_eq!(cache.stats().refreshes, 2);

    // A known process opens a socket. Nobody is known to be accepting connections yet, so
    // the search waits one refresh (a socket seen once may already be gone under churn)...
    add_fd(root, 100, 7, "socket:[999]");
    let sockets = vec![socket(123), socket(999)];
    cache.refresh(root, &sockets);
    assert_eq!(cache.stats().last_pids_scanned, 0);
    assert!(refs(&cache, 999).is_empty());
    // ...then looks at socket holders, fewest sockets first (200 has 1, 100 has 2).
    cache.refresh(root, &sockets);
    assert_eq!(cache.stats().last_pids_scanned, 2);
    assert_eq!(refs(&cache, 999), vec![r("my server", 100, 7)]);

    // pid 100 is now known to gain sockets: its next new socket is found at once, alone,
    // reading the new fd's link and those of its two fds that are no socket (such a number
    // may hold a socket by now), not those holding sockets still in the snapshot.
    add_fd(root, 100, 10, "socket:[1001]");
    cache.refresh(root, &[socket(123), socket(456), socket(999), socket(1001)]);
    assert_eq!(cache.stats().last_pids_scanned, 1);
    assert_eq!(cache.stats().last_links_read, 3);
    assert_eq!(refs(&cache, 1001), vec![r("my server", 100, 10)]);
    assert_eq!(refs(&cache, 456), vec![r("my server", 100, 5)]);

    // An fd number reused for a new socket after its old socket closed (456 is gone from
    // the snapshot): that fd's link is read again (with the two that are no socket).
    fs::remove_file(root.join("100/fd/5")).unwrap();
    add_fd(root, 100, 5, "socket:[1002]");
    cache.refresh(
        root,
        &[socket(123), socket(999), socket(1001), socket(1002)],
    );
    assert_eq!(cache.stats().last_links_read, 3);
    assert_eq!(refs(&cache, 1002), vec![r("my server", 100, 5)]);
    assert!(refs(&cache, 456).is_empty());

    // A socket seen once and gone by the next refresh (churn) costs no wide search.
    cache.refresh(root, &[socket(7777)]);
    assert_eq!(cache.stats().last_pids_scanned, 1); // only the active pid 100
    cache.refresh(root, &[socket(123)]);
    assert_eq!(cache.stats().last_pids_scanned, 0);

    // A socket nobody holds: searched everywhere once on its second sighting, then never.
    let sockets = vec![socket(5555)];
    cache.refresh(root, &sockets);
    assert_eq!(cache.stats().last_pids_scanned, 1);
    cache.refresh(root, &sockets);
    // The active pid 100 lightly, then all three reading every link.
    assert_eq!(cache.stats().last_pids_scanned, 4);
    cache.refresh(root, &sockets);
    assert_eq!(cache.stats().last_pids_scanned, 0);

    // A new child sharing a socket its (known) parent opened before forking: the child is
    // scanned as new and the parent rescanned, so both are shown.
    add_fd(root, 100, 8, "socket:[1000]");
    fake_process(root, 300, "child", 100, &[(3, "socket:[1000]")]);
    cache.refresh(root, &[socket(1000)]);
    assert_eq!(cache.stats().last_pids_scanned, 2);
    assert_eq!(
        refs(&cache, 1000),
        vec![r("my server", 100, 8), r("child", 300, 3)]
    );

    // A process exits: its sockets lose it.
    fs::remove_dir_all(root.join("200")).unwrap();
    cache.refresh(root, &[socket(123)]);
    assert_eq!(refs(&cache, 123), vec![r("my server", 100, 3)]);
    assert_eq!(cache.stats().last_pids_scanned, 0);

    // A pid reused by another program (its /proc directory is new): scanned afresh.
    // (Built aside and renamed in, so the file system cannot hand out the old inode again.)
    let aside = tempfile::tempdir_in(root).unwrap();
    fake_process(aside.path(), 300, "reused", 1, &[(9, "socket:[1000]")]);
    fs::remove_dir_all(root.join("300")).unwrap();
    fs::rename(aside.path().join("300"), root.join("300")).unwrap();
    cache.refresh(root, &[socket(1000)]);
    assert_eq!(cache.stats().last_pids_scanned, 1);
    assert_eq!(
        refs(&cache, 1000),
        vec![r("my server", 100, 8), r("reused", 300, 9)]
    );
    assert_eq!(cache.stats().full_scans, 1);
}

#[test]
fn full_rescan_interval_drops_closed_fds() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fake_process(root, 10, "a", 1, &[(3, "socket:[1]")]);
    fake_process(root, 11, "b", 1, &[(3, "socket:[1]")]);
    let mut cache = ProcessCache::with_full_rescan_interval(Some(std::time::Duration::ZERO));
    cache.refresh(root, &[socket(1)]);
    assert_eq!(refs(&cache, 1).len(), 2);
    // b closes its copy while a keeps the socket alive: only a full rescan can notice.
    fs::remove_file(root.join("11/fd/3")).unwrap();
    cache.refresh(root, &[socket(1)]);
    assert_eq!(cache.stats().full_scans, 2);
    assert_eq!(refs(&cache, 1), vec![r("a", 10, 3)]);
}

#[test]
fn missing_proc_root_gives_a_note() {
    let mut cache = ProcessCache::default();
    let note = cache.refresh(Path::new("/nonexistent-sockeye-proc"), &[socket(1)]);
    assert!(note.unwrap().contains("cannot list"));
}

fn own_comm() -> String {
    fs::read_to_string("/proc/self/comm")
        .unwrap()
        .trim_end()
        .to_string()
}

fn inode_of(fd: i32) -> u64 {
    fs::metadata(format!("/proc/self/fd/{fd}")).unwrap().ino()
}

fn live_sockets(port: u16) -> Vec<Socket> {
    let q = Query {
        netids: NetidSet::of(&[Netid::Tcp, Netid::Udp]),
        keep: Some(std::sync::Arc::new(move |s: &Socket| {
            s.local_port() == Some(port) || s.peer_port() == Some(port)
        })),
        ..Query::default()
    };
    let mut out = Vec::new();
    procfs::read(
        &sockeye::collect::Host::current(),
        &q,
        &mut out,
        &mut Vec::new(),
        &mut 0,
    )
    .unwrap();
    out
}

#[test]
fn live_own_sockets_are_attributed_to_this_process() {
    let pid = std::process::id();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut cache = ProcessCache::with_full_rescan_interval(None);

    let mut sockets = live_sockets(port);
    cache.refresh(Path::new("/proc"), &sockets);
    cache.attach(&mut sockets);
    let l = sockets
        .iter()
        .find(|s| s.state == TcpState::Listen)
        .expect("listener in /proc/net/tcp");
    assert_eq!(l.inode, inode_of(listener.as_raw_fd()));
    assert_eq!(
        l.processes.to_vec(),
        vec![ProcessRef {
            command: own_comm().into(),
            pid,
            fd: listener.as_raw_fd() as u32,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        }]
    );

    // Sockets opened after the first refresh are found by the cached path too: this
    // process was not seen gaining sockets before, so by the second refresh that sees them.
    let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (server, _) = listener.accept().unwrap();
    let mut sockets = live_sockets(port);
    cache.refresh(Path::new("/proc"), &sockets);
    cache.refresh(Path::new("/proc"), &sockets);
    cache.attach(&mut sockets);
    for (stream, local_port) in [
        (&client, client.local_addr().unwrap().port()),
        (&server, port),
    ] {
        let s = sockets
            .iter()
            .find(|s| s.state == TcpState::Established && s.local_port() == Some(local_port))
            .expect("connection in /proc/net/tcp");
        assert_eq!(s.inode, inode_of(stream.as_raw_fd()));
        assert_eq!(s.processes.len(), 1, "{:?}", s.processes);
        assert_eq!(s.processes[0].pid, pid);
        assert_eq!(s.processes[0].fd, stream.as_raw_fd() as u32);
    }
}

#[test]
fn live_note_for_other_users_processes() {
    if crate::common::is_root() {
        // Root reads every /proc/PID/fd: check the same note through the binary run as user
        // nobody instead, so CI (root) runs this case too.
        if !crate::common::require_tool("setpriv", "util-linux") {
            return;
        }
        let o = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_sockeye"))
            .args(["--no-config", "dump", "-xlp"])
            .output()
            .expect("run setpriv");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert!(
            err.contains("processes of other users are not shown (run as root to see them)"),
            "{err}"
        );
        return;
    }
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sockets = live_sockets(udp.local_addr().unwrap().port());
    let mut cache = ProcessCache::default();
    let note = cache.refresh(Path::new("/proc"), &sockets);
    // pid 1 belongs to root on any machine this runs on.
    assert_eq!(
        note.as_deref(),
        Some("processes of other users are not shown (run as root to see them)")
    );
}

/// A periodic rescan lists every fd directory but reads only links it has no reason to trust;
/// a number closed and reused for another file while its old socket lives on elsewhere is
/// caught by the deep rescan, every DEEP_EVERY-th time.
#[test]
fn periodic_rescans_read_changed_links_only_and_deep_ones_catch_reused_numbers() {
    use sockeye::collect::processes::DEEP_EVERY;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fake_process(root, 10, "a", 1, &[(3, "socket:[1]"), (4, "socket:[2]")]);
    fake_process(root, 11, "b", 1, &[(3, "socket:[1]"), (5, "/dev/null")]);
    let socks = [socket(1), socket(2)];
    let mut cache = ProcessCache::with_full_rescan_interval(Some(std::time::Duration::ZERO));
    cache.refresh(root, &socks);
    assert_eq!(
        cache.stats().last_links_read,
        4,
        "the first scan reads every link"
    );

    cache.refresh(root, &socks);
    assert_eq!(cache.stats().full_scans, 2);
    assert_eq!(
        cache.stats().last_links_read,
        1,
        "nothing changed: only the fd that is no socket is read again"
    );

    // b opens a socket on a new number: that link is read too.
    add_fd(root, 11, 6, "socket:[3]");
    let socks = [socket(1), socket(2), socket(3)];
    cache.refresh(root, &socks);
    assert_eq!(cache.stats().last_links_read, 2);
    assert_eq!(refs(&cache, 3), vec![r("b", 11, 6)]);

    // b closes fd 3 and the number is reused for a file while a keeps socket 1: the light
    // rescans trust the number; the deep one reads it again.
    fs::remove_file(root.join("11/fd/3")).unwrap();
    add_fd(root, 11, 3, "/dev/null");
    while (cache.stats().full_scans + 1) % DEEP_EVERY != 1 {
        cache.refresh(root, &socks);
        assert_eq!(
            refs(&cache, 1).len(),
            2,
            "light rescan {}",
            cache.stats().full_scans
        );
    }
    cache.refresh(root, &socks);
    assert_eq!(
        cache.stats().last_links_read,
        5,
        "the deep rescan reads every link"
    );
    assert_eq!(refs(&cache, 1), vec![r("a", 10, 3)]);
}

/// `attribute` (one lookup per socket) attaches exactly what `refresh` + `attach` do, through
/// new processes, new sockets, exits, forks and periodic rescans.
#[test]
fn attribute_equals_refresh_then_attach() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut two_step = ProcessCache::with_full_rescan_interval(None);
    let mut one_step = ProcessCache::with_full_rescan_interval(None);
    let check = |two: &mut ProcessCache, one: &mut ProcessCache, inodes: &[u64], step: &str| {
        let mut a: Vec<Socket> = inodes.iter().map(|&i| socket(i)).collect();
        let mut b = a.clone();
        let na = two.refresh(root, &a);
        two.attach(&mut a);
        let nb = one.attribute(root, &mut b);
        assert_eq!(na, nb, "{step}");
        let owners = |v: &[Socket]| -> Vec<Vec<ProcessRef>> {
            v.iter().map(|s| s.processes.to_vec()).collect()
        };
        assert_eq!(owners(&a), owners(&b), "{step}");
    };
    fake_process(root, 10, "srv", 1, &[(3, "socket:[1]"), (4, "socket:[2]")]);
    check(&mut two_step, &mut one_step, &[1, 2, 0], "first scan");
    // A new socket in a known process, and a new process.
    add_fd(root, 10, 5, "socket:[3]");
    fake_process(root, 20, "cli", 1, &[(3, "socket:[4]")]);
    check(
        &mut two_step,
        &mut one_step,
        &[1, 2, 3, 4],
        "new socket and process",
    );
    // Unknown for two refreshes: looked for everywhere, then remembered as ownerless.
    check(
        &mut two_step,
        &mut one_step,
        &[1, 2, 3, 4, 99],
        "unknown once",
    );
    check(
        &mut two_step,
        &mut one_step,
        &[1, 2, 3, 4, 99],
        "unknown twice",
    );
    // A fork shares the sockets; then the server exits while the child keeps them.
    fake_process(
        root,
        30,
        "worker",
        10,
        &[(3, "socket:[1]"), (4, "socket:[2]")],
    );
    add_fd(root, 10, 6, "socket:[5]");
    check(&mut two_step, &mut one_step, &[1, 2, 3, 4, 5], "fork");
    fs::remove_dir_all(root.join("10")).unwrap();
    check(
        &mut two_step,
        &mut one_step,
        &[1, 2, 3, 4, 5],
        "server exited",
    );
    assert_eq!(refs(&one_step, 1), vec![r("worker", 30, 3)]);
}

/// A light periodic rescan is spread over refreshes: each reads about VERIFY_BUDGET fds.
#[test]
fn light_rescans_are_spread_over_refreshes() {
    use sockeye::collect::processes::VERIFY_BUDGET;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let per_process = VERIFY_BUDGET * 3 / 5; // two processes exhaust one refresh's budget
    for pid in [10, 11, 12] {
        fake_process(root, pid, "big", 1, &[(0, "socket:[1]")]);
        for fd in 1..per_process as u32 {
            add_fd(root, pid, fd, "/dev/null");
        }
    }
    let socks = [socket(1)];
    let mut cache = ProcessCache::with_full_rescan_interval(Some(std::time::Duration::ZERO));
    cache.refresh(root, &socks);
    assert_eq!(
        cache.stats().last_pids_scanned,
        3,
        "the first scan reads everything"
    );
    cache.refresh(root, &socks);
    assert_eq!(cache.stats().full_scans, 2);
    assert_eq!(cache.stats().last_pids_scanned, 2, "a budget's worth");
    // The round goes on where it stopped before a new one starts.
    cache.refresh(root, &socks);
    assert_eq!(cache.stats().full_scans, 2);
    assert_eq!(cache.stats().last_pids_scanned, 1);
    cache.refresh(root, &socks);
    assert_eq!(cache.stats().full_scans, 3);
    assert_eq!(cache.stats().last_pids_scanned, 2);
    assert_eq!(refs(&cache, 1).len(), 3);
}

/// Under churn (connections accepted and closed, fd numbers reused), every connection that
/// has lived through two refreshes is attributed, as the live view refreshes.
#[test]
fn live_churn_is_attributed_within_two_refreshes() {
    let pid = std::process::id();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut cache = ProcessCache::default();
    let mut pairs: Vec<(TcpStream, TcpStream)> = Vec::new();
    let mut age: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    for round in 0..12 {
        if pairs.len() >= 3 {
            pairs.remove(0); // both ends closed: their fd numbers are reused next
        }
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server, _) = listener.accept().unwrap();
        pairs.push((client, server));
        let mut sockets = live_sockets(port);
        cache.attribute(Path::new("/proc"), &mut sockets);
        for s in sockets.iter().filter(|s| s.inode != 0) {
            let seen = age.entry(s.inode).or_insert(0);
            *seen += 1;
            if *seen >= 2 {
                assert!(
                    s.processes.iter().any(|p| p.pid == pid),
                    "round {round}: {:?} {:?} has no owner after {} refreshes",
                    s.state,
                    (s.local_port(), s.peer_port()),
                    seen
                );
            }
        }
    }
}

/// A number that held a file a moment ago and now holds a socket is found: a light rescan
/// reads it again, and the search everywhere reads every link even of processes a light
/// rescan already looked at. (The collector watching its own process hits this all the time:
/// the directory it reads fds through is closed and its number goes to the next accept.)
#[test]
fn a_file_number_reused_for_a_socket_is_attributed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fake_process(root, 10, "srv", 1, &[(3, "socket:[1]"), (4, "/proc/10/fd")]);
    let mut cache = ProcessCache::with_full_rescan_interval(None);
    cache.refresh(root, &[socket(1)]);
    // srv accepts on a new number: found (one refresh late), and srv is now known active.
    add_fd(root, 10, 5, "socket:[2]");
    cache.refresh(root, &[socket(1), socket(2)]);
    cache.refresh(root, &[socket(1), socket(2)]);
    assert_eq!(refs(&cache, 2), vec![r("srv", 10, 5)]);
    // The directory on fd 4 is closed and the next accept gets number 4.
    fs::remove_file(root.join("10/fd/4")).unwrap();
    add_fd(root, 10, 4, "socket:[3]");
    cache.refresh(root, &[socket(1), socket(2), socket(3)]);
    assert_eq!(refs(&cache, 3), vec![r("srv", 10, 4)]);
}

/// The collector runs the check's slice on its own (beside the kernel dump); the refresh that
/// follows does not run another one.
#[test]
fn a_slice_run_beside_the_dump_is_not_repeated_by_the_refresh() {
    use sockeye::collect::processes::VERIFY_BUDGET;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let per_process = VERIFY_BUDGET * 3 / 5;
    for pid in [10, 11, 12] {
        fake_process(root, pid, "big", 1, &[(0, "socket:[1]")]);
        for fd in 1..per_process as u32 {
            add_fd(root, pid, fd, "socket:[9]");
        }
    }
    let mut socks = vec![socket(1)];
    let mut cache = ProcessCache::with_full_rescan_interval(Some(std::time::Duration::ZERO));
    cache.attribute(root, &mut socks); // first, full scan
    assert!(!cache.verifying());
    cache.attribute(root, &mut socks); // starts a check and runs its first slice (2 processes)
    assert!(cache.verifying());
    cache.verify_slice(root);
    assert_eq!(cache.stats().last_pids_scanned, 1);
    assert!(!cache.verifying());
    cache.attribute(root, &mut socks);
    assert_eq!(cache.stats().last_pids_scanned, 1, "the slice, not another");
    assert_eq!(socks[0].processes.len(), 3);
}

/// A pid seen before it execs (a shell that forks, then execs the server) keeps its pid and
/// /proc inode but changes its name: the sockets it then opens carry the new name, and so do
/// the ones it held already. (The cache read stat once per process, so the exporter's
/// `process` label named the server `bash`.)
#[test]
fn a_process_renamed_by_exec_is_named_anew_when_it_gains_a_socket() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fake_process(root, 10, "bash", 1, &[(0, "/dev/null"), (3, "socket:[1]")]);
    let mut cache = ProcessCache::with_full_rescan_interval(None);
    cache.refresh(root, &[socket(1)]);
    assert_eq!(refs(&cache, 1), vec![r("bash", 10, 3)]);
    // exec: same /proc/10, a new comm, then a listener.
    fake_process(root, 10, "my server", 1, &[(4, "socket:[2]")]);
    for _ in 0..2 {
        cache.refresh(root, &[socket(1), socket(2)]);
    }
    assert_eq!(refs(&cache, 2), vec![r("my server", 10, 4)]);
    assert_eq!(refs(&cache, 1), vec![r("my server", 10, 3)]);
}
