//! The netlink wire format, read by hand: message headers, attribute walking, and the
//! sock_diag requests (serialized with netlink-packet-sock-diag, plus the bytecode attribute the
//! crate does not support).
//!
//! Why by hand: responses are decoded straight from the receive buffer. The crate's
//! `NetlinkMessage::<SockDiagMessage>::deserialize` builds a `Box`ed response and an owned NLA
//! per attribute (tcp_info, congestion name, cgroup id, sockopt, ...) for every socket, and one
//! undecodable attribute fails the whole message; walking the fixed header and the attributes
//! over the borrowed bytes costs no allocation beyond the `Socket` itself (see the
//! `netlink_bench` test for the figures).

use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_packet_sock_diag::unix::{ShowFlags, StateFlags as UnixStateFlags, UnixRequest};

pub const NLMSG_HDRLEN: usize = 16;
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// The legacy inet_diag request type for TCP: its dump walks both families at once.
pub const TCPDIAG_GETSOCK: u16 = 18;

pub const AF_UNSPEC: u8 = libc::AF_UNSPEC as u8;
pub const AF_UNIX: u8 = libc::AF_UNIX as u8;
pub const AF_INET: u8 = libc::AF_INET as u8;
pub const AF_INET6: u8 = libc::AF_INET6 as u8;
pub const IPPROTO_TCP: u8 = libc::IPPROTO_TCP as u8;
pub const IPPROTO_UDP: u8 = libc::IPPROTO_UDP as u8;

/// inet_diag request attribute carrying filter bytecode.
pub const INET_DIAG_REQ_BYTECODE: u16 = 1;
/// inet_diag request attribute carrying a protocol above 255 (MPTCP), as a u32.
pub const INET_DIAG_REQ_PROTOCOL: u16 = 3;
pub const AF_PACKET: u8 = libc::AF_PACKET as u8;
pub const AF_NETLINK: u8 = libc::AF_NETLINK as u8;

// packet_diag (linux/packet_diag.h): request "show" flags and answer attributes.
pub const PACKET_SHOW_INFO: u32 = 0x01;
pub const PACKET_SHOW_MEMINFO: u32 = 0x10;
pub const PACKET_DIAG_INFO: u16 = 0;
pub const PACKET_DIAG_UID: u16 = 5;
pub const PACKET_DIAG_MEMINFO: u16 = 6;

// netlink_diag (linux/netlink_diag.h): request "show" flags and answer attributes.
pub const NDIAG_SHOW_MEMINFO: u32 = 0x01;
pub const NDIAG_SHOW_GROUPS: u32 = 0x02;
pub const NDIAG_PROTO_ALL: u8 = 0xff;
pub const NETLINK_DIAG_MEMINFO: u16 = 0;
pub const NETLINK_DIAG_GROUPS: u16 = 1;

// inet_diag response attributes (linux/inet_diag.h).
pub const INET_DIAG_INFO: u16 = 2;
pub const INET_DIAG_CONG: u16 = 4;
pub const INET_DIAG_SKMEMINFO: u16 = 7;
pub const INET_DIAG_SKV6ONLY: u16 = 11;
pub const INET_DIAG_VEGASINFO: u16 = 3;
pub const INET_DIAG_TOS: u16 = 5;
pub const INET_DIAG_TCLASS: u16 = 6;
pub const INET_DIAG_SHUTDOWN: u16 = 8;
pub const INET_DIAG_DCTCPINFO: u16 = 9;
pub const INET_DIAG_MARK: u16 = 15;
pub const INET_DIAG_BBRINFO: u16 = 16;
pub const INET_DIAG_CLASS_ID: u16 = 17;
pub const INET_DIAG_CGROUP_ID: u16 = 21;
pub const INET_DIAG_SOCKOPT: u16 = 22;

// unix_diag response attributes (linux/unix_diag.h).
pub const UNIX_DIAG_NAME: u16 = 0;
pub const UNIX_DIAG_PEER: u16 = 2;
pub const UNIX_DIAG_RQLEN: u16 = 4;
pub const UNIX_DIAG_MEMINFO: u16 = 5;
pub const UNIX_DIAG_UID: u16 = 7;
pub const UNIX_DIAG_VFS: u16 = 1;
pub const UNIX_DIAG_ICONS: u16 = 3;
pub const UNIX_DIAG_SHUTDOWN: u16 = 6;

