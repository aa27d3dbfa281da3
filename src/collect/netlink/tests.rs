//! Decoding tests on hand-built bytes and on datagrams recorded from a real kernel
//! (tests/fixtures/netlink/, written by `tests/it/netlink/record.rs`).

use std::collections::VecDeque;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use super::wire::*;
use super::*;
use crate::collect::{NetidSet, Query};
use crate::model::{Endpoint, Netid, StateSet, TcpState, Timer, TimerKind};

// ---------------------------------------------------------------- builders

pub(crate) fn nlmsg(kind: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(&0x2u16.to_ne_bytes()); // NLM_F_MULTI
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&1234u32.to_ne_bytes());
    v.extend_from_slice(payload);
    v.resize(align4(v.len()), 0);
    v
}

fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(value);
    v.resize(align4(v.len()), 0);
    v
}

fn done(seq: u32, errno: i32) -> Vec<u8> {
    nlmsg(NLMSG_DONE, seq, &(-errno).to_ne_bytes())
}

fn error(seq: u32, errno: i32) -> Vec<u8> {
    let mut p = (-errno).to_ne_bytes().to_vec();
    p.extend_from_slice(&[0u8; 16]); // the offending request's header
    nlmsg(NLMSG_ERROR, seq, &p)
}

#[derive(Clone)]
struct Inet {
    family: u8,
    state: u8,
    timer: u8,
    retrans: u8,
    sport: u16,
    dport: u16,
    src: IpAddr,
    dst: IpAddr,
    ifindex: u32,
    cookie: [u32; 2],
    expires: u32,
    rq: u32,
    wq: u32,
    uid: u32,
    inode: u32,
    attrs: Vec<u8>,
}

