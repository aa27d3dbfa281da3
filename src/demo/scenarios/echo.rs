//! The healthy baseline: the seeds' event-driven (epoll-style) echo server. One thread waits
//! on every socket with poll(2), reads what is ready, echoes it back, and closes when the
//! client does. A small pool of clients sends a line now and then and is replaced at a slow
//! churn rate, so queues stay at 0 and a few TIME-WAIT sockets come and go.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::{Base, EchoConn, ReadOutcome, Rules, read_some};
use super::pacer::Pacer;
use super::spec::{Common, Kind, Scenario, Seen, Spec, runs_anywhere, scenario_parts};
use crate::demo::net::{self, ConnectOpts};
use crate::demo::view::listener;

pub static SPEC: Spec = Spec {
    name: "echo",
    about: "A well-behaved echo server with clients coming and going",
    hint: "healthy baseline: queues at 0, clients come and go",
    man: "A well-behaved event-driven echo server whose clients come and go: the healthy \
          baseline to compare the others with.",
    now,
    why,
    build: |addr, _| Ok(Box::new(Echo::new(addr)?)),
    commands: &[],
    unavailable: runs_anywhere,
    tables: super::spec::TCP,
};

fn now(s: &Seen<'_>) -> String {
    let v = s.view;
    format!(
        "{} · {} ESTAB · max Recv-Q {} · {} TIME-WAIT",
        listener(v),
        v.server.established + v.client.established,
        v.server_max_recv_q.max(v.client_max_recv_q),
        v.client.time_wait
    )
}

fn why(s: &Seen<'_>) -> String {
    format!(
        "Healthy: an event-driven server reads each socket as soon as poll() says it is \
         ready, so queues stay at 0. Clients that leave close first: {} short-lived \
         TIME-WAIT on their side is normal.",
        s.view.client.time_wait
    )
}

const INITIAL_POOL: usize = 3;
const MAX_CLIENTS: usize = 16;
pub const DEFAULT_RATE: f64 = 0.5;
pub const MAX_RATE: f64 = 10.0;
/// Each client says something this often.
const TALK_EVERY: Duration = Duration::from_millis(700);

const RULES: Rules = Rules {
    backlog: 128,
    max_clients: MAX_CLIENTS,
    initial: INITIAL_POOL,
    connect: ConnectOpts {
        rcvbuf: None,
        syn_retries: None,
    },
    payload: &[],
    // No drain, as before: queued connections are simply accepted and echoed.
    drain_on_reset: false,
    close_server_end: false,
    // Replacements of clients that leave, closed ones refilled: all within this.
    connect_rate: MAX_RATE,
};

pub struct Echo {
    base: Base<EchoConn>,
    /// How many clients the pool keeps.
    pool: usize,
    pacer: Pacer,
    lines: u64,
}

impl Echo {
    pub fn new(addr: SocketAddr) -> std::io::Result<Echo> {
        let base = Base::bind(addr, RULES)?;
        let now = Instant::now();
        let mut pacer = Pacer::new(DEFAULT_RATE, MAX_RATE, now);
        // Let the pool settle before the first replacement.
        pacer.due(now);
        Ok(Echo {
            base,
            pool: INITIAL_POOL,
            pacer,
            lines: 0,
        })
    }

    fn fill_pool(&mut self, now: Instant) {
        let missing = self.pool.saturating_sub(self.base.clients.len());
        self.base.start_clients(missing, now);
    }
}

impl Scenario for Echo {
    scenario_parts!(paced);

    fn step(&mut self, now: Instant) {
        self.base.accept_pending(MAX_CLIENTS, EchoConn::new);
        let mut buf = [0u8; 1024];
        self.base.conns.retain_mut(|c| c.serve(&mut buf));
        let mut lines = self.lines;
        self.base.clients.retain_mut(|c| {
            if c.progress().is_err() {
                return false;
            }
            if !c.connected {
                return true;
            }
            // Read the echoes so nothing sits in Recv-Q.
            loop {
                match read_some(&c.stream, &mut buf) {
                    ReadOutcome::Data(_) => continue,
                    ReadOutcome::Nothing => break,
                    ReadOutcome::Eof | ReadOutcome::Failed => return false,
                }
            }
            if now >= c.next {
                lines += 1;
                c.outbox
                    .extend_from_slice(format!("ping {lines}\r\n").as_bytes());
                c.next = now + TALK_EVERY;
                if c.flush().is_err() {
                    return false;
                }
            }
            true
        });
        self.lines = lines;
        // Churn: the oldest client leaves (closing first), a new one takes its place.
        if self.pacer.due(now) && !self.base.clients.is_empty() {
            self.base.clients.remove(0);
        }
        self.fill_pool(now);
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(MAX_CLIENTS, fds);
        for c in &self.base.conns {
            c.interest(fds);
        }
        for c in &self.base.clients {
            if c.connected {
                fds.push(net::pollfd(c.stream.as_raw_fd(), libc::POLLIN));
            }
            c.interest(fds);
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let talk = self
            .base
            .clients
            .iter()
            .filter(|c| c.connected)
            .map(|c| c.next.saturating_duration_since(now))
            .min();
        talk.into_iter().chain(self.pacer.until_due(now)).min()
    }

    fn rate_message(&self, rate: f64) -> String {
        format!("{rate} client replacements/s")
    }

    fn add(&mut self, n: usize, now: Instant) -> Result<String, String> {
        self.pool = (self.pool + n).min(MAX_CLIENTS);
        self.fill_pool(now);
        Ok(format!("pool of {} clients", self.pool))
    }

    fn close(&mut self, n: usize) -> String {
        self.pool -= n.min(self.pool);
        let drop_n = self.base.clients.len().saturating_sub(self.pool);
        self.base.clients.drain(..drop_n);
        format!("pool of {} clients", self.pool)
    }

    fn restart(&mut self, now: Instant) -> Result<String, String> {
        self.pool = INITIAL_POOL;
        self.pacer.due(now);
        self.fill_pool(now);
        Ok("reset".into())
    }
}
