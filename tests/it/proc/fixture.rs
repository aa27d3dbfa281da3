//! The /proc/net parsers and counters on text recorded from a real kernel (plus hand-made
//! malformed lines), under tests/fixtures/proc/.
//!
//! The fixtures were recorded on a little-endian machine: /proc prints addresses as in-memory
//! words, so these expectations hold on little-endian hosts only.
#![cfg(target_endian = "little")]

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sockeye::collect::{Host, NetidSet, Query, counters, procfs};
use sockeye::model::{Endpoint, Netid, Socket, StateSet, TcpState, Timer, TimerKind};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/proc")
        .join(name)
}

/// A query on the fake host whose /proc is fixture `name`.
struct OnHost {
    host: Host,
    query: Query,
}

impl std::ops::Deref for OnHost {
    type Target = Query;
    fn deref(&self) -> &Query {
        &self.query
    }
}

impl std::ops::DerefMut for OnHost {
    fn deref_mut(&mut self) -> &mut Query {
        &mut self.query
    }
}

/// The fixtures hold TCP, UDP and unix tables: those are asked (the other kinds have their
/// own tests).
fn query(name: &str) -> OnHost {
    OnHost {
        host: Host::fake(fixture(name)),
        query: Query {
            netids: NetidSet::of(&[
                Netid::Tcp,
                Netid::Udp,
                Netid::UnixStream,
                Netid::UnixDgram,
                Netid::UnixSeqpacket,
            ]),
            ..Query::default()
        },
    }
}

struct Read {
    sockets: Vec<Socket>,
    warnings: Vec<String>,
    skipped: usize,
}

fn read(q: &OnHost) -> Read {
    let mut r = Read {
        sockets: Vec::new(),
        warnings: Vec::new(),
        skipped: 0,
    };
    procfs::read(
        &q.host,
        &q.query,
        &mut r.sockets,
        &mut r.warnings,
        &mut r.skipped,
    )
    .unwrap();
    r
}

fn inet(addr: &str, port: u16) -> Endpoint {
    Endpoint::Inet {
        addr: addr.parse::<IpAddr>().unwrap(),
        port,
    }
}

fn find<'a>(sockets: &'a [Socket], netid: Netid, local: &Endpoint, peer: &Endpoint) -> &'a Socket {
    let hits: Vec<&Socket> = sockets
        .iter()
        .filter(|s| s.netid == netid && &s.local == local && &s.peer == peer)
        .collect();
    assert_eq!(hits.len(), 1, "{netid:?} {local:?} {peer:?}: {hits:?}");
    hits[0]
}

#[test]
fn tcp_every_field_of_a_connection_with_unread_data() {
    let r = read(&query("basic"));
    // Server side of an accepted connection holding 8 unread bytes.
    let s = find(
        &r.sockets,
        Netid::Tcp,
        &inet("127.0.0.1", 57187),
        &inet("127.0.0.1", 36266),
    );
    let expected = Socket {
        netid: Netid::Tcp,
        state: TcpState::Established,
        recv_q: Some(8),
        send_q: Some(0),
        local: inet("127.0.0.1", 57187),
        peer: inet("127.0.0.1", 36266),
        inode: 24794,
        uid: Some(0),
        cookie: None,
        ifindex: None,
        v6only: None,
        timer: Some(Timer {
            kind: TimerKind::Off,
            expires_ms: 0,
            retrans: 0,
        }),
        tcp_info: None,
        memory: None,
        details: None,
        processes: Default::default(),
        netns: None,
    };
    assert_eq!(*s, expected);
}

#[test]
fn listener_send_q_is_unknown_and_recv_q_is_the_accept_queue() {
    let r = read(&query("basic"));
    let l = find(
        &r.sockets,
        Netid::Tcp,
        &inet("127.0.0.1", 57187),
        &inet("0.0.0.0", 0),
    );
    assert_eq!(l.state, TcpState::Listen);
    assert_eq!(l.recv_q, Some(1));
    assert_eq!(l.send_q, None);
    assert_eq!(l.inode, 24792);
    // The un-accepted connection belongs to no process yet.
    let pending = find(
        &r.sockets,
        Netid::Tcp,
        &inet("127.0.0.1", 57187),
        &inet("127.0.0.1", 36274),
    );
    assert_eq!((pending.state, pending.inode), (TcpState::Established, 0));
}