impl Inet {
    fn v4(state: u8, sport: u16, dport: u16) -> Inet {
        Inet {
            family: AF_INET,
            state,
            timer: 0,
            retrans: 0,
            sport,
            dport,
            src: "127.0.0.1".parse().unwrap(),
            dst: "127.0.0.1".parse().unwrap(),
            ifindex: 0,
            cookie: [7, 1],
            expires: 0,
            rq: 0,
            wq: 0,
            uid: 1000,
            inode: 4242,
            attrs: Vec::new(),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut v = vec![self.family, self.state, self.timer, self.retrans];
        v.extend_from_slice(&self.sport.to_be_bytes());
        v.extend_from_slice(&self.dport.to_be_bytes());
        for a in [self.src, self.dst] {
            let mut raw = [0u8; 16];
            match a {
                IpAddr::V4(a) => raw[..4].copy_from_slice(&a.octets()),
                IpAddr::V6(a) => raw = a.octets(),
            }
            v.extend_from_slice(&raw);
        }
        for x in [
            self.ifindex,
            self.cookie[0],
            self.cookie[1],
            self.expires,
            self.rq,
            self.wq,
            self.uid,
            self.inode,
        ] {
            v.extend_from_slice(&x.to_ne_bytes());
        }
        assert_eq!(v.len(), 72);
        v.extend_from_slice(&self.attrs);
        v
    }

    fn v6(state: u8, sport: u16, dport: u16) -> Inet {
        Inet {
            family: AF_INET6,
            src: "::1".parse().unwrap(),
            dst: "::1".parse().unwrap(),
            ..Inet::v4(state, sport, dport)
        }
    }

    fn msg(&self, seq: u32) -> Vec<u8> {
        nlmsg(SOCK_DIAG_BY_FAMILY, seq, &self.bytes())
    }

    /// As the answer to a one-walk (TCPDIAG_GETSOCK) request: same body, the request's type.
    fn compat_msg(&self, seq: u32) -> Vec<u8> {
        nlmsg(TCPDIAG_GETSOCK, seq, &self.bytes())
    }
}

fn unix_msg(seq: u32, sock_type: u8, state: u8, inode: u32, attrs: &[u8]) -> Vec<u8> {
    let mut p = vec![AF_UNIX, sock_type, state, 0];
    p.extend_from_slice(&inode.to_ne_bytes());
    p.extend_from_slice(&3u32.to_ne_bytes());
    p.extend_from_slice(&0u32.to_ne_bytes());
    p.extend_from_slice(attrs);
    nlmsg(SOCK_DIAG_BY_FAMILY, seq, &p)
}

fn all() -> Query {
    Query::default()
}

fn run(data: &[u8], seq: u32, table: Table, q: &Query) -> (Progress, Vec<Socket>, usize) {
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut held = Held::default();
    let p = process_datagram(data, seq, table, q, &mut out, &mut skipped, &mut held);
    (p, out, skipped)
}

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

fn tcp_info_bytes() -> Vec<u8> {
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

// ---------------------------------------------------------------- whole dumps on a script

/// A fake kernel: answers each request with datagrams built by `answer(family, protocol, seq,
/// has_bytecode)`, and records the requests. A one-walk TCP request (TCPDIAG_GETSOCK) comes
/// as family AF_UNSPEC.
struct Script<F> {
    answer: F,
    queue: VecDeque<Vec<u8>>,
    requests: Vec<Vec<u8>>,
}

impl<F: FnMut(u8, u8, u32, bool) -> Vec<Vec<u8>>> Transport for Script<F> {
    fn send(&mut self, request: &[u8]) -> io::Result<()> {
        let seq = u32::from_ne_bytes(request[8..12].try_into().unwrap());
        let kind = u16::from_ne_bytes([request[4], request[5]]);
        let (family, proto, body) = if kind == TCPDIAG_GETSOCK {
            (AF_UNSPEC, IPPROTO_TCP, INET_DIAG_REQ_LEN)
        } else {
            (request[16], request[17], 56)
        };
        let has_bc = request.len() > 16 + body && family != AF_UNIX;
        self.queue = (self.answer)(family, proto, seq, has_bc).into();
        self.requests.push(request.to_vec());
        Ok(())
    }
    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let d = self.queue.pop_front().ok_or(io::ErrorKind::TimedOut)?;
        buf.extend_from_slice(&d);
        Ok(d.len())
    }
}

fn script<F: FnMut(u8, u8, u32, bool) -> Vec<Vec<u8>>>(answer: F) -> Script<F> {
    Script {
        answer,
        queue: VecDeque::new(),
        requests: Vec::new(),
    }
}

fn dump_on<F: FnMut(u8, u8, u32, bool) -> Vec<Vec<u8>>>(
    t: &mut Script<F>,
    q: &Query,
) -> (Result<(), NetlinkError>, Vec<Socket>, Vec<String>, usize) {
    let mut st = DumpState::new();
    let (mut out, mut warnings, mut skipped) = (Vec::new(), Vec::new(), 0);
    let r = dump_with(t, &mut st, q, &mut out, &mut warnings, &mut skipped);
    (r, out, warnings, skipped)
}

#[test]
fn enoent_table_is_skipped_with_a_warning() {
    let mut t = script(|family, proto, seq, _| {
        if family == AF_INET6 && proto == IPPROTO_UDP {
            return vec![error(seq, libc::ENOENT)];
        }
        let mut d = Vec::new();
        if family == AF_INET {
            d.extend(Inet::v4(1, 10, 20).msg(seq));
        }
        if family == AF_UNSPEC {
            d.extend(Inet::v4(1, 10, 20).compat_msg(seq));
        }
        d.extend(done(seq, 0));
        vec![d]
    });
    let (r, out, warnings, _) = dump_on(&mut t, &all());
    assert!(r.is_ok());
    // tcp (both families) and udp4 each answered one socket; unix none.
    assert_eq!(out.len(), 2);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("udp/ipv6: the kernel cannot dump this table"));
    // Four requests: tcp (one walk), udp4, udp6, unix.
    assert_eq!(t.requests.len(), 4);
}

#[test]
fn every_inet_table_enoent_is_refused() {
    let mut t = script(|family, _, seq, _| {
        if family == AF_UNIX {
            vec![done(seq, 0)]
        } else {
            vec![error(seq, libc::ENOENT)]
        }
    });
    let (r, ..) = dump_on(&mut t, &all());
    let e = r.unwrap_err();
    assert!(e.is_unavailable(), "{e}");
}

#[test]
fn eperm_on_inet_is_refused_but_on_unix_skipped() {
    let mut t = script(|_, _, seq, _| vec![error(seq, libc::EPERM)]);
    let (r, ..) = dump_on(&mut t, &all());
    assert!(matches!(r, Err(ref e @ NetlinkError::Refused { .. }) if e.is_unavailable()));

    let mut t = script(|_, _, seq, _| vec![error(seq, libc::EPERM)]);
    let q = Query {
        netids: NetidSet::of(&[Netid::UnixStream]),
        ..Query::default()
    };
    let (r, _, warnings, _) = dump_on(&mut t, &q);
    assert!(r.is_ok());
    assert_eq!(warnings.len(), 1);
}

