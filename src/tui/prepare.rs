//! The work on each snapshot done off the UI thread, by the collector thread: counts, groups,
//! the listener tree, changes since the previous refresh and the sort order.

use std::time::{Duration, Instant};

use crate::group::{self, ListenerTree, StateCounts, StateGroup};
use crate::model::{Endpoint, Snapshot, Socket, TcpState};

use super::delta::{Changes, Tracker};
use super::sort::{Sort, SortScratch, ascending_order_with};

/// What lives as long as the refreshes: the previous refresh (for changes and the sort's
/// hint) and the sort's buffers.
#[derive(Default)]
pub struct Preparer {
    pub tracker: Tracker,
    pub sort_scratch: SortScratch,
    /// The previous refresh's connections, for the Lifecycle view's transition rates.
    pub lifecycle: super::lifecycle::Tracker,
    /// The connections by cookie, for the Closed view.
    pub sightings: super::closed::Sightings,
}

/// Distinct local ports of non-listening TCP sockets inside `ip_local_port_range`, and the
/// range's size: how close outbound connections are to running out of ports. (Accepted
/// connections share their listener's port, so ports are counted once.) Fed one socket at a
/// time, like [`group::StateTally`].
struct EphemeralTally {
    range: Option<(u16, u16)>,
    seen: Vec<u64>, // one bit per port
    used: u64,
}

impl EphemeralTally {
    fn new(snap: &Snapshot) -> EphemeralTally {
        let range = snap
            .counters
            .as_ref()
            .and_then(|c| c.ip_local_port_range)
            .filter(|(lo, hi)| lo <= hi);
        EphemeralTally {
            range,
            seen: if range.is_some() {
                vec![0; 1024]
            } else {
                Vec::new()
            },
            used: 0,
        }
    }

    fn add(&mut self, s: &Socket) {
        let Some((lo, hi)) = self.range else {
            return;
        };
        if s.netid != crate::model::Netid::Tcp || s.state == TcpState::Listen {
            return;
        }
        if let Endpoint::Inet { port, .. } = s.local
            && (lo..=hi).contains(&port)
        {
            let (w, b) = (usize::from(port / 64), port % 64);
            if self.seen[w] & (1 << b) == 0 {
                self.seen[w] |= 1 << b;
                self.used += 1;
            }
        }
    }

    fn finish(self) -> Option<(u64, u64)> {
        let (lo, hi) = self.range?;
        Some((self.used, u64::from(hi - lo) + 1))
    }
}

