//! `sockeye_tcp_connections_closed_total{port, reason}`: TCP connections closed since the
//! exporter started, counted from the kernel's destroy events (reason from
//! [`crate::closed::ending`]) or, when the subscription is refused, from snapshots compared
//! with the previous one (reason `unknown`; a connection that opened and closed between two
//! collections is not seen).
//!
//! Labels stay bounded as the port series do: `port` is the service port (the local port
//! when a listener holds it, else the peer's), and the first `limit` ports seen get their own
//! series; later ones are summed into `port="other"`. A counter never moves to another
//! series, so every series is monotonic.
//!
//! `sockeye_tcp_connections_opened_total{port}`: connections a listener accepted, under the
//! same port labels. The kernel sends no event for a new connection, so opens are new
//! cookies of connections under a listener's port between two snapshots; with destroy
//! events, a server-side close of a connection no snapshot saw counts as its open too.

use std::sync::Mutex;

use rustc_hash::{FxHashMap, FxHashSet};

use super::metrics::OTHER_PORT;
use crate::closed::Ending;
use crate::model::{Endpoint, Netid, Snapshot, Socket, TcpState};

/// Where the counts come from, for `sockeye_closed_source_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseSource {
    Events,
    Snapshots,
}

impl CloseSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseSource::Events => "events",
            CloseSource::Snapshots => "snapshots",
        }
    }
}

/// What a scrape encodes: a copy taken under the lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosedTotals {
    pub source: CloseSource,
    /// (port label, reason) → count, sorted.
    pub counts: Vec<((String, Ending), u64)>,
    /// Port label → connections accepted, sorted.
    pub opened: Vec<(String, u64)>,
    /// Events the kernel dropped (the counts miss them).
    pub lost: u64,
}

#[derive(Debug)]
struct State {
    source: CloseSource,
    counts: FxHashMap<(Option<u16>, Ending), u64>,
    /// Ports with their own series.
    labelled: FxHashSet<u16>,
    limit: usize,
    listeners: FxHashSet<u16>,
    lost: u64,
    /// Connections of the previous snapshot (cookie → service port), snapshot mode only.
    previous: Option<FxHashMap<u64, u16>>,
    opened: FxHashMap<Option<u16>, u64>,
    /// Server-side connections of the last snapshot (cookies), `None` before the first.
    accepted: Option<FxHashSet<u64>>,
    /// Those that were in the snapshot before it and are gone now: an event for one of
    /// them arriving late is not a new open.
    just_gone: FxHashSet<u64>,
    /// Connections counted as opened from their destroy event, so that a snapshot taken
    /// before the close and observed after it does not count them again.
    opened_by_event: FxHashSet<u64>,
}

/// The counters, shared by the events thread, the collector and the scrapes.
#[derive(Debug)]
pub struct ClosedCounter {
    state: Mutex<State>,
}

