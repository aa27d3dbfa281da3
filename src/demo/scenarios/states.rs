//! Every TCP state ss can show, held at once on loopback without privileges (DESIGN 3e).
//! The scenario's port has the listener, an ESTAB pair and one pair per closing state, each
//! driven by a short recipe of calls; a TCP_DEFER_ACCEPT listener holds SYN-RECV, a full
//! accept queue holds SYN-SENT, a bound socket that never listens is bound-inactive.
//! Each held socket is checked against the state it should be in (TCP_INFO) and re-created
//! when it has left it (timers, a late ACK), at most once per `RETRY` per holder.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::common::{Base, DEFAULT_CONNECT_RATE, ReadOutcome, Rules, read_some, write_some};
use super::pacer::Budget;
use super::spec::{Command, Common, Kind, Scenario, Seen, Spec, runs_anywhere, scenario_parts};
use crate::demo::net::{self, ConnectOpts, ConnectState};
use crate::demo::view::listener;

pub static SPEC: Spec = Spec {
    name: "states",
    about: "Every TCP state at once, each labelled with the calls that put it there",
    hint: "LISTEN SYN-SENT SYN-RECV ESTAB FIN-WAIT-1/2 CLOSE-WAIT LAST-ACK CLOSING TIME-WAIT \
           + bound-inactive; `do states list` names them",
    man: "Holds at least one socket in every TCP state ss can show, on the scenario's port \
          and three more of its own (reported in status as extra_ports): LISTEN; ESTAB; \
          FIN-WAIT-1 (the server fills a client's zero receive window, then \
          shutdown(SHUT_WR): the FIN waits behind the data); FIN-WAIT-2 and CLOSE-WAIT (the \
          client shuts down, the server never closes); LAST-ACK (the same after the \
          client's FIN); CLOSING (the client's FIN arrives while the server's own still \
          waits behind data); TIME-WAIT (a client closes first, every 20 s); SYN-RECV (a \
          client that sends nothing to a TCP_DEFER_ACCEPT listener); SYN-SENT (a connect to \
          a listener whose accept queue is full); and a socket bound but never listening or \
          connected (bound-inactive, shown only by ss 6.8 and later). Sockets that leave their \
          state are re-created.",
    now,
    why,
    build: |addr, _| Ok(Box::new(States::new(addr)?)),
    commands: &[Command {
        name: "list",
        help: "each held socket: its ports, its state, the calls that put it there",
    }],
    unavailable: runs_anywhere,
    tables: super::spec::TCP,
};

fn now(s: &Seen<'_>) -> String {
    let v = s.view;
    format!(
        "{} · server side: {} ESTAB, {} FIN-WAIT, {} CLOSE-WAIT, {} LAST-ACK/CLOSING · \
         clients: {} FIN-WAIT, {} TIME-WAIT",
        listener(v),
        v.server.established,
        v.server.fin_wait,
        v.server.close_wait,
        v.server.other,
        v.client.fin_wait,
        v.client.time_wait
    )
}

fn why(_s: &Seen<'_>) -> String {
    "Each state is one recipe of calls: shutdown(SHUT_WR) behind data a peer with a zero \
     window cannot take leaves the FIN queued (FIN-WAIT-1; LAST-ACK after the peer's FIN; \
     CLOSING when the peer's FIN crosses it); a FIN never answered by close() leaves \
     CLOSE-WAIT and FIN-WAIT-2; the side that closes first waits 60 s in TIME-WAIT. \
     `do states list` names every socket."
        .into()
}

/// Least time between two re-creations of one holder.
const RETRY: Duration = Duration::from_secs(2);
/// How long a finished recipe may take to reach its state before it is re-created.
const SETTLE: Duration = Duration::from_secs(3);
/// A new TIME-WAIT every this often: TIME-WAIT lasts 60 s, so at most a few at once.
const TIME_WAIT_EVERY: Duration = Duration::from_secs(20);
/// The SYN-RECV client is replaced this often, well before the deferred request expires.
const SYN_RECV_LIFETIME: Duration = Duration::from_secs(300);
/// TCP_DEFER_ACCEPT in seconds: the kernel keeps an acked request this long (rounded up to
/// its retransmission schedule).
const DEFER_ACCEPT_SECS: i32 = 600;
/// Receive buffer of a client whose window is filled; send buffer of the server filling it.
const SMALL_BUF: u32 = 4096;
/// How often held sockets are checked against their state.
const CHECK_EVERY: Duration = Duration::from_millis(500);

