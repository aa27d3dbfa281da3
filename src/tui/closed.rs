//! The Closed view's model: the most recent closed connections (at most [`KEEP`]), newest
//! last in memory and shown newest first. They come from the kernel's destroy events (see
//! [`super::events`]) or, when the subscription is refused, from comparing each snapshot
//! with the previous one (what vanished closed; how is unknown and short connections are
//! missed). Each is given what the snapshots knew of it: the process that held it (the
//! attribution cache of the last snapshot that listed it) and its lifetime.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::closed::{Ending, Lifetime, ending};
use crate::collect::netlink::events::Destroyed;
use crate::model::{Holders, Netid, PREFETCH_AHEAD, Snapshot, Socket, TcpState, prefetch_socket};

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

/// What the snapshots knew of one TCP connection: its state and holders in the latest
/// snapshot that listed it, and when a snapshot first saw it (its birth, see [`Births`]).
#[derive(Clone, Debug)]
struct Seen {
    state: TcpState,
    processes: Holders,
    /// The first snapshot that listed it, and the one before (it was born in between), as
    /// [`Stamp`]s: two of these tables of 100,000 connections live at once.
    first: Stamp,
    before: Stamp,
}

/// A snapshot time in eight bytes: nanoseconds from the epoch (negative before it), with
/// `i64::MIN` for "no such snapshot".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp(i64);

impl Stamp {
    const NONE: Stamp = Stamp(i64::MIN);

    fn of(t: SystemTime) -> Stamp {
        let nanos = |d: std::time::Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        match t.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => Stamp(nanos(d)),
            Err(e) => Stamp(-nanos(e.duration())),
        }
    }

    /// How long before `end` it was (zero when after).
    fn until(self, end: SystemTime) -> Option<std::time::Duration> {
        if self == Stamp::NONE {
            return None;
        }
        let end = Stamp::of(end).0;
        Some(std::time::Duration::from_nanos(
            u64::try_from(end.saturating_sub(self.0)).unwrap_or(0),
        ))
    }
}

/// One snapshot's TCP connections by cookie. Built by the collector thread (see
/// [`Sightings`]) and shared with the UI thread, which looks up the last two when a close
/// arrives: the per-cookie work of a refresh stays off the UI thread, done once per snapshot
/// for births, states and holders together.
#[derive(Debug, Default)]
pub struct Generation {
    /// Sorted by cookie, each once: built by one merge with the previous generation in the
    /// delta tracker's key order (cookies), looked up by binary search (only when a close
    /// arrives) — a hash table of 100,000 entries per refresh cost several times more.
    by_cookie: Vec<(u64, Seen)>,
    at: Option<Stamp>,
    /// Where its table goes when the last holder lets go (usually the UI thread): back to
    /// the collector thread, which clears and refills it, rather than freed here.
    spare: Option<Spare>,
}

impl Generation {
    fn get(&self, cookie: u64) -> Option<&Seen> {
        let i = self
            .by_cookie
            .binary_search_by_key(&cookie, |(c, _)| *c)
            .ok()?;
        Some(&self.by_cookie[i].1)
    }

    fn contains(&self, cookie: u64) -> bool {
        self.get(cookie).is_some()
    }
}

type Spare = Arc<Mutex<Option<Vec<(u64, Seen)>>>>;

impl Drop for Generation {
    fn drop(&mut self) {
        if let Some(spare) = &self.spare
            && let Ok(mut slot) = spare.lock()
        {
            *slot = Some(std::mem::take(&mut self.by_cookie));
        }
    }
}

/// The collector thread's side: the last two generations, and the table of an older one to
/// build the next in.
#[derive(Debug, Default)]
pub struct Sightings {
    cur: Arc<Generation>,
    prev: Arc<Generation>,
    spare: Spare,
}

impl Sightings {
    /// [`Sightings::update_sorted`] for a caller without the delta tracker's key order.
    #[cfg(test)]
    pub fn update(&mut self, snap: &Snapshot) -> Arc<Generation> {
        self.update_sorted(snap, &super::delta::sorted_keys(snap))
    }

