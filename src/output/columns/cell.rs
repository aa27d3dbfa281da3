//! What cells need besides the socket, and the address rules every front end shares: ss's
//! spelling of endpoints for text, the plain values for JSON, and the one rule for what
//! /proc cannot know (a unix socket's peer).

use std::cell::{OnceCell, RefCell};
use std::net::IpAddr;

use super::super::format::{push_ipv4, push_u64};
use super::super::resolve::HostNames;
use super::super::services::{Proto, Services};
use super::names;
use crate::collect::netlink::unix_shown_name;
use crate::model::{Endpoint, Netid, Socket, Source};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Local,
    Peer,
}

/// What cells need besides the socket: numeric or named ports, where the data came from
/// (a /proc unix socket's peer is unknown, not 0), and lazily loaded lookup tables.
pub struct CellCtx {
    numeric: bool,
    source: Source,
    services: OnceCell<Services>,
    protocols: OnceCell<rustc_hash::FxHashMap<u16, Box<str>>>,
    ifnames: RefCell<Vec<(u32, Box<str>)>>,
    /// `-r`: host names instead of addresses.
    hosts: Option<HostNames>,
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

/// Local and peer (address, port) of an inet socket.
pub(super) type InetEnds = ((IpAddr, u16), (IpAddr, u16));

/// Both ends as (address, port) when the socket is an inet socket: then JSON has address
/// keys, otherwise unix keys.
pub(super) fn inet_ends(s: &Socket) -> Option<InetEnds> {
    match (&s.local, &s.peer) {
        (Endpoint::Inet { addr: la, port: lp }, Endpoint::Inet { addr: pa, port: pp }) => {
            Some(((*la, *lp), (*pa, *pp)))
        }
        _ => None,
    }
}

/// The inode of a unix socket's peer, `None` when the source cannot know it: /proc/net/unix
/// has no peer column, so "unknown", not "no peer". The one rule for text and JSON.
pub(super) fn unix_peer_inode(s: &Socket, source: Source) -> Option<u64> {
    match (&s.peer, source) {
        (Endpoint::Unix { inode, .. }, Source::Netlink) => Some(*inode),
        _ => None,
    }
}

/// A unix name as ss prints it: an abstract name (shown with a leading '@') has its other
/// NULs shown as '@' too. Escaping of the rest happens on the whole cell.
pub(super) fn push_unix_name(out: &mut String, p: &str) {
    out.push_str(&unix_shown_name(p));
}

impl CellCtx {
    /// `numeric`: ports as numbers (`-n`). `source`: the snapshot's source.
    pub fn new(numeric: bool, source: Source) -> CellCtx {
        CellCtx {
            numeric,
            source,
            services: OnceCell::new(),
            protocols: OnceCell::new(),
            ifnames: RefCell::new(Vec::new()),
            hosts: None,
        }
    }

    /// Show host names (`-r`), asked of `hosts`.
    pub fn with_host_names(mut self, hosts: HostNames) -> CellCtx {
        self.hosts = Some(hosts);
        self
    }

    /// Whether `-r` had to give up on a resolver that did not answer.
    pub fn resolver_gave_up(&self) -> bool {
        self.hosts.as_ref().is_some_and(HostNames::gave_up)
    }

    /// Use this service table instead of reading /etc/services (tests).
    pub fn with_services(mut self, services: Services) -> CellCtx {
        self.services = OnceCell::from(services);
        self
    }

