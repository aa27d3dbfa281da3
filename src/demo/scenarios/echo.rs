//! The healthy baseline: the seeds' event-driven (epoll-style) echo server. One thread waits
//! on every socket with poll(2), reads what is ready, echoes it back, and closes when the
//! client does. A small pool of clients sends a line now and then and is replaced at a slow
//! churn rate, so queues stay at 0 and a few TIME-WAIT sockets come and go.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::{
    Action, Client, Kind, Pacer, ReadOutcome, Scenario, ScenarioStatus, accept_one, check_add,
    check_rate, read_some, send_from_newest, write_some,
};
use crate::demo::net::{self, ConnectOpts};

const BACKLOG: i32 = 128;
const INITIAL_POOL: usize = 3;
const MAX_CLIENTS: usize = 16;
pub const DEFAULT_RATE: f64 = 0.5;
pub const MAX_RATE: f64 = 10.0;
/// Each client says something this often.
const TALK_EVERY: Duration = Duration::from_millis(700);

struct Conn {
    stream: TcpStream,
    pending: Vec<u8>,
}

struct Talker {
    client: Client,
    next_talk: Instant,
}

pub struct Echo {
    listener: TcpListener,
    addr: SocketAddr,
    accepting: bool,
    conns: Vec<Conn>,
    clients: Vec<Talker>,
    /// How many clients the pool keeps.
    pool: usize,
    pacer: Pacer,
    accepted_total: u64,
    lines: u64,
}

impl Echo {
    pub fn new(addr: SocketAddr) -> std::io::Result<Echo> {
        let listener = net::listen(addr, BACKLOG)?;
        let addr = listener.local_addr()?;
        let now = Instant::now();
        let mut pacer = Pacer::new(DEFAULT_RATE, now);
        // Let the pool settle before the first replacement.
        pacer.due(now);
        Ok(Echo {
            listener,
            addr,
            accepting: true,
            conns: Vec::new(),
            clients: Vec::new(),
            pool: INITIAL_POOL,
            pacer,
            accepted_total: 0,
            lines: 0,
        })
    }

    fn fill_pool(&mut self, now: Instant) {
        while self.clients.len() < self.pool {
            match Client::start(self.addr, ConnectOpts::default(), now) {
                Ok(client) => self.clients.push(Talker {
                    client,
                    next_talk: now,
                }),
                Err(_) => break,
            }
        }
    }
}

fn serve(conn: &mut Conn, buf: &mut [u8]) -> bool {
    loop {
        match read_some(&conn.stream, buf) {
            ReadOutcome::Data(n) => conn.pending.extend_from_slice(&buf[..n]),
            ReadOutcome::Nothing => break,
            ReadOutcome::Eof | ReadOutcome::Failed => return false,
        }
    }
    if !conn.pending.is_empty() {
        match write_some(&conn.stream, &conn.pending) {
            Ok(n) => {
                conn.pending.drain(..n);
            }
            Err(_) => return false,
        }
    }
    true
}

impl Scenario for Echo {
    fn kind(&self) -> Kind {
        Kind::Echo
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn step(&mut self, now: Instant) {
        while self.accepting && self.conns.len() < MAX_CLIENTS {
            match accept_one(&self.listener) {
                Some(stream) => {
                    self.accepted_total += 1;
                    self.conns.push(Conn {
                        stream,
                        pending: Vec::new(),
                    });
                }
                None => break,
            }
        }
        let mut buf = [0u8; 1024];
        self.conns.retain_mut(|c| serve(c, &mut buf));
        let mut lines = self.lines;
        self.clients.retain_mut(|t| {
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
        if self.pacer.due(now) && !self.clients.is_empty() {
            self.clients.remove(0);
        }
        self.fill_pool(now);
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        if self.accepting && self.conns.len() < MAX_CLIENTS {
            fds.push(net::pollfd(self.listener.as_raw_fd(), libc::POLLIN));
        }
        for c in &self.conns {
            let ev = if c.pending.is_empty() {
                libc::POLLIN
            } else {
                libc::POLLIN | libc::POLLOUT
            };
            fds.push(net::pollfd(c.stream.as_raw_fd(), ev));
        }
        for t in &self.clients {
            if t.client.connected {
                fds.push(net::pollfd(t.client.stream.as_raw_fd(), libc::POLLIN));
            }
            t.client.interest(fds);
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let talk = self
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
                let Some(t) = self.clients.iter_mut().rev().find(|t| t.client.connected) else {
                    return Err("no connected client to send from".into());
                };
                send_from_newest(std::slice::from_mut(&mut t.client), &data)
            }
            Action::Close(n) => {
                let k = (n as usize).min(self.pool);
                self.pool -= k;
                let drop_n = self.clients.len().saturating_sub(self.pool);
                self.clients.drain(..drop_n);
                Ok(format!("pool of {} clients", self.pool))
            }
            Action::Accepting(on) => {
                self.accepting = on;
                Ok(if on { "accepting" } else { "not accepting" }.into())
            }
            Action::Rate(r) => {
                let r = check_rate(r, MAX_RATE)?;
                self.pacer.set_rate(r, now);
                Ok(format!("{r} client replacements/s"))
            }
            Action::Reset => {
                self.clients.clear();
                self.conns.clear();
                self.accepting = true;
                self.pool = INITIAL_POOL;
                self.accepted_total = 0;
                self.pacer.set_rate(DEFAULT_RATE, now);
                self.pacer.due(now);
                self.fill_pool(now);
                Ok("reset".into())
            }
        }
    }

    fn status(&self) -> ScenarioStatus {
        ScenarioStatus {
            name: Kind::Echo,
            port: self.port(),
            accepting: self.accepting,
            clients: self.clients.len(),
            connecting: self.clients.iter().filter(|t| !t.client.connected).count(),
            server_conns: self.conns.len(),
            accepted_total: self.accepted_total,
            rate: Some(self.pacer.rate),
            max_rate: Some(MAX_RATE),
            max_clients: MAX_CLIENTS,
        }
    }
}
