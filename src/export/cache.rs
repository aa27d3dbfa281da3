//! Snapshot reuse with a deadline.
//!
//! One worker thread owns the collector, so there is never more than one collection at a
//! time however many scrapes arrive. A scrape takes the last snapshot if it is younger than
//! the reuse interval; otherwise it asks the worker for a new one and waits, but only until
//! its deadline: then it gets the last good snapshot, marked stale, rather than hanging while
//! /proc is slow.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crate::findings::Finding;
use crate::model::Snapshot;

/// What one collection gives: the snapshot and the findings over the window ending with it.
#[derive(Debug)]
pub struct Collected {
    pub snapshot: Snapshot,
    pub findings: Vec<Finding>,
}

impl From<Snapshot> for Collected {
    fn from(snapshot: Snapshot) -> Collected {
        Collected {
            snapshot,
            findings: Vec::new(),
        }
    }
}

/// A snapshot with the facts of its collection.
#[derive(Debug)]
pub struct Entry {
    pub snapshot: Snapshot,
    /// The findings over the window ending with this snapshot.
    pub findings: Vec<Finding>,
    /// When the collection finished.
    pub collected_at: Instant,
    /// How long it took.
    pub took: Duration,
}

/// What a scrape gets.
#[derive(Debug)]
pub enum Served {
    /// Younger than the reuse interval, or collected for this scrape.
    Fresh(Arc<Entry>),
    /// The deadline passed (or the collection failed): the last good snapshot.
    Stale(Arc<Entry>),
    /// Nothing to serve yet; the reason is the last collection error, if any.
    Nothing(String),
}

#[derive(Default)]
struct State {
    last: Option<Arc<Entry>>,
    /// Bumped each time a collection ends, successfully or not.
    generation: u64,
    collecting: bool,
    errors: u64,
    last_error: Option<String>,
}

