//! Userspace evaluation with ss's semantics (misc/ss.c `run_ssfilter`), quirks included:
//! - address prefixes compare the first N bits of the raw address whatever its family, and an
//!   IPv4 prefix also matches a v4-mapped IPv6 address (`::ffff:a.b.c.d`);
//! - on unix sockets, `sport`/`dport` compare the socket's inode and its peer's inode (ss
//!   keeps them in the port fields), `src`/`dst` patterns are shell globs (fnmatch) against
//!   the socket's path (`""` when unnamed; the peer's name is not known when filtering, so
//!   `dst` sees `""`), and an inet address never matches.
//!
//! The kernel's view (bytecode) is applied separately; ss shows what both accept.

use std::net::IpAddr;
use std::sync::OnceLock;

use super::hostcond::{AddrCond, Family, HostCond, Prefix};
use super::parse::{Cond, Expr, PortOp, Side};
use crate::collect::netlink::unix_shown_name;
use crate::model::{Endpoint, Socket};

pub fn eval(e: &Expr, s: &Socket) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, s) || eval(b, s),
        Expr::And(a, b) => eval(a, s) && eval(b, s),
        Expr::Not(a) => !eval(a, s),
        Expr::Cond(c) => cond(c, s),
    }
}

/// ss's `lport`/`rport`: the port for inet sockets; for unix sockets the inode and the peer's
/// inode, stored in an `int`.
fn port_value(s: &Socket, side: Side) -> i64 {
    let ep = match side {
        Side::Src => &s.local,
        Side::Dst => &s.peer,
    };
    match ep {
        Endpoint::Inet { port, .. } => i64::from(*port),
        Endpoint::Unix { inode, .. } => {
            let ino = if side == Side::Src && *inode == 0 {
                s.inode
            } else {
                *inode
            };
            i64::from(ino as u32 as i32)
        }
        // ss's lport/rport for these: a packet socket's interface index (no peer, 0); a
        // netlink socket's port id, and -1 for its peer, connected or not.
        Endpoint::Link { ifindex, .. } => i64::from(*ifindex as i32),
        Endpoint::Netlink { portid, .. } => i64::from(*portid),
        Endpoint::NetlinkPeer { .. } => -1,
        // ss's lport/rport of a vsock socket: the u32 port in an int.
        Endpoint::Vsock { port, .. } => i64::from(*port as i32),
        // ss's lport of an XDP socket: its queue id.
        Endpoint::Xdp { queue, .. } => i64::from(*queue as i32),
        // ss's tipc_show_sock leaves lport/rport 0.
        Endpoint::Tipc { .. } => 0,
        Endpoint::Nothing if s.netid == crate::model::Netid::Netlink => -1,
        Endpoint::Nothing => 0,
    }
}

fn cond(c: &Cond, s: &Socket) -> bool {
    match c {
        Cond::Host { side, host, .. } => host_match(host, *side, s),
        Cond::Port { side, op, port } => {
            let v = port_value(s, *side);
            match (op, port) {
                (PortOp::Eq, None) => true,
                (PortOp::Ne, None) => false,
                (PortOp::Eq, Some(p)) => v == i64::from(*p),
                (PortOp::Ne, Some(p)) => v != i64::from(*p),
                (PortOp::Ge, Some(p)) => v >= i64::from(*p),
                (PortOp::Le, Some(p)) => v <= i64::from(*p),
                (PortOp::Gt, Some(p)) => v > i64::from(*p),
                (PortOp::Lt, Some(p)) => v < i64::from(*p),
                // The parser refuses '*' with an ordering.
                (_, None) => false,
            }
        }
        Cond::UnixPort { side, op, pattern } => {
            let eq = || match (side, &s.local) {
                (Side::Src, Endpoint::Unix { path, .. }) => unix_match(pattern, path.as_deref()),
                (Side::Dst, Endpoint::Unix { .. }) => fnmatch(pattern, ""),
                _ => false,
            };
            let v = port_value(s, *side);
            match op {
                PortOp::Eq => eq(),
                PortOp::Ne => !eq(),
                PortOp::Ge => v >= -1,
                PortOp::Le => v <= -1,
                PortOp::Gt => v > -1,
                PortOp::Lt => v < -1,
            }
        }
        Cond::Dev { ifindex, .. } => dev_index(s) == *ifindex,
        // A socket read without -N/--all-netns carries no namespace: it matches no name.
        Cond::Netns { pattern } => s
            .netns
            .as_ref()
            // Exact first: `net:[INODE]` holds a glob bracket.
            .is_some_and(|t| t.names().any(|n| *pattern == *n || fnmatch(pattern, &n))),
        Cond::AutoBound => match &s.local {
            Endpoint::Inet { port, .. } => is_ephemeral(*port),
            Endpoint::Unix { path, .. } => match path {
                None => true,
                Some(p) => {
                    let b = p.as_bytes();
                    b.len() == 6
                        && b[0] == b'@'
                        && b[1..]
                            .iter()
                            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                }
            },
            Endpoint::Link { .. }
            | Endpoint::Netlink { .. }
            | Endpoint::NetlinkPeer { .. }
            | Endpoint::Vsock { .. }
            | Endpoint::Xdp { .. }
            | Endpoint::Tipc { .. }
            | Endpoint::Nothing => false,
        },
    }
}

