//! TCP over both families in one walk.

use super::dump::{Script, dump_on, script};
use super::*;

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
    let (r, ..) = dump_on(&mut t, &all());
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
    // INFO, VEGASINFO (the congestion module's own report), CONG, SKMEMINFO.
    assert_eq!(
        r[19],
        (1 << 1) | (1 << 2) | (1 << 3) | (1 << 6),
        "idiag_ext"
    );
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
        describe_requests(&all()),
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