struct Shared {
    state: Mutex<State>,
    done: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The shared snapshot cache. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Cache {
    shared: Arc<Shared>,
    requests: Mutex<Sender<()>>,
    max_age: Duration,
}

impl Cache {
    /// Start the worker with a collect function and ask for a first snapshot right away, so
    /// the first scrape rarely waits. Snapshots younger than `max_age` are reused.
    pub fn start<F, C>(max_age: Duration, collect: F) -> std::io::Result<Cache>
    where
        F: FnMut() -> Result<C, String> + Send + 'static,
        C: Into<Collected>,
    {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            done: Condvar::new(),
        });
        let (tx, rx) = mpsc::channel();
        let worker_shared = Arc::clone(&shared);
        thread::Builder::new()
            .name("sockeye-collect".into())
            .spawn(move || worker(rx, worker_shared, collect))?;
        let cache = Cache {
            shared,
            requests: Mutex::new(tx),
            max_age,
        };
        {
            let mut st = cache.shared.lock();
            cache.request(&mut st);
        }
        Ok(cache)
    }

    /// Collection failures so far.
    pub fn errors(&self) -> u64 {
        self.shared.lock().errors
    }

    /// A snapshot for a scrape that must be answered by `deadline`.
    pub fn get(&self, deadline: Instant) -> Served {
        let mut st = self.shared.lock();
        if let Some(e) = &st.last
            && e.collected_at.elapsed() < self.max_age
        {
            return Served::Fresh(Arc::clone(e));
        }
        // Joins a collection already under way instead of starting a second one.
        if !st.collecting {
            self.request(&mut st);
        }
        let waiting_for = st.generation + 1;
        let before = st.last.clone();
        loop {
            if st.generation >= waiting_for {
                let collected_since = |e: &Arc<Entry>| match &before {
                    Some(b) => !Arc::ptr_eq(b, e),
                    None => true,
                };
                return match (&st.last, st.last_error.as_ref()) {
                    // Collected while this scrape waited: as fresh as it gets.
                    (Some(e), _) if collected_since(e) => Served::Fresh(Arc::clone(e)),
                    (Some(e), _) => Served::Stale(Arc::clone(e)),
                    (None, err) => Served::Nothing(
                        err.cloned()
                            .unwrap_or_else(|| "no snapshot collected yet".into()),
                    ),
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return match &st.last {
                    Some(e) => Served::Stale(Arc::clone(e)),
                    None => Served::Nothing(match &st.last_error {
                        Some(err) => err.clone(),
                        None => "the first collection has not finished yet".into(),
                    }),
                };
            }
            st = self
                .shared
                .done
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn request(&self, st: &mut State) {
        let sent = self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(())
            .is_ok();
        // If the worker is gone nobody would ever clear the flag; waiting scrapes then end
        // at their deadline with what there is.
        st.collecting = sent;
    }
}

fn worker<F, C>(rx: Receiver<()>, shared: Arc<Shared>, mut collect: F)
where
    F: FnMut() -> Result<C, String>,
    C: Into<Collected>,
{
    // Ends when the cache (the only sender) is dropped.
    while rx.recv().is_ok() {
        // Requests that piled up during the last collection are served by this one.
        while rx.try_recv().is_ok() {}
        let started = Instant::now();
        // A bug in one collection must not leave every later scrape waiting on a dead
        // worker: it counts as a failed collection and the next scrape tries again.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut collect))
            .unwrap_or_else(|_| Err("the collector panicked".into()));
        let took = started.elapsed();
        let mut st = shared.lock();
        match result {
            Ok(collected) => {
                let Collected { snapshot, findings } = collected.into();
                st.last = Some(Arc::new(Entry {
                    snapshot,
                    findings,
                    collected_at: Instant::now(),
                    took,
                }));
                st.last_error = None;
            }
            Err(e) => {
                st.errors += 1;
                st.last_error = Some(e);
            }
        }
        st.collecting = false;
        st.generation += 1;
        drop(st);
        shared.done.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::SystemTime;

    fn empty() -> Snapshot {
        Snapshot::new(SystemTime::now(), Source::Proc, Vec::new(), None)
    }

    fn soon(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    #[test]
    fn reuses_a_young_snapshot() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let cache = Cache::start(Duration::from_secs(60), move || {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(empty())
        })
        .unwrap();
        assert!(matches!(cache.get(soon(5000)), Served::Fresh(_)));
        assert!(matches!(cache.get(soon(5000)), Served::Fresh(_)));
        assert!(matches!(cache.get(soon(5000)), Served::Fresh(_)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn collects_again_when_older_than_the_interval() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let cache = Cache::start(Duration::from_millis(1), move || {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(empty())
        })
        .unwrap();
        assert!(matches!(
            cache.get(soon(5000)),
            Served::Fresh(_) | Served::Stale(_)
        ));
        thread::sleep(Duration::from_millis(5));
        cache.get(soon(5000));
        assert!(calls.load(Ordering::SeqCst) >= 2);
    }

    #[test]
    fn a_slow_collection_is_cut_off_at_the_deadline_with_the_last_snapshot() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let cache = Cache::start(Duration::from_millis(1), move || {
            // The first collection is quick, every later one hangs for a while.
            if c.fetch_add(1, Ordering::SeqCst) > 0 {
                thread::sleep(Duration::from_secs(2));
            }
            Ok(empty())
        })
        .unwrap();
        assert!(matches!(cache.get(soon(5000)), Served::Fresh(_)));
        thread::sleep(Duration::from_millis(5));
        let started = Instant::now();
        let served = cache.get(soon(100));
        let waited = started.elapsed();
        assert!(matches!(served, Served::Stale(_)), "{served:?}");
        assert!(waited < Duration::from_millis(1500), "waited {waited:?}");
    }

    #[test]
    fn nothing_to_serve_before_the_first_snapshot() {
        let cache = Cache::start(Duration::from_secs(1), || {
            thread::sleep(Duration::from_secs(2));
            Ok(empty())
        })
        .unwrap();
        assert!(matches!(cache.get(soon(50)), Served::Nothing(_)));
    }

    #[test]
    fn failures_are_counted_and_reported() {
        let cache = Cache::start(Duration::from_secs(1), || {
            Err::<Snapshot, _>("netlink: boom".into())
        })
        .unwrap();
        match cache.get(soon(5000)) {
            Served::Nothing(reason) => assert!(reason.contains("boom"), "{reason}"),
            other => panic!("expected nothing, got {other:?}"),
        }
        assert!(cache.errors() >= 1);
    }

    #[test]
    fn a_panicking_collection_is_an_error_not_a_dead_worker() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        let cache = Cache::start(Duration::from_millis(1), move || {
            if c.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("injected");
            }
            Ok(empty())
        })
        .unwrap();
        assert!(matches!(cache.get(soon(5000)), Served::Nothing(_)));
        assert_eq!(cache.errors(), 1);
        assert!(matches!(
            cache.get(soon(5000)),
            Served::Fresh(_) | Served::Stale(_)
        ));
    }

    #[test]
    fn concurrent_scrapes_share_one_collection() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (r, m) = (Arc::clone(&running), Arc::clone(&most));
        let cache = Arc::new(
            Cache::start(Duration::from_millis(1), move || {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(20));
                r.fetch_sub(1, Ordering::SeqCst);
                Ok(empty())
            })
            .unwrap(),
        );
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let cache = Arc::clone(&cache);
                thread::spawn(move || {
                    for _ in 0..5 {
                        let served = cache.get(soon(5000));
                        assert!(!matches!(served, Served::Nothing(_)));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }
}
