//! Rules over queues: listeners' accept queues and SYN-RECV, connections whose Recv-Q or
//! Send-Q does not drain.

use rustc_hash::FxHashMap;

use super::tally::Scan;
use super::{
    Finding, Rule, Severity, SockKey, Thresholds, connections_filter, endpoint, holder, key_of,
    listener_filter, never_decreases, series, with_holder,
};
use crate::model::{Netid, Socket, TcpInfo, TimerKind};

/// A listener's (queue, limit) per snapshot, its local address and holder.
type ListenerSamples = (Vec<Option<(u32, u32)>>, String, String);
/// A stuck socket: its queue per snapshot, and the socket as last seen.
type Stuck<'a> = (Vec<u64>, &'a Socket);

/// A TCP listener whose accept queue is full (Recv-Q above the backlog: the kernel drops
/// SYNs, critical) in the last snapshot, or at least `accept_queue_ratio` full in every one.
pub fn accept_queue_overflow(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let w = scan.window;
    let n = scan.tallies.len();
    // Per listener: (queue, limit) per snapshot, holder.
    let mut seen: FxHashMap<SockKey, ListenerSamples> = FxHashMap::default();
    for (i, tally) in scan.tallies.iter().enumerate() {
        for &s in &tally.tcp_listen {
            let (Some(q), Some(limit)) = (s.recv_q, s.send_q) else {
                continue;
            };
            let e = seen
                .entry(key_of(s))
                .or_insert_with(|| (vec![None; n], endpoint(&s.local), holder(s)));
            e.0[i] = Some((q, limit));
        }
    }
    let overflows = w.rise(|c| c.listen_overflows);
    let drops = w.rise(|c| c.listen_drops);
    let c = w.counters();
    let mut out = Vec::new();
    for (_, (samples, local, who)) in seen {
        let Some(Pressure {
            full,
            limit,
            queued,
        }) = pressure(&samples, t.accept_queue_ratio)
        else {
            continue;
        };
        let mut evidence = vec![format!(
            "accept queue (Recv-Q): {} of backlog {limit}",
            series(&queued, 8)
        )];
        if let (Some(o), Some(d)) = (overflows, drops)
            && w.host_wide(Netid::Tcp) | full
        {
            evidence.push(format!(
                "host-wide ListenOverflows +{o}, ListenDrops +{d} in the window"
            ));
        }
        let somaxconn = c.and_then(|c| c.somaxconn);
        let syn_backlog = c.and_then(|c| c.tcp_max_syn_backlog);
        let limits = match somaxconn {
            Some(m) if u64::from(limit) >= m => format!(
                "The backlog {limit} is capped by net.core.somaxconn ({m}): raise somaxconn and \
                 the listen() backlog together."
            ),
            Some(m) => format!(
                "The application's listen() backlog ({limit}) is the limit, not \
                 net.core.somaxconn ({m}): ask for a larger backlog."
            ),
            None => format!("The backlog is {limit} (somaxconn unknown)."),
        };
        let syn = syn_backlog.map_or(String::new(), |s| {
            format!(" net.ipv4.tcp_max_syn_backlog ({s}) bounds the half-open (SYN) queue, not this one.")
        });
        out.push(Finding {
            rule: Rule::AcceptQueueOverflow,
            severity: if full {
                Severity::Critical
            } else {
                Severity::Warning
            },
            sockets: listener_filter(&local),
            place: with_holder(format!("listener {local}"), &who),
            evidence,
            why: if full {
                "The accept queue is full: finished handshakes wait for accept() and the \
                 kernel drops new SYNs (ListenOverflows), so clients retry and stall in \
                 SYN-SENT."
                    .into()
            } else {
                "The accept queue stays nearly full: the application accepts more slowly \
                 than connections arrive."
                    .into()
            },
            action: format!(
                "Accept faster (more acceptor threads, a non-blocking accept loop, less work \
                 before the next accept()). {limits}{syn}"
            ),
            threshold: format!(
                "queue full (Recv-Q above the backlog) is critical; accept_queue_ratio = {} \
                 over the whole window warns",
                t.accept_queue_ratio
            ),
        });
    }
    out
}

