//! Decoding of a TCP socket's auxiliary reports (the kernel's `tcp_diag_get_aux`, sent with
//! every TCP answer): INET_DIAG_ULP_INFO (the upper-layer protocol: kTLS's TLS_INFO_*, an
//! MPTCP subflow's attributes) and INET_DIAG_MD5SIG (`struct tcp_diag_md5sig` array).

use super::mptcp;
use super::wire::{AF_INET6, Attrs};
use crate::model::{Md5Key, TlsInfo, UlpInfo};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const INET_DIAG_MD5SIG: u16 = 18;
pub const INET_DIAG_ULP_INFO: u16 = 19;

const INET_ULP_INFO_NAME: u16 = 1;
const INET_ULP_INFO_TLS: u16 = 2;
const INET_ULP_INFO_MPTCP: u16 = 3;
const TLS_INFO_VERSION: u16 = 1;
const TLS_INFO_CIPHER: u16 = 2;
const TLS_INFO_TXCONF: u16 = 3;
const TLS_INFO_RXCONF: u16 = 4;

/// sizeof(struct tcp_diag_md5sig): family u8, prefixlen u8, keylen u16, addr[4] be32,
/// key[TCP_MD5SIG_MAXKEYLEN = 80].
pub const MD5SIG_LEN: usize = 100;

fn u16_of(v: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(*v.first_chunk::<2>()?))
}

/// INET_DIAG_ULP_INFO's nested attributes.
pub fn ulp_info(v: &[u8]) -> UlpInfo {
    let mut u = UlpInfo::default();
    for (kind, a) in Attrs::new(v) {
        match kind {
            INET_ULP_INFO_NAME => {
                let name = a.split(|b| *b == 0).next().unwrap_or_default();
                u.name = Some(String::from_utf8_lossy(name).into());
            }
            INET_ULP_INFO_TLS => {
                let mut t = TlsInfo::default();
                for (kind, a) in Attrs::new(a) {
                    match kind {
                        TLS_INFO_VERSION => t.version = u16_of(a),
                        TLS_INFO_CIPHER => t.cipher = u16_of(a),
                        TLS_INFO_TXCONF => t.txconf = u16_of(a),
                        TLS_INFO_RXCONF => t.rxconf = u16_of(a),
                        _ => {}
                    }
                }
                u.tls = Some(t);
            }
            INET_ULP_INFO_MPTCP => u.subflow = Some(mptcp::subflow(a)),
            _ => {}
        }
    }
    u
}

/// INET_DIAG_MD5SIG: whole `struct tcp_diag_md5sig`s (a trailing partial one is dropped).
pub fn md5keys(v: &[u8]) -> Vec<Md5Key> {
    v.chunks_exact(MD5SIG_LEN)
        .map(|c| {
            let family = c[0];
            let keylen = usize::from(u16::from_ne_bytes([c[2], c[3]])).min(80);
            let raw: [u8; 16] = c[4..20].try_into().unwrap_or([0; 16]);
            let addr = if family == AF_INET6 {
                IpAddr::V6(Ipv6Addr::from(raw))
            } else {
                IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
            };
            Md5Key {
                addr,
                prefixlen: c[1],
                key: c[20..20 + keylen].into(),
            }
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::mptcp::tests::attr;
    use super::*;

    /// A kTLS socket's INET_DIAG_ULP_INFO: name "tls", TLS 1.3, aes-gcm-256, rx sw, tx hw.
    pub fn tls_bytes() -> Vec<u8> {
        let mut tls = attr(TLS_INFO_VERSION, &0x0304u16.to_ne_bytes());
        tls.extend(attr(TLS_INFO_CIPHER, &52u16.to_ne_bytes()));
        tls.extend(attr(TLS_INFO_TXCONF, &3u16.to_ne_bytes()));
        tls.extend(attr(TLS_INFO_RXCONF, &2u16.to_ne_bytes()));
        let mut v = attr(INET_ULP_INFO_NAME, b"tls\0");
        v.extend(attr(INET_ULP_INFO_TLS | 0x8000, &tls));
        v
    }

    /// One `struct tcp_diag_md5sig` for 127.0.0.2/32 with the key `se cr,et`.
    pub fn md5_bytes() -> Vec<u8> {
        let key = b"se cr,et";
        let mut v = vec![libc::AF_INET as u8, 32];
        v.extend_from_slice(&(key.len() as u16).to_ne_bytes());
        v.extend_from_slice(&[127, 0, 0, 2]);
        v.extend_from_slice(&[0; 12]);
        v.extend_from_slice(key);
        v.resize(MD5SIG_LEN, 0);
        v
    }

    #[test]
    fn decodes_tls_ulp() {
        let u = ulp_info(&tls_bytes());
        assert_eq!(u.name.as_deref(), Some("tls"));
        assert_eq!(
            u.tls,
            Some(TlsInfo {
                version: Some(0x0304),
                cipher: Some(52),
                rxconf: Some(2),
                txconf: Some(3)
            })
        );
        assert!(u.subflow.is_none());
    }

    #[test]
    fn decodes_md5_keys() {
        let mut v = md5_bytes();
        let mut six = md5_bytes();
        six[0] = AF_INET6;
        six[1] = 128;
        six[4..20].copy_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v.extend(six);
        v.extend_from_slice(&[1, 2, 3]);
        let keys = md5keys(&v);
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].addr, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!((keys[0].prefixlen, &*keys[0].key), (32, &b"se cr,et"[..]));
        assert_eq!(keys[1].addr, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert!(md5keys(&[0; 50]).is_empty());
    }
}
