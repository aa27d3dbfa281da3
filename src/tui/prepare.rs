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
    }
}
