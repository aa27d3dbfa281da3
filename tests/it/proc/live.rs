//! The /proc source and counters on the live kernel, looking only at sockets this test makes.

use std::io::Write;
use std::net::{IpAddr, Ipv6Addr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockeye::collect::{NetidSet, Query, counters, procfs};
use sockeye::model::{Endpoint, Netid, Socket, TcpState, TimerKind};

fn inode_of(fd: i32) -> u64 {
    std::fs::metadata(format!("/proc/self/fd/{fd}"))
        .unwrap()
        .ino()
}

fn read(netids: &[Netid], keep: impl Fn(&Socket) -> bool + Send + Sync + 'static) -> Vec<Socket> {
    let q = Query {
        netids: NetidSet::of(netids),
        keep: Some(Arc::new(keep)),
        ..Query::default()
    };
    let mut out = Vec::new();
    // Other processes' lines are not ours to judge: skipped lines are not asserted on.
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

/// Poll (bounded) until `f` holds for what /proc shows.
fn eventually(mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "condition not reached in 5 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tcp_listener_and_connection_with_unread_bytes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (server, peer) = listener.accept().unwrap();
    client.write_all(b"12345678").unwrap();
    let uid = unsafe { libc::geteuid() };

    let mut sockets = Vec::new();
    eventually(|| {
        sockets = read(&[Netid::Tcp], move |s| s.local_port() == Some(port));
        sockets.iter().any(|s| s.recv_q == Some(8))
    });
    let l = sockets
        .iter()
        .find(|s| s.state == TcpState::Listen)
        .unwrap();
    assert_eq!((l.recv_q, l.send_q), (Some(0), None));
    assert_eq!(l.inode, inode_of(listener.as_raw_fd()));
    assert_eq!(l.uid, Some(uid));
    assert_eq!(
        l.local,
        Endpoint::Inet {
            addr: "127.0.0.1".parse().unwrap(),
            port
        }
    );
    let s = sockets
        .iter()
        .find(|s| s.state == TcpState::Established)
        .unwrap();
    assert_eq!((s.recv_q, s.send_q), (Some(8), Some(0)));
    assert_eq!(s.inode, inode_of(server.as_raw_fd()));
    assert_eq!(
        s.peer,
        Endpoint::Inet {
            addr: peer.ip(),
            port: peer.port()
        }
    );
    assert_eq!(s.timer.map(|t| t.kind), Some(TimerKind::Off));
    assert_eq!(
        (s.cookie, s.tcp_info.is_none(), s.memory.clone()),
        (None, true, None)
    );
}

#[test]
fn time_wait_has_a_timer_and_no_inode() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let client_port = client.local_addr().unwrap().port();
    let (server, _) = listener.accept().unwrap();
    let closed = std::time::Instant::now();
    drop(client); // active close: the client side ends in TIME-WAIT
    drop(server);
    let mut sockets = Vec::new();
    // By both ports: the kernel gives the same ephemeral port to connections towards other
    // listeners, and a busy machine has thousands of TIME-WAIT sockets.
    eventually(|| {
        sockets = read(&[Netid::Tcp], move |s| {
            s.local_port() == Some(client_port)
                && s.peer_port() == Some(port)
                && s.state == TcpState::TimeWait
        });
        !sockets.is_empty()
    });
    let waited = closed.elapsed().as_millis() as u64;
    let tw = &sockets[0];
    assert_eq!(tw.inode, 0);
    let t = tw.timer.unwrap();
    assert_eq!(t.kind, TimerKind::TimeWait);
    // 60 s minus the time this test took (however slow the machine), in clock ticks (10 ms).
    assert!(
        t.expires_ms <= 60_000 && t.expires_ms + waited + 20 >= 60_000,
        "{t:?} after {waited} ms"
    );
}

#[test]
fn ipv6_and_v4_mapped_peer() {
    let Ok(listener) = TcpListener::bind("[::]:0") else {
        crate::common::require(false, "no IPv6 here");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    // A dual-stack listener (the default unless bindv6only) sees a v4 client as ::ffff:a.b.c.d
    let Ok(client) = TcpStream::connect(("127.0.0.1", port)) else {
        crate::common::require(false, "a listener on :: is v6-only here");
        return;
    };
    let (_server, _) = listener.accept().unwrap();
    let cport = client.local_addr().unwrap().port();
    let sockets = read(&[Netid::Tcp], move |s| s.local_port() == Some(port));
    let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
    let s = sockets
        .iter()
        .find(|s| s.state == TcpState::Established)
        .unwrap();
    assert_eq!(
        s.peer,
        Endpoint::Inet {
            addr: mapped,
            port: cport
        }
    );
    let l = sockets
        .iter()
        .find(|s| s.state == TcpState::Listen)
        .unwrap();
    assert_eq!(
        l.local,
        Endpoint::Inet {
            addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            port
        }
    );
}

#[test]
fn udp_and_unix() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port();
    let sockets = read(&[Netid::Udp], move |s| s.local_port() == Some(port));
    assert_eq!(sockets.len(), 1);
    assert_eq!(sockets[0].state, TcpState::Close);
    assert_eq!(sockets[0].inode, inode_of(udp.as_raw_fd()));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live sock");
    let ul = UnixListener::bind(&path).unwrap();
    let inode = inode_of(ul.as_raw_fd());
    let sockets = read(&[Netid::UnixStream], move |s| s.inode == inode);
    assert_eq!(sockets.len(), 1);
    let s = &sockets[0];
    assert_eq!(s.state, TcpState::Listen);
    assert_eq!(
        s.local,
        Endpoint::Unix {
            path: Some(path.to_str().unwrap().into()),
            inode
        }
    );
    assert_eq!((s.recv_q, s.send_q), (None, None));
}

#[test]
fn live_counters_are_present() {
    let c = counters::read(&sockeye::collect::Host::current());
    assert!(c.active_opens.is_some() && c.curr_estab.is_some() && c.retrans_segs.is_some());
    assert!(c.listen_overflows.is_some() && c.listen_drops.is_some());
    assert!(c.sockets_used.is_some() && c.tcp_tw.is_some());
    assert!(c.somaxconn.is_some_and(|v| v > 0));
    assert!(c.tcp_max_tw_buckets.is_some());
    let (lo, hi) = c.ip_local_port_range.unwrap();
    assert!(lo <= hi);
}
