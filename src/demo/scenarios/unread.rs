//! A server that accepts and never reads: each client sends the seeds' `hello!\r\n`, and the
//! server's socket shows Recv-Q 8 — bytes the kernel holds for an application that does not
//! ask for them.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::common::{Base, DEFAULT_CONNECT_RATE, HELLO, Rules};
use super::spec::{Common, Kind, Scenario, Seen, Spec, runs_anywhere, scenario_parts};
use crate::demo::net::ConnectOpts;
use crate::demo::view::listener;

pub static SPEC: Spec = Spec {
    name: "unread",
    about: "A connection the server never reads: Recv-Q 8",
    hint: "server socket ESTAB with Recv-Q 8 (hello!\\r\\n never read)",
    man: "A client sends \"hello!\\r\\n\" on a connection the server never reads: the \
          server's socket shows Recv-Q 8.",
    now,
    why,
    build: |addr, _| Ok(Box::new(Unread::new(addr)?)),
    commands: &[],
    unavailable: runs_anywhere,
    tables: super::spec::TCP,
};

fn now(s: &Seen<'_>) -> String {
    format!(
        "{} · {} ESTAB · max Recv-Q {}",
        listener(s.view),
        s.view.server.established,
        s.view.server_max_recv_q
    )
}

fn why(s: &Seen<'_>) -> String {
    format!(
        "Recv-Q {} on the server's socket: bytes the kernel received and acknowledged \
         but the application never read (hello!\\r\\n is 8 bytes). The sender saw success.",
        s.view.server_max_recv_q
    )
}

const RULES: Rules = Rules {
    backlog: 16,
    max_clients: 32,
    initial: 1,
    connect: ConnectOpts {
        rcvbuf: None,
        syn_retries: None,
    },
    payload: HELLO,
    drain_on_reset: true,
    // This scenario is about unread bytes; the forgotten close() is the close-wait scenario.
    close_server_end: true,
    connect_rate: DEFAULT_CONNECT_RATE,
};

pub struct Unread {
    base: Base<TcpStream>,
}

impl Unread {
    pub fn new(addr: SocketAddr) -> std::io::Result<Unread> {
        let mut base = Base::bind(addr, RULES)?;
        base.start_initial(Instant::now());
        Ok(Unread { base })
    }
}

impl Scenario for Unread {
    scenario_parts!();

    fn step(&mut self, _now: Instant) {
        self.base.accept_pending(RULES.max_clients, |s| s);
        self.base.progress_clients();
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(RULES.max_clients, fds);
        for c in &self.base.clients {
            c.interest(fds);
        }
    }

    fn next_due(&self, _now: Instant) -> Option<Duration> {
        None
    }

    fn close(&mut self, n: usize) -> String {
        let k = self.base.close_oldest(n);
        format!("closed {k} client(s) and their server sockets")
    }
}
