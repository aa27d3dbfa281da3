//! Decoding of one packet_diag answer (`struct packet_diag_msg` + attributes) into a
//! [`Socket`]. Hand-written: netlink-packet-sock-diag has no packet_diag.
//!
//! `struct packet_diag_msg` (linux/packet_diag.h): family u8, type u8, num u16 (the
//! protocol, host order), ino u32, cookie[2] u32. Attributes: PACKET_DIAG_INFO
//! (`struct packet_diag_info`, pdi_index first), PACKET_DIAG_UID (u32), PACKET_DIAG_MEMINFO
//! (SK_MEMINFO_* u32s), PACKET_DIAG_RX_RING / _TX_RING (`struct packet_diag_ring`, 7 u32s)
//! and PACKET_DIAG_FANOUT (u32), the last three kept for `-e`.

use super::inet::{Decoded, cookie, meminfo};
use super::wire::{AF_PACKET, Attrs, PACKET_DIAG_INFO, PACKET_DIAG_MEMINFO, PACKET_DIAG_UID};
use crate::collect::Query;
use crate::model::{
    Details, Endpoint, Netid, PacketInfo, PacketRing, PacketRings, Socket, TcpState,
};

/// `pdiag_show` bits for the rings and the fanout group (linux/packet_diag.h).
pub const PACKET_SHOW_RING_CFG: u32 = 0x04;
pub const PACKET_SHOW_FANOUT: u32 = 0x08;
const PACKET_DIAG_RX_RING: u16 = 2;
const PACKET_DIAG_TX_RING: u16 = 3;
const PACKET_DIAG_FANOUT: u16 = 4;

/// sizeof(struct packet_diag_msg).
pub const PACKET_DIAG_MSG_LEN: usize = 16;

