//! A server streaming a large response to a client that never reads. The client's receive
//! buffer fills (its Recv-Q grows), its advertised window drops to zero, and from then on the
//! server's data waits unacknowledged in its send buffer: Send-Q grows and holds. Buffers are
//! set small so the numbers stay readable and bounded.

use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::common::{Base, ServerConn};
use super::{Action, Kind, Scenario, ScenarioStatus, check_add, write_some};
use crate::demo::net::{self, ConnectOpts};

const BACKLOG: i32 = 16;
const INITIAL_CLIENTS: u32 = 1;
const MAX_CLIENTS: usize = 8;
/// SO_RCVBUF of the clients and SO_SNDBUF of the server's sockets (the kernel doubles both).
pub const CLIENT_RCVBUF: u32 = 64 * 1024;
pub const SERVER_SNDBUF: u32 = 64 * 1024;
/// Hard cap on what the server writes to one connection.
const MAX_STREAM: u64 = 16 * 1024 * 1024;
const CHUNK: [u8; 16 * 1024] = [b'x'; 16 * 1024];

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
        let mut s = SendQ {
            base: Base::bind(addr, BACKLOG)?,
        };
        s.add(INITIAL_CLIENTS as usize, Instant::now())?;
        Ok(s)
    }

    fn add(&mut self, n: usize, now: Instant) -> std::io::Result<()> {
        let opts = ConnectOpts {
            rcvbuf: Some(CLIENT_RCVBUF),
            syn_retries: None,
        };
        // Nothing to send: these clients only receive (and never read).
        self.base.start_clients(n, opts, &[], now)
    }
}

impl Scenario for SendQ {
    fn kind(&self) -> Kind {
        Kind::SendQ
    }

    fn port(&self) -> u16 {
        self.base.port()
    }

    fn step(&mut self, _now: Instant) {
        self.base.accept_pending(MAX_CLIENTS, |stream| {
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
        self.base.clients.retain_mut(|c| c.progress().is_ok());
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(MAX_CLIENTS, fds);
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

    fn act(&mut self, action: Action, now: Instant) -> Result<String, String> {
        match action {
            Action::Add(n) => {
                let n = check_add(n, self.base.clients.len(), MAX_CLIENTS)?;
                self.add(n, now)
                    .map_err(|e| format!("connect failed: {e}"))?;
                Ok(format!("connecting {n} client(s) that never read"))
            }
            Action::Send(_) => {
                Err("send-q streams from the server on its own; add a client to see another".into())
            }
            Action::Close(n) => {
                let k = self.base.close_with_conns(n);
                Ok(format!("closed {k} client(s) and their server sockets"))
            }
            Action::Accepting(on) => Ok(self.base.set_accepting(on)),
            Action::Rate(_) => Err("send-q has no churn rate".into()),
            Action::Reset => {
                self.base.reset_base(true);
                self.add(INITIAL_CLIENTS as usize, now)
                    .map_err(|e| format!("connect failed: {e}"))?;
                Ok("reset".into())
            }
        }
    }

    fn status(&self) -> ScenarioStatus {
        self.base.status(Kind::SendQ, None, None, MAX_CLIENTS)
    }
}
