//! `net.ipv4.tcp_abort_on_overflow`, tried in two private network namespaces the demo
//! creates (the sysctl is per namespace; the host's is never touched): one with it at 1, one
//! at 0. It only acts at the end of a handshake: a SYN that finds the accept queue full is
//! dropped whatever it says (the client waits in SYN-SENT, as in `backlog`). So each trial
//! holds a client's handshake open with TCP_DEFER_ACCEPT, fills the listen(1) queue with two
//! other connections, then lets the client send: its data would complete the handshake into
//! a full queue. With the sysctl at 1 the server answers with a reset (the client's socket
//! fails with ECONNRESET at once); at 0 it drops the segment and the client stays ESTAB, its
//! data unacknowledged, retransmitting. Needs root (unshare, sysctl).

mod netns;

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::Socket;

use super::common::{Base, HELLO, Rules, write_some};
use super::spec::{Command, Common, Kind, Scenario, Seen, Spec, scenario_parts};
use super::states::sockopt::{abort_on_close, set_int, tcp_state};
use crate::demo::net::{self, ConnectOpts, ConnectState};
use netns::Netns;

pub static SPEC: Spec = Spec {
    name: "abort",
    about: "tcp_abort_on_overflow=1 against 0, in private network namespaces (root)",
    hint: "in two private netns: an overflow at the handshake's end gets a RST (ECONNRESET) \
           with tcp_abort_on_overflow=1, is dropped silently with 0; `do abort try`",
    man: "Runs only as root, inside two private network namespaces the demo creates (the host's \
          sysctls are not touched): one with net.ipv4.tcp_abort_on_overflow=1, one with 0. \
          The sysctl acts only when a handshake completes into a full accept queue (a SYN \
          that finds the queue full is dropped either way, and the client waits in SYN-SENT, \
          as in backlog). Each trial holds a client's handshake open with TCP_DEFER_ACCEPT, \
          fills the listen(1) queue with two other connections, then lets the client send: \
          with 1 the server resets it and its socket fails with ECONNRESET at once; with 0 \
          the segment is dropped, the client stays ESTAB with its data unacknowledged and \
          retransmits. status names the namespaces (paths: /proc/PID/task/TID/ns/net, for \
          nsenter --net=PATH ss -tan). As another user it is listed as unavailable.",
    now,
    why,
    build: |addr, _| Ok(Box::new(Abort::new(addr)?)),
    commands: &[
        Command {
            name: "try",
            help: "run the trial again in both namespaces",
        },
        Command {
            name: "result",
            help: "what the last trial saw in each namespace",
        },
    ],
    unavailable,
    tables: super::spec::TCP,
};

fn unavailable() -> Option<String> {
    // SAFETY: geteuid(2) cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    (!root).then(|| {
        "needs root: it sets net.ipv4.tcp_abort_on_overflow, which it does only inside \
         private network namespaces it creates"
            .into()
    })
}

fn now(_s: &Seen<'_>) -> String {
    "in two private netns (not in this view): `do abort result` says what each saw".into()
}

fn why(_s: &Seen<'_>) -> String {
    "tcp_abort_on_overflow acts when a handshake completes into a full accept queue: 1 \
     answers with a reset (the client fails with ECONNRESET at once), 0 drops the ACK and \
     lets the client retransmit. A SYN to a full queue is dropped either way."
        .into()
}

/// The scenario's own listener on the host holds nothing: everything is in the namespaces.
const RULES: Rules = Rules {
    backlog: 1,
    max_clients: 0,
    initial: 0,
    connect: ConnectOpts {
        rcvbuf: None,
        syn_retries: None,
    },
    payload: b"",
    drain_on_reset: true,
    close_server_end: false,
    connect_rate: 1.0,
};

/// How long after the client's data the trial looks at the outcome.
const SETTLE: Duration = Duration::from_millis(500);
/// A trial that has not finished by then reports that.
const GIVE_UP: Duration = Duration::from_secs(10);
const DEFER_ACCEPT_SECS: i32 = 60;

#[derive(Debug, PartialEq)]
enum Phase {
    /// The client and the two fillers are connecting; fillers write once connected.
    Connecting,
    /// The client sent its data at this moment.
    Sent(Instant),
    Done(String),
}

/// One namespace's listener and its current trial.
struct Trial {
    ns: Netns,
    abort: bool,
    listener: Socket,
    addr: SocketAddr,
    client: Option<TcpStream>,
    fillers: Vec<(TcpStream, bool)>,
    phase: Phase,
    started: Instant,
}

