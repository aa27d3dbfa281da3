//! Connections opened and closed per second, per listener and per remote endpoint, over the
//! last [`SPAN`] refreshes (for the Listeners view's rows and the details pane, with
//! sparklines). Opened: connections new in this snapshot (the delta's NEW mark, so one that
//! opened and closed between two snapshots is not counted). Closed: the Closed view's
//! entries since the previous snapshot (destroy events, or snapshot comparison, as the
//! Closed view says), by the listener's port (server side) or the remote endpoint (peer).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::SystemTime;

use rustc_hash::{FxHashMap, FxHashSet};

use super::closed::ClosedLog;
use super::delta;
use crate::group::ListenerTree;
use crate::model::{Endpoint, Socket};

/// Refreshes kept per series.
pub const SPAN: usize = 30;

/// What a series is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// A TCP listener's local port (every address it listens on).
    Listener(u16),
    Remote(IpAddr, u16),
}

/// One refresh's counts and its length.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sample {
    pub opened: u64,
    pub closed: u64,
    pub secs: f64,
}

#[derive(Debug, Default)]
pub struct Rates {
    series: FxHashMap<RateKey, VecDeque<Sample>>,
    last: Option<SystemTime>,
}

impl Rates {
    /// One refresh: count what opened (`marks`) and closed (`closed` since the previous
    /// refresh) per listener and remote endpoint of `tree`.
    pub fn observe(
        &mut self,
        at: SystemTime,
        tree: &ListenerTree,
        sockets: &[Socket],
        marks: &[u8],
        closed: &ClosedLog,
    ) {
        let Some(last) = self.last.replace(at) else {
            return;
        };
        let secs = at.duration_since(last).unwrap_or_default().as_secs_f64();
        let mut by_port: FxHashMap<u16, u64> = FxHashMap::default();
        let mut by_peer: FxHashMap<(IpAddr, u16), u64> = FxHashMap::default();
        // The window (last, at]: events that arrived after this snapshot count next time.
        for c in closed
            .closes_since(last)
            .filter(|c| c.at > last && c.at <= at)
        {
            if let Some(p) = c.socket.local_port() {
                *by_port.entry(p).or_default() += 1;
            }
            if let Endpoint::Inet { addr, port } = c.socket.peer {
                *by_peer.entry((addr, port)).or_default() += 1;
            }
        }
        let is_new = |i: usize| marks.get(i).is_some_and(|m| m & delta::NEW != 0);
        // A set: with tens of thousands of remote endpoints a list's lookups would be
        // quadratic.
        let mut seen: FxHashSet<RateKey> = FxHashSet::default();
        for lg in &tree.listeners {
            let Some(port) = sockets.get(lg.listener).and_then(Socket::local_port) else {
                continue;
            };
            let key = RateKey::Listener(port);
            if !seen.insert(key) {
                continue; // a port on two addresses: one series
            }
            let opened = tree
                .listeners
                .iter()
                .filter(|l| sockets.get(l.listener).and_then(Socket::local_port) == Some(port))
                .flat_map(|l| l.children())
                .filter(|&i| is_new(i))
                .count() as u64;
            let closed = by_port.get(&port).copied().unwrap_or(0);
            self.push(
                key,
                Sample {
                    opened,
                    closed,
                    secs,
                },
            );
        }
        for rg in &tree.outbound {
            let key = RateKey::Remote(rg.addr, rg.port);
            seen.insert(key);
            let opened = rg.members.iter().filter(|&&i| is_new(i)).count() as u64;
            let closed = by_peer.get(&(rg.addr, rg.port)).copied().unwrap_or(0);
            self.push(
                key,
                Sample {
                    opened,
                    closed,
                    secs,
                },
            );
        }
        // What is gone from the tree is forgotten: the series stay bounded.
        self.series.retain(|k, _| seen.contains(k));
    }

    fn push(&mut self, key: RateKey, s: Sample) {
        let q = self.series.entry(key).or_default();
        if q.len() == SPAN {
            q.pop_front();
        }
        q.push_back(s);
    }

    /// The series of `key`, oldest first.
    pub fn of(&self, key: RateKey) -> Option<&VecDeque<Sample>> {
        self.series.get(&key)
    }

    /// (opened, closed) per second over the last refresh.
    pub fn now(&self, key: RateKey) -> Option<(f64, f64)> {
        let s = self.series.get(&key)?.back()?;
        (s.secs > 0.0).then(|| (s.opened as f64 / s.secs, s.closed as f64 / s.secs))
    }
}

/// `2.0/s`, `0.5/s`, `120/s`.
pub fn per_second(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}/s")
    } else {
        format!("{v:.1}/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::netlink::events::Destroyed;
    use crate::group::ListenerGroup;
    use crate::model::{Netid, TcpState};
    use std::time::Duration;

    fn tcp(state: TcpState, local: u16, peer: u16) -> Socket {
        Socket::new(
            Netid::Tcp,
            state,
            Endpoint::Inet {
                addr: [127, 0, 0, 1].into(),
                port: local,
            },
            Endpoint::Inet {
                addr: [127, 0, 0, 1].into(),
                port: peer,
            },
        )
    }

    #[test]
    fn opened_from_new_marks_closed_from_the_log() {
        let t = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let sockets = vec![
            tcp(TcpState::Listen, 80, 0),
            tcp(TcpState::Established, 80, 40000),
            tcp(TcpState::Established, 80, 40001),
        ];
        let tree = ListenerTree {
            listeners: vec![ListenerGroup {
                listener: 0,
                syn_recv: vec![],
                connections: vec![1, 2],
                time_wait: 0,
                close_wait: 0,
            }],
            outbound: vec![],
        };
        let mut log = ClosedLog::default();
        let mut r = Rates::default();
        r.observe(t(10), &tree, &sockets, &[0, 0, 0], &log);
        assert!(
            r.now(RateKey::Listener(80)).is_none(),
            "one refresh is no rate"
        );
        log.push_events(vec![(
            t(11),
            Destroyed {
                socket: tcp(TcpState::Close, 80, 39999),
                ending: Some(crate::closed::Ending::Orderly),
            },
        )]);
        r.observe(t(12), &tree, &sockets, &[0, delta::NEW, delta::NEW], &log);
        assert_eq!(r.now(RateKey::Listener(80)), Some((1.0, 0.5)));
        assert_eq!(r.of(RateKey::Listener(80)).map(VecDeque::len), Some(1));
        assert_eq!(per_second(0.5), "0.5/s");
    }
}
