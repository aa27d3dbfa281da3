//! A netlink socket failing mid-dump, on the fake host: refusals (EPERM/EACCES from a
//! sandbox) fall back to /proc for good, announced once; overruns (ENOBUFS) are dumped again,
//! and a dump overrun every time is read from /proc for that snapshot only. The live view
//! and the exporter take snapshots in a loop on one collector, as the second snapshot here.

use sockeye::collect::netlink::OVERRUN_RETRIES;
use sockeye::collect::netlink::fake::FakeNetlink;
use sockeye::collect::{Collector, Host, Query, SourcePref};
use sockeye::model::Source;

use super::tree;

fn collector(root: &std::path::Path, kernel: &std::sync::Arc<FakeNetlink>, q: Query) -> Collector {
    Collector::on_host(
        q,
        Host::fake(root).with_netlink(std::sync::Arc::clone(kernel)),
    )
}

#[test]
fn refused_recv_mid_dump_falls_back_to_proc_for_good() {
    for errno in [libc::EPERM, libc::EACCES] {
        let root = tree::proc_tree("basic");
        let kernel = tree::recorded_netlink();
        kernel.fail_recv(2, errno);
        let mut c = collector(root.path(), &kernel, Query::default());
        let first = c.snapshot().unwrap();
        assert_eq!(first.source, Source::Proc);
        let reason = first.fallback_reason.clone().unwrap();
        assert!(reason.contains("refused"), "{reason}");
        assert!(!first.sockets.is_empty());
        // Only /proc's sockets: the fixture's /proc listener port, none of netlink's.
        assert!(first.sockets.iter().any(|s| s.local_port() == Some(57187)));
        assert!(!first.sockets.iter().any(|s| s.local_port() == Some(40001)));
        let recvs = kernel.recvs();
        let second = c.snapshot().unwrap();
        assert_eq!(second.source, Source::Proc);
        assert_eq!(second.fallback_reason.as_deref(), Some(reason.as_str()));
        assert_eq!(kernel.recvs(), recvs, "netlink is not asked again");
    }
}

#[test]
fn refused_recv_with_netlink_asked_for_is_an_error() {
    let root = tree::proc_tree("basic");
    let kernel = tree::recorded_netlink();
    kernel.fail_recv(1, libc::EPERM);
    let q = Query {
        source: SourcePref::Netlink,
        ..Query::default()
    };
    let e = collector(root.path(), &kernel, q).snapshot().unwrap_err();
    assert!(e.to_string().contains("refused"), "{e}");
}

#[test]
fn one_overrun_is_dumped_again() {
    let root = tree::proc_tree("basic");
    let kernel = tree::recorded_netlink();
    let clean = collector(root.path(), &kernel, Query::default())
        .snapshot()
        .unwrap();
    kernel.fail_recv(2, libc::ENOBUFS);
    let snap = collector(root.path(), &kernel, Query::default())
        .snapshot()
        .unwrap();
    assert_eq!(snap.source, Source::Netlink);
    assert_eq!(snap.fallback_reason, None);
    assert_eq!(snap.sockets.len(), clean.sockets.len());
    assert_eq!(snap.warnings.len(), 1, "{:?}", snap.warnings);
    assert!(snap.warnings[0].contains("ENOBUFS"));
}

#[test]
fn overrun_every_time_reads_proc_for_that_snapshot_only() {
    let root = tree::proc_tree("basic");
    let kernel = tree::recorded_netlink();
    for n in 1..=OVERRUN_RETRIES + 1 {
        kernel.fail_recv(n, libc::ENOBUFS);
    }
    let mut c = collector(root.path(), &kernel, Query::default());
    let first = c.snapshot().unwrap();
    assert_eq!(first.source, Source::Proc);
    assert_eq!(first.fallback_reason, None, "not a fallback for good");
    assert!(
        first.warnings.iter().any(|w| w.contains("overrun")),
        "{:?}",
        first.warnings
    );
    let second = c.snapshot().unwrap();
    assert_eq!(second.source, Source::Netlink);
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
}
