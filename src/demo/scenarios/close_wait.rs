//! A server that forgets `close()`: it reads each request to the end (the peer's FIN) and
//! then keeps the socket. Clients send a line and close after a moment; the server's
//! sockets stay in CLOSE-WAIT for as long as the process lives, the clients' orphans sit in
//! FIN-WAIT-2 until tcp_fin_timeout (60 s). New clients trickle in, so the leak grows — up
//! to a hard cap.

use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::{Base, DEFAULT_CONNECT_RATE, ReadOutcome, Rules, ServerConn, read_some};
use super::pacer::Pacer;
use super::spec::{AT_RATE_CAP, Common, Kind, Scenario, Seen, Spec, runs_anywhere, scenario_parts};
use crate::demo::net::{self, ConnectOpts};
use crate::demo::view::listener;

pub static SPEC: Spec = Spec {
    name: "close-wait",
    about: "A server that forgets close(): CLOSE-WAIT leak, FIN-WAIT-2 clients",
    hint: "server sockets pile up in CLOSE-WAIT, clients in FIN-WAIT-2 (60 s)",
    man: "A server that forgets close(): clients close, the server's sockets stay in \
          CLOSE-WAIT and the clients sit in FIN-WAIT-2 until they time out. New clients \
          keep arriving slowly, so the leak grows.",
    now,
    why,
    build: |addr, _| Ok(Box::new(CloseWait::new(addr)?)),
    commands: &[],
    unavailable: runs_anywhere,
    tables: super::spec::TCP,
};

fn now(s: &Seen<'_>) -> String {
    format!(
        "{} · {} CLOSE-WAIT · {} FIN-WAIT (clients)",
        listener(s.view),
        s.view.server.close_wait,
        s.view.client.fin_wait
    )
}

fn why(s: &Seen<'_>) -> String {
    format!(
        "{} CLOSE-WAIT: the clients closed (their FIN arrived) but the server never calls \
         close(), so each socket waits forever; the clients' halves give up after \
         tcp_fin_timeout (60 s) in FIN-WAIT-2.",
        s.view.server.close_wait
    )
}

/// Leaked server sockets: the trickle stops here.
const MAX_LEAKED: usize = 64;
pub const DEFAULT_RATE: f64 = 0.2;
pub const MAX_RATE: f64 = 2.0;
/// How long a client stays before closing.
const CLIENT_LIFETIME: Duration = Duration::from_secs(1);

const RULES: Rules = Rules {
    backlog: 16,
    // Open client sockets at once.
    max_clients: 16,
    // The pacer's first event is due at once; it brings the second client.
    initial: 1,
    connect: ConnectOpts {
        rcvbuf: None,
        syn_retries: None,
    },
    payload: b"GET / HTTP/1.0\r\n\r\n",
    drain_on_reset: true,
    close_server_end: false,
    // Adds come on top of the trickle; MAX_LEAKED bounds the total anyway.
    connect_rate: DEFAULT_CONNECT_RATE,
};

struct Conn {
    stream: TcpStream,
    /// The peer closed and the server (wrongly) did nothing about it.
    leaked: bool,
}

impl ServerConn for Conn {
    fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

pub struct CloseWait {
    base: Base<Conn>,
    pacer: Pacer,
}

impl CloseWait {
    pub fn new(addr: SocketAddr) -> std::io::Result<CloseWait> {
        let now = Instant::now();
        let mut base = Base::bind(addr, RULES)?;
        base.start_initial(now);
        Ok(CloseWait {
            base,
            pacer: Pacer::new(DEFAULT_RATE, MAX_RATE, now),
        })
    }

    /// How many more clients fit under the cap on leaked sockets.
    fn room(&self) -> usize {
        MAX_LEAKED.saturating_sub(self.base.conns.len() + self.base.clients.len())
    }
}

impl Scenario for CloseWait {
    scenario_parts!(paced);

    fn step(&mut self, now: Instant) {
        self.base.accept_pending(MAX_LEAKED, |stream| Conn {
            stream,
            leaked: false,
        });
        let mut buf = [0u8; 1024];
        for conn in self.base.conns.iter_mut().filter(|c| !c.leaked) {
            loop {
                match read_some(&conn.stream, &mut buf) {
                    ReadOutcome::Data(_) => continue,
                    ReadOutcome::Nothing => break,
                    // The bug on purpose: end of request seen, close() forgotten.
                    ReadOutcome::Eof | ReadOutcome::Failed => {
                        conn.leaked = true;
                        break;
                    }
                }
            }
        }
        self.base.clients.retain_mut(|c| {
            c.progress().is_ok()
                && !(c.connected && c.outbox.is_empty() && now - c.since >= CLIENT_LIFETIME)
        });
        if self.pacer.due(now) && self.room() > 0 {
            self.base.start_clients(1, now);
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(MAX_LEAKED, fds);
        for c in self.base.conns.iter().filter(|c| !c.leaked) {
            fds.push(net::pollfd(c.stream.as_raw_fd(), libc::POLLIN));
        }
        for c in &self.base.clients {
            c.interest(fds);
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let closing = self
            .base
            .clients
            .iter()
            .filter(|c| c.connected)
            .map(|c| (c.since + CLIENT_LIFETIME).saturating_duration_since(now))
            .min();
        closing.into_iter().chain(self.pacer.until_due(now)).min()
    }

    fn rate_message(&self, rate: f64) -> String {
        if rate <= 0.0 {
            "a new client every never (stopped)".into()
        } else {
            format!("a new client every {:.1} s", 1.0 / rate)
        }
    }

    fn add(&mut self, n: usize, now: Instant) -> Result<String, String> {
        let room = self.room();
        if room == 0 {
            return Err(format!(
                "at the cap of {MAX_LEAKED} leaked sockets; reset to start over"
            ));
        }
        match self.base.start_clients(n.min(room), now) {
            0 => Err(AT_RATE_CAP.into()),
            k => Ok(format!("connecting {k} client(s); each closes after 1 s")),
        }
    }

    fn restart(&mut self, now: Instant) -> Result<String, String> {
        self.base.start_initial(now);
        Ok("reset: leaked sockets closed".into())
    }
}
