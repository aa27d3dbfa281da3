//! The seeds' echo client at a steady rate: connect, send a line, read the reply, close
//! first. The side that closes first keeps TIME-WAIT for 60 s, so the count climbs to
//! rate x 60 and holds. The rate is capped; connections in flight are capped too.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::{Base, EchoConn};
use super::{Action, Kind, Pacer, ReadOutcome, Scenario, ScenarioStatus, check_rate, read_some};
use crate::demo::net::{self, ConnectOpts};

const BACKLOG: i32 = 128;
pub const DEFAULT_RATE: f64 = 20.0;
pub const MAX_RATE: f64 = 200.0;
/// Connections in flight at once (client side); also the server's cap.
const MAX_IN_FLIGHT: usize = 64;
/// A client that has not finished by then is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
const LINE: &[u8] = b"ping\r\n";

pub struct TimeWait {
    base: Base<EchoConn>,
    pacer: Pacer,
    default_rate: f64,
}

impl TimeWait {
    pub fn new(addr: SocketAddr, rate: f64) -> std::io::Result<TimeWait> {
        let base = Base::bind(addr, BACKLOG)?;
        let rate = rate.clamp(0.0, MAX_RATE);
        Ok(TimeWait {
            base,
            pacer: Pacer::new(rate, Instant::now()),
            default_rate: rate,
        })
    }

    fn start_client(&mut self, now: Instant) {
        // A failed connect is skipped; the pacer tries again at its next tick.
        let _ = self
            .base
            .start_clients(1, ConnectOpts::default(), LINE, now);
    }
}

impl Scenario for TimeWait {
    fn kind(&self) -> Kind {
        Kind::TimeWait
    }

    fn port(&self) -> u16 {
        self.base.port()
    }

    fn step(&mut self, now: Instant) {
        self.base.accept_pending(MAX_IN_FLIGHT, EchoConn::new);
        let mut buf = [0u8; 256];
        self.base.conns.retain_mut(|c| c.serve(&mut buf));
        // Clients: once the echo is back, close first (the active close → TIME-WAIT here).
        self.base.clients.retain_mut(|c| {
            if c.progress().is_err() || now.saturating_duration_since(c.since) > CLIENT_TIMEOUT {
                return false;
            }
            if c.connected && c.outbox.is_empty() {
                return matches!(read_some(&c.stream, &mut buf), ReadOutcome::Nothing);
            }
            true
        });
        if self.pacer.due(now) && self.base.clients.len() < MAX_IN_FLIGHT {
            self.start_client(now);
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(MAX_IN_FLIGHT, fds);
        for c in &self.base.conns {
            c.interest(fds);
        }
        for c in &self.base.clients {
            if c.connected && c.outbox.is_empty() {
                fds.push(net::pollfd(c.stream.as_raw_fd(), libc::POLLIN));
            } else {
                c.interest(fds);
            }
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let timeout = self
            .base
            .clients
            .iter()
            .map(|c| (c.since + CLIENT_TIMEOUT).saturating_duration_since(now))
            .min();
        timeout.into_iter().chain(self.pacer.until_due(now)).min()
    }

    fn act(&mut self, action: Action, now: Instant) -> Result<String, String> {
        match action {
            Action::Add(n) => {
                let n = super::check_add(n, self.base.clients.len(), MAX_IN_FLIGHT)?;
                for _ in 0..n {
                    self.start_client(now);
                }
                Ok(format!("{n} extra connection(s)"))
            }
            Action::Send(_) => {
                Err("time-wait clients send on their own; change the rate instead".into())
            }
            Action::Close(n) => {
                let k = self.base.close(n);
                Ok(format!("closed {k} client(s) in flight"))
            }
            Action::Accepting(on) => Ok(self.base.set_accepting(on)),
            Action::Rate(r) => {
                let r = check_rate(r, MAX_RATE)?;
                self.pacer.set_rate(r, now);
                Ok(format!(
                    "{r} connections/s: TIME-WAIT will settle near {:.0}",
                    r * 60.0
                ))
            }
            Action::Reset => {
                // No drain, as before: queued connections are simply accepted and echoed.
                self.base.reset_base(false);
                self.pacer.set_rate(self.default_rate, now);
                Ok("reset (existing TIME-WAIT sockets expire on their own)".into())
            }
        }
    }

    fn status(&self) -> ScenarioStatus {
        let rate = Some(self.pacer.rate);
        self.base
            .status(Kind::TimeWait, rate, Some(MAX_RATE), MAX_IN_FLIGHT)
    }
}
