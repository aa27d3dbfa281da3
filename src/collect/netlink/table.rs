//! The kernel tables a query asks for, and how each is requested.

use super::wire::{AF_INET, AF_INET6, AF_UNSPEC, TCP_NEW_SYN_RECV};
const IPPROTO_TCP: u16 = libc::IPPROTO_TCP as u16;
const IPPROTO_UDP: u16 = libc::IPPROTO_UDP as u16;
use crate::collect::Query;
use crate::model::{Netid, TcpState};
use crate::tables::Diag;

/// One kernel table, dumped by one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// `family` AF_UNSPEC: both families in one walk (the legacy TCPDIAG_GETSOCK request).
    Inet {
        family: u8,
        protocol: u16,
        netid: Netid,
        name: &'static str,
    },
    /// Stream, dgram and seqpacket come in one dump, split by `udiag_type`.
    Unix,
    /// Raw and dgram packet sockets come in one dump, split by `pdiag_type`.
    Packet,
    /// Every netlink protocol in one dump.
    Netlink,
    /// Stream and dgram vsock sockets come in one dump, split by `vdiag_type`.
    Vsock,
    /// Every AF_XDP socket in one dump.
    Xdp,
    /// Every TIPC socket type in one dump, split by TIPC_NLA_SOCK_TYPE.
    Tipc,
}

impl Table {
    pub(crate) const TCP4: Table = Table::inet(AF_INET, IPPROTO_TCP, Netid::Tcp, "tcp/ipv4");
    pub(crate) const TCP6: Table = Table::inet(AF_INET6, IPPROTO_TCP, Netid::Tcp, "tcp/ipv6");
    pub(crate) const UDP4: Table = Table::inet(AF_INET, IPPROTO_UDP, Netid::Udp, "udp/ipv4");
    pub(crate) const UDP6: Table = Table::inet(AF_INET6, IPPROTO_UDP, Netid::Udp, "udp/ipv6");
    pub(crate) const TCP_BOTH: Table =
        Table::inet(AF_UNSPEC, IPPROTO_TCP, Netid::Tcp, "tcp/ipv4+ipv6");

    const fn inet(family: u8, protocol: u16, netid: Netid, name: &'static str) -> Table {
        Table::Inet {
            family,
            protocol,
            netid,
            name,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Inet { name, .. } => name,
            Table::Unix => "unix",
            Table::Packet => "packet",
            Table::Netlink => "netlink",
            Table::Vsock => "vsock",
            Table::Xdp => "xdp",
            Table::Tipc => "tipc",
        }
    }

    pub(super) fn is_inet(self) -> bool {
        matches!(self, Table::Inet { .. })
    }

    /// Whether the registry says this table is read from /proc/net when the kernel has no
    /// diag module for it.
    pub(super) fn proc_fallback(self) -> bool {
        matches!(self, Table::Inet { netid, .. }
            if matches!(netid.kind().diag, Diag::Inet { proc_fallback: true, .. }))
    }

    /// Both families in one walk, answered with the request's legacy message type.
    pub(super) fn is_compat(self) -> bool {
        matches!(self, Table::Inet { family, .. } if family == AF_UNSPEC)
    }
}

/// The tables a query needs, in ss's order (tcp, udp, unix; IPv4 before IPv6). With
/// `one_walk`, TCP over both families is one table (one request, one kernel walk).
pub(crate) fn tables(query: &Query, one_walk: bool) -> Vec<Table> {
    let mut t = Vec::with_capacity(5);
    // In the table registry's (ss's) order; every kind of request handled here.
    let (mut unix, mut packet, mut netlink, mut vsock, mut xdp, mut tipc) =
        (false, false, false, false, false, false);
    for netid in query.netids.iter() {
        match netid.kind().diag {
            Diag::Inet {
                protocol, names, ..
            } => {
                if protocol == IPPROTO_TCP && one_walk && query.ipv4 && query.ipv6 {
                    t.push(Table::TCP_BOTH);
                    continue;
                }
                if query.ipv4 {
                    t.push(Table::inet(AF_INET, protocol, netid, names[0]));
                }
                if query.ipv6 {
                    t.push(Table::inet(AF_INET6, protocol, netid, names[1]));
                }
            }
            // One dump answers every unix kind.
            Diag::Unix { .. } => unix = true,
            Diag::Packet { .. } => packet = true,
            Diag::Netlink => netlink = true,
            Diag::Vsock { .. } => vsock = true,
            Diag::Xdp => xdp = true,
            Diag::Tipc { .. } => tipc = true,
        }
    }
    if unix {
        t.push(Table::Unix);
    }
    if packet {
        t.push(Table::Packet);
    }
    if netlink {
        t.push(Table::Netlink);
    }
    if vsock {
        t.push(Table::Vsock);
    }
    if tipc {
        t.push(Table::Tipc);
    }
    if xdp {
        t.push(Table::Xdp);
    }
    t
}

/// What [`NetlinkSource::dump`] will send for `query`, one line per request (for
/// `--explain`). TCP over both families is planned as one walk; the kernel may still refuse
/// it, and the source then asks per family.
pub fn describe_requests(query: &Query) -> Vec<String> {
    tables(query, true)
        .into_iter()
        .map(|t| {
            let what = if t.is_compat() {
                "one TCPDIAG_GETSOCK dump, one kernel walk for both families \
                 (per family if the kernel refuses it)"
            } else {
                "one SOCK_DIAG_BY_FAMILY dump"
            };
            format!("{}: {what}", t.name())
        })
        .collect()
}

/// The kernel's states mask for an inet request: the query's states, plus TCP_NEW_SYN_RECV
/// when SYN-RECV is asked (request sockets report that state), plus TCP_BOUND_INACTIVE for
/// a TCP table when bound-inactive sockets are asked (kernel 6.7 and later dump them then;
/// older kernels ignore the bit).
pub(crate) fn inet_states(query: &Query, protocol: u16) -> u32 {
    let mut mask = query.states.0 & crate::model::StateSet::ALL.0;
    if query.states.contains(TcpState::SynRecv) {
        mask |= 1 << TCP_NEW_SYN_RECV;
    }
    if protocol == IPPROTO_TCP && query.states.bound_inactive() {
        mask |= crate::model::StateSet::BOUND_INACTIVE.0;
    }
    mask
}
