//! xsk_diag: the AF_XDP dump request and the decoding of one answer into a [`Socket`].
//! Hand-written from linux/xdp_diag.h: netlink-packet-sock-diag has no AF_XDP.
//!
//! `struct xdp_diag_req`: sdiag_family u8 (AF_XDP 44), sdiag_protocol u8, pad u16,
//! xdiag_ino u32 (0: every socket), xdiag_show u32 (XDP_SHOW_*), xdiag_cookie[2].
//! `struct xdp_diag_msg` (16 bytes): family u8, type u8, pad u16, ino u32, cookie[2], then
//! attributes: XDP_DIAG_INFO (`struct xdp_diag_info`: ifindex, queue_id), XDP_DIAG_UID
//! (u32), XDP_DIAG_MEMINFO (SK_MEMINFO_* u32s), and for `-e` the rings (`struct
//! xdp_diag_ring`: entries u32; RX, TX, the umem's FILL and COMPLETION), XDP_DIAG_UMEM
//! (`struct xdp_diag_umem`, 40 bytes) and XDP_DIAG_STATS (`struct xdp_diag_stats`: six
//! u64). ss (`xdp_show_sock`) shows each as UNCONN, `ifname:qQUEUE` (`*` when unbound),
//! Recv-Q the receive memory (SK_MEMINFO_RMEM_ALLOC), Send-Q 0. An attribute shorter than
//! its struct is left out (the field is absent), as a kernel cannot send one.

use super::inet::{Decoded, cookie, meminfo};
use super::wire::Attrs;
use crate::collect::Query;
use crate::model::{Details, Endpoint, Netid, Socket, TcpState, XdpRings, XdpStats, XdpUmem};

/// AF_XDP (linux/socket.h).
pub const AF_XDP: u8 = libc::AF_XDP as u8;
/// sizeof(struct xdp_diag_msg).
pub const XDP_DIAG_MSG_LEN: usize = 16;
const XDP_DIAG_INFO: u16 = 1;
const XDP_DIAG_UID: u16 = 2;
const XDP_DIAG_RX_RING: u16 = 3;
const XDP_DIAG_TX_RING: u16 = 4;
const XDP_DIAG_UMEM: u16 = 5;
const XDP_DIAG_UMEM_FILL_RING: u16 = 6;
const XDP_DIAG_UMEM_COMPLETION_RING: u16 = 7;
const XDP_DIAG_MEMINFO: u16 = 8;
const XDP_DIAG_STATS: u16 = 9;
/// XDP_SHOW_INFO | XDP_SHOW_RING_CFG | XDP_SHOW_UMEM | XDP_SHOW_MEMINFO | XDP_SHOW_STATS,
/// as ss asks: the rest costs the kernel nothing worth saving.
const SHOW: u32 = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4);
/// sizeof(struct xdp_diag_umem) and sizeof(struct xdp_diag_stats).
const UMEM_LEN: usize = 40;
const STATS_LEN: usize = 48;

/// Serialize the xsk_diag dump request (every socket: binding, rings, umem, memory, stats).
pub fn request(seq: u32, out: &mut Vec<u8>) {
    super::wire::diag_header(20, seq, out);
    out.extend_from_slice(&[AF_XDP, 0, 0, 0]);
    out.extend_from_slice(&0u32.to_ne_bytes()); // xdiag_ino: every socket
    out.extend_from_slice(&SHOW.to_ne_bytes());
    out.extend_from_slice(&[0xff; 8]); // no cookie
}

fn u32_of(v: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(*v.get(off..)?.first_chunk::<4>()?))
}

fn u64_of(v: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(*v.get(off..)?.first_chunk::<8>()?))
}

/// `struct xdp_diag_umem`; `None` when shorter.
fn umem(v: &[u8]) -> Option<XdpUmem> {
    if v.len() < UMEM_LEN {
        return None;
    }
    let w = |i: usize| u32_of(v, 8 + 4 * i);
    Some(XdpUmem {
        size: u64_of(v, 0)?,
        id: w(0)?,
        num_pages: w(1)?,
        chunk_size: w(2)?,
        headroom: w(3)?,
        ifindex: w(4)?,
        queue_id: w(5)?,
        flags: w(6)?,
        refs: w(7)?,
    })
}

/// `struct xdp_diag_stats`; `None` when shorter.
fn stats(v: &[u8]) -> Option<XdpStats> {
    if v.len() < STATS_LEN {
        return None;
    }
    let q = |i: usize| u64_of(v, 8 * i);
    Some(XdpStats {
        rx_dropped: q(0)?,
        rx_invalid: q(1)?,
        rx_full: q(2)?,
        fill_ring_empty: q(3)?,
        tx_invalid: q(4)?,
        tx_ring_empty: q(5)?,
    })
}

