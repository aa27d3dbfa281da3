//! A server that accepts and never reads: each client sends the seeds' `hello!\r\n`, and the
//! server's socket shows Recv-Q 8 — bytes the kernel holds for an application that does not
//! ask for them.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::{
    Action, Client, HELLO, Kind, Scenario, ScenarioStatus, accept_one, check_add, send_from_newest,
};
use crate::demo::net::{self, ConnectOpts};

const BACKLOG: i32 = 16;
const INITIAL_CLIENTS: u32 = 1;
const MAX_CLIENTS: usize = 32;

pub struct Unread {
    listener: TcpListener,
    addr: SocketAddr,
    accepting: bool,
    conns: Vec<TcpStream>,
    clients: Vec<Client>,
    accepted_total: u64,
}

impl Unread {
    pub fn new(addr: SocketAddr) -> std::io::Result<Unread> {
        let listener = net::listen(addr, BACKLOG)?;
        let addr = listener.local_addr()?;
        let mut s = Unread {
            listener,
            addr,
            accepting: true,
            conns: Vec::new(),
            clients: Vec::new(),
            accepted_total: 0,
        };
        s.add(INITIAL_CLIENTS as usize, Instant::now())?;
        Ok(s)
    }

    fn add(&mut self, n: usize, now: Instant) -> std::io::Result<()> {
        for _ in 0..n {
            let mut c = Client::start(self.addr, ConnectOpts::default(), now)?;
            c.outbox.extend_from_slice(HELLO);
            self.clients.push(c);
        }
        Ok(())
    }
}

impl Scenario for Unread {
    fn kind(&self) -> Kind {
        Kind::Unread
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn step(&mut self, _now: Instant) {
        while self.accepting && self.conns.len() < MAX_CLIENTS {
            match accept_one(&self.listener) {
                Some(conn) => {
                    self.accepted_total += 1;
                    self.conns.push(conn);
                }
                None => break,
            }
        }
        self.clients.retain_mut(|c| c.progress().is_ok());
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        if self.accepting && self.conns.len() < MAX_CLIENTS {
            fds.push(net::pollfd(self.listener.as_raw_fd(), libc::POLLIN));
        }
        for c in &self.clients {
            c.interest(fds);
        }
    }

    fn next_due(&self, _now: Instant) -> Option<Duration> {
        None
    }

    fn act(&mut self, action: Action, now: Instant) -> Result<String, String> {
        match action {
            Action::Add(n) => {
                let n = check_add(n, self.clients.len(), MAX_CLIENTS)?;
                self.add(n, now)
                    .map_err(|e| format!("connect failed: {e}"))?;
                Ok(format!(
                    "connecting {n} client(s), each sending hello!\\r\\n"
                ))
            }
            Action::Send(data) => send_from_newest(&mut self.clients, &data),
            Action::Close(n) => {
                // Close the client and the server's end of it too: this scenario is about
                // unread bytes; the forgotten close() is the close-wait scenario.
                let k = (n as usize).min(self.clients.len());
                for c in self.clients.drain(..k) {
                    if let Some(local) = c.local_addr() {
                        self.conns
                            .retain(|s| s.peer_addr().map(|p| p != local).unwrap_or(false));
                    }
                }
                Ok(format!("closed {k} client(s) and their server sockets"))
            }
            Action::Accepting(on) => {
                self.accepting = on;
                Ok(if on { "accepting" } else { "not accepting" }.into())
            }
            Action::Rate(_) => Err("unread has no churn rate".into()),
            Action::Reset => {
                self.clients.clear();
                self.conns.clear();
                while accept_one(&self.listener).is_some() {}
                self.accepting = true;
                self.accepted_total = 0;
                self.add(INITIAL_CLIENTS as usize, now)
                    .map_err(|e| format!("connect failed: {e}"))?;
                Ok("reset".into())
            }
        }
    }

    fn status(&self) -> ScenarioStatus {
        ScenarioStatus {
            name: Kind::Unread,
            port: self.port(),
            accepting: self.accepting,
            clients: self.clients.len(),
            connecting: self.clients.iter().filter(|c| !c.connected).count(),
            server_conns: self.conns.len(),
            accepted_total: self.accepted_total,
            rate: None,
            max_rate: None,
            max_clients: MAX_CLIENTS,
        }
    }
}
