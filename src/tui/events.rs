//! The live view's destroy-event thread: subscribed to the TCP destroy groups of the view's
//! namespace, it gathers events for a tenth of a second and sends them as one batch, so a
//! burst of thousands of closes a second costs the UI thread a few wake-ups, not thousands.

use std::sync::mpsc::Sender;
use std::time::{Duration, Instant, SystemTime};

use crate::collect::Query;
use crate::collect::host::Host;
use crate::collect::netlink::events::{Destroyed, EventSource, RCVBUF_BYTES, Received, group_mask};
use crate::model::{Netid, NetidSet};

/// How long events are gathered before a batch is sent.
const BATCH: Duration = Duration::from_millis(100);

/// What the thread reports.
pub enum ClosedReport {
    Batch {
        /// Each event with the time it was received.
        events: Vec<(SystemTime, Destroyed)>,
        /// Events the kernel dropped since the last batch.
        lost: u64,
    },
    /// The subscription failed (at the start or later): compare snapshots instead.
    Unavailable(String),
}

/// Subscribe and start the thread; it sends `wrap(report)` on `tx` until the receiver is
/// gone. A refused subscription is reported once, as [`ClosedReport::Unavailable`].
pub fn spawn<E: Send + 'static>(tx: Sender<E>, wrap: fn(ClosedReport) -> E) {
    let query = Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        tcp_info: true,
        ..Query::default()
    };
    let source = Host::current()
        .open_diag_socket()
        .and_then(|s| EventSource::subscribe(s, group_mask(&query), RCVBUF_BYTES));
    let mut source = match source {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(wrap(ClosedReport::Unavailable(format!(
                "no destroy events: {e}"
            ))));
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("sockeye-events".into())
        .spawn({
            let tx = tx.clone();
            move || {
                let mut drops = source.drops().unwrap_or(0);
                let mut events = Vec::new();
                let mut got = Vec::new();
                let mut since = Instant::now();
                loop {
                    match source.recv(&query, &mut got) {
                        Ok(Received::Events | Received::Empty | Received::Overrun) => {
                            let at = SystemTime::now();
                            events.extend(got.drain(..).map(|d| (at, d)));
                        }
                        Err(e) => {
                            let _ = tx.send(wrap(ClosedReport::Unavailable(format!(
                                "destroy events failed: {e}"
                            ))));
                            return;
                        }
                    }
                    if since.elapsed() < BATCH {
                        continue;
                    }
                    let now = source.drops().unwrap_or(drops);
                    let lost = now.saturating_sub(drops);
                    drops = now;
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
            }
        });
    if let Err(e) = spawned {
        let _ = tx.send(wrap(ClosedReport::Unavailable(format!(
            "cannot start the events thread: {e}"
        ))));
    }
}
