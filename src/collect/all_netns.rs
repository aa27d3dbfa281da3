//! `--all-netns`: one snapshot spanning every network namespace on the machine. Each
//! namespace is read by its own [`Collector`] (kept across refreshes, so its namespace thread
//! and netlink socket are opened once), every socket carries its namespace's [`NetnsTag`],
//! and process attribution is ONE /proc/*/fd scan over the merged table: socket inodes are
//! unique machine-wide, so a scan per namespace would only repeat the same work.
//!
//! The namespaces are enumerated again at every snapshot: new ones are picked up, vanished
//! ones dropped quietly (their thread ends, releasing the namespace). A namespace that cannot
//! be read is remembered with its reason (not retried until it disappears) and listed in the
//! snapshot's [`NetnsReads::unreadable`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;

use super::namespaces::{self, Netns};
use super::processes::ProcessCache;
use super::{CollectError, Collector, Host, Query, container};
use crate::model::{NetnsRead, NetnsReads, NetnsTag, Snapshot, Socket, Source};

/// Most threads reading namespaces at once.
const MAX_READERS: usize = 4;

/// A namespace's identity: the nsfs device and inode.
type Key = (u64, u64);

struct Member {
    key: Key,
    ns: Netns,
    tag: Arc<NetnsTag>,
    collector: Collector,
}

/// The collectors of every namespace, and the one process cache they share.
pub struct AllNetns {
    members: Vec<Member>,
    /// Namespaces that could not be entered or read, with why; forgotten when they vanish.
    failed: FxHashMap<Key, (String, String)>,
    processes: ProcessCache,
    steps: [(&'static str, Duration); 3],
}

impl Default for AllNetns {
    fn default() -> Self {
        AllNetns {
            members: Vec::new(),
            failed: FxHashMap::default(),
            processes: ProcessCache::default().with_nspid(),
            steps: [("", Duration::ZERO); 3],
        }
    }
}

/// The tag of a namespace: its inode, /run/netns name and the container of a process inside.
pub fn tag_of(ns: &Netns) -> NetnsTag {
    let container = container::of_netns(&ns.pids, (ns.dev, ns.inode));
    NetnsTag::new(ns.inode, ns.name.clone(), container)
}

/// Why a namespace cannot be read, in words.
pub fn reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EPERM) => {
            "entering needs CAP_SYS_ADMIN and no process of yours is inside".into()
        }
        _ => e.to_string(),
    }
}

