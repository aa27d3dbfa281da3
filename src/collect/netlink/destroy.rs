//! SOCK_DESTROY (`dump -K`, as `ss -K`): ask the kernel to close one TCP or UDP socket,
//! named by its addresses, ports, interface and cookie (the cookie makes the kernel refuse
//! a different socket that reused the same four-tuple). The kernel aborts it with
//! ECONNABORTED for its owner. Needs CAP_NET_ADMIN in the user namespace owning the
//! socket's network namespace and a kernel built with CONFIG_INET_DIAG_DESTROY.

use std::io;
use std::net::IpAddr;

use netlink_sys::Socket as NlSocket;

use super::wire::{
    AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, Messages, NLMSG_ERROR, NLMSG_HDRLEN, Next,
    error_code,
};
use crate::model::{Endpoint, Netid, Socket};

/// `SOCK_DESTROY` (linux/sock_diag.h).
const SOCK_DESTROY: u16 = 21;
const NLM_F_REQUEST: u16 = 0x01;
const NLM_F_ACK: u16 = 0x04;
/// sizeof(struct inet_diag_req_v2).
const REQ_V2_LEN: usize = 56;

/// Why a socket was not closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The kernel answered this errno.
    Kernel(i32),
    /// Not something SOCK_DESTROY can name (unix, another table).
    Unsupported,
}

impl Refusal {
    /// One short reason for the report.
    pub fn reason(&self) -> String {
        match self {
            Refusal::Kernel(libc::EPERM) | Refusal::Kernel(libc::EACCES) => {
                "permission denied (needs CAP_NET_ADMIN in the socket's network namespace)".into()
            }
            Refusal::Kernel(libc::EOPNOTSUPP) => {
                "not supported by this kernel (CONFIG_INET_DIAG_DESTROY) for this socket".into()
            }
            Refusal::Kernel(libc::ENOENT) => "already gone".into(),
            Refusal::Kernel(e) => io::Error::from_raw_os_error(*e).to_string(),
            Refusal::Unsupported => "the kernel can destroy only TCP and UDP sockets".into(),
        }
    }
}

/// The SOCK_DESTROY request for `s`, or `None` when it is no TCP/UDP socket.
pub fn request(s: &Socket, seq: u32) -> Option<Vec<u8>> {
    let protocol = match s.netid {
        Netid::Tcp => IPPROTO_TCP,
        Netid::Udp => IPPROTO_UDP,
        _ => return None,
    };
    let (Endpoint::Inet { addr: la, port: lp }, Endpoint::Inet { addr: pa, port: pp }) =
        (&s.local, &s.peer)
    else {
        return None;
    };
    let family = if la.is_ipv4() { AF_INET } else { AF_INET6 };
    let mut out = Vec::with_capacity(NLMSG_HDRLEN + REQ_V2_LEN);
    out.extend_from_slice(&((NLMSG_HDRLEN + REQ_V2_LEN) as u32).to_ne_bytes());
    out.extend_from_slice(&SOCK_DESTROY.to_ne_bytes());
    out.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    // family, protocol, idiag_ext, pad, idiag_states (every state).
    out.extend_from_slice(&[family, protocol, 0, 0]);
    out.extend_from_slice(&u32::MAX.to_ne_bytes());
    // struct inet_diag_sockid.
    out.extend_from_slice(&lp.to_be_bytes());
    out.extend_from_slice(&pp.to_be_bytes());
    out.extend_from_slice(&addr_bytes(la));
    out.extend_from_slice(&addr_bytes(pa));
    out.extend_from_slice(&s.ifindex.unwrap_or(0).to_ne_bytes());
    let cookie = s.cookie.unwrap_or(u64::MAX);
    out.extend_from_slice(&(cookie as u32).to_ne_bytes());
    out.extend_from_slice(&((cookie >> 32) as u32).to_ne_bytes());
    Some(out)
}