#[test]
fn rejected_bytecode_is_retried_without_it() {
    let mut t = script(|_, _, seq, has_bc| {
        if has_bc {
            return vec![error(seq, libc::EINVAL)];
        }
        let mut d = Inet::v4(10, 80, 0).msg(seq);
        d.extend(done(seq, 0));
        vec![d]
    });
    let q = Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        ipv6: false,
        bytecode: Some(Arc::new(vec![0, 4, 4, 0])),
        ..Query::default()
    };
    let (r, out, warnings, _) = dump_on(&mut t, &q);
    assert!(r.is_ok());
    assert_eq!(out.len(), 1);
    assert_eq!(
        warnings,
        vec!["tcp/ipv4: kernel rejected the filter bytecode; filtering in userspace"]
    );
    assert_eq!(t.requests.len(), 2);
    assert_eq!(t.requests[0].len(), 16 + 56 + 8);
    assert_eq!(t.requests[1].len(), 16 + 56);
}

#[test]
fn request_carries_states_and_extensions() {
    let mut t = script(|_, _, seq, _| vec![done(seq, 0)]);
    let q = Query {
        netids: NetidSet::of(&[Netid::Tcp, Netid::Udp]),
        ipv6: false,
        states: StateSet::of(&[TcpState::SynRecv, TcpState::Listen]),
        tcp_info: true,
        memory: true,
        ..Query::default()
    };
    let (r, ..) = dump_on(&mut t, &q);
    assert!(r.is_ok());
    assert_eq!(t.requests.len(), 2);
    let tcp = &t.requests[0];
    assert_eq!((tcp[16], tcp[17]), (AF_INET, IPPROTO_TCP));
    assert_eq!(tcp[18], (1 << 1) | (1 << 3) | (1 << 6));
    let states = u32::from_ne_bytes(tcp[20..24].try_into().unwrap());
    assert_eq!(states, (1 << 3) | (1 << 10) | (1 << 12));
    let udp = &t.requests[1];
    assert_eq!(udp[17], IPPROTO_UDP);
    assert_eq!(udp[18], 1 << 6, "no tcp_info for udp");
    // Sequence numbers differ per request.
    assert_ne!(tcp[8..12], udp[8..12]);
}

#[test]
fn empty_state_set_sends_nothing_for_inet() {
    let mut t = script(|_, _, seq, _| vec![done(seq, 0)]);
    let q = Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        states: StateSet::EMPTY,
        ..Query::default()
    };
    let (r, out, ..) = dump_on(&mut t, &q);
    assert!(r.is_ok() && out.is_empty());
    assert!(t.requests.is_empty());
}

#[test]
fn stale_datagrams_before_the_answer_are_ignored() {
    let mut t = script(|_, _, seq, _| {
        let mut stale = Inet::v4(1, 1, 2).msg(seq.wrapping_sub(1));
        stale.extend(done(seq.wrapping_sub(1), 0));
        let mut d = Inet::v4(1, 3, 4).msg(seq);
        d.extend(done(seq, 0));
        vec![stale, d]
    });
    let q = Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        ipv6: false,
        ..Query::default()
    };
    let (r, out, ..) = dump_on(&mut t, &q);
    assert!(r.is_ok());
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].local_port(), Some(3));
}

#[test]
fn io_error_is_not_unavailable() {
    let mut t = script(|_, _, _, _| Vec::new()); // never answers
    let (r, ..) = dump_on(&mut t, &all());
    let e = r.unwrap_err();
    assert!(matches!(e, NetlinkError::Io(_)));
    assert!(!e.is_unavailable());
}

// ---------------------------------------------------------------- no panics on any bytes

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        data in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
        seq in 0u32..3,
    ) {
        let q = Query { tcp_info: true, memory: true, ..Query::default() };
        for table in [Table::TCP4, Table::TCP6, Table::TCP_BOTH, Table::UDP4, Table::Unix] {
            let mut out = Vec::new();
            let mut skipped = 0;
            process_datagram(&data, seq, table, &q, &mut out, &mut skipped, &mut Held::default());
        }
    }

    #[test]
    fn mutated_real_messages_never_panic(
        idx in 0usize..200, val in proptest::num::u8::ANY, cut in 0usize..200,
    ) {
        let mut m = Inet::v4(1, 1, 2);
        m.attrs = attr(INET_DIAG_INFO, &tcp_info_bytes());
        m.attrs.extend(attr(INET_DIAG_CONG, b"bbr\0"));
        let mut d = m.msg(1);
        d.extend(done(1, 0));
        let i = idx % d.len();
        d[i] = val;
        d.truncate(d.len() - cut.min(d.len()));
        let q = Query { tcp_info: true, memory: true, ..Query::default() };
        let mut out = Vec::new();
        let mut skipped = 0;
        for table in [Table::TCP6, Table::TCP_BOTH, Table::Unix] {
            process_datagram(&d, 1, table, &q, &mut out, &mut skipped, &mut Held::default());
        }
    }
}

