//! Decoding of real kernel answers recorded by `tests/it/netlink/record.rs` (Linux 6.18, private
//! network namespace, tcp_info and memory asked for).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use sockeye::collect::Query;
use sockeye::collect::netlink::fixture;
use sockeye::model::{Endpoint, Netid, Socket, StateSet, TcpState, TimerKind};

fn load(table: &str) -> Vec<u8> {
    let file = format!(
        "{}/tests/fixtures/netlink/{}.bin",
        env!("CARGO_MANIFEST_DIR"),
        table.replace('/', "_")
    );
    std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn replay_bytes(table: &str, bytes: &[u8], q: &Query) -> (Result<bool, i32>, Vec<Socket>, usize) {
    let (seq, datagrams) = fixture::decode(bytes).expect("fixture format");
    let t = fixture::table_by_name(table).expect("table name");
    let (mut out, mut skipped) = (Vec::new(), 0);
    let r = fixture::replay(t, seq, &datagrams, q, &mut out, &mut skipped);
    (r, out, skipped)
}

fn replay(table: &str, q: &Query) -> Vec<Socket> {
    let (r, out, skipped) = replay_bytes(table, &load(table), q);
    assert_eq!(r, Ok(true), "{table}: the answer ends with NLMSG_DONE");
    assert_eq!(skipped, 0);
    out
}

fn full() -> Query {
    Query {
        tcp_info: true,
        memory: true,
        ..Query::default()
    }
}

fn at(out: &[Socket], local: (IpAddr, u16), peer_port: u16) -> &Socket {
    out.iter()
        .find(|s| {
            s.local
                == Endpoint::Inet {
                    addr: local.0,
                    port: local.1,
                }
                && s.peer_port() == Some(peer_port)
        })
        .unwrap_or_else(|| panic!("no socket at {local:?} -> {peer_port}"))
}

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[test]
fn tcp4_listeners_pending_and_unread() {
    let out = replay("tcp/ipv4", &full());
    assert_eq!(out.len(), 9);
    assert!(out.iter().all(|s| s.netid == Netid::Tcp));

    let full_l = at(&out, (LO, 40001), 0);
    assert_eq!(full_l.state, TcpState::Listen);
    assert_eq!((full_l.recv_q, full_l.send_q), (Some(2), Some(1)));
    assert_ne!(full_l.inode, 0);
    assert_eq!(full_l.uid, Some(0));
    assert!(full_l.cookie.is_some());
    assert_eq!(full_l.timer.map(|t| t.kind), Some(TimerKind::Off));
    assert_eq!(
        full_l.peer,
        Endpoint::Inet {
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0
        }
    );

    // The two connections waiting in its accept queue: ESTAB, no inode yet.
    let pending: Vec<_> = out
        .iter()
        .filter(|s| s.local_port() == Some(40001) && s.state == TcpState::Established)
        .collect();
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|s| s.inode == 0));

    let l2 = at(&out, (LO, 40002), 0);
    assert_eq!((l2.recv_q, l2.send_q), (Some(0), Some(128)));

    let unread = out
        .iter()
        .find(|s| s.local_port() == Some(40002) && s.state == TcpState::Established)
        .unwrap();
    assert_eq!((unread.recv_q, unread.send_q), (Some(8), Some(0)));
    let info = unread.tcp_info.as_deref().unwrap();
    assert_eq!(info.congestion.as_deref(), Some("bbr"));
    assert_eq!(info.bytes_received, 8);
    assert!(info.rtt_us > 0 && info.snd_mss > 0 && info.snd_cwnd > 0);
    let mem = unread.memory.as_deref().copied().unwrap();
    assert!(mem.rmem_alloc > 0 && mem.rcvbuf > 0);

    let client = at(&out, (LO, unread.peer_port().unwrap()), 40002);
    assert_eq!(client.tcp_info.as_deref().unwrap().bytes_acked, 9);
}

#[test]
fn tcp4_time_wait() {
    let out = replay("tcp/ipv4", &full());
    let tw: Vec<_> = out
        .iter()
        .filter(|s| s.state == TcpState::TimeWait)
        .collect();
    assert_eq!(tw.len(), 1);
    let tw = tw[0];
    assert_eq!(tw.peer_port(), Some(40002));
    assert_eq!((tw.inode, tw.uid), (0, Some(0)));
    assert_eq!((tw.recv_q, tw.send_q), (Some(0), Some(0)));
    let t = tw.timer.unwrap();
    assert_eq!(t.kind, TimerKind::TimeWait);
    assert_eq!(t.expires_ms, 59_952);
    assert_eq!(t.retrans, 0);
    assert!(tw.tcp_info.is_none() && tw.memory.is_none());
}