fn addr_bytes(a: &IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match a {
        IpAddr::V4(v4) => b[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => b = v6.octets(),
    }
    b
}

/// Close `s` through `sock` (a NETLINK_SOCK_DIAG socket in the socket's namespace).
pub fn destroy(sock: &NlSocket, s: &Socket, seq: u32) -> Result<(), Refusal> {
    let req = request(s, seq).ok_or(Refusal::Unsupported)?;
    sock.send(&req, 0)
        .map_err(|e| Refusal::Kernel(e.raw_os_error().unwrap_or(libc::EIO)))?;
    let mut buf = Vec::with_capacity(8192);
    // The answer is one NLMSG_ERROR (0: done) for our sequence number.
    for _ in 0..16 {
        buf.clear();
        sock.recv(&mut buf, 0)
            .map_err(|e| Refusal::Kernel(e.raw_os_error().unwrap_or(libc::EIO)))?;
        if let Some(code) = ack_code(&buf, seq) {
            return if code == 0 {
                Ok(())
            } else {
                Err(Refusal::Kernel(code))
            };
        }
    }
    Err(Refusal::Kernel(libc::EIO))
}

/// The errno of the acknowledgement of request `seq` in `datagram` (0: success).
fn ack_code(datagram: &[u8], seq: u32) -> Option<i32> {
    Messages::new(datagram).find_map(|m| match m {
        Next::Msg(h, p) if h.kind == NLMSG_ERROR && h.seq == seq => Some(error_code(p)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TcpState;

    fn sock(netid: Netid) -> Socket {
        Socket {
            netid,
            state: TcpState::CloseWait,
            recv_q: None,
            send_q: None,
            local: Endpoint::Inet {
                addr: [127, 0, 0, 1].into(),
                port: 0x1234,
            },
            peer: Endpoint::Inet {
                addr: [127, 0, 0, 2].into(),
                port: 0x5678,
            },
            inode: 1,
            uid: None,
            cookie: Some(0x1_0000_0002),
            ifindex: None,
            v6only: None,
            timer: None,
            tcp_info: None,
            memory: None,
            processes: Default::default(),
        }
    }

    #[test]
    fn request_names_the_socket_by_tuple_and_cookie() {
        let r = request(&sock(Netid::Tcp), 7).unwrap();
        assert_eq!(r.len(), 72);
        assert_eq!(u16::from_ne_bytes([r[4], r[5]]), SOCK_DESTROY);
        assert_eq!(u32::from_ne_bytes([r[8], r[9], r[10], r[11]]), 7);
        assert_eq!(&r[16..18], &[AF_INET, IPPROTO_TCP]);
        assert_eq!(&r[24..28], &[0x12, 0x34, 0x56, 0x78]);
        assert_eq!(&r[28..32], &[127, 0, 0, 1]);
        assert_eq!(&r[44..48], &[127, 0, 0, 2]);
        assert_eq!(u32::from_ne_bytes([r[64], r[65], r[66], r[67]]), 2);
        assert_eq!(u32::from_ne_bytes([r[68], r[69], r[70], r[71]]), 1);
        assert!(request(&sock(Netid::UnixStream), 1).is_none());
    }

    #[test]
    fn ack_carries_the_errno_of_our_request_only() {
        let mut d = Vec::new();
        for (seq, err) in [(3u32, -1i32), (4, -95)] {
            d.extend_from_slice(&36u32.to_ne_bytes());
            d.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
            d.extend_from_slice(&[0, 0]);
            d.extend_from_slice(&seq.to_ne_bytes());
            d.extend_from_slice(&0u32.to_ne_bytes());
            d.extend_from_slice(&err.to_ne_bytes());
            d.extend_from_slice(&[0u8; 16]);
        }
        assert_eq!(ack_code(&d, 4), Some(libc::EOPNOTSUPP));
        assert_eq!(ack_code(&d, 3), Some(libc::EPERM));
        assert_eq!(ack_code(&d, 5), None);
        assert!(
            Refusal::Kernel(libc::EPERM)
                .reason()
                .contains("CAP_NET_ADMIN")
        );
    }
}
