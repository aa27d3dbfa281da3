//! vsock through vsock_diag: recorded answers built from linux/vm_sockets_diag.h's
//! `struct vsock_diag_msg`, answered by a scripted kernel, decoded and printed as ss prints
//! them (misc/ss.c `vsock_stats_print`: the state, `cid:port` twice with `*` for
//! VMADDR_CID_ANY / VMADDR_PORT_ANY, queues 0 since ss reads none).

use super::dump::{dump_on, script};
use super::*;
use crate::collect::netlink::vsock::AF_VSOCK;
use crate::collect::netlink::vsock::tests::msg;
use crate::output::table::TableOptions;

fn vsock() -> Query {
    Query {
        netids: NetidSet::of(&[Netid::VsockStream, Netid::VsockDgram]),
        states: crate::model::StateSet::ALL,
        ..all()
    }
}

fn answers(seq: u32) -> Vec<u8> {
    let mut d = Vec::new();
    // A listener on every cid, port 1024; a guest's (cid 3) connection to the host (cid 2);
    // a bound dgram socket.
    d.extend(nlmsg(
        SOCK_DIAG_BY_FAMILY,
        seq,
        &msg(1, 10, (u32::MAX, 1024), (0, 0), 501),
    ));
    d.extend(nlmsg(
        SOCK_DIAG_BY_FAMILY,
        seq,
        &msg(1, 1, (3, 49152), (2, 1024), 502),
    ));
    d.extend(nlmsg(
        SOCK_DIAG_BY_FAMILY,
        seq,
        &msg(2, 7, (3, 5000), (u32::MAX, u32::MAX), 503),
    ));
    d.extend(done(seq, 0));
    d
}

fn dump(q: &Query) -> (Vec<Socket>, Vec<Vec<u8>>) {
    let mut t = script(|family, proto, seq, _| {
        assert_eq!((family, proto), (AF_VSOCK, 0), "one vsock_diag request");
        vec![answers(seq)]
    });
    let (r, out, warnings, skipped) = dump_on(&mut t, q);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!((warnings.len(), skipped), (0, 0), "{warnings:?}");
    (out, t.requests)
}

#[test]
fn one_request_answers_both_tables() {
    let (out, requests) = dump(&vsock());
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].len(), 16 + 24, "struct vsock_diag_req");
    assert_eq!(
        out.iter().map(|s| s.netid).collect::<Vec<_>>(),
        [Netid::VsockStream, Netid::VsockStream, Netid::VsockDgram]
    );
    assert_eq!(out[1].peer, Endpoint::Vsock { cid: 2, port: 1024 });
    // Only the tables asked: -A vsock_dgram.
    let (out, _) = dump(&Query {
        netids: NetidSet::of(&[Netid::VsockDgram]),
        ..vsock()
    });
    assert_eq!(out.len(), 1);
}

#[test]
fn the_table_prints_as_ss() {
    let (out, _) = dump(&vsock());
    let got = render(
        &out,
        TableOptions {
            show_netid: true,
            show_state: true,
            header: true,
            ..TableOptions::default()
        },
    );
    // The address columns as ss's render lays out every family: the cid right-aligned up
    // to the ':', the port left-aligned after it.
    let want = "\
Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess
v_str LISTEN 0      0                  *:1024             0:0          
v_str ESTAB  0      0                  3:49152            2:1024       
v_dgr UNCONN 0      0                  3:5000             *:*          
";
    assert_eq!(got, want);
}

#[test]
fn no_vsock_diag_module_is_an_empty_table_with_a_reason() {
    let mut t = script(|_, _, seq, _| vec![error(seq, libc::ENOENT)]);
    let (r, out, warnings, _) = dump_on(&mut t, &vsock());
    assert!(r.is_ok(), "only the module is missing: {r:?}");
    assert!(out.is_empty());
    assert!(
        warnings[0].starts_with("vsock (v_str, v_dgr): empty: this kernel cannot dump it"),
        "{warnings:?}"
    );
}
