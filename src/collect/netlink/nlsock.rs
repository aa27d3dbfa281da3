//! Decoding of one netlink_diag answer (`struct netlink_diag_msg` + attributes) into a
//! [`Socket`]. Hand-written: netlink-packet-sock-diag has no netlink_diag.
//!
//! `struct netlink_diag_msg` (linux/netlink_diag.h): family u8, type u8, protocol u8, state
//! u8 (NETLINK_CONNECTED = 1), portid u32, dst_portid u32, dst_group u32, ino u32,
//! cookie[2] u32. Attributes: NETLINK_DIAG_MEMINFO (SK_MEMINFO_* u32s), NETLINK_DIAG_GROUPS.

use super::inet::{Decoded, cookie, meminfo};
use super::wire::{AF_NETLINK, Attrs, NETLINK_DIAG_GROUPS, NETLINK_DIAG_MEMINFO};
use crate::collect::Query;
use crate::model::{Endpoint, Netid, Socket, TcpState};

/// sizeof(struct netlink_diag_msg).
pub const NETLINK_DIAG_MSG_LEN: usize = 28;
const NETLINK_CONNECTED: u8 = 1;

fn u32_at(h: &[u8; NETLINK_DIAG_MSG_LEN], off: usize) -> u32 {
    // `off` is always a constant below 25.
    u32::from_ne_bytes([h[off], h[off + 1], h[off + 2], h[off + 3]])
}

/// Decode one SOCK_DIAG_BY_FAMILY payload of the netlink dump. ss shows every netlink socket
/// as UNCONN (closed), connected or not, so only a query with `closed` keeps them.
pub fn decode(payload: &[u8], query: &Query) -> Decoded {
    let Some(h) = payload.first_chunk::<NETLINK_DIAG_MSG_LEN>() else {
        return Decoded::Bad;
    };
    if h[0] != AF_NETLINK {
        return Decoded::Bad;
    }
    if !query.netids.contains(Netid::Netlink) || !query.states.contains(TcpState::Close) {
        return Decoded::Filtered;
    }
    let protocol = h[2];
    let connected = h[3] == NETLINK_CONNECTED;
    // Port ids are u32 in the kernel; ss prints them as signed ints (a kernel-chosen id for
    // a second socket of a process is negative), and so do we.
    let portid = u32_at(h, 4) as i32;
    let dst_portid = u32_at(h, 8) as i32;
    let dst_group = u32_at(h, 12);
    let inode = u64::from(u32_at(h, 16));
    let (lo, hi) = (u32_at(h, 20), u32_at(h, 24));

    let mut mem = None;
    let mut groups = 0;
    let mut attrs = Attrs::new(&payload[NETLINK_DIAG_MSG_LEN..]);
    for (kind, value) in attrs.by_ref() {
        match kind {
            NETLINK_DIAG_MEMINFO => mem = Some(meminfo(value)),
            // A bitmap of unsigned longs; ss prints the low 32 bits.
            NETLINK_DIAG_GROUPS => {
                if let Some(b) = value.first_chunk::<4>() {
                    groups = u32::from_ne_bytes(*b);
                }
            }
            _ => {}
        }
    }
    if attrs.broken {
        return Decoded::Bad;
    }
    let sock = Socket {
        netid: Netid::Netlink,
        state: TcpState::Close,
        // ss's queues for netlink: receive and send memory in use.
        recv_q: mem.map(|m| m.rmem_alloc),
        send_q: mem.map(|m| m.wmem_alloc),
        local: Endpoint::Netlink {
            protocol,
            portid,
            groups,
        },
        peer: if connected {
            Endpoint::NetlinkPeer {
                group: dst_group,
                portid: dst_portid,
            }
        } else {
            Endpoint::Nothing
        },
        inode,
        uid: None,
        cookie: cookie(lo, hi),
        ifindex: None,
        v6only: None,
        timer: None,
        tcp_info: None,
        memory: if query.memory {
            mem.map(Box::new)
        } else {
            None
        },
        processes: Default::default(),
        details: None,
        netns: query.netns.clone(),
    };
    Decoded::unless_filtered(sock, query)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connected NETLINK_ROUTE socket (port id -5, to the kernel: group 0, port 0), inode
    /// 9, with meminfo, laid out as linux/netlink_diag.h says.
    fn message(state: u8) -> Vec<u8> {
        let mut m = vec![AF_NETLINK, libc::SOCK_RAW as u8, 0, state];
        for v in [(-5i32) as u32, 0, 0, 9, 1, 0] {
            m.extend_from_slice(&v.to_ne_bytes());
        }
        m.extend_from_slice(&(4u16 + 36).to_ne_bytes());
        m.extend_from_slice(&NETLINK_DIAG_MEMINFO.to_ne_bytes());
        for v in [4352u32, 212992, 7, 212992, 0, 0, 0, 0, 0] {
            m.extend_from_slice(&v.to_ne_bytes());
        }
        m
    }

    #[test]
    fn decodes_the_uapi_layout() {
        let Decoded::Keep(s) = decode(&message(1), &Query::default()) else {
            panic!("not decoded");
        };
        assert_eq!(s.netid, Netid::Netlink);
        assert_eq!(
            s.local,
            Endpoint::Netlink {
                protocol: 0,
                portid: -5,
                groups: 0
            }
        );
        assert_eq!(
            s.peer,
            Endpoint::NetlinkPeer {
                group: 0,
                portid: 0
            }
        );
        assert_eq!((s.recv_q, s.send_q, s.inode), (Some(4352), Some(7), 9));
        assert_eq!(s.cookie, Some(1));
        let Decoded::Keep(s) = decode(&message(0), &Query::default()) else {
            panic!("not decoded");
        };
        assert_eq!(s.peer, Endpoint::Nothing);
        assert!(matches!(
            decode(&message(0)[..20], &Query::default()),
            Decoded::Bad
        ));
        let q = Query {
            states: crate::model::StateSet::of(&[TcpState::Listen]),
            ..Query::default()
        };
        assert!(matches!(decode(&message(0), &q), Decoded::Filtered));
    }
}
