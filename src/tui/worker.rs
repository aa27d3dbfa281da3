//! The collector thread: takes a snapshot, scopes it, sends it owned to the UI thread, then
//! waits for the interval on its command channel, so an interval change, a new query, a pause
//! or a stop takes effect at once instead of after the sleep.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::collect::{Collector, Query};
use crate::findings::Thresholds;
use crate::findings::history::{Coverage, History};
use crate::model::{Snapshot, Socket};
use crate::tables::NetidSet;

use super::prepare::{Prepared, Preparer, prepare};
use super::replay;
use super::scope::Scope;
use super::sort::Sort;

/// Where snapshots come from: the real [`Collector`], or a fixture in tests.
pub trait SnapshotSource: Send {
    fn snapshot(&mut self) -> anyhow::Result<Snapshot>;
    fn set_query(&mut self, query: Query);
    /// A socket table the UI is done with, to build a later snapshot in (its contents are
    /// dropped, its allocation kept). By default it is simply dropped.
    fn recycle(&mut self, sockets: Vec<Socket>) {
        drop(sockets);
    }
    /// How long the last snapshot's steps took, when the source knows.
    fn steps(&self) -> Vec<(&'static str, Duration)> {
        Vec::new()
    }
    /// An order for a source that moves through time (a recording); others ignore it.
    fn control(&mut self, _order: replay::Order) {}
    /// Where such a source is, sent with each snapshot.
    fn position(&self) -> Option<replay::Position> {
        None
    }
    /// The wait before the next snapshot, when the source sets it (a replay's play speed);
    /// None: the UI's refresh interval.
    fn interval(&self) -> Option<Duration> {
        None
    }
    /// Which of `pids` no longer exist, when the source can tell (a live host; a recording
    /// cannot).
    fn exited(&self, _pids: &[u32]) -> Vec<u32> {
        Vec::new()
    }
}

impl SnapshotSource for Collector {
    fn snapshot(&mut self) -> anyhow::Result<Snapshot> {
        Ok(Collector::snapshot(self)?)
    }
    fn set_query(&mut self, query: Query) {
        Collector::set_query(self, query);
    }
    fn recycle(&mut self, sockets: Vec<Socket>) {
        Collector::recycle(self, sockets);
    }
    fn steps(&self) -> Vec<(&'static str, Duration)> {
        Collector::steps(self).to_vec()
    }
    fn exited(&self, pids: &[u32]) -> Vec<u32> {
        Collector::exited(self, pids)
    }
}

/// The shortest window the live view's findings look at.
const FINDINGS_SPAN: Duration = Duration::from_secs(10);

/// Orders from the UI thread.
pub enum Command {
    SetQuery(Query),
    SetInterval(Duration),
    Pause(bool),
    /// The order to prepare snapshots in.
    SetSort(Sort),
    /// The socket table of a snapshot the UI replaced: reused for a later one, which spares
    /// allocating (and the kernel zeroing) tens of MiB every refresh.
    Recycle(Vec<Socket>),
    /// The findings' thresholds, and what the query in force covers (None: not the whole
    /// host, host-wide rules stay quiet).
    Findings(Thresholds, Option<Coverage>),
    /// Move through a recording (see [`SnapshotSource::control`]); a snapshot follows at once.
    Replay(replay::Order),
    Stop,
}

