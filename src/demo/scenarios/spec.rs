//! What every scenario is to the rest of the demo: its registry entry (`Spec`: name, texts,
//! explanation, constructor), the `Kind` that names it, the actions the control socket asks
//! for and the status it reports. Depends on nothing else in `scenarios`, so the scenario
//! files, the shared code and the registry all build on it without a circle.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::pacer::Pacer;
use crate::demo::view::PortView;
use crate::model::Netid;

/// One scenario's entry in the registry (`scenarios::REGISTRY`).
pub struct Spec {
    /// The command-line and control-socket name.
    pub name: &'static str,
    /// A few words for `sockeye demo --help` and the completions.
    pub about: &'static str,
    /// What to look for, in one line (headless output, README).
    pub hint: &'static str,
    /// The man page's paragraph.
    pub man: &'static str,
    /// One line: what the kernel shows now.
    pub now: fn(&Seen<'_>) -> String,
    /// One or two sentences: why the kernel shows that.
    pub why: fn(&Seen<'_>) -> String,
    /// Bind the listener on `addr` and build the scenario.
    pub build: fn(SocketAddr, &Options) -> io::Result<Box<dyn Scenario>>,
    /// Control commands of its own (`{"cmd":"do","scenario":NAME,"action":ACTION}`), run by
    /// `Scenario::command`; the common ones (add, send, ...) need no entry.
    pub commands: &'static [Command],
    /// Why the scenario cannot run on this machine (privileges, kernel), or None.
    pub unavailable: fn() -> Option<String>,
    /// The socket tables its sockets are in (what attach asks the live view for).
    pub tables: &'static [Netid],
}

/// `Spec::tables` of a TCP scenario.
pub const TCP: &[Netid] = &[Netid::Tcp];

/// A scenario's own control command.
pub struct Command {
    pub name: &'static str,
    /// One line for the man page.
    pub help: &'static str,
}

/// `Spec::unavailable` of a scenario that runs anywhere.
pub fn runs_anywhere() -> Option<String> {
    None
}

/// What an explanation is drawn from: the kernel's view of the port, the demo's status of
/// the scenario (when known) and the kernel counters' growth since attach (when known).
pub struct Seen<'a> {
    pub view: &'a PortView,
    pub status: Option<&'a ScenarioStatus>,
    pub growth: Growth,
}

/// How much kernel counters grew since attach started watching; None: not known (no
/// snapshot with the counter yet, or the kernel does not have it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Growth {
    /// TcpExt ListenOverflows.
    pub listen_overflows: Option<u64>,
    /// Udp RcvbufErrors.
    pub udp_rcvbuf_errors: Option<u64>,
    /// Udp InErrors.
    pub udp_in_errors: Option<u64>,
}

/// A scenario, by its registry entry. Compared and serialized by name.
#[derive(Clone, Copy)]
pub struct Kind(pub(crate) &'static Spec);

impl Kind {
    pub fn spec(self) -> &'static Spec {
        self.0
    }

    pub fn as_str(self) -> &'static str {
        self.0.name
    }

    pub fn hint(self) -> &'static str {
        self.0.hint
    }

    /// One line: what the kernel shows now, with the counters' growth since attach.
    pub fn now_line(
        self,
        view: &PortView,
        status: Option<&ScenarioStatus>,
        growth: Growth,
    ) -> String {
        (self.0.now)(&Seen {
            view,
            status,
            growth,
        })
    }

    /// One or two sentences: why the kernel shows that.
    pub fn why(self, view: &PortView, status: Option<&ScenarioStatus>) -> String {
        (self.0.why)(&Seen {
            view,
            status,
            growth: Growth::default(),
        })
    }
}

impl PartialEq for Kind {
    fn eq(&self, other: &Kind) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Kind {}

impl std::hash::Hash for Kind {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.name.hash(h);
    }
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kind({})", self.0.name)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name)
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name)
    }
}

/// Options that shape scenarios at start.
#[derive(Clone, Debug)]
pub struct Options {
    /// TIME-WAIT churn rate (per second).
    pub time_wait_rate: f64,
    /// The demo's control directory, where the unix scenario puts its sockets (None: that
    /// scenario cannot start).
    pub unix_dir: Option<std::path::PathBuf>,
}

/// A validated control action for one scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Connect N more embedded clients.
    Add(u32),
    /// The newest connected client sends these bytes.
    Send(Vec<u8>),
    /// Close the N oldest clients.
    Close(u32),
    /// Pause (false) or resume (true) accepting.
    Accepting(bool),
    /// New churn rate in connections per second.
    Rate(f64),
    /// Close everything and start the scenario over.
    Reset,
    /// One of the scenario's own commands (validated against its `Spec::commands`).
    Command(String),
}

/// What a scenario reports in `status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioStatus {
    pub name: Kind,
    pub port: u16,
    /// Whether the server calls accept().
    pub accepting: bool,
    /// Embedded client sockets open (connected or still connecting).
    pub clients: usize,
    /// Of those, still connecting (SYN-SENT).
    pub connecting: usize,
    /// Accepted sockets the server holds open.
    pub server_conns: usize,
    /// Connections accepted since start or reset.
    pub accepted_total: u64,
    /// Churn rate (connections per second) for scenarios that have one.
    pub rate: Option<f64>,
    /// Highest accepted rate for `rate`, when the scenario has one.
    pub max_rate: Option<f64>,
    /// Hard cap on embedded clients.
    pub max_clients: usize,
    /// Ports of the scenario's own besides `port` (listeners, bound sockets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_ports: Vec<u16>,
    /// Unix socket paths of the scenario's own (a scenario without a port has these).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// The connection pair a guided scenario (the tour) is walking, and where it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<Focus>,
}

