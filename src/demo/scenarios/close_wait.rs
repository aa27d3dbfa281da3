//! A server that forgets `close()`: it reads each request to the end (the peer's FIN) and
//! then keeps the socket. Clients send a line and close after a moment; the server's
//! sockets stay in CLOSE-WAIT for as long as the process lives, the clients' orphans sit in
//! FIN-WAIT-2 until tcp_fin_timeout (60 s). New clients trickle in, so the leak grows — up
//! to a hard cap.

use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::Base;
use super::{
    Action, Kind, Pacer, ReadOutcome, Scenario, ScenarioStatus, check_add, check_rate, read_some,
    send_from_newest,
};
use crate::demo::net::{self, ConnectOpts};

const BACKLOG: i32 = 16;
const INITIAL_CLIENTS: u32 = 2;
/// Open client sockets at once.
const MAX_CLIENTS: usize = 16;
/// Leaked server sockets: the trickle stops here.
const MAX_LEAKED: usize = 64;
pub const DEFAULT_RATE: f64 = 0.2;
pub const MAX_RATE: f64 = 2.0;
/// How long a client stays before closing.
const CLIENT_LIFETIME: Duration = Duration::from_secs(1);
const REQUEST: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

struct Conn {
    stream: TcpStream,
    /// The peer closed and the server (wrongly) did nothing about it.
    leaked: bool,
}

pub struct CloseWait {
    base: Base<Conn>,
    pacer: Pacer,
}

impl CloseWait {
    pub fn new(addr: SocketAddr) -> std::io::Result<CloseWait> {
        let now = Instant::now();
        let mut s = CloseWait {
            base: Base::bind(addr, BACKLOG)?,
            pacer: Pacer::new(DEFAULT_RATE, now),
        };
        // The pacer's first event is due at once; it brings the first client.
        s.add(INITIAL_CLIENTS as usize - 1, now)?;
        Ok(s)
    }

    fn add(&mut self, n: usize, now: Instant) -> std::io::Result<()> {
        self.base
            .start_clients(n, ConnectOpts::default(), REQUEST, now)
    }

    fn room(&self) -> bool {
        self.base.clients.len() < MAX_CLIENTS
            && self.base.conns.len() + self.base.clients.len() < MAX_LEAKED
    }
}

impl Scenario for CloseWait {
    fn kind(&self) -> Kind {
        Kind::CloseWait
    }

    fn port(&self) -> u16 {
        self.base.port()
    }

    fn step(&mut self, now: Instant) {
        self.base.accept_pending(MAX_LEAKED, |stream| Conn {
            stream,
            leaked: false,
        });
        let mut buf = [0u8; 1024];
        for conn in self.base.conns.iter_mut().filter(|c| !c.leaked) {
            loop {
                match read_some(&conn.stream, &mut buf) {
                    ReadOutcome::Data(_) => continue,
                    ReadOutcome::Nothing => break,
                    // The bug on purpose: end of request seen, close() forgotten.
                    ReadOutcome::Eof | ReadOutcome::Failed => {
                        conn.leaked = true;
                        break;
                    }
                }
            }
        }
        self.base.clients.retain_mut(|c| {
            c.progress().is_ok()
                && !(c.connected && c.outbox.is_empty() && now - c.since >= CLIENT_LIFETIME)
        });
        if self.pacer.due(now) && self.room() {
            let _ = self.add(1, now);
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(MAX_LEAKED, fds);
        for c in self.base.conns.iter().filter(|c| !c.leaked) {
            fds.push(net::pollfd(c.stream.as_raw_fd(), libc::POLLIN));
        }
        for c in &self.base.clients {
            c.interest(fds);
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let closing = self
            .base
            .clients
            .iter()
            .filter(|c| c.connected)
            .map(|c| (c.since + CLIENT_LIFETIME).saturating_duration_since(now))
            .min();
        closing.into_iter().chain(self.pacer.until_due(now)).min()
    }

    fn act(&mut self, action: Action, now: Instant) -> Result<String, String> {
        match action {
            Action::Add(n) => {
                if !self.room() {
                    return Err(format!(
                        "at the cap of {MAX_LEAKED} leaked sockets; reset to start over"
                    ));
                }
                let n = check_add(n, self.base.clients.len(), MAX_CLIENTS)?;
                let n = n.min(MAX_LEAKED - self.base.conns.len() - self.base.clients.len());
                self.add(n, now)
                    .map_err(|e| format!("connect failed: {e}"))?;
                Ok(format!("connecting {n} client(s); each closes after 1 s"))
            }
            Action::Send(data) => send_from_newest(&mut self.base.clients, &data),
            Action::Close(n) => {
                let k = self.base.close(n);
                Ok(format!("closed {k} client(s)"))
            }
            Action::Accepting(on) => Ok(self.base.set_accepting(on)),
            Action::Rate(r) => {
                let r = check_rate(r, MAX_RATE)?;
                self.pacer.set_rate(r, now);
                Ok(format!("a new client every {}", per(r)))
            }
            Action::Reset => {
                self.base.reset_base(true);
                self.pacer.set_rate(DEFAULT_RATE, now);
                self.add(INITIAL_CLIENTS as usize - 1, now)
                    .map_err(|e| format!("connect failed: {e}"))?;
                Ok("reset: leaked sockets closed".into())
            }
        }
    }

    fn status(&self) -> ScenarioStatus {
        let rate = Some(self.pacer.rate);
        self.base
            .status(Kind::CloseWait, rate, Some(MAX_RATE), MAX_CLIENTS)
    }
}

fn per(rate: f64) -> String {
    if rate <= 0.0 {
        "never (stopped)".into()
    } else {
        format!("{:.1} s", 1.0 / rate)
    }
}