// unix_diag request "show" flags.
pub const UDIAG_SHOW_NAME: u32 = 0x01;
pub const UDIAG_SHOW_PEER: u32 = 0x04;
pub const UDIAG_SHOW_RQLEN: u32 = 0x10;
pub const UDIAG_SHOW_MEMINFO: u32 = 0x20;
pub const UDIAG_SHOW_UID: u32 = 0x40;
pub const UDIAG_SHOW_VFS: u32 = 0x02;
pub const UDIAG_SHOW_ICONS: u32 = 0x08;

/// The kernel's TCP_NEW_SYN_RECV, reported for request sockets.
pub const TCP_NEW_SYN_RECV: u32 = 12;

pub const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One netlink message header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgHeader {
    pub len: u32,
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

pub fn ne_u32(b: &[u8; 4]) -> u32 {
    u32::from_ne_bytes(*b)
}

fn read_u32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    let a: &[u8; 4] = s.try_into().ok()?;
    Some(ne_u32(a))
}

/// What one step through a datagram found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A whole message: its header and its payload (after the 16-byte header).
    Msg(MsgHeader, &'a [u8]),
    /// The rest of the datagram cannot be split into messages (bad or truncated length).
    Broken,
}

/// Splits a datagram into messages, stepping by each header's aligned length.
pub struct Messages<'a> {
    rest: &'a [u8],
}

impl<'a> Messages<'a> {
    pub fn new(datagram: &'a [u8]) -> Messages<'a> {
        Messages { rest: datagram }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Next<'a>;

    fn next(&mut self) -> Option<Next<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(h) = self.rest.first_chunk::<NLMSG_HDRLEN>() else {
            self.rest = &[];
            return Some(Next::Broken);
        };
        let header = MsgHeader {
            len: u32::from_ne_bytes([h[0], h[1], h[2], h[3]]),
            kind: u16::from_ne_bytes([h[4], h[5]]),
            flags: u16::from_ne_bytes([h[6], h[7]]),
            seq: u32::from_ne_bytes([h[8], h[9], h[10], h[11]]),
            pid: u32::from_ne_bytes([h[12], h[13], h[14], h[15]]),
        };
        let len = header.len as usize;
        if len < NLMSG_HDRLEN || len > self.rest.len() {
            self.rest = &[];
            return Some(Next::Broken);
        }
        let payload = &self.rest[NLMSG_HDRLEN..len];
        // The last message of a datagram may lack its padding.
        let step = align4(len).min(self.rest.len());
        self.rest = &self.rest[step..];
        Some(Next::Msg(header, payload))
    }
}

/// The error code of an NLMSG_ERROR or NLMSG_DONE payload, as a positive errno (0: none).
/// A DONE without payload (old kernels) means success.
pub fn error_code(payload: &[u8]) -> i32 {
    match read_u32(payload, 0) {
        Some(v) => (v as i32).checked_neg().unwrap_or(i32::MAX).max(0),
        None => 0,
    }
}

/// Walks the route attributes after a fixed header: yields (type, value). Stops at the first
/// malformed attribute and reports it through `broken`.
pub struct Attrs<'a> {
    rest: &'a [u8],
    pub broken: bool,
}

