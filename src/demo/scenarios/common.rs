//! The state every scenario shares — a listener, its embedded clients, the server's accepted
//! sockets, the caps — and the control actions applied to any scenario (`act`). Scenarios
//! keep only what makes them different.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Instant;

use super::pacer::Budget;
use super::spec::{Action, Common, Kind, Scenario, ScenarioStatus};
use crate::demo::net::{self, ConnectOpts, ConnectState};

/// The seeds' `telnet` line: 8 bytes, so Recv-Q reads 8.
pub const HELLO: &[u8] = b"hello!\r\n";

/// Largest payload of one `send` action.
pub const MAX_SEND: usize = 1024;

/// Most bytes a client may hold unsent (sends to a server that does not read pile up here).
const MAX_OUTBOX: usize = 64 * 1024;

/// Connection rate of scenarios without a churn rate: enough for a person pressing keys.
pub const DEFAULT_CONNECT_RATE: f64 = 10.0;

/// Apply a control action to a scenario: validation and the caps are here, once, for all.
pub fn act(s: &mut dyn Scenario, action: Action, now: Instant) -> Result<String, String> {
    let kind = s.kind();
    match action {
        Action::Add(n) => {
            let base = s.base();
            let n = check_add(n, base.clients_len(), base.max_clients())?;
            s.add(n, now)
        }
        Action::Send(data) => s.send(&data),
        Action::Close(n) => Ok(s.close(n as usize)),
        Action::Accepting(on) => Ok(s.base_mut().set_accepting(on)),
        Action::Rate(r) => {
            let Some(pacer) = s.pacer_mut() else {
                return Err(format!("{kind} has no churn rate"));
            };
            let r = check_rate(r, pacer.max_rate)?;
            pacer.set_rate(r, now);
            Ok(s.rate_message(r))
        }
        Action::Command(name) => s.command(&name, now),
        Action::Reset => {
            s.base_mut().reset();
            if let Some(p) = s.pacer_mut() {
                p.set_rate(p.default_rate, now);
            }
            s.restart(now)
        }
    }
}

/// What `status` reports for a scenario.
pub fn status(s: &dyn Scenario) -> ScenarioStatus {
    let mut st = s.base().status(s.kind());
    st.extra_ports = s.extra_ports();
    st.focus = s.focus();
    st.paths.extend(s.paths());
    if let Some(p) = s.pacer() {
        st.rate = Some(p.rate);
        st.max_rate = Some(p.max_rate);
    }
    st
}

pub(crate) fn check_add(n: u32, current: usize, max: usize) -> Result<usize, String> {
    if n == 0 {
        return Err("count must be at least 1".into());
    }
    let room = max.saturating_sub(current);
    if room == 0 {
        return Err(format!("at the cap of {max} clients; close some first"));
    }
    Ok((n as usize).min(room))
}

pub(crate) fn check_rate(rate: f64, max: f64) -> Result<f64, String> {
    if !rate.is_finite() || rate < 0.0 || rate > max {
        return Err(format!("rate must be between 0 and {max} per second"));
    }
    Ok(rate)
}

// ---- sockets -------------------------------------------------------------------------------

/// An embedded client socket.
pub(crate) struct Client {
    pub stream: TcpStream,
    pub connected: bool,
    pub since: Instant,
    /// When the scenario next does something with this client (echo: its next line).
    pub next: Instant,
    /// Bytes queued to send once connected (sent with non-blocking writes).
    pub outbox: Vec<u8>,
}

impl Client {
    fn start(addr: SocketAddr, opts: ConnectOpts, now: Instant) -> io::Result<Client> {
        Ok(Client {
            stream: net::connect(addr, opts)?,
            connected: false,
            since: now,
            next: now,
            outbox: Vec::new(),
        })
    }

    /// Advance the connect; Err when it failed (refused, timed out).
    pub fn progress(&mut self) -> io::Result<()> {
        if !self.connected {
            match net::connect_state(&self.stream) {
                ConnectState::Pending => return Ok(()),
                ConnectState::Connected => self.connected = true,
                ConnectState::Failed(e) => return Err(e),
            }
        }
        self.flush()
    }

    /// Write what the outbox holds, as far as the socket takes it.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.connected || self.outbox.is_empty() {
            return Ok(());
        }
        let n = write_some(&self.stream, &self.outbox)?;
        self.outbox.drain(..n);
        Ok(())
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.stream.local_addr().ok()
    }

    /// The events this client waits for: connect completion, or room for its outbox.
    pub fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        if !self.connected || !self.outbox.is_empty() {
            fds.push(net::pollfd(self.stream.as_raw_fd(), libc::POLLOUT));
        }
    }
}

/// A non-blocking write; WouldBlock writes nothing.
pub(crate) fn write_some(mut stream: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    match stream.write(buf) {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(e) => Err(e),
    }
}

/// What a non-blocking read found.
pub(crate) enum ReadOutcome {
    Data(usize),
    Nothing,
    Eof,
    Failed,
}

pub(crate) fn read_some(mut stream: &TcpStream, buf: &mut [u8]) -> ReadOutcome {
    match stream.read(buf) {
        Ok(0) => ReadOutcome::Eof,
        Ok(n) => ReadOutcome::Data(n),
        Err(e)
            if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted =>
        {
            ReadOutcome::Nothing
        }
        Err(_) => ReadOutcome::Failed,
    }
}

/// Accept one pending connection, non-blocking.
fn accept_one(listener: &TcpListener) -> Option<TcpStream> {
    match listener.accept() {
        Ok((s, _)) => {
            if s.set_nonblocking(true).is_err() {
                return None;
            }
            Some(s)
        }
        Err(_) => None,
    }
}

