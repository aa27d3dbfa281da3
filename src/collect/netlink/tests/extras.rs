//! The rare reports through the whole inet decoder, on recorded bytes built from the UAPI
//! layouts: an MPTCP socket's mptcp_info, a kTLS socket's INET_DIAG_ULP_INFO and a listener's
//! INET_DIAG_MD5SIG, kept only when `-i` (or `-m`) asked, as ss prints them.

use super::super::inet::{Decoded, decode};
use super::super::mptcp::tests::info_bytes;
use super::super::ulp::tests::{md5_bytes, tls_bytes};
use super::super::ulp::{INET_DIAG_MD5SIG, INET_DIAG_ULP_INFO};
use super::*;

fn decoded(bytes: &[u8], netid: Netid, q: &Query) -> Socket {
    match decode(bytes, netid, q) {
        Decoded::Keep(s) => s,
        _ => panic!("not decoded"),
    }
}

#[test]
fn mptcp_info_is_kept_with_tcp_info_asked() {
    let mut s = Inet::v4(1, 5001, 40000);
    s.attrs = attr(wire::INET_DIAG_INFO, &info_bytes());
    let q = Query {
        tcp_info: true,
        ..all()
    };
    let sock = decoded(&s.bytes(), Netid::Mptcp, &q);
    assert!(sock.tcp_info.is_none(), "mptcp_info is no tcp_info");
    let x = sock
        .details
        .as_deref()
        .and_then(|d| d.info_extras.as_deref())
        .expect("extras");
    let m = x.mptcp.expect("mptcp_info");
    assert_eq!((m.subflows, m.subflows_max, m.token), (1, 2, 0x5297_ad47));
    // Without -i nothing is kept and no Details is made.
    let sock = decoded(&s.bytes(), Netid::Mptcp, &all());
    assert!(sock.details.is_none());
}

#[test]
fn ulp_and_md5_are_kept_for_tcp_with_info_or_memory() {
    let mut s = Inet::v4(10, 5001, 0);
    s.attrs = attr(INET_DIAG_ULP_INFO | 0x8000, &tls_bytes());
    s.attrs.extend(attr(INET_DIAG_MD5SIG, &md5_bytes()));
    for q in [
        Query {
            tcp_info: true,
            ..all()
        },
        Query {
            memory: true,
            ..all()
        },
    ] {
        let sock = decoded(&s.bytes(), Netid::Tcp, &q);
        let x = sock
            .details
            .as_deref()
            .and_then(|d| d.info_extras.as_deref())
            .expect("extras");
        let ulp = x.ulp.as_ref().expect("ulp");
        assert_eq!(ulp.name.as_deref(), Some("tls"));
        assert_eq!(ulp.tls.and_then(|t| t.cipher), Some(52));
        assert_eq!(x.md5keys.len(), 1);
        assert_eq!(&*x.md5keys[0].key, b"se cr,et");
    }
    assert!(decoded(&s.bytes(), Netid::Tcp, &all()).details.is_none());
    // With -e too, the one Details holds both.
    let q = Query {
        tcp_info: true,
        details: true,
        ..all()
    };
    let sock = decoded(&s.bytes(), Netid::Tcp, &q);
    assert!(
        sock.details
            .as_deref()
            .is_some_and(|d| d.info_extras.is_some())
    );
}
