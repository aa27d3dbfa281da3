//! One connection's state machine: read a head, hand a scrape to a worker or answer at once,
//! write without blocking, keep alive or linger and close. Runs on the HTTP thread only.

use std::io::{self, Read};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use super::request::{self, MAX_HEAD, Method, Parse};
use super::response::{self, Response, Route};
use super::server::Job;

/// After an error answer the input is read and dropped this long (or up to
/// [`LINGER_BYTES`]) so the answer is not lost to a reset.
pub(super) const LINGER: Duration = Duration::from_secs(2);
pub(super) const LINGER_BYTES: usize = 64 * 1024;

pub(super) enum State {
    /// No request in flight: new, or kept alive after an answer.
    Idle { since: Instant },
    /// Part of a head has arrived.
    Reading { started: Instant },
    /// A worker is answering.
    Busy,
    Writing {
        out: Vec<u8>,
        sent: usize,
        /// When the answer was ready: the write timeout counts from here.
        since: Instant,
        close: bool,
    },
    /// Answered and shut for writing; reading what the client still sends, then closing.
    Draining { until: Instant, read: usize },
}

pub(super) struct Conn {
    pub(super) id: u64,
    pub(super) stream: TcpStream,
    pub(super) buf: Vec<u8>,
    pub(super) state: State,
    pub(super) closed: bool,
}

/// Close the connection that matters least: one draining, else the longest idle, else
/// the slowest head. Never one being answered. False when every one is.
pub(super) fn shed_one(conns: &mut Vec<Conn>) -> bool {
    let rank = |c: &Conn| match c.state {
        State::Draining { until, .. } => Some((0, until)),
        State::Idle { since } => Some((1, since)),
        State::Reading { started } => Some((2, started)),
        State::Busy | State::Writing { .. } => None,
    };
    let victim = conns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| rank(c).map(|r| (r, i)))
        .min()
        .map(|(_, i)| i);
    match victim {
        Some(i) => {
            conns.swap_remove(i);
            true
        }
        None => false,
    }
}

/// The connection is ready: read or write, then move it on.
pub(super) fn on_ready(c: &mut Conn, jobs: &Sender<Job>, now: Instant) {
    match &mut c.state {
        State::Idle { .. } | State::Reading { .. } => {
            let room = MAX_HEAD.saturating_sub(c.buf.len());
            let mut chunk = [0u8; 4096];
            let want = room.min(chunk.len());
            if want == 0 {
                // Cannot happen: a full buffer is always either a head or a rejection.
                c.closed = true;
                return;
            }
            match c.stream.read(&mut chunk[..want]) {
                Ok(0) => c.closed = true,
                Ok(n) => {
                    c.buf.extend_from_slice(&chunk[..n]);
                    if let State::Idle { .. } = c.state {
                        c.state = State::Reading { started: now };
                    }
                    advance(c, jobs, now);
                }
                Err(e) if is_transient(&e) => {}
                Err(_) => c.closed = true,
            }
        }
        State::Writing { .. } => advance(c, jobs, now),
        State::Draining { read, .. } => {
            let mut chunk = [0u8; 4096];
            match c.stream.read(&mut chunk) {
                Ok(0) => c.closed = true,
                Ok(n) => {
                    *read += n;
                    if *read > LINGER_BYTES {
                        c.closed = true;
                    }
                }
                Err(e) if is_transient(&e) => {}
                Err(_) => c.closed = true,
            }
        }
        State::Busy => {}
    }
}

/// Move a connection as far as it goes without blocking: finish writing, then parse what
/// is buffered (pipelined requests), answering what can be answered at once.
pub(super) fn advance(c: &mut Conn, jobs: &Sender<Job>, now: Instant) {
    loop {
        match &mut c.state {
            State::Writing {
                out,
                sent,
                since: _,
                close,
            } => {
                while *sent < out.len() {
                    match send(&c.stream, &out[*sent..]) {
                        Ok(0) => {
                            c.closed = true;
                            return;
                        }
                        Ok(n) => *sent += n,
                        Err(e) if is_transient(&e) => return,
                        Err(_) => {
                            c.closed = true;
                            return;
                        }
                    }
                }
                if *close {
                    let _ = c.stream.shutdown(Shutdown::Write);
                    c.buf = Vec::new();
                    c.state = State::Draining {
                        until: now + LINGER,
                        read: 0,
                    };
                    return;
                }
                c.state = State::Idle { since: now };
            }
            State::Idle { .. } | State::Reading { .. } => {
                if c.buf.is_empty() {
                    c.state = State::Idle { since: now };
                    return;
                }
                match request::parse(&c.buf) {
                    Ok(Parse::Partial) => {
                        if let State::Idle { .. } = c.state {
                            c.state = State::Reading { started: now };
                        }
                        return;
                    }
                    Ok(Parse::Complete(head, used)) => {
                        c.buf.drain(..used.min(c.buf.len()));
                        // A body is never read, so the connection cannot be reused after it.
                        let close = !head.keep_alive || head.has_body;
                        let head_only = head.method == Method::Head;
                        match response::route(&head) {
                            Route::Now(r) => {
                                c.state = writing(r.encode(head_only, close), close, now)
                            }
                            Route::Scrape => {
                                let job = Job {
                                    conn: c.id,
                                    head_only,
                                    close,
                                    scrape_timeout: head.scrape_timeout,
                                    arrived: now,
                                };
                                if jobs.send(job).is_err() {
                                    c.closed = true;
                                } else {
                                    c.state = State::Busy;
                                }
                                return;
                            }
                        }
                    }
                    Err(reject) => {
                        c.buf.clear();
                        let r = Response::rejected(reject);
                        c.state = writing(r.encode(false, true), true, now);
                    }
                }
            }
            State::Busy | State::Draining { .. } => return,
        }
    }
}

pub(super) fn writing(out: Vec<u8>, close: bool, now: Instant) -> State {
    State::Writing {
        out,
        sent: 0,
        since: now,
        close,
    }
}

pub(super) fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// write(2) without SIGPIPE: a client that has gone away is an error here, never a signal
/// that could end the process (whatever the binary does with SIGPIPE).
pub(super) fn send(stream: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    socket2::SockRef::from(stream).send_with_flags(buf, libc::MSG_NOSIGNAL)
}
