//! Unix domain sockets, under the demo's control directory: a stream listener with backlog 1
//! that nobody accepts from (two connections queue, its Recv-Q reads 2; the next connect()
//! fails at once with EAGAIN — there is no SYN-SENT to wait in), and a datagram socket
//! nobody reads (the sender's Send-Q is the memory its queued datagrams hold; after
//! net.unix.max_dgram_qlen + 1 of them its send() gets EAGAIN: nothing is dropped, unlike UDP).

use std::fs;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, Socket, Type};

use super::common::{DEFAULT_CONNECT_RATE, HELLO, MAX_SEND};
use super::pacer::{Budget, Pacer};
use super::spec::{
    AT_RATE_CAP, Command, Common, Kind, Options, Scenario, ScenarioStatus, Seen, Spec,
    runs_anywhere, scenario_parts,
};
use crate::demo::net;
use crate::demo::view::UnixSeen;
use crate::model::{Netid, TcpState};

pub static SPEC: Spec = Spec {
    name: "unix",
    about: "Unix sockets: a listener's queue (backlog 1) and datagrams nobody reads",
    hint: "u_str LISTEN Recv-Q 2 (backlog 1, never accepted; the next connect() gets EAGAIN); \
           u_dgr sender Send-Q = memory of unread datagrams (ss -xa)",
    man: "Two unix domain sockets in the demo's control directory (reported in status as \
          paths). unix-stream.sock listens with backlog 1 and is not accepted from: two \
          connections wait in its queue (ss -xl shows the listener's Recv-Q 2, Send-Q 1) and \
          a third connect() fails at once with EAGAIN, where TCP would leave the client in \
          SYN-SENT. resume accepts them (u_str ESTAB pairs), pause stops accepting again. \
          unix-dgram.sock is sent a datagram twice a second from unix-dgram-sender.sock and \
          never reads: ss shows the receiver's Recv-Q as the size of the next datagram and \
          the sender's Send-Q as the memory its queued datagrams hold; after \
          net.unix.max_dgram_qlen + 1 datagrams (11 by default) the sender's send() gets \
          EAGAIN; a unix datagram is never dropped silently. drain reads the queue once.",
    now,
    why,
    build: |_, opts| Ok(Box::new(Unix::new(opts)?)),
    commands: &[Command {
        name: "drain",
        help: "the datagram receiver reads everything queued (its Recv-Q and the sender's \
               Send-Q drop to 0)",
    }],
    unavailable: runs_anywhere,
    tables: &[Netid::UnixStream, Netid::UnixDgram],
};

pub const STREAM_NAME: &str = "unix-stream.sock";
pub const DGRAM_NAME: &str = "unix-dgram.sock";
pub const SENDER_NAME: &str = "unix-dgram-sender.sock";

/// What the snapshot holds about the scenario's three paths.
struct Picture<'a> {
    listener: Option<&'a UnixSeen>,
    accepted: usize,
    receiver: Option<&'a UnixSeen>,
    sender: Option<&'a UnixSeen>,
}

fn picture<'a>(s: &'a Seen<'_>) -> Picture<'a> {
    fn named(name: &'static str) -> impl Fn(&&UnixSeen) -> bool {
        move |u| u.path.rsplit('/').next() == Some(name)
    }
    let unix = &s.view.unix;
    Picture {
        listener: unix
            .iter()
            .filter(named(STREAM_NAME))
            .find(|u| u.state == TcpState::Listen),
        accepted: unix
            .iter()
            .filter(named(STREAM_NAME))
            .filter(|u| u.state == TcpState::Established)
            .count(),
        receiver: unix.iter().find(named(DGRAM_NAME)),
        sender: unix.iter().find(named(SENDER_NAME)),
    }
}

fn q(v: Option<u32>) -> String {
    v.map_or_else(|| "-".into(), |n| n.to_string())
}

fn now(s: &Seen<'_>) -> String {
    let p = picture(s);
    let listen = p.listener.map_or_else(
        || "no u_str listener seen".to_string(),
        |l| format!("u_str LISTEN {}/{}", q(l.recv_q), q(l.send_q)),
    );
    let dgram = match (p.receiver, p.sender) {
        (Some(r), Some(snd)) => format!(
            "u_dgr receiver Recv-Q {}, sender Send-Q {}",
            q(r.recv_q),
            q(snd.send_q)
        ),
        _ => "u_dgr sockets not seen".into(),
    };
    format!("{listen} · {} accepted · {dgram}", p.accepted)
}

fn why(s: &Seen<'_>) -> String {
    let accepting = s.status.is_some_and(|st| st.accepting);
    let stream = if accepting {
        "The server accepts: each connection leaves the queue as a u_str ESTAB pair."
    } else {
        "Nobody calls accept(): a unix listener with backlog 1 queues two connections (its \
         Recv-Q), then connect() fails at once with EAGAIN — no handshake, no SYN-SENT."
    };
    format!(
        "{stream} Datagrams nobody reads stay charged to the sender (its Send-Q is their \
         memory; the receiver's Recv-Q is the next one's size); after max_dgram_qlen + 1 the \
         sender gets EAGAIN instead of a silent drop."
    )
}

