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

/// A connected stream socket (congested link, 3 drops, connected to service {18888,17})
/// held by a process, and an unconnected RDM socket that published a name.
fn two() -> Vec<Socket> {
    let mut t = script(|_, _, seq, _| {
        let stream = msg(
            libc::SOCK_STREAM,
            1,
            (16781313, 3405),
            Some((16781314, 77)),
            (0, 0),
            90,
        );
        let mut d = nlmsg(SOCK_DIAG_BY_FAMILY, seq, &stream);
        let rdm = msg(libc::SOCK_RDM, 7, (16781313, 12), None, (0, 0), 91);
        d.extend(nlmsg(SOCK_DIAG_BY_FAMILY, seq, &rdm));
        d.extend(done(seq, 0));
        vec![d]
    });
    let (r, mut out, warnings, _) = dump_on(&mut t, &tipc());
    assert!(r.is_ok() && warnings.is_empty(), "{r:?} {warnings:?}");
    out[0].processes = vec![crate::model::ProcessRef {
        command: "srv".into(),
        pid: 4242,
        fd: 5,
        nspid: None,
        proc_ctx: None,
        sock_ctx: None,
    }]
    .into();
    out
}

#[test]
fn tipcinfo_prints_as_ss() {
    let out = two();
    let opts = TableOptions {
        show_state: true,
        header: false,
        tipcinfo: true,
        ..TableOptions::default()
    };
    // ss's tipc_show_sock: "\n type:%s", " cong:%s ", " drop:%d ", " publ", " via {%u,%u} "
    // — a newline then a space, and the spaces ss leaves between the fields.
    let got = render(&out, opts);
    let rows: Vec<&str> = got.split('\n').collect();
    assert_eq!(
        rows[..4],
        [
            "ESTAB  0      0      16781313:3405 16781314:77",
            " type:STREAM cong:link  drop:3  via {18888,17} ",
            "UNCONN 0      0      16781313:12           -  ",
            // Padded to the widest tail, as ss pads the last cell.
            " type:RDM cong:link  drop:3  publ              ",
        ],
        "{got:?}"
    );
    // -O: on the row.
    let one = render(
        &out,
        TableOptions {
            oneline: true,
            ..opts
        },
    );
    assert!(
        one.lines().next().is_some_and(
            |l| l.ends_with("16781314:77 type:STREAM cong:link  drop:3  via {18888,17} ")
        ),
        "{one:?}"
    );
    // Without the flag nothing of it.
    let plain = render(
        &out,
        TableOptions {
            tipcinfo: false,
            ..opts
        },
    );
    assert!(!plain.contains("type:"), "{plain:?}");
}

#[test]
fn dash_e_comes_before_the_owners_then_tipcinfo() {
    let got = render(
        &two(),
        TableOptions {
            show_state: true,
            header: false,
            extended: true,
            timers: true,
            processes: true,
            tipcinfo: true,
            ..TableOptions::default()
        },
    );
    let first = got.lines().next().expect("a row");
    // ss: sock_details_print, then proc_ctx_print (users), then --tipcinfo.
    assert!(
        first.ends_with("16781314:77 uid:1000 ino:90 sk:100000002 users:((\"srv\",pid=4242,fd=5))"),
        "{got:?}"
    );
    assert!(got.contains("\n type:STREAM cong:link  drop:3  via {18888,17} "));
}

#[test]
fn tipc_info_in_json_with_the_flag() {
    let out = two();
    let json = |tipcinfo| {
        let opts = crate::output::json::JsonOptions {
            tipcinfo,
            ..Default::default()
        };
        let mut j = Vec::new();
        crate::output::json::write_json(&mut j, &out, Source::Netlink, &opts).expect("a Vec");
        serde_json::from_slice::<serde_json::Value>(&j).expect("JSON")
    };
    let v = json(true);
    let (st, rd) = (&v[0]["tipc_info"], &v[1]["tipc_info"]);
    assert_eq!(
        (
            &st["type"],
            &st["congestion"],
            &st["drops"],
            &st["published"]
        ),
        (&"STREAM".into(), &"link".into(), &3.into(), &false.into())
    );
    assert_eq!(
        (&st["via"]["type"], &st["via"]["instance"]),
        (&18888.into(), &17.into())
    );
    assert_eq!(
        (&rd["type"], &rd["published"]),
        (&"RDM".into(), &true.into())
    );
    assert_eq!(rd["via"], serde_json::Value::Null);
    assert!(
        json(false)[0].get("tipc_info").is_none(),
        "only with --tipcinfo"
    );
}
