//! Whole dumps on a scripted kernel, and no panics on any bytes.

use super::decode::tcp_info_bytes;
use super::*;

// ---------------------------------------------------------------- whole dumps on a script

/// A fake kernel: answers each request with datagrams built by `answer(family, protocol, seq,
/// has_bytecode)`, and records the requests. A one-walk TCP request (TCPDIAG_GETSOCK) comes
/// as family AF_UNSPEC.
pub(super) struct Script<F> {
    pub(super) answer: F,
    pub(super) queue: VecDeque<Vec<u8>>,
    pub(super) requests: Vec<Vec<u8>>,
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

pub(super) fn script<F: FnMut(u8, u8, u32, bool) -> Vec<Vec<u8>>>(answer: F) -> Script<F> {
    Script {
        answer,
        queue: VecDeque::new(),
        requests: Vec::new(),
    }
}

pub(super) fn dump_on<F: FnMut(u8, u8, u32, bool) -> Vec<Vec<u8>>>(
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
    assert_eq!(tcp[18], (1 << 1) | (1 << 2) | (1 << 3) | (1 << 6));
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
