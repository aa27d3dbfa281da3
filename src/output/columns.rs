//! The one column model. The ss-style table, the JSON writer's address logic and the TUI's
//! sortable table all name columns with [`Column`] and render cells with [`Column::write`],
//! so a socket reads the same everywhere.
//!
//! ```
//! use sockeye::output::columns::{CellCtx, Column};
//! # use sockeye::model::*;
//! # let sock = Socket { netid: Netid::Tcp, state: TcpState::Listen, recv_q: Some(0),
//! #   send_q: Some(128), local: Endpoint::Inet { addr: "0.0.0.0".parse().unwrap(), port: 22 },
//! #   peer: Endpoint::Inet { addr: "0.0.0.0".parse().unwrap(), port: 0 }, inode: 1, uid: Some(0),
//! #   cookie: Some(1), ifindex: None, v6only: None, timer: None, tcp_info: None, memory: None,
//! #   processes: Default::default() };
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

use std::cell::{OnceCell, RefCell};
use std::net::IpAddr;

use super::format::{push_ipv4, push_timer, push_u64, push_users};
use super::services::{Proto, Services};
use crate::model::{Endpoint, Netid, Socket, Source};

/// How a column is aligned in a table (ss: addresses right, everything else left).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column of the socket table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// `tcp`, `udp`, `u_str`, `u_dgr`, `u_seq`.
    Netid,
    /// `ESTAB`, `LISTEN`, `UNCONN`, ...
    State,
    /// Bytes not yet read (listener: accept-queue length); `-` when unknown.
    RecvQ,
    /// Bytes not yet acknowledged (listener: accept-queue limit); `-` when unknown.
    SendQ,
    /// `127.0.0.1:22`, `[::1]:22`, `*:22`, `/run/x.sock 1234`.
    Local,
    /// Like [`Column::Local`] for the peer: `0.0.0.0:*` when there is none.
    Peer,
    /// ss's split layout: the local address with its delimiter (`127.0.0.1:`, `/path `),
    /// right-aligned.
    LocalAddr,
    /// ss's split layout: the local port or service (`22`, `ssh`; unix: the inode).
    LocalPort,
    /// ss's split layout: the peer address with its delimiter.
    PeerAddr,
    /// ss's split layout: the peer port (`*` when none; unix: the peer inode).
    PeerPort,
    /// `users:(("cmd",pid=1,fd=3))`, empty when no process is known.
    Process,
    /// Owner uid; `-` when unknown.
    Uid,
    /// Socket inode (0: no process owns it, e.g. TIME-WAIT or not yet accepted).
    Inode,
    /// Kernel socket cookie; `-` when unknown.
    Cookie,
    /// `timer:(keepalive,119min,0)`, empty when no timer runs.
    Timer,
}

impl Column {
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

    /// A sensible set for a one-line-per-socket view with combined addresses.
    pub const COMPACT: [Column; 7] = [
        Column::Netid,
        Column::State,
        Column::RecvQ,
        Column::SendQ,
        Column::Local,
        Column::Peer,
        Column::Process,
    ];

    /// Header text, as ss prints it.
    pub const fn header(self) -> &'static str {
        match self {
            Column::Netid => "Netid",
            Column::State => "State",
            Column::RecvQ => "Recv-Q",
            Column::SendQ => "Send-Q",
            Column::Local => "Local Address:Port",
            Column::Peer => "Peer Address:Port",
            Column::LocalAddr => "Local Address:",
            Column::LocalPort => "Port",
            Column::PeerAddr => "Peer Address:",
            Column::PeerPort => "Port",
            Column::Process => "Process",
            Column::Uid => "UID",
            Column::Inode => "Inode",
            Column::Cookie => "Cookie",
            Column::Timer => "Timer",
        }
    }

    pub const fn align(self) -> Align {
        match self {
            Column::LocalAddr | Column::PeerAddr => Align::Right,
            _ => Align::Left,
        }
    }

    /// Append this column's cell for `s` to `out` (does not clear it). Never allocates
    /// except to grow `out` (and, once per process, to load /etc/services or an interface
    /// name).
    pub fn write(self, s: &Socket, ctx: &CellCtx, out: &mut String) {
        match self {
            Column::Netid => out.push_str(s.netid.as_str()),
            Column::State => out.push_str(s.state.ss_name()),
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
                push_timer(out, s.timer.as_ref());
            }
        }
    }

    /// A typed key to sort sockets by this column. Unknown values sort last.
    pub fn sort_key(self, s: &Socket) -> SortKey<'_> {
        match self {
            Column::Netid => SortKey::Int(s.netid as u64),
            // Lifecycle order reads better than alphabetical.
            Column::State => SortKey::Int(
                crate::model::TcpState::LIFECYCLE
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
                Some(t) if t.kind != crate::model::TimerKind::Off => SortKey::Int(t.expires_ms),
                _ => SortKey::Unknown,
            },
        }
    }
}