#[test]
fn timers_time_wait_and_keepalive() {
    let r = read(&query("basic"));
    let tw = find(
        &r.sockets,
        Netid::Tcp,
        &inet("127.0.0.1", 52330),
        &inet("127.0.0.1", 56261),
    );
    assert_eq!(tw.state, TcpState::TimeWait);
    assert_eq!((tw.inode, tw.uid), (0, Some(0)));
    assert_eq!(
        tw.timer,
        Some(Timer {
            kind: TimerKind::TimeWait,
            expires_ms: 59_900,
            retrans: 0
        })
    );
    let ka = find(
        &r.sockets,
        Netid::Tcp,
        &inet("127.0.0.1", 36266),
        &inet("127.0.0.1", 57187),
    );
    assert_eq!(
        ka.timer,
        Some(Timer {
            kind: TimerKind::Keepalive,
            expires_ms: 7_199_840,
            retrans: 0
        })
    );
}

#[test]
fn ipv6_loopback_wildcard_and_v4_mapped() {
    let r = read(&query("basic"));
    let l6 = find(&r.sockets, Netid::Tcp, &inet("::1", 51759), &inet("::", 0));
    assert_eq!(
        (l6.state, l6.send_q, l6.inode),
        (TcpState::Listen, None, 24799)
    );
    let dual = find(&r.sockets, Netid::Tcp, &inet("::", 56139), &inet("::", 0));
    assert_eq!(dual.state, TcpState::Listen);
    assert_eq!(dual.v6only, None);
    let mapped = find(
        &r.sockets,
        Netid::Tcp,
        &inet("::ffff:127.0.0.1", 56139),
        &inet("::ffff:127.0.0.1", 45042),
    );
    assert_eq!((mapped.state, mapped.inode), (TcpState::Established, 24804));
}

#[test]
fn udp_bound_and_connected() {
    let r = read(&query("basic"));
    let bound = find(
        &r.sockets,
        Netid::Udp,
        &inet("127.0.0.1", 38365),
        &inet("0.0.0.0", 0),
    );
    // One 4-byte datagram waits: /proc counts memory (832 here), not payload.
    assert_eq!(
        (bound.state, bound.recv_q, bound.send_q, bound.inode),
        (TcpState::Close, Some(832), Some(0), 24805)
    );
    let conn = find(
        &r.sockets,
        Netid::Udp,
        &inet("127.0.0.1", 50213),
        &inet("127.0.0.1", 38365),
    );
    assert_eq!(conn.state, TcpState::Established);
    let v6 = find(&r.sockets, Netid::Udp, &inet("::1", 39675), &inet("::", 0));
    assert_eq!((v6.state, v6.inode), (TcpState::Close, 24807));
}

fn unix(sockets: &[Socket], inode: u64) -> &Socket {
    let hits: Vec<&Socket> = sockets
        .iter()
        .filter(|s| s.netid.is_unix() && s.inode == inode)
        .collect();
    assert_eq!(hits.len(), 1, "unix inode {inode}: {hits:?}");
    hits[0]
}

#[test]
fn unix_listener_flag_paths_and_unknowns() {
    let r = read(&query("basic"));
    let l = unix(&r.sockets, 24808);
    assert_eq!((l.netid, l.state), (Netid::UnixStream, TcpState::Listen));
    assert_eq!(
        l.local,
        Endpoint::Unix {
            path: Some("/tmp/procrec/sock with space".into()),
            inode: 24808
        }
    );
    assert_eq!(
        l.peer,
        Endpoint::Unix {
            path: None,
            inode: 0
        }
    );
    assert_eq!(
        (l.recv_q, l.send_q, l.uid, l.timer),
        (None, None, None, None)
    );

    let seq = unix(&r.sockets, 24812);
    assert_eq!(
        (seq.netid, seq.state),
        (Netid::UnixSeqpacket, TcpState::Listen)
    );
    assert_eq!(
        seq.local,
        Endpoint::Unix {
            path: Some("@sockeye-fixture@x".into()),
            inode: 24812
        }
    );
    let dgram = unix(&r.sockets, 24813);
    assert_eq!(
        (dgram.netid, dgram.state),
        (Netid::UnixDgram, TcpState::Close)
    );

    let accepted = unix(&r.sockets, 24810);
    assert_eq!(accepted.state, TcpState::Established);
    // The connection not yet accept()ed (SS_CONNECTING, inode 0, the listener's path) is
    // not listed: unix_diag never lists it, and both sources show the same sockets.
    assert!(
        r.sockets
            .iter()
            .all(|s| !(s.netid.is_unix() && s.inode == 0))
    );
}

#[test]
fn malformed_lines_are_skipped_and_counted() {
    let r = read(&query("basic"));
    // tcp: a short line, a bad hex digit, an unknown state; unix: junk and an unknown type.
    assert_eq!(r.skipped, 5);
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("net/tcp: skipped 3 malformed lines (first at line 11)"));
    assert!(r.warnings[1].contains("net/unix: skipped 2 malformed lines"));
    assert_eq!(
        r.sockets.iter().filter(|s| s.netid == Netid::Tcp).count(),
        9 + 5
    );
    assert_eq!(
        r.sockets.iter().filter(|s| s.netid == Netid::Udp).count(),
        3
    );
    // 13 rows, less the queued connection (inode 0).
    assert_eq!(r.sockets.iter().filter(|s| s.netid.is_unix()).count(), 12);
}

