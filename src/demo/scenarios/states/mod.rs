//! Every TCP state ss can show, held at once on loopback without privileges (DESIGN 3e).
//! The scenario's port has the listener, an ESTAB pair and one pair per closing state, each
//! driven by a short recipe of calls; a TCP_DEFER_ACCEPT listener holds SYN-RECV, a full
//! accept queue holds SYN-SENT, a bound socket that never listens is bound-inactive.
//! Each held socket is checked against the state it should be in (TCP_INFO) and re-created
//! when it has left it (timers, a late ACK), at most once per `RETRY` per holder.
//!
//! Modules: `recipe` (the pairs and the calls that put them in their states), `side` (the
//! SYN-RECV and SYN-SENT listeners), `sockopt` (TCP_INFO and the raw options).

pub(super) mod recipe;
mod side;
pub(super) mod sockopt;

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use super::common::{Base, DEFAULT_CONNECT_RATE, Rules};
use super::pacer::Budget;
use super::spec::{Command, Common, Kind, Scenario, Seen, Spec, runs_anywhere, scenario_parts};
use crate::demo::net::{self, ConnectOpts, ConnectState};
use crate::demo::view::listener;
use recipe::{Pair, Recipe, SMALL_BUF};
use side::{RETRY, Side};
use sockopt::set_int;

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

/// A new TIME-WAIT every this often: TIME-WAIT lasts 60 s, so at most a few at once.
const TIME_WAIT_EVERY: Duration = Duration::from_secs(20);
/// The SYN-RECV client is replaced this often, well before the deferred request expires.
const SYN_RECV_LIFETIME: Duration = Duration::from_secs(300);
/// TCP_DEFER_ACCEPT in seconds: the kernel keeps an acked request this long (rounded up to
/// its retransmission schedule).
const DEFER_ACCEPT_SECS: i32 = 600;
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
    use super::sockopt::tcp_state;
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
}
