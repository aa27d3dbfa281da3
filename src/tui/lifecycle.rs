//! The TCP state machine's moves between two refreshes, inferred from snapshots: each
//! connection is followed by its table and two endpoints (its cookie changes when a request
//! becomes a socket or a socket a TIME-WAIT, its 4-tuple does not), and every change of
//! state, appearance (from CLOSED, or LISTEN for SYN-RECV) and disappearance (to CLOSED) is
//! counted. A move that skipped states between two refreshes is counted as skipped, not
//! spread over edges it may not have taken. Listeners are not followed (they have no peer).

use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use rustc_hash::FxHashMap;

use crate::model::{Endpoint, Netid, Snapshot, Socket, TcpState};

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
    prev: FxHashMap<u64, TcpState>,
    spare: FxHashMap<u64, TcpState>,
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

impl Tracker {
    /// Compare `snapshot` with the previous one.
    pub fn update(&mut self, snapshot: &Snapshot) -> Moves {
        let mut cur = std::mem::take(&mut self.spare);
        cur.clear();
        for s in snapshot
            .sockets
            .iter()
            .filter(|s| s.netid == Netid::Tcp && s.state != TcpState::Listen)
        {
            cur.insert(conn_key(s), s.state);
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
            // Each connection still listed is taken out of `prev` as it is matched, so what
            // remains there is what closed (one lookup per connection, not two).
            for (k, &to) in &cur {
                match self.prev.remove(k) {
                    Some(from) if from != to => count(from, to),
                    Some(_) => {}
                    // A request appears when its listener gets the SYN.
                    None if to == TcpState::SynRecv => count(TcpState::Listen, to),
                    None => count(TcpState::Close, to),
                }
            }
            for &from in self.prev.values() {
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
}
