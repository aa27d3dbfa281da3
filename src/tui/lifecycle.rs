//! The TCP state machine's moves between two refreshes, inferred from snapshots: each
//! connection is followed by its table and two endpoints (its cookie changes when a request
//! becomes a socket or a socket a TIME-WAIT, its 4-tuple does not), and every change of
//! state, appearance (from CLOSED, or LISTEN for SYN-RECV) and disappearance (to CLOSED) is
//! counted. A move that skipped states between two refreshes is counted as skipped, not
//! spread over edges it may not have taken. Listeners are not followed (they have no peer).

use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use rustc_hash::FxHashMap;

use crate::model::{Endpoint, Netid, PREFETCH_AHEAD, Snapshot, Socket, TcpState, prefetch_socket};

/// States are indexed by their kernel number (1..=11); 0 is unused.
const N: usize = 12;

/// Moves seen between the last two refreshes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Moves {
    /// `counts[from][to]`, by kernel state number.
    counts: [[u32; N]; N],
    /// Seconds between the two snapshots; None after the first one.
    pub interval: Option<f64>,
    /// Moves that do not follow one edge of the diagram (states skipped between refreshes).
    pub skipped: u32,
    /// With destroy events: connections freed in this interval that no snapshot ever saw
    /// (opened and closed between two refreshes, invisible to the comparison). None when
    /// the closes come from snapshots.
    pub unseen_closes: Option<u32>,
}

impl Moves {
    /// Connections that moved `from` → `to` since the previous refresh.
    pub fn count(&self, from: TcpState, to: TcpState) -> u32 {
        self.counts[from as usize][to as usize]
    }

    /// The same per second; None until two refreshes.
    pub fn rate(&self, from: TcpState, to: TcpState) -> Option<f64> {
        let secs = self.interval.filter(|s| *s > 0.0)?;
        Some(f64::from(self.count(from, to)) / secs)
    }
}

/// The edges of the classic diagram (RFC 793, figure 6) that ss can observe.
pub const EDGES: &[(TcpState, TcpState)] = {
    use TcpState::*;
    &[
        (Close, SynSent),
        (Listen, SynRecv),
        (SynSent, Established),
        (SynRecv, Established),
        (SynSent, Close),
        (Established, FinWait1),
        (Established, CloseWait),
        (FinWait1, FinWait2),
        (FinWait1, Closing),
        (FinWait1, TimeWait),
        (FinWait2, TimeWait),
        (Closing, TimeWait),
        (CloseWait, LastAck),
        (LastAck, Close),
        (TimeWait, Close),
        (Established, Close),
    ]
};

fn is_edge(from: TcpState, to: TcpState) -> bool {
    EDGES.contains(&(from, to))
}

/// Remembers the previous refresh's connections.
#[derive(Default)]
pub struct Tracker {
    /// (delta key, connection key, state) of the previous refresh's connections, sorted by
    /// delta key: most connections are matched by a merge in the delta tracker's key order,
    /// and only those that appeared or vanished are matched by their endpoints — hashing
    /// 100,000 endpoint pairs into a map each refresh cost several times more.
    prev: Vec<(u64, u64, TcpState)>,
    spare: Vec<(u64, u64, TcpState)>,
    prev_at: Option<SystemTime>,
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

/// A TCP connection's identity across its states: table and both endpoints.
fn conn_key(s: &Socket) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    s.netid.hash(&mut h);
    hash_endpoint(&s.local, &mut h);
    hash_endpoint(&s.peer, &mut h);
    h.finish()
}

fn followed(s: &Socket) -> bool {
    s.netid == Netid::Tcp && s.state != TcpState::Listen
}

impl Tracker {
    /// [`Tracker::update_sorted`] for a caller without the delta tracker's key order.
    #[cfg(test)]
    pub fn update(&mut self, snapshot: &Snapshot) -> Moves {
        self.update_sorted(snapshot, &super::delta::sorted_keys(snapshot))
    }

