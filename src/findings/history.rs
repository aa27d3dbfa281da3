//! A window of snapshots kept between refreshes, for the front ends that run the rules on
//! every refresh (the live view, the exporter): earlier snapshots are kept distilled, only
//! the sockets a rule compares over time (listeners, queues that are not empty, closing
//! states, UDP sockets with memory, connections with tcp_info), so the window costs a small
//! fraction of one table; the newest snapshot is looked at whole.

use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;

use super::{Finding, Scan, Thresholds, Window, evaluate_scan};
use crate::collect::Query;
use crate::model::{KernelCounters, Netid, NetnsTag, Snapshot, Socket, StateSet, TcpState};
use crate::tables::NetidSet;
use crate::text::escape;

/// What the selection covers, for the host-wide rules (see [`Window::whole_host`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coverage {
    pub whole_host: bool,
    pub tables: NetidSet,
}

impl Coverage {
    /// A query covers the host when nothing filters its sockets: no filter expression, every
    /// state, both families. `scoped` is a scope applied after collection (a pid, ports).
    pub fn of_query(q: &Query, scoped: bool) -> Coverage {
        Coverage {
            whole_host: !scoped
                && q.keep.is_none()
                && q.bytecode.is_none()
                && q.states == StateSet::ALL
                && q.ipv4
                && q.ipv6,
            tables: q.netids,
        }
    }
}

/// The snapshots of the last `span`, oldest first (the newest is pushed, evaluated, and kept
/// distilled).
pub struct History {
    snaps: Vec<Snapshot>,
    /// A snapshot that spans namespaces (`--all-netns`) is judged one namespace at a time,
    /// each with its own window and kernel counters: by nsfs inode.
    per_netns: FxHashMap<u64, Vec<Snapshot>>,
    pub span: Duration,
    pub coverage: Coverage,
    pub thresholds: Thresholds,
}

/// Snapshots kept at most, whatever the interval: the rules look at trends, a dozen samples
/// show them.
const MAX_KEPT: usize = 12;

impl History {
    pub fn new(span: Duration, coverage: Coverage, thresholds: Thresholds) -> History {
        History {
            snaps: Vec::new(),
            per_netns: FxHashMap::default(),
            span,
            coverage,
            thresholds,
        }
    }

    /// Forget the window (the selection changed: the old snapshots hold other sockets).
    pub fn clear(&mut self) {
        self.snaps.clear();
        self.per_netns.clear();
    }

