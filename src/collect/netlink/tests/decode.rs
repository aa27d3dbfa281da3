//! Datagram handling and the decoding of inet and unix messages, on hand-built bytes.

use super::*;

// ---------------------------------------------------------------- datagram handling

#[test]
fn multi_message_datagram_then_done() {
    let mut d = Vec::new();
    for port in [1000, 1001, 1002] {
        d.extend(Inet::v4(1, port, 80).msg(5));
    }
    d.extend(done(5, 0));
    let (p, out, skipped) = run(&d, 5, Table::TCP4, &all());
    assert_eq!(p, Progress::Done);
    assert_eq!(skipped, 0);
    let ports: Vec<_> = out.iter().filter_map(|s| s.local_port()).collect();
    assert_eq!(ports, vec![1000, 1001, 1002]);
}

#[test]
fn datagram_without_done_asks_for_more() {
    let d = Inet::v4(1, 1000, 80).msg(5);
    let (p, out, _) = run(&d, 5, Table::TCP4, &all());
    assert_eq!(p, Progress::More);
    assert_eq!(out.len(), 1);
}

#[test]
fn done_carrying_an_error_fails_the_table() {
    let mut d = Inet::v4(1, 1000, 80).msg(9);
    d.extend(done(9, libc::EINTR));
    let (p, _, _) = run(&d, 9, Table::TCP4, &all());
    assert_eq!(p, Progress::Failed(libc::EINTR));
}

#[test]
fn nlmsg_error_fails_the_table_and_ack_does_not() {
    let (p, _, _) = run(&error(2, libc::ENOENT), 2, Table::UDP6, &all());
    assert_eq!(p, Progress::Failed(libc::ENOENT));
    let mut d = error(2, 0);
    d.extend(done(2, 0));
    let (p, _, _) = run(&d, 2, Table::UDP6, &all());
    assert_eq!(p, Progress::Done);
}

#[test]
fn other_sequence_numbers_are_ignored() {
    let mut d = Inet::v4(1, 1, 80).msg(3); // left over from an abandoned dump
    d.extend(done(3, libc::EINVAL));
    d.extend(Inet::v4(1, 2, 80).msg(4));
    d.extend(done(4, 0));
    let (p, out, skipped) = run(&d, 4, Table::TCP4, &all());
    assert_eq!(p, Progress::Done);
    assert_eq!(skipped, 0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].local_port(), Some(2));
}

#[test]
fn corrupt_messages_are_skipped_and_counted() {
    let mut d = Inet::v4(1, 1, 80).msg(1);
    // Too short for inet_diag_msg.
    d.extend(nlmsg(SOCK_DIAG_BY_FAMILY, 1, &[AF_INET, 1, 0, 0, 9, 9]));
    // Unknown state.
    d.extend(Inet::v4(99, 2, 80).msg(1));
    // Attribute whose length runs past the message.
    let mut bad = Inet::v4(1, 3, 80);
    bad.attrs = vec![200, 0, 11, 0, 1, 0, 0, 0];
    d.extend(bad.msg(1));
    // Unknown family.
    let mut fam = Inet::v4(1, 4, 80);
    fam.family = 99;
    d.extend(fam.msg(1));
    // Unknown message type.
    d.extend(nlmsg(77, 1, &[0; 8]));
    d.extend(Inet::v4(1, 5, 80).msg(1));
    d.extend(done(1, 0));
    let (p, out, skipped) = run(&d, 1, Table::TCP4, &all());
    assert_eq!(p, Progress::Done);
    assert_eq!(skipped, 5);
    let ports: Vec<_> = out.iter().filter_map(|s| s.local_port()).collect();
    assert_eq!(ports, vec![1, 5]);
}

#[test]
fn truncated_datagram_keeps_what_decoded_and_counts_the_rest() {
    let mut d = Inet::v4(1, 1, 80).msg(1);
    let second = Inet::v4(1, 2, 80).msg(1);
    d.extend_from_slice(&second[..40]);
    let (p, out, skipped) = run(&d, 1, Table::TCP4, &all());
    assert_eq!(p, Progress::More);
    assert_eq!(out.len(), 1);
    assert_eq!(skipped, 1);
}

// ---------------------------------------------------------------- inet fields

