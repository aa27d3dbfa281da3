//! The one column model. A column is one definition here: its name in the config file, its
//! header (ss's spelling), its alignment in the ss table, its width bounds in the live view,
//! its JSON key and value, its text and its sort key. The ss table, the JSON writer, the live
//! view's body and its sort all iterate columns, so a socket reads the same everywhere.
//!
//! ```
//! use sockeye::output::columns::{CellCtx, Column};
//! # use sockeye::model::*;
//! # let sock = Socket { netid: Netid::Tcp, state: TcpState::Listen, recv_q: Some(0),
//! #   send_q: Some(128), local: Endpoint::Inet { addr: "0.0.0.0".parse().unwrap(), port: 22 },
//! #   peer: Endpoint::Inet { addr: "0.0.0.0".parse().unwrap(), port: 0 }, inode: 1, uid: Some(0),
//! #   cookie: Some(1), ifindex: None, v6only: None, timer: None, tcp_info: None, memory: None,
//! #   details: None,
//! #   processes: Default::default(), netns: None };
//! let ctx = CellCtx::new(true, Source::Netlink); // numeric, like `-n`
//! let mut cell = String::new();                   // reuse one buffer for every cell
//! for col in [Column::State, Column::Local, Column::Peer] {
//!     cell.clear();
//!     col.write(&sock, &ctx, &mut cell);
//!     print!("{:<w$} ", cell, w = 20);
//! }
//! // Sorting: typed keys, allocation-free.
//! # let mut sockets = vec![sock.clone()];
//! sockets.sort_by(|a, b| Column::RecvQ.sort_key(a).cmp(&Column::RecvQ.sort_key(b)));
//! ```
//!
//! Spelling follows ss: `127.0.0.1:22`, `[::1]:22`, `*:22` for a dual-stack `::` socket,
//! `[::]:22` for a v6-only one, `0.0.0.0:*` for no peer, `%dev` after the address of a socket
//! bound to an interface, unix `path inode` or `* inode`, service names unless numeric, and
//! `-` for anything the source could not know.
//!
//! Text for a terminal or a line ([`Column::write`], [`Column::write_compact`]) is escaped
//! here, whole cell at a time ([`crate::text::escape`]): a process name or a socket path can
//! neither send escape sequences nor forge a row, whatever column carries it. JSON takes
//! [`Column::json`], the exact values.
//!
//! To add a column: a variant (in the `s` cycle order, which is [`Column::ALL`]'s), its arm
//! in each `match` below (the compiler lists them), its line in [`Column::ALL`] and, if it
//! has a JSON key, in [`Column::JSON`].

mod cell;
mod key;
pub(crate) mod names;

use std::borrow::Cow;
use std::net::IpAddr;

pub use cell::CellCtx;
use cell::{End, InetEnds, inet_ends, push_unix_name, unix_peer_inode};
pub use key::{PackedKey, SortKey};
use key::{endpoint_key, opt_key, port_key};

use super::format::{push_timer, push_u64, push_users};
use crate::model::{
    Container, Endpoint, NetnsTag, ProcessRef, Socket, Source, TcpState, Timer, TimerKind,
};

/// How a column is aligned in the ss table (ss: addresses right, everything else left).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// How a cell is fitted to its width in the live view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Left-aligned, cut at the end.
    Left,
    /// Right-aligned with one space after (numbers).
    Right,
    /// Left-aligned, cut at the start so the end (the port) stays visible, one space after.
    KeepEnd,
}

/// A column's width in the live view: `min` cells, plus its `share` of what the fixed
/// columns leave (0: fixed width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TuiWidth {
    pub min: u16,
    pub share: u16,
    pub fit: Fit,
}

/// When a JSON key is written (the ss flags that ask for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonWhen {
    Always,
    /// `-o`, `-e`
    Timers,
    /// `-p`
    Processes,
}

/// A column's key in the JSON objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonKey {
    pub key: &'static str,
    pub when: JsonWhen,
}

/// Everything about a column but its cell values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The config file's name (`columns = ["netid", ...]`).
    pub name: &'static str,
    /// Header text, as ss prints it.
    pub header: &'static str,
    /// Short name, for the live view's sort indicator.
    pub title: &'static str,
    pub align: Align,
    pub tui: TuiWidth,
    pub json: Option<JsonKey>,
}