/// ss's `iface`, which `dev` compares: the bound device of an inet socket, the interface a
/// packet or XDP socket is bound to (0: none).
fn dev_index(s: &Socket) -> u32 {
    match &s.local {
        Endpoint::Link { ifindex, .. } | Endpoint::Xdp { ifindex, .. } => *ifindex,
        _ => s.ifindex.unwrap_or(0),
    }
}

fn host_match(h: &HostCond, side: Side, s: &Socket) -> bool {
    let ep = match side {
        Side::Src => &s.local,
        Side::Dst => &s.peer,
    };
    if let AddrCond::Unix(pat) = &h.addr {
        return match ep {
            Endpoint::Unix { path, .. } => match side {
                Side::Src => unix_match(pat, path.as_deref()),
                Side::Dst => fnmatch(pat, ""),
            },
            Endpoint::Inet { .. }
            | Endpoint::Link { .. }
            | Endpoint::Netlink { .. }
            | Endpoint::NetlinkPeer { .. }
            | Endpoint::Vsock { .. }
            | Endpoint::Xdp { .. }
            | Endpoint::Tipc { .. }
            | Endpoint::Nothing => false,
        };
    }
    match &h.addr {
        AddrCond::Link { protocol, ifindex } => {
            return family_match(s, side, protocol.map(u32::from), *ifindex);
        }
        AddrCond::Netlink { protocol, portid } => {
            return family_match(s, side, *protocol, *portid);
        }
        AddrCond::Any | AddrCond::Inet(_) | AddrCond::Unix(_) => {}
    }
    if let Some(p) = h.port
        && port_value(s, side) != i64::from(p)
    {
        return false;
    }
    match &h.addr {
        AddrCond::Inet(list) if list.first().is_some_and(|p| p.len > 0) => match ep {
            Endpoint::Inet { addr, .. } => list.iter().any(|p| addr_match(addr, p)),
            Endpoint::Unix { .. }
            | Endpoint::Link { .. }
            | Endpoint::Netlink { .. }
            | Endpoint::NetlinkPeer { .. }
            | Endpoint::Vsock { .. }
            | Endpoint::Xdp { .. }
            | Endpoint::Tipc { .. }
            | Endpoint::Nothing => false,
        },
        _ => true,
    }
}

/// ss's packet and netlink conditions: the "port" (a packet socket's interface, a netlink
/// socket's port id: [`port_value`]) and the protocol, which ss keeps as the end's address
/// (zero for the peer of either). Without both, every socket matches, as in ss.
fn family_match(s: &Socket, side: Side, protocol: Option<u32>, port: Option<i64>) -> bool {
    if port.is_some_and(|p| port_value(s, side) != p) {
        return false;
    }
    let Some(want) = protocol else {
        return true;
    };
    let ep = match side {
        Side::Src => &s.local,
        Side::Dst => &s.peer,
    };
    let have = match ep {
        Endpoint::Link { protocol, .. } => u32::from(*protocol),
        Endpoint::Netlink { protocol, .. } => u32::from(*protocol),
        Endpoint::NetlinkPeer { .. } | Endpoint::Nothing => 0,
        // ss would compare an address's first word; no inet, unix, vsock, XDP or TIPC end
        // is a protocol number.
        Endpoint::Inet { .. }
        | Endpoint::Unix { .. }
        | Endpoint::Vsock { .. }
        | Endpoint::Xdp { .. }
        | Endpoint::Tipc { .. } => return false,
    };
    have == want
}

