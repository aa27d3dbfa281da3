//! A server streaming a large response to a client that never reads. The client's receive
//! buffer fills (its Recv-Q grows), its advertised window drops to zero, and from then on the
//! server's data waits unacknowledged in its send buffer: Send-Q grows and holds. Buffers are
//! set small so the numbers stay readable and bounded.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::{Action, Client, Kind, Scenario, ScenarioStatus, accept_one, check_add, write_some};
use crate::demo::net::{self, ConnectOpts};

const BACKLOG: i32 = 16;
const INITIAL_CLIENTS: u32 = 1;
const MAX_CLIENTS: usize = 8;
/// SO_RCVBUF of the clients and SO_SNDBUF of the server's sockets (the kernel doubles both).
pub const CLIENT_RCVBUF: u32 = 64 * 1024;
pub const SERVER_SNDBUF: u32 = 64 * 1024;
/// Hard cap on what the server writes to one connection.
const MAX_STREAM: u64 = 16 * 1024 * 1024;
const CHUNK: [u8; 16 * 1024] = [b'x'; 16 * 1024];

struct Conn {
    stream: TcpStream,
    written: u64,
}

pub struct SendQ {
    listener: TcpListener,
    addr: SocketAddr,
    accepting: bool,
    conns: Vec<Conn>,
    clients: Vec<Client>,
    accepted_total: u64,
}

impl SendQ {
    pub fn new(addr: SocketAddr) -> std::io::Result<SendQ> {
        let listener = net::listen(addr, BACKLOG)?;
        let addr = listener.local_addr()?;
        let mut s = SendQ {
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
            self.clients.push(Client::start(
                self.addr,
                ConnectOpts {
                    rcvbuf: Some(CLIENT_RCVBUF),
                    syn_retries: None,
                },
                now,
            )?);
        }
        Ok(())
    }
}

impl Scenario for SendQ {
    fn kind(&self) -> Kind {
        Kind::SendQ
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn step(&mut self, _now: Instant) {
        while self.accepting && self.conns.len() < MAX_CLIENTS {
            match accept_one(&self.listener) {
                Some(stream) => {
                    self.accepted_total += 1;
                    let _ = net::set_sndbuf(&stream, SERVER_SNDBUF);
                    self.conns.push(Conn { stream, written: 0 });
                }
                None => break,
            }
        }
        // Stream until the send buffer is full; POLLOUT says when there is room again.
        self.conns.retain_mut(|c| {
            while c.written < MAX_STREAM {
                match write_some(&c.stream, &CHUNK) {
                    Ok(0) => break,
                    Ok(n) => c.written += n as u64,
                    Err(_) => return false,
                }
            }
            true
        });
        self.clients.retain_mut(|c| c.progress().is_ok());
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        if self.accepting && self.conns.len() < MAX_CLIENTS {
            fds.push(net::pollfd(self.listener.as_raw_fd(), libc::POLLIN));
        }
        for c in self.conns.iter().filter(|c| c.written < MAX_STREAM) {
            fds.push(net::pollfd(c.stream.as_raw_fd(), libc::POLLOUT));
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
                Ok(format!("connecting {n} client(s) that never read"))
            }
            Action::Send(_) => {
                Err("send-q streams from the server on its own; add a client to see another".into())
            }
            Action::Close(n) => {
                let k = (n as usize).min(self.clients.len());
                for c in self.clients.drain(..k) {
                    if let Some(local) = c.local_addr() {
                        self.conns
                            .retain(|s| s.stream.peer_addr().map(|p| p != local).unwrap_or(false));
                    }
                }
                Ok(format!("closed {k} client(s) and their server sockets"))
            }
            Action::Accepting(on) => {
                self.accepting = on;
                Ok(if on { "accepting" } else { "not accepting" }.into())
            }
            Action::Rate(_) => Err("send-q has no churn rate".into()),
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
            name: Kind::SendQ,
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