impl ClosedCounter {
    pub fn new(source: CloseSource, limit: usize) -> ClosedCounter {
        ClosedCounter {
            state: Mutex::new(State {
                source,
                counts: FxHashMap::default(),
                labelled: FxHashSet::default(),
                limit,
                listeners: FxHashSet::default(),
                lost: 0,
                previous: None,
                opened: FxHashMap::default(),
                accepted: None,
                just_gone: FxHashSet::default(),
                opened_by_event: FxHashSet::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One destroy event.
    pub fn record(&self, s: &Socket, ending: Ending) {
        let mut st = self.lock();
        let Some(port) = service_port(s, &st.listeners) else {
            return;
        };
        st.count(port, ending);
        // A server-side connection that opened and closed between two snapshots.
        if let (Some(cookie), Some(local)) = (s.cookie, s.local_port())
            && local == port
            && st.listeners.contains(&local)
            && st.accepted.is_some()
            && !st.accepted.as_ref().is_some_and(|a| a.contains(&cookie))
            && !st.just_gone.contains(&cookie)
            && st.opened_by_event.insert(cookie)
        {
            st.open(local);
        }
    }

    /// Whether a listener (as last seen) holds either end's port of `s`; when none does,
    /// the caller may refresh the listeners first (a service that just started).
    pub fn knows_service_of(&self, s: &Socket) -> bool {
        let st = self.lock();
        let peer = match s.peer {
            Endpoint::Inet { port, .. } => Some(port),
            Endpoint::Unix { .. }
            | Endpoint::Link { .. }
            | Endpoint::Netlink { .. }
            | Endpoint::NetlinkPeer { .. }
            | Endpoint::Vsock { .. }
            | Endpoint::Xdp { .. }
            | Endpoint::Tipc { .. }
            | Endpoint::Nothing => None,
        };
        [s.local_port(), peer]
            .into_iter()
            .flatten()
            .any(|p| st.listeners.contains(&p))
    }

    /// The TCP listening ports now.
    pub fn set_listeners(&self, ports: impl IntoIterator<Item = u16>) {
        self.lock().listeners = ports.into_iter().collect();
    }

    /// Events the kernel dropped.
    pub fn lost(&self, n: u64) {
        self.lock().lost += n;
    }

    /// The events subscription failed after all: count from snapshots from now on.
    pub fn fall_back_to_snapshots(&self) {
        self.lock().source = CloseSource::Snapshots;
    }

    /// A new snapshot: its listeners name the service ports; in snapshot mode, the
    /// connections gone since the previous one are counted.
    pub fn observe(&self, snap: &Snapshot) {
        let mut st = self.lock();
        st.listeners = snap
            .sockets
            .iter()
            .filter(|s| s.netid == Netid::Tcp && s.is_listener())
            .filter_map(Socket::local_port)
            .collect();
        let now: Vec<(u64, u16)> = snap
            .sockets
            .iter()
            .filter(|s| s.netid == Netid::Tcp && open_connection(s))
            .filter_map(|s| {
                let p = s.local_port().filter(|p| st.listeners.contains(p))?;
                Some((s.cookie?, p))
            })
            .collect();
        let mut accepted = FxHashSet::default();
        for (cookie, port) in now {
            let known = st.accepted.as_ref().is_none_or(|a| a.contains(&cookie));
            if !known && !st.opened_by_event.contains(&cookie) {
                st.open(port);
            }
            accepted.insert(cookie);
        }
        st.just_gone = st
            .accepted
            .take()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| !accepted.contains(c))
            .collect();
        // Kept while a snapshot still shows the connection; gone from it, it never returns.
        st.opened_by_event.retain(|c| accepted.contains(c));
        st.accepted = Some(accepted);
        if st.source != CloseSource::Snapshots {
            return;
        }
        let now: FxHashMap<u64, u16> = snap
            .sockets
            .iter()
            .filter(|s| s.netid == Netid::Tcp && open_connection(s))
            .filter_map(|s| Some((s.cookie?, service_port(s, &st.listeners)?)))
            .collect();
        if let Some(prev) = st.previous.take() {
            for (cookie, port) in &prev {
                if !now.contains_key(cookie) {
                    st.count(*port, Ending::Unknown);
                }
            }
        }
        st.previous = Some(now);
    }

    pub fn totals(&self) -> ClosedTotals {
        let st = self.lock();
        let mut counts: Vec<((String, Ending), u64)> = st
            .counts
            .iter()
            .map(|((p, e), n)| ((port_label(*p), *e), *n))
            .collect();
        counts.sort();
        let mut opened: Vec<(String, u64)> = st
            .opened
            .iter()
            .map(|(p, n)| (port_label(*p), *n))
            .collect();
        opened.sort();
        ClosedTotals {
            source: st.source,
            counts,
            opened,
            lost: st.lost,
        }
    }
}

impl State {
    /// The series `port` is counted in: its own while there is room, else `other`; once
    /// given, a port keeps its series.
    fn label(&mut self, port: u16) -> Option<u16> {
        if self.labelled.contains(&port) {
            Some(port)
        } else if self.labelled.len() < self.limit {
            self.labelled.insert(port);
            Some(port)
        } else {
            None
        }
    }

    fn count(&mut self, port: u16, ending: Ending) {
        let label = self.label(port);
        *self.counts.entry((label, ending)).or_insert(0) += 1;
    }

    fn open(&mut self, port: u16) {
        let label = self.label(port);
        *self.opened.entry(label).or_insert(0) += 1;
    }
}

fn port_label(p: Option<u16>) -> String {
    p.map_or_else(|| OTHER_PORT.to_string(), |p| p.to_string())
}

/// A connection still open (or closing) that a later snapshot may miss; TIME-WAIT is what
/// is left after a close, not a connection.
fn open_connection(s: &Socket) -> bool {
    !s.is_listener()
        && !matches!(
            s.state,
            TcpState::TimeWait | TcpState::SynRecv | TcpState::Close
        )
}

/// The port a connection is counted under (closed connections, CLOSE-WAIT and TIME-WAIT
/// sockets): its local port when a listener holds it (the server side), else the peer's (a
/// client of that port), so a client's ephemeral ports never become series. `None`: no port.
pub(super) fn service_port(s: &Socket, listeners: &FxHashSet<u16>) -> Option<u16> {
    let local = s.local_port().filter(|p| *p != 0);
    if let Some(p) = local.filter(|p| listeners.contains(p)) {
        return Some(p);
    }
    match s.peer {
        Endpoint::Inet { port, .. } if port != 0 => Some(port),
        _ => local,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn tcp(state: TcpState, local: u16, peer: u16, cookie: u64) -> Socket {
        let mut s = Socket::new(
            Netid::Tcp,
            state,
            Endpoint::Inet {
                addr: [127, 0, 0, 1].into(),
                port: local,
            },
            Endpoint::Inet {
                addr: if peer == 0 {
                    [0, 0, 0, 0].into()
                } else {
                    [127, 0, 0, 1].into()
                },
                port: peer,
            },
        );
        s.cookie = Some(cookie);
        s
    }

    fn snap(sockets: Vec<Socket>) -> Snapshot {
        Snapshot::new(
            SystemTime::now(),
            crate::model::Source::Netlink,
            sockets,
            None,
        )
    }

    #[test]
    fn events_count_by_service_port_and_the_label_set_is_bounded() {
        let c = ClosedCounter::new(CloseSource::Events, 2);
        c.observe(&snap(vec![tcp(TcpState::Listen, 80, 0, 1)]));
        c.record(&tcp(TcpState::Close, 80, 40000, 2), Ending::Orderly);
        c.record(&tcp(TcpState::Close, 40001, 443, 3), Ending::Reset);
        c.record(&tcp(TcpState::Close, 40002, 22, 4), Ending::Reset);
        c.record(&tcp(TcpState::Close, 80, 40003, 5), Ending::Orderly);
        let t = c.totals();
        assert_eq!(t.source, CloseSource::Events);
        assert_eq!(
            t.counts,
            vec![
                (("443".into(), Ending::Reset), 1),
                (("80".into(), Ending::Orderly), 2),
                (("other".into(), Ending::Reset), 1),
            ]
        );
    }

    #[test]
    fn without_events_connections_gone_between_snapshots_count_as_unknown() {
        let c = ClosedCounter::new(CloseSource::Snapshots, 10);
        let l = tcp(TcpState::Listen, 80, 0, 1);
        c.observe(&snap(vec![
            l.clone(),
            tcp(TcpState::Established, 80, 40000, 2),
            tcp(TcpState::Established, 80, 40001, 3),
            tcp(TcpState::TimeWait, 80, 40002, 4),
        ]));
        c.observe(&snap(vec![l, tcp(TcpState::Established, 80, 40001, 3)]));
        let t = c.totals();
        assert_eq!(t.source, CloseSource::Snapshots);
        assert_eq!(t.counts, vec![(("80".into(), Ending::Unknown), 1)]);
    }

    #[test]
    fn opens_are_new_server_side_connections_and_an_event_counts_only_unseen_ones() {
        let c = ClosedCounter::new(CloseSource::Events, 1);
        let l80 = tcp(TcpState::Listen, 80, 0, 1);
        let l81 = tcp(TcpState::Listen, 81, 0, 9);
        // What is open at the start is not counted as opened.
        c.observe(&snap(vec![
            l80.clone(),
            l81.clone(),
            tcp(TcpState::Established, 80, 40000, 2),
        ]));
        assert_eq!(c.totals().opened, vec![]);
        // Two new accepted connections; the client side (peer port 80) and SYN-RECV are not.
        let a = tcp(TcpState::Established, 80, 40001, 3);
        c.observe(&snap(vec![
            l80.clone(),
            l81.clone(),
            tcp(TcpState::Established, 80, 40000, 2),
            a.clone(),
            tcp(TcpState::Established, 40001, 80, 4),
            tcp(TcpState::SynRecv, 80, 40005, 5),
        ]));
        assert_eq!(c.totals().opened, vec![("80".into(), 1)]);
        // Its close later: already counted as an open.
        c.record(&a, Ending::Orderly);
        // A connection no snapshot saw, on port 81 (past the limit: "other").
        let quick = tcp(TcpState::Close, 81, 40010, 6);
        c.record(&quick, Ending::Orderly);
        c.record(&quick, Ending::Orderly);
        assert_eq!(
            c.totals().opened,
            vec![("80".into(), 1), ("other".into(), 1)]
        );
        // A snapshot taken before that close, observed after it, does not count it again.
        let mut before = quick;
        before.state = TcpState::Established;
        c.observe(&snap(vec![l80.clone(), l81.clone(), before]));
        c.observe(&snap(vec![l80, l81]));
        assert_eq!(
            c.totals().opened,
            vec![("80".into(), 1), ("other".into(), 1)]
        );
    }
}
