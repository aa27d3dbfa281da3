//! Snapshot → metrics text, on hand-built snapshots: every exposition must parse strictly.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::export::common::{Exposition, parse};
use sockeye::export::metrics::{ScrapeInfo, render};
use sockeye::model::{
    Endpoint, KernelCounters, Netid, ProcessRef, Snapshot, Socket, Source, TcpState,
};

fn inet(addr: IpAddr, port: u16) -> Endpoint {
    Endpoint::Inet { addr, port }
}

fn lo() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

fn any4() -> IpAddr {
    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
}

fn sock(netid: Netid, state: TcpState, local: Endpoint, peer: Endpoint) -> Socket {
    Socket {
        recv_q: Some(0),
        send_q: Some(0),
        uid: Some(0),
        ..Socket::new(netid, state, local, peer)
    }
}

fn tcp(state: TcpState, local_port: u16, peer_port: u16) -> Socket {
    sock(
        Netid::Tcp,
        state,
        inet(lo(), local_port),
        inet(lo(), peer_port),
    )
}

fn listener(addr: IpAddr, port: u16, len: Option<u32>, limit: Option<u32>, cmd: &str) -> Socket {
    let mut s = sock(
        Netid::Tcp,
        TcpState::Listen,
        inet(addr, port),
        inet(any4(), 0),
    );
    s.recv_q = len;
    s.send_q = limit;
    if !cmd.is_empty() {
        s.processes = vec![ProcessRef {
            command: Arc::from(cmd),
            pid: 4000,
            fd: 3,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        }]
        .into();
    }
    s
}

fn snapshot(sockets: Vec<Socket>, counters: Option<KernelCounters>) -> Snapshot {
    Snapshot {
        taken_at: SystemTime::now(),
        source: Source::Netlink,
        fallback_reason: None,
        sockets,
        counters,
        warnings: Vec::new(),
        skipped_records: 0,
        process_note: None,
        netns: None,
    }
}

fn scrape(snap: &Snapshot, top: usize) -> (String, Exposition) {
    let info = ScrapeInfo {
        collect_duration: Duration::from_millis(12),
        snapshot_age: Duration::from_millis(300),
        stale: false,
        collect_errors: 2,
        scrape_duration: Duration::from_millis(13),
        closed: None,
    };
    let text = render(snap, &info, top);
    let exp = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, exp)
}

fn labels<'a>(addr: &'a str, port: &'a str, process: &'a str) -> [(&'a str, &'a str); 3] {
    [("address", addr), ("port", port), ("process", process)]
}

#[test]
fn listener_queue_length_limit_and_syn_recv() {
    let mut syn = tcp(TcpState::SynRecv, 8080, 50001);
    syn.recv_q = Some(0);
    let snap = snapshot(
        vec![
            listener(lo(), 8080, Some(2), Some(1), "python3"),
            listener(any4(), 9090, Some(0), Some(4096), ""),
            syn,
            // Addressed to 10.0.0.1:9090, taken by the wildcard listener.
            sock(
                Netid::Tcp,
                TcpState::SynRecv,
                inet(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 9090),
                inet(lo(), 50002),
            ),
            tcp(TcpState::Established, 8080, 50003),
            tcp(TcpState::Established, 8080, 50004),
        ],
        None,
    );
    let (_, exp) = scrape(&snap, 20);
    let l = labels("127.0.0.1", "8080", "python3");
    assert_eq!(exp.value("sockeye_listen_queue_length", &l), Some(2.0));
    assert_eq!(exp.value("sockeye_listen_queue_limit", &l), Some(1.0));
    assert_eq!(exp.value("sockeye_listen_syn_recv", &l), Some(1.0));
    let w = labels("0.0.0.0", "9090", "");
    assert_eq!(exp.value("sockeye_listen_queue_limit", &w), Some(4096.0));
    assert_eq!(exp.value("sockeye_listen_syn_recv", &w), Some(1.0));
    assert_eq!(exp.series("sockeye_listen_queue_length").len(), 2);

    let state = |s: &str| exp.value("sockeye_sockets", &[("protocol", "tcp"), ("state", s)]);
    assert_eq!(state("LISTEN"), Some(2.0));
    assert_eq!(state("SYN-RECV"), Some(2.0));
    assert_eq!(state("ESTAB"), Some(2.0));
    // Every TCP state is present, absent ones as 0.
    assert_eq!(state("CLOSING"), Some(0.0));
    assert_eq!(
        exp.matching("sockeye_sockets", &[("protocol", "tcp")])
            .len(),
        11
    );
    assert_eq!(
        exp.value("sockeye_source_info", &[("source", "netlink")]),
        Some(1.0)
    );
    assert_eq!(exp.value("sockeye_collect_errors_total", &[]), Some(2.0));
    assert_eq!(exp.value("sockeye_snapshot_stale", &[]), Some(0.0));
    assert_eq!(
        exp.value("sockeye_collect_duration_seconds", &[]),
        Some(0.012)
    );
    assert_eq!(
        exp.family("sockeye_scrape_duration_seconds")
            .and_then(|f| f.unit.as_deref()),
        Some("seconds")
    );
}

