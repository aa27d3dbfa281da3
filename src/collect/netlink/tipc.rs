//! tipc_diag: the AF_TIPC dump request and the decoding of one answer.
//! Hand-written from linux/tipc_sockets_diag.h and linux/tipc_netlink.h:
//! netlink-packet-sock-diag has no TIPC.
//!
//! `struct tipc_sock_diag_req`: sdiag_family u8 (AF_TIPC 30), sdiag_protocol u8, pad u16,
//! tidiag_states u32 (a bit per sk_state; the kernel filters). An answer has no fixed
//! header: the payload is one nested TIPC_NLA_SOCK holding ADDR (own node), REF (port id),
//! CON (nest: NODE, SOCK, and FLAG/TYPE/INST when connected to a service), HAS_PUBL,
//! STAT (nest, numbered from 0: RCVQ, SENDQ, LINK_CONG, CONN_CONG, DROP), TYPE (sk_type),
//! INO, UID, TIPC_STATE (sk_state, TCP's numbers: TIPC_OPEN is TCP_CLOSE) and COOKIE (u64).
//! ss (`tipc_show_sock`) prints `node:ref` locally, the peer `node:sock` or `-`, Recv-Q
//! and Send-Q the queue lengths in messages.

use super::inet::Decoded;
use super::wire::Attrs;
use crate::collect::Query;
use crate::model::{Details, Endpoint, Netid, Socket, TcpState, TipcInfo};

/// AF_TIPC (linux/socket.h).
pub const AF_TIPC: u8 = libc::AF_TIPC as u8;

const TIPC_NLA_SOCK: u16 = 2;
const SOCK_ADDR: u16 = 1;
const SOCK_REF: u16 = 2;
const SOCK_CON: u16 = 3;
const SOCK_HAS_PUBL: u16 = 4;
const SOCK_STAT: u16 = 5;
const SOCK_TYPE: u16 = 6;
const SOCK_INO: u16 = 7;
const SOCK_UID: u16 = 8;
const SOCK_TIPC_STATE: u16 = 9;
const SOCK_COOKIE: u16 = 10;
const CON_FLAG: u16 = 1;
const CON_NODE: u16 = 2;
const CON_SOCK: u16 = 3;
const CON_TYPE: u16 = 4;
const CON_INST: u16 = 5;
const STAT_RCVQ: u16 = 0;
const STAT_SENDQ: u16 = 1;
const STAT_LINK_CONG: u16 = 2;
const STAT_CONN_CONG: u16 = 3;
const STAT_DROP: u16 = 4;

/// A TIPC end as ss prints it: `node:port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TipcAddr {
    pub node: u32,
    pub port: u32,
}

/// What one tipc_diag answer says, as read (ss's `tipc_show_sock` fields).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TipcSock {
    /// sk_type: SOCK_STREAM, SOCK_DGRAM, SOCK_RDM or SOCK_SEQPACKET.
    pub sock_type: u32,
    /// sk_state in TCP's numbering.
    pub state: u32,
    pub local: Option<TipcAddr>,
    /// TIPC_NLA_SOCK_CON: None for an unconnected socket (ss prints `-`).
    pub peer: Option<TipcAddr>,
    /// The service a connection was made to (TIPC_NLA_CON_FLAG, TYPE, INST): ss's `via {t,i}`.
    pub via: Option<(u32, u32)>,
    pub has_publ: bool,
    pub recv_q: Option<u32>,
    pub send_q: Option<u32>,
    pub drops: Option<u32>,
    pub link_cong: bool,
    pub conn_cong: bool,
    pub inode: Option<u32>,
    pub uid: Option<u32>,
    pub cookie: Option<u64>,
}

/// Serialize the tipc_diag dump request for the sockets in `states` (TCP state bits).
pub fn request(states: u32, seq: u32, out: &mut Vec<u8>) {
    super::wire::diag_header(8, seq, out);
    out.extend_from_slice(&[AF_TIPC, 0, 0, 0]);
    out.extend_from_slice(&states.to_ne_bytes());
}

fn u32_of(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(*v.first_chunk::<4>()?))
}

fn u64_of(v: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(*v.first_chunk::<8>()?))
}

