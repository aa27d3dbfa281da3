//! The state every scenario shares: a listener, its embedded clients, the server's accepted
//! sockets and the accept bookkeeping. Scenarios keep only what makes them different.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Instant;

use super::{Client, Kind, ReadOutcome, ScenarioStatus, accept_one, read_some, write_some};
use crate::demo::net::{self, ConnectOpts};

/// Something that wraps an embedded client (echo keeps a talk timer beside it).
pub(crate) trait AsClient {
    fn client(&self) -> &Client;
}

impl AsClient for Client {
    fn client(&self) -> &Client {
        self
    }
}

/// A server-side socket, so a closed client's server end can be found by address.
pub(crate) trait ServerConn {
    fn stream(&self) -> &TcpStream;
}

impl ServerConn for TcpStream {
    fn stream(&self) -> &TcpStream {
        self
    }
}

pub(crate) struct Base<C, T = Client> {
    pub listener: TcpListener,
    /// The bound address (ephemeral port resolved), where clients connect.
    pub addr: SocketAddr,
    pub accepting: bool,
    /// Accepted sockets the server holds.
    pub conns: Vec<C>,
    pub clients: Vec<T>,
    pub accepted_total: u64,
}

impl<C, T: AsClient> Base<C, T> {
    pub fn bind(addr: SocketAddr, backlog: i32) -> io::Result<Self> {
        let listener = net::listen(addr, backlog)?;
        let addr = listener.local_addr()?;
        Ok(Base {
            listener,
            addr,
            accepting: true,
            conns: Vec::new(),
            clients: Vec::new(),
            accepted_total: 0,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Whether the server would accept now, holding at most `cap` sockets.
    pub fn wants_accept(&self, cap: usize) -> bool {
        self.accepting && self.conns.len() < cap
    }

    /// Accept what is pending, up to `cap` held sockets; `wrap` builds the per-socket state.
    pub fn accept_pending(&mut self, cap: usize, mut wrap: impl FnMut(TcpStream) -> C) {
        while self.wants_accept(cap) {
            let Some(stream) = accept_one(&self.listener) else {
                break;
            };
            self.accepted_total += 1;
            self.conns.push(wrap(stream));
        }
    }

    /// Wait for a connection only when one would be accepted.
    pub fn listener_interest(&self, cap: usize, fds: &mut Vec<libc::pollfd>) {
        if self.wants_accept(cap) {
            fds.push(net::pollfd(self.listener.as_raw_fd(), libc::POLLIN));
        }
    }

    pub fn set_accepting(&mut self, on: bool) -> String {
        self.accepting = on;
        if on { "accepting" } else { "not accepting" }.into()
    }

    /// Close the `n` oldest clients; returns how many were closed.
    pub fn close(&mut self, n: u32) -> usize {
        let k = (n as usize).min(self.clients.len());
        self.clients.drain(..k).count()
    }

    /// Drop every socket and start accepting afresh. `drain` also empties the kernel's accept
    /// queue, for scenarios whose opening picture must not see stale connections.
    pub fn reset_base(&mut self, drain: bool) {
        self.clients.clear();
        self.conns.clear();
        if drain {
            while accept_one(&self.listener).is_some() {}
        }
        self.accepting = true;
        self.accepted_total = 0;
    }

    pub fn status(
        &self,
        kind: Kind,
        rate: Option<f64>,
        max_rate: Option<f64>,
        max_clients: usize,
    ) -> ScenarioStatus {
        ScenarioStatus {
            name: kind,
            port: self.port(),
            accepting: self.accepting,
            clients: self.clients.len(),
            connecting: self
                .clients
                .iter()
                .filter(|t| !t.client().connected)
                .count(),
            server_conns: self.conns.len(),
            accepted_total: self.accepted_total,
            rate,
            max_rate,
            max_clients,
        }
    }
}

impl<C> Base<C, Client> {
    /// Connect `n` clients, each with `payload` queued to send once connected.
    pub fn start_clients(
        &mut self,
        n: usize,
        opts: ConnectOpts,
        payload: &[u8],
        now: Instant,
    ) -> io::Result<()> {
        for _ in 0..n {
            let mut c = Client::start(self.addr, opts, now)?;
            c.outbox.extend_from_slice(payload);
            self.clients.push(c);
        }
        Ok(())
    }
}

impl<C: ServerConn> Base<C, Client> {
    /// Close the `n` oldest clients and the server's end of each; returns how many.
    pub fn close_with_conns(&mut self, n: u32) -> usize {
        let k = (n as usize).min(self.clients.len());
        for c in self.clients.drain(..k) {
            if let Some(local) = c.local_addr() {
                self.conns
                    .retain(|s| s.stream().peer_addr().map(|p| p != local).unwrap_or(false));
            }
        }
        k
    }
}

/// A server socket that echoes: bytes read and not yet written back.
pub(crate) struct EchoConn {
    pub stream: TcpStream,
    pub pending: Vec<u8>,
}

impl EchoConn {
    pub fn new(stream: TcpStream) -> EchoConn {
        EchoConn {
            stream,
            pending: Vec::new(),
        }
    }

    /// Echo what arrives; false once the peer closed or the socket failed.
    pub fn serve(&mut self, buf: &mut [u8]) -> bool {
        loop {
            match read_some(&self.stream, buf) {
                ReadOutcome::Data(n) => self.pending.extend_from_slice(&buf[..n]),
                ReadOutcome::Nothing => break,
                ReadOutcome::Eof | ReadOutcome::Failed => return false,
            }
        }
        if !self.pending.is_empty() {
            match write_some(&self.stream, &self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(_) => return false,
            }
        }
        true
    }

    /// POLLOUT only while an echo is waiting for room.
    pub fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        let ev = if self.pending.is_empty() {
            libc::POLLIN
        } else {
            libc::POLLIN | libc::POLLOUT
        };
        fds.push(net::pollfd(self.stream.as_raw_fd(), ev));
    }
}
