//! The guided tour: one connection pair walked through every TCP transition, a step per `n`
//! in attach (`{"cmd":"do","scenario":"tour","action":"next"}`). Each step makes one call
//! (or lets one segment through) and holds the result, so both ends can be watched in ss:
//! the listener is listen(1) with TCP_DEFER_ACCEPT and small buffers, so a full queue holds
//! SYN-SENT, a silent client holds SYN-RECV, and a peer that does not read holds a FIN
//! behind data (FIN-WAIT-1, LAST-ACK). A second pair shows the simultaneous close (CLOSING).

use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::{Base, HELLO, Rules, write_some};
use super::spec::{
    Command, Common, Focus, Kind, Scenario, Seen, Spec, runs_anywhere, scenario_parts,
};
use super::states::recipe::{fill, see_eof};
use super::states::sockopt::{abort_on_close, set_int};
use crate::demo::net::{self, ConnectOpts, ConnectState};
use crate::demo::view::listener;

pub static SPEC: Spec = Spec {
    name: "tour",
    about: "A guided tour: one connection pair through every TCP transition, a step per n",
    hint: "press n in attach (or `do tour next`): one pair walks LISTEN → SYN-SENT → SYN-RECV → \
           ESTAB → FIN-WAIT-1 → FIN-WAIT-2/CLOSE-WAIT → LAST-ACK → TIME-WAIT, then CLOSING",
    man: "One connection pair walked through every TCP transition, one step per next command \
          (n in attach), each step held so both ends can be watched: listen(1) with \
          TCP_DEFER_ACCEPT (LISTEN; two other connections fill its queue); connect() (the \
          client's SYN is dropped: SYN-SENT); accept() empties the queue (at the next SYN \
          retransmission the client is ESTAB and the server holds SYN-RECV, the ACK having \
          no data); write() (the deferred handshake completes: ESTAB on both ends); the \
          client fills the server's window and calls shutdown(SHUT_WR) (FIN-WAIT-1); the \
          server reads (CLOSE-WAIT and FIN-WAIT-2); the server fills the client's window and \
          shuts down (LAST-ACK); the client reads (TIME-WAIT; the server's end CLOSED). A \
          second pair then closes at both ends at once (CLOSING, then TIME-WAIT on both). \
          status reports the step and the pair's ports (focus).",
    now,
    why,
    build: |addr, _| Ok(Box::new(Tour::new(addr)?)),
    commands: &[
        Command {
            name: "next",
            help: "the next step of the tour (it starts over after the last)",
        },
        Command {
            name: "step",
            help: "what the current step did and what the two ends show",
        },
    ],
    unavailable: runs_anywhere,
    tables: super::spec::TCP,
};

fn now(s: &Seen<'_>) -> String {
    match s.status.and_then(|st| st.focus.as_ref()) {
        Some(f) => format!(
            "step {}/{}: client {} · server {} · {}",
            f.step,
            f.steps,
            f.client_state,
            f.server_state,
            listener(s.view)
        ),
        None => format!("{} · press n for the next step", listener(s.view)),
    }
}

fn why(s: &Seen<'_>) -> String {
    match s.status.and_then(|st| st.focus.as_ref()) {
        Some(f) => f.says.clone(),
        None => "n moves the tour's connection one transition on.".into(),
    }
}

/// What each step does, what the two ends show after it, and why.
struct Step {
    client: &'static str,
    server: &'static str,
    says: &'static str,
}