    /// The generation of `snap`: births carried over from the last two (a socket listed
    /// before keeps its first sighting), new sockets born since the previous scan. `by_key`
    /// is every socket's [`super::delta::key`] (a TCP socket's cookie) with its index, sorted
    /// by key, as [`super::delta::Tracker::by_key`] gives it.
    pub fn update_sorted(&mut self, snap: &Snapshot, by_key: &[(u64, u32)]) -> Arc<Generation> {
        let at = Stamp::of(snap.taken_at);
        let mut next = self
            .spare
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .unwrap_or_default();
        next.clear();
        let last_scan = self.cur.at.unwrap_or(Stamp::NONE);
        let (cur, prev) = (&self.cur.by_cookie, &self.prev.by_cookie);
        // Both walks move forward only: `by_key` and `cur` are sorted by cookie.
        let mut j = 0;
        // In cookie order each socket, and then its holders' reference count, is a cache
        // miss: both are fetched ahead (the holders once the socket is there).
        let ahead = |n: usize| {
            by_key
                .get(n)
                .and_then(|&(_, i)| snap.sockets.get(i as usize))
        };
        for (n, &(k, i)) in by_key.iter().enumerate() {
            if let Some(s) = ahead(n + PREFETCH_AHEAD) {
                prefetch_socket(s);
            }
            if let Some(s) = ahead(n + PREFETCH_AHEAD / 2) {
                s.processes.prefetch();
            }
            let Some(s) = snap.sockets.get(i as usize) else {
                continue;
            };
            if s.netid != Netid::Tcp || s.cookie != Some(k) {
                continue;
            }
            while j < cur.len() && cur[j].0 < k {
                j += 1;
            }
            let known = match cur.get(j) {
                Some((c, seen)) if *c == k => Some(seen),
                // Missing from the last scan (a dump can miss a socket): the one before.
                _ => prev
                    .binary_search_by_key(&k, |(c, _)| *c)
                    .ok()
                    .map(|x| &prev[x].1),
            };
            let (first, before) = known.map_or((at, last_scan), |b| (b.first, b.before));
            let seen = Seen {
                state: s.state,
                processes: s.processes.clone(),
                first,
                before,
            };
            // A socket listed twice (one dump can): the later listing, as a map would keep.
            match next.last_mut() {
                Some((c, last)) if *c == k => *last = seen,
                _ => next.push((k, seen)),
            }
        }
        let next = Arc::new(Generation {
            by_cookie: next,
            at: Some(at),
            spare: Some(Arc::clone(&self.spare)),
        });
        let cur = std::mem::replace(&mut self.cur, Arc::clone(&next));
        self.prev = cur;
        next
    }
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
    /// What the last two snapshots knew per cookie (made by the collector thread).
    seen: Arc<Generation>,
    seen_prev: Arc<Generation>,
    /// For tests without a collector thread ([`ClosedLog::observe`]).
    #[cfg(test)]
    sightings: Option<Sightings>,
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
            seen: Arc::default(),
            seen_prev: Arc::default(),
            #[cfg(test)]
            sightings: None,
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
            let seen = d.socket.cookie.and_then(|c| self.lookup(c));
            let (last_state, processes) = seen.map_or((None, Holders::default()), |s| {
                (Some(s.state), s.processes.clone())
            });
            let lifetime = seen.map(|s| lifetime(s, at));
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

    /// The connection `cookie` as the last two snapshots knew it.
    fn lookup(&self, cookie: u64) -> Option<&Seen> {
        self.seen.get(cookie).or_else(|| self.seen_prev.get(cookie))
    }

    /// A new snapshot, its generation made here (tests, without a collector thread): see
    /// [`ClosedLog::observe_with`].
    #[cfg(test)]
    pub fn observe(&mut self, snap: &Snapshot) {
        let mut sightings = self.sightings.take().unwrap_or_default();
        self.observe_with(snap, sightings.update(snap));
        self.sightings = Some(sightings);
    }

