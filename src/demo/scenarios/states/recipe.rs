//! The connection pairs on the scenario's port: each recipe is the calls that put a pair in
//! its closing states (FIN-WAIT-1, CLOSE-WAIT/FIN-WAIT-2, LAST-ACK, CLOSING, TIME-WAIT), and
//! `Pair` runs them one non-blocking step at a time and checks the result.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::sockopt::{
    CLOSE_WAIT, CLOSING, ESTABLISHED, FIN_WAIT1, FIN_WAIT2, LAST_ACK, abort_on_close, tcp_state,
};
use crate::demo::net::{self, ConnectOpts, ConnectState};
use crate::demo::scenarios::common::{ReadOutcome, read_some, write_some};

/// How long a finished recipe may take to reach its state before it is re-created.
const SETTLE: Duration = Duration::from_secs(3);
/// Receive buffer of a client whose window is filled; send buffer of the server filling it.
pub const SMALL_BUF: u32 = 4096;

/// One call of a recipe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Call {
    /// The client shuts down its sending side (its FIN).
    ClientShut,
    /// The client closes (FIN, then the fd is gone).
    ClientClose,
    /// The server reads until it sees the client's FIN.
    ServerSeeEof,
    /// The server writes until the client's window and its own send buffer are full.
    ServerFill,
    /// The server shuts down its sending side.
    ServerShut,
    /// The server closes.
    ServerClose,
}

/// A connection pair on the scenario's port and the calls that put it in its states.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Recipe {
    FinWait1,
    CloseWait,
    LastAck,
    Closing,
    TimeWait,
}

impl Recipe {
    pub const HELD: [Recipe; 4] = [
        Recipe::FinWait1,
        Recipe::CloseWait,
        Recipe::LastAck,
        Recipe::Closing,
    ];

    pub fn calls(self) -> &'static [Call] {
        use Call::*;
        match self {
            Recipe::FinWait1 => &[ServerFill, ServerShut],
            Recipe::CloseWait => &[ClientShut, ServerSeeEof],
            Recipe::LastAck => &[ClientShut, ServerSeeEof, ServerFill, ServerShut],
            Recipe::Closing => &[ServerFill, ServerShut, ClientShut],
            Recipe::TimeWait => &[ClientClose, ServerSeeEof, ServerClose],
        }
    }

    /// (server state, client state) once the recipe is done.
    pub fn target(self) -> (u8, u8) {
        match self {
            Recipe::FinWait1 => (FIN_WAIT1, ESTABLISHED),
            Recipe::CloseWait => (CLOSE_WAIT, FIN_WAIT2),
            Recipe::LastAck => (LAST_ACK, FIN_WAIT2),
            Recipe::Closing => (CLOSING, FIN_WAIT2),
            Recipe::TimeWait => (0, 0),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Recipe::FinWait1 => {
                "server FIN-WAIT-1 / client ESTAB: client SO_RCVBUF small, never reads; server \
                 writes until EAGAIN, shutdown(SHUT_WR): its FIN waits behind unsent data"
            }
            Recipe::CloseWait => {
                "server CLOSE-WAIT / client FIN-WAIT-2: client shutdown(SHUT_WR); server reads \
                 EOF and never calls close()"
            }
            Recipe::LastAck => {
                "server LAST-ACK / client FIN-WAIT-2: client shutdown(SHUT_WR); server reads \
                 EOF, fills the client's zero window, shutdown(SHUT_WR)"
            }
            Recipe::Closing => {
                "server CLOSING / client FIN-WAIT-2: server fills the client's zero window, \
                 shutdown(SHUT_WR); then client shutdown(SHUT_WR): a FIN arrives while the \
                 server's own still waits"
            }
            Recipe::TimeWait => {
                "client TIME-WAIT (60 s): client close() first, server reads EOF and close()"
            }
        }
    }

    pub fn rcvbuf(self) -> Option<u32> {
        self.calls()
            .contains(&Call::ServerFill)
            .then_some(SMALL_BUF)
    }
}

pub struct Pair {
    pub recipe: Recipe,
    pub client: Option<TcpStream>,
    pub server: Option<TcpStream>,
    connected: bool,
    /// Index of the next call in the recipe.
    next: usize,
    /// A fill that wrote something this step; the next step tries once more.
    filled: bool,
    done_at: Option<Instant>,
}

impl Pair {
    pub fn start(addr: SocketAddr, recipe: Recipe) -> io::Result<Pair> {
        let opts = ConnectOpts {
            rcvbuf: recipe.rcvbuf(),
            syn_retries: Some(2),
        };
        Ok(Pair {
            recipe,
            client: Some(net::connect(addr, opts)?),
            server: None,
            connected: false,
            next: 0,
            filled: false,
            done_at: None,
        })
    }

