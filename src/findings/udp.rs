//! UDP receive-buffer drops: a socket whose drop count rises or whose queue reaches its
//! receive buffer (both need socket memory, `-m`), and host-wide RcvbufErrors rising.

use rustc_hash::FxHashMap;

use super::tally::Scan;
use super::{Finding, Rule, Severity, SockKey, Thresholds, endpoint, filter_word, holder, key_of};
use crate::model::{Netid, Socket};

const WHY_DROPS: &str = "Datagrams arrive faster than the application reads them: once the \
                         receive queue reaches the socket's buffer (SO_RCVBUF), the kernel \
                         drops every new one (RcvbufErrors). UDP does not retransmit: the data \
                         is lost.";
const WHAT_TO_DO: &str = "Read faster (more reader threads, SO_REUSEPORT sockets, recvmmsg) or \
                          give the socket a larger buffer (SO_RCVBUF, up to net.core.rmem_max; \
                          net.core.rmem_default for sockets that do not ask).";

/// Per socket: drops rising over the window (critical), or the queue at its buffer in the
/// last snapshot (warning). Host-wide, RcvbufErrors rising when the selection is the host's
/// UDP table and no socket explains it.
pub fn receive_drops(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let w = scan.window;
    let mut out = Vec::new();
    let secs = w.seconds();
    // Per socket: the first drop count seen, the last snapshot it was in, the socket then.
    let n = scan.tallies.len();
    let mut per: FxHashMap<SockKey, (Option<u32>, usize, &Socket)> = FxHashMap::default();
    for (i, tally) in scan.tallies.iter().enumerate() {
        for &s in &tally.udp {
            let drops = s.memory.as_ref().map(|m| m.drops);
            per.entry(key_of(s))
                .and_modify(|e| {
                    e.0 = e.0.or(drops);
                    e.1 = i;
                    e.2 = s;
                })
                .or_insert((drops, i, s));
        }
    }
    let mut socks: Vec<(u64, f64, &Socket)> = Vec::new();
    for (first_drops, seen, s) in per.into_values() {
        // Only sockets still there at the end.
        if seen + 1 != n {
            continue;
        }
        let Some(m) = s.memory.as_deref() else {
            continue;
        };
        let dropped = u64::from(m.drops.saturating_sub(first_drops.unwrap_or(m.drops)));
        let fill = if m.rcvbuf > 0 {
            f64::from(m.rmem_alloc) / f64::from(m.rcvbuf)
        } else {
            0.0
        };
        if dropped >= t.udp_drops_min || fill >= t.udp_rcvbuf_ratio {
            socks.push((dropped, fill, s));
        }
    }
    socks.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)));
    let explained = !socks.is_empty();
    for (dropped, fill, s) in socks {
        let Some(m) = s.memory.as_deref() else {
            continue;
        };
        let mut evidence = vec![format!(
            "receive queue {} of buffer {} bytes ({:.0}%)",
            m.rmem_alloc,
            m.rcvbuf,
            fill * 100.0
        )];
        evidence.push(format!(
            "drops: +{dropped} in {secs:.1} s ({} since the socket was made)",
            m.drops
        ));
        let place = match holder(s) {
            h if h.is_empty() => format!("udp {}", endpoint(&s.local)),
            h => format!("udp {} ({h})", endpoint(&s.local)),
        };
        let sockets = filter_word(&s.local).map(|l| format!("src {l}"));
        out.push(Finding {
            rule: Rule::UdpReceiveDrops,
            sockets,
            severity: if dropped >= t.udp_drops_min {
                Severity::Critical
            } else {
                Severity::Warning
            },
            place,
            evidence,
            why: if dropped >= t.udp_drops_min {
                WHY_DROPS.into()
            } else {
                "The receive queue is at the socket's buffer (SO_RCVBUF): the application \
                 reads more slowly than datagrams arrive, and the next burst is dropped."
                    .into()
            },
            action: WHAT_TO_DO.into(),
            threshold: format!(
                "udp_drops_min = {} drops in the window (critical); udp_rcvbuf_ratio = {} of \
                 the receive buffer (warning)",
                t.udp_drops_min, t.udp_rcvbuf_ratio
            ),
        });
    }
    if !explained
        && w.host_wide(Netid::Udp)
        && let Some(errors) = w.rise(|c| c.udp_rcvbuf_errors)
        && errors >= t.udp_drops_min
    {
        let c = w.counters();
        let mut evidence = vec![format!(
            "RcvbufErrors +{errors} in {secs:.1} s (UDP and UDP6)"
        )];
        if let Some(c) = c
            && let (Some(d), Some(m)) = (c.rmem_default, c.rmem_max)
        {
            evidence.push(format!("net.core.rmem_default {d}, net.core.rmem_max {m}"));
        }
        out.push(Finding {
            rule: Rule::UdpReceiveDrops,
            severity: Severity::Warning,
            place: "host".into(),
            sockets: None,
            evidence,
            why: format!(
                "{WHY_DROPS} Which socket is not known here: socket memory (-m) names it."
            ),
            action: format!(
                "Find the socket: sockeye dump -uam shows each one's queue, buffer and drops \
                 (d). {WHAT_TO_DO}"
            ),
            threshold: format!(
                "udp_drops_min = {} RcvbufErrors in the window",
                t.udp_drops_min
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;
    use crate::findings::Window;

    fn sock(rmem: u32, drops: u32) -> Socket {
        udp(("127.0.0.1", 5353))
            .cookie(9)
            .owned("dns", 4)
            .mem(rmem, 212_992, drops)
    }

    #[test]
    fn rising_drops_are_critical_and_a_full_buffer_warns() {
        let snaps = window_of(vec![vec![sock(212_000, 10)], vec![sock(212_000, 25)]], None);
        let f = receive_drops(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].place, "udp 127.0.0.1:5353 (dns pid 4)");
        assert_eq!(f[0].sockets.as_deref(), Some("src 127.0.0.1:5353"));
        assert!(
            f[0].evidence[1].contains("drops: +15"),
            "{:?}",
            f[0].evidence
        );
        assert!(f[0].threshold.contains("udp_drops_min = 1"));
        // At the buffer, no new drops: a warning.
        let snaps = window_of(vec![vec![sock(200_000, 3)], vec![sock(200_000, 3)]], None);
        let f = receive_drops(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].evidence[0].contains("200000 of buffer 212992"));
        // A socket that reads: nothing; nor one that is gone at the end.
        let snaps = window_of(vec![vec![sock(1000, 3)], vec![sock(0, 3)]], None);
        assert!(receive_drops(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        let snaps = window_of(vec![vec![sock(212_000, 10)], vec![]], None);
        assert!(receive_drops(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }

    #[test]
    fn host_rcvbuf_errors_without_socket_memory_name_the_host() {
        let c = |e: u64| {
            counters(|c| {
                c.udp_rcvbuf_errors = Some(e);
                c.rmem_default = Some(212_992);
                c.rmem_max = Some(212_992);
            })
        };
        let plain = udp(("127.0.0.1", 5353));
        let snaps = counted(vec![(vec![plain.clone()], c(5)), (vec![plain], c(9))]);
        let f = receive_drops(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].place, "host");
        assert_eq!(f[0].sockets, None);
        assert!(f[0].evidence[0].contains("RcvbufErrors +4"));
        assert!(f[0].evidence[1].contains("rmem_max 212992"));
        // Not when UDP is not selected, or with a filter.
        let only_tcp = Window {
            snaps: &snaps,
            whole_host: true,
            tables: crate::tables::NetidSet::of(&[Netid::Tcp]),
        };
        assert!(receive_drops(&scan(&only_tcp), &Thresholds::default()).is_empty());
        let snaps = counted(vec![(vec![], c(5)), (vec![], c(5))]);
        assert!(receive_drops(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }
}
