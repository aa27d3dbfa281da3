//! Filters compiled off the UI thread. An ss filter may name hosts (`src host.example`), which
//! the filter parser resolves with the system resolver: seconds, with an unresponsive one.
//! The filter bar hands the words to a [`Compiler`], waits a moment (most filters are ready
//! in microseconds), and otherwise shows "resolving…" and keeps the filter in force until the
//! [`Job`] finishes or its deadline passes. getaddrinfo cannot be cancelled: a job past its
//! deadline is abandoned, its thread finishes on its own, and at most [`MAX_ABANDONED`] such
//! threads may be left running at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use crate::collect::Query;

use super::query::{self, Needs, QuerySpec};

/// Turns filter words into a query: [`query::compose`], or a fake in tests.
pub type CompileFn = dyn Fn(&QuerySpec, &[String], Needs) -> Result<Query, String> + Send + Sync;

/// How long the UI thread waits for a filter before showing "resolving…".
pub const QUICK: Duration = Duration::from_millis(100);
/// How long a filter may take to resolve before it is given up.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// Compilations still running (blocked in the resolver) past which no new one starts.
pub const MAX_ABANDONED: usize = 4;

/// Starts compilations on threads of their own.
#[derive(Clone)]
pub struct Compiler {
    compile: Arc<CompileFn>,
    deadline: Duration,
    running: Arc<AtomicUsize>,
}

impl Default for Compiler {
    fn default() -> Self {
        Compiler::new(Arc::new(query::compose), DEADLINE)
    }
}

/// What became of a job.
#[derive(Debug)]
pub enum Poll {
    Pending,
    Done(Result<Query, String>),
    TimedOut,
}

/// One filter being compiled.
pub struct Job {
    /// The words, as the bar shows them while resolving.
    pub text: String,
    pub words: Vec<String>,
    started: Instant,
    deadline: Duration,
    rx: Receiver<Result<Query, String>>,
}

impl Compiler {
    pub fn new(compile: Arc<CompileFn>, deadline: Duration) -> Compiler {
        Compiler {
            compile,
            deadline,
            running: Arc::default(),
        }
    }

    /// Start compiling `words`; an error when too many earlier jobs are still stuck in the
    /// resolver or no thread can be started.
    pub fn start(&self, spec: &QuerySpec, words: Vec<String>, needs: Needs) -> Result<Job, String> {
        if self.running.load(Ordering::Acquire) >= MAX_ABANDONED {
            return Err(format!(
                "{MAX_ABANDONED} host name lookups are still running (the resolver does not \
                 answer); try again later or give addresses"
            ));
        }
        let (tx, rx) = mpsc::channel();
        let compile = Arc::clone(&self.compile);
        let running = Arc::clone(&self.running);
        let spec = spec.clone();
        let owned = words.clone();
        running.fetch_add(1, Ordering::AcqRel);
        let spawned = std::thread::Builder::new()
            .name("sockeye-filter".into())
            .spawn(move || {
                let result = compile(&spec, &owned, needs);
                running.fetch_sub(1, Ordering::AcqRel);
                let _ = tx.send(result);
            });
        if let Err(e) = spawned {
            self.running.fetch_sub(1, Ordering::AcqRel);
            return Err(format!("cannot start a thread for the filter: {e}"));
        }
        Ok(Job {
            text: words.join(" "),
            words,
            started: Instant::now(),
            deadline: self.deadline,
            rx,
        })
    }
}

impl Job {
    /// Wait at most `wait` for the result.
    pub fn wait(&self, wait: Duration) -> Poll {
        match self.rx.recv_timeout(wait) {
            Ok(result) => Poll::Done(result),
            Err(RecvTimeoutError::Disconnected) => {
                Poll::Done(Err("the filter could not be compiled".into()))
            }
            Err(RecvTimeoutError::Timeout) => self.poll(Instant::now()),
        }
    }