/// Decode one SOCK_DIAG_BY_FAMILY payload of the AF_TIPC dump. `Ok(None)`: no
/// TIPC_NLA_SOCK in it (ss skips such an answer); `Err(())`: malformed attributes.
#[allow(clippy::result_unit_err)]
pub fn parse(payload: &[u8]) -> Result<Option<TipcSock>, ()> {
    let mut top = Attrs::new(payload);
    let sock = top.find(|(k, _)| *k == TIPC_NLA_SOCK).map(|(_, v)| v);
    if top.broken {
        return Err(());
    }
    let Some(sock) = sock else {
        return Ok(None);
    };
    let mut t = TipcSock::default();
    let (mut addr, mut port) = (None, None);
    let mut attrs = Attrs::new(sock);
    for (kind, v) in attrs.by_ref() {
        match kind {
            SOCK_ADDR => addr = u32_of(v),
            SOCK_REF => port = u32_of(v),
            SOCK_CON => con(v, &mut t)?,
            SOCK_HAS_PUBL => t.has_publ = true,
            SOCK_STAT => stat(v, &mut t)?,
            SOCK_TYPE => t.sock_type = u32_of(v).ok_or(())?,
            SOCK_INO => t.inode = u32_of(v),
            SOCK_UID => t.uid = u32_of(v),
            SOCK_TIPC_STATE => t.state = u32_of(v).ok_or(())?,
            SOCK_COOKIE => t.cookie = u64_of(v),
            _ => {}
        }
    }
    if attrs.broken {
        return Err(());
    }
    if let (Some(node), Some(port)) = (addr, port) {
        t.local = Some(TipcAddr { node, port });
    }
    Ok(Some(t))
}

/// Decode one SOCK_DIAG_BY_FAMILY payload of the AF_TIPC dump into a [`Socket`]. An
/// unconnected socket's peer is [`Endpoint::Nothing`] (ss prints `-`).
pub fn decode(payload: &[u8], query: &Query) -> Decoded {
    let t = match parse(payload) {
        Ok(Some(t)) => t,
        Ok(None) => return Decoded::Filtered,
        Err(()) => return Decoded::Bad,
    };
    let Some(netid) = Netid::of_tipc_type(t.sock_type) else {
        return Decoded::Filtered;
    };
    let Some(state) = u8::try_from(t.state).ok().and_then(TcpState::from_kernel) else {
        return Decoded::Bad;
    };
    if !query.netids.contains(netid) || !query.states.contains(state) {
        return Decoded::Filtered;
    }
    let end = |a: Option<TipcAddr>| match a {
        Some(TipcAddr { node, port }) => Endpoint::Tipc { node, port },
        None => Endpoint::Nothing,
    };
    let mut sock = Socket::new(netid, state, end(t.local), end(t.peer));
    sock.inode = t.inode.map_or(0, u64::from);
    sock.uid = t.uid;
    sock.cookie = t.cookie;
    sock.recv_q = t.recv_q;
    sock.send_q = t.send_q;
    // What --tipcinfo prints; kept whatever the flags, TIPC sockets being rare.
    sock.details = Some(Box::new(Details {
        tipc: Some(Box::new(TipcInfo {
            sock_type: t.sock_type,
            link_cong: t.link_cong,
            conn_cong: t.conn_cong,
            drops: t.drops,
            published: t.has_publ,
            via: t.via,
        })),
        ..Details::default()
    }));
    sock.netns.clone_from(&query.netns);
    Decoded::unless_filtered(sock, query)
}

fn con(v: &[u8], t: &mut TipcSock) -> Result<(), ()> {
    let (mut node, mut sock, mut flag, mut ty, mut inst) = (None, None, false, None, None);
    let mut a = Attrs::new(v);
    for (kind, v) in a.by_ref() {
        match kind {
            CON_FLAG => flag = true,
            CON_NODE => node = u32_of(v),
            CON_SOCK => sock = u32_of(v),
            CON_TYPE => ty = u32_of(v),
            CON_INST => inst = u32_of(v),
            _ => {}
        }
    }
    if a.broken {
        return Err(());
    }
    // The kernel always sends both inside CON.
    t.peer = Some(TipcAddr {
        node: node.ok_or(())?,
        port: sock.ok_or(())?,
    });
    if flag && let (Some(ty), Some(inst)) = (ty, inst) {
        t.via = Some((ty, inst));
    }
    Ok(())
}