/// Listen backlog: the kernel queues backlog + 1 connections.
const BACKLOG: i32 = 1;
/// Stream clients open at once (queued, accepted or both).
const MAX_CLIENTS: usize = 8;
/// Clients of the opening picture: two fill the queue, the third is refused.
const INITIAL: usize = 3;
/// Datagrams per second from the sender, and the most it may be set to.
const DEFAULT_RATE: f64 = 2.0;
const MAX_RATE: f64 = 50.0;

/// A socket file the scenario made, removed on drop if it is still the one it made.
struct Bound {
    path: PathBuf,
    identity: (u64, u64),
}

impl Bound {
    fn new(path: PathBuf) -> io::Result<Bound> {
        let meta = fs::symlink_metadata(&path)?;
        Ok(Bound {
            path,
            identity: (meta.dev(), meta.ino()),
        })
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        if let Ok(meta) = fs::symlink_metadata(&self.path)
            && (meta.dev(), meta.ino()) == self.identity
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Make room for a socket at `path`: nothing there, or a socket nobody listens on (left by a
/// demo that died), which is removed. Anything else is an error naming it.
fn clear_stale(path: &Path, stream: bool) -> io::Result<()> {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(());
    };
    let in_use = || {
        io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{} is in use by another program", path.display()),
        )
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", path.display()),
        ));
    }
    let alive = if stream {
        UnixStream::connect(path).is_ok()
    } else {
        UnixDatagram::unbound()
            .and_then(|d| d.connect(path))
            .is_ok()
    };
    if alive {
        return Err(in_use());
    }
    fs::remove_file(path)
}

/// `e` naming the socket file it is about (a missing directory is otherwise a bare ENOENT).
fn at_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "cannot bind {}: {e}",
            crate::text::escape(&path.to_string_lossy())
        ),
    )
}

fn listen(path: &Path) -> io::Result<UnixListener> {
    clear_stale(path, true)?;
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.bind(&SockAddr::unix(path)?)?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

fn datagram(path: &Path) -> io::Result<UnixDatagram> {
    clear_stale(path, false)?;
    let d = UnixDatagram::bind(path)?;
    d.set_nonblocking(true)?;
    Ok(d)
}

/// Connect without waiting: a full unix listener answers EAGAIN at once.
fn connect(path: &Path) -> io::Result<UnixStream> {
    let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking(), None)?;
    socket.connect(&SockAddr::unix(path)?)?;
    Ok(socket.into())
}

/// Whether the peer of a non-blocking stream has closed (a peek reads end of file).
fn peer_closed(s: &UnixStream) -> bool {
    let mut one = [std::mem::MaybeUninit::new(0u8)];
    matches!(socket2::SockRef::from(s).peek(&mut one), Ok(0))
}

struct UnixBase {
    dir: PathBuf,
    listener: UnixListener,
    clients: Vec<UnixStream>,
    accepted: Vec<UnixStream>,
    accepting: bool,
    accepted_total: u64,
    /// connect() calls the full queue refused with EAGAIN since start or reset.
    refused: u64,
    receiver: UnixDatagram,
    sender: UnixDatagram,
    /// send() calls the full datagram queue refused with EAGAIN.
    blocked: u64,
    budget: Budget,
    // Last, so the files go after the sockets.
    files: Vec<Bound>,
}

impl UnixBase {
    fn stream_path(&self) -> PathBuf {
        self.dir.join(STREAM_NAME)
    }

    fn drain_datagrams(&mut self) -> usize {
        let mut buf = [0u8; 256];
        let mut n = 0;
        // Bounded: the queue holds max_dgram_qlen + 1 datagrams.
        while n < 4096 && self.receiver.recv(&mut buf).is_ok() {
            n += 1;
        }
        n
    }
}

impl Common for UnixBase {
    fn port(&self) -> u16 {
        0
    }

    fn clients_len(&self) -> usize {
        self.clients.len()
    }

    fn max_clients(&self) -> usize {
        MAX_CLIENTS
    }

    fn start_clients(&mut self, n: usize, now: Instant) -> usize {
        let mut started = 0;
        while started < n && self.clients.len() < MAX_CLIENTS && self.budget.take(now) {
            match connect(&self.stream_path()) {
                Ok(c) => self.clients.push(c),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.refused += 1,
                Err(_) => break,
            }
            started += 1;
        }
        started
    }

    fn start_initial(&mut self, now: Instant) {
        self.start_clients(INITIAL, now);
    }