/// What the collector thread reports. `elapsed` is the collection time (the header shows
/// it); the snapshot comes prepared (grouped, compared with the previous one, sorted).
pub enum Report {
    Snapshot {
        prepared: Box<Prepared>,
        elapsed: Duration,
        /// Time spent preparing it (for `SOCKEYE_TRACE`).
        prepare: Duration,
        /// The collection's steps (for `SOCKEYE_TRACE`).
        collect_steps: Vec<(&'static str, Duration)>,
        /// Where a replay is (None live).
        replay: Option<Box<replay::Position>>,
    },
    Error(String),
}

/// Start the collector thread. It sends `wrap(report)` on `events` (so the UI thread can
/// merge it with terminal events into one channel) until told to stop or the receiver is gone.
#[allow(clippy::too_many_arguments)]
pub fn spawn<E: Send + 'static>(
    mut source: Box<dyn SnapshotSource>,
    initial_sort: Sort,
    scope: Scope,
    mut interval: Duration,
    commands: Receiver<Command>,
    events: Sender<E>,
    wrap: fn(Report) -> E,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sockeye-collector".into())
        .spawn(move || {
            let mut paused = false;
            let mut preparer = Preparer::default();
            let mut sort = initial_sort;
            // The findings' window: a few refreshes, at least ten seconds.
            let span = |interval: Duration| (interval * 5).max(FINDINGS_SPAN);
            let mut findings = History::new(
                span(interval),
                Coverage {
                    whole_host: false,
                    tables: NetidSet::ALL,
                },
                Thresholds::default(),
            );
            loop {
                if !paused {
                    let t0 = Instant::now();
                    let report = match source.snapshot() {
                        Ok(mut snap) => {
                            snap.sockets = scope.apply(std::mem::take(&mut snap.sockets));
                            // Scoping (or a table that shrank) left much of the allocation
                            // unused: give it back, since this snapshot lives until the next.
                            let len = snap.sockets.len();
                            if snap.sockets.capacity() > len + len / 4 + 1024 {
                                snap.sockets.shrink_to_fit();
                            }
                            let elapsed = t0.elapsed();
                            let t1 = Instant::now();
                            let (found, snap) = findings.observe(snap);
                            let t_findings = t1.elapsed();
                            let mut prepared = Box::new(prepare(&mut preparer, snap, sort));
                            prepared.findings = found;
                            prepared.exited = source.exited(&scope.pids);
                            let mut collect_steps = source.steps();
                            collect_steps.push(("findings", t_findings));
                            Report::Snapshot {
                                prepared,
                                elapsed,
                                prepare: t1.elapsed(),
                                collect_steps,
                                replay: source.position().map(Box::new),
                            }
                        }
                        Err(e) => Report::Error(format!("{e:#}")),
                    };
                    if events.send(wrap(report)).is_err() {
                        return;
                    }
                }
                // Wait for the interval, or until an order arrives. A query change or a resume
                // collects at once; an interval change restarts the wait.
                let deadline = Instant::now() + source.interval().unwrap_or(interval);
                loop {
                    let wait = if paused {
                        Duration::from_secs(3600)
                    } else {
                        deadline.saturating_duration_since(Instant::now())
                    };
                    match commands.recv_timeout(wait) {
                        Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                        Ok(Command::SetQuery(q)) => {
                            // Other sockets from now on: trends start over.
                            findings.coverage = Coverage::of_query(&q, !scope.is_empty());
                            findings.clear();
                            source.set_query(q);
                            break;
                        }
                        Ok(Command::Findings(t, coverage)) => {
                            findings.thresholds = t;
                            if let Some(c) = coverage {
                                findings.coverage = c;
                            }
                        }
                        Ok(Command::SetSort(s)) => sort = s,
                        Ok(Command::Recycle(v)) => source.recycle(v),
                        Ok(Command::Replay(order)) => {
                            source.control(order);
                            break;
                        }
                        Ok(Command::Pause(p)) => {
                            let resumed = paused && !p;
                            paused = p;
                            if resumed {
                                break;
                            }
                        }
                        Ok(Command::SetInterval(d)) => {
                            interval = d;
                            findings.span = span(d);
                            if !paused {
                                break;
                            }
                        }
                        Err(RecvTimeoutError::Timeout) if !paused => break,
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;
    use std::sync::mpsc;
    use std::time::SystemTime;

    struct Fake {
        n: usize,
        /// Capacities of the tables handed back.
        recycled: std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
    }
    impl SnapshotSource for Fake {
        fn recycle(&mut self, sockets: Vec<Socket>) {
            self.recycled.lock().unwrap().push(sockets.capacity());
        }
        fn snapshot(&mut self) -> anyhow::Result<Snapshot> {
            self.n += 1;
            if self.n == 2 {
                anyhow::bail!("boom");
            }
            Ok(Snapshot {
                taken_at: SystemTime::now(),
                source: Source::Proc,
                fallback_reason: None,
                sockets: Vec::new(),
                counters: None,
                warnings: Vec::new(),
                skipped_records: 0,
                process_note: None,
                netns: None,
            })
        }
        fn set_query(&mut self, _query: Query) {}
    }

    #[test]
    fn collects_reports_errors_and_stops() {
        let (ctx, crx) = mpsc::channel();
        let (etx, erx) = mpsc::channel();
        let recycled = std::sync::Arc::default();
        let h = spawn(
            Box::new(Fake {
                n: 0,
                recycled: std::sync::Arc::clone(&recycled),
            }),
            crate::tui::sort::Sort {
                column: crate::output::columns::Column::Local,
                descending: false,
            },
            Scope::default(),
            Duration::from_secs(60),
            crx,
            etx,
            |r| r,
        )
        .unwrap();
        let first = erx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(matches!(first, Report::Snapshot { .. }));
        // A query change collects at once, without waiting the 60 s interval.
        ctx.send(Command::SetQuery(Query::default())).unwrap();
        let second = erx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(matches!(second, Report::Error(ref e) if e == "boom"));
        ctx.send(Command::Pause(true)).unwrap();
        ctx.send(Command::SetInterval(Duration::from_millis(200)))
            .unwrap();
        assert!(erx.recv_timeout(Duration::from_millis(500)).is_err());
        ctx.send(Command::Pause(false)).unwrap();
        assert!(erx.recv_timeout(Duration::from_secs(5)).is_ok());
        // A table handed back reaches the source while the thread waits.
        ctx.send(Command::Recycle(Vec::with_capacity(4096)))
            .unwrap();
        ctx.send(Command::Stop).unwrap();
        h.join().unwrap();
        assert_eq!(*recycled.lock().unwrap(), vec![4096]);
    }

    /// A source on which pid 42 has exited.
    struct Exited;
    impl SnapshotSource for Exited {
        fn snapshot(&mut self) -> anyhow::Result<Snapshot> {
            Ok(Snapshot::new(
                SystemTime::now(),
                Source::Proc,
                Vec::new(),
                None,
            ))
        }
        fn set_query(&mut self, _query: Query) {}
        fn exited(&self, pids: &[u32]) -> Vec<u32> {
            pids.iter().copied().filter(|p| *p == 42).collect()
        }
    }

    #[test]
    fn a_scoped_pid_that_exited_is_reported_with_the_snapshot() {
        let (ctx, crx) = mpsc::channel();
        let (etx, erx) = mpsc::channel();
        let scope = Scope {
            pids: vec![7, 42],
            ..Scope::default()
        };
        let h = spawn(
            Box::new(Exited),
            crate::tui::sort::Sort {
                column: crate::output::columns::Column::Local,
                descending: false,
            },
            scope,
            Duration::from_secs(60),
            crx,
            etx,
            |r| r,
        )
        .unwrap();
        let report = erx.recv_timeout(Duration::from_secs(5)).unwrap();
        ctx.send(Command::Stop).unwrap();
        h.join().unwrap();
        match report {
            Report::Snapshot { prepared, .. } => assert_eq!(prepared.exited, vec![42]),
            Report::Error(e) => panic!("{e}"),
        }
    }

    /// A source whose CLOSE-WAIT count only grows, a second apart.
    struct Leak(u64);
    impl SnapshotSource for Leak {
        fn snapshot(&mut self) -> anyhow::Result<Snapshot> {
            use crate::model::{Endpoint, Netid, TcpState};
            self.0 += 1;
            let ep = |port| Endpoint::Inet {
                addr: "127.0.0.1".parse().unwrap(),
                port,
            };
            let mut sockets = vec![Socket::new(Netid::Tcp, TcpState::Listen, ep(7000), ep(0))];
            for i in 0..(4 + 2 * self.0) {
                let mut s = Socket::new(
                    Netid::Tcp,
                    TcpState::CloseWait,
                    ep(7000),
                    ep(40000 + i as u16),
                );
                s.cookie = Some(i);
                sockets.push(s);
            }
            Ok(Snapshot::new(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1000 + self.0),
                Source::Netlink,
                sockets,
                None,
            ))
        }
        fn set_query(&mut self, _query: Query) {}
    }

    #[test]
    fn findings_come_with_the_prepared_snapshot_over_the_window() {
        let (ctx, crx) = mpsc::channel();
        let (etx, erx) = mpsc::channel();
        let t = Thresholds {
            close_wait_min: 3,
            ..Thresholds::default()
        };
        ctx.send(Command::Findings(t, None)).unwrap();
        let h = spawn(
            Box::new(Leak(0)),
            crate::tui::sort::Sort {
                column: crate::output::columns::Column::Local,
                descending: false,
            },
            Scope::default(),
            Duration::from_millis(200),
            crx,
            etx,
            |r| r,
        )
        .unwrap();
        let mut got = Vec::new();
        for _ in 0..3 {
            match erx.recv_timeout(Duration::from_secs(5)).unwrap() {
                Report::Snapshot { prepared, .. } => got.push(prepared.findings.clone()),
                Report::Error(e) => panic!("{e}"),
            }
        }
        ctx.send(Command::Stop).unwrap();
        h.join().unwrap();
        // One snapshot is no trend; from the second on, the leak is found.
        assert!(got[0].is_empty());
        assert_eq!(got[2].len(), 1, "{:#?}", got[2]);
        assert_eq!(got[2][0].rule, crate::findings::Rule::CloseWaitLeak);
        assert!(got[2][0].threshold.contains("close_wait_min = 3"));
    }
}