/// Sort key of one cell. Variants compare in declaration order, so `Unknown` sorts after
/// every known value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey<'a> {
    Int(u64),
    /// IPv4 before IPv6 (family 4 / 6), then address, then port.
    Inet {
        family: u8,
        addr: u128,
        port: u16,
    },
    /// Unix: unnamed before named, then by path, then inode.
    Unix {
        path: Option<&'a str>,
        inode: u64,
    },
    /// First process: command, then pid.
    Process(&'a str, u32),
    Unknown,
}

/// A [`SortKey`] reduced to fixed-width integers, ordered like the key it came from: sorting
/// 100,000 of these is several times faster than comparing the enum. Only keys without
/// strings reduce (numbers, inet endpoints, unknown); see [`SortKey::packed`].
///
/// The words hold one 152-bit number, most significant first: an 8-bit rank of the variant
/// (numbers, IPv4, IPv6, unknown), 128 bits of value (number or address), 16 bits of port.
pub type PackedKey = [u64; 3];

impl SortKey<'_> {
    /// The key as a [`PackedKey`], when it holds no string.
    pub fn packed(&self) -> Option<PackedKey> {
        let (rank, value, port): (u8, u128, u16) = match *self {
            SortKey::Int(v) => (0, u128::from(v), 0),
            // Family 4 before 6, then address, then port, as the enum orders them.
            SortKey::Inet { family, addr, port } => (if family == 4 { 1 } else { 2 }, addr, port),
            SortKey::Unknown => (u8::MAX, 0, 0),
            SortKey::Unix { .. } | SortKey::Process(..) => return None,
        };
        let low = (value << 16) | u128::from(port);
        let top = (u64::from(rank) << 16) | (value >> 112) as u64;
        Some([top, (low >> 64) as u64, low as u64])
    }
}

fn opt_key(v: Option<u64>) -> SortKey<'static> {
    v.map_or(SortKey::Unknown, SortKey::Int)
}

fn endpoint_key(e: &Endpoint) -> SortKey<'_> {
    match e {
        Endpoint::Inet { addr, port } => match addr {
            IpAddr::V4(a) => SortKey::Inet {
                family: 4,
                addr: u32::from(*a).into(),
                port: *port,
            },
            IpAddr::V6(a) => SortKey::Inet {
                family: 6,
                addr: u128::from(*a),
                port: *port,
            },
        },
        Endpoint::Unix { path, inode } => SortKey::Unix {
            path: path.as_deref(),
            inode: *inode,
        },
    }
}

fn port_key(e: &Endpoint) -> SortKey<'_> {
    match e {
        Endpoint::Inet { port, .. } => SortKey::Int((*port).into()),
        Endpoint::Unix { inode, .. } => SortKey::Int(*inode),
    }
}