    /// Format later cells for this source (keeps the caches and the resolver).
    pub fn set_source(&mut self, source: Source) {
        self.source = source;
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

    fn protocols(&self) -> &rustc_hash::FxHashMap<u16, Box<str>> {
        self.protocols.get_or_init(|| {
            names::parse_protocols(
                &crate::collect::Host::current()
                    .protocols_text()
                    .unwrap_or_default(),
            )
        })
    }

    /// The address half with its delimiter: `127.0.0.1:`, `[::1]:`, `*:`, `1.2.3.4%eth0:`,
    /// unix `path ` / `* `.
    pub(super) fn write_addr(&self, s: &Socket, end: End, out: &mut String) {
        let e = if end == End::Local { &s.local } else { &s.peer };
        match e {
            Endpoint::Inet { addr, .. } => {
                let name = self.hosts.as_ref().and_then(|h| h.name(*addr));
                match (addr, name) {
                    (_, Some(name)) => {
                        // ss brackets a name only when it holds a ':' (an IPv6 literal).
                        if name.contains(':') {
                            out.push('[');
                            out.push_str(&name);
                            out.push(']');
                        } else {
                            out.push_str(&name);
                        }
                    }
                    (IpAddr::V4(a), None) => push_ipv4(out, *a),
                    (IpAddr::V6(a), None) => {
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
                    (End::Local, Some(p)) => push_unix_name(out, p),
                    _ => out.push('*'),
                }
                out.push(' ');
            }
            Endpoint::Link { protocol, .. } => {
                // ETH_P_ALL is `*`; otherwise iproute2's name, or `[N]` with -n.
                match (*protocol, self.numeric) {
                    (3, _) => out.push('*'),
                    (p, false) if let Some(name) = names::ethertype(p) => out.push_str(name),
                    (p, _) => {
                        out.push('[');
                        push_u64(out, p.into());
                        out.push(']');
                    }
                }
                out.push(':');
            }
            Endpoint::Netlink { protocol, .. } => {
                match names::netlink_protocol(*protocol).filter(|_| !self.numeric) {
                    Some(name) => out.push_str(name),
                    None => push_u64(out, (*protocol).into()),
                }
                out.push(':');
            }
            Endpoint::NetlinkPeer { group, .. } => {
                push_u64(out, (*group).into());
                out.push(':');
            }
            // ss's vsock_addr_print: `cid:`, `*:` for VMADDR_CID_ANY.
            Endpoint::Vsock { cid, .. } => {
                match *cid {
                    u32::MAX => out.push('*'),
                    c => push_u64(out, c.into()),
                }
                out.push(':');
            }
            // ss's xdp_stats_print: the interface name, then `q` and the queue id.
            Endpoint::Xdp { ifindex, .. } => {
                self.push_ifname(*ifindex, out);
                out.push(':');
            }
            // ss's tipc_sock_addr_print: both numbers in decimal.
            Endpoint::Tipc { node, .. } => {
                push_u64(out, (*node).into());
                out.push(':');
            }
            // ss's tipc_show_sock prints an unconnected peer with `-` as the delimiter.
            Endpoint::Nothing if s.netid.class() == crate::tables::FamilyClass::Tipc => {
                out.push('-')
            }
            // ss prints an empty address with `*` as its delimiter, and no port.
            Endpoint::Nothing => out.push('*'),
        }
    }

    /// The port half: number or service name, `*` for port 0; unix: the inode (the peer's
    /// inode for the peer end, `-` when the source cannot know it).
    pub(super) fn write_port(&self, s: &Socket, end: End, out: &mut String) {
        let e = if end == End::Local { &s.local } else { &s.peer };
        match e {
            Endpoint::Inet { port, .. } => {
                if *port == 0 {
                    out.push('*');
                    return;
                }
                if !self.numeric {
                    // A raw socket's "port" is its IP protocol, named from /etc/protocols.
                    let name = match s.netid {
                        Netid::Raw => match self.protocols().get(port) {
                            Some(n) => Some(&**n),
                            // ss's inet_proto_n2a when getprotobynumber knows no name.
                            None => {
                                out.push_str("ipproto-");
                                push_u64(out, (*port).into());
                                return;
                            }
                        },
                        Netid::Udp => self.services().name(*port, Proto::Udp),
                        _ => self.services().name(*port, Proto::Tcp),
                    };
                    if let Some(name) = name {
                        out.push_str(name);
                        return;
                    }
                }
                push_u64(out, (*port).into());
            }
            Endpoint::Link { ifindex, .. } => match ifindex {
                0 => out.push('*'),
                i => self.push_ifname(*i, out),
            },
            Endpoint::Netlink { portid, .. } => match portid {
                -1 => out.push('*'),
                0 if !self.numeric => out.push_str("kernel"),
                // ss: the process whose pid the port id is, as `comm/pid`, else the number.
                p if !self.numeric && *p > 0 => {
                    match crate::collect::Host::current().process_comm(*p as u32) {
                        Some(comm) => {
                            out.push_str(&comm);
                            out.push('/');
                            push_i64(out, (*p).into());
                        }
                        None => push_i64(out, (*p).into()),
                    }
                }
                p => push_i64(out, (*p).into()),
            },
            Endpoint::NetlinkPeer { portid, .. } => push_i64(out, (*portid).into()),
            // VMADDR_PORT_ANY is `*`; numbers always (ss names no vsock service).
            Endpoint::Vsock { port, .. } => match *port {
                u32::MAX => out.push('*'),
                p => push_u64(out, p.into()),
            },
            Endpoint::Xdp { queue, .. } => {
                out.push('q');
                push_u64(out, (*queue).into());
            }
            Endpoint::Tipc { port, .. } => push_u64(out, (*port).into()),
            Endpoint::Nothing => {}
            Endpoint::Unix { .. } => {
                if end == End::Local {
                    push_u64(out, s.inode);
                } else {
                    match unix_peer_inode(s, self.source) {
                        Some(inode) => push_u64(out, inode),
                        None => out.push('-'),
                    }
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

fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_u64(out, n.unsigned_abs());
}
