//! A server streaming a large response to a client that never reads. The client's receive
//! buffer fills (its Recv-Q grows), its advertised window drops to zero, and from then on the
//! server's data waits unacknowledged in its send buffer: Send-Q grows and holds. Buffers are
//! set small so the numbers stay readable and bounded.

use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::{Base, DEFAULT_CONNECT_RATE, Rules, ServerConn, write_some};
use super::spec::{Common, Kind, Scenario, Seen, Spec, runs_anywhere, scenario_parts};
use crate::demo::net::{self, ConnectOpts};
use crate::demo::view::listener;

pub static SPEC: Spec = Spec {
    name: "send-q",
    about: "A server streaming to a client that never reads: Send-Q build-up",
    hint: "server Send-Q and client Recv-Q grow until the window closes",
    man: "A server streams a large response to a client that never reads: Send-Q grows on \
          the server and Recv-Q on the client until the window closes.",
    now,
    why,
    build: |addr, _| Ok(Box::new(SendQ::new(addr)?)),
    commands: &[],
    unavailable: runs_anywhere,
    tables: super::spec::TCP,
};

fn now(s: &Seen<'_>) -> String {
    format!(
        "{} · server Send-Q {} · client Recv-Q {}",
        listener(s.view),
        s.view.server_max_send_q,
        s.view.client_max_recv_q
    )
}

fn why(s: &Seen<'_>) -> String {
    format!(
        "Send-Q {} on the server: bytes sent but not acknowledged. The client never reads, \
         its receive buffer is full (Recv-Q {}) and it advertises a zero window, so the \
         server's data waits.",
        s.view.server_max_send_q, s.view.client_max_recv_q
    )
}

/// SO_RCVBUF of the clients and SO_SNDBUF of the server's sockets (the kernel doubles both).
pub const CLIENT_RCVBUF: u32 = 64 * 1024;
pub const SERVER_SNDBUF: u32 = 64 * 1024;
/// Hard cap on what the server writes to one connection.
const MAX_STREAM: u64 = 16 * 1024 * 1024;
const CHUNK: [u8; 16 * 1024] = [b'x'; 16 * 1024];

const RULES: Rules = Rules {
    backlog: 16,
    max_clients: 8,
    initial: 1,
    connect: ConnectOpts {
        rcvbuf: Some(CLIENT_RCVBUF),
        syn_retries: None,
    },
    // Nothing to send: these clients only receive (and never read).
    payload: &[],
    drain_on_reset: true,
    close_server_end: true,
    connect_rate: DEFAULT_CONNECT_RATE,
};

struct Conn {
    stream: TcpStream,
    written: u64,
}

impl ServerConn for Conn {
    fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

pub struct SendQ {
    base: Base<Conn>,
}

impl SendQ {
    pub fn new(addr: SocketAddr) -> std::io::Result<SendQ> {
        let mut base = Base::bind(addr, RULES)?;
        base.start_initial(Instant::now());
        Ok(SendQ { base })
    }
}

impl Scenario for SendQ {
    scenario_parts!();

    fn step(&mut self, _now: Instant) {
        self.base.accept_pending(RULES.max_clients, |stream| {
            let _ = net::set_sndbuf(&stream, SERVER_SNDBUF);
            Conn { stream, written: 0 }
        });
        // Stream until the send buffer is full; POLLOUT says when there is room again.
        self.base.conns.retain_mut(|c| {
            while c.written < MAX_STREAM {
                match write_some(&c.stream, &CHUNK) {
                    Ok(0) => break,
                    Ok(n) => c.written += n as u64,
                    Err(_) => return false,
                }
            }
            true
        });
        self.base.progress_clients();
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(RULES.max_clients, fds);
        for c in self.base.conns.iter().filter(|c| c.written < MAX_STREAM) {
            fds.push(net::pollfd(c.stream.as_raw_fd(), libc::POLLOUT));
        }
        for c in &self.base.clients {
            c.interest(fds);
        }
    }

    fn next_due(&self, _now: Instant) -> Option<Duration> {
        None
    }

    fn send(&mut self, _data: &[u8]) -> Result<String, String> {
        Err("send-q streams from the server on its own; add a client to see another".into())
    }

    fn close(&mut self, n: usize) -> String {
        let k = self.base.close_oldest(n);
        format!("closed {k} client(s) and their server sockets")
    }
}
