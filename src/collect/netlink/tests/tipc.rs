//! TIPC through tipc_diag: answers built from linux/tipc_netlink.h (one nested
//! TIPC_NLA_SOCK, no fixed header), answered by a scripted kernel, decoded and printed as
//! ss's `tipc_show_sock` prints them: `node:ref` locally, the peer `node:port` or `-`.

use super::dump::{dump_on, script};
use super::*;
use crate::collect::netlink::tipc::AF_TIPC;
use crate::collect::netlink::tipc::tests::msg;
use crate::model::Source;
use crate::output::table::TableOptions;

fn tipc() -> Query {
    Query {
        netids: NetidSet::of(&[
            Netid::TipcStream,
            Netid::TipcDgram,
            Netid::TipcRdm,
            Netid::TipcSeqpacket,
        ]),
        states: crate::model::StateSet::ALL,
        ..all()
    }
}

#[test]
fn the_table_prints_as_ss() {
    let mut t = script(|family, _, seq, _| {
        assert_eq!(family, AF_TIPC, "one tipc_diag request");
        let stream = msg(
            libc::SOCK_STREAM,
            1,
            (16781313, 3405),
            Some((16781314, 77)),
            (2, 1),
            90,
        );
        let mut d = nlmsg(SOCK_DIAG_BY_FAMILY, seq, &stream);
        let rdm = msg(libc::SOCK_RDM, 7, (16781313, 12), None, (0, 0), 91);
        d.extend(nlmsg(SOCK_DIAG_BY_FAMILY, seq, &rdm));
        let listen = msg(libc::SOCK_SEQPACKET, 10, (16781313, 5), None, (0, 0), 92);
        d.extend(nlmsg(SOCK_DIAG_BY_FAMILY, seq, &listen));
        d.extend(done(seq, 0));
        vec![d]
    });
    let (r, out, warnings, skipped) = dump_on(&mut t, &tipc());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        (warnings.len(), skipped, out.len()),
        (0, 0, 3),
        "{warnings:?}"
    );
    let got = render(
        &out,
        TableOptions {
            show_state: true,
            show_netid: true,
            header: true,
            ..TableOptions::default()
        },
    );
    // As ss's tipc_sock_addr_print: decimal node and port; `-` alone for no peer, where
    // the delimiter sits.
    let want = "\
Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
ti_st ESTAB  2      1           16781313:3405     16781314:77         
ti_rd UNCONN 0      0           16781313:12               -           
ti_sq LISTEN 0      0           16781313:5                -           
";
    assert_eq!(got, want);
    let mut j = Vec::new();
    let jopts = crate::output::json::JsonOptions::default();
    crate::output::json::write_json(&mut j, &out, Source::Netlink, &jopts).expect("a Vec");
    let v: serde_json::Value = serde_json::from_slice(&j).expect("JSON");
    let (st, rd) = (&v[0], &v[1]);
    assert_eq!(
        (&st["netid"], &st["state"]),
        (&"ti_st".into(), &"ESTAB".into())
    );
    assert_eq!(
        (&st["local_node"], &st["local_port"]),
        (&16781313.into(), &3405.into())
    );
    assert_eq!(
        (&st["peer_node"], &st["peer_port"]),
        (&16781314.into(), &77.into())
    );
    assert_eq!(
        (&st["recv_q"], &st["send_q"], &st["inode"]),
        (&2.into(), &1.into(), &90.into())
    );
    assert_eq!(
        (&rd["peer_node"], &rd["uid"]),
        (&serde_json::Value::Null, &1000.into())
    );
}

#[test]
fn no_tipc_diag_module_is_an_empty_table_with_a_reason() {
    let mut t = script(|_, _, seq, _| vec![error(seq, libc::ENOENT)]);
    let (r, out, warnings, _) = dump_on(&mut t, &tipc());
    assert!(r.is_ok(), "only the module is missing: {r:?}");
    assert!(out.is_empty());
    assert!(
        warnings[0]
            .starts_with("tipc (ti_st, ti_dg, ti_rd, ti_sq): empty: this kernel cannot dump it"),
        "{warnings:?}"
    );
}