/// A server-side socket, so a closed client's server end can be found by address.
pub(crate) trait ServerConn: Send {
    fn stream(&self) -> &TcpStream;
}

impl ServerConn for TcpStream {
    fn stream(&self) -> &TcpStream {
        self
    }
}

// ---- the shared state ----------------------------------------------------------------------

/// How a scenario's shared state behaves: its caps and what its clients do.
pub(crate) struct Rules {
    pub backlog: i32,
    /// Embedded clients open at once.
    pub max_clients: usize,
    /// Clients of the opening picture (and after a reset).
    pub initial: usize,
    pub connect: ConnectOpts,
    /// Queued on each new client, sent once connected.
    pub payload: &'static [u8],
    /// A reset also empties the kernel's accept queue, for scenarios whose opening picture
    /// must not see stale connections.
    pub drain_on_reset: bool,
    /// Closing a client also closes the server's end of it.
    pub close_server_end: bool,
    /// New connections per second at most, whatever asks for them.
    pub connect_rate: f64,
}

pub(crate) struct Base<C> {
    pub listener: TcpListener,
    /// The bound address (ephemeral port resolved), where clients connect.
    pub addr: SocketAddr,
    pub accepting: bool,
    /// Accepted sockets the server holds.
    pub conns: Vec<C>,
    pub clients: Vec<Client>,
    pub accepted_total: u64,
    rules: Rules,
    budget: Budget,
}

impl<C: ServerConn> Base<C> {
    pub fn bind(addr: SocketAddr, rules: Rules) -> io::Result<Self> {
        let listener = net::listen(addr, rules.backlog)?;
        let addr = listener.local_addr()?;
        let budget = Budget::new(rules.connect_rate, rules.max_clients, Instant::now());
        Ok(Base {
            listener,
            addr,
            accepting: true,
            conns: Vec::new(),
            clients: Vec::new(),
            accepted_total: 0,
            rules,
            budget,
        })
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

    /// Advance every client; drop those whose connect failed. Returns how many were dropped.
    pub fn progress_clients(&mut self) -> usize {
        let before = self.clients.len();
        self.clients.retain_mut(|c| c.progress().is_ok());
        before - self.clients.len()
    }
}

impl<C: ServerConn> Common for Base<C> {
    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn clients_len(&self) -> usize {
        self.clients.len()
    }

    fn max_clients(&self) -> usize {
        self.rules.max_clients
    }

    fn start_clients(&mut self, n: usize, now: Instant) -> usize {
        let mut started = 0;
        while started < n && self.clients.len() < self.rules.max_clients && self.budget.take(now) {
            // A failed connect is skipped; whoever asked tries again later.
            let Ok(mut c) = Client::start(self.addr, self.rules.connect, now) else {
                break;
            };
            c.outbox.extend_from_slice(self.rules.payload);
            self.clients.push(c);
            started += 1;
        }
        started
    }

    fn start_initial(&mut self, now: Instant) {
        self.start_clients(self.rules.initial, now);
    }

    fn send_from_newest(&mut self, data: &[u8]) -> Result<String, String> {
        let Some(c) = self.clients.iter_mut().rev().find(|c| c.connected) else {
            return Err("no connected client to send from; add one first".into());
        };
        if c.outbox.len() + data.len() > MAX_OUTBOX {
            return Err(format!(
                "that client already holds {} unsent bytes; the peer is not reading",
                c.outbox.len()
            ));
        }
        c.outbox.extend_from_slice(data);
        c.flush().map_err(|e| format!("send failed: {e}"))?;
        let from = c
            .local_addr()
            .map(|a| a.port().to_string())
            .unwrap_or_else(|| "?".into());
        Ok(format!("sent {} bytes from client port {from}", data.len()))
    }

    fn close_oldest(&mut self, n: usize) -> usize {
        let k = n.min(self.clients.len());
        for c in self.clients.drain(..k) {
            if self.rules.close_server_end
                && let Some(local) = c.local_addr()
            {
                self.conns
                    .retain(|s| s.stream().peer_addr().map(|p| p != local).unwrap_or(false));
            }
        }
        k
    }

    fn set_accepting(&mut self, on: bool) -> String {
        self.accepting = on;
        if on { "accepting" } else { "not accepting" }.into()
    }

    fn reset(&mut self) {
        self.clients.clear();
        self.conns.clear();
        if self.rules.drain_on_reset {
            while accept_one(&self.listener).is_some() {}
        }
        self.accepting = true;
        self.accepted_total = 0;
    }

    fn status(&self, kind: Kind) -> ScenarioStatus {
        ScenarioStatus {
            name: kind,
            port: self.addr.port(),
            accepting: self.accepting,
            clients: self.clients.len(),
            connecting: self.clients.iter().filter(|c| !c.connected).count(),
            server_conns: self.conns.len(),
            accepted_total: self.accepted_total,
            rate: None,
            max_rate: None,
            max_clients: self.rules.max_clients,
            extra_ports: Vec::new(),
            paths: Vec::new(),
            focus: None,
        }
    }
}

/// A server socket that echoes: bytes read and not yet written back.
pub(crate) struct EchoConn {
    pub stream: TcpStream,
    pub pending: Vec<u8>,
}

impl ServerConn for EchoConn {
    fn stream(&self) -> &TcpStream {
        &self.stream
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_and_rate_are_validated() {
        assert!(check_add(0, 0, 8).is_err());
        assert_eq!(check_add(20, 2, 8), Ok(6));
        assert!(check_add(1, 8, 8).is_err());
        assert!(check_rate(-1.0, 200.0).is_err());
        assert!(check_rate(f64::NAN, 200.0).is_err());
        assert!(check_rate(201.0, 200.0).is_err());
        assert_eq!(check_rate(50.0, 200.0), Ok(50.0));
    }
}