const STEPS: &[Step] = &[
    Step {
        client: "CLOSED",
        server: "LISTEN",
        says: "socket(), bind(), listen(1) with TCP_DEFER_ACCEPT: the server's socket is \
               LISTEN. Two other clients have filled its accept queue (listen(1) holds two). \
               The tour's client does not exist yet: CLOSED.",
    },
    Step {
        client: "SYN-SENT",
        server: "LISTEN",
        says: "connect(): the client sends a SYN and is SYN-SENT. The accept queue is full, so \
               the server drops the SYN (ListenOverflows +1); the client will retransmit it \
               after 1, 3, 7, 15 s.",
    },
    Step {
        client: "ESTAB",
        server: "SYN-RECV",
        says: "accept() twice empties the queue. At the client's next SYN retransmission: \
               SYN, the server's SYN-ACK (its request is SYN-RECV), the client's ACK (client \
               ESTAB). The ACK carries no data, so TCP_DEFER_ACCEPT keeps the server's side \
               in SYN-RECV.",
    },
    Step {
        client: "ESTAB",
        server: "ESTAB",
        says: "write(): the client's first data completes the deferred handshake; the server's \
               socket is ESTAB and accept() returns it. Both ends ESTAB.",
    },
    Step {
        client: "FIN-WAIT-1",
        server: "ESTAB",
        says: "the client write()s until the server's window is full (the server does not \
               read), then shutdown(SHUT_WR): its FIN is queued behind the unsent data: \
               FIN-WAIT-1, Send-Q the data still waiting.",
    },
    Step {
        client: "FIN-WAIT-2",
        server: "CLOSE-WAIT",
        says: "the server read()s: its window opens, the data and then the client's FIN \
               arrive; the server's kernel ACKs the FIN. Server CLOSE-WAIT (until the \
               application closes), client FIN-WAIT-2 (its FIN acknowledged).",
    },
    Step {
        client: "FIN-WAIT-2",
        server: "LAST-ACK",
        says: "the server write()s a reply the client does not read until the client's window \
               is full, then shutdown(SHUT_WR): its FIN waits behind the data: LAST-ACK.",
    },
    Step {
        client: "TIME-WAIT",
        server: "CLOSED",
        says: "the client read()s: the data and the server's FIN arrive, the client ACKs it \
               and waits in TIME-WAIT (60 s on Linux); that ACK moves the server's end from \
               LAST-ACK to CLOSED: it is gone.",
    },
    Step {
        client: "ESTAB",
        server: "ESTAB",
        says: "a second pair, for the transition left (the simultaneous close): connect(), \
               write(), accept(): both ESTAB.",
    },
    Step {
        client: "CLOSING",
        server: "FIN-WAIT-2",
        says: "both close at once: the client's FIN waits behind data the server does not read \
               (FIN-WAIT-1) when the server's shutdown(SHUT_WR) sends its FIN; the client ACKs \
               it but its own FIN is unacknowledged: CLOSING. The server, its FIN ACKed, is \
               FIN-WAIT-2.",
    },
    Step {
        client: "TIME-WAIT",
        server: "TIME-WAIT",
        says: "the server read()s: the client's data and FIN arrive, the server ACKs: \
               TIME-WAIT; that ACK moves the client from CLOSING to TIME-WAIT too. Both ends \
               wait 60 s; next starts the tour over.",
    },
];

/// Receive buffer of the end that stops reading, send buffer of the end that fills it.
const SMALL_BUF: u32 = 4096;
/// TCP_DEFER_ACCEPT in seconds: the server keeps an acked request this long.
const DEFER_ACCEPT_SECS: i32 = 600;

const RULES: Rules = Rules {
    backlog: 1,
    max_clients: 0,
    initial: 0,
    connect: ConnectOpts {
        rcvbuf: None,
        syn_retries: None,
    },
    payload: b"",
    drain_on_reset: true,
    close_server_end: false,
    connect_rate: 1.0,
};

/// What the current step keeps doing until its result is reached.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Work {
    Idle,
    /// Fillers: write once connected, so they pass TCP_DEFER_ACCEPT into the queue.
    Fillers,
    /// The client writes its first data once connected; then the server accepts.
    Handshake,
    /// Fill the peer's window; `then_shut`: shutdown(SHUT_WR) after; `server_shut_after`:
    /// the server shuts down too (the simultaneous close).
    ClientFill {
        filled: bool,
        server_shut_after: bool,
    },
    ServerReadToEof,
    ServerFill {
        filled: bool,
    },
    ClientReadToEof,
}

pub struct Tour {
    base: Base<TcpStream>,
    /// Index into `STEPS` of the step shown.
    step: usize,
    client: Option<TcpStream>,
    server: Option<TcpStream>,
    fillers: Vec<TcpStream>,
    work: Work,
    /// The pair's client port, also once its fd is gone (its TIME-WAIT keeps the port).
    last_client_port: Option<u16>,
}

fn small(s: &TcpStream) {
    let _ = net::set_sndbuf(s, SMALL_BUF);
}

fn connected(s: &TcpStream) -> bool {
    matches!(net::connect_state(s), ConnectState::Connected)
}

