//! The HTTP side: a small hand-written HTTP/1.1 server, /metrics only.
//!
//! Why hand-written over httparse: tiny_http could bound none of connections, per-connection
//! time, head size or threads (one thread per held connection, a panic on an odd header
//! value, a dead listener after EMFILE), and hyper needs an async runtime, which this tool
//! avoids. What is needed is small: GET/HEAD of one path, no bodies, keep-alive.
//!
//! Shape: one thread polls the listener and every connection (non-blocking sockets, poll(2))
//! and does all reading, parsing ([`super::request`]) and writing; a fixed pool of workers
//! only turns scrapes into responses, since a scrape may wait for a collection. So a slow,
//! silent or non-reading client costs its own connection and nothing else.
//!
//! Limits (figures in the man page and README): at most [`MAX_CONNECTIONS`] connections
//! (fewer under a low RLIMIT_NOFILE); a new one beyond that sheds the oldest idle one, or
//! gets 503 when none is idle. A head must arrive whole within [`HEAD_TIMEOUT`] of its first
//! byte (dripping does not extend it), a response must be taken within [`WRITE_TIMEOUT`], a
//! kept-alive connection closes after [`IDLE_TIMEOUT`] without a request. One request per
//! connection is in flight; pipelined ones wait in a buffer bounded by the head limit.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::cache::Cache;
use super::request::{self, MAX_HEAD, Method, Parse};
use super::response::{self, Response, Route};

/// How the server answers.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The longest a scrape waits for a fresh snapshot before serving the last one.
    pub deadline: Duration,
    /// See [`super::metrics::render`].
    pub top_ports: usize,
    /// Threads that answer scrapes (connections are handled by one more).
    pub threads: usize,
}

/// Most connections open at once.
pub const MAX_CONNECTIONS: usize = 64;
/// Descriptors kept free for the collector (netlink, /proc) below RLIMIT_NOFILE.
const FD_RESERVE: u64 = 16;
/// Fewest connections allowed however low RLIMIT_NOFILE is.
const MIN_CONNECTIONS: usize = 4;
/// From a request's first byte to its complete head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// From a response being ready to its last byte taken by the client.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection without a request in flight (new, or kept alive) closes after this.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// After an error answer the input is read and dropped this long (or up to
/// [`LINGER_BYTES`]) so the answer is not lost to a reset.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 64 * 1024;
/// Pause before accepting again when the process is out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Longest poll wait; stop and timeouts are also checked then.
const TICK: Duration = Duration::from_secs(1);

/// A running exporter: stop it with [`Exporter::shutdown`].
pub struct Exporter {
    stop: Arc<AtomicBool>,
    waker: Arc<UnixStream>,
    threads: Vec<JoinHandle<()>>,
    addr: SocketAddr,
}

impl Exporter {
    /// Bind `addr` and start answering.
    pub fn start(addr: SocketAddr, cache: Arc<Cache>, opts: ServeOptions) -> anyhow::Result<Self> {
        use anyhow::Context;
        let listener =
            TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        let addr = listener
            .local_addr()
            .with_context(|| format!("cannot read the address bound for {addr}"))?;
        listener
            .set_nonblocking(true)
            .with_context(|| format!("cannot make the listener on {addr} non-blocking"))?;
        let (wake_rx, wake_tx) =
            UnixStream::pair().context("cannot create the HTTP server's wake-up socket")?;
        wake_rx
            .set_nonblocking(true)
            .and_then(|()| wake_tx.set_nonblocking(true))
            .context("cannot make the wake-up socket non-blocking")?;
        let waker = Arc::new(wake_tx);
        let stop = Arc::new(AtomicBool::new(false));
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut threads = Vec::new();
        for i in 0..opts.threads.max(1) {
            let (jobs, done, waker, cache, opts) = (
                Arc::clone(&job_rx),
                done_tx.clone(),
                Arc::clone(&waker),
                Arc::clone(&cache),
                opts.clone(),
            );
            let handle = thread::Builder::new()
                .name(format!("sockeye-http-{i}"))
                .spawn(move || worker(&jobs, &done, &waker, &cache, &opts))
                .context("cannot start an HTTP worker thread")?;
            threads.push(handle);
        }
        let reactor = Reactor {
            listener: Some(listener),
            wake: wake_rx,
            jobs: job_tx,
            done: done_rx,
            stop: Arc::clone(&stop),
            conns: Vec::new(),
            next_id: 0,
            cap: connection_cap(),
            accept_paused_until: None,
            told_out_of_fds: None,
        };
        let handle = thread::Builder::new()
            .name("sockeye-http".into())
            .spawn(move || reactor.run())
            .context("cannot start the HTTP thread")?;
        threads.push(handle);
        Ok(Exporter {
            stop,
            waker,
            threads,
            addr,
        })
    }

    /// The address actually bound (the port is chosen by the kernel for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, let answers under way finish (briefly), and join every thread.
    pub fn shutdown(self) {
        self.stop.store(true, Ordering::SeqCst);
        wake(&self.waker);
        for t in self.threads {
            // A thread that panicked has nothing left to clean up.
            let _ = t.join();
        }
    }
}

/// MAX_CONNECTIONS, or fewer when RLIMIT_NOFILE would not leave the collector room.
fn connection_cap() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur
    } else {
        libc::RLIM_INFINITY
    };
    let room = usize::try_from(soft.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
    room.clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
}