    /// A new snapshot and its generation (births, states and processes by cookie, made by
    /// [`Sightings::update`]); in snapshot mode, the connections of the previous snapshot it
    /// no longer lists are recorded as closed.
    pub fn observe_with(&mut self, snap: &Snapshot, generation: Arc<Generation>) {
        let at = snap.taken_at;
        let cur = std::mem::replace(&mut self.seen, generation);
        // The generation let go of returns its table to the collector thread (see Drop).
        self.seen_prev = cur;
        if self.source != ClosedSource::Snapshots {
            return;
        }
        let previous = std::mem::take(&mut self.previous);
        for s in previous {
            let gone = s.cookie.is_some_and(|c| !self.seen.contains(c));
            if gone {
                let lifetime = s
                    .cookie
                    .and_then(|c| self.lookup(c))
                    .map(|b| lifetime(b, at));
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

/// The lifetime of a connection freed at `end` (as [`crate::closed::Births::lifetime`]).
fn lifetime(seen: &Seen, end: SystemTime) -> Lifetime {
    Lifetime {
        at_least: seen.first.until(end).unwrap_or_default(),
        at_most: seen.before.until(end),
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

    fn held_by(command: &str) -> Holders {
        vec![crate::model::ProcessRef {
            command: command.into(),
            pid: 9,
            fd: 3,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        }]
        .into()
    }

    fn snap(at: u64, sockets: Vec<Socket>) -> Snapshot {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(at);
        Snapshot::new(t, Source::Netlink, sockets, None)
    }

    #[test]
    fn events_get_the_process_and_lifetime_snapshots_knew() {
        let mut log = ClosedLog::default();
        let mut s = conn(40000, 7, TcpState::Established);
        s.processes = held_by("curl");
        log.observe(&snap(100, vec![]));
        log.observe(&snap(101, vec![s.clone()]));
        // Listed again: its birth stays that of the first sighting.
        log.observe(&snap(102, vec![s]));
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
        assert_eq!(c.lifetime.unwrap().at_most, Some(Duration::from_secs(4)));
        assert_eq!(log.by_seq(c.seq).map(|c| c.seq), Some(1));
    }

    #[test]
    fn a_socket_missed_by_one_scan_keeps_its_birth_and_a_double_listing_counts_once() {
        let mut sightings = Sightings::default();
        let a = conn(40000, 5, TcpState::Established);
        let b = conn(40001, 9, TcpState::Established);
        let t = |at: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(at);
        sightings.update(&snap(10, vec![]));
        sightings.update(&snap(11, vec![b.clone(), a.clone()]));
        // The scan at 12 missed `a`; the one at 13 lists it again (and `b` twice).
        sightings.update(&snap(12, vec![b.clone()]));
        let mut b_closing = b.clone();
        b_closing.state = TcpState::CloseWait;
        let g = sightings.update(&snap(13, vec![a, b, b_closing]));
        assert_eq!(g.by_cookie.len(), 2);
        assert!(g.by_cookie.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        let seen_a = g.get(5).unwrap();
        assert_eq!(seen_a.first.until(t(13)), Some(Duration::from_secs(2)));
        assert_eq!(seen_a.before.until(t(13)), Some(Duration::from_secs(3)));
        assert_eq!(
            g.get(9).unwrap().state,
            TcpState::CloseWait,
            "the later listing"
        );
        assert!(g.get(7).is_none());
        // The tracker's order gives the same generation as sorting here.
        let s = snap(
            14,
            vec![
                conn(1, 3, TcpState::SynSent),
                conn(2, 5, TcpState::FinWait1),
            ],
        );
        let mut tracker = super::super::delta::Tracker::default();
        tracker.update(&s);
        let g = sightings.update_sorted(&s, tracker.by_key());
        let cookies: Vec<u64> = g.by_cookie.iter().map(|(c, _)| *c).collect();
        assert_eq!(cookies, vec![3, 5]);
        assert_eq!(
            g.get(5).unwrap().first.until(t(14)),
            Some(Duration::from_secs(3))
        );
        assert_eq!(g.get(3).unwrap().first.until(t(14)), Some(Duration::ZERO));
    }

    /// `cargo test --release --lib tui::closed::tests::perf -- --ignored --nocapture`: the
    /// per-refresh cost over 100,000 connections listed in an order unlike their cookies'.
    #[test]
    #[ignore]
    fn perf() {
        let holders = held_by("srv");
        let mut socks: Vec<Socket> = (0..100_000u64)
            .map(|i| {
                // A scattered cookie order, as a hash-bucket walk gives.
                let mut s = conn(
                    (i % 60000) as u16,
                    (i * 7919) % 100_003 + 1,
                    TcpState::Established,
                );
                s.processes = holders.clone();
                s
            })
            .collect();
        let mut sightings = Sightings::default();
        let mut tracker = super::super::delta::Tracker::default();
        let mut best = std::time::Duration::MAX;
        for round in 0..30u64 {
            socks.rotate_left(7);
            let s = snap(100 + round, socks.clone());
            tracker.update(&s);
            let t = std::time::Instant::now();
            let g = sightings.update_sorted(&s, tracker.by_key());
            best = best.min(t.elapsed());
            assert_eq!(g.by_cookie.len(), 100_000);
        }
        println!("sightings over 100,000 connections: best {best:?}");
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