/// A cell's JSON value. `Absent`: the key is not written for this socket (unix keys of an
/// inet socket and the other way round).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum JsonValue<'a> {
    Absent,
    Null,
    Str(&'a str),
    Addr(IpAddr),
    U64(u64),
    Timer(Option<&'a Timer>),
    Processes(&'a [ProcessRef]),
    /// `{"inode": N, "name": "web" | null}`
    Netns(&'a NetnsTag),
    /// `{"runtime", "id", "name", "pod", "pod_namespace"}` or null.
    Container(Option<&'a Container>),
    /// A signed number (a netlink port id ss reads as an int).
    I64(i64),
}

/// A column of the socket table. Declared in the order the live view's `s` key cycles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// Like [`Column::Peer`] for the local end: `127.0.0.1:22`, `[::1]:22`, `*:22`,
    /// `/run/x.sock 1234`.
    Local,
    /// `10.0.0.2:443`, `0.0.0.0:*` when there is none; unix: `* peer-inode`.
    Peer,
    /// Bytes not yet read (listener: accept-queue length); `-` when unknown.
    RecvQ,
    /// Bytes not yet acknowledged (listener: accept-queue limit); `-` when unknown.
    SendQ,
    /// `ESTAB`, `LISTEN`, `UNCONN`, ...
    State,
    /// `tcp`, `udp`, `u_str`, `u_dgr`, `u_seq`.
    Netid,
    /// `users:(("cmd",pid=1,fd=3))`, empty when no process is known; compact: `cmd(1)`.
    Process,
    /// Owner uid; `-` when unknown.
    Uid,
    /// Socket inode (0: no process owns it, e.g. TIME-WAIT or not yet accepted).
    Inode,
    /// Kernel socket cookie; `-` when unknown.
    Cookie,
    /// `timer:(keepalive,119min,0)`, empty when no timer runs.
    Timer,
    /// ss's split layout: the local address with its delimiter (`127.0.0.1:`, `/path `),
    /// right-aligned.
    LocalAddr,
    /// ss's split layout: the local port or service (`22`, `ssh`; unix: the inode).
    LocalPort,
    /// ss's split layout: the peer address with its delimiter.
    PeerAddr,
    /// ss's split layout: the peer port (`*` when none; unix: the peer inode).
    PeerPort,
    /// A unix socket's bound name (`*` unnamed); `-` for inet.
    Path,
    /// A unix socket's peer inode; `-` when unknown (the /proc source) or inet.
    PeerInode,
    /// Where the snapshot came from: `netlink` or `proc`.
    Source,
    /// The network namespace, when the output spans several (`-N`, `--all-netns`): its
    /// container or pod name, else its /run/netns name, else `net:[INODE]`; `-` otherwise.
    Netns,
    /// The container owning the socket's namespace: `runtime:name` (or the short id); `-`
    /// when none is known.
    Container,
    /// The protocol number of a raw (IP protocol), packet (ethertype) or netlink socket;
    /// `-` for the others.
    Protocol,
    /// A packet socket's interface index (0: every interface); `-` for the others.
    Interface,
    /// A netlink socket's port id; `-` for the others.
    PortId,
    /// A connected netlink socket's destination group; `-` otherwise.
    DstGroup,
    /// A connected netlink socket's destination port id; `-` otherwise.
    DstPortId,
}

// Shorthands for the definitions below: a fixed or a shared live-view width, a JSON key.
const fn fixed(min: u16, fit: Fit) -> TuiWidth {
    TuiWidth { min, share: 0, fit }
}
const fn share(share: u16, fit: Fit) -> TuiWidth {
    TuiWidth { min: 0, share, fit }
}
const fn json(key: &'static str) -> Option<JsonKey> {
    when(key, JsonWhen::Always)
}
const fn when(key: &'static str, when: JsonWhen) -> Option<JsonKey> {
    Some(JsonKey { key, when })
}
const fn def(
    name: &'static str,
    header: &'static str,
    title: &'static str,
    align: Align,
    tui: TuiWidth,
    json: Option<JsonKey>,
) -> Spec {
    Spec {
        name,
        header,
        title,
        align,
        tui,
        json,
    }
}

impl Column {
    /// Every column, in declaration order: the registry (config names, the `s` cycle).
    pub const ALL: [Column; 25] = [
        Column::Local,
        Column::Peer,
        Column::RecvQ,
        Column::SendQ,
        Column::State,
        Column::Netid,
        Column::Process,
        Column::Uid,
        Column::Inode,
        Column::Cookie,
        Column::Timer,
        Column::LocalAddr,
        Column::LocalPort,
        Column::PeerAddr,
        Column::PeerPort,
        Column::Path,
        Column::PeerInode,
        Column::Source,
        Column::Netns,
        Column::Container,
        Column::Protocol,
        Column::Interface,
        Column::PortId,
        Column::DstGroup,
        Column::DstPortId,
    ];

    /// The columns of ss's table, in order (Netid and State may be hidden by the caller).
    pub const SS_TABLE: [Column; 9] = [
        Column::Netid,
        Column::State,
        Column::RecvQ,
        Column::SendQ,
        Column::LocalAddr,
        Column::LocalPort,
        Column::PeerAddr,
        Column::PeerPort,
        Column::Process,
    ];

    /// The keys of a JSON socket object, in the documented order (README, "JSON schema").
    pub const JSON: [Column; 23] = [
        Column::Netid,
        Column::State,
        Column::RecvQ,
        Column::SendQ,
        Column::LocalAddr,
        Column::LocalPort,
        Column::PeerAddr,
        Column::PeerPort,
        Column::Path,
        Column::PeerInode,
        Column::Protocol,
        Column::Interface,
        Column::PortId,
        Column::DstGroup,
        Column::DstPortId,
        Column::Inode,
        Column::Uid,
        Column::Cookie,
        Column::Source,
        Column::Timer,
        Column::Process,
        Column::Netns,
        Column::Container,
    ];

    /// The live view's columns unless the config file says otherwise: one line per socket
    /// with combined addresses.
    pub const COMPACT: [Column; 7] = [
        Column::Netid,
        Column::State,
        Column::RecvQ,
        Column::SendQ,
        Column::Local,
        Column::Peer,
        Column::Process,
    ];

    /// The column's definition: config name, header, sort title, ss alignment, live-view
    /// width, JSON key.
    #[rustfmt::skip]
    pub const fn spec(self) -> Spec {
        use Align::{Left, Right};
        use Fit::{KeepEnd, Right as Num};
        const L: Fit = Fit::Left;
        match self {
            Column::Local =>     def("local",      "Local Address:Port", "Local",         Left,  share(36, KeepEnd), None),
            Column::Peer =>      def("peer",       "Peer Address:Port",  "Peer",          Left,  share(36, KeepEnd), None),
            Column::RecvQ =>     def("recv-q",     "Recv-Q",             "Recv-Q",        Left,  fixed(7, Num),      json("recv_q")),
            Column::SendQ =>     def("send-q",     "Send-Q",             "Send-Q",        Left,  fixed(7, Num),      json("send_q")),
            Column::State =>     def("state",      "State",              "State",         Left,  fixed(11, L),       json("state")),
            Column::Netid =>     def("netid",      "Netid",              "Netid",         Left,  fixed(6, L),        json("netid")),
            Column::Process =>   def("process",    "Process",            "Process",       Left,  share(28, L),       when("processes", JsonWhen::Processes)),
            Column::Uid =>       def("uid",        "UID",                "UID",           Left,  fixed(7, Num),      json("uid")),
            Column::Inode =>     def("inode",      "Inode",              "Inode",         Left,  fixed(10, Num),     json("inode")),
            Column::Cookie =>    def("cookie",     "Cookie",             "Cookie",        Left,  fixed(12, Num),     json("cookie")),
            Column::Timer =>     def("timer",      "Timer",              "Timer",         Left,  share(24, L),       when("timer", JsonWhen::Timers)),
            Column::LocalAddr => def("local-addr", "Local Address:",     "Local Address", Right, share(30, KeepEnd), json("local_addr")),
            Column::LocalPort => def("local-port", "Port",               "Local Port",    Left,  fixed(8, L),        json("local_port")),
            Column::PeerAddr =>  def("peer-addr",  "Peer Address:",      "Peer Address",  Right, share(30, KeepEnd), json("peer_addr")),
            Column::PeerPort =>  def("peer-port",  "Port",               "Peer Port",     Left,  fixed(8, L),        json("peer_port")),
            Column::Path =>      def("path",       "Path",               "Path",          Left,  share(36, KeepEnd), json("path")),
            Column::PeerInode => def("peer-inode", "Peer Inode",         "Peer Inode",    Left,  fixed(11, Num),     json("peer_inode")),
            Column::Source =>    def("source",     "Source",             "Source",        Left,  fixed(8, L),        json("source")),
            Column::Netns =>     def("netns",      "Netns",              "Netns",         Left,  share(20, L),       json("netns")),
            Column::Container => def("container",  "Container",          "Container",     Left,  share(20, L),       json("container")),
            Column::Protocol =>  def("protocol",   "Protocol",           "Protocol",      Left,  fixed(8, Num),      json("protocol")),
            Column::Interface => def("interface",  "Ifindex",            "Ifindex",       Left,  fixed(7, Num),      json("ifindex")),
            Column::PortId =>    def("portid",     "Port Id",            "Port Id",       Left,  fixed(11, Num),     json("portid")),
            Column::DstGroup =>  def("dst-group",  "Dst Group",          "Dst Group",     Left,  fixed(10, Num),     json("dst_group")),
            Column::DstPortId => def("dst-portid", "Dst Port Id",        "Dst Port Id",   Left,  fixed(11, Num),     json("dst_portid")),
        }
    }

    /// The short name the live view shows for the sort (`sort: Local`).
    pub const fn title(self) -> &'static str {
        self.spec().title
    }

    /// Header text, as ss prints it.
    pub const fn header(self) -> &'static str {
        self.spec().header
    }

    pub const fn align(self) -> Align {
        self.spec().align
    }

    /// The column a config name (`local`, `recv-q`, ...) names, case aside.
    pub fn parse(name: &str) -> Option<Column> {
        let name = name.trim();
        Column::ALL
            .into_iter()
            .find(|c| c.spec().name.eq_ignore_ascii_case(name))
    }

    /// Every config name, for error messages and docs: `local, peer, ...`.
    pub fn names() -> String {
        let names: Vec<&str> = Column::ALL.iter().map(|c| c.spec().name).collect();
        names.join(", ")
    }

    /// Append this column's cell for `s` to `out` (does not clear it), escaped for a
    /// terminal. Never allocates except to grow `out` (and, once per process, to load
    /// /etc/services or an interface name, or to escape a hostile name).
    pub fn write(self, s: &Socket, ctx: &CellCtx, out: &mut String) {
        let start = out.len();
        self.write_raw(s, ctx, out);
        escape_from(out, start);
    }

    /// [`Column::write`] in the live view's narrower spelling where it has one (a process:
    /// `cmd(pid)`, `+N` more, `-` when none is known; ss's `users:((...))` is in the detail
    /// pane).
    pub fn write_compact(self, s: &Socket, ctx: &CellCtx, out: &mut String) {
        let start = out.len();
        match self {
            Column::Process => match s.processes.as_slice() {
                [] => out.push('-'),
                [p, rest @ ..] => {
                    out.push_str(&p.command);
                    out.push('(');
                    push_u64(out, p.pid.into());
                    out.push(')');
                    if !rest.is_empty() {
                        out.push_str(" +");
                        push_u64(out, rest.len() as u64);
                    }
                }
            },
            _ => self.write_raw(s, ctx, out),
        }
        escape_from(out, start);
    }

    /// The unescaped text; only [`Column::write`] and [`Column::write_compact`] call it.
    fn write_raw(self, s: &Socket, ctx: &CellCtx, out: &mut String) {
        match self {
            // An SCTP association: ss leaves the Netid empty and marks the state `` `- ``.
            Column::Netid if sctp_assoc(s).is_some() => {}
            Column::Netid => out.push_str(s.netid.as_str()),
            Column::State => match sctp_assoc(s) {
                Some(a) => {
                    out.push_str("`- ");
                    out.push_str(a.ss_name());
                }
                None => out.push_str(s.state.ss_name()),
            },
            // vsock_diag reports no queues; ss prints its zeroed fields (JSON says null).
            Column::RecvQ | Column::SendQ if matches!(s.local, Endpoint::Vsock { .. }) => {
                push_opt(out, Some(0))
            }
            Column::RecvQ => push_opt(out, s.recv_q.map(u64::from)),
            Column::SendQ => push_opt(out, s.send_q.map(u64::from)),
            Column::Local => {
                ctx.write_addr(s, End::Local, out);
                ctx.write_port(s, End::Local, out);
            }
            Column::Peer => {
                ctx.write_addr(s, End::Peer, out);
                ctx.write_port(s, End::Peer, out);
            }
            Column::LocalAddr => ctx.write_addr(s, End::Local, out),
            Column::LocalPort => ctx.write_port(s, End::Local, out),
            Column::PeerAddr => ctx.write_addr(s, End::Peer, out),
            Column::PeerPort => ctx.write_port(s, End::Peer, out),
            Column::Process => {
                push_users(out, &s.processes);
            }
            Column::Uid => push_opt(out, s.uid.map(u64::from)),
            Column::Inode => push_u64(out, s.inode),
            Column::Cookie => push_opt(out, s.cookie),
            Column::Timer => {
                push_timer(out, s.netid, s.timer.as_ref());
            }
            Column::Path => match (&s.local, inet_ends(s)) {
                (_, Some(_)) => out.push('-'),
                (Endpoint::Unix { path: Some(p), .. }, None) => push_unix_name(out, p),
                _ => out.push('*'),
            },
            Column::PeerInode => match inet_ends(s) {
                Some(_) => out.push('-'),
                None => push_opt(out, unix_peer_inode(s, ctx.source())),
            },
            Column::Source => out.push_str(ctx.source().as_str()),
            Column::Netns => match &s.netns {
                Some(t) => out.push_str(&t.label),
                None => out.push('-'),
            },
            Column::Container => match s.netns.as_ref().and_then(|t| t.container.as_ref()) {
                Some(c) => {
                    out.push_str(c.runtime);
                    out.push(':');
                    match &c.name {
                        Some(n) => out.push_str(n),
                        None => out.extend(c.id.chars().take(12)),
                    }
                }
                None => out.push('-'),
            },
            Column::Protocol
            | Column::Interface
            | Column::PortId
            | Column::DstGroup
            | Column::DstPortId => match family_value(self, s) {
                Some(Some(v)) => push_i64(out, v),
                _ => out.push('-'),
            },
        }
    }

    /// The cell's JSON value: exact (JSON escapes by itself), plain addresses without ss's
    /// brackets or `*`.
    pub fn json<'a>(self, s: &'a Socket, source: Source) -> JsonValue<'a> {
        let inet = inet_ends(s);
        let opt = |v: Option<u64>| v.map_or(JsonValue::Null, JsonValue::U64);
        // Address keys hold null for a unix socket; unix keys are absent for an inet one.
        let addr = |f: fn(InetEnds) -> JsonValue<'static>| inet.map_or(JsonValue::Null, f);
        let unix = |v: JsonValue<'a>| -> JsonValue<'a> {
            if s.netid.is_unix() {
                v
            } else {
                JsonValue::Absent
            }
        };
        match self {
            Column::Netid => JsonValue::Str(s.netid.as_str()),
            Column::State => JsonValue::Str(match sctp_assoc(s) {
                Some(a) => a.ss_name(),
                None => s.state.ss_name(),
            }),
            Column::RecvQ => opt(s.recv_q.map(u64::from)),
            Column::SendQ => opt(s.send_q.map(u64::from)),
            Column::LocalAddr => addr(|(l, _)| JsonValue::Addr(l.0)),
            // A vsock port (its cid is `local_cid`, output/json.rs).
            Column::LocalPort if let Endpoint::Vsock { port, .. } = s.local => {
                JsonValue::U64(port.into())
            }
            // A TIPC port (its node is `local_node`, output/json.rs).
            Column::LocalPort if let Endpoint::Tipc { port, .. } = s.local => {
                JsonValue::U64(port.into())
            }
            Column::LocalPort => addr(|(l, _)| JsonValue::U64(l.1.into())),
            Column::PeerAddr => addr(|(_, p)| JsonValue::Addr(p.0)),
            Column::PeerPort if let Endpoint::Vsock { port, .. } = s.peer => {
                JsonValue::U64(port.into())
            }
            Column::PeerPort if let Endpoint::Tipc { port, .. } = s.peer => {
                JsonValue::U64(port.into())
            }
            Column::PeerPort => addr(|(_, p)| JsonValue::U64(p.1.into())),
            Column::Path => unix(match &s.local {
                Endpoint::Unix { path: Some(p), .. } => JsonValue::Str(p),
                _ => JsonValue::Null,
            }),
            Column::PeerInode => unix(opt(unix_peer_inode(s, source))),
            Column::Inode => JsonValue::U64(s.inode),
            Column::Uid => opt(s.uid.map(u64::from)),
            Column::Cookie => opt(s.cookie),
            Column::Source => JsonValue::Str(source.as_str()),
            Column::Timer => JsonValue::Timer(s.timer.as_ref()),
            Column::Process => JsonValue::Processes(&s.processes),
            // Written only for output that spans namespaces.
            Column::Netns => s
                .netns
                .as_deref()
                .map_or(JsonValue::Absent, JsonValue::Netns),
            Column::Container => match &s.netns {
                Some(t) => JsonValue::Container(t.container.as_ref()),
                None => JsonValue::Absent,
            },
            Column::Protocol
            | Column::Interface
            | Column::PortId
            | Column::DstGroup
            | Column::DstPortId => match family_value(self, s) {
                None => JsonValue::Absent,
                Some(None) => JsonValue::Null,
                // Only port ids can be negative (ss reads them as ints).
                Some(Some(v)) => u64::try_from(v).map_or(JsonValue::I64(v), JsonValue::U64),
            },
            // Both halves are in the split keys above.
            Column::Local | Column::Peer => JsonValue::Absent,
        }
    }

    /// A typed key to sort sockets by this column. Unknown values sort last.
    pub fn sort_key(self, s: &Socket) -> SortKey<'_> {
        match self {
            Column::Netid => SortKey::Int(s.netid as u64),
            // Lifecycle order reads better than alphabetical.
            Column::State => SortKey::Int(
                TcpState::LIFECYCLE
                    .iter()
                    .position(|x| *x == s.state)
                    .unwrap_or(0) as u64,
            ),
            Column::RecvQ => opt_key(s.recv_q.map(u64::from)),
            Column::SendQ => opt_key(s.send_q.map(u64::from)),
            Column::Local | Column::LocalAddr => endpoint_key(&s.local),
            Column::Peer | Column::PeerAddr => endpoint_key(&s.peer),
            Column::LocalPort => port_key(&s.local),
            Column::PeerPort => port_key(&s.peer),
            Column::Process => match s.processes.first() {
                Some(p) => SortKey::Process(&p.command, p.pid),
                None => SortKey::Unknown,
            },
            Column::Uid => opt_key(s.uid.map(u64::from)),
            Column::Inode => SortKey::Int(s.inode),
            Column::Cookie => opt_key(s.cookie),
            Column::Timer => match s.timer {
                Some(t) if t.kind != TimerKind::Off => SortKey::Int(t.expires_ms),
                _ => SortKey::Unknown,
            },
            Column::Path => match &s.local {
                Endpoint::Unix { path: Some(p), .. } => SortKey::Process(p, 0),
                _ => SortKey::Unknown,
            },
            Column::PeerInode => match &s.peer {
                Endpoint::Unix { inode, .. } => SortKey::Int(*inode),
                _ => SortKey::Unknown,
            },
            // One snapshot has one source.
            Column::Source => SortKey::Int(0),
            Column::Netns => match &s.netns {
                Some(t) => SortKey::Process(&t.label, 0),
                None => SortKey::Unknown,
            },
            Column::Container => match s.netns.as_ref().and_then(|t| t.container.as_ref()) {
                Some(c) => SortKey::Process(c.name.as_deref().unwrap_or(&c.id), 0),
                None => SortKey::Unknown,
            },
            Column::Protocol
            | Column::Interface
            | Column::PortId
            | Column::DstGroup
            | Column::DstPortId => match family_value(self, s) {
                Some(Some(v)) => SortKey::Int(v as u64),
                _ => SortKey::Unknown,
            },
        }
    }
}