const RULES: Rules = Rules {
    backlog: 16,
    // The ESTAB client, plus what `add` brings.
    max_clients: 4,
    initial: 1,
    connect: ConnectOpts {
        rcvbuf: None,
        syn_retries: None,
    },
    payload: b"",
    drain_on_reset: true,
    close_server_end: true,
    // Half the common cap: the recipes' own connections take the other half.
    connect_rate: DEFAULT_CONNECT_RATE / 2.0,
};

/// The recipes' connections (pairs, SYN-RECV and SYN-SENT clients): their rate and burst.
const RECIPE_RATE: f64 = DEFAULT_CONNECT_RATE / 2.0;
const RECIPE_BURST: usize = 12;

// Linux TCP states as TCP_INFO reports them (include/net/tcp_states.h).
const ESTABLISHED: u8 = 1;
const FIN_WAIT1: u8 = 4;
const FIN_WAIT2: u8 = 5;
const CLOSE_WAIT: u8 = 8;
const LAST_ACK: u8 = 9;
const CLOSING: u8 = 11;

/// One call of a recipe.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Call {
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
enum Recipe {
    FinWait1,
    CloseWait,
    LastAck,
    Closing,
    TimeWait,
}

impl Recipe {
    const HELD: [Recipe; 4] = [
        Recipe::FinWait1,
        Recipe::CloseWait,
        Recipe::LastAck,
        Recipe::Closing,
    ];

    fn calls(self) -> &'static [Call] {
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
    fn target(self) -> (u8, u8) {
        match self {
            Recipe::FinWait1 => (FIN_WAIT1, ESTABLISHED),
            Recipe::CloseWait => (CLOSE_WAIT, FIN_WAIT2),
            Recipe::LastAck => (LAST_ACK, FIN_WAIT2),
            Recipe::Closing => (CLOSING, FIN_WAIT2),
            Recipe::TimeWait => (0, 0),
        }
    }

    fn label(self) -> &'static str {
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

    fn rcvbuf(self) -> Option<u32> {
        self.calls()
            .contains(&Call::ServerFill)
            .then_some(SMALL_BUF)
    }
}

struct Pair {
    recipe: Recipe,
    client: Option<TcpStream>,
    server: Option<TcpStream>,
    connected: bool,
    /// Index of the next call in the recipe.
    next: usize,
    /// A fill that wrote something this step; the next step tries once more.
    filled: bool,
    done_at: Option<Instant>,
}

