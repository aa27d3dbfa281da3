//! Retransmissions per peer: connections to one remote address whose retransmit timer is
//! backing off (the same segment sent again and again, the timeout doubling each time), or,
//! when tcp_info was collected, a high share of retransmitted segments over the window.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::tally::Scan;
use super::{Finding, Rule, Severity, SockKey, Thresholds, endpoint, key_of};
use crate::model::{Endpoint, Socket, TimerKind};

#[derive(Default)]
struct Peer<'a> {
    /// Connections backing off in the last snapshot: (retransmits, socket).
    backing_off: Vec<(u32, &'a Socket)>,
    /// Segments sent and retransmitted over the window (tcp_info, sockets in the first and
    /// the last snapshot).
    sent: u64,
    retransmitted: u64,
    connections: u64,
}

/// Per peer address: connections backing off at least `retrans_backoff_min` times
/// (critical at `retrans_backoff_critical`), or retransmitted/sent at least `retrans_ratio`
/// once `retrans_min_segs` were sent to it.
pub fn peer_retransmits(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let w = scan.window;
    let (Some(first), Some(last)) = (scan.first(), scan.last()) else {
        return vec![];
    };
    // tcp_info of the first snapshot, by socket (needed only when the last has some).
    let rates = first.with_info > 0 && last.with_info > 0;
    let before: FxHashMap<SockKey, (u32, u32)> = first
        .conns
        .iter()
        .filter(|_| rates)
        .filter_map(|s| {
            let i = s.tcp_info.as_deref()?;
            Some((key_of(s), (i.segs_out, i.total_retrans)))
        })
        .collect();
    // Only peers with something to report get an entry (most tables have none); their
    // connections are counted in a second pass. Without tcp_info at both ends of the window
    // only a retransmit timer can report, and the tally listed those sockets.
    let mut peers: FxHashMap<IpAddr, Peer> = FxHashMap::default();
    let candidates = if before.is_empty() {
        &last.retransmitting
    } else {
        &last.conns
    };
    for &s in candidates {
        let Endpoint::Inet { addr, .. } = s.peer else {
            continue;
        };
        if let Some(timer) = s.timer
            && timer.kind == TimerKind::Retransmit
            && u64::from(timer.retrans) >= t.retrans_backoff_min
        {
            peers
                .entry(addr)
                .or_default()
                .backing_off
                .push((timer.retrans, s));
        }
        if let (Some(i), Some(&(out0, re0))) = (s.tcp_info.as_deref(), before.get(&key_of(s)))
            // Counters of one socket only grow; a smaller value is another socket.
            && i.segs_out >= out0
            && i.total_retrans > re0
        {
            let p = peers.entry(addr).or_default();
            p.sent += u64::from(i.segs_out - out0);
            p.retransmitted += u64::from(i.total_retrans - re0);
        }
    }
    if peers.is_empty() {
        return vec![];
    }
    // What was sent without loss counts too, toward the same peers.
    for &s in &last.conns {
        let Endpoint::Inet { addr, .. } = s.peer else {
            continue;
        };
        let Some(p) = peers.get_mut(&addr) else {
            continue;
        };
        p.connections += 1;
        if let (Some(i), Some(&(out0, re0))) = (s.tcp_info.as_deref(), before.get(&key_of(s)))
            && i.segs_out >= out0
            && i.total_retrans == re0
        {
            p.sent += u64::from(i.segs_out - out0);
        }
    }
    let secs = w.seconds();
    let mut out = Vec::new();
    for (addr, mut p) in peers {
        let ratio = if p.sent > 0 {
            p.retransmitted as f64 / p.sent as f64
        } else {
            0.0
        };
        let lossy = p.sent >= t.retrans_min_segs && ratio >= t.retrans_ratio;
        if p.backing_off.is_empty() && !lossy {
            continue;
        }
        p.backing_off.sort_by_key(|b| std::cmp::Reverse(b.0));
        let worst = p.backing_off.first().map_or(0, |b| b.0);
        let critical = u64::from(worst) >= t.retrans_backoff_critical
            || (lossy && ratio >= 5.0 * t.retrans_ratio);
        let mut evidence = Vec::new();
        if !p.backing_off.is_empty() {
            evidence.push(format!(
                "{} of {} connection(s) with the retransmit timer backing off",
                p.backing_off.len(),
                p.connections
            ));
            for (n, s) in p.backing_off.iter().take(3) {
                let rto = s.timer.map_or(0, |t| t.expires_ms);
                evidence.push(format!(
                    "{} → {}: {n} retransmit(s) of one segment, next in {:.1} s",
                    endpoint(&s.local),
                    endpoint(&s.peer),
                    rto as f64 / 1000.0
                ));
            }
        }
        if p.sent > 0 {
            evidence.push(format!(
                "retransmitted {} of {} segments sent in {secs:.1} s ({:.1}%)",
                p.retransmitted,
                p.sent,
                ratio * 100.0
            ));
        }
        out.push(Finding {
            rule: Rule::PeerRetransmits,
            severity: if critical {
                Severity::Critical
            } else {
                Severity::Warning
            },
            place: format!("peer {addr}"),
            sockets: Some(format!("dst {}", super::addr_word(addr))),
            evidence,
            why: if p.backing_off.is_empty() {
                "Segments to this peer are lost and sent again: loss or congestion on the \
                 path to it."
                    .into()
            } else {
                "The same segment is sent again and again without an acknowledgement, the \
                 timeout doubling each time: the peer or the path to it is down, or a \
                 firewall drops the traffic. The connection ends after net.ipv4.tcp_retries2 \
                 attempts (about 15 minutes by default)."
                    .into()
            },
            action: "Check the path to the peer (ping, mtr, ip -s link for interface \
                     errors), whether the peer is up and answering, and firewalls between; \
                     TCP_USER_TIMEOUT bounds how long an application waits on a dead peer."
                .into(),
            threshold: format!(
                "retrans_backoff_min = {} retransmits of one segment (critical at \
                 retrans_backoff_critical = {}); retrans_ratio = {} once retrans_min_segs = {} \
                 were sent to the peer",
                t.retrans_backoff_min,
                t.retrans_backoff_critical,
                t.retrans_ratio,
                t.retrans_min_segs
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;
    use crate::model::TcpState;

    fn conn(peer: &str, port: u16, cookie: u64) -> Socket {
        tcp(TcpState::Established, ("10.0.0.1", port), (peer, 443)).cookie(cookie)
    }

    #[test]
    fn connections_backing_off_are_grouped_by_peer() {
        let round = |n: u32| {
            vec![
                conn("10.0.0.9", 40000, 1).retrans_timer(n),
                conn("10.0.0.9", 40001, 2).retrans_timer(n + 1),
                conn("10.0.0.9", 40002, 3),
                conn("10.0.0.7", 40003, 4).retrans_timer(1),
            ]
        };
        let snaps = window_of(vec![round(1), round(3)], None);
        let f = peer_retransmits(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].place, "peer 10.0.0.9");
        assert_eq!(f[0].sockets.as_deref(), Some("dst 10.0.0.9"));
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].evidence[0],
            "2 of 3 connection(s) with the retransmit timer backing off"
        );
        assert!(
            f[0].evidence[1].contains("4 retransmit(s)"),
            "{:?}",
            f[0].evidence
        );
        let snaps = window_of(vec![round(1), round(8)], None);
        let f = peer_retransmits(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f[0].severity, Severity::Critical);
        // A single retransmit is not backing off.
        let snaps = window_of(vec![round(0), round(1)], None);
        assert!(peer_retransmits(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }

    #[test]
    fn a_high_retransmit_share_toward_one_peer_with_tcp_info() {
        let snaps = window_of(
            vec![
                vec![conn("10.0.0.9", 40000, 1).segs(1000, 10)],
                vec![conn("10.0.0.9", 40000, 1).segs(3000, 110)],
            ],
            None,
        );
        let f = peer_retransmits(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert!(
            f[0].evidence[0].contains("retransmitted 100 of 2000 segments"),
            "{:?}",
            f[0].evidence
        );
        // Too few segments to judge.
        let snaps = window_of(
            vec![
                vec![conn("10.0.0.9", 40000, 1).segs(1000, 10)],
                vec![conn("10.0.0.9", 40000, 1).segs(1100, 50)],
            ],
            None,
        );
        assert!(peer_retransmits(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }
}
