//! Unit tests of the groupings and history rings.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::model::{Endpoint, Netid, Socket, TcpState};

fn inet(a: &str, port: u16) -> Endpoint {
    Endpoint::Inet {
        addr: a.parse().unwrap(),
        port,
    }
}

fn tcp(state: TcpState, local: Endpoint, peer: Endpoint) -> Socket {
    Socket {
        recv_q: Some(0),
        send_q: Some(0),
        inode: 1,
        uid: Some(0),
        ..Socket::new(Netid::Tcp, state, local, peer)
    }
}

fn any4() -> Endpoint {
    inet("0.0.0.0", 0)
}

#[test]
fn by_state_follows_lifecycle_and_puts_udp_unix_last() {
    let mut u = tcp(TcpState::Close, inet("0.0.0.0", 53), any4());
    u.netid = Netid::Udp;
    let mut x = tcp(
        TcpState::Established,
        Endpoint::Unix {
            path: None,
            inode: 5,
        },
        Endpoint::Unix {
            path: None,
            inode: 6,
        },
    );
    x.netid = Netid::UnixStream;
    let socks = vec![
        x,
        tcp(TcpState::TimeWait, inet("1.1.1.1", 1), inet("2.2.2.2", 2)),
        u,
        tcp(
            TcpState::Established,
            inet("1.1.1.1", 3),
            inet("2.2.2.2", 2),
        ),
        tcp(TcpState::Listen, inet("0.0.0.0", 80), any4()),
        tcp(TcpState::CloseWait, inet("1.1.1.1", 4), inet("2.2.2.2", 2)),
        tcp(
            TcpState::Established,
            inet("1.1.1.1", 5),
            inet("2.2.2.2", 2),
        ),
    ];
    let g = by_state(&socks);
    let keys: Vec<_> = g.iter().map(|g| g.key).collect();
    assert_eq!(
        keys,
        vec![
            StateGroupKey::Tcp(TcpState::Listen),
            StateGroupKey::Tcp(TcpState::Established),
            StateGroupKey::Tcp(TcpState::CloseWait),
            StateGroupKey::Tcp(TcpState::TimeWait),
            StateGroupKey::Udp,
            StateGroupKey::Unix,
        ]
    );
    assert_eq!(g[1].members, vec![3, 6]);
    let c = StateCounts::of(&socks);
    assert_eq!(c.tcp(TcpState::Established), 2);
    assert_eq!((c.udp, c.unix, c.total()), (1, 1, 7));
}

#[test]
fn accept_queue_full_only_above_limit() {
    let mut l = tcp(TcpState::Listen, inet("0.0.0.0", 80), any4());
    l.recv_q = Some(1);
    l.send_q = Some(1);
    assert!(!AcceptQueue::of(&l).is_full());
    l.recv_q = Some(2);
    assert!(AcceptQueue::of(&l).is_full());
    assert_eq!(AcceptQueue::of(&l).label(), "2/1");
    l.send_q = None;
    assert!(!AcceptQueue::of(&l).is_full());
    assert_eq!(AcceptQueue::of(&l).label(), "2/?");
    assert_eq!(AcceptQueue::of(&l).ratio(), None);
}

#[test]
fn listener_children_wildcard_dual_stack_and_outbound() {
    let socks = vec![
        // 0: v4 wildcard on 80
        tcp(TcpState::Listen, inet("0.0.0.0", 80), any4()),
        // 1: dual-stack :: on 8080
        tcp(TcpState::Listen, inet("::", 8080), inet("::", 0)),
        // 2: specific 127.0.0.1:80 beats the wildcard for loopback children
        tcp(TcpState::Listen, inet("127.0.0.1", 80), any4()),
        // 3: child of 2
        tcp(
            TcpState::Established,
            inet("127.0.0.1", 80),
            inet("127.0.0.1", 40000),
        ),
        // 4: child of 0
        tcp(
            TcpState::SynRecv,
            inet("10.0.0.1", 80),
            inet("10.0.0.2", 40001),
        ),
        // 5: v4-mapped child of the dual-stack listener
        tcp(
            TcpState::CloseWait,
            inet("::ffff:127.0.0.1", 8080),
            inet("::ffff:127.0.0.1", 40002),
        ),
        // 6: TIME-WAIT of listener 1
        tcp(TcpState::TimeWait, inet("::1", 8080), inet("::1", 40003)),
        // 7, 8: outbound to 127.0.0.1:80 (the client ends of loopback connections)
        tcp(
            TcpState::Established,
            inet("127.0.0.1", 40000),
            inet("127.0.0.1", 80),
        ),
        tcp(
            TcpState::TimeWait,
            inet("127.0.0.1", 40009),
            inet("127.0.0.1", 80),
        ),
        // 9: outbound to 1.1.1.1:443
        tcp(
            TcpState::FinWait2,
            inet("10.0.0.1", 50000),
            inet("1.1.1.1", 443),
        ),
    ];
    let t = by_listener(&socks);
    assert_eq!(t.listeners.len(), 3);
    // Ordered by port then address: 0.0.0.0:80, 127.0.0.1:80, :::8080.
    assert_eq!(t.listeners[0].listener, 0);
    assert_eq!(t.listeners[0].syn_recv, vec![4]);
    assert!(t.listeners[0].connections.is_empty());
    assert_eq!(t.listeners[1].listener, 2);
    assert_eq!(t.listeners[1].connections, vec![3]);
    assert_eq!(t.listeners[2].listener, 1);
    assert_eq!(t.listeners[2].connections, vec![5]);
    assert_eq!(t.listeners[2].close_wait, 1);
    assert_eq!(t.listeners[2].time_wait, 1);
    assert_eq!(t.outbound.len(), 2);
    assert_eq!(t.outbound[0].addr, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(t.outbound[0].port, 80);
    assert_eq!(t.outbound[0].members, vec![7]);
    assert_eq!(t.outbound[0].time_wait, 1);
    assert_eq!(t.outbound[1].port, 443);
}

#[test]
fn v6only_listener_does_not_take_ipv4() {
    let mut l6 = tcp(TcpState::Listen, inet("::", 80), inet("::", 0));
    l6.v6only = Some(true);
    let socks = vec![
        l6,
        tcp(
            TcpState::Established,
            inet("::ffff:10.0.0.1", 80),
            inet("::ffff:10.0.0.2", 1234),
        ),
    ];
    let t = by_listener(&socks);
    assert!(t.listeners[0].connections.is_empty());
    assert_eq!(t.outbound.len(), 1);
    assert_eq!(
        canonical(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    );
}

#[test]
fn history_ring_keeps_newest() {
    let mut r = HistoryRing::new(3);
    assert!(r.is_empty());
    for v in 1..=5 {
        r.push(v);
    }
    assert_eq!(r.iter().collect::<Vec<_>>(), vec![3, 4, 5]);
    assert_eq!(r.tail(2).collect::<Vec<_>>(), vec![4, 5]);
    assert_eq!((r.len(), r.max(), r.last()), (3, 5, Some(5)));
    assert_eq!(sparkline(r.iter()), "▅▇█");
    assert_eq!(sparkline([0u64, 0]), "▁▁");
    let mut h = StateHistory::new(2);
    let socks = vec![tcp(TcpState::TimeWait, inet("1.1.1.1", 1), any4())];
    h.push(&StateCounts::of(&socks));
    h.push(&StateCounts::of(&[]));
    assert_eq!(
        h.get(TcpState::TimeWait).iter().collect::<Vec<_>>(),
        vec![1, 0]
    );
}
