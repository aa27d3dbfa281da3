//! The sort of the socket tables: the columns `s` cycles through, and the order of a
//! snapshot's sockets for one of them. The state lives in [`super::state`], the key handling
//! in [`super::update`], the work done off the UI thread in [`super::prepare`].

use crate::model::Socket;
use crate::output::columns::{Column, PackedKey};

use super::delta;

/// Columns the socket tables sort by (`s` cycles, `S` reverses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortColumn {
    Local,
    Peer,
    RecvQ,
    SendQ,
    State,
    Netid,
    Process,
}

impl SortColumn {
    pub const ALL: [SortColumn; 7] = [
        SortColumn::Local,
        SortColumn::Peer,
        SortColumn::RecvQ,
        SortColumn::SendQ,
        SortColumn::State,
        SortColumn::Netid,
        SortColumn::Process,
    ];
    pub fn title(self) -> &'static str {
        match self {
            SortColumn::Local => "Local",
            SortColumn::Peer => "Peer",
            SortColumn::RecvQ => "Recv-Q",
            SortColumn::SendQ => "Send-Q",
            SortColumn::State => "State",
            SortColumn::Netid => "Netid",
            SortColumn::Process => "Process",
        }
    }
    /// The column of the column model this sorts by.
    pub fn column(self) -> Column {
        match self {
            SortColumn::Local => Column::Local,
            SortColumn::Peer => Column::Peer,
            SortColumn::RecvQ => Column::RecvQ,
            SortColumn::SendQ => Column::SendQ,
            SortColumn::State => Column::State,
            SortColumn::Netid => Column::Netid,
            SortColumn::Process => Column::Process,
        }
    }
    pub fn next(self) -> SortColumn {
        let i = SortColumn::ALL.iter().position(|c| *c == self).unwrap_or(0);
        SortColumn::ALL[(i + 1) % SortColumn::ALL.len()]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub column: SortColumn,
    pub descending: bool,
}

/// Snapshot indices in the order of `sort`. The sort keys are computed once per socket (not
/// once per comparison); ties fall back to the local (or, sorting by local, the peer)
/// endpoint, then to snapshot order.
pub fn sorted_order(socks: &[Socket], sort: Sort) -> Vec<usize> {
    let mut order = ascending_order(socks, sort.column, None);
    if sort.descending {
        order.reverse();
    }
    order
}

/// Buffers the per-refresh sort keeps from one refresh to the next: at 100,000 sockets they
/// hold ~6 MiB, which allocated afresh every second the kernel would map, zero and unmap
/// again (more time than the sort itself).
#[derive(Default)]
pub struct SortScratch {
    keys: Vec<(PackedKey, PackedKey, u32)>,
    at_rank: Vec<u32>,
    body: Vec<u32>,
}

/// [`sorted_order`], ascending, optionally with each socket's position in the previous
/// refresh's order (`hint`, [`delta::NO_RANK`] when new).
pub fn ascending_order(socks: &[Socket], column: SortColumn, hint: Option<&[u32]>) -> Vec<usize> {
    ascending_order_with(socks, column, hint, &mut SortScratch::default())
}

/// [`ascending_order`] with buffers kept between refreshes.
///
/// The hint only decides how the sort starts, never the result. Taken in their previous
/// order, the sockets that stayed are already sorted when their keys did not change (the
/// common case for endpoint columns): then only the newcomers are sorted and merged in, in
/// linear time. Otherwise everything is sorted.
///
/// Sockets whose two keys hold no strings (inet endpoints, numbers) are sorted on packed
/// integer keys, the rest (unix paths, process names) on the full keys, and the two sorted
/// lists are merged.
pub fn ascending_order_with(
    socks: &[Socket],
    column: SortColumn,
    hint: Option<&[u32]>,
    scratch: &mut SortScratch,
) -> Vec<usize> {
    let c = column.column();
    let second = if c == Column::Local {
        Column::Peer
    } else {
        Column::Local
    };
    // Keys are computed in snapshot order: one sequential pass over the (large) sockets.
    let keys = &mut scratch.keys;
    keys.clear();
    keys.reserve(socks.len());
    let mut slow = Vec::new();
    for (i, s) in socks.iter().enumerate() {
        let (a, b) = (c.sort_key(s), second.sort_key(s));
        match (a.packed(), b.packed()) {
            (Some(pa), Some(pb)) => keys.push((pa, pb, i as u32)),
            _ => slow.push((a, b, i)),
        }
    }
    slow.sort_unstable();
    // The packed keys in order, as positions in `keys`.
    let hinted = hint
        .filter(|h| h.len() == socks.len())
        .and_then(|ranks| merge_by_rank(keys, ranks, &mut scratch.at_rank, &mut scratch.body));
    let fast = hinted.unwrap_or_else(|| {
        keys.sort_unstable();
        (0..keys.len() as u32).collect()
    });
    let full = |i: usize| (c.sort_key(&socks[i]), second.sort_key(&socks[i]), i);
    let mut order = Vec::with_capacity(socks.len());
    let mut slow = slow.into_iter().peekable();
    for p in fast {
        let i = keys[p as usize].2 as usize;
        if slow.peek().is_some() {
            let key = full(i);
            while let Some(next) = slow.next_if(|k| *k < key) {
                order.push(next.2);
            }
        }
        order.push(i);
    }
    order.extend(slow.map(|k| k.2));
    order
}

/// The packed keys in order, as positions in `keys`, when the sockets that stayed are still
/// in their previous order: then only the newcomers are sorted and merged in. `None` when
/// they are not (a key changed), for a full sort.
fn merge_by_rank(
    keys: &[(PackedKey, PackedKey, u32)],
    ranks: &[u32],
    at_rank: &mut Vec<u32>,
    body: &mut Vec<u32>,
) -> Option<Vec<u32>> {
    let mut tail = by_rank(keys, ranks, at_rank, body);
    let key = |p: &u32| &keys[*p as usize];
    if !body.windows(2).all(|w| key(&w[0]) < key(&w[1])) {
        return None;
    }
    tail.sort_unstable_by(|a, b| key(a).cmp(key(b)));
    let mut out = Vec::with_capacity(keys.len());
    let (mut i, mut j) = (0, 0);
    while i < body.len() && j < tail.len() {
        if key(&tail[j]) < key(&body[i]) {
            out.push(tail[j]);
            j += 1;
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&body[i..]);
    out.extend_from_slice(&tail[j..]);
    Some(out)
}

/// Positions in `keys` by previous rank: into `body` those with a rank, in rank order; the
/// rest (new sockets, or a second socket claiming a rank: same identity) are returned, in
/// snapshot order.
fn by_rank(
    keys: &[(PackedKey, PackedKey, u32)],
    ranks: &[u32],
    at_rank: &mut Vec<u32>,
    body: &mut Vec<u32>,
) -> Vec<u32> {
    let slots = keys
        .iter()
        .map(|k| ranks[k.2 as usize])
        .filter(|&r| r != delta::NO_RANK)
        .max()
        .map_or(0, |r| r as usize + 1);
    at_rank.clear();
    at_rank.resize(slots, u32::MAX);
    let mut rest = Vec::new();
    for (pos, k) in keys.iter().enumerate() {
        match at_rank.get_mut(ranks[k.2 as usize] as usize) {
            Some(slot) if *slot == u32::MAX => *slot = pos as u32,
            _ => rest.push(pos as u32),
        }
    }
    body.clear();
    body.extend(at_rank.iter().copied().filter(|&p| p != u32::MAX));
    rest
}