#[test]
fn inet_header_fields() {
    let mut m = Inet::v4(1, 41000, 443);
    m.src = "10.1.2.3".parse().unwrap();
    m.dst = "192.0.2.9".parse().unwrap();
    m.rq = 8;
    m.wq = 3;
    m.ifindex = 2;
    m.cookie = [0x10, 0x2];
    m.timer = 1;
    m.expires = 204;
    m.retrans = 2;
    let (_, out, _) = run(&m.msg(1), 1, Table::TCP4, &all());
    let s = &out[0];
    assert_eq!(s.netid, Netid::Tcp);
    assert_eq!(s.state, TcpState::Established);
    assert_eq!((s.recv_q, s.send_q), (Some(8), Some(3)));
    assert_eq!(
        s.local,
        Endpoint::Inet {
            addr: "10.1.2.3".parse().unwrap(),
            port: 41000
        }
    );
    assert_eq!(
        s.peer,
        Endpoint::Inet {
            addr: "192.0.2.9".parse().unwrap(),
            port: 443
        }
    );
    assert_eq!(s.inode, 4242);
    assert_eq!(s.uid, Some(1000));
    assert_eq!(s.cookie, Some(0x2_0000_0010));
    assert_eq!(s.ifindex, Some(2));
    assert_eq!(s.v6only, None);
    assert_eq!(
        s.timer,
        Some(Timer {
            kind: TimerKind::Retransmit,
            expires_ms: 204,
            retrans: 2
        })
    );
    assert!(s.tcp_info.is_none() && s.memory.is_none());
}

#[test]
fn no_cookie_and_no_interface() {
    let mut m = Inet::v4(10, 80, 0);
    m.cookie = [u32::MAX, u32::MAX];
    let (_, out, _) = run(&m.msg(1), 1, Table::TCP4, &all());
    assert_eq!(out[0].cookie, None);
    assert_eq!(out[0].ifindex, None);
}

#[test]
fn time_wait_timer() {
    let mut m = Inet::v4(6, 41000, 80);
    m.timer = 3;
    m.expires = 59_123;
    m.uid = 0;
    m.inode = 0;
    let (_, out, _) = run(&m.msg(1), 1, Table::TCP4, &all());
    let s = &out[0];
    assert_eq!(s.state, TcpState::TimeWait);
    assert_eq!((s.inode, s.uid), (0, Some(0)));
    assert_eq!(
        s.timer,
        Some(Timer {
            kind: TimerKind::TimeWait,
            expires_ms: 59_123,
            retrans: 0
        })
    );
}

#[test]
fn new_syn_recv_reads_as_syn_recv() {
    let m = Inet::v4(12, 80, 41000);
    let (_, out, _) = run(&m.msg(1), 1, Table::TCP4, &all());
    assert_eq!(out[0].state, TcpState::SynRecv);
}

#[test]
fn v6_with_v6only() {
    let mut m = Inet::v4(10, 8080, 0);
    m.family = AF_INET6;
    m.src = "::1".parse().unwrap();
    m.dst = "::".parse().unwrap();
    m.attrs = attr(INET_DIAG_SKV6ONLY, &[1]);
    let mut dual = m.clone();
    dual.src = "::".parse().unwrap();
    dual.attrs = attr(INET_DIAG_SKV6ONLY, &[0]);
    let mut d = m.msg(1);
    d.extend(dual.msg(1));
    let (_, out, _) = run(&d, 1, Table::TCP6, &all());
    assert_eq!(
        out[0].local,
        Endpoint::Inet {
            addr: "::1".parse().unwrap(),
            port: 8080
        }
    );
    assert_eq!(out[0].v6only, Some(true));
    assert_eq!(out[1].v6only, Some(false));
}

#[test]
fn udp_has_no_timer() {
    let m = Inet::v4(7, 53, 0);
    let (_, out, _) = run(&m.msg(1), 1, Table::UDP4, &all());
    assert_eq!(out[0].netid, Netid::Udp);
    assert_eq!(out[0].state.ss_name(), "UNCONN");
    assert_eq!(out[0].timer, None);
}

pub(super) fn tcp_info_bytes() -> Vec<u8> {
    let mut b = vec![0u8; 248];
    b[2] = 1; // retransmits
    b[6] = 0x97; // snd_wscale 7, rcv_wscale 9
    b[7] = 1; // app limited
    let put32 =
        |b: &mut Vec<u8>, off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    put32(&mut b, 8, 204_000); // rto
    put32(&mut b, 16, 65_483); // snd_mss
    put32(&mut b, 68, 31); // rtt
    put32(&mut b, 72, 15); // rttvar
    put32(&mut b, 76, 0x7fff_ffff); // infinite ssthresh
    put32(&mut b, 80, 10); // cwnd
    put32(&mut b, 100, 4); // total_retrans
    put32(&mut b, 228, 65_536); // snd_wnd
    b[120..128].copy_from_slice(&9u64.to_ne_bytes()); // bytes_acked
    b[200..208].copy_from_slice(&8u64.to_ne_bytes()); // bytes_sent
    b
}