/// The raw words ss keeps for an address: IPv4 in the first 4 bytes, the rest zero.
fn raw(addr: &IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.octets());
            b
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// First `bits` bits equal (iproute2's inet_addr_match, without a family check).
pub(crate) fn bits_equal(a: &[u8], b: &[u8], bits: usize) -> bool {
    let bytes = bits / 8;
    let rest = bits % 8;
    if a.len() < bytes || b.len() < bytes || a[..bytes] != b[..bytes] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(bytes), b.get(bytes)) {
        (Some(x), Some(y)) => (x ^ y) & mask == 0,
        _ => false,
    }
}

/// ss's inet2_addr_match.
fn addr_match(addr: &IpAddr, p: &Prefix) -> bool {
    let a = raw(addr);
    let bits = usize::from(p.len);
    if bits_equal(&a, &p.bytes, bits) {
        return true;
    }
    if p.family == Family::V4
        && let IpAddr::V6(v6) = addr
        && v6.to_ipv4_mapped().is_some()
    {
        let mut tmp = a;
        tmp.copy_within(12..16, 0);
        return bits_equal(&tmp, &p.bytes, bits);
    }
    false
}

/// ss matches a unix name as it prints it: an abstract name's NULs as '@' (`@name@x`).
fn unix_match(pattern: &str, path: Option<&str>) -> bool {
    fnmatch(pattern, &unix_shown_name(path.unwrap_or("")))
}

fn fnmatch(pattern: &str, name: &str) -> bool {
    let (Ok(p), Ok(n)) = (
        std::ffi::CString::new(pattern),
        std::ffi::CString::new(name),
    ) else {
        return false;
    };
    // SAFETY: both are valid NUL-terminated strings; fnmatch only reads them.
    unsafe { libc::fnmatch(p.as_ptr(), n.as_ptr(), 0) == 0 }
}

/// ss's is_ephemeral: within net.ipv4.ip_local_port_range (1024-4999 when unreadable).
fn is_ephemeral(port: u16) -> bool {
    static RANGE: OnceLock<(u16, u16)> = OnceLock::new();
    let (lo, hi) = *RANGE.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|t| {
                let mut it = t.split_whitespace().map(|x| x.parse::<u16>());
                match (it.next(), it.next()) {
                    (Some(Ok(a)), Some(Ok(b))) => Some((a, b)),
                    _ => None,
                }
            })
            .unwrap_or((1024, 4999))
    });
    port >= lo && port <= hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_compare() {
        assert!(bits_equal(&[10, 1, 2, 3], &[10, 0, 0, 0], 8));
        assert!(!bits_equal(&[11, 1, 2, 3], &[10, 0, 0, 0], 8));
        assert!(bits_equal(&[0b1010_0000], &[0b1011_1111], 3));
        assert!(!bits_equal(&[0b1010_0000], &[0b1011_1111], 4));
        assert!(bits_equal(&[1], &[2], 0));
    }

    #[test]
    fn globs() {
        assert!(fnmatch("/run/*", "/run/x.sock"));
        assert!(fnmatch("*", ""));
        assert!(!fnmatch("/run/*", ""));
        assert!(fnmatch("@/tmp/.X11-unix/X?", "@/tmp/.X11-unix/X0"));
    }

    #[test]
    fn an_abstract_name_matches_with_its_nuls_as_at_signs() {
        assert!(unix_match("@abs*", Some("@abs name\0x")));
        assert!(unix_match("@abs name@x", Some("@abs name\0x")));
        assert!(!unix_match("@abs name", Some("@abs name\0x")));
        assert!(unix_match("*", None));
    }
}
