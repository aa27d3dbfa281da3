//! DCCP through inet_diag: the requests name IPPROTO_DCCP, the answers (struct
//! inet_diag_msg, the TCP layout) decode as dccp sockets, and a kernel without dccp_diag
//! leaves the table empty with a reason instead of refusing netlink.

use super::dump::{dump_on, script};
use super::*;

const IPPROTO_DCCP: u8 = libc::IPPROTO_DCCP as u8;

fn dccp() -> Query {
    Query {
        netids: NetidSet::of(&[Netid::Dccp]),
        ..all()
    }
}

#[test]
fn dccp_answers_decode_as_dccp_sockets() {
    let mut t = script(|family, proto, seq, _| {
        assert_eq!(proto, IPPROTO_DCCP, "every request asks for DCCP");
        let mut d = Vec::new();
        if family == AF_INET {
            // DCCP_OPEN is TCP_ESTABLISHED's number; a retransmit timer (1) pending.
            let mut s = Inet::v4(1, 5001, 40000);
            s.timer = 1;
            s.retrans = 2;
            s.expires = 300;
            d.extend(s.msg(seq));
        } else {
            d.extend(Inet::v6(10, 5002, 0).msg(seq)); // DCCP_LISTEN
        }
        d.extend(done(seq, 0));
        vec![d]
    });
    let (r, out, warnings, skipped) = dump_on(&mut t, &dccp());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!((warnings.len(), skipped), (0, 0), "{warnings:?}");
    assert_eq!(t.requests.len(), 2, "one request per family");
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|s| s.netid == Netid::Dccp));
    assert_eq!(out[0].state, TcpState::Established);
    assert_eq!(
        out[0].local,
        Endpoint::Inet {
            addr: "127.0.0.1".parse().unwrap(),
            port: 5001,
        }
    );
    assert_eq!(
        out[0].peer,
        Endpoint::Inet {
            addr: "127.0.0.1".parse().unwrap(),
            port: 40000,
        }
    );
    let timer = out[0].timer.as_ref().expect("the timer inet_diag reported");
    assert_eq!((timer.expires_ms, timer.retrans), (300, 2));
    assert_eq!(out[1].state, TcpState::Listen);
    assert_eq!(
        out[1].local,
        Endpoint::Inet {
            addr: "::1".parse().unwrap(),
            port: 5002,
        }
    );
}

#[test]
fn no_dccp_diag_module_is_an_empty_table_with_a_reason() {
    let mut t = script(|_, _, seq, _| vec![error(seq, libc::ENOENT)]);
    let (r, out, warnings, _) = dump_on(&mut t, &dccp());
    assert!(
        r.is_ok(),
        "netlink works; only the module is missing: {r:?}"
    );
    assert!(out.is_empty());
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with("dccp/ipv4: empty: this kernel cannot dump it (no diag module"),
        "{warnings:?}"
    );
    assert!(warnings[1].starts_with("dccp/ipv6: empty"), "{warnings:?}");
}

#[test]
fn no_dccp_diag_module_does_not_hide_tcp_refusals() {
    // Every table ENOENT, DCCP among them: inet_diag itself is missing, as before.
    let mut t = script(|family, _, seq, _| {
        if family == AF_UNIX {
            vec![done(seq, 0)]
        } else {
            vec![error(seq, libc::ENOENT)]
        }
    });
    let q = Query {
        netids: all().netids.union(NetidSet::of(&[Netid::Dccp])),
        ..all()
    };
    let (r, ..) = dump_on(&mut t, &q);
    assert!(r.is_err_and(|e| e.is_unavailable()));
}