/// One step of a guided walk over a connection pair: which step, what each end shows after
/// it and why, and the pair's ports (the client's is None before it exists).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Focus {
    pub step: usize,
    pub steps: usize,
    pub client_state: String,
    pub server_state: String,
    pub says: String,
    pub server_port: u16,
    pub client_port: Option<u16>,
}

/// The accessors every scenario writes the same way, inside its `impl Scenario`: `kind` from
/// the file's `SPEC`, `base` from its `base` field and, with `paced`, `pacer` from its `pacer`
/// field. The caller's scope must have `Kind`, `Common` (and `Pacer`) imported.
macro_rules! scenario_parts {
    () => {
        fn kind(&self) -> Kind {
            Kind(&SPEC)
        }
        fn base(&self) -> &dyn Common {
            &self.base
        }
        fn base_mut(&mut self) -> &mut dyn Common {
            &mut self.base
        }
    };
    (paced) => {
        scenario_parts!();
        fn pacer(&self) -> Option<&Pacer> {
            Some(&self.pacer)
        }
        fn pacer_mut(&mut self) -> Option<&mut Pacer> {
            Some(&mut self.pacer)
        }
    };
}
pub(crate) use scenario_parts;

/// A running scenario, driven by one thread (see `runtime`). `step`, `interest` and
/// `next_due` run it; the control actions are applied by `common::act`, which validates
/// them, enforces the caps and calls the hooks below, most of which have a shared default.
pub trait Scenario: Send {
    fn kind(&self) -> Kind;
    /// The state every scenario shares (listener, clients, caps).
    fn base(&self) -> &dyn Common;
    fn base_mut(&mut self) -> &mut dyn Common;
    /// Do everything that can be done now without blocking.
    fn step(&mut self, now: Instant);
    /// Descriptors to wait on until the next step.
    fn interest(&self, fds: &mut Vec<libc::pollfd>);
    /// How long until a timer of the scenario is due (None: nothing scheduled).
    fn next_due(&self, now: Instant) -> Option<Duration>;

    /// Ports the scenario holds besides its listener's (reported in status).
    fn extra_ports(&self) -> Vec<u16> {
        Vec::new()
    }
    /// The pair a guided scenario is walking (reported in status).
    fn focus(&self) -> Option<Focus> {
        None
    }
    /// Paths of the scenario's own besides what its shared state reports (status `paths`).
    fn paths(&self) -> Vec<String> {
        Vec::new()
    }
    /// The churn schedule, for scenarios that have one.
    fn pacer(&self) -> Option<&Pacer> {
        None
    }
    fn pacer_mut(&mut self) -> Option<&mut Pacer> {
        None
    }
    /// The reply to a new churn rate (already validated and applied).
    fn rate_message(&self, rate: f64) -> String {
        format!("{rate} connections/s")
    }
    /// Connect `n` more clients (`n` is already within the caps).
    fn add(&mut self, n: usize, now: Instant) -> Result<String, String> {
        match self.base_mut().start_clients(n, now) {
            0 => Err(AT_RATE_CAP.into()),
            k => Ok(format!("connecting {k} client(s)")),
        }
    }
    /// The newest connected client sends `data`.
    fn send(&mut self, data: &[u8]) -> Result<String, String> {
        self.base_mut().send_from_newest(data)
    }
    /// Close the `n` oldest clients.
    fn close(&mut self, n: usize) -> String {
        let k = self.base_mut().close_oldest(n);
        format!("closed {k} client(s)")
    }
    /// Run one of the scenario's own commands (listed in its `Spec::commands`).
    fn command(&mut self, name: &str, _now: Instant) -> Result<String, String> {
        Err(format!("{} has no command {name}", self.kind()))
    }
    /// Start over: the shared state is already reset; put the opening picture back.
    fn restart(&mut self, now: Instant) -> Result<String, String> {
        self.base_mut().start_initial(now);
        Ok("reset".into())
    }
}

/// The reply when the connection budget is spent (or the connect failed at once).
pub const AT_RATE_CAP: &str =
    "no client started: at the cap on new connections per second; try again in a moment";

/// The state every scenario shares, as the common action code sees it (implemented by
/// `common::Base`). Every new connection goes through `start_clients`, which holds the
/// scenario's caps: at most `max_clients` open, at most its connection rate.
pub trait Common: Send {
    fn port(&self) -> u16;
    fn clients_len(&self) -> usize;
    fn max_clients(&self) -> usize;
    /// Connect up to `n` clients, as far as the caps allow; returns how many started.
    fn start_clients(&mut self, n: usize, now: Instant) -> usize;
    /// The clients of the opening picture.
    fn start_initial(&mut self, now: Instant);
    fn send_from_newest(&mut self, data: &[u8]) -> Result<String, String>;
    /// Close the `n` oldest clients (and their server ends, where the scenario says so).
    fn close_oldest(&mut self, n: usize) -> usize;
    fn set_accepting(&mut self, on: bool) -> String;
    /// Drop every socket and start accepting afresh.
    fn reset(&mut self);
    fn status(&self, kind: Kind) -> ScenarioStatus;
}