#[test]
fn unknown_queue_limit_is_omitted_not_zero() {
    // As read from /proc: the accept-queue length is known, the limit is not.
    let mut snap = snapshot(vec![listener(lo(), 8080, Some(3), None, "nginx")], None);
    snap.source = Source::Proc;
    let (text, exp) = scrape(&snap, 20);
    let l = labels("127.0.0.1", "8080", "nginx");
    assert_eq!(exp.value("sockeye_listen_queue_length", &l), Some(3.0));
    assert_eq!(exp.value("sockeye_listen_queue_limit", &l), None);
    assert!(
        !text.contains("sockeye_listen_queue_limit"),
        "no limit family at all when no limit is known:\n{text}"
    );
    assert_eq!(
        exp.value("sockeye_source_info", &[("source", "proc")]),
        Some(1.0)
    );
}

#[test]
fn reuseport_listeners_sum_and_one_unknown_makes_the_sum_unknown() {
    let snap = snapshot(
        vec![
            listener(lo(), 8080, Some(1), Some(128), "nginx"),
            listener(lo(), 8080, Some(2), Some(128), "nginx"),
            listener(lo(), 8081, Some(1), Some(128), "nginx"),
            listener(lo(), 8081, Some(2), None, "nginx"),
        ],
        None,
    );
    let (_, exp) = scrape(&snap, 20);
    let a = labels("127.0.0.1", "8080", "nginx");
    assert_eq!(exp.value("sockeye_listen_queue_length", &a), Some(3.0));
    assert_eq!(exp.value("sockeye_listen_queue_limit", &a), Some(256.0));
    let b = labels("127.0.0.1", "8081", "nginx");
    assert_eq!(exp.value("sockeye_listen_queue_length", &b), Some(3.0));
    assert_eq!(exp.value("sockeye_listen_queue_limit", &b), None);
}

#[test]
fn shared_listener_names_each_command_once() {
    let mut l = listener(
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        443,
        Some(0),
        Some(511),
        "nginx",
    );
    let mut holders = l.processes.to_vec();
    for (cmd, pid) in [("nginx", 4001), ("nginx", 4002), ("haproxy", 77)] {
        holders.push(ProcessRef {
            command: Arc::from(cmd),
            pid,
            fd: 6,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        });
    }
    l.processes = holders.into();
    let (_, exp) = scrape(&snapshot(vec![l], None), 20);
    let lab = labels("::", "443", "haproxy,nginx");
    assert_eq!(exp.value("sockeye_listen_queue_limit", &lab), Some(511.0));
}

#[test]
fn byte_totals_count_connected_tcp_sockets_only() {
    let mut a = tcp(TcpState::Established, 8080, 50001);
    a.recv_q = Some(100);
    a.send_q = Some(7);
    let mut b = tcp(TcpState::CloseWait, 8080, 50002);
    b.recv_q = Some(6);
    b.send_q = Some(0);
    let mut c = tcp(TcpState::FinWait1, 50003, 8080);
    c.recv_q = Some(0);
    c.send_q = Some(1000);
    // A listener's queue fields are connections, not bytes: 5 waiting, limit 4096.
    let l = listener(lo(), 8080, Some(5), Some(4096), "srv");
    // UDP and unix queues are memory, not payload.
    let mut u = sock(
        Netid::Udp,
        TcpState::Close,
        inet(lo(), 5353),
        inet(any4(), 0),
    );
    u.recv_q = Some(832);
    let mut x = sock(
        Netid::UnixStream,
        TcpState::Established,
        Endpoint::Unix {
            path: None,
            inode: 1,
        },
        Endpoint::Unix {
            path: None,
            inode: 2,
        },
    );
    x.recv_q = Some(9999);
    // Unknown queues (unix from /proc) add nothing rather than failing the total.
    let mut d = tcp(TcpState::Established, 8080, 50004);
    d.recv_q = None;
    let (_, exp) = scrape(&snapshot(vec![a, b, c, l, u, x, d], None), 20);
    assert_eq!(exp.value("sockeye_tcp_recv_queue_bytes", &[]), Some(106.0));
    assert_eq!(exp.value("sockeye_tcp_send_queue_bytes", &[]), Some(1007.0));
    assert_eq!(
        exp.value(
            "sockeye_sockets",
            &[("protocol", "udp"), ("state", "UNCONN")]
        ),
        Some(1.0)
    );
    assert_eq!(
        exp.value(
            "sockeye_sockets",
            &[("protocol", "u_str"), ("state", "ESTAB")]
        ),
        Some(1.0)
    );
}

