//! What changed between two refreshes: sockets that appeared, queues that moved, byte rates,
//! and per-interval deltas of kernel counters.

use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use crate::group::FastHasher;
use crate::model::{Endpoint, KernelCounters, Snapshot, Socket};

/// Identity of a socket across refreshes: the kernel cookie when known, else a hash of its
/// table, endpoints and inode.
pub fn key(s: &Socket) -> u64 {
    if let Some(c) = s.cookie {
        return c;
    }
    let mut h = FastHasher::default();
    s.netid.hash(&mut h);
    hash_endpoint(&s.local, &mut h);
    hash_endpoint(&s.peer, &mut h);
    s.inode.hash(&mut h);
    // The same endpoints may exist in two namespaces (cookies are unique machine-wide).
    if let Some(t) = &s.netns {
        t.inode.hash(&mut h);
    }
    // Keep clear of small cookie values (cookies count up from 1).
    h.finish() | (1 << 63)
}

fn hash_endpoint(e: &Endpoint, h: &mut impl Hasher) {
    match e {
        Endpoint::Inet { addr, port } => {
            addr.hash(h);
            port.hash(h);
        }
        Endpoint::Unix { path, inode } => {
            path.hash(h);
            inode.hash(h);
        }
        other => other.hash(h),
    }
}

/// Every socket's [`key`] with its index, sorted as [`Tracker::by_key`] gives them: for
/// tests of the trackers that merge in that order, without a `Tracker`.
#[cfg(test)]
pub fn sorted_keys(snap: &Snapshot) -> Vec<(u64, u32)> {
    let mut by_key: Vec<(u64, u32)> = snap
        .sockets
        .iter()
        .enumerate()
        .map(|(i, s)| (key(s), i as u32))
        .collect();
    by_key.sort_unstable();
    by_key
}

/// [`Changes::ranks`] of a socket the previous refresh did not have.
pub const NO_RANK: u32 = u32::MAX;

/// Marks of one socket for one refresh.
pub const NEW: u8 = 1;
pub const QUEUE_CHANGED: u8 = 2;

#[derive(Clone, Copy, Debug, PartialEq)]
struct Sample {
    recv_q: Option<u32>,
    send_q: Option<u32>,
    /// Position in the previous refresh's sort order (see [`Tracker::set_order`]).
    rank: u32,
}

/// Byte rates of a socket between the last two refreshes (bytes per second).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    pub sent: f64,
    pub received: f64,
}

/// Per-interval changes of the kernel counters the header shows. `None` until two readings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterDeltas {
    pub listen_overflows: Option<u64>,
    pub listen_drops: Option<u64>,
    pub retrans_segs: Option<u64>,
}

/// Remembers the previous refresh.
#[derive(Default)]
pub struct Tracker {
    /// The previous refresh's samples, sorted by key.
    prev: Vec<(u64, Sample)>,
    /// For each entry of `prev`, the index of its socket in that refresh's snapshot.
    prev_socket: Vec<u32>,
    /// Buffers kept for the next refresh: allocating these tables
    /// afresh every second costs more in page faults than filling them.
    spare: Vec<(u64, Sample)>,
    by_key: Vec<(u64, u32)>,
    radix_buf: Vec<(u64, u32)>,
    cur: Vec<Sample>,
    /// Byte counters (acked, received) of `prev` / of the sockets in snapshot order, kept
    /// only while some socket has tcp_info (the detail pane is open): the samples themselves
    /// stay small, as they are rebuilt for every socket every refresh.
    prev_bytes: Vec<Option<(u64, u64)>>,
    cur_bytes: Vec<Option<(u64, u64)>>,
    prev_time: Option<SystemTime>,
    /// The previous refresh's kernel counters: one set, or with `--all-netns` one per
    /// namespace (keyed by its inode; the merged snapshot's own are only the first's).
    prev_counters: Vec<(u64, KernelCounters)>,
}

/// What [`Tracker::update`] found: marks and rates indexed like the snapshot's sockets.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// [`key`] of every socket.
    pub keys: Vec<u64>,
    pub marks: Vec<u8>,
    /// Empty when no socket has tcp_info.
    pub rates: Vec<Option<Rates>>,
    /// Each socket's position in the previous refresh's (ascending) sort order, [`NO_RANK`]
    /// for a new socket: a hint that makes sorting a mostly unchanged table nearly linear.
    pub ranks: Vec<u32>,
    pub counters: CounterDeltas,
}

