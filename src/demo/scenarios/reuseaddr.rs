//! A server restarted while its old connections sit in TIME-WAIT. The server closes each
//! connection first, so the TIME-WAIT sockets are on its own port; every `RESTART_EVERY` (or
//! on `restart`) it closes its listener and binds the port again: without SO_REUSEADDR the
//! bind fails with EADDRINUSE, with it the bind succeeds.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use super::common::{Base, DEFAULT_CONNECT_RATE, ReadOutcome, Rules, read_some};
use super::pacer::Pacer;
use super::spec::{Command, Common, Kind, Scenario, Seen, Spec, runs_anywhere, scenario_parts};
use crate::demo::net::{self, ConnectOpts};
use crate::demo::view::listener;

pub static SPEC: Spec = Spec {
    name: "reuseaddr",
    about: "A restarted server: bind fails with EADDRINUSE without SO_REUSEADDR",
    hint: "server-side TIME-WAIT holds the port: bind() without SO_REUSEADDR fails \
           (EADDRINUSE), with it succeeds; `do reuseaddr restart`",
    man: "A server that closes each connection first, so TIME-WAIT sockets (60 s) sit on \
          its own port. Every 15 s it restarts: it closes its listener and binds the port \
          again, first without SO_REUSEADDR, which fails with EADDRINUSE while a TIME-WAIT \
          socket holds the port, then with it, which succeeds.",
    now,
    why,
    build: |addr, _| Ok(Box::new(ReuseAddr::new(addr)?)),
    commands: &[Command {
        name: "restart",
        help: "restart the server now; the reply says what each bind() returned",
    }],
    unavailable: runs_anywhere,
    tables: super::spec::TCP,
};

fn now(s: &Seen<'_>) -> String {
    format!(
        "{} · {} TIME-WAIT on the server's port",
        listener(s.view),
        s.view.server.time_wait
    )
}

fn why(s: &Seen<'_>) -> String {
    format!(
        "{} TIME-WAIT sockets keep the server's port: the server closed first. A restarted \
         server's bind() without SO_REUSEADDR fails with EADDRINUSE until the last one \
         expires (60 s); with SO_REUSEADDR the kernel lets a listener share the port with \
         TIME-WAIT.",
        s.view.server.time_wait
    )
}

/// How often the server restarts by itself.
const RESTART_EVERY: Duration = Duration::from_secs(15);
/// New connections per second (each leaves one TIME-WAIT for 60 s: at most ~60 at once).
const DEFAULT_RATE: f64 = 1.0;
const MAX_RATE: f64 = 5.0;
/// A client that has not seen the server's close by then is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

const RULES: Rules = Rules {
    backlog: 16,
    max_clients: 8,
    initial: 1,
    connect: ConnectOpts {
        rcvbuf: None,
        syn_retries: Some(2),
    },
    payload: b"",
    drain_on_reset: true,
    close_server_end: true,
    connect_rate: DEFAULT_CONNECT_RATE,
};

pub struct ReuseAddr {
    base: Base<std::net::TcpStream>,
    pacer: Pacer,
    next_restart: Instant,
}

/// bind() on `addr` without SO_REUSEADDR, closed at once.
fn plain_bind(addr: SocketAddr) -> io::Result<()> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.bind(&addr.into())
}

impl ReuseAddr {
    pub fn new(addr: SocketAddr) -> io::Result<ReuseAddr> {
        let now = Instant::now();
        let mut base = Base::bind(addr, RULES)?;
        base.start_initial(now);
        Ok(ReuseAddr {
            base,
            pacer: Pacer::new(DEFAULT_RATE, MAX_RATE, now),
            next_restart: now + RESTART_EVERY,
        })
    }

    /// Close the listener, bind without SO_REUSEADDR, then with it; say what each did.
    fn restart_server(&mut self, now: Instant) -> Result<String, String> {
        self.next_restart = now + RESTART_EVERY;
        let addr = self.base.addr;
        // The old listener must be closed for the restart to mean anything: a stand-in on
        // an ephemeral port takes its place for the moment.
        let stand_in = net::listen(SocketAddr::new(addr.ip(), 0), 1)
            .map_err(|e| format!("cannot restart: {e}"))?;
        drop(std::mem::replace(&mut self.base.listener, stand_in));
        self.base.conns.clear();
        let tw = "TIME-WAIT sockets on the port";
        let first = match plain_bind(addr) {
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => {
                format!("bind() without SO_REUSEADDR: EADDRINUSE ({tw})")
            }
            Err(e) => format!("bind() without SO_REUSEADDR: {e}"),
            Ok(()) => "bind() without SO_REUSEADDR: succeeded (no TIME-WAIT held the port yet)"
                .to_string(),
        };
        match net::listen(addr, RULES.backlog) {
            Ok(l) => {
                self.base.listener = l;
                Ok(format!(
                    "{first}; with SO_REUSEADDR: bound, listening again"
                ))
            }
            Err(e) => Err(format!(
                "{first}; with SO_REUSEADDR: {e} (the server is down until the next restart)"
            )),
        }
    }

    fn listening(&self) -> bool {
        self.base.listener.local_addr().ok().map(|a| a.port()) == Some(self.base.addr.port())
    }

    fn listener(&self) -> &TcpListener {
        &self.base.listener
    }
}

impl Scenario for ReuseAddr {
    scenario_parts!(paced);

    fn step(&mut self, now: Instant) {
        if self.listening() {
            self.base.accept_pending(RULES.max_clients, |s| s);
        }
        // The server closes first: its end goes to TIME-WAIT, on its own port.
        self.base.conns.clear();
        let mut buf = [0u8; 64];
        self.base.clients.retain_mut(|c| {
            if c.progress().is_err() || now.duration_since(c.since) > CLIENT_TIMEOUT {
                return false;
            }
            !(c.connected && matches!(read_some(&c.stream, &mut buf), ReadOutcome::Eof))
        });
        if self.pacer.due(now) {
            self.base.start_clients(1, now);
        }
        if now >= self.next_restart {
            let _ = self.restart_server(now);
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        if self.listening() {
            fds.push(net::pollfd(self.listener().as_raw_fd(), libc::POLLIN));
        }
        for c in &self.base.clients {
            if c.connected {
                fds.push(net::pollfd(c.stream.as_raw_fd(), libc::POLLIN));
            } else {
                c.interest(fds);
            }
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let restart = self.next_restart.saturating_duration_since(now);
        Some(
            self.pacer
                .until_due(now)
                .map_or(restart, |p| p.min(restart)),
        )
    }

    fn rate_message(&self, rate: f64) -> String {
        format!("{rate} connections/s, each leaving a server-side TIME-WAIT for 60 s")
    }

    fn command(&mut self, name: &str, now: Instant) -> Result<String, String> {
        match name {
            "restart" => self.restart_server(now),
            _ => Err(format!("reuseaddr has no command {name}")),
        }
    }
}
