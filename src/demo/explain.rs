//! What the kernel shows for each scenario right now, and why, in a sentence or two. Pure
//! functions of a snapshot and the demo's status, so the attach panel only draws.

use crate::model::{Snapshot, Socket, TcpState};

use super::scenarios::{Kind, ScenarioStatus};

/// The kernel's view of one scenario's port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortView {
    /// The listener's Recv-Q (accept queue now) and Send-Q (its limit).
    pub listen_q: Option<(Option<u32>, Option<u32>)>,
    /// Server side (local port = the scenario's): by state.
    pub server: StateCounts,
    /// Client side (peer port = the scenario's): by state.
    pub client: StateCounts,
    /// Largest Recv-Q / Send-Q on the server side (connections, not the listener).
    pub server_max_recv_q: u32,
    pub server_max_send_q: u32,
    /// Largest Recv-Q on the client side.
    pub client_max_recv_q: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub established: usize,
    pub syn_sent: usize,
    pub close_wait: usize,
    pub fin_wait: usize,
    pub time_wait: usize,
    pub other: usize,
}

impl StateCounts {
    fn add(&mut self, s: TcpState) {
        match s {
            TcpState::Established => self.established += 1,
            TcpState::SynSent => self.syn_sent += 1,
            TcpState::CloseWait => self.close_wait += 1,
            TcpState::FinWait1 | TcpState::FinWait2 => self.fin_wait += 1,
            TcpState::TimeWait => self.time_wait += 1,
            _ => self.other += 1,
        }
    }
}

/// Gather what the snapshot holds about `port` (TCP only).
pub fn port_view(snapshot: &Snapshot, port: u16) -> PortView {
    let mut v = PortView::default();
    for s in snapshot.sockets.iter().filter(|s| s.netid.is_inet()) {
        if !is_tcp(s) {
            continue;
        }
        if s.state == TcpState::Listen {
            if s.local_port() == Some(port) {
                v.listen_q = Some((s.recv_q, s.send_q));
            }
            continue;
        }
        if s.local_port() == Some(port) {
            v.server.add(s.state);
            v.server_max_recv_q = v.server_max_recv_q.max(s.recv_q.unwrap_or(0));
            v.server_max_send_q = v.server_max_send_q.max(s.send_q.unwrap_or(0));
        } else if s.peer_port() == Some(port) {
            v.client.add(s.state);
            v.client_max_recv_q = v.client_max_recv_q.max(s.recv_q.unwrap_or(0));
        }
    }
    v
}

fn is_tcp(s: &Socket) -> bool {
    s.netid == crate::model::Netid::Tcp
}

fn q(v: Option<u32>) -> String {
    v.map_or_else(|| "-".to_string(), |n| n.to_string())
}

/// One line: what the kernel shows now. `overflows` is ListenOverflows growth since attach.
pub fn now_line(kind: Kind, v: &PortView, overflows: Option<u64>) -> String {
    let listener = match v.listen_q {
        Some((r, s)) => format!("LISTEN {}/{}", q(r), q(s)),
        None => "no listener".to_string(),
    };
    match kind {
        Kind::Backlog => {
            let mut line = format!(
                "{listener} · {} ESTAB · {} SYN-SENT",
                v.server.established, v.client.syn_sent
            );
            if let Some(n) = overflows {
                line.push_str(&format!(" · ListenOverflows +{n}"));
            }
            line
        }
        Kind::Unread => format!(
            "{listener} · {} ESTAB · max Recv-Q {}",
            v.server.established, v.server_max_recv_q
        ),
        Kind::CloseWait => format!(
            "{listener} · {} CLOSE-WAIT · {} FIN-WAIT (clients)",
            v.server.close_wait, v.client.fin_wait
        ),
        Kind::TimeWait => format!(
            "{listener} · {} TIME-WAIT (clients) · {} ESTAB",
            v.client.time_wait,
            v.client.established + v.server.established
        ),
        Kind::SendQ => format!(
            "{listener} · server Send-Q {} · client Recv-Q {}",
            v.server_max_send_q, v.client_max_recv_q
        ),
        Kind::Echo => format!(
            "{listener} · {} ESTAB · max Recv-Q {} · {} TIME-WAIT",
            v.server.established + v.client.established,
            v.server_max_recv_q.max(v.client_max_recv_q),
            v.client.time_wait
        ),
    }
}