impl Tracker {
    /// Compare `snap` with the previous one. The first snapshot marks nothing.
    pub fn update(&mut self, snap: &Snapshot) -> Changes {
        let first = self.prev_time.is_none();
        let dt = self
            .prev_time
            .and_then(|t| snap.taken_at.duration_since(t).ok())
            .map(|d| d.as_secs_f64())
            .filter(|d| *d > 0.0);
        let n = snap.sockets.len();
        // One sequential pass over the (large) sockets; the merge below then reads only the
        // small samples in key order, not the sockets.
        let mut keys: Vec<u64> = Vec::with_capacity(n);
        let mut cur = std::mem::take(&mut self.cur);
        cur.clear();
        cur.reserve(n);
        let mut any_info = false;
        for s in &snap.sockets {
            keys.push(key(s));
            // Rates need tcp_info (asked for only while the detail pane is open).
            any_info |= s.tcp_info.is_some();
            cur.push(Sample {
                recv_q: s.recv_q,
                send_q: s.send_q,
                rank: NO_RANK,
            });
        }
        let mut cur_bytes = std::mem::take(&mut self.cur_bytes);
        cur_bytes.clear();
        if any_info {
            cur_bytes.extend(snap.sockets.iter().map(|s| {
                s.tcp_info
                    .as_ref()
                    .map(|t| (t.bytes_acked, t.bytes_received))
            }));
        }
        let mut next_bytes = Vec::with_capacity(if any_info { n } else { 0 });
        let mut marks = vec![0u8; n];
        let mut rates = if any_info { vec![None; n] } else { Vec::new() };
        // Sort-merge with the previous refresh (kept sorted by key): two sorted walks beat
        // 100,000 hash-map inserts and lookups, and the table is half the size.
        let mut by_key = std::mem::take(&mut self.by_key);
        by_key.clear();
        by_key.extend(keys.iter().enumerate().map(|(i, k)| (*k, i as u32)));
        radix_sort(&mut by_key, &mut self.radix_buf);
        let mut next = std::mem::take(&mut self.spare);
        next.clear();
        next.reserve(n);
        let mut ranks = vec![NO_RANK; n];
        let mut j = 0;
        for &(k, i) in &by_key {
            let i = i as usize;
            let sample = cur[i];
            while j < self.prev.len() && self.prev[j].0 < k {
                j += 1;
            }
            let bytes = cur_bytes.get(i).copied().flatten();
            let prev_bytes = self.prev_bytes.get(j).copied().flatten();
            match self.prev.get(j).filter(|p| p.0 == k).map(|p| &p.1) {
                None if !first => marks[i] |= NEW,
                None => {}
                Some(p) => {
                    ranks[i] = p.rank;
                    if p.recv_q != sample.recv_q || p.send_q != sample.send_q {
                        marks[i] |= QUEUE_CHANGED;
                    }
                    if let (Some(dt), Some((a0, r0)), Some((a1, r1))) = (dt, prev_bytes, bytes) {
                        rates[i] = Some(Rates {
                            sent: a1.saturating_sub(a0) as f64 / dt,
                            received: r1.saturating_sub(r0) as f64 / dt,
                        });
                    }
                }
            }
            next.push((k, sample));
            if any_info {
                next_bytes.push(bytes);
            }
        }
        let counters = self.counter_deltas(snap);
        self.spare = std::mem::replace(&mut self.prev, next);
        self.prev_socket.clear();
        self.prev_socket.extend(by_key.iter().map(|&(_, i)| i));
        self.by_key = by_key;
        self.cur = cur;
        self.cur_bytes = cur_bytes;
        self.prev_bytes = next_bytes;
        self.prev_time = Some(snap.taken_at);
        Changes {
            keys,
            marks,
            rates,
            ranks,
            counters,
        }
    }

