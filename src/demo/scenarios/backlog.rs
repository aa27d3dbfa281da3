//! The seeds' single-threaded server with `listen(1)`: it serves one client at a time and
//! accepts the next only when that one leaves. Four clients arrive one after another: the
//! first is served, two wait in the accept queue (listener Recv-Q 2, Send-Q 1) and the fourth
//! gets no SYN-ACK, so it stays in SYN-SENT while ListenOverflows counts the dropped SYNs.

use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::Base;
use super::{
    Action, Client, Kind, ReadOutcome, Scenario, ScenarioStatus, check_add, read_some,
    send_from_newest, write_some,
};
use crate::demo::net::{self, ConnectOpts};

const BACKLOG: i32 = 1;
/// The server holds one connection at a time: the one it is busy with.
const SERVING: usize = 1;
const INITIAL_CLIENTS: u32 = 4;
const MAX_CLIENTS: usize = 8;
/// The served client gets this reply to every line, as in the seed's server.
const REPLY: &[u8] = b"Hello!\r\n";
/// Few SYN retries: the client in SYN-SENT gives up after 15-20 s (measured on 6.18 with
/// tcp_syn_linear_timeouts=4: retransmits 1 s apart, then backing off) and is replaced, so
/// ListenOverflows keeps rising instead of the retransmits backing off for two minutes.
const CLIENT_OPTS: ConnectOpts = ConnectOpts {
    rcvbuf: None,
    syn_retries: Some(3),
};
/// A client whose SYNs all went unanswered is replaced, at most this often.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

pub struct Backlog {
    /// `conns` holds at most the one connection the server is busy with.
    base: Base<TcpStream>,
    /// Clients of the opening sequence still to connect, one after the other.
    staged: u32,
    /// Replacements for clients whose connect timed out, and when they may start.
    retry_at: Vec<Instant>,
}

impl Backlog {
    pub fn new(addr: SocketAddr) -> std::io::Result<Backlog> {
        Ok(Backlog {
            base: Base::bind(addr, BACKLOG)?,
            staged: INITIAL_CLIENTS,
            retry_at: Vec::new(),
        })
    }

    /// The next staged client may connect once the previous one got through and the server
    /// has taken the first: that order gives exactly "1 served, 2 queued, 1 in SYN-SENT".
    fn ready_for_next_staged(&self) -> bool {
        if self.base.clients.iter().any(|c| !c.connected) {
            return false;
        }
        !(self.base.accepting && self.base.conns.is_empty() && !self.base.clients.is_empty())
    }

    fn serve(&mut self) {
        let Some(conn) = self.base.conns.first() else {
            return;
        };
        let mut buf = [0u8; 1024];
        loop {
            match read_some(conn, &mut buf) {
                ReadOutcome::Data(_) => {
                    let _ = write_some(conn, REPLY);
                }
                ReadOutcome::Nothing => return,
                ReadOutcome::Eof | ReadOutcome::Failed => {
                    self.base.conns.clear();
                    return;
                }
            }
        }
    }
}

impl Scenario for Backlog {
    fn kind(&self) -> Kind {
        Kind::Backlog
    }

    fn port(&self) -> u16 {
        self.base.port()
    }

    fn step(&mut self, now: Instant) {
        self.serve();
        self.base.accept_pending(SERVING, |s| s);
        let mut failed = 0;
        self.base.clients.retain_mut(|c| match c.progress() {
            Ok(()) => true,
            Err(_) => {
                failed += 1;
                false
            }
        });
        // A SYN-SENT client gives up after tcp_syn_retries; keep the experiment visible.
        for _ in 0..failed {
            self.retry_at.push(now + RETRY_PAUSE);
        }
        let due = self.retry_at.iter().filter(|t| **t <= now).count();
        self.retry_at.retain(|t| *t > now);
        for _ in 0..due {
            if self.base.clients.len() < MAX_CLIENTS
                && let Ok(c) = Client::start(self.base.addr, CLIENT_OPTS, now)
            {
                self.base.clients.push(c);
            }
        }
        if self.staged > 0 && self.ready_for_next_staged() && self.base.clients.len() < MAX_CLIENTS
        {
            self.staged -= 1;
            if let Ok(c) = Client::start(self.base.addr, CLIENT_OPTS, now) {
                self.base.clients.push(c);
            }
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(SERVING, fds);
        for conn in &self.base.conns {
            fds.push(net::pollfd(conn.as_raw_fd(), libc::POLLIN));
        }
        for c in &self.base.clients {
            c.interest(fds);
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let retry = self
            .retry_at
            .iter()
            .map(|t| t.saturating_duration_since(now))
            .min();
        // While staging, look again soon: readiness of the server side is not an fd event.
        let staging = (self.staged > 0).then_some(Duration::from_millis(20));
        retry.into_iter().chain(staging).min()
    }

    fn act(&mut self, action: Action, now: Instant) -> Result<String, String> {
        match action {
            Action::Add(n) => {
                let n = check_add(n, self.base.clients.len(), MAX_CLIENTS)?;
                for _ in 0..n {
                    let c = Client::start(self.base.addr, CLIENT_OPTS, now)
                        .map_err(|e| format!("connect failed: {e}"))?;
                    self.base.clients.push(c);
                }
                Ok(format!("connecting {n} client(s)"))
            }
            Action::Send(data) => send_from_newest(&mut self.base.clients, &data),
            Action::Close(n) => {
                let k = self.base.close(n);
                Ok(format!("closed {k} client(s)"))
            }
            Action::Accepting(on) => Ok(self.base.set_accepting(on)),
            Action::Rate(_) => Err("backlog has no churn rate".into()),
            Action::Reset => {
                // Drain what the kernel already queued so the opening sequence starts clean.
                self.base.reset_base(true);
                self.retry_at.clear();
                self.staged = INITIAL_CLIENTS;
                Ok("reset".into())
            }
        }
    }

    fn status(&self) -> ScenarioStatus {
        self.base.status(Kind::Backlog, None, None, MAX_CLIENTS)
    }
}