impl Trial {
    fn new(abort: bool) -> io::Result<Trial> {
        let sysctl: &'static [(&str, &str)] = if abort {
            &[("ipv4/tcp_abort_on_overflow", "1")]
        } else {
            &[("ipv4/tcp_abort_on_overflow", "0")]
        };
        let ns = Netns::new(if abort { "abort" } else { "default" }, sysctl)?;
        let listener = ns.tcp_socket()?;
        listener.set_reuse_address(true)?;
        set_int(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            DEFER_ACCEPT_SECS,
        )?;
        let any: SocketAddr = "127.0.0.1:0".parse().map_err(io::Error::other)?;
        listener.bind(&any.into())?;
        listener.listen(1)?;
        let addr = listener
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("the listener has no address"))?;
        let mut t = Trial {
            ns,
            abort,
            listener,
            addr,
            client: None,
            fillers: Vec::new(),
            phase: Phase::Done(String::new()),
            started: Instant::now(),
        };
        t.start()?;
        Ok(t)
    }

    fn connect(&self) -> io::Result<TcpStream> {
        let s = self.ns.tcp_socket()?;
        match s.connect(&self.addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        Ok(s.into())
    }

    fn clear(&mut self) {
        for s in self
            .client
            .iter()
            .chain(self.fillers.iter().map(|(s, _)| s))
        {
            abort_on_close(s);
        }
        self.client = None;
        self.fillers.clear();
        while let Ok((s, _)) = self.listener.accept() {
            let _ = s.set_linger(Some(Duration::ZERO));
        }
    }

    fn start(&mut self) -> io::Result<()> {
        self.clear();
        // The client first: its handshake completes (deferred) while the queue is empty.
        self.client = Some(self.connect()?);
        for _ in 0..2 {
            let f = self.connect()?;
            self.fillers.push((f, false));
        }
        self.phase = Phase::Connecting;
        self.started = Instant::now();
        Ok(())
    }

    fn sysctl(&self) -> &'static str {
        if self.abort {
            "tcp_abort_on_overflow=1"
        } else {
            "tcp_abort_on_overflow=0"
        }
    }

    fn step(&mut self, now: Instant) {
        if !matches!(self.phase, Phase::Done(_)) && now.duration_since(self.started) > GIVE_UP {
            self.phase = Phase::Done(format!(
                "{}: the trial did not finish in time",
                self.sysctl()
            ));
            return;
        }
        match self.phase {
            Phase::Connecting => {
                let Some(c) = &self.client else { return };
                let mut ready = matches!(net::connect_state(c), ConnectState::Connected);
                for (f, wrote) in &mut self.fillers {
                    if !*wrote && matches!(net::connect_state(f), ConnectState::Connected) {
                        *wrote = write_some(f, HELLO).is_ok_and(|n| n > 0);
                    }
                    ready &= *wrote;
                }
                // Both fillers' data passed TCP_DEFER_ACCEPT: the queue (two) is full.
                if ready && now.duration_since(self.started) > Duration::from_millis(200) {
                    match write_some(c, HELLO) {
                        Ok(_) => self.phase = Phase::Sent(now),
                        Err(e) => {
                            self.phase = Phase::Done(format!("{}: send failed: {e}", self.sysctl()))
                        }
                    }
                }
            }
            Phase::Sent(at) if now.duration_since(at) >= SETTLE => {
                let Some(c) = &self.client else { return };
                let err = c.take_error().ok().flatten();
                let state = tcp_state(c.as_raw_fd());
                let what = match (err, state) {
                    (Some(e), _) if e.raw_os_error() == Some(libc::ECONNRESET) => {
                        "the client's data met a full queue: RST, the client's socket failed \
                         with ECONNRESET at once"
                            .to_string()
                    }
                    (Some(e), _) => format!("the client's socket failed: {e}"),
                    (None, Some(1)) => "the client's data met a full queue: dropped; the \
                                        client is still ESTAB, its data unacknowledged, \
                                        retransmitting"
                        .to_string(),
                    (None, s) => format!("the client is in TCP state {s:?}"),
                };
                self.phase = Phase::Done(format!("{}: {what}", self.sysctl()));
            }
            _ => {}
        }
    }

    fn result(&self) -> String {
        match &self.phase {
            Phase::Done(r) => r.clone(),
            _ => format!("{}: trial running", self.sysctl()),
        }
    }

    fn path(&self) -> String {
        format!("/proc/{}/task/{}/ns/net", std::process::id(), self.ns.tid)
    }
}

impl Drop for Trial {
    fn drop(&mut self) {
        self.clear();
    }
}

pub struct Abort {
    base: Base<TcpStream>,
    trials: [Trial; 2],
}

impl Abort {
    pub fn new(addr: SocketAddr) -> io::Result<Abort> {
        if let Some(why) = unavailable() {
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, why));
        }
        Ok(Abort {
            base: Base::bind(addr, RULES)?,
            trials: [Trial::new(true)?, Trial::new(false)?],
        })
    }

    fn result(&self) -> String {
        self.trials
            .iter()
            .map(Trial::result)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Scenario for Abort {
    scenario_parts!();

    fn step(&mut self, now: Instant) {
        for t in &mut self.trials {
            t.step(now);
        }
    }

    fn interest(&self, _fds: &mut Vec<libc::pollfd>) {}

    fn next_due(&self, _now: Instant) -> Option<Duration> {
        let running = self
            .trials
            .iter()
            .any(|t| !matches!(t.phase, Phase::Done(_)));
        running.then_some(Duration::from_millis(50))
    }

    fn add(&mut self, _n: usize, _now: Instant) -> Result<String, String> {
        Err("abort runs its own trial; `do abort try` runs it again".into())
    }

    fn close(&mut self, _n: usize) -> String {
        "abort closes its trial's sockets itself".into()
    }

    fn command(&mut self, name: &str, _now: Instant) -> Result<String, String> {
        match name {
            "try" => {
                for t in &mut self.trials {
                    t.start()
                        .map_err(|e| format!("cannot start the trial: {e}"))?;
                }
                Ok("trial started in both namespaces; `do abort result` in a second".into())
            }
            "result" => Ok(self.result()),
            _ => Err(format!("abort has no command {name}")),
        }
    }

    fn restart(&mut self, _now: Instant) -> Result<String, String> {
        for t in &mut self.trials {
            t.start()
                .map_err(|e| format!("cannot start the trial: {e}"))?;
        }
        Ok("reset: the trial runs again".into())
    }

    fn extra_ports(&self) -> Vec<u16> {
        Vec::new()
    }

    fn paths(&self) -> Vec<String> {
        self.trials.iter().map(Trial::path).collect()
    }
}