/// Escape what was appended to `out` since `start`, in place. Our own spelling never holds
/// a control character or a backslash, so the common case is one scan and no copy.
fn escape_from(out: &mut String, start: usize) {
    // C1 controls are 0xC2 0x80..=0x9F in UTF-8; the invisible characters `text::escape`
    // also escapes start with 0xD8 (U+061C), 0xE2 (U+200B..U+2069) or 0xEF (U+FEFF).
    let suspicious = out.as_bytes()[start..]
        .iter()
        .any(|&b| b < 0x20 || b == 0x7f || b == b'\\' || matches!(b, 0xc2 | 0xd8 | 0xe2 | 0xef));
    if !suspicious {
        return;
    }
    if let Cow::Owned(escaped) = crate::text::escape(&out[start..]) {
        out.truncate(start);
        out.push_str(&escaped);
    }
}

fn push_opt(out: &mut String, v: Option<u64>) {
    match v {
        Some(n) => push_u64(out, n),
        None => out.push('-'),
    }
}

/// A list of columns from the config file (`columns = ["netid", "state", ...]`): every name
/// must be a column, none twice, at least one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct ColumnList(pub Vec<Column>);

impl TryFrom<Vec<String>> for ColumnList {
    type Error = String;
    fn try_from(names: Vec<String>) -> Result<Self, String> {
        let mut cols = Vec::with_capacity(names.len());
        for name in &names {
            let Some(c) = Column::parse(name) else {
                return Err(format!(
                    "'{}' is not a column (one of: {})",
                    crate::text::escape(name),
                    Column::names()
                ));
            };
            if cols.contains(&c) {
                return Err(format!("column '{}' is listed twice", c.spec().name));
            }
            cols.push(c);
        }
        if cols.is_empty() {
            return Err("columns must name at least one column".into());
        }
        Ok(ColumnList(cols))
    }
}

