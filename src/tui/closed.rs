//! The Closed view's model: the most recent closed connections (at most [`KEEP`]), newest
//! last in memory and shown newest first. They come from the kernel's destroy events (see
//! [`super::events`]) or, when the subscription is refused, from comparing each snapshot
//! with the previous one (what vanished closed; how is unknown and short connections are
//! missed). Each is given what the snapshots knew of it: the process that held it (the
//! attribution cache of the last snapshot that listed it) and its lifetime.

use std::collections::VecDeque;
use std::time::SystemTime;

use rustc_hash::FxHashMap;

use crate::closed::{Births, Ending, Lifetime, ending};
use crate::collect::netlink::events::Destroyed;
use crate::model::{Holders, Netid, Snapshot, Socket, TcpState};

/// Closed connections kept.
pub const KEEP: usize = 10_000;

/// Where the closed connections come from, as the view says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosedSource {
    /// The kernel's destroy events (every close, with its final tcp_info).
    Events,
    /// Snapshots compared, because the events were refused (the reason is kept).
    Snapshots,
}

/// One closed connection.
#[derive(Clone, Debug)]
pub struct Closed {
    /// A number that orders and identifies it.
    pub seq: u64,
    pub at: SystemTime,
    /// As the kernel freed it (events), or as last seen (snapshots).
    pub socket: Socket,
    /// The last state a snapshot saw it in (a freed socket's own state is always CLOSE).
    pub last_state: Option<TcpState>,
    pub ending: Ending,
    pub lifetime: Option<Lifetime>,
}

#[derive(Debug, Default)]
struct Seen {
    state: Option<TcpState>,
    processes: Holders,
}

#[derive(Debug)]
pub struct ClosedLog {
    pub entries: VecDeque<Closed>,
    pub source: ClosedSource,
    /// Why events are not used, when they are not.
    pub why_not_events: Option<String>,
    /// Events the kernel dropped.
    pub lost: u64,
    /// Closes recorded since the start (also those no longer kept).
    pub total: u64,
    /// Follow every network namespace (`--all-netns`): each close carries its namespace.
    pub all_netns: bool,
    /// With `all_netns`: the namespaces whose events are followed, and (label, why) of
    /// those that could not be entered (as the events thread last said).
    pub namespaces: Option<(usize, Vec<(String, String)>)>,
    births: Births,
    /// What the last two snapshots knew per cookie (state, processes).
    seen: FxHashMap<u64, Seen>,
    seen_prev: FxHashMap<u64, Seen>,
    /// Connections of the previous snapshot, for snapshot comparison.
    previous: Vec<Socket>,
}

impl Default for ClosedLog {
    fn default() -> ClosedLog {
        ClosedLog {
            entries: VecDeque::new(),
            source: ClosedSource::Events,
            why_not_events: None,
            lost: 0,
            total: 0,
            all_netns: false,
            namespaces: None,
            births: Births::default(),
            seen: FxHashMap::default(),
            seen_prev: FxHashMap::default(),
            previous: Vec::new(),
        }
    }
}

impl ClosedLog {
    /// The events subscription was refused: compare snapshots from now on.
    pub fn without_events(&mut self, why: String) {
        self.source = ClosedSource::Snapshots;
        self.why_not_events = Some(why);
    }

    /// Destroy events that arrived (connections only: listeners and UDP are not kept).
    pub fn push_events(&mut self, batch: Vec<(SystemTime, Destroyed)>) {
        for (at, d) in batch {
            let Some(ending) = d.ending else { continue };
            let cookie = d.socket.cookie;
            let seen = cookie.and_then(|c| self.seen.get(&c).or_else(|| self.seen_prev.get(&c)));
            let (last_state, processes) = seen.map_or((None, Holders::default()), |s| {
                (s.state, s.processes.clone())
            });
            let lifetime = cookie.and_then(|c| self.births.lifetime(c, at));
            let mut socket = d.socket;
            // The process that held it, from the attribution cache of the last snapshot.
            socket.processes = processes;
            self.push(Closed {
                seq: 0,
                at,
                socket,
                last_state,
                ending,
                lifetime,
            });
        }
    }

