//! AF_XDP through xsk_diag: recorded answers built from linux/xdp_diag.h (`struct
//! xdp_diag_msg` + XDP_DIAG_INFO/UID/MEMINFO), answered by a scripted kernel, decoded and
//! printed as ss's `xdp_stats_print` prints them: UNCONN, `ifname:qQUEUE` or `*` when
//! unbound, a peer of `*`, Recv-Q the receive memory.

use super::dump::{dump_on, script};
use super::*;
use crate::collect::netlink::xdp::AF_XDP;
use crate::collect::netlink::xdp::tests::msg;
use crate::output::table::TableOptions;

fn xdp() -> Query {
    Query {
        netids: NetidSet::of(&[Netid::Xdp]),
        states: crate::model::StateSet::ALL,
        ..all()
    }
}

#[test]
fn the_table_prints_as_ss() {
    let mut t = script(|family, _, seq, _| {
        assert_eq!(family, AF_XDP, "one xsk_diag request");
        let mut d = nlmsg(SOCK_DIAG_BY_FAMILY, seq, &msg(90, Some((1, 0)), 2304));
        d.extend(nlmsg(SOCK_DIAG_BY_FAMILY, seq, &msg(91, None, 0)));
        d.extend(done(seq, 0));
        vec![d]
    });
    let (r, out, warnings, skipped) = dump_on(&mut t, &xdp());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        (warnings.len(), skipped, out.len()),
        (0, 0, 2),
        "{warnings:?}"
    );
    let got = render(
        &out,
        TableOptions {
            show_state: true,
            header: true,
            ..TableOptions::default()
        },
    );
    // Interface 1 is lo on every Linux host.
    // `*` (no address, `*` as the delimiter, no port) sits as ss's render places it for
    // packet sockets' peers.
    let want = "\
State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
UNCONN 2304   0                 lo:q0               *           
UNCONN 0      0                   *                 *           
";
    assert_eq!(got, want);
}

#[test]
fn no_xsk_diag_module_is_an_empty_table_with_a_reason() {
    let mut t = script(|_, _, seq, _| vec![error(seq, libc::ENOENT)]);
    let (r, out, warnings, _) = dump_on(&mut t, &xdp());
    assert!(r.is_ok(), "only the module is missing: {r:?}");
    assert!(out.is_empty());
    assert!(
        warnings[0].starts_with("xdp: empty: this kernel cannot dump it"),
        "{warnings:?}"
    );
}

/// Two sockets through the scripted kernel with `-e` asked: one with rings, a umem and
/// stats, one bare.
fn extended() -> Vec<Socket> {
    use crate::collect::netlink::xdp::tests::msg_rings;
    let mut t = script(|_, _, seq, _| {
        let mut d = nlmsg(SOCK_DIAG_BY_FAMILY, seq, &msg_rings(90, (1, 5)));
        d.extend(nlmsg(SOCK_DIAG_BY_FAMILY, seq, &msg(91, None, 0)));
        d.extend(done(seq, 0));
        vec![d]
    });
    let q = Query {
        details: true,
        memory: true,
        ..xdp()
    };
    let (r, out, warnings, _) = dump_on(&mut t, &q);
    assert!(r.is_ok() && warnings.is_empty(), "{r:?} {warnings:?}");
    out
}

#[test]
fn dash_e_prints_rings_umem_and_stats_as_ss() {
    let out = extended();
    let opts = TableOptions {
        show_state: true,
        header: false,
        extended: true,
        timers: true,
        ..TableOptions::default()
    };
    // ss's xdp_show_sock: -e's uid/ino/sk, then rx, tx, umem with its fr and cr, stats,
    // each on its own line; the bare socket has only the -e fields.
    let want = "\
UNCONN 0      0      lo:q5 * uid:1000 ino:90 sk:9
\trx(entries:2048)
\ttx(entries:1024)
\tumem(id:3,size:4194304,num_pages:1024,chunk_size:4096,headroom:256,ifindex:1,qid:5,zc:1,refs:2)
\tfr(entries:4096)
\tcr(entries:512)
\tstats(rx dropped:5,rx invalid:6,rx queue full:7,rx fill ring empty:8,tx invalid:9,tx ring empty:10)
UNCONN 0      0        *   * uid:1000 ino:91 sk:9
";
    // (The last row's tail is padded to the first's whole width, newlines counted, as ss
    // pads it: compared without that padding.)
    let got = render(&out, opts);
    let trimmed: String = got
        .lines()
        .map(|l| l.trim_end().to_string() + "\n")
        .collect();
    assert_eq!(trimmed, want);
    // -O: the same on the row, and ss 6.1's ` tumem(` spelling there.
    let one = render(
        &out,
        TableOptions {
            oneline: true,
            ..opts
        },
    );
    let first = one.lines().next().expect("a row");
    assert!(
        first.ends_with(
            " uid:1000 ino:90 sk:9 rx(entries:2048) tx(entries:1024) tumem(id:3,size:4194304,\
             num_pages:1024,chunk_size:4096,headroom:256,ifindex:1,qid:5,zc:1,refs:2) \
             fr(entries:4096) cr(entries:512) stats(rx dropped:5,rx invalid:6,rx queue full:7,\
             rx fill ring empty:8,tx invalid:9,tx ring empty:10)"
        ),
        "{first:?}"
    );
    assert_eq!(one.lines().count(), 2);
    // Without -e none of it; -m adds the skmem after the row (ss's print_skmeminfo).
    let plain = render(
        &out,
        TableOptions {
            extended: false,
            memory: true,
            ..opts
        },
    );
    assert_eq!(plain.lines().count(), 2);
    assert!(!plain.contains("entries"), "{plain}");
    assert!(
        plain
            .lines()
            .all(|l| l.ends_with(" skmem:(r0,rb0,t0,tb0,f0,w0,o0,bl0,d0)")),
        "{plain}"
    );
}

#[test]
fn json_details_carry_rings_umem_and_stats() {
    let out = extended();
    let jopts = crate::output::json::JsonOptions {
        details: true,
        ..Default::default()
    };
    let mut j = Vec::new();
    crate::output::json::write_json(&mut j, &out, crate::model::Source::Netlink, &jopts)
        .expect("a Vec");
    let v: serde_json::Value = serde_json::from_slice(&j).expect("JSON");
    let d = &v[0]["details"];
    assert_eq!(
        (&d["xdp_rx_ring"], &d["xdp_tx_ring"]),
        (&2048.into(), &1024.into())
    );
    assert_eq!(
        (&d["xdp_fill_ring"], &d["xdp_completion_ring"]),
        (&4096.into(), &512.into())
    );
    let u = &d["xdp_umem"];
    assert_eq!(
        (&u["id"], &u["size"], &u["chunk_size"], &u["queue_id"]),
        (&3.into(), &4194304.into(), &4096.into(), &5.into())
    );
    assert_eq!((&u["zerocopy"], &u["refs"]), (&true.into(), &2.into()));
    let st = &d["xdp_stats"];
    assert_eq!(
        (&st["rx_dropped"], &st["rx_full"], &st["tx_ring_empty"]),
        (&5.into(), &7.into(), &10.into())
    );
    let bare = &v[1]["details"];
    for key in [
        "xdp_rx_ring",
        "xdp_tx_ring",
        "xdp_fill_ring",
        "xdp_completion_ring",
        "xdp_umem",
        "xdp_stats",
    ] {
        assert_eq!(bare[key], serde_json::Value::Null, "{key}");
    }
}