// ---------------------------------------------------------------- one walk for both families

/// Dump TCP over both families through `t`: the sockets and the warnings.
fn dump_tcp_both<T: Transport>(t: &mut T, st: &mut DumpState) -> (Vec<Socket>, Vec<String>) {
    let (mut out, mut warnings, mut skipped) = (Vec::new(), Vec::new(), 0);
    dump_with(t, st, &tcp_both(), &mut out, &mut warnings, &mut skipped).unwrap();
    (out, warnings)
}

fn tcp_both() -> Query {
    Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        ..Query::default()
    }
}

fn request_kinds<F>(t: &Script<F>) -> Vec<(u16, u8)> {
    t.requests
        .iter()
        .map(|r| (u16::from_ne_bytes([r[4], r[5]]), r[16]))
        .collect()
}

/// Answers a one-walk request with the families interleaved over two datagrams, and each
/// per-family request with its own sockets, in the same per-family order.
fn interleaving_kernel(family: u8, _: u8, seq: u32, _: bool) -> Vec<Vec<u8>> {
    let v4 = [Inet::v4(10, 80, 0), Inet::v4(1, 40000, 80)];
    let v6 = [Inet::v6(10, 443, 0), Inet::v6(1, 40001, 443)];
    match family {
        AF_UNSPEC => {
            let mut a = v6[0].compat_msg(seq);
            a.extend(v4[0].compat_msg(seq));
            let mut b = v6[1].compat_msg(seq);
            b.extend(v4[1].compat_msg(seq));
            b.extend(done(seq, 0));
            vec![a, b]
        }
        _ => {
            let list = if family == AF_INET { &v4 } else { &v6 };
            let mut d: Vec<u8> = list.iter().flat_map(|m| m.msg(seq)).collect();
            d.extend(done(seq, 0));
            vec![d]
        }
    }
}

fn ports(out: &[Socket]) -> Vec<u16> {
    out.iter().filter_map(|s| s.local_port()).collect()
}

#[test]
fn both_families_in_one_request_ipv4_first() {
    // The keep hook sees the sockets in the order they are delivered (dump streams rows
    // from it): every IPv4 socket before any IPv6 one.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let q = Query {
        keep: Some(Arc::new(move |s: &Socket| {
            sink.lock().unwrap().push(s.local_port().unwrap());
            true
        })),
        ..tcp_both()
    };
    let mut t = script(interleaving_kernel);
    let (r, out, warnings, skipped) = dump_on(&mut t, &q);
    assert!(r.is_ok());
    assert!(warnings.is_empty() && skipped == 0, "{warnings:?}");
    assert_eq!(request_kinds(&t), vec![(TCPDIAG_GETSOCK, AF_UNSPEC)]);
    assert_eq!(ports(&out), vec![80, 40000, 443, 40001]);
    assert_eq!(*seen.lock().unwrap(), vec![80, 40000, 443, 40001]);

    // The same sockets, in the same order, as two per-family requests give.
    let mut t2 = script(interleaving_kernel);
    let mut st = DumpState::new();
    st.one_walk = false;
    let (mut out2, mut w2, mut sk2) = (Vec::new(), Vec::new(), 0);
    dump_with(&mut t2, &mut st, &tcp_both(), &mut out2, &mut w2, &mut sk2).unwrap();
    assert_eq!(
        request_kinds(&t2),
        vec![
            (SOCK_DIAG_BY_FAMILY, AF_INET),
            (SOCK_DIAG_BY_FAMILY, AF_INET6)
        ]
    );
    assert_eq!(out, out2);
}

