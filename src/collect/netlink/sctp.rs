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
use crate::model::{SctpInfo, SctpState, TcpState};

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

/// sizeof(struct sctp_info) (linux/sctp.h), through `__reserved3`.
const SCTP_INFO_LEN: usize = 368;

/// `struct sctp_info` at its fixed offsets (the primary transport's sockaddr_storage at
/// 168..296 is skipped). A shorter struct from an older kernel reads missing fields as 0,
/// as ss reads it.
pub fn info(value: &[u8]) -> SctpInfo {
    let mut b = [0u8; SCTP_INFO_LEN];
    let n = value.len().min(SCTP_INFO_LEN);
    b[..n].copy_from_slice(&value[..n]);
    let u32_ = |o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let u16_ = |o: usize| u16::from_ne_bytes([b[o], b[o + 1]]);
    SctpInfo {
        tag: u32_(0),
        state: u32_(4),
        rwnd: u32_(8),
        unackdata: u16_(12),
        penddata: u16_(14),
        instrms: u16_(16),
        outstrms: u16_(18),
        inqueue: u32_(24),
        outqueue: u32_(28),
        overall_error: u32_(32),
        max_burst: u32_(36),
        maxseg: u32_(40),
        peer_rwnd: u32_(44),
        peer_tag: u32_(48),
        peer_capable: b[52],
        peer_sack: b[53],
        autoclose: u32_(344),
        adaptation_ind: u32_(348),
        pd_point: u32_(352),
        nodelay: b[356],
        disable_fragments: b[357],
        v4mapped: b[358],
        frag_interleave: b[359],
    }
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
    fn sctp_info_reads_its_offsets() {
        let mut v = vec![0u8; SCTP_INFO_LEN];
        v[0..4].copy_from_slice(&0xabcdu32.to_ne_bytes());
        v[4..8].copy_from_slice(&3u32.to_ne_bytes());
        v[16..18].copy_from_slice(&10u16.to_ne_bytes());
        v[48..52].copy_from_slice(&0x1234u32.to_ne_bytes());
        v[352..356].copy_from_slice(&7u32.to_ne_bytes());
        v[356] = 1;
        let i = info(&v);
        assert_eq!(
            (i.tag, i.state, i.instrms, i.peer_tag),
            (0xabcd, 3, 10, 0x1234)
        );
        assert_eq!((i.pd_point, i.nodelay, i.v4mapped), (7, 1, 0));
        // An older kernel's shorter struct: the rest reads as 0.
        assert_eq!(info(&v[..20]).peer_tag, 0);
        assert_eq!(info(&v[..20]).instrms, 10);
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