/// Many SYN-RECV sockets on one listening port in the last snapshot (a SYN flood, or a
/// client that never completes handshakes).
pub fn syn_backlog_pressure(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let w = scan.window;
    let mut out = Vec::new();
    let Some(last) = scan.last() else { return out };
    let lst = &last.listeners;
    let mut per: FxHashMap<String, (u64, String)> = FxHashMap::default();
    for &s in &last.syn_recv {
        let l = s.local_port().and_then(|p| lst.get(&p));
        let place = l.map_or_else(|| endpoint(&s.local), |l| endpoint(&l.local));
        let e = per
            .entry(place)
            .or_insert_with(|| (0, l.map_or(String::new(), |l| holder(l))));
        e.0 += 1;
    }
    let max_syn = w.counters().and_then(|c| c.tcp_max_syn_backlog);
    for (place, (count, who)) in per {
        if count < t.syn_recv_min {
            continue;
        }
        let critical = max_syn.is_some_and(|m| count as f64 >= 0.9 * m as f64);
        let mut evidence = vec![format!("{count} SYN-RECV sockets")];
        if let Some(m) = max_syn {
            evidence.push(format!("net.ipv4.tcp_max_syn_backlog {m}"));
        }
        out.push(Finding {
            rule: Rule::SynBacklogPressure,
            severity: if critical {
                Severity::Critical
            } else {
                Severity::Warning
            },
            sockets: place
                .rsplit_once(':')
                .map(|(_, port)| format!("state syn-recv sport = :{port}")),
            place: with_holder(format!("listener {place}"), &who),
            evidence,
            why: "Half-open connections wait for the client's final ACK: a SYN flood, or \
                  clients (or a middlebox) that lose the SYN-ACK. Past the SYN backlog the \
                  kernel answers with syncookies or drops SYNs."
                .into(),
            action: "Check where the SYNs come from (sockeye dump -tn state syn-recv); keep \
                     net.ipv4.tcp_syncookies=1; raise net.ipv4.tcp_max_syn_backlog and the \
                     listen() backlog; filter the source upstream if it is a flood."
                .into(),
            threshold: format!(
                "syn_recv_min = {} (critical at 90% of tcp_max_syn_backlog)",
                t.syn_recv_min
            ),
        });
    }
    out
}