#[test]
fn one_walk_only_for_tcp_over_both_families() {
    let mut t = script(|_, _, seq, _| vec![done(seq, 0)]);
    let (r, ..) = dump_on(&mut t, &Query::default());
    assert!(r.is_ok());
    let kinds = request_kinds(&t);
    assert_eq!(kinds[0], (TCPDIAG_GETSOCK, AF_UNSPEC));
    // udp4, udp6 and unix keep their own requests.
    assert!(kinds[1..].iter().all(|k| k.0 == SOCK_DIAG_BY_FAMILY));
    assert_eq!(kinds.len(), 4);

    for (v4, v6, family) in [(true, false, AF_INET), (false, true, AF_INET6)] {
        let mut t = script(|_, _, seq, _| vec![done(seq, 0)]);
        let q = Query {
            ipv4: v4,
            ipv6: v6,
            ..tcp_both()
        };
        assert!(dump_on(&mut t, &q).0.is_ok());
        assert_eq!(request_kinds(&t), vec![(SOCK_DIAG_BY_FAMILY, family)]);
    }
}

#[test]
fn one_walk_request_carries_states_extensions_and_bytecode() {
    let mut t = script(|_, _, seq, _| vec![done(seq, 0)]);
    let q = Query {
        states: StateSet::of(&[TcpState::SynRecv, TcpState::Listen]),
        tcp_info: true,
        memory: true,
        bytecode: Some(Arc::new(vec![0, 4, 4, 0])),
        ..tcp_both()
    };
    assert!(dump_on(&mut t, &q).0.is_ok());
    let r = &t.requests[0];
    assert_eq!(r.len(), 16 + INET_DIAG_REQ_LEN + 8);
    assert_eq!(r[19], (1 << 1) | (1 << 3) | (1 << 6), "idiag_ext");
    let states = u32::from_ne_bytes(r[68..72].try_into().unwrap());
    assert_eq!(states, (1 << 3) | (1 << 10) | (1 << 12));
    assert_eq!(&r[80..84], &[0, 4, 4, 0]);
}

#[test]
fn refused_one_walk_falls_back_per_family_and_is_remembered() {
    for errno in [libc::EINVAL, libc::EOPNOTSUPP, libc::ENOENT, libc::EPERM] {
        let mut t = script(|family, proto, seq, bc| {
            if family == AF_UNSPEC {
                return vec![error(seq, errno)];
            }
            interleaving_kernel(family, proto, seq, bc)
        });
        let mut st = DumpState::new();
        let q = tcp_both();
        let (mut out, mut warnings, mut skipped) = (Vec::new(), Vec::new(), 0);
        dump_with(&mut t, &mut st, &q, &mut out, &mut warnings, &mut skipped).unwrap();
        assert_eq!(ports(&out), vec![80, 40000, 443, 40001], "errno {errno}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("tcp: the kernel refused one request for both families"),
            "{warnings:?}"
        );
        assert_eq!(
            request_kinds(&t),
            vec![
                (TCPDIAG_GETSOCK, AF_UNSPEC),
                (SOCK_DIAG_BY_FAMILY, AF_INET),
                (SOCK_DIAG_BY_FAMILY, AF_INET6)
            ]
        );

        // The next collection asks per family straight away, silently.
        t.requests.clear();
        let (mut out2, mut warnings2) = (Vec::new(), Vec::new());
        dump_with(&mut t, &mut st, &q, &mut out2, &mut warnings2, &mut skipped).unwrap();
        assert_eq!(out, out2);
        assert!(warnings2.is_empty(), "{warnings2:?}");
        assert_eq!(t.requests.len(), 2);
        assert!(request_kinds(&t).iter().all(|k| k.0 == SOCK_DIAG_BY_FAMILY));
    }
}

#[test]
fn refused_one_walk_with_rejected_bytecode_still_filters_in_userspace() {
    let mut t = script(|family, proto, seq, bc| {
        if bc {
            return vec![error(seq, libc::EINVAL)];
        }
        interleaving_kernel(family, proto, seq, bc)
    });
    let q = Query {
        bytecode: Some(Arc::new(vec![0, 4, 4, 0])),
        keep: Some(Arc::new(|s: &Socket| s.local_port() != Some(443))),
        ..tcp_both()
    };
    let (r, out, warnings, _) = dump_on(&mut t, &q);
    assert!(r.is_ok());
    assert_eq!(ports(&out), vec![80, 40000, 40001]);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings[0].starts_with("tcp: the kernel refused"));
    assert_eq!(
        warnings[1],
        "tcp/ipv4: kernel rejected the filter bytecode; filtering in userspace"
    );
    assert_eq!(
        warnings[2],
        "tcp/ipv6: kernel rejected the filter bytecode; filtering in userspace"
    );
    // compat, tcp4 with and without bytecode, tcp6 with and without.
    assert_eq!(t.requests.len(), 5);
}