/// Decode one SOCK_DIAG_BY_FAMILY payload of the AF_XDP dump. XDP sockets have no state;
/// ss shows them as UNCONN, so only a query with `closed` keeps them.
pub fn decode(payload: &[u8], query: &Query) -> Decoded {
    let Some(h) = payload.first_chunk::<XDP_DIAG_MSG_LEN>() else {
        return Decoded::Bad;
    };
    if h[0] != AF_XDP {
        return Decoded::Bad;
    }
    if !query.netids.contains(Netid::Xdp) || !query.states.contains(TcpState::Close) {
        return Decoded::Filtered;
    }
    let mut sock = Socket::new(
        Netid::Xdp,
        TcpState::Close,
        Endpoint::Nothing,
        Endpoint::Nothing,
    );
    sock.inode = u64::from(u32::from_ne_bytes([h[4], h[5], h[6], h[7]]));
    sock.cookie = cookie(
        u32::from_ne_bytes([h[8], h[9], h[10], h[11]]),
        u32::from_ne_bytes([h[12], h[13], h[14], h[15]]),
    );
    sock.send_q = Some(0);
    let details = query.wants_details();
    let mut rings = XdpRings::default();
    let mut attrs = Attrs::new(&payload[XDP_DIAG_MSG_LEN..]);
    for (kind, value) in attrs.by_ref() {
        match kind {
            XDP_DIAG_INFO => {
                if let (Some(ifindex), Some(queue)) = (u32_of(value, 0), u32_of(value, 4))
                    && ifindex != 0
                {
                    sock.local = Endpoint::Xdp { ifindex, queue };
                }
            }
            XDP_DIAG_UID => sock.uid = u32_of(value, 0),
            XDP_DIAG_MEMINFO => {
                let m = meminfo(value);
                sock.recv_q = Some(m.rmem_alloc);
                if query.memory {
                    sock.memory = Some(Box::new(m));
                }
            }
            XDP_DIAG_RX_RING if details => rings.rx = u32_of(value, 0),
            XDP_DIAG_TX_RING if details => rings.tx = u32_of(value, 0),
            XDP_DIAG_UMEM if details => rings.umem = umem(value),
            XDP_DIAG_UMEM_FILL_RING if details => rings.fill = u32_of(value, 0),
            XDP_DIAG_UMEM_COMPLETION_RING if details => rings.completion = u32_of(value, 0),
            XDP_DIAG_STATS if details => rings.stats = stats(value),
            _ => {}
        }
    }
    if attrs.broken {
        return Decoded::Bad;
    }
    if details {
        sock.details = Some(Box::new(Details {
            xdp: Some(Box::new(rings)),
            ..Details::default()
        }));
    }
    sock.netns.clone_from(&query.netns);
    Decoded::unless_filtered(sock, query)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        v.resize(v.len().div_ceil(4) * 4, 0);
        v
    }

    /// One `struct xdp_diag_msg` with XDP_DIAG_INFO (when `bound`), UID and MEMINFO.
    pub(crate) fn msg(ino: u32, bound: Option<(u32, u32)>, rmem: u32) -> Vec<u8> {
        let mut v = vec![AF_XDP, libc::SOCK_RAW as u8, 0, 0];
        for x in [ino, 9, 0] {
            v.extend_from_slice(&x.to_ne_bytes());
        }
        if let Some((ifindex, queue)) = bound {
            let mut info = ifindex.to_ne_bytes().to_vec();
            info.extend_from_slice(&queue.to_ne_bytes());
            v.extend(attr(XDP_DIAG_INFO, &info));
        }
        v.extend(attr(XDP_DIAG_UID, &1000u32.to_ne_bytes()));
        let mut mem = rmem.to_ne_bytes().to_vec();
        mem.extend_from_slice(&[0; 32]);
        v.extend(attr(XDP_DIAG_MEMINFO, &mem));
        v
    }

    /// [`msg`] plus what `-e` reads, as xsk_diag_fill lays it out: RX and TX rings, the
    /// umem and its fill and completion rings, then MEMINFO and STATS.
    pub(crate) fn msg_rings(ino: u32, bound: (u32, u32)) -> Vec<u8> {
        let mut v = msg(ino, Some(bound), 0);
        v.extend(attr(XDP_DIAG_RX_RING, &2048u32.to_ne_bytes()));
        v.extend(attr(XDP_DIAG_TX_RING, &1024u32.to_ne_bytes()));
        let mut u = (1u64 << 22).to_ne_bytes().to_vec();
        // id, num_pages, chunk_size, headroom, ifindex, queue_id, flags (zero-copy), refs
        for x in [3u32, 1024, 4096, 256, bound.0, bound.1, 1, 2] {
            u.extend_from_slice(&x.to_ne_bytes());
        }
        v.extend(attr(XDP_DIAG_UMEM, &u));
        v.extend(attr(XDP_DIAG_UMEM_FILL_RING, &4096u32.to_ne_bytes()));
        v.extend(attr(XDP_DIAG_UMEM_COMPLETION_RING, &512u32.to_ne_bytes()));
        let mut st = Vec::new();
        for x in [5u64, 6, 7, 8, 9, 10] {
            st.extend_from_slice(&x.to_ne_bytes());
        }
        v.extend(attr(XDP_DIAG_STATS, &st));
        v
    }

    fn q() -> Query {
        Query {
            netids: crate::model::NetidSet::of(&[Netid::Xdp]),
            states: crate::model::StateSet::ALL,
            ..Query::default()
        }
    }

    #[test]
    fn the_request_follows_xdp_diag_req() {
        let mut r = Vec::new();
        request(4, &mut r);
        assert_eq!(r.len(), 36);
        assert_eq!((r[16], r[17]), (AF_XDP, 0));
        assert_eq!(&r[20..24], &[0; 4], "every socket");
        assert_eq!(&r[24..28], &SHOW.to_ne_bytes());
        assert_eq!(&r[28..36], &[0xff; 8]);
    }

    #[test]
    fn answers_decode() {
        let Decoded::Keep(s) = decode(&msg(77, Some((1, 3)), 512), &q()) else {
            panic!("a bound socket");
        };
        assert_eq!(
            (s.netid, s.state, s.inode),
            (Netid::Xdp, TcpState::Close, 77)
        );
        assert_eq!(
            s.local,
            Endpoint::Xdp {
                ifindex: 1,
                queue: 3
            }
        );
        assert_eq!(
            (s.recv_q, s.send_q, s.uid),
            (Some(512), Some(0), Some(1000))
        );
        assert_eq!(s.cookie, Some(9));
        let Decoded::Keep(s) = decode(&msg(78, None, 0), &q()) else {
            panic!("an unbound socket");
        };
        assert_eq!(s.local, Endpoint::Nothing);
        let established = Query {
            states: crate::model::StateSet::EMPTY,
            ..q()
        };
        assert!(matches!(
            decode(&msg(1, None, 0), &established),
            Decoded::Filtered
        ));
        assert!(matches!(decode(&[AF_XDP, 3], &q()), Decoded::Bad));
    }

    fn rings_of(b: &[u8], q: &Query) -> Option<XdpRings> {
        let Decoded::Keep(s) = decode(b, q) else {
            panic!("an XDP socket");
        };
        s.details.and_then(|d| d.xdp).map(|r| *r)
    }

    fn with_details() -> Query {
        Query {
            details: true,
            ..q()
        }
    }

    #[test]
    fn rings_umem_and_stats_decode_under_details() {
        let b = msg_rings(80, (2, 5));
        assert_eq!(rings_of(&b, &q()), None, "not kept without -e");
        let r = rings_of(&b, &with_details()).expect("kept with -e");
        assert_eq!((r.rx, r.tx), (Some(2048), Some(1024)));
        assert_eq!((r.fill, r.completion), (Some(4096), Some(512)));
        assert_eq!(
            r.umem,
            Some(XdpUmem {
                size: 1 << 22,
                id: 3,
                num_pages: 1024,
                chunk_size: 4096,
                headroom: 256,
                ifindex: 2,
                queue_id: 5,
                flags: 1,
                refs: 2,
            })
        );
        assert_eq!(
            r.stats,
            Some(XdpStats {
                rx_dropped: 5,
                rx_invalid: 6,
                rx_full: 7,
                fill_ring_empty: 8,
                tx_invalid: 9,
                tx_ring_empty: 10,
            })
        );
        // A socket with no umem nor rings (created, not configured): all absent.
        let r = rings_of(&msg(81, None, 0), &with_details()).expect("kept with -e");
        assert_eq!(r, XdpRings::default());
    }

    #[test]
    fn short_attributes_leave_their_field_out() {
        let mut b = msg(82, Some((1, 0)), 0);
        b.extend(attr(XDP_DIAG_RX_RING, &[1, 2])); // half a u32
        b.extend(attr(XDP_DIAG_UMEM, &[0; UMEM_LEN - 4]));
        b.extend(attr(XDP_DIAG_STATS, &[0xff; STATS_LEN - 1]));
        b.extend(attr(XDP_DIAG_TX_RING, &64u32.to_ne_bytes()));
        let r = rings_of(&b, &with_details()).expect("the rest decodes");
        assert_eq!((r.rx, r.umem, r.stats), (None, None, None));
        assert_eq!(
            r.tx,
            Some(64),
            "a well-formed attribute after them still counts"
        );
        // A length running past the message: the answer is refused, not read beyond.
        let mut cut = msg_rings(83, (1, 0));
        cut.truncate(cut.len() - 20);
        assert!(matches!(decode(&cut, &with_details()), Decoded::Bad));
        // Garbage after the header never panics.
        for n in 0..64u8 {
            let mut g = msg(84, None, 0);
            g.extend((0..n).map(|i| i.wrapping_mul(37)));
            let _ = decode(&g, &with_details());
        }
    }
}
