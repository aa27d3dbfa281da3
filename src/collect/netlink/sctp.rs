//! What sctp_diag adds to inet_diag's answer (`struct inet_diag_msg` + attributes, with
//! IPPROTO_SCTP): the kernel's `inet_sctp_diag_fill` (net/sctp/diag.c) answers an endpoint
//! with its socket state (`sk_state`: TCP_LISTEN, TCP_CLOSE, TCP_ESTABLISHED) and each of
//! its associations, right after it and with the same inode, with the association's
//! `SCTP_STATE_*` in `idiag_state` and an `INET_DIAG_PEERS` attribute only associations
//! carry. ss tells an association by that repeated inode (`is_sctp_assoc`); the attribute
//! says the same of one message alone.
//!
//! `INET_DIAG_LOCALS` and `INET_DIAG_PEERS` (linux/inet_diag.h) are arrays of `struct
//! sockaddr_storage` (128 bytes each: `ss_family` u16 first; `sockaddr_in`'s address at 4,
//! `sockaddr_in6`'s at 8).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::wire::{AF_INET, AF_INET6, Attrs};
use crate::model::{SctpState, TcpState};

/// INET_DIAG_LOCALS (linux/inet_diag.h).
pub const INET_DIAG_LOCALS: u16 = 12;
/// INET_DIAG_PEERS (linux/inet_diag.h).
pub const INET_DIAG_PEERS: u16 = 13;
/// sizeof(struct sockaddr_storage).
const SOCKADDR_STORAGE_LEN: usize = 128;

/// The state of one SCTP answer: `(state for filters, the association's own state)`, the
/// second `None` for an endpoint. `None` for a state number neither kind has.
pub fn state(kernel_state: u8, attrs: &[u8]) -> Option<(TcpState, Option<SctpState>)> {
    let assoc = Attrs::new(attrs).any(|(kind, _)| kind == INET_DIAG_PEERS);
    if assoc {
        let s = SctpState::from_kernel(kernel_state)?;
        Some((s.as_tcp(), Some(s)))
    } else {
        Some((TcpState::from_kernel(kernel_state)?, None))
    }
}

/// The addresses of an INET_DIAG_LOCALS / INET_DIAG_PEERS attribute; entries of another
/// family, and a short tail, are skipped.
pub fn addresses(v: &[u8]) -> Vec<IpAddr> {
    v.chunks_exact(SOCKADDR_STORAGE_LEN)
        .filter_map(|sa| {
            let family = u16::from_ne_bytes([sa[0], sa[1]]);
            if family == u16::from(AF_INET) {
                Some(IpAddr::V4(Ipv4Addr::new(sa[4], sa[5], sa[6], sa[7])))
            } else if family == u16::from(AF_INET6) {
                let mut a = [0u8; 16];
                a.copy_from_slice(&sa[8..24]);
                Some(IpAddr::V6(Ipv6Addr::from(a)))
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        v.resize(v.len().div_ceil(4) * 4, 0);
        v
    }

    pub(crate) fn sockaddr(addr: IpAddr, port: u16) -> [u8; SOCKADDR_STORAGE_LEN] {
        let mut sa = [0u8; SOCKADDR_STORAGE_LEN];
        sa[2..4].copy_from_slice(&port.to_be_bytes());
        match addr {
            IpAddr::V4(a) => {
                sa[0..2].copy_from_slice(&u16::from(AF_INET).to_ne_bytes());
                sa[4..8].copy_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                sa[0..2].copy_from_slice(&u16::from(AF_INET6).to_ne_bytes());
                sa[8..24].copy_from_slice(&a.octets());
            }
        }
        sa
    }

    #[test]
    fn peers_make_an_association() {
        let peers = attr(INET_DIAG_PEERS, &sockaddr("10.0.0.2".parse().unwrap(), 9));
        assert_eq!(
            state(3, &peers),
            Some((TcpState::Established, Some(SctpState::Established)))
        );
        // The same number on an endpoint is TCP's SYN-RECV; 10 is LISTEN.
        assert_eq!(state(10, &[]), Some((TcpState::Listen, None)));
        assert_eq!(state(9, &peers), None, "no SCTP_STATE_* 9");
        assert_eq!(
            state(7, &peers).and_then(|s| s.1).map(SctpState::ss_name),
            Some("ACK_SENT")
        );
    }

    #[test]
    fn address_arrays_read_both_families() {
        let mut v = sockaddr("127.0.0.1".parse().unwrap(), 5000).to_vec();
        v.extend(sockaddr("::1".parse().unwrap(), 5000));
        v.extend([0u8; 12]); // a short tail
        assert_eq!(
            addresses(&v),
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
    }
}