#[test]
fn tcp_info_congestion_and_memory_when_asked() {
    let mut m = Inet::v4(1, 1, 2);
    m.attrs = attr(INET_DIAG_INFO, &tcp_info_bytes());
    m.attrs.extend(attr(INET_DIAG_CONG, b"cubic\0"));
    let mem: Vec<u8> = (1u32..=9).flat_map(|x| x.to_ne_bytes()).collect();
    m.attrs.extend(attr(INET_DIAG_SKMEMINFO, &mem));

    let (_, out, _) = run(&m.msg(1), 1, Table::TCP4, &all());
    assert!(out[0].tcp_info.is_none() && out[0].memory.is_none());

    let q = Query {
        tcp_info: true,
        memory: true,
        ..Query::default()
    };
    let (_, out, _) = run(&m.msg(1), 1, Table::TCP4, &q);
    let i = out[0].tcp_info.as_deref().unwrap();
    assert_eq!(i.congestion.as_deref(), Some("cubic"));
    assert_eq!((i.snd_wscale, i.rcv_wscale), (7, 9));
    assert!(i.app_limited);
    assert_eq!(i.retransmits, 1);
    assert_eq!(i.rto_us, 204_000);
    assert_eq!(i.snd_mss, 65_483);
    assert_eq!((i.rtt_us, i.rttvar_us), (31, 15));
    assert_eq!(i.snd_ssthresh, None);
    assert_eq!(i.snd_cwnd, 10);
    assert_eq!(i.total_retrans, 4);
    assert_eq!(i.snd_wnd, 65_536);
    assert_eq!((i.bytes_acked, i.bytes_sent), (9, 8));
    let mem = out[0].memory.as_deref().copied().unwrap();
    assert_eq!((mem.rmem_alloc, mem.rcvbuf, mem.drops), (1, 2, 9));
}

#[test]
fn short_tcp_info_from_an_old_kernel_reads_missing_fields_as_zero() {
    let mut m = Inet::v4(1, 1, 2);
    m.attrs = attr(INET_DIAG_INFO, &tcp_info_bytes()[..104]);
    let q = Query {
        tcp_info: true,
        ..Query::default()
    };
    let (_, out, skipped) = run(&m.msg(1), 1, Table::TCP4, &q);
    assert_eq!(skipped, 0);
    let i = out[0].tcp_info.as_deref().unwrap();
    assert_eq!(i.snd_cwnd, 10);
    assert_eq!(i.bytes_acked, 0);
}

#[test]
fn states_and_keep_filter_in_userspace() {
    let mut d = Inet::v4(1, 1, 80).msg(1);
    d.extend(Inet::v4(10, 2, 0).msg(1));
    d.extend(Inet::v4(10, 3, 0).msg(1));
    let q = Query {
        states: StateSet::of(&[TcpState::Listen]),
        keep: Some(Arc::new(|s: &Socket| s.local_port() == Some(3))),
        ..Query::default()
    };
    let (_, out, skipped) = run(&d, 1, Table::TCP4, &q);
    assert_eq!(skipped, 0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].local_port(), Some(3));
}

