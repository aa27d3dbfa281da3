//! The tutorials' three servers side by side, the same clients against each: a
//! single-threaded one that serves one connection at a time (the others wait in its accept
//! queue, their lines unread), a thread-per-connection one and the poll(2) echo. Each client
//! sends a line every half second and leaves after `LINES` echoes; the queue builds only at
//! the single-threaded server. The scenario's port is that server's; the other two are
//! `extra_ports` (threads, then poll).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::common::{
    Base, DEFAULT_CONNECT_RATE, EchoConn, HELLO, ReadOutcome, Rules, ServerConn, read_some,
};
use super::spec::{Common, Kind, Scenario, Seen, Spec, runs_anywhere, scenario_parts};
use crate::demo::net::{self, ConnectOpts};
use crate::demo::view::listener;

pub static SPEC: Spec = Spec {
    name: "threads",
    about: "Single-threaded vs thread-per-connection vs poll, the same clients at each",
    hint: "single-threaded LISTEN Recv-Q climbs (one client served at a time), thread-per-\
           connection and poll stay at 0 (extra_ports: threads, poll)",
    man: "Three echo servers side by side, four clients each that send a line every half \
          second and leave after four echoes: a single-threaded server that accept()s and \
          serves one connection at a time (on the scenario's port: the other clients wait in \
          its accept queue, listener Recv-Q up to 3, and their lines sit unread in Recv-Q), \
          a thread-per-connection server (one thread per accepted socket, at most 8) and an \
          event-driven poll(2) server (the first and second of extra_ports). The queue builds \
          only at the first.",
    now,
    why,
    build: |addr, _| Ok(Box::new(Threads::new(addr)?)),
    commands: &[],
    unavailable: runs_anywhere,
    tables: super::spec::TCP,
};

fn extra_listener(s: &Seen<'_>, i: usize) -> String {
    let port = s.status.and_then(|st| st.extra_ports.get(i).copied());
    match port.and_then(|p| s.view.extra_listen.iter().find(|(x, ..)| *x == p)) {
        Some((_, r, q)) => format!(
            "LISTEN {}/{}",
            r.map_or("-".into(), |n| n.to_string()),
            q.map_or("-".into(), |n| n.to_string())
        ),
        None => "LISTEN ?".into(),
    }
}

fn now(s: &Seen<'_>) -> String {
    format!(
        "single {} · max Recv-Q {} · threads {} · poll {}",
        listener(s.view),
        s.view.server_max_recv_q,
        extra_listener(s, 0),
        extra_listener(s, 1)
    )
}

fn why(_s: &Seen<'_>) -> String {
    "A single-threaded server is busy with one client until it leaves: the others wait in the \
     accept queue (listener Recv-Q) or, once accepted, in Recv-Q. One thread per connection \
     or one poll() loop over every socket serves them all at once: queues stay at 0."
        .into()
}

/// Clients per server.
const CLIENTS: usize = 4;
/// A client sends a line this often and leaves after this many echoed lines.
const LINE_EVERY: Duration = Duration::from_millis(500);
const LINES: usize = 4;
/// How long a thread's blocking read waits before it looks at the stop flag.
const THREAD_POLL: Duration = Duration::from_millis(200);

const RULES: Rules = Rules {
    backlog: 8,
    max_clients: CLIENTS,
    initial: CLIENTS,
    connect: ConnectOpts {
        rcvbuf: None,
        syn_retries: None,
    },
    payload: b"",
    drain_on_reset: true,
    close_server_end: true,
    connect_rate: DEFAULT_CONNECT_RATE,
};