fn push_opt(out: &mut String, v: Option<u64>) {
    match v {
        Some(n) => push_u64(out, n),
        None => out.push('-'),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Local,
    Peer,
}

/// What cells need besides the socket: numeric or named ports, where the data came from
/// (a /proc unix socket's peer is unknown, not 0), and lazily loaded lookup tables.
pub struct CellCtx {
    numeric: bool,
    source: Source,
    services: OnceCell<Services>,
    ifnames: RefCell<Vec<(u32, Box<str>)>>,
}

/// Whether the socket is IPv6-only: what netlink says, else (the /proc source has no flag)
/// what the kernel implies: binding one IPv6 address that is not v4-mapped sets it.
fn v6only(s: &Socket) -> bool {
    s.v6only.unwrap_or(match &s.local {
        Endpoint::Inet {
            addr: IpAddr::V6(a),
            ..
        } => !a.is_unspecified() && a.to_ipv4_mapped().is_none(),
        _ => false,
    })
}

impl CellCtx {
    /// `numeric`: ports as numbers (`-n`). `source`: the snapshot's source.
    pub fn new(numeric: bool, source: Source) -> CellCtx {
        CellCtx {
            numeric,
            source,
            services: OnceCell::new(),
            ifnames: RefCell::new(Vec::new()),
        }
    }

    /// Use this service table instead of reading /etc/services (tests).
    pub fn with_services(mut self, services: Services) -> CellCtx {
        self.services = OnceCell::from(services);
        self
    }

    pub fn numeric(&self) -> bool {
        self.numeric
    }

    pub fn source(&self) -> Source {
        self.source
    }

    fn services(&self) -> &Services {
        self.services.get_or_init(Services::load)
    }

    /// The address half with its delimiter: `127.0.0.1:`, `[::1]:`, `*:`, `1.2.3.4%eth0:`,
    /// unix `path ` / `* `.
    fn write_addr(&self, s: &Socket, end: End, out: &mut String) {
        let e = if end == End::Local { &s.local } else { &s.peer };
        match e {
            Endpoint::Inet { addr, .. } => {
                match addr {
                    IpAddr::V4(a) => push_ipv4(out, *a),
                    IpAddr::V6(a) => {
                        if a.is_unspecified() && !v6only(s) {
                            out.push('*');
                        } else {
                            use std::fmt::Write as _;
                            out.push('[');
                            let _ = write!(out, "{a}");
                            out.push(']');
                        }
                    }
                }
                if end == End::Local
                    && let Some(idx) = s.ifindex.filter(|i| *i != 0)
                {
                    out.push('%');
                    self.push_ifname(idx, out);
                }
                out.push(':');
            }
            Endpoint::Unix { path, .. } => {
                // ss prints the peer of a unix socket as `*` and identifies it by inode.
                match (end, path) {
                    (End::Local, Some(p)) => out.push_str(p),
                    _ => out.push('*'),
                }
                out.push(' ');
            }
        }
    }

    /// The port half: number or service name, `*` for port 0; unix: the inode (the peer's
    /// inode for the peer end, `-` when the source cannot know it).
    fn write_port(&self, s: &Socket, end: End, out: &mut String) {
        let e = if end == End::Local { &s.local } else { &s.peer };
        match e {
            Endpoint::Inet { port, .. } => {
                if *port == 0 {
                    out.push('*');
                    return;
                }
                if !self.numeric {
                    let proto = if s.netid == Netid::Udp {
                        Proto::Udp
                    } else {
                        Proto::Tcp
                    };
                    if let Some(name) = self.services().name(*port, proto) {
                        out.push_str(name);
                        return;
                    }
                }
                push_u64(out, (*port).into());
            }
            Endpoint::Unix { inode, .. } => {
                if end == End::Local {
                    push_u64(out, s.inode);
                } else if self.source == Source::Proc {
                    // /proc/net/unix has no peer column.
                    out.push('-');
                } else {
                    push_u64(out, *inode);
                }
            }
        }
    }

    fn push_ifname(&self, idx: u32, out: &mut String) {
        let mut cache = self.ifnames.borrow_mut();
        if let Some((_, name)) = cache.iter().find(|(i, _)| *i == idx) {
            out.push_str(name);
            return;
        }
        let name: Box<str> = interface_name(idx)
            .unwrap_or_else(|| format!("if{idx}"))
            .into();
        out.push_str(&name);
        cache.push((idx, name));
    }
}

/// The interface name for an index, asked of the host handle (this machine's namespace).
fn interface_name(idx: u32) -> Option<String> {
    crate::collect::Host::current().interface_name(idx)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{ProcessRef, TcpState, Timer, TimerKind};

    pub(crate) fn inet(netid: Netid, state: TcpState, local: &str, peer: &str) -> Socket {
        let split = |s: &str| -> (IpAddr, u16) {
            let sa: std::net::SocketAddr = s.parse().expect("socket address");
            (sa.ip(), sa.port())
        };
        let (la, lp) = split(local);
        let (pa, pp) = split(peer);
        Socket {
            netid,
            state,
            recv_q: Some(0),
            send_q: Some(0),
            local: Endpoint::Inet { addr: la, port: lp },
            peer: Endpoint::Inet { addr: pa, port: pp },
            inode: 1234,
            uid: Some(1000),
            cookie: Some(0x2a),
            ifindex: None,
            v6only: None,
            timer: None,
            tcp_info: None,
            memory: None,
            processes: Default::default(),
        }
    }

    fn cell(col: Column, s: &Socket, ctx: &CellCtx) -> String {
        let mut out = String::new();
        col.write(s, ctx, &mut out);
        out
    }

    fn services() -> Services {
        Services::parse(
            "ssh 22/tcp\nhttp 80/tcp\ndomain 53/udp\n",
            Some((32768, 60999)),
        )
    }

    #[test]
    fn inet_addresses_like_ss() {
        let ctx = CellCtx::new(true, Source::Netlink);
        let s = inet(Netid::Tcp, TcpState::Listen, "127.0.0.1:22", "0.0.0.0:0");
        assert_eq!(cell(Column::Local, &s, &ctx), "127.0.0.1:22");
        assert_eq!(cell(Column::Peer, &s, &ctx), "0.0.0.0:*");
        assert_eq!(cell(Column::LocalAddr, &s, &ctx), "127.0.0.1:");
        assert_eq!(cell(Column::LocalPort, &s, &ctx), "22");

        let mut s6 = inet(Netid::Tcp, TcpState::Listen, "[::]:22", "[::]:0");
        assert_eq!(cell(Column::Local, &s6, &ctx), "*:22");
        assert_eq!(cell(Column::Peer, &s6, &ctx), "*:*");
        s6.v6only = Some(true);
        assert_eq!(cell(Column::Local, &s6, &ctx), "[::]:22");
        assert_eq!(cell(Column::Peer, &s6, &ctx), "[::]:*");

        let m = inet(
            Netid::Tcp,
            TcpState::Established,
            "[::ffff:127.0.0.1]:8080",
            "[::1]:40000",
        );
        assert_eq!(cell(Column::Local, &m, &ctx), "[::ffff:127.0.0.1]:8080");
        assert_eq!(cell(Column::Peer, &m, &ctx), "[::1]:40000");
    }

    #[test]
    fn interface_suffix_on_local_only() {
        let ctx = CellCtx::new(true, Source::Netlink);
        let mut s = inet(Netid::Udp, TcpState::Close, "10.0.0.1:68", "0.0.0.0:0");
        s.ifindex = Some(1);
        let local = cell(Column::Local, &s, &ctx);
        assert!(local.starts_with("10.0.0.1%"), "{local}");
        assert!(local.ends_with(":68"), "{local}");
        assert_eq!(cell(Column::Peer, &s, &ctx), "0.0.0.0:*");
    }

    #[test]
    fn service_names_unless_numeric() {
        let named = CellCtx::new(false, Source::Netlink).with_services(services());
        let s = inet(
            Netid::Tcp,
            TcpState::Established,
            "10.0.0.1:22",
            "10.0.0.2:80",
        );
        assert_eq!(cell(Column::Local, &s, &named), "10.0.0.1:ssh");
        assert_eq!(cell(Column::Peer, &s, &named), "10.0.0.2:http");
        let u = inet(Netid::Udp, TcpState::Close, "10.0.0.1:53", "0.0.0.0:0");
        assert_eq!(cell(Column::Local, &u, &named), "10.0.0.1:domain");
        let numeric = CellCtx::new(true, Source::Netlink).with_services(services());
        assert_eq!(cell(Column::Local, &s, &numeric), "10.0.0.1:22");
    }

    #[test]
    fn unix_endpoints() {
        let mut s = inet(
            Netid::UnixStream,
            TcpState::Established,
            "1.1.1.1:1",
            "1.1.1.1:1",
        );
        s.local = Endpoint::Unix {
            path: Some("/run/x.sock".into()),
            inode: 0,
        };
        s.peer = Endpoint::Unix {
            path: None,
            inode: 4321,
        };
        s.inode = 1234;
        let nl = CellCtx::new(true, Source::Netlink);
        assert_eq!(cell(Column::Local, &s, &nl), "/run/x.sock 1234");
        assert_eq!(cell(Column::Peer, &s, &nl), "* 4321");
        assert_eq!(cell(Column::LocalAddr, &s, &nl), "/run/x.sock ");
        let proc_ctx = CellCtx::new(true, Source::Proc);
        assert_eq!(cell(Column::Peer, &s, &proc_ctx), "* -");
        s.local = Endpoint::Unix {
            path: None,
            inode: 0,
        };
        assert_eq!(cell(Column::Local, &s, &nl), "* 1234");
    }

    #[test]
    fn unknowns_are_dashes_and_extras() {
        let ctx = CellCtx::new(true, Source::Proc);
        let mut s = inet(Netid::Tcp, TcpState::Listen, "0.0.0.0:22", "0.0.0.0:0");
        s.send_q = None;
        s.uid = None;
        s.cookie = None;
        assert_eq!(cell(Column::SendQ, &s, &ctx), "-");
        assert_eq!(cell(Column::RecvQ, &s, &ctx), "0");
        assert_eq!(cell(Column::Uid, &s, &ctx), "-");
        assert_eq!(cell(Column::Cookie, &s, &ctx), "-");
        assert_eq!(cell(Column::Process, &s, &ctx), "");
        s.processes = vec![ProcessRef {
            command: "sshd".into(),
            pid: 1,
            fd: 3,
        }]
        .into();
        assert_eq!(
            cell(Column::Process, &s, &ctx),
            r#"users:(("sshd",pid=1,fd=3))"#
        );
        s.timer = Some(Timer {
            kind: TimerKind::Keepalive,
            expires_ms: 7_140_000,
            retrans: 0,
        });
        assert_eq!(cell(Column::Timer, &s, &ctx), "timer:(keepalive,119min,0)");
    }

    #[test]
    fn packed_keys_order_like_the_keys() {
        let keys = [
            SortKey::Int(0),
            SortKey::Int(u64::MAX),
            SortKey::Inet {
                family: 4,
                addr: 0x7f00_0001,
                port: 1,
            },
            SortKey::Inet {
                family: 4,
                addr: 0x7f00_0001,
                port: 65535,
            },
            SortKey::Inet {
                family: 4,
                addr: 0x7f00_0002,
                port: 0,
            },
            SortKey::Inet {
                family: 6,
                addr: 1,
                port: 80,
            },
            SortKey::Inet {
                family: 6,
                addr: u128::MAX - 1,
                port: 65535,
            },
            SortKey::Inet {
                family: 6,
                addr: u128::MAX,
                port: 0,
            },
            SortKey::Inet {
                family: 6,
                addr: u128::MAX,
                port: 1,
            },
            SortKey::Unknown,
        ];
        for a in &keys {
            for b in &keys {
                assert_eq!(a.cmp(b), a.packed().cmp(&b.packed()), "{a:?} vs {b:?}");
            }
        }
        assert_eq!(SortKey::Process("x", 1).packed(), None);
    }

    #[test]
    fn sort_keys_are_typed_and_unknown_last() {
        let mut a = inet(Netid::Tcp, TcpState::Established, "10.0.0.2:1", "0.0.0.0:0");
        let b = inet(Netid::Tcp, TcpState::Listen, "10.0.0.10:1", "0.0.0.0:0");
        // Numeric, not lexical, address order.
        assert!(Column::Local.sort_key(&a) < Column::Local.sort_key(&b));
        a.recv_q = None;
        assert!(Column::RecvQ.sort_key(&b) < Column::RecvQ.sort_key(&a));
        // Lifecycle order: LISTEN first.
        assert!(Column::State.sort_key(&b) < Column::State.sort_key(&a));
        for col in Column::SS_TABLE {
            assert!(!col.header().is_empty());
        }
        assert_eq!(Column::LocalAddr.align(), Align::Right);
        assert_eq!(Column::Local.align(), Align::Left);
    }
}
