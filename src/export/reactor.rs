//! The HTTP thread: poll(2) over the listener, the wake-up socket and every connection;
//! accepting (with the connection cap and EMFILE handling), timeouts, and answers coming
//! back from the workers.

use std::io::{self, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use super::conn::{Conn, State, advance, on_ready, send, shed_one, writing};
use super::response::Response;
use super::server::{Done, Job, Limits, MAX_CONNECTIONS};

/// Pause before accepting again when the process is out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Most connections accepted per turn of the loop, so a flood of them cannot starve the
/// connections already open.
const ACCEPT_BATCH: usize = 4 * MAX_CONNECTIONS;
/// Longest poll wait; stop and timeouts are also checked then.
const TICK: Duration = Duration::from_secs(1);

pub(super) struct Reactor {
    pub(super) listener: Option<TcpListener>,
    pub(super) wake: UnixStream,
    pub(super) jobs: Sender<Job>,
    pub(super) done: Receiver<Done>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) conns: Vec<Conn>,
    pub(super) next_id: u64,
    pub(super) limits: Limits,
    pub(super) accept_paused_until: Option<Instant>,
    pub(super) told_out_of_fds: Option<Instant>,
}

/// How long answers under way may take to finish after a stop.
const STOP_GRACE: Duration = Duration::from_secs(2);

impl Reactor {
    pub(super) fn run(mut self) {
        let mut stopping_since: Option<Instant> = None;
        let mut fds: Vec<libc::pollfd> = Vec::new();
        loop {
            let now = Instant::now();
            self.drain_wake();
            self.take_answers(now);
            if self.stop.load(Ordering::SeqCst) {
                let since = *stopping_since.get_or_insert(now);
                // Closing the listener first: new connections are refused from here on.
                self.listener = None;
                for c in &mut self.conns {
                    if !matches!(c.state, State::Busy | State::Writing { .. }) {
                        c.closed = true;
                    }
                }
                self.conns.retain(|c| !c.closed);
                if self.conns.is_empty() || now.duration_since(since) >= STOP_GRACE {
                    return;
                }
            }
            let next = self.expire(now);
            self.conns.retain(|c| !c.closed);

            fds.clear();
            fds.push(pollfd(self.wake.as_raw_fd(), libc::POLLIN));
            let accepting = self
                .listener
                .as_ref()
                .filter(|_| self.accept_paused_until.is_none_or(|t| now >= t));
            fds.push(match accepting {
                Some(l) => pollfd(l.as_raw_fd(), libc::POLLIN),
                None => pollfd(-1, 0),
            });
            for c in &self.conns {
                fds.push(match c.state {
                    State::Idle { .. } | State::Reading { .. } | State::Draining { .. } => {
                        pollfd(c.stream.as_raw_fd(), libc::POLLIN)
                    }
                    State::Writing { .. } => pollfd(c.stream.as_raw_fd(), libc::POLLOUT),
                    // Nothing to do until the worker answers; a negative fd is ignored.
                    State::Busy => pollfd(-1, 0),
                });
            }
            let mut wait = next
                .map_or(TICK, |t| t.saturating_duration_since(now))
                .min(TICK);
            if let Some(t) = self.accept_paused_until {
                wait = wait.min(t.saturating_duration_since(now));
            }
            let ms = libc::c_int::try_from(wait.as_millis() + 1).unwrap_or(1000);
            // SAFETY: `fds` is a live, correctly sized array of pollfd for the whole call.
            let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
            if rc < 0 {
                if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                    thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            let now = Instant::now();
            for (i, fd) in fds.iter().enumerate().skip(2) {
                if fd.fd >= 0
                    && fd.revents != 0
                    && let Some(c) = self.conns.get_mut(i - 2)
                {
                    on_ready(c, &self.jobs, now);
                }
            }
            self.conns.retain(|c| !c.closed);
            if fds[1].fd >= 0 && fds[1].revents != 0 {
                self.accept(now);
            }
        }
    }

    fn drain_wake(&mut self) {
        let mut scratch = [0u8; 64];
        while matches!((&self.wake).read(&mut scratch), Ok(n) if n > 0) {}
    }

    /// Hand finished answers to their connections.
    fn take_answers(&mut self, now: Instant) {
        while let Ok(done) = self.done.try_recv() {
            let Some(c) = self.conns.iter_mut().find(|c| c.id == done.conn) else {
                continue;
            };
            c.state = State::Writing {
                out: done.out,
                sent: 0,
                since: now,
                close: done.close,
            };
            advance(c, &self.jobs, now);
        }
    }

    /// Close what ran out of time; the earliest deadline still ahead.
    fn expire(&mut self, now: Instant) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        for c in &mut self.conns {
            let deadline = match c.state {
                State::Idle { since } => since + self.limits.idle_timeout,
                State::Reading { started } => started + self.limits.head_timeout,
                State::Writing { since, .. } => since + self.limits.write_timeout,
                State::Draining { until, .. } => until,
                State::Busy => continue,
            };
            if now < deadline {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
                continue;
            }
            if let State::Reading { .. } = c.state {
                // A slow client may still take the reason, within the write timeout.
                c.buf.clear();
                let r = Response::text(408, "request head not complete in time\n");
                c.state = writing(r.encode(false, true), true, now);
                advance(c, &self.jobs, now);
            } else {
                c.closed = true;
            }
        }
        next
    }