/// An accepted socket served by a thread of its own, stopped and joined on drop.
struct ThreadConn {
    stream: TcpStream,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ThreadConn {
    /// Serve `stream` on a new thread; if no thread can start, the connection is closed at
    /// the next step (it comes back done).
    fn start(stream: TcpStream) -> ThreadConn {
        match ThreadConn::spawn(&stream) {
            Ok((done, thread)) => ThreadConn {
                stream,
                done,
                thread: Some(thread),
            },
            Err(_) => ThreadConn {
                stream,
                done: Arc::new(AtomicBool::new(true)),
                thread: None,
            },
        }
    }

    fn spawn(stream: &TcpStream) -> io::Result<(Arc<AtomicBool>, JoinHandle<()>)> {
        let mine = stream.try_clone()?;
        mine.set_nonblocking(false)?;
        mine.set_read_timeout(Some(THREAD_POLL))?;
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let thread = std::thread::Builder::new()
            .name("demo-threads-conn".into())
            .spawn(move || serve_blocking(mine, &flag))?;
        Ok((done, thread))
    }
}

/// The tutorials' per-connection loop: read, write it back, until the peer closes.
fn serve_blocking(mut s: TcpStream, done: &AtomicBool) {
    let mut buf = [0u8; 512];
    while !done.load(Ordering::SeqCst) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if s.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::TimedOut
                    || e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    done.store(true, Ordering::SeqCst);
}

impl ServerConn for ThreadConn {
    fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

impl Drop for ThreadConn {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        // Wakes the thread's read at once.
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Send a line every `LINE_EVERY`, count the echoes, leave after `LINES`; top the pool up.
fn drive_clients<C: ServerConn>(
    base: &mut Base<C>,
    echoed: &mut HashMap<u16, usize>,
    now: Instant,
) {
    base.progress_clients();
    base.clients.retain_mut(|c| {
        if !c.connected {
            return true;
        }
        if now >= c.next {
            c.next = now + LINE_EVERY;
            // A client not being served does not pile up more than a few lines.
            if c.outbox.len() < 4 * HELLO.len() {
                c.outbox.extend_from_slice(HELLO);
            }
            if c.flush().is_err() {
                return false;
            }
        }
        let mut got = 0;
        let mut buf = [0u8; 256];
        loop {
            match read_some(&c.stream, &mut buf) {
                ReadOutcome::Data(n) => got += n,
                ReadOutcome::Nothing => break,
                ReadOutcome::Eof | ReadOutcome::Failed => return false,
            }
        }
        let Some(port) = c.local_addr().map(|a| a.port()) else {
            return false;
        };
        let total = echoed.entry(port).or_insert(0);
        *total += got;
        let stay = *total < LINES * HELLO.len();
        if !stay {
            echoed.remove(&port);
        }
        stay
    });
    let missing = CLIENTS.saturating_sub(base.clients.len());
    if missing > 0 {
        base.start_clients(missing, now);
    }
}

fn clients_interest<C: ServerConn>(base: &Base<C>, fds: &mut Vec<libc::pollfd>) {
    for c in &base.clients {
        c.interest(fds);
        if c.connected {
            fds.push(net::pollfd(c.stream.as_raw_fd(), libc::POLLIN));
        }
    }
}

pub struct Threads {
    /// Single-threaded: the scenario's port.
    base: Base<EchoConn>,
    threaded: Base<ThreadConn>,
    polled: Base<EchoConn>,
    echoed: HashMap<u16, usize>,
}

impl Threads {
    pub fn new(addr: SocketAddr) -> io::Result<Threads> {
        let now = Instant::now();
        let any = SocketAddr::new(addr.ip(), 0);
        let mut t = Threads {
            base: Base::bind(addr, RULES)?,
            threaded: Base::bind(any, RULES)?,
            polled: Base::bind(any, RULES)?,
            echoed: HashMap::new(),
        };
        t.start_all(now);
        Ok(t)
    }

    fn start_all(&mut self, now: Instant) {
        self.base.start_initial(now);
        self.threaded.start_initial(now);
        self.polled.start_initial(now);
    }

    fn serve(conns: &mut Vec<EchoConn>) {
        let mut buf = [0u8; 512];
        conns.retain_mut(|c| c.serve(&mut buf));
    }
}

impl Scenario for Threads {
    scenario_parts!();

    fn step(&mut self, now: Instant) {
        // Single-threaded: one connection at a time; the next is accepted when it leaves.
        self.base.accept_pending(1, EchoConn::new);
        Self::serve(&mut self.base.conns);
        self.polled.accept_pending(CLIENTS * 2, EchoConn::new);
        Self::serve(&mut self.polled.conns);
        self.threaded
            .conns
            .retain(|c| !c.done.load(Ordering::SeqCst));
        self.threaded.accept_pending(CLIENTS * 2, ThreadConn::start);
        drive_clients(&mut self.base, &mut self.echoed, now);
        drive_clients(&mut self.threaded, &mut self.echoed, now);
        drive_clients(&mut self.polled, &mut self.echoed, now);
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(1, fds);
        self.polled.listener_interest(CLIENTS * 2, fds);
        self.threaded.listener_interest(CLIENTS * 2, fds);
        for c in self.base.conns.iter().chain(&self.polled.conns) {
            c.interest(fds);
        }
        clients_interest(&self.base, fds);
        clients_interest(&self.threaded, fds);
        clients_interest(&self.polled, fds);
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        let clients = self
            .base
            .clients
            .iter()
            .chain(&self.threaded.clients)
            .chain(&self.polled.clients);
        clients.map(|c| c.next.saturating_duration_since(now)).min()
    }

    fn extra_ports(&self) -> Vec<u16> {
        vec![self.threaded.port(), self.polled.port()]
    }

    fn add(&mut self, n: usize, now: Instant) -> Result<String, String> {
        let k = self.base.start_clients(n, now)
            + self.threaded.start_clients(n, now)
            + self.polled.start_clients(n, now);
        match k {
            0 => Err(super::spec::AT_RATE_CAP.into()),
            k => Ok(format!("connecting {k} client(s) across the three servers")),
        }
    }

    fn close(&mut self, n: usize) -> String {
        let k =
            self.base.close_oldest(n) + self.threaded.close_oldest(n) + self.polled.close_oldest(n);
        format!("closed {k} client(s) across the three servers")
    }

    fn restart(&mut self, now: Instant) -> Result<String, String> {
        self.threaded.reset();
        self.polled.reset();
        self.echoed.clear();
        self.start_all(now);
        Ok("reset: four new clients at each server".into())
    }
}
