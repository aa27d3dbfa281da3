//! The live view's destroy-event thread: subscribed to the TCP destroy groups of the view's
//! namespace, or with `--all-netns` of every namespace (one subscription each: the kernel
//! delivers a namespace's events only to subscribers inside it; new namespaces are picked up
//! every [`RESCAN_NAMESPACES`], vanished ones dropped), it gathers events for a tenth of a
//! second and sends them as one batch, so a burst of thousands of closes a second costs the
//! UI thread a few wake-ups, not thousands. Each event from another namespace carries its
//! namespace's tag, which the Closed view shows.

use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant, SystemTime};

use crate::collect::Query;
use crate::collect::all_netns::{reason, tag_of};
use crate::collect::event_netns::{self, RESCAN_NAMESPACES, entered};
use crate::collect::host::Host;
use crate::collect::namespaces::{self, Netns};
use crate::collect::netlink::events::{Destroyed, EventSource, RCVBUF_BYTES, Received, group_mask};
use crate::model::{Netid, NetidSet, NetnsTag};

/// How long events are gathered before a batch is sent.
const BATCH: Duration = Duration::from_millis(100);
/// Datagrams read from one subscription before the others get their turn.
const READS: usize = 64;
/// A receive buffer (as SO_RCVBUF reads it back) that holds a whole batch of events even at
/// tens of thousands of closes a second: with it, the thread reads once a batch rather than
/// on every close.
const PATIENT_RCVBUF: usize = 8 << 20;

/// What the thread reports.
pub enum ClosedReport {
    Batch {
        /// Each event with the time it was received.
        events: Vec<(SystemTime, Destroyed)>,
        /// Events the kernel dropped since the last batch.
        lost: u64,
    },
    /// `--all-netns`: the namespaces now followed, and (label, why) of those that could not
    /// be entered. Sent at the start and whenever the set changes.
    Namespaces {
        followed: usize,
        unreadable: Vec<(String, String)>,
    },
    /// The subscription failed (at the start or later): compare snapshots instead.
    Unavailable(String),
}

/// One subscription: its namespace (`None`: this process's, without `--all-netns`).
struct Sub {
    ns: Option<Netns>,
    tag: Option<Arc<NetnsTag>>,
    source: EventSource,
    drops: u64,
}

impl Sub {
    fn open(ns: Option<Netns>, host: &Host, query: &Query) -> std::io::Result<Sub> {
        let source = host
            .open_diag_socket()
            .and_then(|s| EventSource::subscribe(s, group_mask(query), RCVBUF_BYTES))?;
        let drops = source.drops().unwrap_or(0);
        // The own namespace too gets a tag under --all-netns: every row says where it was.
        let tag = ns.as_ref().map(|n| Arc::new(tag_of(n)));
        Ok(Sub {
            ns,
            tag,
            source,
            drops,
        })
    }

    /// Events the kernel dropped since the last call.
    fn new_drops(&mut self) -> u64 {
        let now = self.source.drops().unwrap_or(self.drops);
        let n = now.saturating_sub(self.drops);
        self.drops = now;
        n
    }
}

/// The query of the Closed view's events: TCP, with the final tcp_info.
fn query() -> Query {
    Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        tcp_info: true,
        ..Query::default()
    }
}

/// Subscribe in every namespace that can be entered; (label, why) of the others.
fn open_all(query: &Query, subs: &mut Vec<Sub>, unreadable: &mut Vec<(String, String)>) {
    let known: Vec<(u64, u64)> = subs
        .iter()
        .filter_map(|s| s.ns.as_ref().map(|n| (n.dev, n.inode)))
        .collect();
    for ns in event_netns::unknown(&known) {
        match entered(&ns).and_then(|h| Sub::open(Some(ns.clone()), &h, query)) {
            Ok(s) => subs.push(s),
            Err(_) if !ns.still_there() => {}
            Err(e) => unreadable.push((ns.label(), reason(&e))),
        }
    }
}