fn stat(v: &[u8], t: &mut TipcSock) -> Result<(), ()> {
    let mut a = Attrs::new(v);
    for (kind, v) in a.by_ref() {
        match kind {
            STAT_RCVQ => t.recv_q = u32_of(v),
            STAT_SENDQ => t.send_q = u32_of(v),
            STAT_LINK_CONG => t.link_cong = true,
            STAT_CONN_CONG => t.conn_cong = true,
            STAT_DROP => t.drops = u32_of(v),
            _ => {}
        }
    }
    if a.broken { Err(()) } else { Ok(()) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        v.resize(v.len().div_ceil(4) * 4, 0);
        v
    }

    fn nest(kind: u16, inner: &[u8]) -> Vec<u8> {
        // NLA_F_NESTED, as nla_nest_start sets it.
        attr(kind | 0x8000, inner)
    }

    /// One answer as the kernel's tipc_sk_fill_sock_diag lays it out.
    pub(crate) fn msg(
        sock_type: i32,
        state: u8,
        local: (u32, u32),
        peer: Option<(u32, u32)>,
        queues: (u32, u32),
        ino: u32,
    ) -> Vec<u8> {
        let mut s = attr(SOCK_REF, &local.1.to_ne_bytes());
        s.extend(attr(SOCK_ADDR, &local.0.to_ne_bytes()));
        if let Some((node, sock)) = peer {
            let mut c = attr(CON_NODE, &node.to_ne_bytes());
            c.extend(attr(CON_SOCK, &sock.to_ne_bytes()));
            c.extend(attr(CON_FLAG, &[]));
            c.extend(attr(CON_TYPE, &18888u32.to_ne_bytes()));
            c.extend(attr(CON_INST, &17u32.to_ne_bytes()));
            s.extend(nest(SOCK_CON, &c));
        } else {
            s.extend(attr(SOCK_HAS_PUBL, &[]));
        }
        s.extend(attr(SOCK_TYPE, &(sock_type as u32).to_ne_bytes()));
        s.extend(attr(SOCK_TIPC_STATE, &u32::from(state).to_ne_bytes()));
        s.extend(attr(SOCK_INO, &ino.to_ne_bytes()));
        s.extend(attr(SOCK_UID, &1000u32.to_ne_bytes()));
        s.extend(attr(11, &[])); // TIPC_NLA_SOCK_PAD before the aligned u64
        s.extend(attr(SOCK_COOKIE, &0x1_0000_0002u64.to_ne_bytes()));
        let mut st = attr(STAT_RCVQ, &queues.0.to_ne_bytes());
        st.extend(attr(STAT_SENDQ, &queues.1.to_ne_bytes()));
        st.extend(attr(STAT_DROP, &3u32.to_ne_bytes()));
        st.extend(attr(STAT_LINK_CONG, &[]));
        s.extend(nest(SOCK_STAT, &st));
        nest(TIPC_NLA_SOCK, &s)
    }

    #[test]
    fn the_request_follows_tipc_sock_diag_req() {
        let mut r = Vec::new();
        request(1 << 10, 5, &mut r);
        assert_eq!(r.len(), 24);
        assert_eq!(u32::from_ne_bytes([r[0], r[1], r[2], r[3]]), 24);
        assert_eq!((r[16], r[17], r[18], r[19]), (AF_TIPC, 0, 0, 0));
        assert_eq!(&r[20..24], &(1u32 << 10).to_ne_bytes());
        assert_eq!(&r[8..12], &5u32.to_ne_bytes());
    }

    #[test]
    fn a_connected_socket_decodes() {
        let b = msg(
            libc::SOCK_STREAM,
            1,
            (0x0100_1001, 7),
            Some((0x0100_1002, 9)),
            (4, 2),
            55,
        );
        let t = parse(&b).expect("well formed").expect("a socket");
        assert_eq!((t.sock_type, t.state), (libc::SOCK_STREAM as u32, 1));
        assert_eq!(
            t.local,
            Some(TipcAddr {
                node: 0x0100_1001,
                port: 7
            })
        );
        assert_eq!(
            t.peer,
            Some(TipcAddr {
                node: 0x0100_1002,
                port: 9
            })
        );
        assert_eq!(t.via, Some((18888, 17)));
        assert_eq!((t.recv_q, t.send_q, t.drops), (Some(4), Some(2), Some(3)));
        assert!(t.link_cong && !t.conn_cong && !t.has_publ);
        assert_eq!((t.inode, t.uid), (Some(55), Some(1000)));
        assert_eq!(t.cookie, Some(0x1_0000_0002));
        assert_eq!(Netid::of_tipc_type(t.sock_type), Some(Netid::TipcStream));
    }

    #[test]
    fn an_unconnected_socket_has_no_peer() {
        let b = msg(libc::SOCK_RDM, 7, (1, 2), None, (0, 0), 56);
        let t = parse(&b).expect("well formed").expect("a socket");
        assert_eq!((t.peer, t.via, t.has_publ), (None, None, true));
        assert_eq!(t.state, 7, "TIPC_OPEN is TCP_CLOSE: ss's UNCONN");
        let name = |t: i32| Netid::of_tipc_type(t as u32).map(Netid::as_str);
        assert_eq!(name(libc::SOCK_RDM), Some("ti_rd"));
        assert_eq!(name(libc::SOCK_DGRAM), Some("ti_dg"));
        assert_eq!(name(libc::SOCK_SEQPACKET), Some("ti_sq"));
        assert_eq!(name(libc::SOCK_STREAM), Some("ti_st"));
        assert_eq!(name(libc::SOCK_RAW), None);
    }

    #[test]
    fn malformed_answers_are_refused() {
        assert_eq!(parse(&[]), Ok(None), "no TIPC_NLA_SOCK: skipped as ss does");
        assert_eq!(parse(&attr(1, &[0; 4])), Ok(None));
        let mut b = msg(libc::SOCK_DGRAM, 7, (1, 2), None, (0, 0), 1);
        b.truncate(b.len() - 6);
        assert_eq!(parse(&b), Err(()), "a truncated nest");
        let short_type = nest(TIPC_NLA_SOCK, &attr(SOCK_TYPE, &[1, 0]));
        assert_eq!(parse(&short_type), Err(()));
        let con_without_sock = nest(
            TIPC_NLA_SOCK,
            &nest(SOCK_CON, &attr(CON_NODE, &1u32.to_ne_bytes())),
        );
        assert_eq!(parse(&con_without_sock), Err(()));
    }

    #[test]
    fn the_tipcinfo_report_is_kept_and_a_short_drop_count_is_absent() {
        let q = Query {
            netids: crate::model::NetidSet::of(&[Netid::TipcStream, Netid::TipcRdm]),
            ..Query::default()
        };
        let b = msg(libc::SOCK_STREAM, 1, (1, 2), Some((3, 4)), (0, 0), 9);
        let Decoded::Keep(s) = decode(&b, &q) else {
            panic!("a stream socket");
        };
        let t = s
            .details
            .and_then(|d| d.tipc)
            .expect("kept without any flag");
        assert_eq!(
            *t,
            TipcInfo {
                sock_type: libc::SOCK_STREAM as u32,
                link_cong: true,
                conn_cong: false,
                drops: Some(3),
                published: false,
                via: Some((18888, 17)),
            }
        );
        // STAT with a two-byte DROP and a CONN_CONG mark: the count is unknown, not 0.
        let mut st = attr(STAT_DROP, &[1, 0]);
        st.extend(attr(STAT_CONN_CONG, &[]));
        let mut inner = attr(SOCK_TYPE, &(libc::SOCK_RDM as u32).to_ne_bytes());
        inner.extend(attr(SOCK_TIPC_STATE, &7u32.to_ne_bytes()));
        inner.extend(nest(SOCK_STAT, &st));
        let Decoded::Keep(s) = decode(&nest(TIPC_NLA_SOCK, &inner), &q) else {
            panic!("an RDM socket");
        };
        let t = s.details.and_then(|d| d.tipc).expect("kept");
        assert_eq!((t.drops, t.conn_cong, t.via), (None, true, None));
        // Garbage never panics.
        for n in 0..48u8 {
            let g: Vec<u8> = (0..n).map(|i| i.wrapping_mul(29) ^ 4).collect();
            let _ = decode(&nest(TIPC_NLA_SOCK, &g), &q);
        }
    }
}