/// Connected TCP sockets whose queue (chosen by `queue`) is at least `min` bytes in every
/// snapshot and never goes down: per socket, the samples and the socket of the last one.
/// A queue that stays full while data moves is not stuck: when tcp_info is known at both
/// ends of the window, `moved(first, last, queue_first, queue_last)` says whether it did
/// (the peer acknowledged, the application read) and rules the socket out.
fn stuck<'a>(
    scan: &Scan<'_, 'a>,
    min: u64,
    queue: impl Fn(&Socket) -> Option<u32>,
    moved: impl Fn(&TcpInfo, &TcpInfo, u64, u64) -> bool,
) -> Vec<(Vec<u64>, &'a Socket)> {
    let n = scan.tallies.len();
    // Per socket: its queue per snapshot, the socket as last seen, and its earliest tcp_info
    // with the queue then.
    type Track<'s> = (Vec<u64>, Option<&'s Socket>, Option<(&'s TcpInfo, u64)>);
    let mut per: FxHashMap<SockKey, Track<'a>> = FxHashMap::default();
    // Only sockets with something queued: one empty sample already rules a socket out.
    for (i, tally) in scan.tallies.iter().enumerate() {
        for &s in &tally.queued {
            let Some(q) = queue(s).map(u64::from).filter(|q| *q >= min) else {
                continue;
            };
            let e = per
                .entry(key_of(s))
                .or_insert_with(|| (vec![0; n], None, None));
            e.0[i] = q;
            e.1 = Some(s);
            if e.2.is_none() {
                e.2 = s.tcp_info.as_deref().map(|info| (info, q));
            }
        }
    }
    let mut out: Vec<(Vec<u64>, &Socket)> = per
        .into_values()
        .filter_map(|(v, s, first)| {
            let s = s?;
            let flowing = match (first, s.tcp_info.as_deref(), v.last()) {
                (Some((a, qa)), Some(b), Some(&qb)) => moved(a, b, qa, qb),
                _ => false,
            };
            (!flowing).then_some((v, s))
        })
        .filter(|(v, _)| v.iter().all(|q| *q >= min.max(1)) && never_decreases(v))
        .collect();
    out.sort_by(|a, b| b.0[n - 1].cmp(&a.0[n - 1]));
    out
}

/// Group stuck sockets by their listener (server side: the local port is a listener's) or
/// else their holder (or local address when none is known), worst first.
fn by_owner<'a>(
    scan: &Scan<'_, '_>,
    stuck: Vec<(Vec<u64>, &'a Socket)>,
) -> Vec<(String, Vec<Stuck<'a>>)> {
    let empty = FxHashMap::default();
    let lst = scan.last().map_or(&empty, |l| &l.listeners);
    let mut groups: Vec<(String, Vec<Stuck<'a>>)> = Vec::new();
    for (v, s) in stuck {
        let who = holder(s);
        let listener = s.local_port().and_then(|p| lst.get(&p));
        let key = match (listener, who.is_empty()) {
            (Some(l), _) => with_holder(format!("listener {}", endpoint(&l.local)), &who),
            (None, false) => who,
            (None, true) => format!("local {}", endpoint(&s.local)),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push((v, s)),
            None => groups.push((key, vec![(v, s)])),
        }
    }
    groups
}

fn sample_lines(group: &[(Vec<u64>, &Socket)], what: &str) -> Vec<String> {
    let total: u64 = group
        .iter()
        .map(|(v, _)| v.last().copied().unwrap_or(0))
        .sum();
    let mut lines = vec![format!(
        "{} connection(s), {total} bytes {what} in all",
        group.len()
    )];
    for (v, s) in group.iter().take(3) {
        let mut line = format!(
            "{} → {}: {} bytes",
            endpoint(&s.local),
            endpoint(&s.peer),
            series(v, 6)
        );
        match s.timer.filter(|t| t.kind == TimerKind::Probe) {
            Some(t) if t.retrans > 0 => {
                line.push_str(&format!(", persist timer, {} probe(s)", t.retrans))
            }
            Some(_) => line.push_str(", persist timer"),
            None => {}
        }
        lines.push(line);
    }
    lines
}

/// ESTAB sockets whose Recv-Q never drains over the window: the application is not reading.
pub fn stuck_receiver(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    by_owner(
        scan,
        // Read by the application: more arrived than the queue grew by.
        stuck(
            scan,
            t.recv_q_min,
            |s| s.recv_q,
            |a, b, qa, qb| {
                b.bytes_received.saturating_sub(a.bytes_received) > qb.saturating_sub(qa)
            },
        ),
    )
    .into_iter()
    .map(|(place, group)| {
        let (why, action) = if unaccepted(scan, &group) {
            (
                "These connections were never accepted: the handshake completed and the \
                 data arrived, but they still wait in the listener's accept queue, so \
                 nothing can read them yet."
                    .to_owned(),
                "See why the application does not call accept() on this listener (its \
                 accept loop blocked or gone, a thread pool exhausted); the \
                 accept-queue-overflow finding follows when the queue fills.",
            )
        } else {
            (
                with_info_caveat(
                    "Data arrived and sits in the receive queue: the application does not \
                     read these sockets (blocked, busy elsewhere, or a lost wakeup). When \
                     the queue fills, the window closes and the peer stalls.",
                    &group,
                    "an application that reads slowly while more keeps arriving",
                ),
                "See what the process is doing instead of reading (a stack dump, strace \
                 -p PID); check for a blocked event loop or a reader that stopped on an \
                 error.",
            )
        };
        Finding {
            rule: Rule::StuckReceiver,
            severity: Severity::Warning,
            sockets: connections_filter(group.iter().map(|(_, s)| *s)),
            place,
            evidence: sample_lines(&group, "unread (Recv-Q)"),
            why,
            action: action.into(),
            threshold: format!(
                "recv_q_min = {} bytes in every snapshot, never decreasing",
                t.recv_q_min
            ),
        }
    })
    .collect()
}

/// Whether `group` are connections still in their listener's accept queue: no process holds
/// any of them while one holds the listener (so owners were read, and these have none).
fn unaccepted(scan: &Scan<'_, '_>, group: &[Stuck<'_>]) -> bool {
    let Some(listeners) = scan.last().map(|l| &l.listeners) else {
        return false;
    };
    group.iter().all(|(_, s)| {
        s.processes.is_empty()
            && s.local_port()
                .and_then(|p| listeners.get(&p))
                .is_some_and(|l| !l.processes.is_empty())
    })
}

/// `why`, with what it cannot rule out when no socket of `group` came with tcp_info (the
/// live view asks for it only while the details pane is open): tcp_info's byte counters are
/// what tell a queue that moves from one that is stuck.
fn with_info_caveat(why: &str, group: &[Stuck<'_>], looks_alike: &str) -> String {
    if group.iter().any(|(_, s)| s.tcp_info.is_some()) {
        return why.to_owned();
    }
    format!(
        "{why} Without tcp_info (sockeye check reads it; the live view with the details pane \
         open) {looks_alike} looks the same."
    )
}

/// ESTAB sockets whose Send-Q never drains: the peer is not reading (zero window; the
/// persist timer probes it) or the path is gone.
pub fn stuck_sender(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    by_owner(
        scan,
        // Acknowledged by the peer: the queue drains as fast as it is refilled.
        stuck(
            scan,
            t.send_q_min,
            |s| s.send_q,
            |a, b, _, _| b.bytes_acked > a.bytes_acked,
        ),
    )
    .into_iter()
    .map(|(place, group)| {
        let persist = group
            .iter()
            .any(|(_, s)| s.timer.is_some_and(|t| t.kind == TimerKind::Probe));
        Finding {
            rule: Rule::StuckSender,
            severity: Severity::Warning,
            sockets: connections_filter(group.iter().map(|(_, s)| *s)),
            place,
            evidence: sample_lines(&group, "unsent or unacknowledged (Send-Q)"),
            why: if persist {
                "The peer advertises a zero window: it does not read, so nothing more can \
                     be sent and the persist timer keeps probing."
                    .into()
            } else {
                with_info_caveat(
                    "Sent data is not acknowledged and does not drain: the peer does not read \
                     (zero window) or the path drops packets.",
                    &group,
                    "a peer that reads slowly while the sender keeps the queue full",
                )
            },
            action: "Look at the peer: why it stopped reading (sockeye there shows its \
                         Recv-Q full). Put a timeout on writes so a stalled peer cannot hold \
                         the sender forever."
                .into(),
            threshold: format!(
                "send_q_min = {} bytes in every snapshot, never decreasing",
                t.send_q_min
            ),
        }
    })
    .collect()
}

/// A listener's queue over the window, when it is full now or has stayed at `ratio` of its
/// backlog or more in every sample (accept queues and unix listeners alike).
pub(super) struct Pressure {
    /// Above the backlog now (the kernel refuses or drops the next connection).
    pub full: bool,
    /// The backlog now.
    pub limit: u32,
    /// Queue length per sample (0 where the socket was not seen).
    pub queued: Vec<u64>,
}

pub(super) fn pressure(samples: &[Option<(u32, u32)>], ratio: f64) -> Option<Pressure> {
    let (q, limit) = (*samples.last()?)?;
    let full = q > limit;
    let filling = samples
        .iter()
        .all(|s| s.is_some_and(|(q, limit)| q > 0 && f64::from(q) >= ratio * f64::from(limit)));
    if !full && !filling {
        return None;
    }
    let queued = samples
        .iter()
        .map(|s| s.map_or(0, |(q, _)| u64::from(q)))
        .collect();
    Some(Pressure {
        full,
        limit,
        queued,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;
    use crate::model::TcpState;

    fn listener(q: u32, limit: u32) -> Socket {
        tcp(TcpState::Listen, ("127.0.0.1", 7001), ("0.0.0.0", 0))
            .queues(q, limit)
            .cookie(1)
            .owned("srv", 9)
    }

    #[test]
    fn a_full_accept_queue_is_critical_and_says_which_limit() {
        let c0 = counters(|c| {
            c.somaxconn = Some(4096);
            c.tcp_max_syn_backlog = Some(512);
            c.listen_overflows = Some(10);
            c.listen_drops = Some(10);
        });
        let mut c1 = c0.clone();
        c1.listen_overflows = Some(14);
        c1.listen_drops = Some(14);
        let snaps = counted(vec![(vec![listener(1, 1)], c0), (vec![listener(2, 1)], c1)]);
        let f = accept_queue_overflow(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].place, "listener 127.0.0.1:7001 (srv pid 9)");
        assert_eq!(f[0].sockets.as_deref(), Some("src 127.0.0.1:7001"));
        assert!(
            f[0].evidence[0].contains("1 → 2 of backlog 1"),
            "{:?}",
            f[0].evidence
        );
        assert!(f[0].evidence[1].contains("ListenOverflows +4"));
        assert!(
            f[0].action.contains("listen() backlog (1) is the limit"),
            "{}",
            f[0].action
        );
        assert!(f[0].action.contains("tcp_max_syn_backlog (512)"));
    }

    #[test]
    fn somaxconn_named_when_it_caps_the_backlog() {
        let c = counters(|c| c.somaxconn = Some(128));
        let snaps = window_of(
            vec![vec![listener(129, 128)], vec![listener(129, 128)]],
            Some(c),
        );
        let f = accept_queue_overflow(&scan(&win(&snaps)), &Thresholds::default());
        assert!(
            f[0].action.contains("capped by net.core.somaxconn (128)"),
            "{}",
            f[0].action
        );
    }

    #[test]
    fn a_queue_that_fills_only_once_is_not_reported() {
        let snaps = window_of(
            vec![
                vec![listener(0, 10)],
                vec![listener(10, 10)],
                vec![listener(3, 10)],
            ],
            None,
        );
        assert!(accept_queue_overflow(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        // Held at 90% throughout: a warning.
        let snaps = window_of(vec![vec![listener(9, 10)], vec![listener(10, 10)]], None);
        let f = accept_queue_overflow(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f[0].severity, Severity::Warning);
    }

    #[test]
    fn many_syn_recv_on_a_listener() {
        let syn: Vec<Socket> = (0..130)
            .map(|i| {
                tcp(
                    TcpState::SynRecv,
                    ("127.0.0.1", 7001),
                    ("10.1.1.1", 1000 + i),
                )
            })
            .chain([listener(0, 128)])
            .collect();
        let snaps = window_of(
            vec![syn.clone(), syn],
            Some(counters(|c| c.tcp_max_syn_backlog = Some(1024))),
        );
        let f = syn_backlog_pressure(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].evidence[0].contains("130 SYN-RECV"));
        assert_eq!(f[0].place, "listener 127.0.0.1:7001 (srv pid 9)");
        assert_eq!(
            f[0].sockets.as_deref(),
            Some("state syn-recv sport = :7001")
        );
    }

    fn conn(recv: u32, send: u32) -> Socket {
        tcp(
            TcpState::Established,
            ("127.0.0.1", 7002),
            ("127.0.0.1", 50000),
        )
        .queues(recv, send)
        .cookie(5)
        .owned("app", 3)
    }

    #[test]
    fn unread_data_on_a_connection_never_accepted_says_accept_not_read() {
        // The listener's owner is known; the connection on its port has none: still in the
        // accept queue, so the advice is about accept(), not about a reader.
        let waiting = || {
            tcp(
                TcpState::Established,
                ("127.0.0.1", 7001),
                ("127.0.0.1", 50001),
            )
            .queues(9_000, 0)
            .cookie(6)
        };
        let snaps = window_of(
            vec![
                vec![listener(1, 8), waiting()],
                vec![listener(1, 8), waiting()],
            ],
            None,
        );
        let found = stuck_receiver(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert!(found[0].why.contains("never accepted"), "{}", found[0].why);
        assert!(found[0].action.contains("accept()"), "{}", found[0].action);
        // Accepted (a process holds it): the reader's advice.
        let snaps = window_of(
            vec![
                vec![listener(0, 8), waiting().owned("srv", 9)],
                vec![listener(0, 8), waiting().owned("srv", 9)],
            ],
            None,
        );
        let found = stuck_receiver(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert!(!found[0].why.contains("never accepted"), "{}", found[0].why);
        assert!(found[0].action.contains("strace"), "{}", found[0].action);
    }

    #[test]
    fn a_recv_q_that_never_drains_is_a_stuck_receiver_and_one_that_drains_is_not() {
        let snaps = window_of(
            vec![vec![conn(100, 0)], vec![conn(100, 0)], vec![conn(300, 0)]],
            None,
        );
        let f = stuck_receiver(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].place, "app pid 3");
        assert!(
            f[0].sockets
                .as_deref()
                .is_some_and(|s| s.starts_with("( src "))
        );
        assert!(
            f[0].evidence[1].contains("100 → 100 → 300"),
            "{:?}",
            f[0].evidence
        );
        let snaps = window_of(
            vec![vec![conn(100, 0)], vec![conn(50, 0)], vec![conn(300, 0)]],
            None,
        );
        assert!(stuck_receiver(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        // Empty in one snapshot: it was read.
        let snaps = window_of(
            vec![vec![conn(100, 0)], vec![conn(0, 0)], vec![conn(300, 0)]],
            None,
        );
        assert!(stuck_receiver(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }

    #[test]
    fn a_full_queue_that_moves_is_not_stuck() {
        use super::super::fixture::Mem;
        // A sender into a slow reader: Send-Q held at the send buffer, but the peer
        // acknowledges (bytes_acked grows): data flows, the sender is not stuck.
        let sender = |acked: u64| conn(0, 167_424).bytes(acked, 0);
        let snaps = window_of(
            vec![
                vec![sender(1_000_000)],
                vec![conn(0, 167_424)],
                vec![sender(1_400_000)],
            ],
            None,
        );
        assert!(stuck_sender(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        // Nothing acknowledged over the window: stuck.
        let snaps = window_of(
            vec![
                vec![sender(1_000_000)],
                vec![conn(0, 167_424)],
                vec![sender(1_000_000)],
            ],
            None,
        );
        let found = stuck_sender(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(found.len(), 1);
        // tcp_info said nothing moved: no caveat.
        assert!(
            !found[0].why.contains("Without tcp_info"),
            "{}",
            found[0].why
        );
        // No tcp_info at all (the live view without the details pane): still reported,
        // saying what it cannot tell apart.
        let snaps = window_of(vec![vec![conn(0, 167_424)], vec![conn(0, 167_424)]], None);
        let found = stuck_sender(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert!(
            found[0].why.contains("Without tcp_info")
                && found[0].why.contains("a peer that reads slowly"),
            "{}",
            found[0].why
        );
        let snaps = window_of(vec![vec![conn(9_000, 0)], vec![conn(9_000, 0)]], None);
        let found = stuck_receiver(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(found.len(), 1);
        assert!(
            found[0].why.contains("an application that reads slowly"),
            "{}",
            found[0].why
        );
        // A receiver that reads, slower than data arrives: Recv-Q grows by 20,000 while
        // 400,000 bytes arrived, so the application read 380,000.
        let receiver = |q: u32, received: u64| conn(q, 0).bytes(0, received);
        let snaps = window_of(
            vec![
                vec![receiver(1_000, 50_000)],
                vec![receiver(21_000, 450_000)],
            ],
            None,
        );
        assert!(stuck_receiver(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
        // Everything that arrived is still queued: nothing was read.
        let snaps = window_of(
            vec![
                vec![receiver(1_000, 50_000)],
                vec![receiver(21_000, 70_000)],
            ],
            None,
        );
        assert_eq!(
            stuck_receiver(&scan(&win(&snaps)), &Thresholds::default()).len(),
            1
        );
    }

    #[test]
    fn a_send_q_held_with_the_persist_timer_is_a_zero_window() {
        let snaps = window_of(
            vec![vec![conn(0, 5000)], vec![conn(0, 5000).persist(3)]],
            None,
        );
        let f = stuck_sender(&scan(&win(&snaps)), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert!(f[0].why.contains("zero window"));
        assert!(
            f[0].evidence[1].contains("persist timer, 3 probe(s)"),
            "{:?}",
            f[0].evidence
        );
        let t = Thresholds {
            send_q_min: 10_000,
            ..Thresholds::default()
        };
        assert!(stuck_sender(&scan(&win(&snaps)), &t).is_empty());
        // A listener's queue fields are not a Send-Q.
        let snaps = window_of(vec![vec![listener(0, 4096)], vec![listener(0, 4096)]], None);
        assert!(stuck_sender(&scan(&win(&snaps)), &Thresholds::default()).is_empty());
    }
}
