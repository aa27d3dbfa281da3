//! The seeds' single-threaded server with `listen(1)`: it serves one client at a time and
//! accepts the next only when that one leaves. Four clients arrive one after another: the
//! first is served, two wait in the accept queue (listener Recv-Q 2, Send-Q 1) and the fourth
//! gets no SYN-ACK, so it stays in SYN-SENT while ListenOverflows counts the dropped SYNs.

use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::{Base, DEFAULT_CONNECT_RATE, ReadOutcome, Rules, read_some, write_some};
use super::spec::{Common, Kind, Scenario, Seen, Spec, runs_anywhere, scenario_parts};
use crate::demo::net::{self, ConnectOpts};
use crate::demo::view::listener;

pub static SPEC: Spec = Spec {
    name: "backlog",
    about: "listen(1) server that accepts slowly: accept-queue overflow, SYN-SENT client",
    hint: "listener LISTEN Recv-Q 2 Send-Q 1, one served client, the 4th in SYN-SENT, \
           ListenOverflows rising",
    man: "A single-threaded server with listen(1) that accepts one client and serves it \
          slowly. Four clients connect: one is served, two wait in the accept queue (the \
          listener shows Recv-Q 2, Send-Q 1), the fourth stays in SYN-SENT because the \
          queue is full, and ListenOverflows counts up.",
    now,
    why,
    build: |addr, _| Ok(Box::new(Backlog::new(addr)?)),
    commands: &[],
    unavailable: runs_anywhere,
    tables: super::spec::TCP,
};

fn now(s: &Seen<'_>) -> String {
    let v = s.view;
    let mut line = format!(
        "{} · {} ESTAB · {} SYN-SENT",
        listener(v),
        v.server.established,
        v.client.syn_sent
    );
    if let Some(n) = s.growth.listen_overflows {
        line.push_str(&format!(" · ListenOverflows +{n}"));
    }
    line
}

fn why(s: &Seen<'_>) -> String {
    let accepting = s.status.is_none_or(|s| s.accepting);
    let (queued, limit) = match s.view.listen_q {
        Some((Some(r), Some(s))) => (r, s),
        _ => (0, 1),
    };
    if queued > limit {
        format!(
            "Recv-Q {queued} on a listener with backlog {limit}: the kernel queues \
             backlog+1 connections and drops the next SYN, so the fourth client waits \
             in SYN-SENT and retransmits (each drop counts in ListenOverflows)."
        )
    } else if !accepting {
        format!(
            "The server is not calling accept(): finished handshakes wait in the accept \
             queue (Recv-Q {queued}, limit {limit}) — connected for the client, unknown \
             to the application (inode 0)."
        )
    } else {
        format!(
            "A single-threaded server serves one client; the others wait in the accept \
             queue (Recv-Q {queued} of limit {limit}). Add clients to overflow it."
        )
    }
}

/// The server holds one connection at a time: the one it is busy with.
const SERVING: usize = 1;
const INITIAL_CLIENTS: u32 = 4;
/// The served client gets this reply to every line, as in the seed's server.
const REPLY: &[u8] = b"Hello!\r\n";
/// A client whose SYNs all went unanswered is replaced, at most this often.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

const RULES: Rules = Rules {
    backlog: 1,
    max_clients: 8,
    // The opening clients are staged one by one in `step`.
    initial: 0,
    // Few SYN retries: the client in SYN-SENT gives up after 15-20 s (retransmits 1 s apart
    // with tcp_syn_linear_timeouts, then backing off) and is replaced, so ListenOverflows
    // keeps rising instead of the retransmits backing off for two minutes.
    connect: ConnectOpts {
        rcvbuf: None,
        syn_retries: Some(3),
    },
    payload: &[],
    // Drain what the kernel already queued so the opening sequence starts clean.
    drain_on_reset: true,
    close_server_end: false,
    connect_rate: DEFAULT_CONNECT_RATE,
};

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
            base: Base::bind(addr, RULES)?,
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
    scenario_parts!();

    fn step(&mut self, now: Instant) {
        self.serve();
        self.base.accept_pending(SERVING, |s| s);
        let failed = self.base.progress_clients();
        // A SYN-SENT client gives up after tcp_syn_retries; keep the experiment visible.
        for _ in 0..failed {
            self.retry_at.push(now + RETRY_PAUSE);
        }
        let due = self.retry_at.iter().filter(|t| **t <= now).count();
        self.retry_at.retain(|t| *t > now);
        self.base.start_clients(due, now);
        if self.staged > 0
            && self.ready_for_next_staged()
            && self.base.clients.len() < RULES.max_clients
        {
            self.staged -= 1;
            self.base.start_clients(1, now);
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

    fn restart(&mut self, _now: Instant) -> Result<String, String> {
        self.retry_at.clear();
        self.staged = INITIAL_CLIENTS;
        Ok("reset".into())
    }
}
