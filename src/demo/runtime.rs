//! Runs scenarios: one thread each, driven by poll(2) on the scenario's own descriptors,
//! with control requests arriving over a channel. Stopping drops every socket.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::net;
use super::scenarios::{self, Action, Kind, Options, Scenario, ScenarioStatus};

/// Longest a scenario thread sleeps: also the latency of a control request and of stopping.
const MAX_WAIT: Duration = Duration::from_millis(50);
/// How long a control request waits for a scenario thread to answer.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);

enum Request {
    Status(Sender<ScenarioStatus>),
    Act(Action, Sender<Result<String, String>>),
}

struct Running {
    kind: Kind,
    port: u16,
    tx: Sender<Request>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// The running demo: its scenarios and the flag that stops them.
pub struct Demo {
    pub bind: IpAddr,
    running: Vec<Running>,
    stop: Arc<AtomicBool>,
}

impl Demo {
    /// Bind every scenario (consecutive ports from `base`, or ephemeral ones), then start
    /// their threads. A port that cannot be bound fails the whole start.
    pub fn start(
        kinds: &[Kind],
        bind: IpAddr,
        base: Option<u16>,
        opts: &Options,
    ) -> anyhow::Result<Demo> {
        let mut built: Vec<Box<dyn Scenario>> = Vec::new();
        for (i, kind) in kinds.iter().enumerate() {
            let port = match base {
                Some(b) => u16::try_from(u32::from(b) + i as u32)
                    .ok()
                    .filter(|p| *p != 0)
                    .with_context(|| format!("port {b} + {i} is out of range"))?,
                None => 0,
            };
            let addr = SocketAddr::new(bind, port);
            // A scenario whose sockets are not inet ones (unix) binds no port.
            let on_port = kind.spec().tables.iter().any(|t| t.is_inet());
            let s = scenarios::create(*kind, addr, opts).with_context(|| match on_port {
                true => format!("cannot start scenario {kind} on {addr}"),
                false => format!("cannot start scenario {kind}"),
            })?;
            built.push(s);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut running = Vec::new();
        for s in built {
            let (tx, rx) = mpsc::channel();
            let kind = s.kind();
            let port = s.base().port();
            let flag = Arc::clone(&stop);
            let thread = std::thread::Builder::new()
                .name(format!("demo-{kind}"))
                .spawn(move || drive(s, rx, &flag))
                .context("cannot start a scenario thread")?;
            running.push(Running {
                kind,
                port,
                tx,
                thread: Mutex::new(Some(thread)),
            });
        }
        Ok(Demo {
            bind,
            running,
            stop,
        })
    }

    /// (scenario, port) in start order.
    pub fn scenarios(&self) -> Vec<(Kind, u16)> {
        self.running.iter().map(|r| (r.kind, r.port)).collect()
    }

    pub fn ports(&self) -> Vec<u16> {
        self.running.iter().map(|r| r.port).collect()
    }

    pub fn has(&self, kind: Kind) -> bool {
        self.running.iter().any(|r| r.kind == kind)
    }

    pub fn status(&self) -> Vec<ScenarioStatus> {
        self.running
            .iter()
            .filter_map(|r| {
                let (tx, rx) = mpsc::channel();
                r.send(Request::Status(tx)).ok()?;
                rx.recv_timeout(REPLY_TIMEOUT).ok()
            })
            .collect()
    }

    /// Apply an action to one scenario.
    pub fn act(&self, kind: Kind, action: Action) -> Result<String, String> {
        let Some(r) = self.running.iter().find(|r| r.kind == kind) else {
            return Err(format!("scenario {kind} is not running in this demo"));
        };
        let (tx, rx) = mpsc::channel();
        r.send(Request::Act(action, tx))
            .map_err(|_| format!("scenario {kind} has stopped"))?;
        rx.recv_timeout(REPLY_TIMEOUT)
            .map_err(|_| format!("scenario {kind} did not answer"))?
    }

    /// Stop every scenario and wait for its thread: all sockets are closed on return.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        for r in &self.running {
            let thread = r.thread.lock().map(|mut t| t.take()).unwrap_or(None);
            if let Some(t) = thread {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Running {
    fn send(&self, req: Request) -> Result<(), ()> {
        self.tx.send(req).map_err(|_| ())
    }
}

fn drive(mut s: Box<dyn Scenario>, rx: Receiver<Request>, stop: &AtomicBool) {
    let mut fds = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        while let Ok(req) = rx.try_recv() {
            match req {
                Request::Status(reply) => {
                    let _ = reply.send(scenarios::status(s.as_ref()));
                }
                Request::Act(action, reply) => {
                    let _ = reply.send(scenarios::act(s.as_mut(), action, now));
                }
            }
        }
        s.step(now);
        fds.clear();
        s.interest(&mut fds);
        let wait = s
            .next_due(Instant::now())
            .map_or(MAX_WAIT, |d| d.min(MAX_WAIT));
        // Round up so a timer due in 0.4 ms does not spin.
        let ms = wait.as_millis().clamp(1, MAX_WAIT.as_millis()) as i32;
        net::poll(&mut fds, ms);
    }
}
