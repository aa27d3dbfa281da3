//! Whole collections through the public collector API on a fake host: recorded netlink
//! answers (tests/fixtures/netlink), a /proc tree (tests/fixtures/proc/basic) with fake
//! processes, and the ss table made from the result.

use sockeye::collect::{Collector, Host, Query, SourcePref};
use sockeye::model::{Netid, Snapshot, Socket, Source, TcpState};
use sockeye::output::columns::CellCtx;
use sockeye::output::table::{TableOptions, ss_order, write_table};

use super::tree;

/// The fixture's processes: a server holding both TCP listeners (and a file), a forked
/// client holding one connection, a unix daemon.
fn with_processes(root: &std::path::Path) {
    tree::fake_process(
        root,
        100,
        "server",
        1,
        &[
            (3, "socket:[111632]"),
            (4, "socket:[111635]"),
            (5, "/dev/null"),
        ],
    );
    tree::fake_process(root, 200, "client", 100, &[(3, "socket:[111633]")]);
    tree::fake_process(root, 300, "unixd", 1, &[(7, "socket:[111671]")]);
}

fn collect(host: Host) -> Snapshot {
    let q = Query {
        processes: true,
        counters: true,
        ..Query::default()
    };
    Collector::on_host(q, host).snapshot().unwrap()
}

fn by_inode(snap: &Snapshot, inode: u64) -> &Socket {
    snap.sockets
        .iter()
        .find(|s| s.inode == inode)
        .unwrap_or_else(|| panic!("no socket with inode {inode}"))
}

fn holders(s: &Socket) -> Vec<(String, u32, u32)> {
    s.processes
        .iter()
        .map(|p| (p.command.to_string(), p.pid, p.fd))
        .collect()
}

#[test]
fn sockets_processes_and_counters_from_a_fake_host() {
    let root = tree::proc_tree("basic");
    with_processes(root.path());
    let snap = collect(tree::host(root.path()));

    assert_eq!(snap.source, Source::Netlink);
    assert_eq!(snap.fallback_reason, None);
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    assert_eq!(snap.skipped_records, 0);
    let count = |n: Netid| snap.sockets.iter().filter(|s| s.netid == n).count();
    assert_eq!(count(Netid::Tcp), 13);
    assert_eq!(count(Netid::Udp), 3);
    assert_eq!(count(Netid::UnixStream), 3);
    assert_eq!(count(Netid::UnixDgram), 1);

    // The full listener: two connections queued, limit 1 (netlink knows the limit).
    let l = by_inode(&snap, 111632);
    assert_eq!((l.state, l.local_port()), (TcpState::Listen, Some(40001)));
    assert_eq!((l.recv_q, l.send_q), (Some(2), Some(1)));
    assert_eq!(holders(l), vec![("server".to_string(), 100, 3)]);
    assert_eq!(
        holders(by_inode(&snap, 111635)),
        vec![("server".into(), 100, 4)]
    );
    assert_eq!(
        holders(by_inode(&snap, 111633)),
        vec![("client".into(), 200, 3)]
    );
    assert_eq!(
        holders(by_inode(&snap, 111671)),
        vec![("unixd".into(), 300, 7)]
    );
    // Nobody holds the rest; the queued connections have no inode and no process.
    assert!(holders(by_inode(&snap, 111636)).is_empty());
    assert!(
        snap.sockets
            .iter()
            .filter(|s| s.inode == 0)
            .all(|s| s.processes.is_empty())
    );
    assert_eq!(snap.process_note, None);

    let c = snap.counters.as_ref().unwrap();
    assert_eq!(c.curr_estab, Some(8));
    assert_eq!(c.active_opens, Some(34));
    assert_eq!(c.tcp_alloc, Some(13));
    assert_eq!(c.tcp6_inuse, Some(5));
    assert_eq!(c.somaxconn, Some(4096));
    assert_eq!(c.ip_local_port_range, Some((32768, 60999)));
}

/// The ss table of the fake host's TCP listeners and connections, with processes, against a
/// golden file (tests/fixtures/host/table.txt; `SOCKEYE_UPDATE_GOLDEN=1` rewrites it).
#[test]
fn golden_table_from_a_fake_host() {
    let root = tree::proc_tree("basic");
    with_processes(root.path());
    let mut snap = collect(tree::host(root.path()));
    ss_order(&mut snap.sockets);
    let opts = TableOptions {
        show_netid: true,
        show_state: true,
        header: true,
        processes: true,
        ..TableOptions::default()
    };
    let mut out = Vec::new();
    write_table(
        &mut out,
        &snap.sockets,
        &CellCtx::new(true, snap.source),
        &opts,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let golden = tree::fixtures().join("host/table.txt");
    if std::env::var_os("SOCKEYE_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &text).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(text, want);
}

/// Without netlink (refused, as under a sandbox) the same host is read from its /proc tree,
/// and the fallback says why.
#[test]
fn a_fake_host_without_netlink_falls_back_to_its_proc_tree() {
    let root = tree::proc_tree("basic");
    with_processes(root.path());
    let snap = collect(Host::fake(root.path()));
    assert_eq!(snap.source, Source::Proc);
    let reason = snap.fallback_reason.as_deref().unwrap();
    assert!(reason.contains("netlink"), "{reason}");
    let l = snap
        .sockets
        .iter()
        .find(|s| s.state == TcpState::Listen && s.local_port() == Some(57187))
        .unwrap();
    assert_eq!(l.send_q, None, "/proc cannot know a listener's limit");
    assert!(snap.counters.is_some());

    // Asked for netlink only, the refusal is an error.
    let q = Query {
        source: SourcePref::Netlink,
        ..Query::default()
    };
    let e = Collector::on_host(q, Host::fake(root.path()))
        .snapshot()
        .unwrap_err();
    assert!(e.to_string().contains("netlink"), "{e}");
}