/// A scrape for a worker.
struct Job {
    conn: u64,
    head_only: bool,
    close: bool,
    scrape_timeout: Option<Duration>,
    arrived: Instant,
}

/// A worker's answer, back to the connection thread.
struct Done {
    conn: u64,
    out: Vec<u8>,
    close: bool,
}

fn worker(
    jobs: &Mutex<Receiver<Job>>,
    done: &Sender<Done>,
    waker: &UnixStream,
    cache: &Cache,
    opts: &ServeOptions,
) {
    loop {
        // The lock is only held while waiting; the channel ends when the reactor does.
        let job = match jobs.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // A bug in one answer must not shrink the pool or leave a connection waiting.
        let resp = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            response::scrape(
                cache,
                opts.deadline,
                job.scrape_timeout,
                opts.top_ports,
                job.arrived,
            )
        }))
        .unwrap_or_else(|_| Response::text(500, "internal error\n"));
        let out = resp.encode(job.head_only, job.close);
        if done
            .send(Done {
                conn: job.conn,
                out,
                close: job.close,
            })
            .is_err()
        {
            return;
        }
        wake(waker);
    }
}

fn wake(waker: &UnixStream) {
    // A full socket already holds a wake-up; nothing else can go wrong that matters.
    let _ = (&*waker).write(&[1]);
}

enum State {
    /// No request in flight: new, or kept alive after an answer.
    Idle { since: Instant },
    /// Part of a head has arrived.
    Reading { started: Instant },
    /// A worker is answering.
    Busy,
    Writing {
        out: Vec<u8>,
        sent: usize,
        deadline: Instant,
        close: bool,
    },
    /// Answered and shut for writing; reading what the client still sends, then closing.
    Draining { until: Instant, read: usize },
}

struct Conn {
    id: u64,
    stream: TcpStream,
    buf: Vec<u8>,
    state: State,
    closed: bool,
}

struct Reactor {
    listener: Option<TcpListener>,
    wake: UnixStream,
    jobs: Sender<Job>,
    done: Receiver<Done>,
    stop: Arc<AtomicBool>,
    conns: Vec<Conn>,
    next_id: u64,
    cap: usize,
    accept_paused_until: Option<Instant>,
    told_out_of_fds: Option<Instant>,
}

/// How long answers under way may take to finish after a stop.
const STOP_GRACE: Duration = Duration::from_secs(2);

impl Reactor {
    fn run(mut self) {
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
                if fd.fd >= 0 && fd.revents != 0 {
                    if let Some(c) = self.conns.get_mut(i - 2) {
                        on_ready(c, &self.jobs, now);
                    }
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
                deadline: now + WRITE_TIMEOUT,
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
                State::Idle { since } => since + IDLE_TIMEOUT,
                State::Reading { started } => started + HEAD_TIMEOUT,
                State::Writing { deadline, .. } => deadline,
                State::Draining { until, .. } => until,
                State::Busy => continue,
            };
            if now < deadline {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
                continue;
            }
            if let State::Reading { .. } = c.state {
                // A slow client may still take the reason; it has WRITE_TIMEOUT to do so.
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
        // Bounded, so a flood of connections cannot starve the ones already open.
        for _ in 0..MAX_CONNECTIONS {
            match listener.accept() {
                Ok((stream, _)) => {
                    if self.conns.len() >= self.cap && !shed_one(&mut self.conns) {
                        refuse(stream);
                        continue;
                    }
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    self.next_id += 1;
                    self.conns.push(Conn {
                        id: self.next_id,
                        stream,
                        buf: Vec::new(),
                        state: State::Idle { since: now },
                        closed: false,
                    });
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
                // ECONNABORTED and the like concern one client; keep accepting.
                Err(_) => {}
            }
        }
    }
}

/// Close the connection that matters least: one draining, else the longest idle, else
/// the slowest head. Never one being answered. False when every one is.
fn shed_one(conns: &mut Vec<Conn>) -> bool {
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
fn on_ready(c: &mut Conn, jobs: &Sender<Job>, now: Instant) {
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
fn advance(c: &mut Conn, jobs: &Sender<Job>, now: Instant) {
    loop {
        match &mut c.state {
            State::Writing {
                out,
                sent,
                deadline: _,
                close,
            } => {
                while *sent < out.len() {
                    match c.stream.write(&out[*sent..]) {
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

fn writing(out: Vec<u8>, close: bool, now: Instant) -> State {
    State::Writing {
        out,
        sent: 0,
        deadline: now + WRITE_TIMEOUT,
        close,
    }
}

/// Over the connection limit with every connection busy: say so, briefly, and close.
fn refuse(stream: TcpStream) {
    if stream.set_nonblocking(true).is_ok() {
        let r = Response::text(503, "too many connections\n");
        // A fresh socket's send buffer takes this whole; if not, the client gets less.
        let _ = (&stream).write(&r.encode(false, true));
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

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// accept(2) failing for want of descriptors or memory: the listener is fine.
fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_is_bounded() {
        let cap = connection_cap();
        assert!((MIN_CONNECTIONS..=MAX_CONNECTIONS).contains(&cap), "{cap}");
    }
}
