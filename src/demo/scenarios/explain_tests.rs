//! Each scenario's explanation against snapshots of what the kernel shows.

use std::net::{IpAddr, Ipv4Addr};
use std::time::SystemTime;

use super::{Kind, all, parse};
use crate::demo::view::port_view;
use crate::model::{Endpoint, Netid, Snapshot, Socket, Source, TcpState};

fn kind(name: &str) -> Kind {
    parse(name).unwrap()
}

fn now_line(k: Kind, v: &crate::demo::view::PortView, overflows: Option<u64>) -> String {
    let growth = super::Growth {
        listen_overflows: overflows,
        ..Default::default()
    };
    k.now_line(v, None, growth)
}

fn why(k: Kind, v: &crate::demo::view::PortView, st: Option<&super::ScenarioStatus>) -> String {
    k.why(v, st)
}

fn ep(port: u16) -> Endpoint {
    Endpoint::Inet {
        addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port,
    }
}

fn sock(state: TcpState, local: u16, peer: u16, rq: u32, sq: u32) -> Socket {
    Socket {
        recv_q: Some(rq),
        send_q: Some(sq),
        ..Socket::new(Netid::Tcp, state, ep(local), ep(peer))
    }
}

fn snap(sockets: Vec<Socket>) -> Snapshot {
    Snapshot::new(SystemTime::now(), Source::Netlink, sockets, None)
}

fn backlog_snapshot() -> Snapshot {
    let p = 7000;
    snap(vec![
        sock(TcpState::Listen, p, 0, 2, 1),
        sock(TcpState::Established, p, 50001, 0, 0),
        sock(TcpState::Established, p, 50002, 0, 0),
        sock(TcpState::Established, p, 50003, 8, 0),
        sock(TcpState::Established, 50001, p, 0, 0),
        sock(TcpState::Established, 50002, p, 0, 0),
        sock(TcpState::Established, 50003, p, 0, 0),
        sock(TcpState::SynSent, 50004, p, 0, 1),
        // Another port: ignored.
        sock(TcpState::TimeWait, 50005, 7001, 0, 0),
    ])
}

#[test]
fn backlog_view_counts_both_sides() {
    let v = port_view(&backlog_snapshot(), 7000);
    assert_eq!(v.listen_q, Some((Some(2), Some(1))));
    assert_eq!(v.server.established, 3);
    assert_eq!(v.client.established, 3);
    assert_eq!(v.client.syn_sent, 1);
    assert_eq!(v.server_max_recv_q, 8);
    assert_eq!(v.client.time_wait, 0);
    assert_eq!(
        now_line(kind("backlog"), &v, Some(4)),
        "LISTEN 2/1 · 3 ESTAB · 1 SYN-SENT · ListenOverflows +4"
    );
    let why = why(kind("backlog"), &v, None);
    assert!(
        why.starts_with("Recv-Q 2 on a listener with backlog 1"),
        "{why}"
    );
    assert!(why.contains("SYN-SENT"));
}

#[test]
fn unknown_listener_limit_is_a_dash_not_zero() {
    let mut s = backlog_snapshot();
    s.sockets[0].send_q = None;
    let v = port_view(&s, 7000);
    assert!(now_line(kind("backlog"), &v, None).starts_with("LISTEN 2/- "));
}

#[test]
fn every_scenario_has_a_line_and_a_reason() {
    let s = snap(vec![
        sock(TcpState::Listen, 7002, 0, 0, 16),
        sock(TcpState::CloseWait, 7002, 50010, 0, 0),
        sock(TcpState::CloseWait, 7002, 50011, 0, 0),
        sock(TcpState::FinWait2, 50010, 7002, 0, 0),
    ]);
    let v = port_view(&s, 7002);
    assert_eq!(v.server.close_wait, 2);
    assert_eq!(v.client.fin_wait, 1);
    assert!(now_line(kind("close-wait"), &v, None).contains("2 CLOSE-WAIT"));
    for k in all() {
        assert!(!now_line(k, &v, None).is_empty());
        assert!(why(k, &v, None).len() > 40);
    }
}