#[test]
fn missing_ipv6_tables_are_a_warning() {
    let r = read(&query("no_ipv6"));
    assert_eq!(
        r.warnings.iter().filter(|w| w.contains("missing")).count(),
        2
    );
    assert!(r.warnings.iter().any(|w| w.contains("net/tcp6 is missing")));
    assert_eq!(
        r.sockets.iter().filter(|s| s.netid == Netid::Tcp).count(),
        9
    );
    assert!(r.sockets.iter().all(|s| match &s.local {
        Endpoint::Inet { addr, .. } => addr.is_ipv4(),
        _ => true,
    }));
}

#[test]
fn missing_proc_root_is_an_error() {
    let q = query("does-not-exist");
    let mut out = Vec::new();
    let err = procfs::read(&q.host, &q.query, &mut out, &mut Vec::new(), &mut 0).unwrap_err();
    assert!(err.to_string().contains("does-not-exist/net"), "{err}");
}

#[test]
fn query_selects_tables_families_states_and_keep() {
    let mut q = query("basic");
    q.netids = NetidSet::of(&[Netid::Tcp]);
    q.ipv6 = false;
    q.states = StateSet::of(&[TcpState::Listen, TcpState::TimeWait]);
    let r = read(&q);
    // Only /proc/net/tcp was read: its malformed lines, no tcp6 sockets.
    assert_eq!(r.skipped, 3);
    assert_eq!(r.sockets.len(), 4);
    assert!(
        r.sockets
            .iter()
            .all(|s| s.netid == Netid::Tcp
                && matches!(s.state, TcpState::Listen | TcpState::TimeWait))
    );

    q.keep = Some(Arc::new(|s: &Socket| s.local_port() == Some(57187)));
    let r = read(&q);
    assert_eq!(r.sockets.len(), 1);
    assert_eq!(r.sockets[0].inode, 24792);

    let mut q = query("basic");
    q.netids = NetidSet::of(&[Netid::UnixDgram]);
    let r = read(&q);
    assert_eq!(r.sockets.len(), 1);
    assert_eq!(r.sockets[0].inode, 24813);
}

#[test]
fn counters_from_fixture() {
    let c = counters::read(&Host::fake(fixture("basic")));
    assert_eq!(c.active_opens, Some(34));
    assert_eq!(c.passive_opens, Some(12));
    assert_eq!(c.attempt_fails, Some(0));
    assert_eq!(c.estab_resets, Some(12));
    assert_eq!(c.curr_estab, Some(8));
    assert_eq!(c.in_segs, Some(6551));
    assert_eq!(c.out_segs, Some(5272));
    assert_eq!(c.retrans_segs, Some(0));
    assert_eq!(c.in_errs, Some(0));
    assert_eq!(c.out_rsts, Some(14));
    assert_eq!(c.listen_overflows, Some(0));
    assert_eq!(c.listen_drops, Some(0));
    assert_eq!(c.tcp_timeouts, Some(2));
    assert_eq!(c.tw_recycled, Some(0));
    assert_eq!(c.tcp_abort_on_data, Some(1));
    assert_eq!(c.sockets_used, Some(42));
    assert_eq!(
        (
            c.tcp_inuse,
            c.tcp_orphan,
            c.tcp_tw,
            c.tcp_alloc,
            c.tcp_mem_pages
        ),
        (Some(8), Some(0), Some(1), Some(13), Some(309))
    );
    assert_eq!((c.udp_inuse, c.udp_mem_pages), (Some(2), Some(0)));
    assert_eq!(
        (c.udplite_inuse, c.raw_inuse, c.frag_inuse),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(
        (c.tcp6_inuse, c.udp6_inuse, c.raw6_inuse, c.frag6_inuse),
        (Some(5), Some(1), Some(0), Some(0))
    );
    assert_eq!(c.somaxconn, Some(4096));
    assert_eq!(c.tcp_max_syn_backlog, Some(2048));
    assert_eq!(c.tcp_abort_on_overflow, Some(0));
    assert_eq!(c.tcp_max_tw_buckets, Some(131072));
    assert_eq!(c.ip_local_port_range, Some((32768, 60999)));
    assert_eq!(c.tcp_fin_timeout, Some(60));
}

#[test]
fn counters_missing_files_are_none() {
    let c = counters::read(&Host::fake(fixture("no_ipv6")));
    assert_eq!(c, sockeye::model::KernelCounters::default());
}
