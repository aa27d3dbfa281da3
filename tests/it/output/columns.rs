//! Output findings from QA.

use std::net::IpAddr;

use sockeye::model::*;
use sockeye::output::columns::{CellCtx, Column};

fn udp6(local: &str, v6only: Option<bool>) -> Socket {
    let ep = |a: &str, port| Endpoint::Inet {
        addr: a.parse::<IpAddr>().unwrap(),
        port,
    };
    Socket {
        netid: Netid::Udp,
        state: TcpState::Close,
        recv_q: Some(0),
        send_q: Some(0),
        local: ep(local, 5353),
        peer: ep("::", 0),
        inode: 1,
        uid: None,
        cookie: None,
        ifindex: None,
        v6only,
        timer: None,
        tcp_info: None,
        memory: None,
        processes: Default::default(),
    }
}

fn peer(s: &Socket) -> String {
    let mut out = String::new();
    Column::Peer.write(s, &CellCtx::new(true, Source::Proc), &mut out);
    out
}

#[test]
fn proc_source_prints_the_peer_of_a_v6_socket_bound_to_one_address_like_ss() {
    // /proc has no v6only flag, but binding a specific IPv6 address makes the kernel set it:
    // ss (netlink) prints `[::1]:5353 [::]:*`; the /proc source printed `*:*`.
    assert_eq!(peer(&udp6("::1", None)), "[::]:*");
    assert_eq!(peer(&udp6("::1", Some(true))), "[::]:*");
    // A wildcard socket of unknown v6only stays `*`, as ss prints a dual-stack one.
    assert_eq!(peer(&udp6("::", None)), "*:*");
    // A v4-mapped local address is not v6-only.
    assert_eq!(peer(&udp6("::ffff:127.0.0.1", None)), "*:*");
}
