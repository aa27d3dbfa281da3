//! Collection: turns the kernel's socket tables into a [`Snapshot`]. Knows nothing about
//! terminals or output formats.
//!
//! Sources: netlink sock_diag (default) and /proc/net (fallback, or on request). Process
//! attribution scans /proc/*/fd; kernel counters come from /proc/net/{snmp,netstat,sockstat}.
//! Every one of those reads goes through the collector's [`Host`], which decides what is
//! read: this machine, a fake tree in tests, or (next) another network namespace.

pub mod all_netns;
pub mod cgroups;
pub mod container;
pub mod counters;
pub mod event_netns;
#[doc(hidden)]
pub mod fuzz;
pub mod host;
pub mod namespaces;
pub mod netlink;
pub mod processes;
pub mod procfs;
pub mod protocols;

pub use host::Host;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::model::{Snapshot, Socket, Source, StateSet};

/// Which source the user asked for (`--source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SourcePref {
    /// Netlink, falling back to /proc when netlink is unavailable.
    #[default]
    Auto,
    Netlink,
    Proc,
}

/// Sets of tables are the registry's (moved to [`crate::tables`]).
pub use crate::tables::NetidSet;

/// A userspace predicate applied to every socket as it is decoded, so rejected sockets are
/// never stored. The filter language compiles to one of these.
pub type SocketPredicate = Arc<dyn Fn(&Socket) -> bool + Send + Sync>;

/// What to collect. Ask only for what is needed: extensions cost kernel time and decoding.
#[derive(Clone)]
pub struct Query {
    pub netids: NetidSet,
    /// Inet families to dump (both by default; `-4`/`-6` restrict).
    pub ipv4: bool,
    pub ipv6: bool,
    /// Sent to the kernel as the request's states mask, and checked again in userspace.
    pub states: StateSet,
    /// Request INET_DIAG_INFO + congestion algorithm (`-i`).
    pub tcp_info: bool,
    /// Request socket memory (`-m`).
    pub memory: bool,
    /// Keep what `-e`, `--cgroup` and `--inet-sockopt` show ([`crate::model::Details`]),
    /// and ask unix sockets for their VFS inode and pending connections.
    pub details: bool,
    /// Ask for TOS, traffic class and class id (`--tos`); implies `details`.
    pub tos: bool,
    /// `-T`: attribute sockets to threads (into [`crate::model::Details::threads`]).
    pub threads: bool,
    /// cgroup v2 ids to paths, for `details`; loaded by the collector from its host.
    pub cgroups: Option<Arc<cgroups::CgroupNames>>,
    /// Compiled INET_DIAG_REQ_BYTECODE for TCP and UDP tables, if the filter has a part
    /// the kernel can evaluate.
    pub bytecode: Option<Arc<Vec<u8>>>,
    /// Userspace filter applied to every decoded socket (always, whatever the kernel did).
    pub keep: Option<SocketPredicate>,
    /// Attribute sockets to processes (`-p`).
    pub processes: bool,
    /// `-Z`/`-z`: SELinux contexts on each process (with `processes`).
    pub selinux: Option<processes::selinux::Contexts>,
    /// Read kernel counters and sysctls.
    pub counters: bool,
    pub source: SourcePref,
    /// Called when the collector throws away what it decoded so far and dumps again (the
    /// kernel overran a netlink dump): a `keep` hook that streams sockets out drops them.
    pub on_restart: Option<Arc<dyn Fn() + Send + Sync>>,
    /// The namespace being read, when the output spans namespaces: set on every socket as it
    /// is decoded, before the userspace filter (`netns = NAME`) sees it.
    pub netns: Option<Arc<crate::model::NetnsTag>>,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            netids: NetidSet::ALL,
            ipv4: true,
            ipv6: true,
            states: StateSet::ALL,
            tcp_info: false,
            memory: false,
            details: false,
            tos: false,
            threads: false,
            cgroups: None,
            bytecode: None,
            keep: None,
            processes: false,
            selinux: None,
            counters: false,
            source: SourcePref::Auto,
            on_restart: None,
            netns: None,
        }
    }
}