impl<'a> Attrs<'a> {
    pub fn new(bytes: &'a [u8]) -> Attrs<'a> {
        Attrs {
            rest: bytes,
            broken: false,
        }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        if self.rest.len() < 4 {
            // Trailing bytes shorter than an attribute header: padding at most.
            if self.rest.iter().any(|b| *b != 0) {
                self.broken = true;
            }
            self.rest = &[];
            return None;
        }
        let len = u16::from_ne_bytes([self.rest[0], self.rest[1]]) as usize;
        // Top two bits are NLA_F_NESTED / NLA_F_NET_BYTEORDER.
        let kind = u16::from_ne_bytes([self.rest[2], self.rest[3]]) & 0x3fff;
        if len < 4 || len > self.rest.len() {
            self.broken = true;
            self.rest = &[];
            return None;
        }
        let value = &self.rest[4..len];
        let step = align4(len).min(self.rest.len());
        self.rest = &self.rest[step..];
        Some((kind, value))
    }
}

fn dump_header(seq: u32) -> NetlinkHeader {
    let mut h = NetlinkHeader::default();
    h.flags = NLM_F_REQUEST | NLM_F_DUMP;
    h.sequence_number = seq;
    h
}

fn serialize(msg: SockDiagMessage, seq: u32, out: &mut Vec<u8>) {
    let mut packet = NetlinkMessage::new(dump_header(seq), msg.into());
    packet.finalize();
    out.clear();
    out.resize(packet.buffer_len(), 0);
    packet.serialize(&mut out[..]);
}

/// Serialize an inet_diag dump request into `out`, with the filter bytecode (if any) appended
/// as an INET_DIAG_REQ_BYTECODE attribute and `nlmsg_len` fixed up (the crate cannot do it).
/// Returns false when the bytecode is too long for one attribute.
pub fn inet_request(
    family: u8,
    protocol: u16,
    extensions: u8,
    states: u32,
    bytecode: Option<&[u8]>,
    seq: u32,
    out: &mut Vec<u8>,
) -> bool {
    let socket_id = if family == AF_INET6 {
        SocketId::new_v6()
    } else {
        SocketId::new_v4()
    };
    // A protocol above 255 goes in INET_DIAG_REQ_PROTOCOL; the header's byte then says TCP
    // (what ss sends: the low byte of IPPROTO_MPTCP), which the kernel ignores.
    let wide = u8::try_from(protocol).is_err();
    let req = InetRequest {
        family,
        protocol: if wide {
            libc::IPPROTO_TCP as u8
        } else {
            protocol as u8
        },
        extensions: ExtensionFlags::from_bits_retain(extensions),
        states: StateFlags::from_bits_retain(states),
        socket_id,
    };
    serialize(SockDiagMessage::InetRequest(req), seq, out);
    if wide {
        append_attr(
            INET_DIAG_REQ_PROTOCOL,
            &u32::from(protocol).to_ne_bytes(),
            out,
        );
    }
    append_bytecode(bytecode, out)
}

/// Append one attribute and fix `nlmsg_len`.
fn append_attr(kind: u16, value: &[u8], out: &mut Vec<u8>) {
    out.resize(align4(out.len()), 0);
    // Only small fixed values come here.
    let len = (4 + value.len()) as u16;
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize(align4(out.len()), 0);
    let total = out.len() as u32;
    out[0..4].copy_from_slice(&total.to_ne_bytes());
}

/// The header of a SOCK_DIAG_BY_FAMILY dump request of `body_len` bytes (every hand-written
/// request body follows it).
pub fn diag_header(body_len: usize, seq: u32, out: &mut Vec<u8>) {
    out.clear();
    let len = (NLMSG_HDRLEN + body_len) as u32;
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    out.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
}

/// Serialize a packet_diag dump request (`struct packet_diag_req`: family, protocol, pad,
/// ino, show, cookie[2]) into `out`. The crate has no packet_diag, so it is written by hand.
pub fn packet_request(show: u32, seq: u32, out: &mut Vec<u8>) {
    diag_header(20, seq, out);
    out.extend_from_slice(&[AF_PACKET, 0, 0, 0]);
    out.extend_from_slice(&0u32.to_ne_bytes()); // pdiag_ino: every socket
    out.extend_from_slice(&show.to_ne_bytes());
    out.extend_from_slice(&[0xff; 8]); // no cookie
}

/// Serialize a netlink_diag dump request (`struct netlink_diag_req`: family, protocol, pad,
/// ino, show, cookie[2]) for every netlink protocol into `out`. Hand-written: the crate has
/// no netlink_diag.
pub fn netlink_request(show: u32, seq: u32, out: &mut Vec<u8>) {
    diag_header(20, seq, out);
    out.extend_from_slice(&[AF_NETLINK, NDIAG_PROTO_ALL, 0, 0]);
    out.extend_from_slice(&0u32.to_ne_bytes()); // ndiag_ino: every socket
    out.extend_from_slice(&show.to_ne_bytes());
    out.extend_from_slice(&[0xff; 8]);
}

/// sizeof(struct inet_diag_req), the legacy request body.
pub const INET_DIAG_REQ_LEN: usize = 60;

/// Serialize a legacy TCPDIAG_GETSOCK dump request (`struct inet_diag_req`) into `out`. The
/// kernel answers it with one walk of the TCP tables for both families (it dumps with
/// AF_UNSPEC), where two SOCK_DIAG_BY_FAMILY requests walk them twice. The answers are the
/// same `inet_diag_msg`s, with the request's message type. The crate has no such request, so
/// it is written by hand. Returns false when the bytecode is too long for one attribute.
pub fn compat_tcp_request(
    extensions: u8,
    states: u32,
    bytecode: Option<&[u8]>,
    seq: u32,
    out: &mut Vec<u8>,
) -> bool {
    out.clear();
    let len = (NLMSG_HDRLEN + INET_DIAG_REQ_LEN) as u32;
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&TCPDIAG_GETSOCK.to_ne_bytes());
    out.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: the kernel fills it in
    // idiag_family (unused by a dump), idiag_src_len, idiag_dst_len, idiag_ext.
    out.extend_from_slice(&[AF_UNSPEC, 0, 0, extensions]);
    // struct inet_diag_sockid: ports, addresses and interface zero (a dump compares the
    // request's ports with listeners' when they are non-zero), no cookie.
    out.extend_from_slice(&[0u8; 4 + 16 + 16 + 4]);
    out.extend_from_slice(&[0xff; 8]);
    out.extend_from_slice(&states.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes()); // idiag_dbs
    append_bytecode(bytecode, out)
}

