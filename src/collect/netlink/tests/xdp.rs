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