/// Subscribe and start the thread; it sends `wrap(report)` on `tx` until the receiver is
/// gone. A refused subscription is reported once, as [`ClosedReport::Unavailable`]; with
/// `all_netns`, a subscription in every namespace that can be entered.
pub fn spawn<E: Send + 'static>(tx: Sender<E>, wrap: fn(ClosedReport) -> E, all_netns: bool) {
    let query = query();
    let mut subs = Vec::new();
    let mut unreadable = Vec::new();
    if all_netns {
        open_all(&query, &mut subs, &mut unreadable);
        if subs.is_empty() {
            let _ = tx.send(wrap(ClosedReport::Unavailable(
                "no destroy events: no network namespace could be entered".into(),
            )));
            return;
        }
        let _ = tx.send(wrap(ClosedReport::Namespaces {
            followed: subs.len(),
            unreadable: std::mem::take(&mut unreadable),
        }));
    } else {
        match Sub::open(None, &Host::current(), &query) {
            Ok(s) => subs.push(s),
            Err(e) => {
                let _ = tx.send(wrap(ClosedReport::Unavailable(format!(
                    "no destroy events: {e}"
                ))));
                return;
            }
        }
    }
    let spawned = std::thread::Builder::new()
        .name("sockeye-events".into())
        .spawn({
            let tx = tx.clone();
            move || follow(subs, &query, all_netns, &tx, wrap)
        });
    if let Err(e) = spawned {
        let _ = tx.send(wrap(ClosedReport::Unavailable(format!(
            "cannot start the events thread: {e}"
        ))));
    }
}

/// The thread's loop: returns when the receiver is gone or (one namespace) the events fail.
fn follow<E>(
    mut subs: Vec<Sub>,
    query: &Query,
    all_netns: bool,
    tx: &Sender<E>,
    wrap: fn(ClosedReport) -> E,
) {
    let mut events = Vec::new();
    let mut got = Vec::new();
    let mut ready = Vec::new();
    let mut fds = Vec::new();
    let mut since = Instant::now();
    let mut next_scan = Instant::now() + RESCAN_NAMESPACES;
    loop {
        fds.clear();
        fds.extend(subs.iter().map(|s| s.source.fd()));
        let wait = BATCH.saturating_sub(since.elapsed());
        if let Err(e) = event_netns::wait_any(&fds, wait, &mut ready) {
            let _ = tx.send(wrap(ClosedReport::Unavailable(format!(
                "destroy events failed: {e}"
            ))));
            return;
        }
        let mut failed = Vec::new();
        // Whether every ready subscription was read until it had nothing left.
        let mut drained = true;
        for &i in &ready {
            let sub = &mut subs[i];
            let mut emptied = false;
            for _ in 0..READS {
                match sub.source.recv_now(query, &mut got) {
                    Ok(Received::Events) => {
                        let at = SystemTime::now();
                        events.extend(got.drain(..).map(|mut d| {
                            d.socket.netns.clone_from(&sub.tag);
                            (at, d)
                        }));
                    }
                    Ok(Received::Empty) => {
                        emptied = true;
                        break;
                    }
                    // Events were lost: keep reading as they come.
                    Ok(Received::Overrun) => break,
                    Err(e) if all_netns => {
                        // One namespace's failure (it may be going away) stops only its own.
                        failed.push((i, e));
                        break;
                    }
                    Err(e) => {
                        let _ = tx.send(wrap(ClosedReport::Unavailable(format!(
                            "destroy events failed: {e}"
                        ))));
                        return;
                    }
                }
            }
            drained &= emptied;
        }
        let mut changed = !failed.is_empty();
        for (i, _) in failed.into_iter().rev() {
            subs.remove(i);
        }
        if since.elapsed() >= BATCH {
            let lost = subs.iter_mut().map(Sub::new_drops).sum();
            if !events.is_empty() || lost > 0 {
                let batch = ClosedReport::Batch {
                    events: std::mem::take(&mut events),
                    lost,
                };
                if tx.send(wrap(batch)).is_err() {
                    return;
                }
            }
            since = Instant::now();
        }
        // Waking on every close costs a poll and two reads each, more than the events
        // themselves at a few hundred closes a second. When every buffer can hold a batch,
        // the rest of this one is left to queue up and read in one go.
        if !ready.is_empty() && drained && subs.iter().all(|s| s.source.rcvbuf >= PATIENT_RCVBUF) {
            std::thread::sleep(BATCH.saturating_sub(since.elapsed()));
        }
        if all_netns && Instant::now() >= next_scan {
            let before = subs.len();
            subs.retain(|s| s.ns.as_ref().is_none_or(namespaces::Netns::still_there));
            let mut unreadable = Vec::new();
            open_all(query, &mut subs, &mut unreadable);
            changed |= subs.len() != before;
            if changed {
                let report = ClosedReport::Namespaces {
                    followed: subs.len(),
                    unreadable,
                };
                if tx.send(wrap(report)).is_err() {
                    return;
                }
            }
            next_scan = Instant::now() + RESCAN_NAMESPACES;
        }
    }
}