/// Append `bytecode` as an INET_DIAG_REQ_BYTECODE attribute and fix `nlmsg_len`. False when
/// it does not fit in one attribute (the request is left without it).
fn append_bytecode(bytecode: Option<&[u8]>, out: &mut Vec<u8>) -> bool {
    let Some(bc) = bytecode else {
        return true;
    };
    let Ok(attr_len) = u16::try_from(4 + bc.len()) else {
        return false;
    };
    out.resize(align4(out.len()), 0);
    out.extend_from_slice(&attr_len.to_ne_bytes());
    out.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
    out.extend_from_slice(bc);
    out.resize(align4(out.len()), 0);
    let total = out.len() as u32;
    out[0..4].copy_from_slice(&total.to_ne_bytes());
    true
}

/// Serialize a unix_diag dump request into `out`. `states` goes to the kernel as is (the
/// crate's `StateFlags::all()` only has ESTABLISHED and LISTEN, which misses unconnected
/// sockets, so the caller passes every bit).
pub fn unix_request(states: u32, show: u32, seq: u32, out: &mut Vec<u8>) {
    let req = UnixRequest {
        state_flags: UnixStateFlags::from_bits_retain(states),
        inode: 0,
        show_flags: ShowFlags::from_bits_retain(show),
        cookie: [0xff; 8],
    };
    serialize(SockDiagMessage::UnixRequest(req), seq, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(payload);
        v.resize(align4(v.len()), 0);
        v
    }

    #[test]
    fn splits_messages_and_reports_broken_tail() {
        let mut d = msg(NLMSG_NOOP, 1, &[1, 2, 3]);
        d.extend(msg(NLMSG_DONE, 1, &0i32.to_ne_bytes()));
        d.extend_from_slice(&[200, 0, 0, 0, 3, 0]);
        let got: Vec<_> = Messages::new(&d).collect();
        assert_eq!(got.len(), 3);
        match &got[0] {
            Next::Msg(h, p) => {
                assert_eq!(h.kind, NLMSG_NOOP);
                assert_eq!(h.len, 19);
                assert_eq!(*p, &[1, 2, 3]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&got[1], Next::Msg(h, _) if h.kind == NLMSG_DONE));
        assert_eq!(got[2], Next::Broken);
    }

    #[test]
    fn zero_length_message_is_broken_not_a_loop() {
        let d = [0u8; 32];
        let got: Vec<_> = Messages::new(&d).collect();
        assert_eq!(got, vec![Next::Broken]);
    }

    #[test]
    fn error_codes() {
        assert_eq!(error_code(&(-2i32).to_ne_bytes()), 2);
        assert_eq!(error_code(&0i32.to_ne_bytes()), 0);
        assert_eq!(error_code(&[]), 0);
        assert_eq!(error_code(&i32::MIN.to_ne_bytes()), i32::MAX);
    }

    #[test]
    fn attrs_walk_and_flag_garbage() {
        let mut b = Vec::new();
        b.extend_from_slice(&5u16.to_ne_bytes());
        b.extend_from_slice(&11u16.to_ne_bytes());
        b.extend_from_slice(&[1, 0, 0, 0]);
        b.extend_from_slice(&8u16.to_ne_bytes());
        b.extend_from_slice(&(0x8000u16 | 4).to_ne_bytes());
        b.extend_from_slice(b"bbr\0");
        let mut a = Attrs::new(&b);
        assert_eq!(a.next(), Some((11, &[1u8][..])));
        assert_eq!(a.next(), Some((4, &b"bbr\0"[..])));
        assert_eq!(a.next(), None);
        assert!(!a.broken);

        let bad = [40u8, 0, 2, 0, 1, 2];
        let mut a = Attrs::new(&bad);
        assert_eq!(a.next(), None);
        assert!(a.broken);
    }

    #[test]
    fn inet_request_with_bytecode_fixes_length() {
        let mut out = Vec::new();
        assert!(inet_request(
            AF_INET,
            IPPROTO_TCP.into(),
            0,
            0xffe,
            Some(&[1, 2, 3, 4, 5, 6, 7, 8]),
            7,
            &mut out
        ));
        // 16 header + 56 inet_diag_req_v2 + 4 attr header + 8 bytecode
        assert_eq!(out.len(), 84);
        assert_eq!(u32::from_ne_bytes([out[0], out[1], out[2], out[3]]), 84);
        assert_eq!(u16::from_ne_bytes([out[4], out[5]]), SOCK_DIAG_BY_FAMILY);
        assert_eq!(u32::from_ne_bytes([out[8], out[9], out[10], out[11]]), 7);
        assert_eq!(out[16], AF_INET);
        assert_eq!(out[17], IPPROTO_TCP);
        assert_eq!(
            u32::from_ne_bytes([out[20], out[21], out[22], out[23]]),
            0xffe
        );
        assert_eq!(u16::from_ne_bytes([out[72], out[73]]), 12);
        assert_eq!(u16::from_ne_bytes([out[74], out[75]]), 1);
        assert_eq!(&out[76..84], &[1, 2, 3, 4, 5, 6, 7, 8]);

        let mut plain = Vec::new();
        inet_request(AF_INET6, IPPROTO_UDP.into(), 0, 2, None, 1, &mut plain);
        assert_eq!(plain.len(), 72);
        assert_eq!(plain[16], AF_INET6);
    }

    #[test]
    fn compat_request_layout() {
        let mut out = vec![9u8; 3]; // cleared, not appended to
        assert!(compat_tcp_request(0x4a, 0xfff, None, 42, &mut out));
        // 16 header + 60 struct inet_diag_req.
        assert_eq!(out.len(), 76);
        assert_eq!(u32::from_ne_bytes(out[0..4].try_into().unwrap()), 76);
        assert_eq!(u16::from_ne_bytes([out[4], out[5]]), TCPDIAG_GETSOCK);
        assert_eq!(u16::from_ne_bytes([out[6], out[7]]), 0x301, "REQUEST|DUMP");
        assert_eq!(u32::from_ne_bytes(out[8..12].try_into().unwrap()), 42);
        assert_eq!(u32::from_ne_bytes(out[12..16].try_into().unwrap()), 0);
        // family, src_len, dst_len, ext
        assert_eq!(&out[16..20], &[AF_UNSPEC, 0, 0, 0x4a]);
        // sockid: sport, dport, src[4], dst[4], if = 0; cookie = none.
        assert!(out[20..60].iter().all(|b| *b == 0));
        assert_eq!(&out[60..68], &[0xff; 8]);
        assert_eq!(u32::from_ne_bytes(out[68..72].try_into().unwrap()), 0xfff);
        assert_eq!(
            u32::from_ne_bytes(out[72..76].try_into().unwrap()),
            0,
            "dbs"
        );

        let bc = [1u8, 4, 12, 0, 0, 0, 0x1f, 0x90, 9, 9];
        assert!(compat_tcp_request(0, 0x400, Some(&bc), 1, &mut out));
        // The attribute starts right after the 60-byte body, padded to 4.
        assert_eq!(out.len(), 76 + 4 + 12);
        assert_eq!(u32::from_ne_bytes(out[0..4].try_into().unwrap()), 92);
        assert_eq!(u16::from_ne_bytes([out[76], out[77]]), 14);
        assert_eq!(
            u16::from_ne_bytes([out[78], out[79]]),
            INET_DIAG_REQ_BYTECODE
        );
        assert_eq!(&out[80..90], &bc);
        assert_eq!(&out[90..92], &[0, 0]);

        let huge = vec![0u8; 70_000];
        assert!(!compat_tcp_request(0, 1, Some(&huge), 1, &mut out));
        assert_eq!(out.len(), 76, "left without the bytecode");
    }

    #[test]
    fn unix_request_layout() {
        let mut out = Vec::new();
        unix_request(u32::MAX, UDIAG_SHOW_NAME | UDIAG_SHOW_UID, 3, &mut out);
        assert_eq!(out.len(), 16 + 24);
        assert_eq!(out[16], AF_UNIX);
        assert_eq!(
            u32::from_ne_bytes([out[20], out[21], out[22], out[23]]),
            u32::MAX
        );
        assert_eq!(
            u32::from_ne_bytes([out[28], out[29], out[30], out[31]]),
            0x41
        );
    }
}
