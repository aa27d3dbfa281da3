//! Rules over socket states: CLOSE-WAIT leaks and port exhaustion (TIME-WAIT and other
//! connections toward one destination, TIME-WAIT near tcp_max_tw_buckets).

use rustc_hash::{FxHashMap, FxHashSet};

use super::tally::Scan;
use super::{
    Finding, Rule, Severity, SockKey, Thresholds, addr_word, endpoint, holder, key_of,
    listener_filter, never_decreases, per_minute, series, with_holder,
};
use crate::model::{Netid, Socket, TcpState};

/// Who a CLOSE-WAIT socket belongs to: its listener (server side) or its process.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Owner {
    Listener(String),
    Process(u32),
    Local(String),
}

/// CLOSE-WAIT sockets of one owner whose count never decreases over the window and either
/// grows or is held by the very same sockets from start to end, at least `close_wait_min`.
pub fn close_wait_leak(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let w = scan.window;
    // Per owner: the count in each snapshot, the sockets of the first and of the last.
    struct Track {
        counts: Vec<u64>,
        first: FxHashSet<SockKey>,
        last: FxHashSet<SockKey>,
        holder: String,
        local: String,
    }
    let n = scan.tallies.len();
    let mut tracks: FxHashMap<Owner, Track> = FxHashMap::default();
    for (i, tally) in scan.tallies.iter().enumerate() {
        let lst = &tally.listeners;
        for &s in &tally.close_wait {
            let owner = owner_of(s, lst);
            let tr = tracks.entry(owner).or_insert_with(|| Track {
                counts: vec![0; n],
                first: FxHashSet::default(),
                last: FxHashSet::default(),
                holder: String::new(),
                local: String::new(),
            });
            tr.counts[i] += 1;
            if i == 0 {
                tr.first.insert(key_of(s));
            }
            if i == n - 1 {
                tr.last.insert(key_of(s));
            }
            if tr.holder.is_empty() {
                // The socket's own holder, else its listener's.
                tr.holder = holder(s);
                if tr.holder.is_empty()
                    && let Some(l) = s.local_port().and_then(|p| lst.get(&p))
                {
                    tr.holder = holder(l);
                }
            }
            if tr.local.is_empty() {
                tr.local = endpoint(&s.local);
            }
        }
    }
    let secs = w.seconds();
    let mut out = Vec::new();
    for (owner, tr) in tracks {
        let (first, last) = (tr.counts[0], tr.counts[n - 1]);
        if last < t.close_wait_min || !never_decreases(&tr.counts) {
            continue;
        }
        // The same sockets all along: nobody closed any of them during the window.
        let held = first > 0 && tr.first.iter().all(|k| tr.last.contains(k));
        if last == first && !held {
            continue;
        }
        // A process's sockets have no filter of their own; a listener's and an address's do.
        let sockets = match &owner {
            Owner::Listener(l) => listener_filter(l).map(|f| format!("state close-wait {f}")),
            Owner::Process(_) => None,
            Owner::Local(l) => Some(format!("state close-wait src {l}")),
        };
        let place = match &owner {
            Owner::Listener(l) => with_holder(format!("listener {l}"), &tr.holder),
            Owner::Process(_) => tr.holder.clone(),
            Owner::Local(l) => format!("local {l}"),
        };
        let mut evidence = vec![
            format!("CLOSE-WAIT sockets: {}", series(&tr.counts, 8)),
            format!(
                "growth: +{} in {secs:.1} s ({:.0}/min)",
                last - first,
                per_minute((last - first) as f64, secs)
            ),
        ];
        if held {
            evidence.push(format!(
                "oldest: at least {secs:.1} s old (in CLOSE-WAIT for the whole window, none \
                 closed)"
            ));
        }
        let severity = if last >= t.close_wait_critical {
            Severity::Critical
        } else {
            Severity::Warning
        };
        out.push(Finding {
            rule: Rule::CloseWaitLeak,
            severity,
            place,
            sockets,
            evidence,
            why: "The peer closed these connections (its FIN arrived) but the application \
                  never called close() on its end: each one holds a file descriptor and \
                  memory until it does, and they only pile up."
                .into(),
            action: "Find the code path that drops a connection without closing it (error \
                     and timeout paths, a missing close/defer/with), or that stopped \
                     reading the socket; restarting the process frees them for now."
                .into(),
            threshold: format!(
                "close_wait_min = {} (critical at close_wait_critical = {}), count never \
                 decreasing",
                t.close_wait_min, t.close_wait_critical
            ),
        });
    }
    out
}

