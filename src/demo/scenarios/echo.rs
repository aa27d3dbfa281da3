//! The healthy baseline: the seeds' event-driven (epoll-style) echo server. One thread waits
//! on every socket with poll(2), reads what is ready, echoes it back, and closes when the
//! client does. A small pool of clients sends a line now and then and is replaced at a slow
//! churn rate, so queues stay at 0 and a few TIME-WAIT sockets come and go.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::{AsClient, Base, EchoConn};
use super::{
    Action, Client, Kind, Pacer, ReadOutcome, Scenario, ScenarioStatus, check_add, check_rate,
    read_some, send_from_newest,
};
use crate::demo::net::{self, ConnectOpts};

const BACKLOG: i32 = 128;
const INITIAL_POOL: usize = 3;
const MAX_CLIENTS: usize = 16;
pub const DEFAULT_RATE: f64 = 0.5;
pub const MAX_RATE: f64 = 10.0;
/// Each client says something this often.
const TALK_EVERY: Duration = Duration::from_millis(700);

struct Talker {
    client: Client,
    next_talk: Instant,
}

impl AsClient for Talker {
    fn client(&self) -> &Client {
        &self.client
    }
}

pub struct Echo {
    base: Base<EchoConn, Talker>,
    /// How many clients the pool keeps.
    pool: usize,
    pacer: Pacer,
    lines: u64,
}

impl Echo {
    pub fn new(addr: SocketAddr) -> std::io::Result<Echo> {
        let base = Base::bind(addr, BACKLOG)?;
        let now = Instant::now();
        let mut pacer = Pacer::new(DEFAULT_RATE, now);
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
        while self.base.clients.len() < self.pool {
            match Client::start(self.base.addr, ConnectOpts::default(), now) {
                Ok(client) => self.base.clients.push(Talker {
                    client,
                    next_talk: now,
                }),
                Err(_) => break,
            }
        }
    }
}

impl Scenario for Echo {
    fn kind(&self) -> Kind {
        Kind::Echo
    }

    fn port(&self) -> u16 {
        self.base.port()
    }

    fn step(&mut self, now: Instant) {
        self.base.accept_pending(MAX_CLIENTS, EchoConn::new);
        let mut buf = [0u8; 1024];
        self.base.conns.retain_mut(|c| c.serve(&mut buf));
        let mut lines = self.lines;
        self.base.clients.retain_mut(|t| {
            if t.client.progress().is_err() {
                return false;
            }
            if !t.client.connected {
                return true;
            }
            // Read the echoes so nothing sits in Recv-Q.
            loop {
                match read_some(&t.client.stream, &mut buf) {
                    ReadOutcome::Data(_) => continue,
                    ReadOutcome::Nothing => break,
                    ReadOutcome::Eof | ReadOutcome::Failed => return false,
                }
            }
            if now >= t.next_talk {
                lines += 1;
                t.client
                    .outbox
                    .extend_from_slice(format!("ping {lines}\r\n").as_bytes());
                t.next_talk = now + TALK_EVERY;
                if t.client.flush().is_err() {
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
        for t in &self.base.clients {
            if t.client.connected {
                fds.push(net::pollfd(t.client.stream.as_raw_fd(), libc::POLLIN));
            }
            t.client.interest(fds);
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let talk = self
            .base
            .clients
            .iter()
            .filter(|t| t.client.connected)
            .map(|t| t.next_talk.saturating_duration_since(now))
            .min();
        talk.into_iter().chain(self.pacer.until_due(now)).min()
    }

    fn act(&mut self, action: Action, now: Instant) -> Result<String, String> {
        match action {
            Action::Add(n) => {
                let n = check_add(n, self.pool, MAX_CLIENTS)?;
                self.pool += n;
                self.fill_pool(now);
                Ok(format!("pool of {} clients", self.pool))
            }
            Action::Send(data) => {
                let Some(t) = self
                    .base
                    .clients
                    .iter_mut()
                    .rev()
                    .find(|t| t.client.connected)
                else {
                    return Err("no connected client to send from".into());
                };
                send_from_newest(std::slice::from_mut(&mut t.client), &data)
            }
            Action::Close(n) => {
                let k = (n as usize).min(self.pool);
                self.pool -= k;
                let drop_n = self.base.clients.len().saturating_sub(self.pool);
                self.base.clients.drain(..drop_n);
                Ok(format!("pool of {} clients", self.pool))
            }
            Action::Accepting(on) => Ok(self.base.set_accepting(on)),
            Action::Rate(r) => {
                let r = check_rate(r, MAX_RATE)?;
                self.pacer.set_rate(r, now);
                Ok(format!("{r} client replacements/s"))
            }
            Action::Reset => {
                // No drain, as before: queued connections are simply accepted and echoed.
                self.base.reset_base(false);
                self.pool = INITIAL_POOL;
                self.pacer.set_rate(DEFAULT_RATE, now);
                self.pacer.due(now);
                self.fill_pool(now);
                Ok("reset".into())
            }
        }
    }

    fn status(&self) -> ScenarioStatus {
        let rate = Some(self.pacer.rate);
        self.base
            .status(Kind::Echo, rate, Some(MAX_RATE), MAX_CLIENTS)
    }
}