    /// The result if there is one, else whether the deadline passed at `now`.
    pub fn poll(&self, now: Instant) -> Poll {
        match self.rx.try_recv() {
            Ok(result) => Poll::Done(result),
            Err(TryRecvError::Disconnected) => {
                Poll::Done(Err("the filter could not be compiled".into()))
            }
            Err(TryRecvError::Empty) if now.duration_since(self.started) >= self.deadline => {
                Poll::TimedOut
            }
            Err(TryRecvError::Empty) => Poll::Pending,
        }
    }

    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

/// A compiler whose lookups block until released: for tests of the UI's states.
#[cfg(test)]
pub mod fake {
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Duration;

    use super::{Compiler, query};

    /// Filters naming `slow.example` block until [`Gate::open`]; the rest compile at once.
    #[derive(Clone, Default)]
    pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

    impl Gate {
        pub fn open(&self) {
            let (lock, cv) = &*self.0;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
            cv.notify_all();
        }

        fn wait(&self) {
            let (lock, cv) = &*self.0;
            let mut open = lock.lock().unwrap_or_else(|e| e.into_inner());
            while !*open {
                open = cv.wait(open).unwrap_or_else(|e| e.into_inner());
            }
        }
    }

    /// A compiler that treats `slow.example` as a name whose lookup blocks on `gate`, then
    /// resolves as 127.0.0.1.
    pub fn compiler(gate: Gate, deadline: Duration) -> Compiler {
        Compiler::new(
            Arc::new(move |spec, words, needs| {
                let mut words = words.to_vec();
                for w in &mut words {
                    if w == "slow.example" {
                        gate.wait();
                        *w = "127.0.0.1".into();
                    }
                }
                query::compose(spec, &words, needs)
            }),
            deadline,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        query::split_words(s)
    }

    #[test]
    fn a_quick_filter_is_done_within_the_wait() {
        let c = fake::compiler(fake::Gate::default(), DEADLINE);
        let job = c
            .start(
                &QuerySpec::default(),
                words("dport = :80"),
                Needs::default(),
            )
            .unwrap();
        assert!(matches!(
            job.wait(Duration::from_secs(5)),
            Poll::Done(Ok(_))
        ));
    }

    #[test]
    fn a_blocked_lookup_is_pending_then_done() {
        let gate = fake::Gate::default();
        let c = fake::compiler(gate.clone(), DEADLINE);
        let job = c
            .start(
                &QuerySpec::default(),
                words("dst slow.example"),
                Needs::default(),
            )
            .unwrap();
        assert!(matches!(job.wait(Duration::from_millis(20)), Poll::Pending));
        gate.open();
        assert!(matches!(
            job.wait(Duration::from_secs(5)),
            Poll::Done(Ok(_))
        ));
    }

    #[test]
    fn a_lookup_past_its_deadline_times_out_and_too_many_are_refused() {
        let gate = fake::Gate::default();
        let c = fake::compiler(gate.clone(), Duration::from_millis(10));
        let mut jobs = Vec::new();
        for _ in 0..MAX_ABANDONED {
            let job = c
                .start(
                    &QuerySpec::default(),
                    words("dst slow.example"),
                    Needs::default(),
                )
                .unwrap();
            jobs.push(job);
        }
        let later = Instant::now() + Duration::from_millis(50);
        assert!(matches!(jobs[0].poll(later), Poll::TimedOut));
        let refused = c.start(&QuerySpec::default(), words("dport = :1"), Needs::default());
        assert!(refused.is_err());
        gate.open();
        for job in &jobs {
            assert!(matches!(
                job.wait(Duration::from_secs(5)),
                Poll::Done(Ok(_))
            ));
        }
        // The threads are done: compiling works again.
        assert!(crate::tui::resolve::tests::eventually(|| c
            .start(&QuerySpec::default(), words("dport = :1"), Needs::default())
            .is_ok()));
    }

    pub(super) fn eventually(mut f: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if f() {
                return true;
            }
            std::thread::yield_now();
        }
        false
    }
}