impl Tour {
    pub fn new(addr: SocketAddr) -> io::Result<Tour> {
        let base = Base::bind(addr, RULES)?;
        let fd = base.listener.as_raw_fd();
        set_int(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            DEFER_ACCEPT_SECS,
        )?;
        // Inherited by the accepted socket: its window fills after a few KiB.
        socket2::SockRef::from(&base.listener).set_recv_buffer_size(SMALL_BUF as usize)?;
        let mut t = Tour {
            base,
            step: 0,
            client: None,
            server: None,
            fillers: Vec::new(),
            work: Work::Idle,
            last_client_port: None,
        };
        t.enter(0)?;
        Ok(t)
    }

    fn connect(&self) -> io::Result<TcpStream> {
        net::connect(
            self.base.addr,
            ConnectOpts {
                rcvbuf: Some(SMALL_BUF),
                syn_retries: None,
            },
        )
    }

    fn drop_all(&mut self) {
        for s in self
            .client
            .iter()
            .chain(self.server.iter())
            .chain(self.fillers.iter())
        {
            abort_on_close(s);
        }
        self.client = None;
        self.server = None;
        self.fillers.clear();
        while let Ok((s, _)) = self.base.listener.accept() {
            abort_on_close(&s);
        }
    }

    /// Make step `i`'s call. Err: the step cannot be taken now (the reason, for the reply).
    fn enter(&mut self, i: usize) -> io::Result<()> {
        match i {
            0 => {
                self.drop_all();
                self.last_client_port = None;
                for _ in 0..2 {
                    self.fillers.push(self.connect()?);
                }
                self.work = Work::Fillers;
            }
            1 => {
                self.client = Some(self.connect()?);
                self.last_client_port = self.client_port();
                self.work = Work::Idle;
            }
            2 => {
                // The fillers reached the queue when their data arrived; let them go.
                while let Ok((s, _)) = self.base.listener.accept() {
                    abort_on_close(&s);
                }
                for f in self.fillers.drain(..) {
                    abort_on_close(&f);
                }
                self.work = Work::Idle;
            }
            3 => {
                let Some(c) = &self.client else {
                    return Err(io::Error::other("the tour lost its client; reset it"));
                };
                if !connected(c) {
                    return Err(io::Error::other(
                        "the client is still SYN-SENT, waiting for its next SYN retransmission; \
                         press n again in a moment",
                    ));
                }
                write_some(c, HELLO)?;
                self.work = Work::Handshake;
            }
            4 => {
                if self.server.is_none() {
                    return Err(io::Error::other(
                        "accept() has not returned the server's socket yet; press n again",
                    ));
                }
                if let Some(c) = &self.client {
                    small(c);
                }
                self.work = Work::ClientFill {
                    filled: false,
                    server_shut_after: false,
                };
            }
            5 => self.work = Work::ServerReadToEof,
            6 => {
                if let Some(s) = &self.server {
                    small(s);
                }
                self.work = Work::ServerFill { filled: false };
            }
            7 => self.work = Work::ClientReadToEof,
            8 => {
                self.client = Some(self.connect()?);
                self.last_client_port = self.client_port();
                self.server = None;
                self.work = Work::Handshake;
            }
            9 => {
                if self.server.is_none() {
                    return Err(io::Error::other(
                        "the second pair is not connected yet; press n again",
                    ));
                }
                if let Some(c) = &self.client {
                    small(c);
                }
                self.work = Work::ClientFill {
                    filled: false,
                    server_shut_after: true,
                };
            }
            10 => self.work = Work::ServerReadToEof,
            _ => {}
        }
        self.step = i;
        Ok(())
    }