    fn accept(&mut self, now: Instant) {
        let Some(listener) = self.listener.as_ref() else {
            return;
        };
        for _ in 0..ACCEPT_BATCH {
            match listener.accept() {
                Ok((stream, _)) => {
                    if self.conns.len() >= self.limits.max_connections.max(1)
                        && !shed_one(&mut self.conns)
                    {
                        refuse(stream);
                        continue;
                    }
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    self.next_id += 1;
                    let mut c = Conn {
                        id: self.next_id,
                        stream,
                        buf: Vec::new(),
                        state: State::Idle { since: now },
                        closed: false,
                    };
                    // A client usually sends its request with the handshake done: reading it
                    // now takes the connection out of the idle ones a flood could shed.
                    on_ready(&mut c, &self.jobs, now);
                    if !c.closed {
                        self.conns.push(c);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if out_of_resources(&e) => {
                    if self
                        .told_out_of_fds
                        .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(60))
                    {
                        self.told_out_of_fds = Some(now);
                        crate::text::stderr_line(&format!(
                            "sockeye: accepting a connection failed ({e}); closing idle \
                             connections and retrying"
                        ));
                    }
                    // The pending connection stays queued. Free a descriptor and take it at
                    // once (the queue may hold a real scrape behind many idle ones); with
                    // nothing to free, wait a little instead of spinning on a listener that
                    // stays readable.
                    if !shed_one(&mut self.conns) {
                        self.accept_paused_until = Some(now + ACCEPT_BACKOFF);
                        return;
                    }
                }
                // A connection that died in the queue concerns one client; keep accepting.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                    ) => {}
                // Anything else may persist: retry soon rather than spin.
                Err(_) => {
                    self.accept_paused_until = Some(now + ACCEPT_BACKOFF);
                    return;
                }
            }
        }
    }
}

/// Over the connection limit with every connection busy: say so, briefly, and close.
fn refuse(stream: TcpStream) {
    if stream.set_nonblocking(true).is_ok() {
        let r = Response::text(503, "too many connections\n");
        // A fresh socket's send buffer takes this whole; if not, the client gets less.
        let _ = send(&stream, &r.encode(false, true));
        let _ = stream.shutdown(Shutdown::Write);
    }
}

fn pollfd(fd: libc::c_int, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// accept(2) failing for want of descriptors or memory: the listener is fine.
fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
