//! The two listeners the scenario never accepts from: a TCP_DEFER_ACCEPT one whose silent
//! client holds SYN-RECV, and a listen(1) one whose full queue holds a client in SYN-SENT.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::sockopt::abort_on_close;
use crate::demo::net::{self, ConnectOpts};
use crate::demo::scenarios::pacer::Budget;

/// Least time between two client starts of one side.
pub const RETRY: Duration = Duration::from_secs(2);

/// A listener the scenario never accepts from, with the clients that hold its picture.
pub struct Side {
    pub listener: TcpListener,
    pub addr: SocketAddr,
    pub clients: Vec<TcpStream>,
    pub last_start: Option<Instant>,
    /// When the newest client started (the SYN-RECV client is replaced after a while).
    pub since: Instant,
}

impl Side {
    pub fn new(listener: TcpListener, now: Instant) -> io::Result<Side> {
        let addr = listener.local_addr()?;
        Ok(Side {
            listener,
            addr,
            clients: Vec::new(),
            last_start: None,
            since: now,
        })
    }

    pub fn may_start(&self, now: Instant) -> bool {
        self.last_start
            .is_none_or(|t| now.duration_since(t) >= RETRY)
    }

    pub fn start(&mut self, opts: ConnectOpts, budget: &mut Budget, now: Instant) {
        if !budget.take(now) {
            return;
        }
        self.last_start = Some(now);
        if let Ok(c) = net::connect(self.addr, opts) {
            self.clients.push(c);
            self.since = now;
        }
    }

    /// Drop whatever completed the handshake into the accept queue (SYN-RECV side).
    pub fn drain(&self) -> bool {
        let mut any = false;
        while let Ok((s, _)) = self.listener.accept() {
            abort_on_close(&s);
            any = true;
        }
        any
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        for c in &self.clients {
            abort_on_close(c);
        }
    }
}
