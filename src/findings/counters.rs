//! Rules over host-wide kernel counters: retransmissions, orphans near tcp_max_orphans,
//! SYN cookies (with the SYN backlog per listener as evidence).

use rustc_hash::FxHashMap;

use super::tally::Scan;
use super::{Finding, Rule, Severity, Thresholds, endpoint};
use crate::model::Netid;

/// RetransSegs over OutSegs across the window, for the whole host only (with a filter the
/// counters say nothing about the sockets asked for).
pub fn retransmissions(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let w = scan.window;
    if !w.host_wide(Netid::Tcp) {
        return vec![];
    }
    let (Some(retrans), Some(out)) = (w.rise(|c| c.retrans_segs), w.rise(|c| c.out_segs)) else {
        return vec![];
    };
    if out < t.retrans_min_segs {
        return vec![];
    }
    let ratio = retrans as f64 / out as f64;
    if ratio < t.retrans_ratio {
        return vec![];
    }
    vec![Finding {
        rule: Rule::Retransmissions,
        severity: if ratio >= 5.0 * t.retrans_ratio {
            Severity::Critical
        } else {
            Severity::Warning
        },
        place: "host".into(),
        sockets: None,
        evidence: vec![format!(
            "RetransSegs +{retrans} of OutSegs +{out} in {:.1} s ({:.1}%)",
            w.seconds(),
            ratio * 100.0
        )],
        why: "Segments are being sent again: packet loss or congestion on some path, or \
              peers that stopped answering."
            .into(),
        action: "Find the peers: sockeye dump -ti shows retrans per connection; check the \
                 interfaces for errors and drops (ip -s link) and the path (mtr)."
            .into(),
        threshold: format!(
            "retrans_ratio = {} (critical at 5x) once retrans_min_segs = {} were sent",
            t.retrans_ratio, t.retrans_min_segs
        ),
    }]
}

/// Orphaned TCP sockets (closed by their process, still sending their last data or FIN) as
/// a fraction of tcp_max_orphans, host-wide; TCPAbortOnMemory rising means the kernel is
/// already resetting them.
pub fn orphans(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let w = scan.window;
    if !w.host_wide(Netid::Tcp) {
        return vec![];
    }
    let Some(c) = w.counters() else {
        return vec![];
    };
    let (Some(orphans), Some(max)) = (c.tcp_orphan, c.tcp_max_orphans) else {
        return vec![];
    };
    if max == 0 {
        return vec![];
    }
    let ratio = orphans as f64 / max as f64;
    let aborted = w.rise(|c| c.tcp_abort_on_memory).unwrap_or(0);
    let severity = if ratio >= t.orphans_critical || aborted > 0 {
        Severity::Critical
    } else if ratio >= t.orphans_warn {
        Severity::Warning
    } else {
        return vec![];
    };
    let mut evidence = vec![format!(
        "{orphans} orphaned TCP sockets of net.ipv4.tcp_max_orphans {max} ({:.1}%)",
        ratio * 100.0
    )];
    if aborted > 0 {
        evidence.push(format!(
            "TCPAbortOnMemory +{aborted} in {:.1} s: orphans reset (\"too many orphaned \
             sockets\" in the kernel log)",
            w.seconds()
        ));
    }
    // Orphans in the table: sockets in a closing state that no process holds.
    if let Some(last) = scan.last() {
        let mut per: FxHashMap<&'static str, u64> = FxHashMap::default();
        for s in &last.closing {
            if s.inode == 0 {
                *per.entry(s.state.ss_name()).or_default() += 1;
            }
        }
        let mut per: Vec<_> = per.into_iter().collect();
        per.sort();
        if !per.is_empty() {
            let list: Vec<String> = per.iter().map(|(s, n)| format!("{n} {s}")).collect();
            evidence.push(format!("without a process: {}", list.join(", ")));
        }
    }
    vec![Finding {
        rule: Rule::Orphans,
        severity,
        place: "host".into(),
        sockets: None,
        evidence,
        why: "Closed connections still flush their data and FIN to peers that do not \
              acknowledge (gone, or not reading). Each holds memory; past tcp_max_orphans \
              (less under memory pressure: the kernel counts them up to 4 times) new \
              orphans are reset at once and their data is lost."
            .into(),
        action: "Find the peers that do not answer (sockeye dump -tn state fin-wait-1 state \
                 last-ack); lower net.ipv4.tcp_orphan_retries so orphans give up sooner; \
                 raise net.ipv4.tcp_max_orphans only with the memory for it (about 64 KiB \
                 each)."
            .into(),
        threshold: format!(
            "orphans_warn = {} (critical at orphans_critical = {}) of tcp_max_orphans; any \
             TCPAbortOnMemory rise is critical",
            t.orphans_warn, t.orphans_critical
        ),
    }]
}