    /// The header's counter deltas since the previous refresh. With `--all-netns` each
    /// namespace's counters change on their own: the deltas of the namespaces read both
    /// times are summed (a namespace that appeared has no delta yet).
    fn counter_deltas(&mut self, snap: &Snapshot) -> CounterDeltas {
        let cur: Vec<(u64, KernelCounters)> = match &snap.netns {
            Some(reads) => reads
                .read
                .iter()
                .filter_map(|r| Some((r.tag.inode, r.counters.clone()?)))
                .collect(),
            None => snap.counters.iter().map(|c| (0, c.clone())).collect(),
        };
        let prev = std::mem::replace(&mut self.prev_counters, cur);
        let d = |x: Option<u64>, y: Option<u64>| Some(y?.saturating_sub(x?));
        // A namespace whose delta is unknown adds nothing; the sum stays unknown only when
        // no namespace's is known.
        let add = |acc: &mut Option<u64>, v: Option<u64>| {
            if let Some(v) = v {
                *acc = Some(acc.unwrap_or(0).saturating_add(v));
            }
        };
        let mut out = CounterDeltas::default();
        for (ns, b) in &self.prev_counters {
            let Some((_, a)) = prev.iter().find(|(p, _)| p == ns) else {
                continue;
            };
            add(
                &mut out.listen_overflows,
                d(a.listen_overflows, b.listen_overflows),
            );
            add(&mut out.listen_drops, d(a.listen_drops, b.listen_drops));
            add(&mut out.retrans_segs, d(a.retrans_segs, b.retrans_segs));
        }
        out
    }

    /// The last snapshot given to [`Tracker::update`] as (key, index) pairs sorted by key
    /// (then index): the order other per-socket trackers merge in.
    pub fn by_key(&self) -> &[(u64, u32)] {
        &self.by_key
    }

    /// Remember the ascending sort order of the snapshot just given to [`Tracker::update`]
    /// (snapshot indices), so the next update can tell each socket's previous position.
    pub fn set_order(&mut self, order: &[usize]) {
        let mut rank_of = vec![NO_RANK; self.prev_socket.len()];
        for (r, &i) in order.iter().enumerate() {
            if let Some(slot) = rank_of.get_mut(i) {
                *slot = r as u32;
            }
        }
        for (entry, &i) in self.prev.iter_mut().zip(&self.prev_socket) {
            entry.1.rank = rank_of.get(i as usize).copied().unwrap_or(NO_RANK);
        }
    }
}

/// Sort (key, index) pairs by key, then index: an LSD radix sort, a byte a pass, skipping
/// the passes where every key has the same byte. Keys are mostly kernel cookies (a counter,
/// so their high bytes are all zero): three or four passes over 100,000 pairs take ~1 ms,
/// against ~4 ms for a comparison sort. The input is in index order and every pass is stable,
/// so equal keys stay in index order, as with sorting the pairs.
fn radix_sort(v: &mut Vec<(u64, u32)>, buf: &mut Vec<(u64, u32)>) {
    let mut counts = [[0usize; 256]; 8];
    for &(k, _) in v.iter() {
        for (b, c) in counts.iter_mut().enumerate() {
            c[((k >> (8 * b)) & 0xff) as usize] += 1;
        }
    }
    let n = v.len();
    for (b, c) in counts.iter().enumerate() {
        if c.contains(&n) {
            continue; // every key has the same byte here
        }
        let mut start = [0usize; 256];
        let mut sum = 0;
        for (d, &x) in c.iter().enumerate() {
            start[d] = sum;
            sum += x;
        }
        buf.clear();
        buf.resize(n, (0, 0));
        for &(k, i) in v.iter() {
            let d = ((k >> (8 * b)) & 0xff) as usize;
            buf[start[d]] = (k, i);
            start[d] += 1;
        }
        std::mem::swap(v, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_equals_sorting_the_pairs() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut buf = Vec::new();
        for (n, mask) in [
            (0, 0),
            (1, u64::MAX),
            (1000, 0xffff),
            (5000, u64::MAX),
            (300, 3),
        ] {
            let mut v: Vec<(u64, u32)> = (0..n).map(|i| (next() & mask, i)).collect();
            // Cookie-like keys with a hash-like one (bit 63) mixed in.
            if n > 10 {
                v[3].0 |= 1 << 63;
            }
            let mut want = v.clone();
            want.sort_unstable();
            radix_sort(&mut v, &mut buf);
            assert_eq!(v, want, "n={n} mask={mask:x}");
        }
    }
}