#[test]
fn top_ports_plus_other_bounds_cardinality_with_10000_ports() {
    let mut sockets = vec![
        listener(lo(), 80, Some(0), Some(128), "web"),
        listener(lo(), 443, Some(0), Some(128), "web"),
        listener(lo(), 8080, Some(0), Some(128), "api"),
    ];
    // 10,000 services this host was a client of, one TIME-WAIT each (from its ephemeral
    // ports)...
    for i in 0..10_000u16 {
        sockets.push(tcp(TcpState::TimeWait, 40_000 + i, 20_000 + i));
    }
    // ...plus two busy server ports.
    for i in 0..50u16 {
        sockets.push(tcp(TcpState::TimeWait, 80, 40_000 + i));
    }
    for i in 0..30u16 {
        sockets.push(tcp(TcpState::TimeWait, 443, 40_000 + i));
    }
    for i in 0..7u16 {
        sockets.push(tcp(TcpState::CloseWait, 8080, 41_000 + i));
    }
    let snap = snapshot(sockets, None);
    let (text, exp) = scrape(&snap, 5);
    let tw = exp.matching("sockeye_tcp_port_sockets", &[("state", "TIME-WAIT")]);
    assert_eq!(tw.len(), 6, "5 ports + other");
    let port = |state: &str, p: &str| {
        exp.value("sockeye_tcp_port_sockets", &[("state", state), ("port", p)])
    };
    assert_eq!(port("TIME-WAIT", "80"), Some(50.0));
    assert_eq!(port("TIME-WAIT", "443"), Some(30.0));
    // Ties are broken by port number: the three lowest service ports are named.
    assert_eq!(port("TIME-WAIT", "20000"), Some(1.0));
    assert_eq!(port("TIME-WAIT", "20002"), Some(1.0));
    assert_eq!(port("TIME-WAIT", "20003"), None);
    assert_eq!(port("TIME-WAIT", "other"), Some(9_997.0));
    let total: f64 = tw.iter().map(|s| s.value).sum();
    assert_eq!(total, 10_080.0, "nothing lost in the folding");
    assert_eq!(port("CLOSE-WAIT", "8080"), Some(7.0));
    assert_eq!(port("CLOSE-WAIT", "other"), Some(0.0));
    // The whole exposition stays small whatever the number of ports (the three listeners
    // bring their own series).
    assert!(exp.samples.len() < 80, "{} samples", exp.samples.len());
    assert!(text.len() < 8 * 1024, "{} bytes", text.len());

    // A client's churn toward one service is one series under that service's port, not a
    // series per ephemeral port that changes every scrape.
    let mut client = Vec::new();
    for i in 0..3_000u16 {
        client.push(tcp(TcpState::TimeWait, 40_000 + i, 5432));
    }
    client.push(tcp(TcpState::CloseWait, 39_999, 5432));
    let (_, c) = scrape(&snapshot(client, None), 5);
    let port = |state: &str, p: &str| {
        c.value("sockeye_tcp_port_sockets", &[("state", state), ("port", p)])
    };
    assert_eq!(port("TIME-WAIT", "5432"), Some(3_000.0));
    assert_eq!(port("CLOSE-WAIT", "5432"), Some(1.0));
    assert_eq!(
        c.matching("sockeye_tcp_port_sockets", &[("state", "TIME-WAIT")])
            .len(),
        2,
        "5432 and other"
    );

    let (_, none) = scrape(&snap, 0);
    assert_eq!(
        none.matching("sockeye_tcp_port_sockets", &[("state", "TIME-WAIT")])
            .len(),
        1,
        "--top-ports 0 leaves only other"
    );
}

#[test]
fn kernel_counters_and_limits() {
    let counters = KernelCounters {
        listen_overflows: Some(12),
        listen_drops: Some(15),
        retrans_segs: Some(3456),
        tcp_max_tw_buckets: Some(262_144),
        somaxconn: Some(4096),
        ip_local_port_range: Some((32768, 60999)),
        ..KernelCounters::default()
    };
    let (_, exp) = scrape(&snapshot(vec![], Some(counters)), 20);
    assert_eq!(
        exp.value("sockeye_tcp_listen_overflows_total", &[]),
        Some(12.0)
    );
    assert_eq!(exp.value("sockeye_tcp_listen_drops_total", &[]), Some(15.0));
    assert_eq!(
        exp.value("sockeye_tcp_retrans_segs_total", &[]),
        Some(3456.0)
    );
    assert_eq!(
        exp.family("sockeye_tcp_retrans_segs")
            .map(|f| f.kind.as_str()),
        Some("counter")
    );
    assert_eq!(
        exp.value("sockeye_tcp_max_tw_buckets", &[]),
        Some(262_144.0)
    );
    assert_eq!(exp.value("sockeye_somaxconn", &[]), Some(4096.0));
    assert_eq!(
        exp.value("sockeye_ephemeral_port_range_start", &[]),
        Some(32768.0)
    );
    assert_eq!(
        exp.value("sockeye_ephemeral_port_range_end", &[]),
        Some(60999.0)
    );
}

