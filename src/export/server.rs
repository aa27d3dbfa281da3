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
//! (fewer under a low RLIMIT_NOFILE); a new one beyond that sheds the oldest idle one (else
//! the slowest half-sent head), or gets 503 when every one is being answered. A head must arrive whole within [`HEAD_TIMEOUT`] of its first
//! byte (dripping does not extend it), a response must be taken within [`WRITE_TIMEOUT`], a
//! kept-alive connection closes after [`IDLE_TIMEOUT`] without a request. One request per
//! connection is in flight; pipelined ones wait in a buffer bounded by the head limit.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::cache::Cache;
use super::closed::ClosedCounter;
use super::reactor::Reactor;
use super::response::{self, Response};

/// How the server answers.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The longest a scrape waits for a fresh snapshot before serving the last one.
    pub deadline: Duration,
    /// See [`super::metrics::render`].
    pub top_ports: usize,
    /// See [`super::metrics::try_render`].
    pub top_netns: usize,
    /// Threads that answer scrapes (connections are handled by one more).
    pub threads: usize,
    /// Closed-connection counters to serve, if counted.
    pub closed: Option<Arc<ClosedCounter>>,
}

/// Most connections open at once.
pub const MAX_CONNECTIONS: usize = 64;
/// Descriptors kept free for the collector (netlink, /proc) below RLIMIT_NOFILE.
pub const FD_RESERVE: u64 = 16;
/// Fewest connections allowed however low RLIMIT_NOFILE is.
pub const MIN_CONNECTIONS: usize = 4;
/// From a request's first byte to its complete head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// From a response being ready to its last byte taken by the client.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection without a request in flight (new, or kept alive) closes after this.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's bounds. [`Limits::default`] holds the documented figures; tests shorten them.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub head_timeout: Duration,
    pub write_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: connection_cap(),
            head_timeout: HEAD_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

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
        Exporter::start_with(addr, cache, opts, Limits::default())
    }

    /// [`Exporter::start`] with other bounds.
    pub fn start_with(
        addr: SocketAddr,
        cache: Arc<Cache>,
        opts: ServeOptions,
        limits: Limits,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        let listener = listen(addr).with_context(|| format!("cannot listen on {addr}"))?;
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
            let (jobs, done, waker, cache, opts, stop) = (
                Arc::clone(&job_rx),
                done_tx.clone(),
                Arc::clone(&waker),
                Arc::clone(&cache),
                opts.clone(),
                Arc::clone(&stop),
            );
            let handle = thread::Builder::new()
                .name(format!("sockeye-http-{i}"))
                .spawn(move || worker(&jobs, &done, &waker, &cache, &opts, &stop))
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
            limits,
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

/// The kernel's queue of connections not yet accepted. Longer than std's default, so a burst
/// of connections waits there instead of having its SYNs dropped (the kernel caps it at
/// net.core.somaxconn).
const LISTEN_BACKLOG: i32 = 1024;

/// Bind and listen as std does (SO_REUSEADDR, close-on-exec), with [`LISTEN_BACKLOG`].
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
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
pub(super) struct Job {
    pub(super) conn: u64,
    pub(super) head_only: bool,
    pub(super) close: bool,
    pub(super) scrape_timeout: Option<Duration>,
    pub(super) arrived: Instant,
}

/// A worker's answer, back to the connection thread.
pub(super) struct Done {
    pub(super) conn: u64,
    pub(super) out: Vec<u8>,
    pub(super) close: bool,
}

fn worker(
    jobs: &Mutex<Receiver<Job>>,
    done: &Sender<Done>,
    waker: &UnixStream,
    cache: &Cache,
    opts: &ServeOptions,
    stop: &AtomicBool,
) {
    loop {
        // The lock is only held while waiting; the channel ends when the reactor does.
        let job = match jobs.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // Scrapes still queued at a stop are dropped: the stop must not wait for them.
        if stop.load(Ordering::SeqCst) {
            continue;
        }
        // A bug in one answer must not shrink the pool or leave a connection waiting.
        let resp = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            response::scrape(
                cache,
                opts.deadline,
                job.scrape_timeout,
                (opts.top_ports, opts.top_netns),
                opts.closed.as_deref(),
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

pub(super) fn wake(waker: &UnixStream) {
    // A full socket already holds a wake-up; nothing else can go wrong that matters.
    let _ = (&*waker).write(&[1]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Snapshot, Source};
    use std::io::{self, Read};
    use std::net::TcpStream;
    use std::time::SystemTime;

    fn empty() -> Snapshot {
        Snapshot::new(SystemTime::now(), Source::Proc, Vec::new(), None)
    }

    /// A server on an ephemeral loopback port with short bounds; `slow` makes every
    /// collection take that long.
    fn server(limits: Limits, slow: Duration) -> Exporter {
        let cache = Cache::start(Duration::ZERO, move || {
            thread::sleep(slow);
            Ok(empty())
        })
        .unwrap();
        let opts = ServeOptions {
            deadline: Duration::from_secs(5),
            top_ports: 5,
            top_netns: 5,
            threads: 2,
            closed: None,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        Exporter::start_with(addr, Arc::new(cache), opts, limits).unwrap()
    }

    fn short() -> Limits {
        Limits {
            max_connections: 8,
            head_timeout: Duration::from_millis(300),
            write_timeout: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(300),
        }
    }

    fn connect(addr: SocketAddr) -> TcpStream {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    /// Everything until the server closes, with how long that took.
    fn read_all(mut s: &TcpStream) -> (String, Duration) {
        let started = Instant::now();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        (
            String::from_utf8_lossy(&raw).into_owned(),
            started.elapsed(),
        )
    }

    /// One answer on a kept-alive connection: reads until the body's length is in.
    fn read_one(mut s: &TcpStream) -> String {
        let mut raw = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&raw).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .and_then(|v| v.parse().ok())
                    .unwrap();
                if body.len() >= len {
                    return text;
                }
            }
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "closed mid-answer: {text}");
            raw.extend_from_slice(&chunk[..n]);
        }
    }

    const SCRAPE: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

    #[test]
    fn keep_alive_then_the_idle_timeout() {
        let exp = server(short(), Duration::ZERO);
        let mut s = connect(exp.addr());
        for _ in 0..3 {
            s.write_all(SCRAPE).unwrap();
            let answer = read_one(&s);
            assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
            assert!(answer.contains("Connection: keep-alive\r\n"));
        }
        let (rest, waited) = read_all(&s);
        assert_eq!(rest, "", "closed without a word");
        assert!(waited < Duration::from_secs(3), "idle for {waited:?}");
        exp.shutdown();
    }

    #[test]
    fn a_head_must_arrive_whole_in_time_however_it_drips() {
        let exp = server(short(), Duration::ZERO);
        let mut s = connect(exp.addr());
        let started = Instant::now();
        for &b in b"GET /metrics HTTP/1.1\r\nX-Drip: aaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if s.write_all(&[b]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let (answer, _) = read_all(&s);
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        exp.shutdown();
    }

    #[test]
    fn over_the_cap_the_oldest_idle_connection_is_shed() {
        let limits = Limits {
            max_connections: 2,
            idle_timeout: Duration::from_secs(60),
            ..short()
        };
        let exp = server(limits, Duration::ZERO);
        let oldest = connect(exp.addr());
        thread::sleep(Duration::from_millis(50));
        let _second = connect(exp.addr());
        thread::sleep(Duration::from_millis(50));
        let mut third = connect(exp.addr());
        let (rest, waited) = read_all(&oldest);
        assert_eq!(rest, "");
        assert!(waited < Duration::from_secs(3));
        third.write_all(SCRAPE).unwrap();
        assert!(read_one(&third).starts_with("HTTP/1.1 200 "));
        exp.shutdown();
    }

    #[test]
    fn with_every_connection_busy_a_new_one_gets_503() {
        let limits = Limits {
            max_connections: 1,
            ..short()
        };
        let exp = server(limits, Duration::from_millis(1500));
        let mut busy = connect(exp.addr());
        busy.write_all(SCRAPE).unwrap();
        thread::sleep(Duration::from_millis(200));
        let refused = connect(exp.addr());
        let (answer, _) = read_all(&refused);
        assert!(answer.starts_with("HTTP/1.1 503 "), "{answer:?}");
        assert!(read_one(&busy).starts_with("HTTP/1.1 "));
        exp.shutdown();
    }

    #[test]
    fn a_client_that_does_not_read_is_dropped_at_the_write_timeout() {
        let exp = server(short(), Duration::ZERO);
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        sock.connect(&exp.addr().into()).unwrap();
        let mut s: TcpStream = sock.into();
        let n = 2000;
        s.write_all(&SCRAPE.repeat(n)).unwrap();
        // Long past the write timeout; then what the server managed to send, and how it ends.
        thread::sleep(Duration::from_millis(1500));
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut raw = Vec::new();
        let mut chunk = [0u8; 65536];
        let ended = loop {
            match s.read(&mut chunk) {
                Ok(0) => break "closed",
                Ok(k) => raw.extend_from_slice(&chunk[..k]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break "still open",
                Err(_) => break "reset",
            }
        };
        let answers = String::from_utf8_lossy(&raw)
            .matches("HTTP/1.1 200")
            .count();
        assert_ne!(ended, "still open", "{answers} of {n} answers");
        assert!(answers < n, "every answer was taken: nothing to time out");
        exp.shutdown();
    }

    #[test]
    fn shutdown_closes_the_listener() {
        let exp = server(short(), Duration::ZERO);
        let addr = exp.addr();
        let _idle = connect(addr);
        exp.shutdown();
        assert!(TcpStream::connect(addr).is_err());
    }

    #[test]
    fn the_connection_cap_is_bounded() {
        let cap = connection_cap();
        assert!((MIN_CONNECTIONS..=MAX_CONNECTIONS).contains(&cap), "{cap}");
    }
}
