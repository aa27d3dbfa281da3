//! `-r`: host names for addresses, through the system resolver (getnameinfo: /etc/hosts,
//! then DNS as nsswitch.conf says), each address asked once per run.
//!
//! getnameinfo cannot be cancelled and a dead DNS server makes it block for tens of
//! seconds, so lookups run on one worker thread and the caller waits at most [`DEADLINE`]
//! for each answer. The first lookup to miss its deadline ends resolving for the run: the
//! rest of the table is numeric and one line on stderr says so; the worker is left behind
//! (it ends with the process).

use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use rustc_hash::FxHashMap;

/// How long one lookup may take.
pub const DEADLINE: Duration = Duration::from_secs(2);

type Lookup = dyn Fn(IpAddr) -> Option<String> + Send + Sync;

/// Names of addresses, cached. Not shared between threads (the table writer owns it).
pub struct HostNames {
    cache: RefCell<FxHashMap<IpAddr, Option<Arc<str>>>>,
    worker: RefCell<Option<Worker>>,
    lookup: Arc<Lookup>,
    deadline: Duration,
    gave_up: RefCell<bool>,
}

struct Worker {
    ask: Sender<IpAddr>,
    answers: Receiver<Option<String>>,
}

impl Default for HostNames {
    fn default() -> Self {
        HostNames::with_lookup(Arc::new(system_lookup), DEADLINE)
    }
}

impl HostNames {
    /// A resolver over `lookup` (the system's by default; a slow fake in tests).
    pub fn with_lookup(lookup: Arc<Lookup>, deadline: Duration) -> HostNames {
        HostNames {
            cache: RefCell::default(),
            worker: RefCell::new(None),
            lookup,
            deadline,
            gave_up: RefCell::new(false),
        }
    }

    /// Whether a lookup missed its deadline (the caller tells the user once).
    pub fn gave_up(&self) -> bool {
        *self.gave_up.borrow()
    }

    /// The name of `addr`, or `None` (no name, unspecified address, resolver given up).
    pub fn name(&self, addr: IpAddr) -> Option<Arc<str>> {
        // As ss (iproute2's resolve_address): an IPv4-mapped address is the IPv4 host's,
        // so a dual-stack listener's IPv4 peer is named like the same peer over IPv4.
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            IpAddr::V4(_) => addr,
        };
        if addr.is_unspecified() {
            return None;
        }
        if let Some(hit) = self.cache.borrow().get(&addr) {
            return hit.clone();
        }
        if self.gave_up() {
            return None;
        }
        let name = self.ask(addr).map(Arc::<str>::from);
        self.cache.borrow_mut().insert(addr, name.clone());
        name
    }

    fn ask(&self, addr: IpAddr) -> Option<String> {
        let mut slot = self.worker.borrow_mut();
        if slot.is_none() {
            *slot = self.start();
        }
        let w = slot.as_ref()?;
        w.ask.send(addr).ok()?;
        match w.answers.recv_timeout(self.deadline) {
            Ok(name) => name,
            Err(_) => {
                *self.gave_up.borrow_mut() = true;
                *slot = None;
                None
            }
        }
    }

    fn start(&self) -> Option<Worker> {
        let (ask, inbox) = mpsc::channel::<IpAddr>();
        let (reply, answers) = mpsc::channel();
        let lookup = Arc::clone(&self.lookup);
        std::thread::Builder::new()
            .name("sockeye-resolve".into())
            .spawn(move || {
                for addr in inbox {
                    if reply.send(lookup(addr)).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Worker { ask, answers })
    }
}

/// getnameinfo(NI_NAMEREQD): the name, or `None` when the address has none.
fn system_lookup(addr: IpAddr) -> Option<String> {
    let sa: socket2::SockAddr = std::net::SocketAddr::new(addr, 0).into();
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: `sa` is a valid socket address of `sa.len()` bytes; `host` is a writable
    // buffer of the length passed; no service buffer is asked for.
    let rc = unsafe {
        libc::getnameinfo(
            sa.as_ptr().cast(),
            sa.len(),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_from_etc_hosts() {
        let h = HostNames::default();
        // /etc/hosts names 127.0.0.1 on every machine this runs on.
        assert!(h.name("127.0.0.1".parse().expect("ip")).is_some());
        assert_eq!(h.name("0.0.0.0".parse().expect("ip")), None);
    }

    #[test]
    fn a_resolver_that_never_answers_is_given_up_once() {
        let slow: Arc<Lookup> = Arc::new(|_| {
            std::thread::sleep(Duration::from_secs(10));
            Some("late".into())
        });
        let h = HostNames::with_lookup(slow, Duration::from_millis(100));
        let t = std::time::Instant::now();
        assert_eq!(h.name("10.0.0.1".parse().expect("ip")), None);
        assert!(h.gave_up());
        // Later addresses are not asked at all.
        assert_eq!(h.name("10.0.0.2".parse().expect("ip")), None);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn each_address_is_asked_once() {
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = Arc::clone(&count);
        let f: Arc<Lookup> = Arc::new(move |_| {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Some("h".into())
        });
        let h = HostNames::with_lookup(f, DEADLINE);
        for _ in 0..5 {
            assert_eq!(
                h.name("10.1.1.1".parse().expect("ip")).as_deref(),
                Some("h")
            );
        }
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn an_ipv4_mapped_address_is_asked_as_ipv4() {
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let a = Arc::clone(&asked);
        let f: Arc<Lookup> = Arc::new(move |addr| {
            a.lock().map(|mut v| v.push(addr)).ok();
            Some("h".into())
        });
        let h = HostNames::with_lookup(f, DEADLINE);
        let mapped: IpAddr = "::ffff:10.1.1.1".parse().expect("ip");
        assert_eq!(h.name(mapped).as_deref(), Some("h"));
        // The same host over IPv4 is not asked again.
        assert_eq!(
            h.name("10.1.1.1".parse().expect("ip")).as_deref(),
            Some("h")
        );
        let v4: IpAddr = "10.1.1.1".parse().expect("ip");
        assert_eq!(*asked.lock().expect("not poisoned"), vec![v4]);
        assert_eq!(h.name("::ffff:0.0.0.0".parse().expect("ip")), None);
    }
}
