//! SCTP through inet_diag (sctp_diag): recorded bytes built from the UAPI layouts (`struct
//! inet_diag_msg`, INET_DIAG_LOCALS / INET_DIAG_PEERS as arrays of `struct
//! sockaddr_storage`), answered by a scripted kernel, decoded and printed as ss prints
//! them. The kernel (net/sctp/diag.c) answers an endpoint with its `sk_state` (TCP_LISTEN,
//! TCP_ESTABLISHED for a one-to-one socket) and then each association with the same inode,
//! its SCTP_STATE_* and INET_DIAG_PEERS.

use super::dump::{dump_on, script};
use super::*;
use crate::model::SctpState;
use crate::output::table::TableOptions;

const IPPROTO_SCTP: u8 = libc::IPPROTO_SCTP as u8;

fn sctp() -> Query {
    Query {
        netids: NetidSet::of(&[Netid::Sctp]),
        ..all()
    }
}

fn sockaddrs(addrs: &[&str], port: u16) -> Vec<u8> {
    let mut v = Vec::new();
    for a in addrs {
        let mut sa = [0u8; 128];
        sa[2..4].copy_from_slice(&port.to_be_bytes());
        match a.parse::<IpAddr>().unwrap() {
            IpAddr::V4(a) => {
                sa[0..2].copy_from_slice(&u16::from(AF_INET).to_ne_bytes());
                sa[4..8].copy_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                sa[0..2].copy_from_slice(&u16::from(AF_INET6).to_ne_bytes());
                sa[8..24].copy_from_slice(&a.octets());
            }
        }
        v.extend_from_slice(&sa);
    }
    v
}

/// A listener on 127.0.0.1:5000 (also bound to 127.0.0.2: multi-homed), a one-to-one
/// client endpoint and its association in COOKIE_ECHOED... as sctp_diag answers them.
fn answers(seq: u32) -> Vec<u8> {
    let mut d = Vec::new();
    let mut listen = Inet::v4(10, 5000, 0); // TCP_LISTEN
    listen.dst = "0.0.0.0".parse().unwrap();
    listen.inode = 100;
    listen.attrs = attr(12, &sockaddrs(&["127.0.0.1", "127.0.0.2"], 5000));
    d.extend(listen.msg(seq));
    let mut ep = Inet::v4(1, 40000, 5000); // TCP_ESTABLISHED: the endpoint
    ep.inode = 200;
    ep.attrs = attr(12, &sockaddrs(&["127.0.0.1"], 40000));
    d.extend(ep.msg(seq));
    let mut assoc = Inet::v4(3, 40000, 5000); // SCTP_STATE_ESTABLISHED
    assoc.inode = 200;
    // T3-rtx pending: sctp_diag's idiag_timer 1, its expiry and the retransmits so far.
    assoc.timer = 1;
    assoc.expires = 2_500;
    assoc.retrans = 2;
    assoc.attrs = attr(12, &sockaddrs(&["127.0.0.1"], 40000));
    assoc
        .attrs
        .extend(attr(13, &sockaddrs(&["127.0.0.1", "127.0.0.2"], 5000)));
    // INET_DIAG_INFO: struct sctp_info (linux/sctp.h), 368 bytes; a few fields set.
    let mut info = vec![0u8; 368];
    info[0..4].copy_from_slice(&0x5eedu32.to_ne_bytes()); // sctpi_tag
    info[4..8].copy_from_slice(&3u32.to_ne_bytes()); // sctpi_state: ESTABLISHED
    info[8..12].copy_from_slice(&106496u32.to_ne_bytes()); // sctpi_rwnd
    info[16..18].copy_from_slice(&10u16.to_ne_bytes()); // sctpi_instrms
    info[18..20].copy_from_slice(&10u16.to_ne_bytes()); // sctpi_outstrms
    info[36..40].copy_from_slice(&4u32.to_ne_bytes()); // sctpi_max_burst
    info[40..44].copy_from_slice(&65484u32.to_ne_bytes()); // sctpi_maxseg
    info[48..52].copy_from_slice(&0xbeefu32.to_ne_bytes()); // sctpi_peer_tag
    info[52] = 1; // sctpi_peer_capable
    info[356] = 1; // sctpi_s_nodelay
    assoc.attrs.extend(attr(2, &info));
    d.extend(assoc.msg(seq));
    d.extend(done(seq, 0));
    d
}

fn dump(q: &Query) -> Vec<Socket> {
    let mut t = script(|family, proto, seq, _| {
        assert_eq!(proto, IPPROTO_SCTP, "every request asks for SCTP");
        if family == AF_INET {
            vec![answers(seq)]
        } else {
            vec![done(seq, 0)]
        }
    });
    let (r, out, warnings, skipped) = dump_on(&mut t, q);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!((warnings.len(), skipped), (0, 0), "{warnings:?}");
    assert_eq!(t.requests.len(), 2, "one request per family");
    out
}