/// SYN cookies sent (the SYN queue overflowed), failed (ACKs with a bad cookie) or SYNs
/// dropped with the queue full, host-wide; the SYN-RECV sockets per listener are the
/// backlog that overflowed.
pub fn syncookies(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let w = scan.window;
    if !w.host_wide(Netid::Tcp) {
        return vec![];
    }
    let sent = w.rise(|c| c.syncookies_sent);
    let failed = w.rise(|c| c.syncookies_failed);
    let dropped = w.rise(|c| c.tcp_req_q_full_drop);
    if sent.is_none() && failed.is_none() && dropped.is_none() {
        return vec![];
    }
    let (sent, failed, dropped) = (sent.unwrap_or(0), failed.unwrap_or(0), dropped.unwrap_or(0));
    if sent.saturating_add(failed).saturating_add(dropped) < t.syncookies_min {
        return vec![];
    }
    let secs = w.seconds();
    let received = w.rise(|c| c.syncookies_recv).unwrap_or(0);
    let mut evidence = vec![format!(
        "SyncookiesSent +{sent}, SyncookiesRecv +{received}, SyncookiesFailed +{failed}, \
         TCPReqQFullDrop +{dropped} in {secs:.1} s"
    )];
    let c = w.counters();
    let max_syn = c.and_then(|c| c.tcp_max_syn_backlog);
    let cookies = c.and_then(|c| c.tcp_syncookies);
    let mut limits = Vec::new();
    if let Some(m) = max_syn {
        limits.push(format!("net.ipv4.tcp_max_syn_backlog {m}"));
    }
    if let Some(v) = cookies {
        limits.push(format!("net.ipv4.tcp_syncookies {v}"));
    }
    if !limits.is_empty() {
        evidence.push(limits.join(", "));
    }
    if let Some(last) = scan.last() {
        let lst = &last.listeners;
        let mut per: FxHashMap<u16, u64> = FxHashMap::default();
        for s in &last.syn_recv {
            if let Some(p) = s.local_port() {
                *per.entry(p).or_default() += 1;
            }
        }
        let mut per: Vec<(u16, u64)> = per.into_iter().collect();
        per.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (port, n) in per.into_iter().take(3) {
            let line = match lst.get(&port) {
                Some(l) => match l.send_q {
                    Some(b) => format!(
                        "listener {}: {n} SYN-RECV, listen() backlog {b}",
                        endpoint(&l.local)
                    ),
                    None => format!("listener {}: {n} SYN-RECV", endpoint(&l.local)),
                },
                None => format!("port {port}: {n} SYN-RECV"),
            };
            evidence.push(line);
        }
    }
    let critical = dropped > 0 || failed > 0;
    vec![Finding {
        rule: Rule::Syncookies,
        severity: if critical {
            Severity::Critical
        } else {
            Severity::Warning
        },
        place: "host".into(),
        sockets: None,
        evidence,
        why: if dropped > 0 {
            "The SYN queue of a listener overflowed and SYNs were dropped (syncookies \
             are off or could not be used): clients see connect timeouts. A SYN flood, or \
             a backlog too small for the connection rate."
                .into()
        } else if failed > 0 {
            "ACKs arrived with cookies that do not check: forged or very late handshakes, \
             the sign of a SYN flood or a scan."
                .into()
        } else {
            "A listener's SYN queue overflowed, so the kernel answered with SYN cookies: \
             connections still succeed but lose TCP options (window scaling, SACK when \
             timestamps are off). A SYN flood, or a burst bigger than the backlog."
                .into()
        },
        action: "Find the listener and the sources (sockeye dump -tn state syn-recv); keep \
                 net.ipv4.tcp_syncookies=1; raise net.ipv4.tcp_max_syn_backlog, \
                 net.core.somaxconn and the listen() backlog for real bursts; filter the \
                 sources upstream for a flood."
            .into(),
        threshold: format!(
            "syncookies_min = {} cookies sent or failed or SYNs dropped in the window \
             (critical when SYNs are dropped or cookies fail)",
            t.syncookies_min
        ),
    }]
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;
    use crate::findings::Window;

    fn seg(out: u64, retrans: u64) -> crate::model::KernelCounters {
        counters(|c| {
            c.out_segs = Some(out);
            c.retrans_segs = Some(retrans);
        })
    }

    #[test]
    fn a_rising_retransmit_ratio_warns_and_a_quiet_host_does_not() {
        let snaps = counted(vec![(vec![], seg(10_000, 100)), (vec![], seg(20_000, 400))]);
        let f = retransmissions(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].evidence[0].contains("+300 of OutSegs +10000"),
            "{:?}",
            f[0].evidence
        );
        let snaps = counted(vec![(vec![], seg(10_000, 100)), (vec![], seg(10_100, 150))]);
        assert!(retransmissions(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        let snaps = counted(vec![
            (vec![], seg(10_000, 100)),
            (vec![], seg(20_000, 5000)),
        ]);
        assert_eq!(
            retransmissions(&scan(&win(&snaps)), &Thresholds::default())[0].severity,
            Severity::Critical
        );
        let filtered = Window {
            snaps: &snaps,
            whole_host: false,
            tables: crate::tables::NetidSet::ALL,
        };
        assert!(retransmissions(&scan(&filtered), &Thresholds::default()).is_empty());
    }

    #[test]
    fn orphans_near_the_limit_warn_and_aborts_are_critical() {
        use crate::model::TcpState;
        let c = |orphan: u64, aborted: u64| {
            counters(|c| {
                c.tcp_orphan = Some(orphan);
                c.tcp_max_orphans = Some(1000);
                c.tcp_abort_on_memory = Some(aborted);
            })
        };
        let fw1 = tcp(TcpState::FinWait1, ("10.0.0.1", 80), ("10.0.0.2", 5000));
        let snaps = counted(vec![(vec![], c(500, 0)), (vec![fw1.clone()], c(600, 0))]);
        let f = orphans(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].evidence[0].contains("600 orphaned TCP sockets of net.ipv4.tcp_max_orphans 1000")
        );
        assert!(
            f[0].evidence[1].contains("1 FIN-WAIT-1"),
            "{:?}",
            f[0].evidence
        );
        assert!(f[0].threshold.contains("orphans_warn = 0.5"));
        // Below the threshold: nothing; unless the kernel is already resetting orphans.
        let snaps = counted(vec![(vec![], c(10, 0)), (vec![], c(10, 0))]);
        assert!(orphans(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        let snaps = counted(vec![(vec![], c(10, 4)), (vec![], c(10, 9))]);
        let f = orphans(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0].evidence[1].contains("TCPAbortOnMemory +5"));
        // Unknown limit: no finding; a filtered selection: no finding.
        let snaps = counted(vec![
            (vec![], counters(|c| c.tcp_orphan = Some(10_000))),
            (vec![], counters(|c| c.tcp_orphan = Some(10_000))),
        ]);
        assert!(orphans(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        let snaps = counted(vec![(vec![], c(900, 0)), (vec![], c(900, 0))]);
        let filtered = Window {
            snaps: &snaps,
            whole_host: false,
            tables: crate::tables::NetidSet::ALL,
        };
        assert!(orphans(&scan(&filtered), &Thresholds::default()).is_empty());
    }

    #[test]
    fn syncookies_sent_warn_and_dropped_syns_are_critical_with_the_backlog() {
        use crate::model::TcpState;
        let c = |sent: u64, dropped: u64| {
            counters(|c| {
                c.syncookies_sent = Some(sent);
                c.syncookies_recv = Some(0);
                c.syncookies_failed = Some(0);
                c.tcp_req_q_full_drop = Some(dropped);
                c.tcp_max_syn_backlog = Some(256);
                c.tcp_syncookies = Some(1);
            })
        };
        let mut listener = tcp(TcpState::Listen, ("0.0.0.0", 443), ("0.0.0.0", 0)).queues(0, 128);
        listener.cookie = Some(1);
        let mut table = vec![listener];
        for i in 0..3 {
            table.push(tcp(
                TcpState::SynRecv,
                ("10.0.0.1", 443),
                ("10.9.9.9", 1000 + i),
            ));
        }
        let snaps = counted(vec![(table.clone(), c(10, 0)), (table.clone(), c(50, 0))]);
        let f = syncookies(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].evidence[0].contains("SyncookiesSent +40"),
            "{:?}",
            f[0].evidence
        );
        assert!(f[0].evidence[1].contains("tcp_max_syn_backlog 256"));
        assert!(
            f[0].evidence[2].contains("listener 0.0.0.0:443: 3 SYN-RECV, listen() backlog 128"),
            "{:?}",
            f[0].evidence
        );
        let snaps = counted(vec![(table.clone(), c(10, 0)), (table, c(10, 7))]);
        let f = syncookies(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0].why.contains("dropped"));
        // Counters that did not move: nothing.
        let snaps = counted(vec![(vec![], c(10, 0)), (vec![], c(10, 0))]);
        assert!(syncookies(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        let t = Thresholds {
            syncookies_min: 100,
            ..Thresholds::default()
        };
        let snaps = counted(vec![(vec![], c(10, 0)), (vec![], c(50, 0))]);
        assert!(syncookies(&scan(&win(&snaps)), &t).is_empty());
    }
}
