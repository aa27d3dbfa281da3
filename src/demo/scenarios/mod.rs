//! The six classic experiments. Each scenario owns one listener and its embedded clients and
//! is driven by one thread (see `runtime`): `step` does every non-blocking thing that can be
//! done now, `interest` says which descriptors to wait on, `act` applies a control action.

mod backlog;
mod close_wait;
mod common;
mod echo;
mod send_q;
mod time_wait;
mod unread;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::net::{self, ConnectOpts, ConnectState};
use crate::cli::ScenarioArg;

/// The seeds' `telnet` line: 8 bytes, so Recv-Q reads 8.
pub const HELLO: &[u8] = b"hello!\r\n";

/// Largest payload of one `send` action.
pub const MAX_SEND: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Backlog,
    Unread,
    CloseWait,
    TimeWait,
    SendQ,
    Echo,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Backlog,
        Kind::Unread,
        Kind::CloseWait,
        Kind::TimeWait,
        Kind::SendQ,
        Kind::Echo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Backlog => "backlog",
            Kind::Unread => "unread",
            Kind::CloseWait => "close-wait",
            Kind::TimeWait => "time-wait",
            Kind::SendQ => "send-q",
            Kind::Echo => "echo",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// What to look for, in one line (headless output, README).
    pub fn hint(self) -> &'static str {
        match self {
            Kind::Backlog => {
                "listener LISTEN Recv-Q 2 Send-Q 1, one served client, the 4th in SYN-SENT, \
                 ListenOverflows rising"
            }
            Kind::Unread => "server socket ESTAB with Recv-Q 8 (hello!\\r\\n never read)",
            Kind::CloseWait => "server sockets pile up in CLOSE-WAIT, clients in FIN-WAIT-2 (60 s)",
            Kind::TimeWait => "TIME-WAIT on the client side climbing to rate x 60 s",
            Kind::SendQ => "server Send-Q and client Recv-Q grow until the window closes",
            Kind::Echo => "healthy baseline: queues at 0, clients come and go",
        }
    }
}

impl From<ScenarioArg> for Kind {
    fn from(a: ScenarioArg) -> Kind {
        match a {
            ScenarioArg::Backlog => Kind::Backlog,
            ScenarioArg::Unread => Kind::Unread,
            ScenarioArg::CloseWait => Kind::CloseWait,
            ScenarioArg::TimeWait => Kind::TimeWait,
            ScenarioArg::SendQ => Kind::SendQ,
            ScenarioArg::Echo => Kind::Echo,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated control action for one scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Connect N more embedded clients.
    Add(u32),
    /// The newest connected client sends these bytes.
    Send(Vec<u8>),
    /// Close the N oldest clients.
    Close(u32),
    /// Pause (false) or resume (true) accepting.
    Accepting(bool),
    /// New churn rate in connections per second.
    Rate(f64),
    /// Close everything and start the scenario over.
    Reset,
}

/// What a scenario reports in `status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioStatus {
    pub name: Kind,
    pub port: u16,
    /// Whether the server calls accept().
    pub accepting: bool,
    /// Embedded client sockets open (connected or still connecting).
    pub clients: usize,
    /// Of those, still connecting (SYN-SENT).
    pub connecting: usize,
    /// Accepted sockets the server holds open.
    pub server_conns: usize,
    /// Connections accepted since start or reset.
    pub accepted_total: u64,
    /// Churn rate (connections per second) for scenarios that have one.
    pub rate: Option<f64>,
    /// Highest accepted rate for `rate`, when the scenario has one.
    pub max_rate: Option<f64>,
    /// Hard cap on embedded clients.
    pub max_clients: usize,
}

pub trait Scenario: Send {
    fn kind(&self) -> Kind;
    fn port(&self) -> u16;
    /// Do everything that can be done now without blocking.
    fn step(&mut self, now: Instant);
    /// Descriptors to wait on until the next step.
    fn interest(&self, fds: &mut Vec<libc::pollfd>);
    /// How long until a timer of the scenario is due (None: nothing scheduled).
    fn next_due(&self, now: Instant) -> Option<Duration>;
    /// Apply an action; Ok carries a short description of what was done.
    fn act(&mut self, action: Action, now: Instant) -> Result<String, String>;
    fn status(&self) -> ScenarioStatus;
}

/// Options that shape scenarios at start.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// TIME-WAIT churn rate (per second).
    pub time_wait_rate: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            time_wait_rate: time_wait::DEFAULT_RATE,
        }
    }
}