#[test]
fn decode_into_appends_only_what_it_keeps() {
    use crate::collect::netlink::inet::{Decoded, Outcome, decode, decode_into};
    let body = |m: Vec<u8>| m[16..].to_vec(); // the payload after the nlmsghdr
    let q = Query {
        keep: Some(Arc::new(|s: &Socket| s.local_port() != Some(7))),
        ..all()
    };
    let mut out = Vec::new();
    let ok = body(Inet::v4(1, 5, 80).msg(1));
    assert_eq!(decode_into(&ok, Netid::Tcp, &q, &mut out), Outcome::Kept);
    // Broken after the fixed part (pushed, then taken off), rejected by the userspace
    // filter (likewise), and not of a wanted state (never pushed).
    let mut bad = Inet::v4(1, 6, 80);
    bad.attrs = vec![200, 0, 11, 0, 1, 0, 0, 0];
    assert_eq!(
        decode_into(&body(bad.msg(1)), Netid::Tcp, &q, &mut out),
        Outcome::Bad
    );
    let seven = body(Inet::v4(1, 7, 80).msg(1));
    assert_eq!(
        decode_into(&seven, Netid::Tcp, &q, &mut out),
        Outcome::Filtered
    );
    let listen_only = Query {
        states: StateSet::of(&[TcpState::Listen]),
        ..all()
    };
    assert_eq!(
        decode_into(&ok, Netid::Tcp, &listen_only, &mut out),
        Outcome::Filtered
    );
    let ports: Vec<_> = out.iter().filter_map(|s| s.local_port()).collect();
    assert_eq!(ports, vec![5]);
    // `decode` gives the same socket by value.
    match decode(&ok, Netid::Tcp, &q) {
        Decoded::Keep(s) => assert_eq!(s, out[0]),
        other => panic!("not kept: {}", matches!(other, Decoded::Bad)),
    }
}

// ---------------------------------------------------------------- unix

#[test]
fn unix_names_peers_and_queues() {
    let mut a = attr(UNIX_DIAG_NAME, b"/run/x.sock\0");
    a.extend(attr(UNIX_DIAG_RQLEN, &[2, 0, 0, 0, 128, 0, 0, 0]));
    a.extend(attr(UNIX_DIAG_UID, &1000u32.to_ne_bytes()));
    let mut d = unix_msg(1, 1, 10, 100, &a);

    let mut b = attr(UNIX_DIAG_NAME, b"\0sockeye\0x");
    b.extend(attr(UNIX_DIAG_PEER, &100u32.to_ne_bytes()));
    b.extend(attr(UNIX_DIAG_RQLEN, &[5, 0, 0, 0, 1, 0, 0, 0]));
    d.extend(unix_msg(1, 1, 1, 101, &b));

    d.extend(unix_msg(1, 2, 7, 102, &[]));
    d.extend(unix_msg(1, 5, 7, 103, &[]));
    d.extend(done(1, 0));

    let (p, out, skipped) = run(&d, 1, Table::Unix, &all());
    assert_eq!(p, Progress::Done);
    assert_eq!(skipped, 0);
    assert_eq!(out.len(), 4);

    let l = &out[0];
    assert_eq!((l.netid, l.state), (Netid::UnixStream, TcpState::Listen));
    assert_eq!(
        l.local,
        Endpoint::Unix {
            path: Some("/run/x.sock".into()),
            inode: 100
        }
    );
    assert_eq!(l.inode, 100);
    assert_eq!((l.recv_q, l.send_q), (Some(2), Some(128)));
    assert_eq!(l.uid, Some(1000));
    assert_eq!(l.cookie, Some(3));
    assert_eq!(
        l.peer,
        Endpoint::Unix {
            path: None,
            inode: 0
        }
    );

    let c = &out[1];
    assert_eq!(
        c.local,
        Endpoint::Unix {
            path: Some("@sockeye\0x".into()),
            inode: 101
        }
    );
    assert_eq!(
        c.peer,
        Endpoint::Unix {
            path: None,
            inode: 100
        }
    );
    assert_eq!((c.recv_q, c.send_q), (Some(5), Some(1)));
    assert_eq!(c.uid, None);

    assert_eq!(out[2].netid, Netid::UnixDgram);
    assert_eq!(out[2].state.ss_name(), "UNCONN");
    assert_eq!((out[2].recv_q, out[2].send_q), (None, None));
    assert_eq!(
        out[2].local,
        Endpoint::Unix {
            path: None,
            inode: 102
        }
    );
    assert_eq!(out[3].netid, Netid::UnixSeqpacket);
}

#[test]
fn unix_types_not_asked_for_are_dropped() {
    let mut d = unix_msg(1, 1, 7, 1, &[]);
    d.extend(unix_msg(1, 2, 7, 2, &[]));
    let q = Query {
        netids: NetidSet::of(&[Netid::UnixDgram]),
        ..Query::default()
    };
    let (_, out, skipped) = run(&d, 1, Table::Unix, &q);
    assert_eq!(skipped, 0);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].inode, 2);
}

#[test]
fn unix_unknown_type_is_skipped() {
    let d = unix_msg(1, 3, 7, 1, &[]);
    let (_, out, skipped) = run(&d, 1, Table::Unix, &all());
    assert!(out.is_empty());
    assert_eq!(skipped, 1);
}