/// One or two sentences: why the kernel shows that.
pub fn why(kind: Kind, v: &PortView, status: Option<&ScenarioStatus>) -> String {
    let accepting = status.is_none_or(|s| s.accepting);
    match kind {
        Kind::Backlog => {
            let (queued, limit) = match v.listen_q {
                Some((Some(r), Some(s))) => (r, s),
                _ => (0, 1),
            };
            if queued > limit {
                format!(
                    "Recv-Q {queued} on a listener with backlog {limit}: the kernel queues \
                     backlog+1 connections and drops the next SYN, so the fourth client waits \
                     in SYN-SENT and retransmits (each drop counts in ListenOverflows)."
                )
            } else if !accepting {
                format!(
                    "The server is not calling accept(): finished handshakes wait in the accept \
                     queue (Recv-Q {queued}, limit {limit}) — connected for the client, unknown \
                     to the application (inode 0)."
                )
            } else {
                format!(
                    "A single-threaded server serves one client; the others wait in the accept \
                     queue (Recv-Q {queued} of limit {limit}). Add clients to overflow it."
                )
            }
        }
        Kind::Unread => format!(
            "Recv-Q {} on the server's socket: bytes the kernel received and acknowledged \
             but the application never read (hello!\\r\\n is 8 bytes). The sender saw success.",
            v.server_max_recv_q
        ),
        Kind::CloseWait => format!(
            "{} CLOSE-WAIT: the clients closed (their FIN arrived) but the server never calls \
             close(), so each socket waits forever; the clients' halves give up after \
             tcp_fin_timeout (60 s) in FIN-WAIT-2.",
            v.server.close_wait
        ),
        Kind::TimeWait => {
            let rate = status.and_then(|s| s.rate).unwrap_or(0.0);
            format!(
                "{} TIME-WAIT: the side that closes first keeps the connection for 60 s so \
                 late segments cannot corrupt a new one; at {rate}/s the count settles near \
                 {:.0}. No process owns them (inode 0).",
                v.client.time_wait,
                rate * 60.0
            )
        }
        Kind::SendQ => format!(
            "Send-Q {} on the server: bytes sent but not acknowledged. The client never reads, \
             its receive buffer is full (Recv-Q {}) and it advertises a zero window, so the \
             server's data waits.",
            v.server_max_send_q, v.client_max_recv_q
        ),
        Kind::Echo => format!(
            "Healthy: an event-driven server reads each socket as soon as poll() says it is \
             ready, so queues stay at 0. Clients that leave close first: {} short-lived \
             TIME-WAIT on their side is normal.",
            v.client.time_wait
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Netid, Source};
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::SystemTime;

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
        Snapshot {
            taken_at: SystemTime::now(),
            source: Source::Netlink,
            fallback_reason: None,
            sockets,
            counters: None,
            warnings: Vec::new(),
            skipped_records: 0,
            process_note: None,
        }
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
            now_line(Kind::Backlog, &v, Some(4)),
            "LISTEN 2/1 · 3 ESTAB · 1 SYN-SENT · ListenOverflows +4"
        );
        let why = why(Kind::Backlog, &v, None);
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
        assert!(now_line(Kind::Backlog, &v, None).starts_with("LISTEN 2/- "));
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
        assert!(now_line(Kind::CloseWait, &v, None).contains("2 CLOSE-WAIT"));
        for k in Kind::ALL {
            assert!(!now_line(k, &v, None).is_empty());
            assert!(why(k, &v, None).len() > 40);
        }
    }
}