#[test]
fn one_walk_refused_on_send_falls_back() {
    struct RefuseCompat<F>(Script<F>);
    impl<F: FnMut(u8, u8, u32, bool) -> Vec<Vec<u8>>> Transport for RefuseCompat<F> {
        fn send(&mut self, request: &[u8]) -> io::Result<()> {
            if u16::from_ne_bytes([request[4], request[5]]) == TCPDIAG_GETSOCK {
                return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
            }
            self.0.send(request)
        }
        fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
            self.0.recv(buf)
        }
    }
    let mut t = RefuseCompat(script(interleaving_kernel));
    let mut st = DumpState::new();
    let (out, warnings) = dump_tcp_both(&mut t, &mut st);
    assert_eq!(ports(&out), vec![80, 40000, 443, 40001]);
    assert!(!st.one_walk);
    assert_eq!(warnings.len(), 1);
}

#[test]
fn one_walk_failing_midway_is_not_a_refusal() {
    let mut t = script(|family, _, seq, _| {
        if family == AF_UNSPEC {
            let mut d = Inet::v6(1, 40001, 443).compat_msg(seq);
            d.extend(done(seq, libc::EINTR));
            return vec![d];
        }
        vec![done(seq, 0)]
    });
    let mut st = DumpState::new();
    let (out, warnings) = dump_tcp_both(&mut t, &mut st);
    assert!(
        out.is_empty(),
        "held IPv6 answers of a failed dump are dropped"
    );
    assert!(st.one_walk);
    assert_eq!(t.requests.len(), 1);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("tcp/ipv4+ipv6: the kernel cannot dump this table"));
}

#[test]
fn recording_dumps_tcp_per_family() {
    let mut t = script(interleaving_kernel);
    let mut st = DumpState::new();
    st.recording = Some(Vec::new());
    let (out, _) = dump_tcp_both(&mut t, &mut st);
    assert_eq!(t.requests.len(), 2);
    assert_eq!(ports(&out), vec![80, 40000, 443, 40001]);
    let rec = st.recording.take().unwrap();
    assert!(rec.iter().all(|r| r.0 == "tcp/ipv4" || r.0 == "tcp/ipv6"));
}

#[test]
fn one_walk_answers_are_only_accepted_on_a_one_walk_table() {
    let mut d = Inet::v4(1, 1, 2).compat_msg(1);
    d.extend(done(1, 0));
    let (p, out, skipped) = run(&d, 1, Table::TCP4, &all());
    assert_eq!(p, Progress::Done);
    assert!(out.is_empty());
    assert_eq!(skipped, 1);

    // On the one-walk table, a corrupt held IPv6 answer is counted when released.
    let mut bad = Inet::v6(99, 1, 2).compat_msg(1);
    bad.extend(Inet::v4(1, 3, 4).compat_msg(1));
    bad.extend(done(1, 0));
    let (p, out, skipped) = run(&bad, 1, Table::TCP_BOTH, &all());
    assert_eq!(p, Progress::Done);
    assert_eq!(ports(&out), vec![3]);
    assert_eq!(skipped, 1);
}

#[test]
fn replay_of_a_one_walk_answer_holds_ipv6_across_datagrams() {
    let datagrams = interleaving_kernel(AF_UNSPEC, IPPROTO_TCP, 7, false);
    let refs: Vec<&[u8]> = datagrams.iter().map(|d| d.as_slice()).collect();
    let table = fixture::table_by_name("tcp/ipv4+ipv6").unwrap();
    let (mut out, mut skipped) = (Vec::new(), 0);
    let r = fixture::replay(table, 7, &refs, &all(), &mut out, &mut skipped);
    assert_eq!(r, Ok(true));
    assert_eq!(ports(&out), vec![80, 40000, 443, 40001]);
}

#[test]
fn described_requests_follow_the_plan() {
    assert_eq!(
        describe_requests(&Query::default()),
        vec![
            "tcp/ipv4+ipv6: one TCPDIAG_GETSOCK dump, one kernel walk for both families \
             (per family if the kernel refuses it)",
            "udp/ipv4: one SOCK_DIAG_BY_FAMILY dump",
            "udp/ipv6: one SOCK_DIAG_BY_FAMILY dump",
            "unix: one SOCK_DIAG_BY_FAMILY dump",
        ]
    );
    let q = Query {
        ipv4: false,
        ..tcp_both()
    };
    assert_eq!(
        describe_requests(&q),
        vec!["tcp/ipv6: one SOCK_DIAG_BY_FAMILY dump"]
    );
}