#[test]
fn endpoints_and_associations_decode() {
    let out = dump(&Query {
        states: crate::model::StateSet::ALL,
        ..sctp()
    });
    assert_eq!(out.len(), 3);
    assert!(out.iter().all(|s| s.netid == Netid::Sctp));
    assert_eq!(out[0].state, TcpState::Listen);
    assert_eq!(out[1].state, TcpState::Established);
    let assoc = |s: &Socket| s.details.as_deref().and_then(|d| d.sctp_assoc);
    assert_eq!((assoc(&out[0]), assoc(&out[1])), (None, None));
    // State 3 of an association is SCTP_STATE_ESTABLISHED, not TCP's SYN-RECV.
    assert_eq!(assoc(&out[2]), Some(SctpState::Established));
    assert_eq!(out[2].state, TcpState::Established);
    // Addresses only when -i or -m asked.
    assert!(out[0].details.is_none());
}

#[test]
fn the_table_prints_as_ss() {
    let q = Query {
        states: crate::model::StateSet::ALL,
        tcp_info: true,
        ..sctp()
    };
    let out = dump(&q);
    let opts = TableOptions {
        show_state: true,
        header: true,
        ..TableOptions::default()
    };
    // ss -Sna: an association's row leaves the Netid empty and writes its state as
    // "`- ESTAB" (sock_state_print in misc/ss.c); the rest as TCP's.
    let got = render(&out, opts);
    let want = "\
State    Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess
LISTEN   0      0          127.0.0.1:5000       0.0.0.0:*          
ESTAB    0      0          127.0.0.1:40000    127.0.0.1:5000       
`- ESTAB 0      0          127.0.0.1:40000    127.0.0.1:5000       
";
    assert_eq!(got, want);
    // ss -Snai: sctp_show_info's continuation line, " locals:A,B" and " peers:A,B".
    let got = render(&out, TableOptions { info: true, ..opts });
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[2], "\t locals:127.0.0.1,127.0.0.2", "{got}");
    // Then sctp_stats_print: the non-zero fields, tags in hex.
    assert_eq!(
        lines[6],
        "\t locals:127.0.0.1 peers:127.0.0.1,127.0.0.2 tag:5eed state:ESTAB rwnd:106496 \
         instrms:10 outstrms:10 maxburst:4 maxseg:65484 ptag:beef pcapable:1 nodelay:1",
        "{got}"
    );
    // Kept because -i asked (without it, endpoints_and_associations_decode keeps none).
    assert!(
        out[2]
            .details
            .as_ref()
            .is_some_and(|d| d.sctp_info.is_some())
    );
}

#[test]
fn no_sctp_diag_module_is_an_empty_table_with_a_reason() {
    let mut t = script(|_, _, seq, _| vec![error(seq, libc::ENOENT)]);
    let (r, out, warnings, _) = dump_on(&mut t, &sctp());
    assert!(r.is_ok(), "only the module is missing: {r:?}");
    assert!(out.is_empty());
    assert!(
        warnings[0].starts_with("sctp/ipv4: empty: this kernel cannot dump it (no diag module"),
        "{warnings:?}"
    );
}

#[test]
fn an_associations_t3_rtx_timer_prints_as_ss() {
    let out = dump(&Query {
        states: crate::model::StateSet::ALL,
        ..sctp()
    });
    let opts = TableOptions {
        show_state: true,
        timers: true,
        ..TableOptions::default()
    };
    let got = render(&out, opts);
    let lines: Vec<&str> = got.lines().collect();
    // sctp_timer_print in misc/ss.c: the one timer, spelled T3_RTX, whenever idiag_timer is
    // set; the endpoints (timer 0) print none.
    // (print_ms_timer writes 2,500 ms as "2.500ms", as it does for TCP.)
    assert!(lines[2].ends_with(" timer:(T3_RTX,2.500ms,2)"), "{got}");
    assert!(
        !lines[0].contains("timer:") && !lines[1].contains("timer:"),
        "{got}"
    );
    let jopts = crate::output::json::JsonOptions {
        timers: true,
        ..Default::default()
    };
    let mut j = Vec::new();
    crate::output::json::write_json(&mut j, &out, crate::model::Source::Netlink, &jopts)
        .expect("a Vec");
    let json = String::from_utf8_lossy(&j);
    assert!(
        json.contains(r#""timer":{"kind":"T3_RTX","expires_ms":2500,"retrans":2}"#),
        "{json}"
    );
}