fn owner_of(s: &Socket, lst: &FxHashMap<u16, &Socket>) -> Owner {
    if let Some(p) = s.local_port()
        && let Some(l) = lst.get(&p)
    {
        return Owner::Listener(endpoint(&l.local));
    }
    match s.processes.first() {
        Some(p) => Owner::Process(p.pid),
        None => Owner::Local(endpoint(&s.local)),
    }
}

/// Connections toward one destination (local address, peer address and port) whose local
/// port is ephemeral, as a fraction of the ephemeral range; and host-wide TIME-WAIT as a
/// fraction of tcp_max_tw_buckets. Judged on the last snapshot: exhaustion is a level.
pub fn port_exhaustion(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let w = scan.window;
    let mut out = Vec::new();
    let Some(last) = scan.last() else { return out };
    let counters = w.counters();
    if let Some((low, high)) = counters.and_then(|c| c.ip_local_port_range)
        && high >= low
    {
        let range = u64::from(high - low) + 1;
        let crosses = |n: u64| n as f64 / range as f64 >= t.port_pressure_warn;
        // The tally counted ephemeral connections by destination bucket as it walked the
        // table: only sockets in a bucket that could cross the threshold are counted exactly
        // (none in most tables, whose every connection the map would otherwise see).
        let sketch = &last.ephemeral;
        let mut per_dest: FxHashMap<(std::net::IpAddr, std::net::IpAddr, u16), (u64, u64)> =
            FxHashMap::default();
        if sketch.range == Some((low, high)) && crosses(sketch.total) {
            for s in last.conns.iter().chain(&last.time_wait).copied() {
                let Some(dest) = sketch.destination(s) else {
                    continue;
                };
                if !crosses(sketch.bound(&dest)) {
                    continue;
                }
                let e = per_dest.entry(dest).or_default();
                e.0 += 1;
                if s.state == TcpState::TimeWait {
                    e.1 += 1;
                }
            }
        }
        for ((local, peer, port), (all, tw)) in per_dest {
            let ratio = all as f64 / range as f64;
            let Some(severity) = level(ratio, t) else {
                continue;
            };
            let dest = endpoint(&crate::model::Endpoint::Inet { addr: peer, port });
            out.push(Finding {
                rule: Rule::PortExhaustion,
                severity,
                place: format!("{local} → {dest}"),
                sockets: Some(format!("src {} dst {dest}", addr_word(local))),
                evidence: vec![format!(
                    "{all} connections from {local} to {dest} ({tw} in TIME-WAIT): {:.1}% \
                         of the {range} ephemeral ports ({low}-{high})",
                    ratio * 100.0
                )],
                why: "Every connection to one destination needs its own local port; closed \
                      ones keep theirs in TIME-WAIT for 60 s. Near the range's end, connect() \
                      fails with EADDRNOTAVAIL or gets slow."
                    .into(),
                action: "Reuse connections (keep-alive, a connection pool) instead of one per \
                         request; spread over more source addresses or destination ports; \
                         widen net.ipv4.ip_local_port_range; net.ipv4.tcp_tw_reuse=1 lets \
                         outgoing connections reuse TIME-WAIT ports safely (never \
                         tcp_tw_recycle: it broke clients behind NAT and is gone since Linux \
                         4.12)."
                    .into(),
                threshold: format!(
                    "port_pressure_warn = {} (critical at port_pressure_critical = {}) of the \
                     ephemeral range",
                    t.port_pressure_warn, t.port_pressure_critical
                ),
            });
        }
    }
    if w.host_wide(Netid::Tcp)
        && let Some(c) = counters
        && let (Some(tw), Some(max)) = (c.tcp_tw, c.tcp_max_tw_buckets)
        && max > 0
    {
        let ratio = tw as f64 / max as f64;
        if let Some(severity) = level(ratio, t) {
            out.push(Finding {
                rule: Rule::PortExhaustion,
                severity,
                place: "host".into(),
                // The TIME-WAIT sockets counted, as far as this namespace shows them.
                sockets: Some("state time-wait".into()),
                evidence: vec![format!(
                    // sockstat's tw is the kernel's count of timewait sockets: TIME-WAIT
                    // and the FIN-WAIT-2 of closed sockets, both under the same cap.
                    "{tw} timewait sockets (TIME-WAIT and closed FIN-WAIT-2, sockstat tw) \
                     of tcp_max_tw_buckets {max} ({:.1}%)",
                    ratio * 100.0
                )],
                why: "Past tcp_max_tw_buckets the kernel destroys TIME-WAIT sockets early \
                      (\"time wait bucket table overflow\"), losing the protection against \
                      late segments of old connections."
                    .into(),
                action: "Close fewer connections: reuse them (keep-alive, pooling); let the \
                         client side close first so TIME-WAIT lands there; raise \
                         net.ipv4.tcp_max_tw_buckets if memory allows (never tcp_tw_recycle)."
                    .into(),
                threshold: format!(
                    "port_pressure_warn = {} (critical at port_pressure_critical = {}) of \
                     tcp_max_tw_buckets",
                    t.port_pressure_warn, t.port_pressure_critical
                ),
            });
        }
    }
    out
}