impl From<ColumnList> for Vec<String> {
    fn from(list: ColumnList) -> Vec<String> {
        list.0.iter().map(|c| c.spec().name.to_owned()).collect()
    }
}

#[cfg(test)]
pub(crate) mod tests;

/// The value of a family-specific column: `None` when the column does not apply to the
/// socket's family (the JSON key is absent), `Some(None)` when it applies but has no value
/// (an unconnected netlink socket's destination).
fn family_value(c: Column, s: &Socket) -> Option<Option<i64>> {
    use crate::model::Netid;
    match (c, &s.local, &s.peer) {
        (Column::Protocol, Endpoint::Inet { port, .. }, _) if s.netid == Netid::Raw => {
            Some(Some((*port).into()))
        }
        (Column::Protocol, Endpoint::Link { protocol, .. }, _) => Some(Some((*protocol).into())),
        (Column::Protocol, Endpoint::Netlink { protocol, .. }, _) => Some(Some((*protocol).into())),
        (Column::Interface, Endpoint::Link { ifindex, .. }, _) => Some(Some((*ifindex).into())),
        (Column::PortId, Endpoint::Netlink { portid, .. }, _) => Some(Some((*portid).into())),
        (Column::DstGroup, Endpoint::Netlink { .. }, Endpoint::NetlinkPeer { group, .. }) => {
            Some(Some((*group).into()))
        }
        (Column::DstPortId, Endpoint::Netlink { .. }, Endpoint::NetlinkPeer { portid, .. }) => {
            Some(Some((*portid).into()))
        }
        (Column::DstGroup | Column::DstPortId, Endpoint::Netlink { .. }, _) => Some(None),
        _ => None,
    }
}

fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_u64(out, n.unsigned_abs());
}

/// The association state of an SCTP association's row (`None` for every other socket).
fn sctp_assoc(s: &Socket) -> Option<crate::model::SctpState> {
    s.details.as_deref().and_then(|d| d.sctp_assoc)
}