/// A snapshot with everything derived from it that does not depend on the UI state except
/// the sort: made by the collector thread so the UI thread only builds rows.
pub struct Prepared {
    pub snapshot: Snapshot,
    pub counts: StateCounts,
    pub groups: Vec<StateGroup>,
    pub tree: ListenerTree,
    pub changes: Changes,
    pub ephemeral: Option<(u64, u64)>,
    /// The sort `order` follows.
    pub sort: Sort,
    pub order: Vec<usize>,
    /// State-machine moves since the previous snapshot (the Lifecycle view).
    pub moves: super::lifecycle::Moves,
    /// This snapshot's connections by cookie (births, states, holders) for the Closed view.
    pub seen: std::sync::Arc<super::closed::Generation>,
    /// Time taken by each step (for `SOCKEYE_TRACE`).
    pub steps: [(&'static str, Duration); 6],
    /// The findings over the window ending with this snapshot (filled by the worker).
    pub findings: Vec<crate::findings::Finding>,
    /// The scoped pids (`--pid`, `attach --pid`) that no longer exist (filled by the worker).
    pub exited: Vec<u32>,
}

/// Derive everything from a snapshot: counts, changes since the previous one (`preparer`),
/// groups, the listener tree, and the order for `sort`.
pub fn prepare(preparer: &mut Preparer, snapshot: Snapshot, sort: Sort) -> Prepared {
    let Preparer {
        tracker,
        sort_scratch,
        lifecycle,
        sightings,
    } = preparer;
    let socks = &snapshot.sockets;
    // Two independent halves: changes and sort (the sort needs the changes' ranks) on this
    // thread, counts, groups and the listener tree on a second one — the machine has two
    // cores and at 100,000 sockets each half takes ~10 ms, so a refresh is ready sooner.
    let (
        (changes, order, seen, moves, t_deltas, t_sort, t_seen, t_moves),
        (counts, groups, ephemeral, tree, t_states, t_tree),
    ) = std::thread::scope(|scope| {
        let other = scope.spawn(|| {
            let t0 = Instant::now();
            // Counts, state groups and ephemeral ports in one walk over the table.
            let mut tally = group::StateTally::default();
            let mut ephemeral = EphemeralTally::new(&snapshot);
            for (i, s) in socks.iter().enumerate() {
                tally.add(i, s);
                ephemeral.add(s);
            }
            let (counts, groups) = tally.finish();
            let ephemeral = ephemeral.finish();
            let t1 = Instant::now();
            let tree = group::by_listener(socks);
            (counts, groups, ephemeral, tree, t1 - t0, t1.elapsed())
        });
        let t0 = Instant::now();
        let changes = tracker.update(&snapshot);
        let t1 = Instant::now();
        let mut order =
            ascending_order_with(socks, sort.column, Some(&changes.ranks), sort_scratch);
        tracker.set_order(&order);
        if sort.descending {
            order.reverse();
        }
        let t2 = Instant::now();
        let seen = sightings.update_sorted(&snapshot, tracker.by_key());
        let t3 = Instant::now();
        let moves = lifecycle.update_sorted(&snapshot, tracker.by_key());
        let mine = (
            changes,
            order,
            seen,
            moves,
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t3.elapsed(),
        );
        // A panic there is a bug; re-raise it here rather than lose it.
        let theirs = other
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (mine, theirs)
    });
    Prepared {
        counts,
        changes,
        ephemeral,
        groups,
        tree,
        order,
        sort,
        snapshot,
        moves,
        seen,
        steps: [
            ("deltas", t_deltas),
            ("sort", t_sort),
            ("states", t_states),
            ("listeners", t_tree),
            ("lifecycle", t_moves),
            ("sightings", t_seen),
        ],
        findings: Vec::new(),
        exited: Vec::new(),
    }
}

/// `cargo test --release --lib tui::prepare::perf -- --ignored --nocapture`: each step of
/// [`prepare`] over a table like `benches/tui_live.sh` builds (six listeners, 49,800
/// connected pairs, TIME-WAIT churn), without the kernel: what a refresh costs sockeye itself.
#[cfg(test)]
mod perf {
    use super::*;
    use crate::model::{Netid, ProcessRef, Source};
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    fn table(round: u64) -> Vec<Socket> {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let inet = |port| Endpoint::Inet { addr: lo, port };
        let holder = |pid: u32, fd: u32| {
            crate::model::Holders::from(vec![ProcessRef {
                command: Arc::from("python3"),
                pid,
                fd,
                nspid: None,
                proc_ctx: None,
                sock_ctx: None,
            }])
        };
        let mut v = Vec::with_capacity(100_000);
        let mut cookie = 1u64;
        for p in 0..6u16 {
            let mut l = Socket::new(Netid::Tcp, TcpState::Listen, inet(9000 + p), inet(0));
            l.recv_q = Some(0);
            l.send_q = Some(4096);
            l.cookie = Some(cookie);
            l.inode = cookie;
            l.processes = holder(100 + u32::from(p), 3);
            v.push(l);
            cookie += 1;
        }
        for i in 0..49_800u64 {
            let p = (i % 6) as u16;
            let eph = 32768 + (i % 28_000) as u16;
            for (local, peer) in [(inet(eph), inet(9000 + p)), (inet(9000 + p), inet(eph))] {
                let mut s = Socket::new(Netid::Tcp, TcpState::Established, local, peer);
                s.recv_q = Some(0);
                s.send_q = Some(0);
                s.cookie = Some(cookie);
                s.inode = cookie;
                s.uid = Some(0);
                s.processes = holder(100 + u32::from(p), 4 + (i / 6) as u32);
                v.push(s);
                cookie += 1;
            }
        }
        // 50 closes a second for a minute: TIME-WAIT sockets, a new batch each round.
        for i in 0..3000u64 {
            let n = round * 50 + i;
            let mut s = Socket::new(
                Netid::Tcp,
                TcpState::TimeWait,
                inet(61000 + (n % 4000) as u16),
                inet(9000),
            );
            s.cookie = Some(1_000_000 + n);
            v.push(s);
        }
        // The kernel lists sockets in hash-bucket order, not by cookie.
        let n = v.len();
        (0..n).map(|i| v[(i * 7919) % n].clone()).collect()
    }

    #[test]
    #[ignore]
    fn steps_over_100k_sockets() {
        let mut preparer = Preparer::default();
        let sort = Sort {
            column: crate::output::columns::Column::Local,
            descending: false,
        };
        let mut best: Vec<(&'static str, Duration)> = Vec::new();
        let mut total = Duration::MAX;
        for round in 0..12 {
            let snap = Snapshot::new(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1000 + round),
                Source::Netlink,
                table(round),
                None,
            );
            let t0 = Instant::now();
            let p = prepare(&mut preparer, snap, sort);
            let took = t0.elapsed();
            if round < 2 {
                continue;
            }
            total = total.min(took);
            for (i, (name, d)) in p.steps.iter().enumerate() {
                if best.len() <= i {
                    best.push((name, *d));
                }
                best[i].1 = best[i].1.min(*d);
            }
        }
        let steps: Vec<String> = best
            .iter()
            .map(|(n, d)| format!("{n} {:.1}", d.as_secs_f64() * 1000.0))
            .collect();
        println!(
            "prepare, best of 10 (ms): total {:.1}; {}",
            total.as_secs_f64() * 1000.0,
            steps.join(", ")
        );
    }
}