    fn send_from_newest(&mut self, data: &[u8]) -> Result<String, String> {
        let Some(c) = self.clients.last_mut() else {
            return Err("no connected client to send from; add one first".into());
        };
        match c.write(&data[..data.len().min(MAX_SEND)]) {
            Ok(n) => Ok(format!("sent {n} bytes from the newest client")),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                Err("that client's peer is not reading and its buffer is full".into())
            }
            Err(e) => Err(format!("send failed: {e}")),
        }
    }

    fn close_oldest(&mut self, n: usize) -> usize {
        let k = n.min(self.clients.len());
        self.clients.drain(..k);
        k
    }

    fn set_accepting(&mut self, on: bool) -> String {
        self.accepting = on;
        if on { "accepting" } else { "not accepting" }.into()
    }

    fn reset(&mut self) {
        self.clients.clear();
        self.accepted.clear();
        // Connections still queued are dropped with the accepted ones.
        while self.listener.accept().is_ok() {}
        self.drain_datagrams();
        self.accepting = false;
        self.accepted_total = 0;
        self.refused = 0;
        self.blocked = 0;
    }

    fn status(&self, kind: Kind) -> ScenarioStatus {
        ScenarioStatus {
            name: kind,
            port: 0,
            accepting: self.accepting,
            clients: self.clients.len(),
            connecting: 0,
            server_conns: self.accepted.len(),
            accepted_total: self.accepted_total,
            rate: None,
            max_rate: None,
            max_clients: MAX_CLIENTS,
            extra_ports: Vec::new(),
            paths: self
                .files
                .iter()
                .map(|f| f.path.display().to_string())
                .collect(),
            focus: None,
        }
    }
}

pub struct Unix {
    base: UnixBase,
    pacer: Pacer,
}

impl Unix {
    pub fn new(opts: &Options) -> io::Result<Unix> {
        let Some(dir) = opts.unix_dir.clone() else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the unix scenario needs the demo's control directory",
            ));
        };
        let stream = dir.join(STREAM_NAME);
        let dgram = dir.join(DGRAM_NAME);
        let sender_path = dir.join(SENDER_NAME);
        let listener = listen(&stream).map_err(|e| at_path(&stream, e))?;
        let mut files = vec![Bound::new(stream)?];
        let receiver = datagram(&dgram).map_err(|e| at_path(&dgram, e))?;
        files.push(Bound::new(dgram.clone())?);
        let sender = datagram(&sender_path).map_err(|e| at_path(&sender_path, e))?;
        files.push(Bound::new(sender_path)?);
        sender.connect(&dgram)?;
        let now = Instant::now();
        let mut base = UnixBase {
            dir,
            listener,
            clients: Vec::new(),
            accepted: Vec::new(),
            accepting: false,
            accepted_total: 0,
            refused: 0,
            receiver,
            sender,
            blocked: 0,
            budget: Budget::new(DEFAULT_CONNECT_RATE, MAX_CLIENTS, now),
            files,
        };
        base.start_initial(now);
        Ok(Unix {
            base,
            pacer: Pacer::new(DEFAULT_RATE, MAX_RATE, now),
        })
    }
}

impl Scenario for Unix {
    scenario_parts!(paced);

    fn step(&mut self, now: Instant) {
        let b = &mut self.base;
        while b.accepting && b.accepted.len() < MAX_CLIENTS {
            let Ok((s, _)) = b.listener.accept() else {
                break;
            };
            if s.set_nonblocking(true).is_err() {
                continue;
            }
            b.accepted_total += 1;
            b.accepted.push(s);
        }
        // A client that closed leaves its accepted end reading EOF: let it go too.
        b.accepted.retain(|s| !peer_closed(s));
        if self.pacer.due(now) {
            match self.base.sender.send(HELLO) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.base.blocked += 1,
                Err(_) => {}
            }
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        let b = &self.base;
        if b.accepting && b.accepted.len() < MAX_CLIENTS {
            fds.push(net::pollfd(b.listener.as_raw_fd(), libc::POLLIN));
        }
    }

    fn next_due(&self, now: Instant) -> Option<Duration> {
        // The accepted ends are checked for EOF at least this often.
        Some(
            self.pacer
                .until_due(now)
                .map_or(Duration::from_millis(500), |d| {
                    d.min(Duration::from_millis(500))
                }),
        )
    }

    fn rate_message(&self, rate: f64) -> String {
        format!("{rate} datagrams/s")
    }

    fn add(&mut self, n: usize, now: Instant) -> Result<String, String> {
        let refused = self.base.refused;
        let before = self.base.clients.len();
        if self.base.start_clients(n, now) == 0 {
            return Err(AT_RATE_CAP.into());
        }
        let connected = self.base.clients.len() - before;
        let eagain = self.base.refused - refused;
        if eagain > 0 && connected == 0 {
            return Err(format!(
                "connect() failed with EAGAIN: the listener's queue (backlog {BACKLOG}) is full"
            ));
        }
        Ok(format!(
            "connected {connected} client(s), {eagain} refused (EAGAIN)"
        ))
    }

    fn command(&mut self, name: &str, _now: Instant) -> Result<String, String> {
        match name {
            "drain" => Ok(format!(
                "read {} datagram(s); the sender's send() got EAGAIN {} time(s) since the last \
                 reset",
                self.base.drain_datagrams(),
                self.base.blocked
            )),
            _ => Err(format!("unix has no command {name}")),
        }
    }

    fn restart(&mut self, now: Instant) -> Result<String, String> {
        self.base.start_initial(now);
        Ok("reset: not accepting, queue refilled, datagrams drained".into())
    }
}
