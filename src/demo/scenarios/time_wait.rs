//! The seeds' echo client at a steady rate: connect, send a line, read the reply, close
//! first. The side that closes first keeps TIME-WAIT for 60 s, so the count climbs to
//! rate x 60 and holds. The rate is capped — over the schedule and every added connection
//! together — and so are connections in flight.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::{Base, EchoConn, ReadOutcome, Rules, read_some};
use super::pacer::Pacer;
use super::spec::{Common, Kind, Options, Scenario, Seen, Spec, runs_anywhere, scenario_parts};
use crate::demo::net::{self, ConnectOpts};
use crate::demo::view::listener;

pub static SPEC: Spec = Spec {
    name: "time-wait",
    about: "Clients that close first at a steady rate: TIME-WAIT churn",
    hint: "TIME-WAIT on the client side climbing to rate x 60 s",
    man: "A client that connects, exchanges a line and closes first, at a steady bounded \
          rate (--rate, default 20 per second): TIME-WAIT climbs to rate times 60 seconds \
          and holds there.",
    now,
    why,
    build: |addr, opts| Ok(Box::new(TimeWait::new(addr, opts)?)),
    commands: &[],
    unavailable: runs_anywhere,
    tables: super::spec::TCP,
};

fn now(s: &Seen<'_>) -> String {
    let v = s.view;
    format!(
        "{} · {} TIME-WAIT (clients) · {} ESTAB",
        listener(v),
        v.client.time_wait,
        v.client.established + v.server.established
    )
}

fn why(s: &Seen<'_>) -> String {
    let rate = s.status.and_then(|s| s.rate).unwrap_or(0.0);
    format!(
        "{} TIME-WAIT: the side that closes first keeps the connection for 60 s so \
         late segments cannot corrupt a new one; at {rate}/s the count settles near \
         {:.0}. No process owns them (inode 0).",
        s.view.client.time_wait,
        rate * 60.0
    )
}

pub const DEFAULT_RATE: f64 = 20.0;
/// The documented cap: connections per second, the schedule and `add` requests together.
pub const MAX_RATE: f64 = 200.0;
/// Connections in flight at once (client side); also the server's cap.
const MAX_IN_FLIGHT: usize = 64;
/// A client that has not finished by then is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

const RULES: Rules = Rules {
    backlog: 128,
    max_clients: MAX_IN_FLIGHT,
    initial: 0,
    connect: ConnectOpts {
        rcvbuf: None,
        syn_retries: None,
    },
    payload: b"ping\r\n",
    // No drain, as before: queued connections are simply accepted and echoed.
    drain_on_reset: false,
    close_server_end: false,
    connect_rate: MAX_RATE,
};

pub struct TimeWait {
    base: Base<EchoConn>,
    pacer: Pacer,
}

impl TimeWait {
    pub fn new(addr: SocketAddr, opts: &Options) -> std::io::Result<TimeWait> {
        let base = Base::bind(addr, RULES)?;
        let rate = opts.time_wait_rate.clamp(0.0, MAX_RATE);
        Ok(TimeWait {
            base,
            pacer: Pacer::new(rate, MAX_RATE, Instant::now()),
        })
    }
}

impl Scenario for TimeWait {
    scenario_parts!(paced);

    fn step(&mut self, now: Instant) {
        self.base.accept_pending(MAX_IN_FLIGHT, EchoConn::new);
        let mut buf = [0u8; 256];
        self.base.conns.retain_mut(|c| c.serve(&mut buf));
        // Clients: once the echo is back, close first (the active close → TIME-WAIT here).
        self.base.clients.retain_mut(|c| {
            if c.progress().is_err() || now.saturating_duration_since(c.since) > CLIENT_TIMEOUT {
                return false;
            }
            if c.connected && c.outbox.is_empty() {
                return matches!(read_some(&c.stream, &mut buf), ReadOutcome::Nothing);
            }
            true
        });
        if self.pacer.due(now) {
            self.base.start_clients(1, now);
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(MAX_IN_FLIGHT, fds);
        for c in &self.base.conns {
            c.interest(fds);
        }
        for c in &self.base.clients {
            if c.connected && c.outbox.is_empty() {
                fds.push(net::pollfd(c.stream.as_raw_fd(), libc::POLLIN));
            } else {
                c.interest(fds);
            }
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let timeout = self
            .base
            .clients
            .iter()
            .map(|c| (c.since + CLIENT_TIMEOUT).saturating_duration_since(now))
            .min();
        timeout.into_iter().chain(self.pacer.until_due(now)).min()
    }

    fn rate_message(&self, rate: f64) -> String {
        format!(
            "{rate} connections/s: TIME-WAIT will settle near {:.0}",
            rate * 60.0
        )
    }

    fn add(&mut self, n: usize, now: Instant) -> Result<String, String> {
        match self.base.start_clients(n, now) {
            0 => Err(format!(
                "at the cap of {MAX_RATE} connections/s, the schedule's included; \
                 try again in a moment"
            )),
            k => Ok(format!("{k} extra connection(s)")),
        }
    }

    fn send(&mut self, _data: &[u8]) -> Result<String, String> {
        Err("time-wait clients send on their own; change the rate instead".into())
    }

    fn close(&mut self, n: usize) -> String {
        let k = self.base.close_oldest(n);
        format!("closed {k} client(s) in flight")
    }

    fn restart(&mut self, _now: Instant) -> Result<String, String> {
        Ok("reset (existing TIME-WAIT sockets expire on their own)".into())
    }
}