#[test]
fn tcp6_v6only_and_mapped_addresses() {
    let out = replay("tcp/ipv6", &full());
    assert_eq!(out.len(), 4);
    let v6only = at(&out, (IpAddr::V6(Ipv6Addr::LOCALHOST), 40003), 0);
    assert_eq!(v6only.state, TcpState::Listen);
    assert_eq!(v6only.v6only, Some(true));
    assert_eq!((v6only.recv_q, v6only.send_q), (Some(1), Some(7)));
    let mapped = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());
    let dual = at(&out, (mapped, 40004), 0);
    assert_eq!(dual.v6only, Some(false));
    assert_eq!(
        dual.peer,
        Endpoint::Inet {
            addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            port: 0
        }
    );
    let est = out
        .iter()
        .find(|s| s.state == TcpState::Established && s.peer_port() == Some(40003))
        .unwrap();
    assert_eq!(est.v6only, None);
    assert_ne!(est.inode, 0);
}

#[test]
fn udp_bound_connected_and_v6() {
    let out = replay("udp/ipv4", &full());
    assert_eq!(out.len(), 2);
    let bound = at(&out, (LO, 40005), 0);
    assert_eq!((bound.netid, bound.state), (Netid::Udp, TcpState::Close));
    // A 4-byte datagram waits: UDP queues count memory, not payload.
    assert_eq!(bound.recv_q, Some(832));
    assert_eq!(bound.timer, None);
    let conn = at(&out, (LO, 40006), 40005);
    assert_eq!(conn.state, TcpState::Established);

    let out6 = replay("udp/ipv6", &full());
    assert_eq!(out6.len(), 1);
    assert_eq!(out6[0].v6only, Some(true));
    assert_eq!(out6[0].local_port(), Some(40007));
}

#[test]
fn unix_paths_abstract_and_unbound() {
    let out = replay("unix", &full());
    assert_eq!(out.len(), 4);
    let named = |p: &str| {
        out.iter()
            .find(|s| matches!(&s.local, Endpoint::Unix { path: Some(x), .. } if &**x == p))
            .unwrap_or_else(|| panic!("no unix socket at {p}"))
    };
    let l = named("/tmp/sockeye-fixture.sock");
    assert_eq!((l.netid, l.state), (Netid::UnixStream, TcpState::Listen));
    assert_eq!((l.recv_q, l.send_q), (Some(1), Some(4096)));
    assert_eq!(
        l.local,
        Endpoint::Unix {
            path: Some("/tmp/sockeye-fixture.sock".into()),
            inode: l.inode
        }
    );
    assert_eq!(l.uid, Some(0));
    let a = named("@sockeye-fixture");
    assert_eq!(a.state, TcpState::Listen);

    let dgram = out.iter().find(|s| s.netid == Netid::UnixDgram).unwrap();
    assert_eq!(dgram.state, TcpState::Close);
    assert_eq!(
        dgram.local,
        Endpoint::Unix {
            path: None,
            inode: dgram.inode
        }
    );
    let pending = out
        .iter()
        .find(|s| s.state == TcpState::Established)
        .unwrap();
    assert_eq!(
        pending.peer,
        Endpoint::Unix {
            path: None,
            inode: 0
        }
    );
    assert!(out.iter().all(|s| s.memory.is_some() && s.cookie.is_some()));
}

#[test]
fn extensions_not_asked_are_not_decoded() {
    let out = replay("tcp/ipv4", &Query::default());
    assert!(
        out.iter()
            .all(|s| s.tcp_info.is_none() && s.memory.is_none())
    );
}

#[test]
fn userspace_state_and_keep_filters() {
    let q = Query {
        states: StateSet::of(&[TcpState::Listen]),
        keep: Some(Arc::new(|s: &Socket| s.local_port() == Some(40001))),
        ..Query::default()
    };
    let out = replay("tcp/ipv4", &q);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].recv_q, Some(2));

    let unix_dgram_only = Query {
        netids: sockeye::collect::NetidSet::of(&[Netid::UnixDgram]),
        ..Query::default()
    };
    let out = replay("unix", &unix_dgram_only);
    assert_eq!(out.len(), 1);
}

#[test]
fn corrupted_recording_skips_and_counts() {
    let bytes = load("tcp/ipv4");
    let (seq, datagrams) = fixture::decode(&bytes).unwrap();
    // Break the family byte of the first socket message (payload starts after 16 bytes).
    let mut first = datagrams[0].to_vec();
    first[16] = 99;
    let rebuilt = fixture::encode(seq, &[&first, datagrams[1]]);
    let (r, out, skipped) = replay_bytes("tcp/ipv4", &rebuilt, &Query::default());
    assert_eq!(r, Ok(true));
    assert_eq!(skipped, 1);
    assert_eq!(out.len(), 8);

    // Cut the first datagram in the middle of a message: what decoded stays, the rest counts.
    let cut = &datagrams[0][..datagrams[0].len() - 30];
    let rebuilt = fixture::encode(seq, &[cut, datagrams[1]]);
    let (r, out, skipped) = replay_bytes("tcp/ipv4", &rebuilt, &Query::default());
    assert_eq!(r, Ok(true));
    assert_eq!(skipped, 1);
    assert_eq!(out.len(), 8);

    // Replayed under another sequence number, everything is ignored.
    let (r, out, _) = replay_bytes(
        "tcp/ipv4",
        &fixture::encode(seq.wrapping_add(1), &datagrams),
        &Query::default(),
    );
    assert_eq!(r, Ok(false));
    assert!(out.is_empty());
}