/// FIN-WAIT-2 sockets toward one destination whose count never decreases and reaches
/// `fin_wait2_min`: the peer acknowledged our FIN but never sends its own.
pub fn fin_wait2_pile_up(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let w = scan.window;
    let n = scan.tallies.len();
    let mut per: FxHashMap<String, Vec<u64>> = FxHashMap::default();
    for (i, tally) in scan.tallies.iter().enumerate() {
        for s in &tally.fin_wait2 {
            per.entry(endpoint(&s.peer)).or_insert_with(|| vec![0; n])[i] += 1;
        }
    }
    let fin_timeout = w.counters().and_then(|c| c.tcp_fin_timeout);
    let mut out = Vec::new();
    for (dest, counts) in per {
        let last = counts[n - 1];
        if last < t.fin_wait2_min || !never_decreases(&counts) {
            continue;
        }
        let timeout = fin_timeout.map_or("net.ipv4.tcp_fin_timeout".to_string(), |s| {
            format!("net.ipv4.tcp_fin_timeout ({s} s)")
        });
        out.push(Finding {
            rule: Rule::FinWait2PileUp,
            severity: Severity::Warning,
            place: format!("toward {dest}"),
            sockets: Some(format!("state fin-wait-2 dst {dest}")),
            evidence: vec![format!("FIN-WAIT-2 sockets: {}", series(&counts, 8))],
            why: "This side closed and the peer acknowledged, but the peer never closes its \
                  end (there, the connection sits in CLOSE-WAIT): a leak in the peer \
                  application."
                .into(),
            action: format!(
                "Fix the peer: it does not close() connections its client ended (run sockeye \
                 check there for a close-wait-leak). Sockets this side has already closed end \
                 after {timeout}; lowering it frees them sooner."
            ),
            threshold: format!(
                "fin_wait2_min = {} toward one destination, count never decreasing",
                t.fin_wait2_min
            ),
        });
    }
    out
}

