//! Sort keys of cells: typed (numeric addresses, unknown last) and, where they hold no
//! string, packed into integers for the live view's 100,000-socket sort.

use std::net::IpAddr;

use crate::model::Endpoint;

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
    /// A text (first process: command, then pid; a path: 0).
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

pub(super) fn opt_key(v: Option<u64>) -> SortKey<'static> {
    v.map_or(SortKey::Unknown, SortKey::Int)
}

pub(super) fn endpoint_key(e: &Endpoint) -> SortKey<'_> {
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
        Endpoint::Link {
            protocol, ifindex, ..
        } => SortKey::Int((u64::from(*protocol) << 32) | u64::from(*ifindex)),
        Endpoint::Netlink {
            protocol, portid, ..
        } => SortKey::Int((u64::from(*protocol) << 32) | u64::from(*portid as u32)),
        Endpoint::NetlinkPeer { group, portid } => {
            SortKey::Int((u64::from(*group) << 32) | u64::from(*portid as u32))
        }
        Endpoint::Vsock { cid, port } => SortKey::Int((u64::from(*cid) << 32) | u64::from(*port)),
        Endpoint::Xdp { ifindex, queue } => {
            SortKey::Int((u64::from(*ifindex) << 32) | u64::from(*queue))
        }
        Endpoint::Tipc { node, port } => SortKey::Int((u64::from(*node) << 32) | u64::from(*port)),
        Endpoint::Nothing => SortKey::Unknown,
    }
}

pub(super) fn port_key(e: &Endpoint) -> SortKey<'_> {
    match e {
        Endpoint::Inet { port, .. } => SortKey::Int((*port).into()),
        Endpoint::Unix { inode, .. } => SortKey::Int(*inode),
        Endpoint::Link { ifindex, .. } => SortKey::Int((*ifindex).into()),
        Endpoint::Netlink { portid, .. } | Endpoint::NetlinkPeer { portid, .. } => {
            SortKey::Int((*portid as u32).into())
        }
        Endpoint::Vsock { port, .. } => SortKey::Int((*port).into()),
        Endpoint::Xdp { queue, .. } => SortKey::Int((*queue).into()),
        Endpoint::Tipc { port, .. } => SortKey::Int((*port).into()),
        Endpoint::Nothing => SortKey::Unknown,
    }
}