    /// A new snapshot: births, states and processes by cookie; in snapshot mode, the
    /// connections of the previous snapshot it no longer lists are recorded as closed.
    pub fn observe(&mut self, snap: &Snapshot) {
        let at = snap.taken_at;
        self.births.observe(
            snap.sockets
                .iter()
                .filter(|s| s.netid == Netid::Tcp)
                .filter_map(|s| s.cookie),
            at,
        );
        let mut seen = std::mem::take(&mut self.seen_prev);
        seen.clear();
        for s in snap.sockets.iter().filter(|s| s.netid == Netid::Tcp) {
            if let Some(c) = s.cookie {
                seen.insert(
                    c,
                    Seen {
                        state: Some(s.state),
                        processes: s.processes.clone(),
                    },
                );
            }
        }
        self.seen_prev = std::mem::replace(&mut self.seen, seen);
        if self.source != ClosedSource::Snapshots {
            return;
        }
        let previous = std::mem::take(&mut self.previous);
        for s in previous {
            let gone = s.cookie.is_some_and(|c| !self.seen.contains_key(&c));
            if gone {
                let lifetime = s.cookie.and_then(|c| self.births.lifetime(c, at));
                self.push(Closed {
                    seq: 0,
                    at,
                    last_state: Some(s.state),
                    ending: Ending::Unknown,
                    lifetime,
                    socket: s,
                });
            }
        }
        self.previous = snap
            .sockets
            .iter()
            .filter(|s| {
                ending::is_connection(s)
                    && !matches!(s.state, TcpState::TimeWait | TcpState::SynRecv)
            })
            .cloned()
            .collect();
    }

    fn push(&mut self, mut c: Closed) {
        self.total += 1;
        c.seq = self.total;
        if self.entries.len() == KEEP {
            self.entries.pop_front();
        }
        self.entries.push_back(c);
    }

    /// Whether the closes span several namespaces (the view then shows a Netns column).
    pub fn spans_namespaces(&self) -> bool {
        self.all_netns
            || self
                .entries
                .back()
                .is_some_and(|c| c.socket.netns.is_some())
    }

    /// The entry numbered `seq`, if still kept.
    pub fn by_seq(&self, seq: u64) -> Option<&Closed> {
        let first = self.entries.front()?.seq;
        self.entries
            .get(usize::try_from(seq.checked_sub(first)?).ok()?)
    }

    /// The kept entries that closed at or after `since`, newest first.
    pub fn closes_since(&self, since: SystemTime) -> impl Iterator<Item = &Closed> {
        self.entries.iter().rev().take_while(move |c| c.at >= since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Source};
    use std::time::Duration;

    fn conn(local: u16, cookie: u64, state: TcpState) -> Socket {
        let mut s = Socket::new(
            Netid::Tcp,
            state,
            Endpoint::Inet {
                addr: [127, 0, 0, 1].into(),
                port: local,
            },
            Endpoint::Inet {
                addr: [127, 0, 0, 1].into(),
                port: 80,
            },
        );
        s.cookie = Some(cookie);
        s
    }

    fn snap(at: u64, sockets: Vec<Socket>) -> Snapshot {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(at);
        Snapshot::new(t, Source::Netlink, sockets, None)
    }

    #[test]
    fn events_get_the_process_and_lifetime_snapshots_knew() {
        let mut log = ClosedLog::default();
        let mut s = conn(40000, 7, TcpState::Established);
        s.processes = vec![crate::model::ProcessRef {
            command: "curl".into(),
            pid: 9,
            fd: 3,
            nspid: None,
        }]
        .into();
        log.observe(&snap(100, vec![]));
        log.observe(&snap(101, vec![s]));
        let freed = conn(40000, 7, TcpState::Close);
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(104);
        log.push_events(vec![(
            at,
            Destroyed {
                socket: freed,
                ending: Some(Ending::Reset),
            },
        )]);
        let c = log.entries.back().unwrap();
        assert_eq!(c.ending, Ending::Reset);
        assert_eq!(c.last_state, Some(TcpState::Established));
        assert_eq!(c.socket.processes.as_slice()[0].command.as_ref(), "curl");
        assert_eq!(c.lifetime.unwrap().at_least, Duration::from_secs(3));
        assert_eq!(log.by_seq(c.seq).map(|c| c.seq), Some(1));
    }

    #[test]
    fn without_events_what_vanished_closed_and_the_log_is_bounded() {
        let mut log = ClosedLog::default();
        log.without_events("refused".into());
        log.observe(&snap(1, vec![conn(1, 1, TcpState::Established)]));
        log.observe(&snap(2, vec![]));
        assert_eq!(log.entries.len(), 1);
        assert_eq!(log.entries[0].ending, Ending::Unknown);
        assert_eq!(log.entries[0].last_state, Some(TcpState::Established));
        for i in 0..KEEP + 5 {
            log.push(log.entries[0].clone());
            let _ = i;
        }
        assert_eq!(log.entries.len(), KEEP);
        assert_eq!(log.total, (KEEP + 6) as u64);
        let newest = log.entries.back().unwrap().seq;
        assert_eq!(log.by_seq(newest).map(|c| c.seq), Some(newest));
        assert!(log.by_seq(1).is_none(), "dropped");
    }
}