impl Query {
    /// The path of cgroup `id` as ss prints it (`/` for the root, `unreachable:ID` for one
    /// that is gone); `None` when no cgroup table was loaded.
    pub fn cgroup_path(&self, id: u64) -> Option<Arc<str>> {
        self.cgroups.as_ref().map(|c| c.path(id))
    }

    /// Whether any flag needs [`crate::model::Details`].
    pub fn wants_details(&self) -> bool {
        self.details || self.tos || self.threads
    }
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("netids", &self.netids)
            .field("ipv4", &self.ipv4)
            .field("ipv6", &self.ipv6)
            .field("states", &self.states)
            .field("tcp_info", &self.tcp_info)
            .field("memory", &self.memory)
            .field("details", &self.details)
            .field("tos", &self.tos)
            .field("threads", &self.threads)
            .field("bytecode", &self.bytecode.as_ref().map(|b| b.len()))
            .field("keep", &self.keep.is_some())
            .field("processes", &self.processes)
            .field("counters", &self.counters)
            .field("source", &self.source)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Netlink(#[from] netlink::NetlinkError),
    #[error(transparent)]
    Proc(#[from] procfs::ProcError),
}

/// Takes snapshots, keeping what is worth keeping between them: the netlink socket, the
/// process cache, and the decision to fall back.
pub struct Collector {
    query: Query,
    /// What is read: every OS access of a snapshot goes through it.
    host: Host,
    netlink: Option<netlink::NetlinkSource>,
    fallback_reason: Option<String>,
    processes: processes::ProcessCache,
    /// Sockets in the previous snapshot: the next one is allocated for about as many, so a
    /// 100,000-socket table is not built by doubling (which briefly holds 1.5x of it).
    last_len: usize,
    /// A socket table handed back for reuse (see [`Collector::recycle`]).
    spare: Vec<Socket>,
    steps: [(&'static str, Duration); 5],
    /// `--all-netns`: every namespace, each with its own collector (this one's host unused).
    all: Option<Box<all_netns::AllNetns>>,
    /// The namespace this collector reads, set on every socket (`-N`).
    netns: Option<Arc<crate::model::NetnsTag>>,
}

impl Collector {
    /// A collector of this machine's sockets.
    pub fn new(query: Query) -> Collector {
        Collector::on_host(query, Host::current())
    }

    /// A collector of `host`'s sockets (a fake host in tests; a namespace next).
    pub fn on_host(query: Query, host: Host) -> Collector {
        Collector {
            query,
            host,
            netlink: None,
            fallback_reason: None,
            processes: processes::ProcessCache::default(),
            last_len: 0,
            spare: Vec::new(),
            steps: [("", Duration::ZERO); 5],
            all: None,
            netns: None,
        }
    }

    /// A collector of every network namespace on the machine (`--all-netns`): each snapshot
    /// lists them again, reads each through its own host, tags every socket with its
    /// namespace and attributes processes with one /proc scan. The snapshot's `netns` lists
    /// what was read and what could not be.
    pub fn all_netns(query: Query) -> Collector {
        let mut c = Collector::new(query);
        c.all = Some(Box::default());
        c
    }

    /// A collector of `host`, the namespace `tag` names (`-N`): every socket carries the tag
    /// and processes their pid inside their own pid namespace.
    pub fn in_netns(query: Query, host: Host, tag: Arc<crate::model::NetnsTag>) -> Collector {
        let mut c = Collector::on_host(query, host);
        c.processes = processes::ProcessCache::default().with_nspid();
        c.netns = Some(tag);
        c.query.netns.clone_from(&c.netns);
        c
    }

    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The host this collector reads.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// How long the last snapshot's steps took: the socket dump, process attribution and
    /// kernel counters, then the dump's CPU split into the kernel's (`sockets_sys`) and
    /// ours (`sockets_user`) (for the live view's `SOCKEYE_TRACE`).
    pub fn steps(&self) -> &[(&'static str, Duration)] {
        match &self.all {
            Some(all) => all.steps(),
            None => &self.steps,
        }
    }

    /// Hand back the socket table of a snapshot that is no longer needed: the next snapshot
    /// is built in its allocation. A live view refreshing 100,000 sockets a second otherwise
    /// maps and frees ~20 MiB a second, which the kernel must zero each time.
    pub fn recycle(&mut self, mut sockets: Vec<Socket>) {
        crate::model::clear_sockets(&mut sockets);
        if sockets.capacity() > self.spare.capacity() {
            self.spare = sockets;
        }
    }

    /// An empty table for the next snapshot, with room for about as many sockets as the last.
    fn table(&mut self) -> Vec<Socket> {
        let mut v = std::mem::take(&mut self.spare);
        v.clear();
        v.reserve(self.last_len + self.last_len / 16 + 64);
        v
    }

    /// Which of `pids` have no /proc entry any more: the process exited (a view scoped to
    /// it would otherwise show "no sockets" as if it were idle).
    pub fn exited(&self, pids: &[u32]) -> Vec<u32> {
        let root = self.host.proc_root();
        pids.iter()
            .copied()
            .filter(|pid| {
                matches!(
                    std::fs::symlink_metadata(root.join(pid.to_string())),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound
                )
            })
            .collect()
    }

    /// Change what the next snapshot asks for (the TUI's filter bar, `p` toggle).
    pub fn set_query(&mut self, query: Query) {
        self.query = query;
        if self.netns.is_some() {
            self.query.netns.clone_from(&self.netns);
        }
    }

    /// One snapshot. In auto mode, a netlink failure that means "not available here" switches
    /// this collector to /proc for good, and the reason travels in every snapshot.
    pub fn snapshot(&mut self) -> Result<Snapshot, CollectError> {
        if self.all.is_some() {
            let table = self.table();
            let all = self.all.as_mut().map(|a| a.snapshot(&self.query, table));
            if let Some(result) = all {
                let snap = result?;
                self.last_len = snap.sockets.len();
                return Ok(snap);
            }
        }
        // Counters first: /proc/net/sockstat counts every socket on the host, and a dump
        // opens sockeye's own netlink socket (`-s` said one more than ss).
        let t_counters = Instant::now();
        let mut counters = self.query.counters.then(|| counters::read(&self.host));
        // A collector that keeps its sock_diag socket open between snapshots (the live view,
        // the recorder) reads sockstat with that socket counted: it is sockeye's, not one of
        // the namespace's (a recording's Total said one more than `dump -s`).
        if self.netlink.is_some()
            && let Some(used) = counters.as_mut().and_then(|c| c.sockets_used.as_mut())
        {
            *used = used.saturating_sub(1);
        }
        let counters_took = t_counters.elapsed();
        let t0 = Instant::now();
        let cpu0 = thread_cpu();
        if self.query.details && self.query.cgroups.is_none() {
            self.query.cgroups = Some(Arc::new(cgroups::CgroupNames::load(&self.host)));
        }
        let mut snap = Snapshot {
            taken_at: SystemTime::now(),
            source: Source::Netlink,
            fallback_reason: self.fallback_reason.clone(),
            sockets: self.table(),
            counters,
            warnings: Vec::new(),
            skipped_records: 0,
            process_note: None,
            netns: None,
        };
        if self.query.processes && self.processes.verifying() {
            // The process cache's periodic check for closed fds needs no snapshot: it runs
            // while the kernel dumps the sockets (at 100,000 fds a slice is ~15 ms).
            let mut cache = std::mem::take(&mut self.processes);
            let root = self.host.proc_root().to_path_buf();
            let result = std::thread::scope(|scope| {
                let slice = scope.spawn(|| cache.verify_slice(&root));
                let result = self.read_sockets(&mut snap);
                if let Err(panic) = slice.join() {
                    std::panic::resume_unwind(panic);
                }
                result
            });
            self.processes = cache;
            result?;
        } else {
            self.read_sockets(&mut snap)?;
        }
        let t_sockets = Instant::now();
        let cpu = thread_cpu()
            .zip(cpu0)
            .map(|(b, a)| (b.0.saturating_sub(a.0), b.1.saturating_sub(a.1)));
        if self.query.processes {
            snap.process_note = self
                .processes
                .attribute(self.host.proc_root(), &mut snap.sockets);
            if self.query.netns.is_some() {
                container::attribute_host_network(std::path::Path::new("/"), &mut snap.sockets);
            }
            if let Some(which) = self.query.selinux {
                processes::selinux::attach(&self.host, &mut snap.sockets, which);
            }
        }
        if self.query.threads {
            processes::threads::attach(self.host.proc_root(), &mut snap.sockets);
        }
        let t_processes = Instant::now();
        self.steps = [
            ("sockets", t_sockets - t0),
            ("processes", t_processes - t_sockets),
            ("counters", counters_took),
            // The socket step's CPU on this thread: the kernel's dump (system time) and our
            // decoding (user time), zero where the OS cannot say.
            ("sockets_sys", cpu.map_or(Duration::ZERO, |c| c.1)),
            ("sockets_user", cpu.map_or(Duration::ZERO, |c| c.0)),
        ];
        self.last_len = snap.sockets.len();
        Ok(snap)
    }

    /// The sockets, from netlink or /proc as asked; in auto mode a netlink failure that
    /// means "not available here" switches to /proc for good.
    fn read_sockets(&mut self, snap: &mut Snapshot) -> Result<(), CollectError> {
        let use_proc = match self.query.source {
            SourcePref::Proc => true,
            SourcePref::Netlink => false,
            SourcePref::Auto => self.fallback_reason.is_some(),
        };
        if use_proc {
            return Ok(self.read_proc(snap)?);
        }
        match self.read_netlink(snap) {
            Ok(()) => Ok(()),
            Err(e) if self.query.source == SourcePref::Auto && e.is_unavailable() => {
                // Refused (socket() or a recv mid-dump): /proc for good, announced once.
                let reason = e.to_string();
                self.netlink = None;
                self.fallback_reason = Some(reason.clone());
                snap.fallback_reason = Some(reason);
                snap.sockets.clear();
                snap.warnings.clear();
                snap.skipped_records = 0;
                Ok(self.read_proc(snap)?)
            }
            Err(e @ netlink::NetlinkError::Overrun { .. })
                if self.query.source == SourcePref::Auto =>
            {
                // Overrun on every retry (a host under heavy churn): this snapshot comes from
                // /proc, the next one tries netlink again.
                snap.sockets.clear();
                snap.warnings.clear();
                snap.skipped_records = 0;
                if let Some(restart) = &self.query.on_restart {
                    restart();
                }
                snap.warnings
                    .push(format!("{e}; this snapshot was read from /proc"));
                Ok(self.read_proc(snap)?)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn read_netlink(&mut self, snap: &mut Snapshot) -> Result<(), netlink::NetlinkError> {
        let source = match self.netlink.as_mut() {
            Some(s) => s,
            None => self.netlink.insert(self.host.open_netlink()?),
        };
        snap.source = Source::Netlink;
        source.dump(
            &self.query,
            &mut snap.sockets,
            &mut snap.warnings,
            &mut snap.skipped_records,
        )?;
        // Tables the kernel has no diag module for (raw here) come from /proc/net, as ss
        // reads them; a file that cannot be read is a warning, not a failed snapshot.
        let wanted = source.take_proc_tables();
        if !wanted.is_empty()
            && let Err(e) = procfs::read_inet_tables(
                &self.host,
                &self.query,
                &wanted,
                &mut snap.sockets,
                &mut snap.warnings,
                &mut snap.skipped_records,
            )
        {
            snap.warnings.push(e.to_string());
        }
        Ok(())
    }

    fn read_proc(&mut self, snap: &mut Snapshot) -> Result<(), procfs::ProcError> {
        snap.source = Source::Proc;
        // A unix row that a socket path could have forged is checked against netlink's
        // inodes, dumped once, only when such a row comes up, and only where netlink works
        // (`--source proc`; after a fallback it is known not to).
        let can_ask = self.fallback_reason.is_none();
        let (host, netlink) = (&self.host, &mut self.netlink);
        let mut known: Option<Option<rustc_hash::FxHashSet<u64>>> = None;
        let mut verify = |inode: u64| -> Option<bool> {
            known
                .get_or_insert_with(|| unix_inodes(host, netlink))
                .as_ref()
                .map(|set| set.contains(&inode))
        };
        procfs::read_with(
            &self.host,
            &self.query,
            can_ask.then_some(&mut verify as procfs::Verify<'_>),
            &mut snap.sockets,
            &mut snap.warnings,
            &mut snap.skipped_records,
        )
    }
}

/// The calling thread's user and system CPU time so far; `None` when the OS cannot say.
pub(crate) fn thread_cpu() -> Option<(Duration, Duration)> {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `r` is a valid, writable rusage for the call to fill.
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut r) } != 0 {
        return None;
    }
    let d = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).ok()?)
            .checked_add(Duration::from_micros(u64::try_from(t.tv_usec).ok()?))
    };
    Some((d(r.ru_utime)?, d(r.ru_stime)?))
}

/// The inodes of every unix socket, from netlink; `None` when netlink cannot say.
fn unix_inodes(
    host: &Host,
    netlink: &mut Option<netlink::NetlinkSource>,
) -> Option<rustc_hash::FxHashSet<u64>> {
    let source = match netlink {
        Some(s) => s,
        None => netlink.insert(host.open_netlink().ok()?),
    };
    let query = Query {
        netids: NetidSet::of_kinds(crate::tables::Netid::is_unix),
        ..Query::default()
    };
    let mut sockets = Vec::new();
    source
        .dump(&query, &mut sockets, &mut Vec::new(), &mut 0)
        .ok()?;
    Some(sockets.iter().map(|s| s.inode).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Netid, TcpState};

    /// A view scoped to a pid learns when it exits.
    #[test]
    fn an_exited_pid_is_told_apart_from_a_live_one() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let pid = child.id();
        let c = Collector::new(Query::default());
        let me = std::process::id();
        assert!(c.exited(&[me, pid]).is_empty());
        child.kill().expect("kill sleep");
        child.wait().expect("reap sleep");
        // Reaped: its /proc entry is gone (a pid this high is never given out).
        assert_eq!(c.exited(&[me, pid, u32::MAX]), vec![pid, u32::MAX]);
    }

    /// A table handed back is emptied and the next snapshot is built in its allocation.
    #[test]
    fn recycled_table_is_reused() {
        let mut c = Collector::new(Query::default());
        let ep = Endpoint::Unix {
            path: None,
            inode: 0,
        };
        let mut v = Vec::with_capacity(1000);
        v.push(Socket::new(
            Netid::UnixStream,
            TcpState::Established,
            ep.clone(),
            ep,
        ));
        let at = v.as_ptr();
        c.recycle(v);
        let t = c.table();
        assert!(t.is_empty());
        assert_eq!(t.as_ptr(), at);
        assert!(t.capacity() >= 1000);
        // A smaller table does not replace a larger spare.
        c.recycle(t);
        c.recycle(Vec::with_capacity(10));
        assert!(c.table().capacity() >= 1000);
    }
}