    /// Compare `snapshot` with the previous one. `by_key` is every socket's
    /// [`super::delta::key`] with its index, sorted by key ([`super::delta::Tracker::by_key`]).
    pub fn update_sorted(&mut self, snapshot: &Snapshot, by_key: &[(u64, u32)]) -> Moves {
        let mut cur = std::mem::take(&mut self.spare);
        cur.clear();
        // Connections whose key the previous refresh did not have, and (below) the previous
        // connections this one does not list: a request that became a socket and a socket
        // that became a TIME-WAIT change their cookie, not their endpoints.
        let mut appeared: Vec<(u64, TcpState)> = Vec::new();
        let mut vanished: FxHashMap<u64, TcpState> = FxHashMap::default();
        let mut moved: Vec<(TcpState, TcpState)> = Vec::new();
        let mut j = 0;
        for (n, &(k, i)) in by_key.iter().enumerate() {
            // In cookie order each socket is a cache miss: fetched ahead.
            if let Some(&(_, a)) = by_key.get(n + PREFETCH_AHEAD)
                && let Some(s) = snapshot.sockets.get(a as usize)
            {
                prefetch_socket(s);
            }
            let Some(s) = snapshot.sockets.get(i as usize).filter(|s| followed(s)) else {
                continue;
            };
            // A socket listed twice (one dump can): once.
            if cur.last().is_some_and(|c| c.0 == k) {
                continue;
            }
            while j < self.prev.len() && self.prev[j].0 < k {
                vanished.insert(self.prev[j].1, self.prev[j].2);
                j += 1;
            }
            match self.prev.get(j) {
                Some(&(pk, ck, from)) if pk == k => {
                    j += 1;
                    if from == s.state {
                        cur.push((k, ck, s.state));
                    } else {
                        moved.push((from, s.state));
                        // A state change may come with new endpoints (connect after bind).
                        cur.push((k, conn_key(s), s.state));
                    }
                }
                _ => {
                    let ck = conn_key(s);
                    appeared.push((ck, s.state));
                    cur.push((k, ck, s.state));
                }
            }
        }
        for &(_, ck, from) in &self.prev[j.min(self.prev.len())..] {
            vanished.insert(ck, from);
        }
        let mut moves = Moves::default();
        if let Some(prev_at) = self.prev_at {
            moves.interval = snapshot
                .taken_at
                .duration_since(prev_at)
                .ok()
                .map(|d| d.as_secs_f64());
            let mut count = |from: TcpState, to: TcpState| {
                if is_edge(from, to) {
                    moves.counts[from as usize][to as usize] += 1;
                } else {
                    moves.skipped += 1;
                }
            };
            for (from, to) in moved {
                count(from, to);
            }
            // Each one still listed is taken out of `vanished` as it is matched, so what
            // remains there is what closed.
            for (ck, to) in appeared {
                match vanished.remove(&ck) {
                    Some(from) if from != to => count(from, to),
                    Some(_) => {}
                    // A request appears when its listener gets the SYN.
                    None if to == TcpState::SynRecv => count(TcpState::Listen, to),
                    None => count(TcpState::Close, to),
                }
            }
            for &from in vanished.values() {
                count(from, TcpState::Close);
            }
        }
        self.spare = std::mem::replace(&mut self.prev, cur);
        self.prev_at = Some(snapshot.taken_at);
        moves
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Duration;

    fn tcp(state: TcpState, local: u16, peer: u16) -> Socket {
        let ep = |port| Endpoint::Inet {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port,
        };
        Socket::new(Netid::Tcp, state, ep(local), ep(peer))
    }

    fn snap(at: u64, sockets: Vec<Socket>) -> Snapshot {
        Snapshot::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(at),
            Source::Netlink,
            sockets,
            None,
        )
    }