fn level(ratio: f64, t: &Thresholds) -> Option<Severity> {
    if ratio >= t.port_pressure_critical {
        Some(Severity::Critical)
    } else if ratio >= t.port_pressure_warn {
        Some(Severity::Warning)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;
    use crate::findings::Window;

    fn cw(port: u16, peer: u16, cookie: u64) -> Socket {
        tcp(
            TcpState::CloseWait,
            ("127.0.0.1", port),
            ("127.0.0.1", peer),
        )
        .cookie(cookie)
    }

    fn with_listener(mut v: Vec<Socket>) -> Vec<Socket> {
        v.push(tcp(TcpState::Listen, ("127.0.0.1", 7000), ("0.0.0.0", 0)).owned("srv", 42));
        v
    }

    fn leak_at(counts: &[usize]) -> Vec<Vec<Socket>> {
        counts
            .iter()
            .map(|&n| {
                with_listener(
                    (0..n)
                        .map(|i| cw(7000, 40000 + i as u16, i as u64))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_growing_close_wait_count_is_a_leak_of_its_listener() {
        let snaps = window_of(leak_at(&[3, 5, 7, 9]), None);
        let f = close_wait_leak(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].place, "listener 127.0.0.1:7000 (srv pid 42)");
        assert_eq!(
            f[0].sockets.as_deref(),
            Some("state close-wait src 127.0.0.1:7000")
        );
        assert!(
            f[0].evidence[0].contains("3 → 5 → 7 → 9"),
            "{:?}",
            f[0].evidence
        );
        assert!(f[0].evidence[1].contains("+6"), "{:?}", f[0].evidence);
        assert!(f[0].threshold.contains("close_wait_min = 5"));
    }

    #[test]
    fn a_count_that_rises_and_falls_is_not_a_leak() {
        let snaps = window_of(leak_at(&[3, 9, 6, 10]), None);
        assert!(close_wait_leak(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }

    #[test]
    fn below_the_minimum_is_not_reported_and_critical_above_its_threshold() {
        let snaps = window_of(leak_at(&[1, 2, 4]), None);
        assert!(close_wait_leak(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        let t = Thresholds {
            close_wait_critical: 8,
            ..Thresholds::default()
        };
        let snaps = window_of(leak_at(&[6, 8]), None);
        assert_eq!(
            close_wait_leak(&scan(&win(&snaps)), &t)[0].severity,
            Severity::Critical
        );
    }

    #[test]
    fn a_steady_count_of_the_same_sockets_is_a_leak_but_churn_is_not() {
        let snaps = window_of(leak_at(&[6, 6, 6]), None);
        let f = close_wait_leak(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert!(f[0].evidence.iter().any(|e| e.contains("oldest")));
        // Same count, different sockets each time: they are being closed and replaced.
        let churn: Vec<Vec<Socket>> = (0..3u64)
            .map(|k| {
                with_listener(
                    (0..6)
                        .map(|i| cw(7000, 41000 + i, k * 100 + u64::from(i)))
                        .collect(),
                )
            })
            .collect();
        let snaps = window_of(churn, None);
        assert!(close_wait_leak(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }

    #[test]
    fn client_side_close_wait_is_grouped_by_process() {
        let rounds: Vec<Vec<Socket>> = [5usize, 7]
            .iter()
            .map(|&n| {
                (0..n)
                    .map(|i| {
                        tcp(
                            TcpState::CloseWait,
                            ("10.0.0.1", 50000 + i as u16),
                            ("10.0.0.2", 443),
                        )
                        .cookie(i as u64)
                        .owned("client", 7)
                    })
                    .collect()
            })
            .collect();
        let snaps = window_of(rounds, None);
        let f = close_wait_leak(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].place, "client pid 7");
        assert_eq!(f[0].sockets, None, "a process has no filter");
    }

    #[test]
    fn fin_wait_2_toward_one_peer_piles_up_and_a_falling_count_does_not() {
        let fw = |n: u16| -> Vec<Socket> {
            (0..n)
                .map(|i| {
                    tcp(
                        TcpState::FinWait2,
                        ("127.0.0.1", 40000 + i),
                        ("127.0.0.1", 7000),
                    )
                })
                .collect()
        };
        let t = Thresholds {
            fin_wait2_min: 3,
            ..Thresholds::default()
        };
        let c = counters(|c| c.tcp_fin_timeout = Some(60));
        let snaps = window_of(vec![fw(2), fw(3), fw(4)], Some(c.clone()));
        let f = fin_wait2_pile_up(&scan(&win(&snaps)), &t);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].place, "toward 127.0.0.1:7000");
        assert_eq!(
            f[0].sockets.as_deref(),
            Some("state fin-wait-2 dst 127.0.0.1:7000")
        );
        assert!(
            f[0].action.contains("tcp_fin_timeout (60 s)"),
            "{}",
            f[0].action
        );
        let snaps = window_of(vec![fw(5), fw(3), fw(4)], Some(c));
        assert!(fin_wait2_pile_up(&scan(&win(&snaps)), &t).is_empty());
        let snaps = window_of(vec![fw(5), fw(5)], None);
        assert!(fin_wait2_pile_up(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }

    fn toward(n: u16, state: TcpState) -> Vec<Socket> {
        (0..n)
            .map(|i| tcp(state, ("10.0.0.1", 32768 + i), ("10.0.0.9", 80)))
            .collect()
    }

    #[test]
    fn connections_toward_one_destination_near_the_range_are_port_exhaustion() {
        let c = counters(|c| c.ip_local_port_range = Some((32768, 32867))); // 100 ports
        let snaps = window_of(
            vec![
                toward(10, TcpState::TimeWait),
                toward(60, TcpState::TimeWait),
            ],
            Some(c.clone()),
        );
        let f = port_exhaustion(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].place, "10.0.0.1 → 10.0.0.9:80");
        assert_eq!(
            f[0].sockets.as_deref(),
            Some("src 10.0.0.1 dst 10.0.0.9:80")
        );
        assert!(
            f[0].evidence[0].contains("60 connections"),
            "{:?}",
            f[0].evidence
        );
        assert!(f[0].evidence[0].contains("60 in TIME-WAIT"));
        assert!(!f[0].action.contains("tcp_tw_recycle=1"));
        let snaps = window_of(
            vec![
                toward(10, TcpState::Established),
                toward(95, TcpState::Established),
            ],
            Some(c.clone()),
        );
        assert_eq!(
            port_exhaustion(&scan(&win(&snaps)), &Thresholds::default())[0].severity,
            Severity::Critical
        );
        let snaps = window_of(
            vec![
                toward(40, TcpState::TimeWait),
                toward(40, TcpState::TimeWait),
            ],
            Some(c),
        );
        assert!(port_exhaustion(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }

    #[test]
    fn destinations_sharing_a_sketch_bucket_are_still_counted_exactly() {
        // 5,000 destinations of one connection each fill all 4,096 buckets, several to a
        // bucket; one destination of 60 connections crosses the threshold alone.
        let c = counters(|c| c.ip_local_port_range = Some((32768, 32867))); // 100 ports
        let crowd = || -> Vec<Socket> {
            (0..5000u32)
                .map(|i| {
                    let peer = format!("10.1.{}.{}", i / 250, i % 250);
                    tcp(TcpState::Established, ("10.0.0.1", 32800), (&peer, 443))
                })
                .chain(toward(60, TcpState::Established))
                .collect()
        };
        let snaps = window_of(vec![crowd(), crowd()], Some(c.clone()));
        let f = port_exhaustion(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].place, "10.0.0.1 → 10.0.0.9:80");
        assert!(
            f[0].evidence[0].starts_with("60 connections"),
            "{:?}",
            f[0].evidence
        );
        // The crowd alone crosses the threshold in total, but no destination does.
        let alone: Vec<Socket> = crowd().into_iter().take(5000).collect();
        let snaps = window_of(vec![alone.clone(), alone], Some(c));
        assert!(port_exhaustion(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }

    #[test]
    fn server_side_sockets_and_unknown_ranges_do_not_count() {
        // Local port outside the ephemeral range: the server's side of inbound connections.
        let inbound: Vec<Socket> = (0..90)
            .map(|i| {
                tcp(
                    TcpState::TimeWait,
                    ("10.0.0.1", 80),
                    ("10.0.0.9", 40000 + i),
                )
            })
            .collect();
        let c = counters(|c| c.ip_local_port_range = Some((32768, 32867)));
        let snaps = window_of(vec![inbound.clone(), inbound.clone()], Some(c));
        assert!(port_exhaustion(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        let snaps = window_of(
            vec![
                toward(99, TcpState::TimeWait),
                toward(99, TcpState::TimeWait),
            ],
            None,
        );
        assert!(port_exhaustion(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }

    #[test]
    fn time_wait_near_the_bucket_limit_is_reported_for_the_whole_host_only() {
        let c = counters(|c| {
            c.tcp_tw = Some(950);
            c.tcp_max_tw_buckets = Some(1000);
        });
        let snaps = window_of(vec![vec![], vec![]], Some(c));
        let f = port_exhaustion(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].place.as_str(), f[0].severity),
            ("host", Severity::Critical)
        );
        let filtered = Window {
            snaps: &snaps,
            whole_host: false,
            tables: crate::tables::NetidSet::ALL,
        };
        assert!(port_exhaustion(&scan(&filtered), &Thresholds::default()).is_empty());
    }
}
