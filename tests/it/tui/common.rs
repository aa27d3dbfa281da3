//! Fixture snapshots for the live view's tests: built in code, no live sockets.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sockeye::model::*;
use sockeye::tui::state::App;
use sockeye::tui::{QuerySpec, TuiSettings};

pub fn inet(a: &str, port: u16) -> Endpoint {
    Endpoint::Inet {
        addr: a.parse().unwrap(),
        port,
    }
}

pub fn tcp(state: TcpState, local: Endpoint, peer: Endpoint, q: (u32, u32)) -> Socket {
    Socket {
        recv_q: Some(q.0),
        send_q: Some(q.1),
        inode: 1000,
        uid: Some(1000),
        ..Socket::new(Netid::Tcp, state, local, peer)
    }
}

pub fn owned(mut s: Socket, cmd: &str, pid: u32, fd: u32) -> Socket {
    s.processes = vec![ProcessRef {
        command: Arc::from(cmd),
        pid,
        fd,
        nspid: None,
        proc_ctx: None,
        sock_ctx: None,
    }]
    .into();
    s
}

pub fn with_cookie(mut s: Socket, c: u64) -> Socket {
    s.cookie = Some(c);
    s
}

/// A small but varied machine: a full listen(1) backlog, a dual-stack listener, unread data,
/// a CLOSE-WAIT leak, TIME-WAIT, outbound connections, UDP and unix.
pub fn sockets() -> Vec<Socket> {
    let any4 = || inet("0.0.0.0", 0);
    let mut v = Vec::new();
    // backlog: listen(1) with 2 waiting (full), one served.
    v.push(with_cookie(
        owned(
            tcp(TcpState::Listen, inet("127.0.0.1", 7001), any4(), (2, 1)),
            "demo",
            4000,
            3,
        ),
        1,
    ));
    v.push(with_cookie(
        owned(
            tcp(
                TcpState::Established,
                inet("127.0.0.1", 7001),
                inet("127.0.0.1", 50001),
                (0, 0),
            ),
            "demo",
            4000,
            7,
        ),
        2,
    ));
    for (c, port) in [(3, 50002), (4, 50003)] {
        let mut s = tcp(
            TcpState::Established,
            inet("127.0.0.1", 7001),
            inet("127.0.0.1", port),
            (0, 0),
        );
        s.inode = 0; // not accepted yet
        v.push(with_cookie(s, c));
    }
    let mut syn = tcp(
        TcpState::SynRecv,
        inet("127.0.0.1", 7001),
        inet("127.0.0.1", 50005),
        (0, 0),
    );
    syn.inode = 0;
    v.push(with_cookie(syn, 5));
    // dual-stack web server on :: with an unread request and a CLOSE-WAIT leak.
    v.push(with_cookie(
        owned(
            tcp(TcpState::Listen, inet("::", 8080), inet("::", 0), (0, 128)),
            "web",
            4100,
            5,
        ),
        10,
    ));
    v.push(with_cookie(
        owned(
            tcp(
                TcpState::Established,
                inet("::ffff:127.0.0.1", 8080),
                inet("::ffff:127.0.0.1", 51000),
                (8, 0),
            ),
            "web",
            4100,
            8,
        ),
        11,
    ));
    for (c, port) in [(12, 51001), (13, 51002), (14, 51003)] {
        v.push(with_cookie(
            owned(
                tcp(
                    TcpState::CloseWait,
                    inet("::1", 8080),
                    inet("::1", port),
                    (1, 0),
                ),
                "web",
                4100,
                9 + c as u32,
            ),
            c,
        ));
    }
    let mut tw = tcp(
        TcpState::TimeWait,
        inet("::1", 8080),
        inet("::1", 51010),
        (0, 0),
    );
    tw.inode = 0;
    tw.uid = Some(0);
    v.push(with_cookie(tw, 15));
    // outbound: a client streaming to a remote HTTPS server, with unacked data.
    v.push(with_cookie(
        owned(
            tcp(
                TcpState::Established,
                inet("10.0.0.5", 41000),
                inet("93.184.216.34", 443),
                (0, 120_000),
            ),
            "curl",
            4200,
            4,
        ),
        20,
    ));
    v.push(with_cookie(
        owned(
            tcp(
                TcpState::FinWait2,
                inet("10.0.0.5", 41001),
                inet("93.184.216.34", 443),
                (0, 0),
            ),
            "curl",
            4200,
            5,
        ),
        21,
    ));
    for (c, port) in [(22, 42000), (23, 42001), (24, 42002)] {
        let mut s = tcp(
            TcpState::TimeWait,
            inet("127.0.0.1", port),
            inet("127.0.0.1", 8080),
            (0, 0),
        );
        s.inode = 0;
        v.push(with_cookie(s, c));
    }
    v.push(with_cookie(
        owned(
            tcp(
                TcpState::SynSent,
                inet("127.0.0.1", 50004),
                inet("127.0.0.1", 7001),
                (0, 1),
            ),
            "demo",
            4000,
            11,
        ),
        25,
    ));
    // UDP and unix.
    let mut dns = tcp(TcpState::Close, inet("127.0.0.53", 53), any4(), (0, 0));
    dns.netid = Netid::Udp;
    v.push(with_cookie(owned(dns, "resolved", 300, 12), 30));
    let mut ux = tcp(
        TcpState::Listen,
        Endpoint::Unix {
            path: Some("/run/demo.sock".into()),
            inode: 777,
        },
        Endpoint::Unix {
            path: None,
            inode: 0,
        },
        (0, 4096),
    );
    ux.netid = Netid::UnixStream;
    v.push(with_cookie(owned(ux, "demo", 4000, 6), 31));
    v
}

pub fn snapshot(sockets: Vec<Socket>, at_secs: u64) -> Snapshot {
    Snapshot {
        taken_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + at_secs),
        source: Source::Netlink,
        fallback_reason: None,
        sockets,
        counters: Some(KernelCounters {
            listen_overflows: Some(10 + at_secs * 3),
            listen_drops: Some(10 + at_secs * 3),
            retrans_segs: Some(500),
            tcp_max_tw_buckets: Some(262_144),
            ip_local_port_range: Some((32768, 60999)),
            ..KernelCounters::default()
        }),
        warnings: Vec::new(),
        skipped_records: 0,
        process_note: None,
        netns: None,
    }
}

/// An app that has seen two refreshes of the fixture: the second adds a connection and
/// moves a queue, so change marks show.
pub fn app(settings: TuiSettings) -> App {
    let mut app = App::new(settings, QuerySpec::default());
    app.hostname = "testhost".into();
    app.apply_snapshot(snapshot(sockets(), 0), Some(Duration::from_millis(7)));
    let mut second = sockets();
    second[6].recv_q = Some(16); // more unread bytes
    second.push(with_cookie(
        owned(
            tcp(
                TcpState::CloseWait,
                inet("::1", 8080),
                inet("::1", 51004),
                (1, 0),
            ),
            "web",
            4100,
            30,
        ),
        16,
    ));
    app.apply_snapshot(snapshot(second, 1), Some(Duration::from_millis(9)));
    app
}