/// Highest rate the time-wait scenario accepts.
pub const MAX_TIME_WAIT_RATE: f64 = time_wait::MAX_RATE;

/// Bind the scenario's listener on `addr` and build it.
pub fn create(kind: Kind, addr: SocketAddr, opts: &Options) -> io::Result<Box<dyn Scenario>> {
    Ok(match kind {
        Kind::Backlog => Box::new(backlog::Backlog::new(addr)?),
        Kind::Unread => Box::new(unread::Unread::new(addr)?),
        Kind::CloseWait => Box::new(close_wait::CloseWait::new(addr)?),
        Kind::TimeWait => Box::new(time_wait::TimeWait::new(addr, opts.time_wait_rate)?),
        Kind::SendQ => Box::new(send_q::SendQ::new(addr)?),
        Kind::Echo => Box::new(echo::Echo::new(addr)?),
    })
}

// ---- shared pieces -------------------------------------------------------------------------

/// An embedded client socket.
pub(crate) struct Client {
    pub stream: TcpStream,
    pub connected: bool,
    pub since: Instant,
    /// Bytes queued to send once connected (sent with non-blocking writes).
    pub outbox: Vec<u8>,
}

impl Client {
    pub fn start(addr: SocketAddr, opts: ConnectOpts, now: Instant) -> io::Result<Client> {
        Ok(Client {
            stream: net::connect(addr, opts)?,
            connected: false,
            since: now,
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
pub(crate) fn accept_one(listener: &TcpListener) -> Option<TcpStream> {
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

/// The newest connected client sends `data`.
pub(crate) fn send_from_newest(clients: &mut [Client], data: &[u8]) -> Result<String, String> {
    let Some(c) = clients.iter_mut().rev().find(|c| c.connected) else {
        return Err("no connected client to send from; add one first".into());
    };
    c.outbox.extend_from_slice(data);
    c.flush().map_err(|e| format!("send failed: {e}"))?;
    let from = c
        .local_addr()
        .map(|a| a.port().to_string())
        .unwrap_or_else(|| "?".into());
    Ok(format!("sent {} bytes from client port {from}", data.len()))
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

/// A steady schedule of events at `rate` per second, without bursts after a pause.
pub(crate) struct Pacer {
    pub rate: f64,
    next: Instant,
}

impl Pacer {
    pub fn new(rate: f64, now: Instant) -> Pacer {
        Pacer { rate, next: now }
    }

    pub fn set_rate(&mut self, rate: f64, now: Instant) {
        self.rate = rate;
        self.next = now;
    }

    fn interval(&self) -> Option<Duration> {
        (self.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / self.rate))
    }

    /// True when an event is due now; schedules the next one.
    pub fn due(&mut self, now: Instant) -> bool {
        let Some(step) = self.interval() else {
            return false;
        };
        if now < self.next {
            return false;
        }
        // Late by more than one interval (paused, busy): restart from now, no burst.
        self.next = if now.duration_since(self.next) > step {
            now + step
        } else {
            self.next + step
        };
        true
    }

    pub fn until_due(&self, now: Instant) -> Option<Duration> {
        self.interval()?;
        Some(self.next.saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(Kind::parse("nope"), None);
    }

    #[test]
    fn pacer_keeps_rate_and_never_bursts() {
        let t0 = Instant::now();
        let mut p = Pacer::new(10.0, t0);
        assert!(p.due(t0));
        assert!(!p.due(t0 + Duration::from_millis(50)));
        assert!(p.due(t0 + Duration::from_millis(100)));
        // A long pause yields one event, not a burst.
        let later = t0 + Duration::from_secs(5);
        assert!(p.due(later));
        assert!(!p.due(later));
        p.set_rate(0.0, later);
        assert!(!p.due(later + Duration::from_secs(10)));
        assert_eq!(p.until_due(later), None);
    }

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