#[test]
fn missing_counters_are_omitted() {
    let partial = KernelCounters {
        retrans_segs: Some(1),
        ..KernelCounters::default()
    };
    let (text, exp) = scrape(&snapshot(vec![], Some(partial)), 20);
    assert_eq!(exp.value("sockeye_tcp_retrans_segs_total", &[]), Some(1.0));
    for absent in [
        "sockeye_tcp_listen_overflows",
        "sockeye_tcp_max_tw_buckets",
        "sockeye_ephemeral_port_range_start",
    ] {
        assert!(!text.contains(absent), "{absent} without a value:\n{text}");
    }
    let (text, _) = scrape(&snapshot(vec![], None), 20);
    assert!(!text.contains("sockeye_tcp_retrans_segs"));
}

#[test]
fn label_values_with_quotes_and_newlines_are_escaped() {
    let l = listener(lo(), 8080, Some(0), Some(1), "we\"ird\\na\nme");
    let (_, exp) = scrape(&snapshot(vec![l], None), 20);
    let lab = labels("127.0.0.1", "8080", "we\"ird\\na\nme");
    assert_eq!(exp.value("sockeye_listen_queue_limit", &lab), Some(1.0));
}

#[test]
fn stale_snapshots_are_marked() {
    let info = ScrapeInfo {
        stale: true,
        snapshot_age: Duration::from_secs(42),
        ..ScrapeInfo::default()
    };
    let text = render(&snapshot(vec![], None), &info, 20);
    let exp = parse(&text).unwrap();
    assert_eq!(exp.value("sockeye_snapshot_stale", &[]), Some(1.0));
    assert_eq!(exp.value("sockeye_snapshot_age_seconds", &[]), Some(42.0));
}

#[test]
fn host_network_containers_sockets_carry_their_container_label() {
    use sockeye::export::metrics::try_render;
    use sockeye::model::{Container, NetnsRead, NetnsReads, NetnsTag};
    let host = Arc::new(NetnsTag::new(4026531840, None, None));
    let web = Container {
        runtime: "docker",
        id: "a".repeat(64),
        name: Some("web".into()),
        ..Container::default()
    };
    // The collector's per-process tag: the host's namespace and label, the container's name.
    let guest = Arc::new(NetnsTag {
        container: Some(web),
        ..(*host).clone()
    });
    let mut sockets = Vec::new();
    for (port, tag) in [(22, &host), (8080, &guest), (8081, &guest)] {
        let mut s = listener(any4(), port, Some(0), Some(128), "");
        s.netns = Some(Arc::clone(tag));
        sockets.push(s);
    }
    let mut snap = snapshot(sockets, None);
    snap.netns = Some(Arc::new(NetnsReads {
        read: vec![NetnsRead {
            tag: Arc::clone(&host),
            source: Source::Netlink,
            fallback_reason: None,
            counters: None,
            sockets: 3,
        }],
        unreadable: Vec::new(),
    }));
    let info = ScrapeInfo::default();
    let text = try_render(&snap, &info, 10, 10).unwrap();
    let m = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let netns = host.label.as_str();
    let listen = |port: &str, container: &str| {
        let found = m.matching(
            "sockeye_listen_queue_limit",
            &[("port", port), ("netns", netns), ("container", container)],
        );
        found.first().map(|s| s.value)
    };
    assert_eq!(listen("22", ""), Some(128.0), "{text}");
    assert_eq!(listen("8080", "docker:web"), Some(128.0), "{text}");
    assert_eq!(listen("8081", "docker:web"), Some(128.0), "{text}");
    assert_eq!(listen("8080", ""), None, "{text}");
    let sockets = |container: &str| {
        m.value(
            "sockeye_sockets",
            &[
                ("protocol", "tcp"),
                ("state", "LISTEN"),
                ("netns", netns),
                ("container", container),
            ],
        )
    };
    assert_eq!(sockets(""), Some(1.0), "{text}");
    assert_eq!(sockets("docker:web"), Some(2.0), "{text}");
    // Bounded as namespaces are: with one scope labelled, the container's (the busiest)
    // keeps its own and the host's goes to other.
    let text = try_render(&snap, &info, 10, 1).unwrap();
    let m = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let other = [("port", "22"), ("netns", "other"), ("container", "other")];
    assert_eq!(
        m.matching("sockeye_listen_queue_limit", &other).len(),
        1,
        "{text}"
    );
}
