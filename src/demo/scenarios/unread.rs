//! A server that accepts and never reads: each client sends the seeds' `hello!\r\n`, and the
//! server's socket shows Recv-Q 8 — bytes the kernel holds for an application that does not
//! ask for them.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::common::Base;
use super::{Action, HELLO, Kind, Scenario, ScenarioStatus, check_add, send_from_newest};
use crate::demo::net::ConnectOpts;

const BACKLOG: i32 = 16;
const INITIAL_CLIENTS: u32 = 1;
const MAX_CLIENTS: usize = 32;

pub struct Unread {
    base: Base<TcpStream>,
}

impl Unread {
    pub fn new(addr: SocketAddr) -> std::io::Result<Unread> {
        let mut s = Unread {
            base: Base::bind(addr, BACKLOG)?,
        };
        s.add(INITIAL_CLIENTS as usize, Instant::now())?;
        Ok(s)
    }

    fn add(&mut self, n: usize, now: Instant) -> std::io::Result<()> {
        self.base
            .start_clients(n, ConnectOpts::default(), HELLO, now)
    }
}

impl Scenario for Unread {
    fn kind(&self) -> Kind {
        Kind::Unread
    }

    fn port(&self) -> u16 {
        self.base.port()
    }

    fn step(&mut self, _now: Instant) {
        self.base.accept_pending(MAX_CLIENTS, |s| s);
        self.base.clients.retain_mut(|c| c.progress().is_ok());
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(MAX_CLIENTS, fds);
        for c in &self.base.clients {
            c.interest(fds);
        }
    }

    fn next_due(&self, _now: Instant) -> Option<Duration> {
        None
    }

    fn act(&mut self, action: Action, now: Instant) -> Result<String, String> {
        match action {
            Action::Add(n) => {
                let n = check_add(n, self.base.clients.len(), MAX_CLIENTS)?;
                self.add(n, now)
                    .map_err(|e| format!("connect failed: {e}"))?;
                Ok(format!(
                    "connecting {n} client(s), each sending hello!\\r\\n"
                ))
            }
            Action::Send(data) => send_from_newest(&mut self.base.clients, &data),
            Action::Close(n) => {
                // Close the client and the server's end of it too: this scenario is about
                // unread bytes; the forgotten close() is the close-wait scenario.
                let k = self.base.close_with_conns(n);
                Ok(format!("closed {k} client(s) and their server sockets"))
            }
            Action::Accepting(on) => Ok(self.base.set_accepting(on)),
            Action::Rate(_) => Err("unread has no churn rate".into()),
            Action::Reset => {
                self.base.reset_base(true);
                self.add(INITIAL_CLIENTS as usize, now)
                    .map_err(|e| format!("connect failed: {e}"))?;
                Ok("reset".into())
            }
        }
    }

    fn status(&self) -> ScenarioStatus {
        self.base.status(Kind::Unread, None, None, MAX_CLIENTS)
    }
}
