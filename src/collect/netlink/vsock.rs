//! vsock_diag: the dump request and the decoding of one answer into a [`Socket`].
//! Hand-written from linux/vm_sockets_diag.h: netlink-packet-sock-diag has no vsock.
//!
//! `struct vsock_diag_req`: sdiag_family u8 (AF_VSOCK 40), sdiag_protocol u8 (0), pad u16,
//! vdiag_states u32 (a bit per sk_state, TCP's numbers), vdiag_ino u32, vdiag_show u32,
//! vdiag_cookie[2] u32. `struct vsock_diag_msg` (32 bytes, no attributes): vdiag_family u8,
//! vdiag_type u8, vdiag_state u8 (TCP_ESTABLISHED, TCP_SYN_SENT, TCP_CLOSE, TCP_CLOSING,
//! TCP_LISTEN), vdiag_shutdown u8, src_cid, src_port, dst_cid, dst_port, ino u32,
//! cookie[2] u32. ss (misc/ss.c `vsock_show_sock`) reads nothing else: no queues, no uid.

use super::inet::{Decoded, cookie};
use crate::collect::Query;
use crate::model::{Details, Endpoint, Netid, Socket, StateSet, TcpState};

/// AF_VSOCK (linux/socket.h).
pub const AF_VSOCK: u8 = libc::AF_VSOCK as u8;
/// sizeof(struct vsock_diag_msg).
pub const VSOCK_DIAG_MSG_LEN: usize = 32;

/// Serialize the vsock_diag dump request for the sockets in `states` (TCP state bits).
pub fn request(states: u32, seq: u32, out: &mut Vec<u8>) {
    super::wire::diag_header(24, seq, out);
    out.extend_from_slice(&[AF_VSOCK, 0, 0, 0]);
    out.extend_from_slice(&states.to_ne_bytes());
    out.extend_from_slice(&[0; 8]); // vdiag_ino, vdiag_show: reserved, 0
    out.extend_from_slice(&[0xff; 8]); // no cookie
}

/// The state bits ss asks for (`f->states`), TCP's numbering.
pub fn states(query: &Query) -> u32 {
    query.states.0 & StateSet::ALL.0
}

fn u32_at(h: &[u8; VSOCK_DIAG_MSG_LEN], off: usize) -> u32 {
    // `off` is always a constant below 29: a true invariant.
    u32::from_ne_bytes([h[off], h[off + 1], h[off + 2], h[off + 3]])
}

/// Decode one SOCK_DIAG_BY_FAMILY payload of the vsock dump.
pub fn decode(payload: &[u8], query: &Query) -> Decoded {
    let Some(h) = payload.first_chunk::<VSOCK_DIAG_MSG_LEN>() else {
        return Decoded::Bad;
    };
    if h[0] != AF_VSOCK {
        return Decoded::Bad;
    }
    let Some(netid) = Netid::of_vsock_type(h[1]) else {
        // SOCK_SEQPACKET: ss has no table for it (vsock_type_skip keeps it only when
        // its table is asked, and there is none), so neither does sockeye.
        return Decoded::Filtered;
    };
    let Some(state) = TcpState::from_kernel(h[2]) else {
        return Decoded::Bad;
    };
    if !query.netids.contains(netid) || !query.states.contains(state) {
        return Decoded::Filtered;
    }
    let mut sock = Socket::new(
        netid,
        state,
        Endpoint::Vsock {
            cid: u32_at(h, 4),
            port: u32_at(h, 8),
        },
        Endpoint::Vsock {
            cid: u32_at(h, 12),
            port: u32_at(h, 16),
        },
    );
    sock.inode = u64::from(u32_at(h, 20));
    sock.cookie = cookie(u32_at(h, 24), u32_at(h, 28));
    if query.details {
        sock.details = Some(Box::new(Details {
            shutdown: Some(h[3]),
            ..Details::default()
        }));
    }
    sock.netns.clone_from(&query.netns);
    Decoded::unless_filtered(sock, query)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One `struct vsock_diag_msg`.
    pub(crate) fn msg(
        sock_type: u8,
        state: u8,
        src: (u32, u32),
        dst: (u32, u32),
        ino: u32,
    ) -> Vec<u8> {
        let mut v = vec![AF_VSOCK, sock_type, state, 0];
        for x in [src.0, src.1, dst.0, dst.1, ino, 7, 0] {
            v.extend_from_slice(&x.to_ne_bytes());
        }
        assert_eq!(v.len(), VSOCK_DIAG_MSG_LEN);
        v
    }

    fn all() -> Query {
        Query {
            netids: crate::model::NetidSet::of(&[Netid::VsockStream, Netid::VsockDgram]),
            states: StateSet::ALL,
            ..Query::default()
        }
    }

    #[test]
    fn the_request_follows_vsock_diag_req() {
        let mut r = Vec::new();
        request(1 << 10, 9, &mut r);
        assert_eq!(r.len(), 40);
        assert_eq!(u32::from_ne_bytes([r[0], r[1], r[2], r[3]]), 40);
        assert_eq!((r[16], r[17]), (AF_VSOCK, 0));
        assert_eq!(&r[20..24], &(1u32 << 10).to_ne_bytes());
        assert_eq!(&r[24..32], &[0; 8]);
        assert_eq!(&r[32..40], &[0xff; 8]);
    }

    #[test]
    fn answers_decode_by_type() {
        let q = all();
        let Decoded::Keep(s) = decode(&msg(1, 10, (u32::MAX, 1234), (0, 0), 55), &q) else {
            panic!("a stream listener");
        };
        assert_eq!(
            (s.netid, s.state, s.inode),
            (Netid::VsockStream, TcpState::Listen, 55)
        );
        assert_eq!(
            s.local,
            Endpoint::Vsock {
                cid: u32::MAX,
                port: 1234
            }
        );
        assert_eq!(s.cookie, Some(7));
        assert_eq!(
            (s.recv_q, s.send_q),
            (None, None),
            "vsock_diag has no queues"
        );
        let Decoded::Keep(s) = decode(&msg(2, 7, (3, 99), (2, 5), 56), &q) else {
            panic!("a dgram socket");
        };
        assert_eq!((s.netid, s.state), (Netid::VsockDgram, TcpState::Close));
        assert_eq!(s.peer, Endpoint::Vsock { cid: 2, port: 5 });
        assert!(matches!(
            decode(&msg(5, 1, (3, 1), (2, 2), 1), &q),
            Decoded::Filtered
        ));
        assert!(matches!(
            decode(&msg(1, 99, (3, 1), (2, 2), 1), &q),
            Decoded::Bad
        ));
        assert!(matches!(decode(&[AF_VSOCK, 1, 1], &q), Decoded::Bad));
        let streams = Query {
            netids: crate::model::NetidSet::of(&[Netid::VsockStream]),
            ..all()
        };
        assert!(matches!(
            decode(&msg(2, 7, (3, 1), (2, 2), 1), &streams),
            Decoded::Filtered
        ));
    }
}