impl AllNetns {
    pub fn steps(&self) -> &[(&'static str, Duration)] {
        &self.steps
    }

    /// One snapshot of every namespace, built in `table`. `query.processes` is honoured by
    /// one scan over the merged sockets, not by each namespace's collector.
    pub fn snapshot(
        &mut self,
        query: &Query,
        mut table: Vec<Socket>,
    ) -> Result<Snapshot, CollectError> {
        let t0 = std::time::Instant::now();
        self.sync(namespaces::enumerate());
        let per_ns = Query {
            processes: false,
            ..query.clone()
        };
        let results = self.read_members(&per_ns);
        let mut reads = Vec::with_capacity(self.members.len());
        let mut first: Option<(Source, Option<String>, Option<crate::model::KernelCounters>)> =
            None;
        let (mut warnings, mut skipped) = (Vec::new(), 0);
        let mut gone = Vec::new();
        let mut last_err = None;
        for (i, (m, result)) in self.members.iter_mut().zip(results).enumerate() {
            match result {
                Ok(mut snap) => {
                    reads.push(NetnsRead {
                        tag: Arc::clone(&m.tag),
                        source: snap.source,
                        fallback_reason: snap.fallback_reason.clone(),
                        counters: snap.counters.clone(),
                        sockets: snap.sockets.len(),
                    });
                    first.get_or_insert((snap.source, snap.fallback_reason, snap.counters));
                    table.append(&mut snap.sockets);
                    m.collector.recycle(snap.sockets);
                    let label = crate::text::escape(&m.tag.label).into_owned();
                    warnings.extend(snap.warnings.into_iter().map(|w| format!("{label}: {w}")));
                    skipped += snap.skipped_records;
                }
                // Vanished between the listing and the read.
                Err(_) if !m.ns.still_there() => gone.push(i),
                Err(e) => {
                    self.failed
                        .insert(m.key, (m.tag.label.clone(), e.to_string()));
                    last_err = Some(e);
                    gone.push(i);
                }
            }
        }
        for i in gone.into_iter().rev() {
            self.members.remove(i);
        }
        let Some((source, fallback_reason, counters)) = first else {
            // Nothing could be read: the last error says why, else "nothing there".
            return match last_err {
                Some(e) => Err(e),
                None => Ok(self.empty(query, table)),
            };
        };
        let t_sockets = std::time::Instant::now();
        let mut snap = Snapshot::new(std::time::SystemTime::now(), source, table, counters);
        snap.fallback_reason = fallback_reason;
        snap.warnings = warnings;
        snap.skipped_records = skipped;
        if query.processes {
            snap.process_note = self
                .processes
                .attribute(Path::new("/proc"), &mut snap.sockets);
            container::attribute_host_network(Path::new("/"), &mut snap.sockets);
            if let Some(which) = query.selinux {
                super::processes::selinux::attach(
                    &super::Host::current(),
                    &mut snap.sockets,
                    which,
                );
            }
        }
        let mut unreadable: Vec<_> = self.failed.values().cloned().collect();
        unreadable.sort();
        snap.netns = Some(Arc::new(NetnsReads {
            read: reads,
            unreadable,
        }));
        self.steps = [
            ("sockets", t_sockets - t0),
            ("processes", t_sockets.elapsed()),
            ("counters", Duration::ZERO),
        ];
        Ok(snap)
    }

    /// Every member's snapshot, in member order. The kernel walks its whole (machine-wide)
    /// socket hash for each namespace's dump, so the dumps run on a few threads at once:
    /// the wall time shrinks with the cores, the work stays the same.
    fn read_members(&mut self, per_ns: &Query) -> Vec<Result<Snapshot, CollectError>> {
        let read = |m: &mut Member| {
            let mut q = per_ns.clone();
            q.netns = Some(Arc::clone(&m.tag));
            m.collector.set_query(q);
            m.collector.snapshot()
        };
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_READERS);
        let chunk = self.members.len().div_ceil(workers).max(1);
        if chunk >= self.members.len() {
            return self.members.iter_mut().map(read).collect();
        }
        std::thread::scope(|sc| {
            let handles: Vec<_> = self
                .members
                .chunks_mut(chunk)
                .map(|ms| sc.spawn(move || ms.iter_mut().map(read).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    }

    fn empty(&self, query: &Query, table: Vec<Socket>) -> Snapshot {
        let mut snap = Snapshot::new(
            std::time::SystemTime::now(),
            Source::Netlink,
            table,
            query.counters.then(Default::default),
        );
        let mut unreadable: Vec<_> = self.failed.values().cloned().collect();
        unreadable.sort();
        snap.netns = Some(Arc::new(NetnsReads {
            read: Vec::new(),
            unreadable,
        }));
        snap
    }

    /// Keep the members still present (in `found`'s order), open the new ones, drop the rest.
    fn sync(&mut self, found: Vec<Netns>) {
        let mut old: FxHashMap<Key, Member> = self.members.drain(..).map(|m| (m.key, m)).collect();
        self.failed
            .retain(|k, _| found.iter().any(|n| (n.dev, n.inode) == *k));
        for ns in found {
            let key = (ns.dev, ns.inode);
            if let Some(m) = old.remove(&key) {
                self.members.push(m);
                continue;
            }
            if self.failed.contains_key(&key) {
                continue;
            }
            let host: Host = match ns.host() {
                Ok(h) => h,
                Err(_) if !ns.still_there() => continue,
                Err(e) => {
                    self.failed.insert(key, (ns.label(), reason(&e)));
                    continue;
                }
            };
            let tag = Arc::new(tag_of(&ns));
            let collector = Collector::on_host(Query::default(), host);
            self.members.push(Member {
                key,
                ns,
                tag,
                collector,
            });
        }
    }
}
