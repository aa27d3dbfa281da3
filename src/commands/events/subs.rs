//! One destroy-event subscription per network namespace followed (the kernel delivers the
//! groups only to subscribers in the socket's own namespace), each with the scans that
//! bound its sockets' births, and the poll(2) that waits on all of them at once.

use std::io;
use std::time::{Duration, Instant, SystemTime};

use crate::closed::Births;
use crate::collect::host::Host;
use crate::collect::namespaces::Netns;
use crate::collect::netlink::events::{EventSource, group_mask};
use crate::collect::{Collector, Query};
use crate::model::{Netid, NetidSet, StateSet};

/// How often each namespace's sockets are listed to learn when they were born.
pub const SCAN_EVERY: Duration = Duration::from_secs(1);

/// One namespace followed.
pub struct Sub {
    /// `None`: this process's own namespace, without `-N`/`--all-netns`.
    pub ns: Option<Netns>,
    /// The escaped label of the Netns column (`--all-netns`).
    pub label: String,
    pub source: EventSource,
    /// Drops counted so far from the socket's SO_MEMINFO.
    pub drops: u64,
    pub births: Births,
    scanner: Collector,
    next_scan: Instant,
}

impl Sub {
    /// Subscribe in `host`'s namespace to the groups `query` selects.
    pub fn open(ns: Option<Netns>, host: Host, query: &Query, rcvbuf: usize) -> io::Result<Sub> {
        let sock = host.open_diag_socket()?;
        let source = EventSource::subscribe(sock, group_mask(query), rcvbuf)?;
        let drops = source.drops().unwrap_or(0);
        let label = ns.as_ref().map_or_else(String::new, |n| {
            let c = n
                .pids
                .iter()
                .find_map(|&p| crate::collect::container::of_pid(p));
            crate::text::escape(&c.map_or_else(|| n.label(), |c| c.label())).into_owned()
        });
        Ok(Sub {
            ns,
            label,
            source,
            drops,
            births: Births::default(),
            scanner: Collector::on_host(scan_query(query), host),
            next_scan: Instant::now(),
        })
    }

    /// List the namespace's sockets if a scan is due; a failed scan only loses lifetimes.
    pub fn scan_if_due(&mut self) {
        if Instant::now() < self.next_scan {
            return;
        }
        let at = SystemTime::now();
        if let Ok(snap) = self.scanner.snapshot() {
            self.births
                .observe(snap.sockets.iter().filter_map(|s| s.cookie), at);
        }
        self.next_scan = Instant::now() + SCAN_EVERY;
    }

    /// Events the kernel dropped since the last call (`None`: no drop counter).
    pub fn new_drops(&mut self) -> Option<u64> {
        let now = self.source.drops()?;
        let n = now.saturating_sub(self.drops);
        self.drops = now;
        Some(n)
    }
}

/// The scan behind lifetimes: every TCP/UDP socket of the followed families (not only those
/// the filter keeps: a socket's state when listed is not its state when freed).
fn scan_query(q: &Query) -> Query {
    let netids: Vec<Netid> = [Netid::Tcp, Netid::Udp]
        .into_iter()
        .filter(|n| q.netids.contains(*n))
        .collect();
    Query {
        netids: NetidSet::of(&netids),
        ipv4: q.ipv4,
        ipv6: q.ipv6,
        states: StateSet::ALL,
        source: q.source,
        ..Query::default()
    }
}

/// Wait up to `timeout` for any subscription to have something queued; the indexes of
/// those that do.
pub fn wait_any(subs: &[Sub], timeout: Duration, ready: &mut Vec<usize>) -> io::Result<()> {
    let fds: Vec<i32> = subs.iter().map(|s| s.source.fd()).collect();
    crate::collect::event_netns::wait_any(&fds, timeout, ready)
}