    pub fn client_addr(&self) -> Option<SocketAddr> {
        self.client.as_ref().and_then(|c| c.local_addr().ok())
    }

    pub fn done(&self) -> bool {
        self.next >= self.recipe.calls().len()
    }

    /// Run the recipe's calls as far as they go now. Err: the pair is broken.
    pub fn advance(&mut self, now: Instant) -> io::Result<()> {
        if !self.connected {
            let Some(c) = &self.client else {
                return Err(io::ErrorKind::NotConnected.into());
            };
            match net::connect_state(c) {
                ConnectState::Pending => return Ok(()),
                ConnectState::Connected => self.connected = true,
                ConnectState::Failed(e) => return Err(e),
            }
        }
        if self.server.is_none() {
            return Ok(());
        }
        while let Some(call) = self.recipe.calls().get(self.next).copied() {
            let Some(server) = &self.server else {
                break;
            };
            let ok = match call {
                Call::ClientShut => {
                    if let Some(c) = &self.client {
                        c.shutdown(Shutdown::Write)?;
                    }
                    true
                }
                Call::ClientClose => {
                    self.client = None;
                    true
                }
                Call::ServerSeeEof => see_eof(server)?,
                Call::ServerFill => {
                    let wrote = fill(server)?;
                    // Done when a later try takes nothing: the window is closed, not busy.
                    let stop = !wrote && self.filled;
                    self.filled = true;
                    stop
                }
                Call::ServerShut => {
                    server.shutdown(Shutdown::Write)?;
                    true
                }
                Call::ServerClose => {
                    self.server = None;
                    true
                }
            };
            if !ok {
                break;
            }
            self.next += 1;
        }
        if self.done() && self.done_at.is_none() {
            self.done_at = Some(now);
        }
        Ok(())
    }

    /// Whether the pair is where its recipe put it (or still on the way there).
    pub fn holds(&self, now: Instant) -> bool {
        let Some(done) = self.done_at else {
            return true;
        };
        if now.duration_since(done) < SETTLE {
            return true;
        }
        let (want_server, want_client) = self.recipe.target();
        let server = self.server.as_ref().and_then(|s| tcp_state(s.as_raw_fd()));
        let client = self.client.as_ref().and_then(|c| tcp_state(c.as_raw_fd()));
        server == Some(want_server) && client == Some(want_client)
    }

    pub fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        if !self.connected {
            if let Some(c) = &self.client {
                fds.push(net::pollfd(c.as_raw_fd(), libc::POLLOUT));
            }
        } else if let (Some(s), false) = (&self.server, self.done()) {
            fds.push(net::pollfd(s.as_raw_fd(), libc::POLLIN));
        }
    }
}

impl Drop for Pair {
    // A held pair goes with a reset, not a FIN: no orphans left behind in FIN-WAIT-1 or
    // LAST-ACK waiting on a window that never opens. The TIME-WAIT pair closes normally.
    fn drop(&mut self) {
        if self.recipe != Recipe::TimeWait {
            for s in self.client.iter().chain(self.server.iter()) {
                abort_on_close(s);
            }
        }
    }
}

/// Read and discard; true once the peer's FIN is seen.
pub fn see_eof(s: &TcpStream) -> io::Result<bool> {
    let mut buf = [0u8; 512];
    loop {
        match read_some(s, &mut buf) {
            ReadOutcome::Data(_) => continue,
            ReadOutcome::Nothing => return Ok(false),
            ReadOutcome::Eof => return Ok(true),
            ReadOutcome::Failed => return Err(io::ErrorKind::ConnectionReset.into()),
        }
    }
}

/// Write zeros until the socket takes no more; whether it took anything.
pub fn fill(s: &TcpStream) -> io::Result<bool> {
    let chunk = [0u8; 4096];
    let mut wrote = false;
    // Bounded: the send buffer is small, so this ends after a few rounds.
    for _ in 0..64 {
        match write_some(s, &chunk)? {
            0 => break,
            _ => wrote = true,
        }
    }
    Ok(wrote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_that_fill_a_window_shrink_the_clients_buffer() {
        for r in Recipe::HELD {
            let fills = r.calls().contains(&Call::ServerFill);
            assert_eq!(r.rcvbuf().is_some(), fills, "{r:?}");
        }
        assert!(Recipe::TimeWait.calls().starts_with(&[Call::ClientClose]));
    }
}