    /// Snapshots in the window now (the newest included once observed).
    pub fn len(&self) -> usize {
        let per_netns = self.per_netns.values().map(Vec::len).max().unwrap_or(0);
        self.snaps.len().max(per_netns)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Run the rules over the window ending with `snap`, then keep it distilled. Returns the
    /// findings and `snap` back, untouched. A snapshot of several namespaces is judged per
    /// namespace, and each finding's place names its namespace (and container).
    pub fn observe(&mut self, snap: Snapshot) -> (Vec<Finding>, Snapshot) {
        if snap.netns.is_some() {
            return self.observe_each_netns(snap);
        }
        observe_in(
            &mut self.snaps,
            snap,
            self.span,
            self.coverage,
            &self.thresholds,
        )
    }

    /// [`History::observe`] of a snapshot spanning namespaces: its sockets are split by
    /// namespace (each with that namespace's own counters), every part goes through its own
    /// window, and the table is put back together in its order.
    fn observe_each_netns(&mut self, mut snap: Snapshot) -> (Vec<Finding>, Snapshot) {
        let reads = snap
            .netns
            .clone()
            .map(|r| r.read.clone())
            .unwrap_or_default();
        // The namespaces in the order they were read; sockets of an unknown one (none in
        // practice) are judged with the snapshot's own counters.
        let mut parts: Vec<(u64, Option<Arc<NetnsTag>>, Option<KernelCounters>)> = reads
            .iter()
            .map(|r| (r.tag.inode, Some(Arc::clone(&r.tag)), r.counters.clone()))
            .collect();
        let mut index: FxHashMap<u64, usize> =
            parts.iter().enumerate().map(|(i, p)| (p.0, i)).collect();
        let mut groups: Vec<Vec<Socket>> = vec![Vec::new(); parts.len()];
        let mut order: Vec<u32> = Vec::with_capacity(snap.sockets.len());
        for s in std::mem::take(&mut snap.sockets) {
            let inode = s.netns.as_ref().map_or(0, |t| t.inode);
            let i = *index.entry(inode).or_insert_with(|| {
                parts.push((inode, s.netns.clone(), snap.counters.clone()));
                groups.push(Vec::new());
                parts.len() - 1
            });
            order.push(i as u32);
            groups[i].push(s);
        }
        self.per_netns
            .retain(|inode, _| parts.iter().any(|p| p.0 == *inode));
        let mut found = Vec::new();
        let mut back: Vec<std::vec::IntoIter<Socket>> = Vec::with_capacity(parts.len());
        for ((inode, tag, counters), sockets) in parts.into_iter().zip(groups) {
            let part = Snapshot::new(snap.taken_at, snap.source, sockets, counters);
            let snaps = self.per_netns.entry(inode).or_default();
            let (mut f, part) = observe_in(snaps, part, self.span, self.coverage, &self.thresholds);
            if let Some(tag) = &tag {
                // As check --all-netns names it: the /run/netns name or net:[INODE], and the
                // container inside.
                let netns = tag.name.as_deref().map_or_else(
                    || format!("net:[{}]", tag.inode),
                    |n| escape(n).into_owned(),
                );
                let inside = match &tag.container {
                    Some(c) => format!(" [netns {netns}, container {}]", escape(&c.label())),
                    None => format!(" [netns {netns}]"),
                };
                for finding in &mut f {
                    finding.place.push_str(&inside);
                }
            }
            found.extend(f);
            back.push(part.sockets.into_iter());
        }
        snap.sockets = order
            .iter()
            .filter_map(|&i| back.get_mut(i as usize).and_then(Iterator::next))
            .collect();
        super::sort(&mut found);
        (found, snap)
    }
}

/// The rules over the window `snaps` ending with `snap`, which is then kept distilled;
/// `snap` comes back untouched.
fn observe_in(
    snaps: &mut Vec<Snapshot>,
    snap: Snapshot,
    span: Duration,
    coverage: Coverage,
    thresholds: &Thresholds,
) -> (Vec<Finding>, Snapshot) {
    // Older than the span (or from the future: the clock went back): out.
    let now = snap.taken_at;
    snaps.retain(|s| now.duration_since(s.taken_at).is_ok_and(|age| age <= span));
    while snaps.len() >= MAX_KEPT {
        snaps.remove(0);
    }
    snaps.push(snap);
    let window = Window {
        snaps,
        whole_host: coverage.whole_host,
        tables: coverage.tables,
    };
    // The newest snapshot is walked once: its tally serves the rules and says what to
    // keep of it (the same sockets as `distill`).
    let scan = Scan::of(&window);
    let found = if snaps.len() < 2 {
        Vec::new()
    } else {
        evaluate_scan(&scan, thresholds)
    };
    let kept: Vec<Socket> = scan
        .last()
        .map(|t| t.kept.iter().map(|&s| s.clone()).collect())
        .unwrap_or_default();
    drop(scan);
    let n = snaps.len() - 1;
    let newest = &snaps[n];
    let kept = Snapshot::new(
        newest.taken_at,
        newest.source,
        kept,
        newest.counters.clone(),
    );
    let snap = std::mem::replace(&mut snaps[n], kept);
    (found, snap)
}

/// The sockets any rule compares across snapshots (the newest is always looked at whole):
/// what [`History`] keeps of an earlier snapshot.
pub fn distill(snap: &Snapshot) -> Snapshot {
    distill_with(snap, true)
}

/// [`distill`]; without `rates`, connections are kept for their queues only and lose their
/// tcp_info (only the window's first snapshot is a baseline for the per-peer retransmit
/// rates: `check` keeps the middle ones lean, at tens of thousands of connections).
pub fn distill_with(snap: &Snapshot, rates: bool) -> Snapshot {
    let sockets: Vec<Socket> = snap
        .sockets
        .iter()
        .filter(|s| kept(s, rates))
        .map(|s| {
            let mut s = s.clone();
            if !rates {
                s.tcp_info = None;
            }
            s
        })
        .collect();
    Snapshot::new(snap.taken_at, snap.source, sockets, snap.counters.clone())
}

pub(super) fn kept(s: &Socket, rates: bool) -> bool {
    let queued = s.recv_q.is_some_and(|q| q > 0) || s.send_q.is_some_and(|q| q > 0);
    match s.netid {
        Netid::Tcp => match s.state {
            TcpState::Listen | TcpState::CloseWait | TcpState::FinWait2 => true,
            TcpState::Established => queued || (rates && s.tcp_info.is_some()),
            // Every other connection (SYN-SENT, FIN-WAIT-1, LAST-ACK …: where a dead peer
            // shows) is a per-peer retransmit baseline when it has tcp_info.
            TcpState::TimeWait => false,
            _ => rates && s.tcp_info.is_some(),
        },
        Netid::Udp => s.memory.is_some() || queued,
        Netid::UnixStream | Netid::UnixSeqpacket => s.state == TcpState::Listen,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::evaluate;
    use super::super::fixture::*;
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn at(secs: u64, sockets: Vec<Socket>) -> Snapshot {
        Snapshot::new(
            UNIX_EPOCH + Duration::from_secs(secs),
            crate::model::Source::Netlink,
            sockets,
            None,
        )
    }

    fn leak(n: u16) -> Vec<Socket> {
        let mut v: Vec<Socket> = (0..n)
            .map(|i| {
                tcp(
                    TcpState::CloseWait,
                    ("127.0.0.1", 7000),
                    ("127.0.0.1", 40000 + i),
                )
                .cookie(u64::from(i))
            })
            .collect();
        v.push(tcp(TcpState::Listen, ("127.0.0.1", 7000), ("0.0.0.0", 0)).cookie(999));
        // Noise a rule never compares: idle connections and TIME-WAIT.
        v.extend((0..50).map(|i| {
            tcp(
                TcpState::TimeWait,
                ("127.0.0.1", 30000 + i),
                ("127.0.0.1", 80),
            )
        }));
        v
    }

    #[test]
    fn the_window_finds_what_evaluate_finds_on_whole_snapshots() {
        let cov = Coverage {
            whole_host: true,
            tables: NetidSet::ALL,
        };
        let mut h = History::new(Duration::from_secs(10), cov, Thresholds::default());
        let rounds: Vec<Snapshot> = (0..4)
            .map(|i| at(100 + i, leak(5 + 2 * i as u16)))
            .collect();
        let mut last = Vec::new();
        for r in &rounds {
            let (found, back) = h.observe(r.clone());
            assert_eq!(back.sockets.len(), r.sockets.len(), "given back whole");
            last = found;
        }
        let direct = evaluate(&win(&rounds), &Thresholds::default());
        assert_eq!(last, direct);
        assert_eq!(last[0].rule, super::super::Rule::CloseWaitLeak);
        // Kept distilled: the TIME-WAIT noise is not held.
        assert!(h.snaps.iter().all(|s| s.sockets.len() < 20));
    }

    #[test]
    fn old_snapshots_leave_the_window() {
        let cov = Coverage {
            whole_host: true,
            tables: NetidSet::ALL,
        };
        let mut h = History::new(Duration::from_secs(5), cov, Thresholds::default());
        for i in 0..30 {
            h.observe(at(100 + i, leak(1)));
        }
        assert_eq!(h.len(), 6);
        // A clock that went back empties the window rather than mixing times.
        h.observe(at(50, leak(1)));
        assert_eq!(h.len(), 1);
        let _ = SystemTime::now();
    }

    #[test]
    fn without_rates_connections_are_kept_for_their_queues_only() {
        let idle = tcp(TcpState::Established, ("10.0.0.1", 1), ("10.0.0.2", 2)).segs(10, 0);
        let busy = tcp(TcpState::Established, ("10.0.0.1", 3), ("10.0.0.2", 4))
            .queues(5, 0)
            .segs(10, 0);
        let snap = at(1, vec![idle, busy]);
        assert_eq!(distill(&snap).sockets.len(), 2);
        let lean = distill_with(&snap, false);
        assert_eq!(lean.sockets.len(), 1);
        assert!(lean.sockets[0].tcp_info.is_none());
        assert_eq!(lean.sockets[0].recv_q, Some(5));
    }

    #[test]
    fn connections_in_any_state_with_tcp_info_are_a_rates_baseline() {
        // SYN-SENT toward a peer that drops SYNs: its retransmits count in the per-peer rate
        // only if the window's first snapshot keeps its tcp_info.
        let syn = tcp(TcpState::SynSent, ("10.0.0.1", 5), ("10.0.0.2", 6))
            .queues(0, 1)
            .segs(2, 1);
        let fin = tcp(TcpState::FinWait1, ("10.0.0.1", 7), ("10.0.0.2", 8)).segs(4, 2);
        let tw = tcp(TcpState::TimeWait, ("10.0.0.1", 9), ("10.0.0.2", 10));
        let snap = at(1, vec![syn, fin, tw]);
        let kept = distill(&snap);
        assert_eq!(kept.sockets.len(), 2);
        assert!(kept.sockets.iter().all(|s| s.tcp_info.is_some()));
        assert!(distill_with(&snap, false).sockets.is_empty());
    }

    #[test]
    fn a_snapshot_of_several_namespaces_is_judged_one_namespace_at_a_time() {
        use crate::model::{NetnsRead, NetnsReads, NetnsTag};
        // `export --all-netns`: two namespaces, each with its own listener 127.0.0.1:7000
        // holding 3 CLOSE-WAIT sockets. Merged they made one leak of 6 (close_wait_min 5),
        // blamed on one process and no namespace.
        let a = Arc::new(NetnsTag::new(11, Some("qa-a".into()), None));
        let b = Arc::new(NetnsTag::new(22, Some("qa-b".into()), None));
        let spanning = |secs: u64, n: u16| {
            let mut sockets = Vec::new();
            for (tag, base) in [(&a, 0u64), (&b, 1000)] {
                for mut s in leak(n) {
                    s.cookie = s.cookie.map(|c| c + base);
                    s.netns = Some(Arc::clone(tag));
                    sockets.push(s);
                }
            }
            let mut snap = at(secs, sockets);
            let read = |tag: &Arc<NetnsTag>| NetnsRead {
                tag: Arc::clone(tag),
                source: crate::model::Source::Netlink,
                fallback_reason: None,
                counters: None,
                sockets: 0,
            };
            snap.netns = Some(Arc::new(NetnsReads {
                read: vec![read(&a), read(&b)],
                unreadable: vec![],
            }));
            snap
        };
        let cov = Coverage {
            whole_host: true,
            tables: crate::tables::NetidSet::ALL,
        };
        let mut h = History::new(Duration::from_secs(60), cov, Thresholds::default());
        for i in 0..3 {
            let (found, _) = h.observe(spanning(100 + i, 3));
            assert!(found.is_empty(), "{found:#?}");
        }
        let mut h = History::new(Duration::from_secs(60), cov, Thresholds::default());
        let mut found = Vec::new();
        for i in 0..3 {
            let snap = spanning(100 + i, 6);
            let want: Vec<_> = snap.sockets.iter().map(|s| s.cookie).collect();
            let (f, back) = h.observe(snap);
            // The table comes back whole, in its order.
            assert_eq!(
                back.sockets.iter().map(|s| s.cookie).collect::<Vec<_>>(),
                want
            );
            found = f;
        }
        let places: Vec<&str> = found.iter().map(|f| f.place.as_str()).collect();
        assert_eq!(
            places,
            [
                "listener 127.0.0.1:7000 [netns qa-a]",
                "listener 127.0.0.1:7000 [netns qa-b]"
            ]
        );
        assert!(
            found[0].evidence[0].contains("6 → 6 → 6"),
            "{:?}",
            found[0].evidence
        );
    }

    #[test]
    fn a_filtered_query_does_not_cover_the_host() {
        let q = Query::default();
        assert!(Coverage::of_query(&q, false).whole_host);
        assert!(!Coverage::of_query(&q, true).whole_host);
        let q = Query {
            ipv6: false,
            ..Query::default()
        };
        assert!(!Coverage::of_query(&q, false).whole_host);
    }
}

/// `cargo test --release --lib findings::history::perf -- --ignored --nocapture`: the rules'
/// own cost at 100,000 connections (README "Findings" has the figures).
#[cfg(test)]
mod perf {
    use super::super::evaluate;
    use super::super::fixture::*;
    use super::*;
    use std::time::{Instant, UNIX_EPOCH};

    fn table(round: u64) -> Snapshot {
        let sockets: Vec<Socket> = (0..100_000u32)
            .map(|i| {
                let peer = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
                let mut s = tcp(
                    TcpState::Established,
                    ("10.0.0.1", 40000 + (i % 20000) as u16),
                    (&peer, 443),
                )
                .cookie(u64::from(i))
                .queues(0, 0)
                .segs(1000 + round as u32, 0);
                s.inode = u64::from(i) + 1;
                s
            })
            .collect();
        Snapshot::new(
            UNIX_EPOCH + Duration::from_secs(1000 + round),
            crate::model::Source::Netlink,
            sockets,
            Some(counters(|c| c.ip_local_port_range = Some((32768, 60999)))),
        )
    }

    #[test]
    #[ignore]
    fn rules_over_100k_connections() {
        let cov = Coverage {
            whole_host: true,
            tables: NetidSet::ALL,
        };
        // check: seven snapshots, the first a rates baseline, the middle lean.
        let mut snaps: Vec<Snapshot> = (0..7)
            .map(|i| {
                let t = table(i);
                match i {
                    0 => distill_with(&t, true),
                    6 => t,
                    _ => distill_with(&t, false),
                }
            })
            .collect();
        let t0 = Instant::now();
        let found = evaluate(
            &Window {
                snaps: &snaps,
                whole_host: true,
                tables: NetidSet::ALL,
            },
            &Thresholds::default(),
        );
        let rules = t0.elapsed();
        snaps.clear();
        // The live view: one observe per refresh over a window of ten (no tcp_info there).
        let mut h = History::new(Duration::from_secs(60), cov, Thresholds::default());
        let mut observe = Duration::ZERO;
        for i in 0..10 {
            let mut t = table(i);
            for s in &mut t.sockets {
                s.tcp_info = None;
            }
            let t0 = Instant::now();
            let _ = h.observe(t);
            observe = t0.elapsed();
        }
        eprintln!(
            "100,000 connections: evaluate over 7 snapshots {:.1} ms ({} findings); live view \
             observe (distill + evaluate over 10) {:.1} ms",
            rules.as_secs_f64() * 1000.0,
            found.len(),
            observe.as_secs_f64() * 1000.0
        );
    }
}