impl Pair {
    fn start(addr: SocketAddr, recipe: Recipe) -> io::Result<Pair> {
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

    fn client_addr(&self) -> Option<SocketAddr> {
        self.client.as_ref().and_then(|c| c.local_addr().ok())
    }

    fn done(&self) -> bool {
        self.next >= self.recipe.calls().len()
    }

    /// Run the recipe's calls as far as they go now. Err: the pair is broken.
    fn advance(&mut self, now: Instant) -> io::Result<()> {
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
    fn holds(&self, now: Instant) -> bool {
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

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
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

fn abort_on_close(s: &TcpStream) {
    let _ = SockRef::from(s).set_linger(Some(Duration::ZERO));
}

/// Read and discard; true once the peer's FIN is seen.
fn see_eof(s: &TcpStream) -> io::Result<bool> {
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
fn fill(s: &TcpStream) -> io::Result<bool> {
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

/// The socket's TCP state from TCP_INFO (its first byte), None when it cannot be read.
fn tcp_state(fd: RawFd) -> Option<u8> {
    let mut info = [0u8; 8];
    let mut len = info.len() as libc::socklen_t;
    // SAFETY: getsockopt(2) on a valid fd into a buffer of `len` bytes that outlives the call.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast::<libc::c_void>(),
            &raw mut len,
        )
    };
    (rc == 0 && len >= 1).then_some(info[0])
}

fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: setsockopt(2) on a valid fd, with a c_int that lives for the call and its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A listener the scenario never accepts from, with the clients that hold its picture.
struct Side {
    listener: TcpListener,
    addr: SocketAddr,
    clients: Vec<TcpStream>,
    last_start: Option<Instant>,
    /// When the newest client started (the SYN-RECV client is replaced after a while).
    since: Instant,
}

impl Side {
    fn new(listener: TcpListener, now: Instant) -> io::Result<Side> {
        let addr = listener.local_addr()?;
        Ok(Side {
            listener,
            addr,
            clients: Vec::new(),
            last_start: None,
            since: now,
        })
    }

    fn may_start(&self, now: Instant) -> bool {
        self.last_start
            .is_none_or(|t| now.duration_since(t) >= RETRY)
    }

    fn start(&mut self, opts: ConnectOpts, budget: &mut Budget, now: Instant) {
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
    fn drain(&self) -> bool {
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

pub struct States {
    base: Base<TcpStream>,
    pairs: Vec<Pair>,
    /// When each held recipe last started (re-creation is rate-limited per recipe).
    started: Vec<(Recipe, Instant)>,
    next_time_wait: Instant,
    last_check: Instant,
    syn_recv: Side,
    syn_sent: Side,
    bound: Socket,
    budget: Budget,
}

impl States {
    pub fn new(addr: SocketAddr) -> io::Result<States> {
        let now = Instant::now();
        let mut base = Base::bind(addr, RULES)?;
        base.start_initial(now);
        let any = SocketAddr::new(addr.ip(), 0);
        let deferred = net::listen(any, 4)?;
        set_int(
            deferred.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            DEFER_ACCEPT_SECS,
        )?;
        // Backlog 1 holds two un-accepted connections; the third SYN is dropped.
        let full = net::listen(any, 1)?;
        let bound = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        bound.bind(&any.into())?;
        let mut s = States {
            base,
            pairs: Vec::new(),
            started: Vec::new(),
            next_time_wait: now,
            last_check: now,
            syn_recv: Side::new(deferred, now)?,
            syn_sent: Side::new(full, now)?,
            bound,
            budget: Budget::new(RECIPE_RATE, RECIPE_BURST, now),
        };
        s.step(now);
        Ok(s)
    }

    fn bound_port(&self) -> u16 {
        self.bound
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port())
    }

    fn start_pair(&mut self, recipe: Recipe, now: Instant) {
        if !self.budget.take(now) {
            return;
        }
        self.started.retain(|(r, _)| *r != recipe);
        self.started.push((recipe, now));
        if let Ok(p) = Pair::start(self.base.addr, recipe) {
            self.pairs.push(p);
        }
    }

    /// Hand each accepted connection to the pair whose client it belongs to.
    fn match_server_ends(&mut self) {
        self.base.accept_pending(RULES.max_clients + 8, |s| s);
        let mut i = 0;
        while i < self.base.conns.len() {
            let peer = self.base.conns[i].peer_addr().ok();
            match self
                .pairs
                .iter_mut()
                .find(|p| p.server.is_none() && peer.is_some() && p.client_addr() == peer)
            {
                Some(p) => {
                    let s = self.base.conns.swap_remove(i);
                    if p.recipe.rcvbuf().is_some() {
                        let _ = net::set_sndbuf(&s, SMALL_BUF);
                    }
                    p.server = Some(s);
                }
                None => i += 1,
            }
        }
    }

    fn keep_pairs(&mut self, now: Instant) {
        let check = now.duration_since(self.last_check) >= CHECK_EVERY;
        self.pairs.retain_mut(|p| {
            let alive = p.advance(now).is_ok();
            let finished_tw = p.recipe == Recipe::TimeWait && p.done();
            alive && !finished_tw && (!check || p.holds(now))
        });
        for recipe in Recipe::HELD {
            let present = self.pairs.iter().any(|p| p.recipe == recipe);
            let recent = self
                .started
                .iter()
                .any(|(r, t)| *r == recipe && now.duration_since(*t) < RETRY);
            if !present && !recent {
                self.start_pair(recipe, now);
            }
        }
        if now >= self.next_time_wait {
            self.next_time_wait = now + TIME_WAIT_EVERY;
            if !self.pairs.iter().any(|p| p.recipe == Recipe::TimeWait) {
                self.start_pair(Recipe::TimeWait, now);
            }
        }
    }

    fn keep_syn_recv(&mut self, now: Instant) {
        let side = &mut self.syn_recv;
        // A client that reached the accept queue (or timed out) no longer shows SYN-RECV.
        let left = side.drain();
        let old = now.duration_since(side.since) >= SYN_RECV_LIFETIME;
        side.clients
            .retain(|c| !left && !old && !matches!(net::connect_state(c), ConnectState::Failed(_)));
        if side.clients.is_empty() && side.may_start(now) {
            side.start(ConnectOpts::default(), &mut self.budget, now);
        }
    }

    fn keep_syn_sent(&mut self, now: Instant) {
        let side = &mut self.syn_sent;
        side.clients
            .retain(|c| !matches!(net::connect_state(c), ConnectState::Failed(_)));
        let connected = side
            .clients
            .iter()
            .filter(|c| matches!(net::connect_state(c), ConnectState::Connected))
            .count();
        let waiting = side.clients.len() - connected;
        // Two fill the queue (backlog 1 holds two), then one waits in SYN-SENT.
        if side.clients.len() < 3 && waiting == 0 && side.may_start(now) {
            side.start(ConnectOpts::default(), &mut self.budget, now);
        }
        // More than three: a queued connection went away and a SYN got through; start over.
        if side.clients.len() > 3 || connected == 3 {
            side.clients.clear();
            // Reset connections stay in the accept queue until accepted.
            side.drain();
        }
    }

    fn list(&self) -> String {
        let mut lines = vec![format!(
            "{}: LISTEN (bind, listen(16)); ESTAB pair: connect, accept",
            self.base.addr.port()
        )];
        for p in &self.pairs {
            let client = p.client_addr().map_or(0, |a| a.port());
            let state = if p.done() { "held" } else { "on the way" };
            lines.push(format!(
                "{} <- {client}: {} ({state})",
                self.base.addr.port(),
                p.recipe.label()
            ));
        }
        lines.push(format!(
            "{}: LISTEN with TCP_DEFER_ACCEPT; its client connects and sends nothing: \
             server SYN-RECV, client ESTAB",
            self.syn_recv.addr.port()
        ));
        lines.push(format!(
            "{}: LISTEN with listen(1), never accepted; two connections fill the queue, \
             the third client's SYNs are dropped: SYN-SENT",
            self.syn_sent.addr.port()
        ));
        lines.push(format!(
            "{}: bound-inactive: socket(), bind(), nothing else (ss >= 6.8: state \
             bound-inactive)",
            self.bound_port()
        ));
        lines.join("\n")
    }
}

impl Scenario for States {
    scenario_parts!();

    fn step(&mut self, now: Instant) {
        self.base.progress_clients();
        self.match_server_ends();
        self.keep_pairs(now);
        self.keep_syn_recv(now);
        self.keep_syn_sent(now);
        if now.duration_since(self.last_check) >= CHECK_EVERY {
            self.last_check = now;
        }
    }

    fn interest(&self, fds: &mut Vec<libc::pollfd>) {
        self.base.listener_interest(RULES.max_clients + 8, fds);
        for c in &self.base.clients {
            c.interest(fds);
        }
        for p in &self.pairs {
            p.interest(fds);
        }
        fds.push(net::pollfd(
            self.syn_recv.listener.as_raw_fd(),
            libc::POLLIN,
        ));
    }

    fn next_due(&self, _now: Instant) -> Option<Duration> {
        // Recipes advance on short timers (a fill's second try, checks, re-creation).
        Some(Duration::from_millis(50))
    }

    fn command(&mut self, name: &str, _now: Instant) -> Result<String, String> {
        match name {
            "list" => Ok(self.list()),
            _ => Err(format!("states has no command {name}")),
        }
    }

    fn extra_ports(&self) -> Vec<u16> {
        vec![
            self.syn_recv.addr.port(),
            self.syn_sent.addr.port(),
            self.bound_port(),
        ]
    }

    fn restart(&mut self, now: Instant) -> Result<String, String> {
        self.pairs.clear();
        self.started.clear();
        self.syn_recv.clients.clear();
        self.syn_sent.clients.clear();
        self.syn_recv.drain();
        self.syn_sent.drain();
        self.syn_recv.last_start = None;
        self.syn_sent.last_start = None;
        self.base.start_initial(now);
        self.step(now);
        Ok("reset: every state is being set up again".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recipe_reaches_its_target_state_in_process() {
        let mut s = States::new("127.0.0.1:0".parse().unwrap()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let now = Instant::now();
            s.step(now);
            let held = Recipe::HELD.iter().all(|r| {
                s.pairs.iter().any(|p| {
                    let (want_s, want_c) = r.target();
                    p.recipe == *r
                        && p.done()
                        && p.server.as_ref().and_then(|x| tcp_state(x.as_raw_fd())) == Some(want_s)
                        && p.client.as_ref().and_then(|x| tcp_state(x.as_raw_fd())) == Some(want_c)
                })
            });
            let syn_sent = s
                .syn_sent
                .clients
                .iter()
                .any(|c| tcp_state(c.as_raw_fd()) == Some(2));
            if held && syn_sent {
                break;
            }
            assert!(now < deadline, "recipes did not settle: {}", s.list());
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(s.extra_ports().len(), 3);
        assert!(s.extra_ports().iter().all(|p| *p != 0));
        assert!(s.list().contains("TCP_DEFER_ACCEPT"));
    }

    #[test]
    fn recipes_that_fill_a_window_shrink_the_clients_buffer() {
        for r in Recipe::HELD {
            let fills = r.calls().contains(&Call::ServerFill);
            assert_eq!(r.rcvbuf().is_some(), fills, "{r:?}");
        }
        assert!(Recipe::TimeWait.calls().starts_with(&[Call::ClientClose]));
    }
}