    /// Keep the current step's work going (non-blocking). Err: the pair broke.
    fn work(&mut self) -> io::Result<()> {
        match self.work {
            Work::Idle => {}
            Work::Fillers => {
                let mut all = true;
                for f in &self.fillers {
                    if connected(f) {
                        write_some(f, HELLO)?;
                    } else {
                        all = false;
                    }
                }
                if all {
                    self.work = Work::Idle;
                }
            }
            Work::Handshake => {
                if let Some(c) = &self.client
                    && self.step == 8
                    && connected(c)
                {
                    // The second pair: its first data passes TCP_DEFER_ACCEPT.
                    write_some(c, HELLO)?;
                }
                if let Ok((s, _)) = self.base.listener.accept() {
                    s.set_nonblocking(true)?;
                    // The client's line is read, so only what the steps write waits.
                    see_eof(&s)?;
                    self.server = Some(s);
                    self.work = Work::Idle;
                }
            }
            Work::ClientFill {
                filled,
                server_shut_after,
            } => {
                let Some(c) = &self.client else {
                    return Ok(());
                };
                let wrote = fill(c)?;
                if !wrote && filled {
                    c.shutdown(Shutdown::Write)?;
                    if server_shut_after && let Some(s) = &self.server {
                        s.shutdown(Shutdown::Write)?;
                    }
                    self.work = Work::Idle;
                } else {
                    self.work = Work::ClientFill {
                        filled: true,
                        server_shut_after,
                    };
                }
            }
            Work::ServerReadToEof => {
                if let Some(s) = &self.server
                    && see_eof(s)?
                {
                    self.work = Work::Idle;
                    if self.step == 10 {
                        self.client = None;
                        self.server = None;
                    }
                }
            }
            Work::ServerFill { filled } => {
                let Some(s) = &self.server else {
                    return Ok(());
                };
                let wrote = fill(s)?;
                if !wrote && filled {
                    s.shutdown(Shutdown::Write)?;
                    self.work = Work::Idle;
                } else {
                    self.work = Work::ServerFill { filled: true };
                }
            }
            Work::ClientReadToEof => {
                if let Some(c) = &self.client
                    && see_eof(c)?
                {
                    // The client's end is TIME-WAIT in the kernel; the fds can go.
                    self.client = None;
                    self.server = None;
                    self.work = Work::Idle;
                }
            }
        }
        Ok(())
    }

    fn client_port(&self) -> Option<u16> {
        self.client
            .as_ref()
            .and_then(|c| c.local_addr().ok())
            .map(|a| a.port())
    }

    fn pair(&self) -> Focus {
        let step = &STEPS[self.step.min(STEPS.len() - 1)];
        Focus {
            step: self.step + 1,
            steps: STEPS.len(),
            client_state: step.client.into(),
            server_state: step.server.into(),
            says: step.says.into(),
            server_port: self.base.addr.port(),
            client_port: self.client_port().or(self.last_client_port),
        }
    }

    fn next(&mut self) -> Result<String, String> {
        let i = (self.step + 1) % STEPS.len();
        match self.enter(i) {
            Ok(()) => {
                let f = self.pair();
                Ok(format!(
                    "step {}/{}: client {}, server {}: {}",
                    f.step, f.steps, f.client_state, f.server_state, f.says
                ))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

impl Scenario for Tour {
    scenario_parts!();

    fn step(&mut self, _now: Instant) {
        if self.work().is_err() {
            // A reset or a timeout broke the pair: start over rather than show a wrong state.
            let _ = self.enter(0);
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        // Held states leave sockets readable (unread data) and writable for good, so only
        // what the current step waits for is polled; the rest is paced by `next_due`.
        match self.work {
            Work::Fillers => {
                for f in &self.fillers {
                    fds.push(net::pollfd(f.as_raw_fd(), libc::POLLOUT));
                }
            }
            Work::Handshake => {
                fds.push(net::pollfd(self.base.listener.as_raw_fd(), libc::POLLIN));
            }
            _ => {}
        }
    }

    fn next_due(&self, _now: Instant) -> Option<Duration> {
        // Fills end on a second try that writes nothing; retransmissions arrive on timers.
        (self.work != Work::Idle).then_some(Duration::from_millis(50))
    }

    fn add(&mut self, _n: usize, _now: Instant) -> Result<String, String> {
        Err("the tour has one pair; next (n in attach) moves it on".into())
    }

    fn send(&mut self, _data: &[u8]) -> Result<String, String> {
        Err("the tour writes what its steps need; next (n in attach) moves it on".into())
    }

    fn close(&mut self, _n: usize) -> String {
        "the tour closes its pair itself; next (n in attach) moves it on".into()
    }

    fn command(&mut self, name: &str, _now: Instant) -> Result<String, String> {
        match name {
            "next" => self.next(),
            "step" => {
                let f = self.pair();
                Ok(format!(
                    "step {}/{}: client {}, server {}: {}",
                    f.step, f.steps, f.client_state, f.server_state, f.says
                ))
            }
            _ => Err(format!("tour has no command {name}")),
        }
    }

    fn focus(&self) -> Option<Focus> {
        Some(self.pair())
    }

    fn restart(&mut self, _now: Instant) -> Result<String, String> {
        self.enter(0).map_err(|e| e.to_string())?;
        Ok("reset: the tour is back at its first step".into())
    }
}