fn u32_of(value: &[u8], off: usize) -> Option<u32> {
    let s = value.get(off..off + 4)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

/// `struct packet_diag_ring`; `None` when the attribute is short.
fn ring(v: &[u8]) -> Option<PacketRing> {
    Some(PacketRing {
        block_size: u32_of(v, 0)?,
        block_nr: u32_of(v, 4)?,
        frame_size: u32_of(v, 8)?,
        frame_nr: u32_of(v, 12)?,
        retire_tmo: u32_of(v, 16)?,
        sizeof_priv: u32_of(v, 20)?,
        features: u32_of(v, 24)?,
    })
}

/// Decode one SOCK_DIAG_BY_FAMILY payload of the packet dump. Packet sockets have no state;
/// ss shows them as UNCONN (closed), so only a query with `closed` keeps them.
pub fn decode(payload: &[u8], query: &Query) -> Decoded {
    let Some(h) = payload.first_chunk::<PACKET_DIAG_MSG_LEN>() else {
        return Decoded::Bad;
    };
    if h[0] != AF_PACKET {
        return Decoded::Bad;
    }
    let Some(netid) = Netid::of_packet_type(h[1]) else {
        return Decoded::Bad;
    };
    if !query.netids.contains(netid) || !query.states.contains(TcpState::Close) {
        return Decoded::Filtered;
    }
    let protocol = u16::from_ne_bytes([h[2], h[3]]);
    let inode = u64::from(u32::from_ne_bytes([h[4], h[5], h[6], h[7]]));
    let lo = u32::from_ne_bytes([h[8], h[9], h[10], h[11]]);
    let hi = u32::from_ne_bytes([h[12], h[13], h[14], h[15]]);

    let mut ifindex = 0;
    let mut info = None;
    let mut uid = None;
    let mut mem = None;
    let mut rings = PacketRings::default();
    let mut attrs = Attrs::new(&payload[PACKET_DIAG_MSG_LEN..]);
    for (kind, value) in attrs.by_ref() {
        match kind {
            // struct packet_diag_info: index, version, reserve, copy_thresh, tstamp, flags.
            PACKET_DIAG_INFO => {
                ifindex = u32_of(value, 0).unwrap_or(0);
                if let (Some(version), Some(copy_thresh), Some(flags)) =
                    (u32_of(value, 4), u32_of(value, 12), u32_of(value, 20))
                {
                    info = Some(PacketInfo {
                        version,
                        copy_thresh,
                        flags,
                    });
                }
            }
            PACKET_DIAG_UID => uid = u32_of(value, 0),
            PACKET_DIAG_MEMINFO => mem = Some(meminfo(value)),
            PACKET_DIAG_RX_RING if query.details => rings.rx = ring(value),
            PACKET_DIAG_TX_RING if query.details => rings.tx = ring(value),
            PACKET_DIAG_FANOUT if query.details => rings.fanout = u32_of(value, 0),
            _ => {}
        }
    }
    if attrs.broken {
        return Decoded::Bad;
    }
    let sock = Socket {
        netid,
        state: TcpState::Close,
        // What ss shows: the receive memory in use, and no send queue (0).
        recv_q: mem.map(|m| m.rmem_alloc),
        send_q: mem.map(|_| 0),
        local: Endpoint::Link {
            protocol,
            ifindex,
            info,
        },
        peer: Endpoint::Nothing,
        inode,
        uid,
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
        details: (rings != PacketRings::default()).then(|| {
            Box::new(Details {
                packet: Some(Box::new(rings)),
                ..Details::default()
            })
        }),
        netns: query.netns.clone(),
    };
    Decoded::unless_filtered(sock, query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NetidSet;

    /// A packet_diag_msg for a dgram socket of protocol 0x0800 (host order) on ifindex 1,
    /// inode 77, uid 0, 1666 bytes of receive memory, laid out as linux/packet_diag.h says.
    fn message() -> Vec<u8> {
        let mut m = vec![AF_PACKET, libc::SOCK_DGRAM as u8];
        m.extend_from_slice(&0x0800u16.to_ne_bytes());
        m.extend_from_slice(&77u32.to_ne_bytes());
        m.extend_from_slice(&5u32.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        // PACKET_DIAG_INFO: struct packet_diag_info, 6 u32s.
        m.extend_from_slice(&(4u16 + 24).to_ne_bytes());
        m.extend_from_slice(&PACKET_DIAG_INFO.to_ne_bytes());
        for v in [1u32, 2, 0, 0, 0, 1] {
            m.extend_from_slice(&v.to_ne_bytes());
        }
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&PACKET_DIAG_UID.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&(4u16 + 36).to_ne_bytes());
        m.extend_from_slice(&PACKET_DIAG_MEMINFO.to_ne_bytes());
        for v in [1666u32, 212992, 0, 212992, 0, 0, 0, 0, 3] {
            m.extend_from_slice(&v.to_ne_bytes());
        }
        m
    }

    #[test]
    fn decodes_the_uapi_layout() {
        let q = Query::default();
        let Decoded::Keep(s) = decode(&message(), &q) else {
            panic!("not decoded");
        };
        assert_eq!(s.netid, Netid::PacketDgram);
        assert_eq!(s.state, TcpState::Close);
        assert!(matches!(
            s.local,
            Endpoint::Link {
                protocol: 0x0800,
                ifindex: 1,
                ..
            }
        ));
        assert_eq!(s.peer, Endpoint::Nothing);
        assert_eq!((s.inode, s.uid, s.cookie), (77, Some(0), Some(5)));
        assert_eq!((s.recv_q, s.send_q), (Some(1666), Some(0)));
        assert!(s.memory.is_none(), "memory only with -m");
        let Endpoint::Link { info, .. } = s.local else {
            panic!("not a link endpoint");
        };
        assert_eq!(
            info,
            Some(PacketInfo {
                version: 2,
                copy_thresh: 0,
                flags: 1
            })
        );
    }

    #[test]
    fn filters_and_rejects() {
        let mut q = Query {
            netids: NetidSet::of(&[Netid::PacketRaw]),
            ..Query::default()
        };
        assert!(matches!(decode(&message(), &q), Decoded::Filtered));
        q.netids = NetidSet::ALL;
        q.states = crate::model::StateSet::of(&[TcpState::Established]);
        assert!(matches!(decode(&message(), &q), Decoded::Filtered));
        assert!(matches!(decode(&message()[..10], &q), Decoded::Bad));
        let mut bad = message();
        bad[1] = 9;
        assert!(matches!(decode(&bad, &Query::default()), Decoded::Bad));
        let mut cut = message();
        cut.truncate(PACKET_DIAG_MSG_LEN + 6);
        assert!(matches!(decode(&cut, &Query::default()), Decoded::Bad));
    }
}