    #[test]
    fn moves_between_refreshes_follow_the_diagram_edges() {
        use TcpState::*;
        let mut t = Tracker::default();
        let first = t.update(&snap(
            100,
            vec![
                tcp(Listen, 80, 0),
                tcp(SynSent, 5000, 80),
                tcp(SynRecv, 80, 5000),
                tcp(Established, 5001, 80),
                tcp(FinWait2, 5002, 80),
                tcp(TimeWait, 5003, 80),
            ],
        ));
        assert_eq!(first.interval, None);
        assert_eq!(first.rate(SynSent, Established), None);
        let m = t.update(&snap(
            102,
            vec![
                tcp(Listen, 80, 0),
                tcp(Established, 5000, 80),
                tcp(Established, 80, 5000),
                tcp(FinWait1, 5001, 80),
                tcp(TimeWait, 5002, 80),
                // 5003's TIME-WAIT ended; a new connection and a new request appeared.
                tcp(SynSent, 5004, 80),
                tcp(SynRecv, 80, 5004),
                // Seen first as CLOSE-WAIT: states skipped between refreshes.
                tcp(CloseWait, 80, 5005),
            ],
        ));
        assert_eq!(m.interval, Some(2.0));
        assert_eq!(m.count(SynSent, Established), 1);
        assert_eq!(m.count(SynRecv, Established), 1);
        assert_eq!(m.count(Established, FinWait1), 1);
        assert_eq!(m.count(FinWait2, TimeWait), 1);
        assert_eq!(m.count(TimeWait, Close), 1);
        assert_eq!(m.count(Close, SynSent), 1);
        assert_eq!(m.count(Listen, SynRecv), 1);
        assert_eq!(m.rate(Close, SynSent), Some(0.5));
        assert_eq!(m.skipped, 1);
        // Nothing moved: zero on every edge, not unknown.
        let same = t.update(&snap(103, Vec::new()));
        assert_eq!(same.count(Established, FinWait1), 0);
        let idle = t.update(&snap(104, Vec::new()));
        assert_eq!(idle.rate(Established, FinWait1), Some(0.0));
    }

    #[test]
    fn cookies_follow_a_socket_and_endpoints_follow_a_connection_across_cookies() {
        use TcpState::*;
        let with = |mut s: Socket, cookie: u64| {
            s.cookie = Some(cookie);
            s
        };
        let mut t = Tracker::default();
        t.update(&snap(
            10,
            vec![
                with(tcp(SynRecv, 80, 6000), 1),
                with(tcp(Established, 6001, 80), 2),
                with(tcp(Established, 6002, 80), 3),
                // Read from /proc: no cookie, and an inode until it becomes a TIME-WAIT.
                {
                    let mut s = tcp(FinWait2, 6003, 80);
                    s.inode = 77;
                    s
                },
            ],
        ));
        let m = t.update(&snap(
            11,
            vec![
                // The request became a socket: a new cookie, the same endpoints.
                with(tcp(Established, 80, 6000), 9),
                // The same socket, listed twice by one dump.
                with(tcp(FinWait1, 6001, 80), 2),
                with(tcp(FinWait1, 6001, 80), 2),
                with(tcp(Established, 6002, 80), 3),
                tcp(TimeWait, 6003, 80),
            ],
        ));
        assert_eq!(m.count(SynRecv, Established), 1);
        assert_eq!(m.count(Established, FinWait1), 1);
        assert_eq!(m.count(FinWait2, TimeWait), 1);
        assert_eq!(m.count(Close, Established), 0);
        assert_eq!(m.count(SynRecv, Close), 0);
        assert_eq!(m.skipped, 0);
        let total: u32 = EDGES.iter().map(|&(a, b)| m.count(a, b)).sum();
        assert_eq!(total, 3, "nothing else moved");
        // 6003's TIME-WAIT ends and 6001 closes: two moves to CLOSED.
        let m = t.update(&snap(
            12,
            vec![
                with(tcp(Established, 80, 6000), 9),
                with(tcp(Established, 6002, 80), 3),
            ],
        ));
        assert_eq!(m.count(TimeWait, Close), 1);
        assert_eq!(m.skipped, 1, "FIN-WAIT-1 to CLOSED is not one edge");
    }
}
