//! The seeds' echo client at a steady rate: connect, send a line, read the reply, close
//! first. The side that closes first keeps TIME-WAIT for 60 s, so the count climbs to
//! rate x 60 and holds. The rate is capped; connections in flight are capped too.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::{
    Action, Client, Kind, Pacer, ReadOutcome, Scenario, ScenarioStatus, accept_one, check_rate,
    read_some, write_some,
};
use crate::demo::net::{self, ConnectOpts};

const BACKLOG: i32 = 128;
pub const DEFAULT_RATE: f64 = 20.0;
pub const MAX_RATE: f64 = 200.0;
/// Connections in flight at once (client side); also the server's cap.
const MAX_IN_FLIGHT: usize = 64;
/// A client that has not finished by then is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
const LINE: &[u8] = b"ping\r\n";

struct Conn {
    stream: TcpStream,
    /// Bytes read and not yet echoed.
    pending: Vec<u8>,
}

pub struct TimeWait {
    listener: TcpListener,
    addr: SocketAddr,
    accepting: bool,
    conns: Vec<Conn>,
    clients: Vec<Client>,
    pacer: Pacer,
    default_rate: f64,
    accepted_total: u64,
}

impl TimeWait {
    pub fn new(addr: SocketAddr, rate: f64) -> std::io::Result<TimeWait> {
        let listener = net::listen(addr, BACKLOG)?;
        let addr = listener.local_addr()?;
        let rate = rate.clamp(0.0, MAX_RATE);
        Ok(TimeWait {
            listener,
            addr,
            accepting: true,
            conns: Vec::new(),
            clients: Vec::new(),
            pacer: Pacer::new(rate, Instant::now()),
            default_rate: rate,
            accepted_total: 0,
        })
    }

    fn start_client(&mut self, now: Instant) {
        if let Ok(mut c) = Client::start(self.addr, ConnectOpts::default(), now) {
            c.outbox.extend_from_slice(LINE);
            self.clients.push(c);
        }
    }
}

/// Echo what arrives; close when the client has closed. Returns false when done.
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

impl Scenario for TimeWait {
    fn kind(&self) -> Kind {
        Kind::TimeWait
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn step(&mut self, now: Instant) {
        while self.accepting && self.conns.len() < MAX_IN_FLIGHT {
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
        let mut buf = [0u8; 256];
        self.conns.retain_mut(|c| serve(c, &mut buf));
        // Clients: once the echo is back, close first (the active close → TIME-WAIT here).
        self.clients.retain_mut(|c| {
            if c.progress().is_err() || now.saturating_duration_since(c.since) > CLIENT_TIMEOUT {
                return false;
            }
            if c.connected && c.outbox.is_empty() {
                return matches!(read_some(&c.stream, &mut buf), ReadOutcome::Nothing);
            }
            true
        });
        if self.pacer.due(now) && self.clients.len() < MAX_IN_FLIGHT {
            self.start_client(now);
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        if self.accepting && self.conns.len() < MAX_IN_FLIGHT {
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
        for c in &self.clients {
            if c.connected && c.outbox.is_empty() {
                fds.push(net::pollfd(c.stream.as_raw_fd(), libc::POLLIN));
            } else {
                c.interest(fds);
            }
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let timeout = self
            .clients
            .iter()
            .map(|c| (c.since + CLIENT_TIMEOUT).saturating_duration_since(now))
            .min();
        timeout.into_iter().chain(self.pacer.until_due(now)).min()
    }

    fn act(&mut self, action: Action, now: Instant) -> Result<String, String> {
        match action {
            Action::Add(n) => {
                let n = super::check_add(n, self.clients.len(), MAX_IN_FLIGHT)?;
                for _ in 0..n {
                    self.start_client(now);
                }
                Ok(format!("{n} extra connection(s)"))
            }
            Action::Send(_) => {
                Err("time-wait clients send on their own; change the rate instead".into())
            }
            Action::Close(n) => {
                let k = super::close_oldest(&mut self.clients, n);
                Ok(format!("closed {k} client(s) in flight"))
            }
            Action::Accepting(on) => {
                self.accepting = on;
                Ok(if on { "accepting" } else { "not accepting" }.into())
            }
            Action::Rate(r) => {
                let r = check_rate(r, MAX_RATE)?;
                self.pacer.set_rate(r, now);
                Ok(format!(
                    "{r} connections/s: TIME-WAIT will settle near {:.0}",
                    r * 60.0
                ))
            }
            Action::Reset => {
                self.clients.clear();
                self.conns.clear();
                self.accepting = true;
                self.accepted_total = 0;
                self.pacer.set_rate(self.default_rate, now);
                Ok("reset (existing TIME-WAIT sockets expire on their own)".into())
            }
        }
    }

    fn status(&self) -> ScenarioStatus {
        ScenarioStatus {
            name: Kind::TimeWait,
            port: self.port(),
            accepting: self.accepting,
            clients: self.clients.len(),
            connecting: self.clients.iter().filter(|c| !c.connected).count(),
            server_conns: self.conns.len(),
            accepted_total: self.accepted_total,
            rate: Some(self.pacer.rate),
            max_rate: Some(MAX_RATE),
            max_clients: MAX_IN_FLIGHT,
        }
    }
}
