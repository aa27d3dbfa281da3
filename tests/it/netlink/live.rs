//! The netlink source against the live kernel, on sockets these tests create on loopback.
//! Each test looks only at its own sockets (matched by port or inode).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockeye::collect::netlink::NetlinkSource;
use sockeye::collect::{NetidSet, Query};
use sockeye::model::{Endpoint, Netid, Socket, StateSet, TcpState, TimerKind};

fn query(netids: &[Netid]) -> Query {
    Query {
        netids: NetidSet::of(netids),
        ..Query::default()
    }
}

fn dump(q: &Query) -> (Vec<Socket>, Vec<String>) {
    let mut src = NetlinkSource::open().expect("netlink sock_diag socket");
    let (mut out, mut warnings, mut skipped) = (Vec::new(), Vec::new(), 0);
    src.dump(q, &mut out, &mut warnings, &mut skipped)
        .expect("dump");
    assert_eq!(skipped, 0, "undecodable messages from the live kernel");
    (out, warnings)
}

/// Dump until `pick` finds a socket (the kernel moves sockets between states asynchronously),
/// for at most two seconds.
fn wait_for(q: &Query, pick: impl Fn(&Socket) -> bool) -> Socket {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let (out, _) = dump(q);
        if let Some(s) = out.into_iter().find(|s| pick(s)) {
            return s;
        }
        assert!(Instant::now() < deadline, "socket never showed up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn inode(fd: RawFd) -> u64 {
    // SAFETY: fstat on an fd we own into a zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::fstat(fd, &mut st) };
    assert_eq!(rc, 0, "fstat");
    st.st_ino
}

fn relisten(fd: RawFd, backlog: i32) {
    // listen() on a listening socket just changes its backlog.
    // SAFETY: plain syscall on an fd we own.
    assert_eq!(unsafe { libc::listen(fd, backlog) }, 0);
}

fn local(s: &Socket) -> (IpAddr, u16) {
    match &s.local {
        Endpoint::Inet { addr, port } => (*addr, *port),
        other => panic!("not inet: {other:?}"),
    }
}

fn peer(s: &Socket) -> (IpAddr, u16) {
    match &s.peer {
        Endpoint::Inet { addr, port } => (*addr, *port),
        other => panic!("not inet: {other:?}"),
    }
}

#[test]
fn listener_accept_queue_and_limit() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    relisten(l.as_raw_fd(), 1);
    let port = l.local_addr().unwrap().port();
    let _c1 = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _c2 = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let q = query(&[Netid::Tcp]);
    let s = wait_for(&q, |s| {
        s.state == TcpState::Listen && s.local_port() == Some(port) && s.recv_q == Some(2)
    });
    assert_eq!(s.send_q, Some(1));
    assert_eq!(s.inode, inode(l.as_raw_fd()));
    // SAFETY: getuid cannot fail.
    assert_eq!(s.uid, Some(unsafe { libc::getuid() }));
    assert!(s.cookie.is_some());
    assert_eq!(s.ifindex, None);
    assert_eq!(s.v6only, None);
    assert_eq!(s.timer.map(|t| t.kind), Some(TimerKind::Off));
    assert_eq!(
        peer(&s),
        (IpAddr::from([0, 0, 0, 0]), 0),
        "a listener has no peer"
    );

    // The two un-accepted connections: ESTAB with inode 0 on the server side.
    let (out, _) = dump(&q);
    let pending: Vec<_> = out
        .iter()
        .filter(|s| s.state == TcpState::Established && s.local_port() == Some(port))
        .collect();
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|s| s.inode == 0));
}

#[test]
fn established_with_unread_bytes_and_tcp_info() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (server, _) = l.accept().unwrap();
    c.write_all(b"12345678").unwrap();
    let cport = c.local_addr().unwrap().port();
    let q = Query {
        tcp_info: true,
        memory: true,
        ..query(&[Netid::Tcp])
    };
    let s = wait_for(&q, |s| {
        s.local_port() == Some(port) && s.peer_port() == Some(cport) && s.recv_q == Some(8)
    });
    assert_eq!(s.state, TcpState::Established);
    assert_eq!(s.send_q, Some(0));
    assert_eq!(s.inode, inode(server.as_raw_fd()));
    assert_eq!(local(&s).0, IpAddr::from([127, 0, 0, 1]));
    let info = s.tcp_info.as_deref().expect("tcp_info asked for");
    assert!(info.rtt_us > 0);
    assert!(info.snd_mss > 0 && info.snd_cwnd > 0);
    assert_eq!(info.bytes_received, 8);
    assert!(info.congestion.as_deref().is_some_and(|c| !c.is_empty()));
    let mem = s.memory.as_deref().copied().expect("memory asked for");
    assert!(mem.rmem_alloc > 0 && mem.rcvbuf > 0);

    // The client end: bytes sent and acknowledged.
    let cs = wait_for(&q, |s| {
        s.local_port() == Some(cport) && s.peer_port() == Some(port)
    });
    let ci = cs.tcp_info.as_deref().unwrap();
    assert_eq!(ci.bytes_acked, 9, "8 bytes + SYN");
    assert_eq!(cs.inode, inode(c.as_raw_fd()));
}

#[test]
fn time_wait_has_a_timer_and_no_owner() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let cport = c.local_addr().unwrap().port();
    let (server, _) = l.accept().unwrap();
    drop(c); // the client closes first: it ends in TIME-WAIT
    assert!(
        crate::common::wait_until(Duration::from_secs(3), || {
            crate::common::tcp_state_of(cport)
                .iter()
                .any(|s| s == "FIN-WAIT-2")
        }),
        "client never reached FIN-WAIT-2"
    );
    drop(server);
    let q = Query {
        states: StateSet::of(&[TcpState::TimeWait]),
        ..query(&[Netid::Tcp])
    };
    let s = wait_for(&q, |s| {
        s.local_port() == Some(cport) && s.peer_port() == Some(port)
    });
    assert_eq!(s.state, TcpState::TimeWait);
    assert_eq!((s.inode, s.uid), (0, Some(0)));
    let t = s.timer.expect("time-wait timer");
    assert_eq!(t.kind, TimerKind::TimeWait);
    assert!(t.expires_ms > 0 && t.expires_ms <= 60_000, "{t:?}");
    assert!(s.tcp_info.is_none());
}

#[test]
fn udp_bound_and_connected() {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (pa, pb) = (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    );
    b.connect(("127.0.0.1", pa)).unwrap();
    let (out, _) = dump(&query(&[Netid::Udp]));
    let sa = out.iter().find(|s| s.local_port() == Some(pa)).unwrap();
    assert_eq!((sa.netid, sa.state), (Netid::Udp, TcpState::Close));
    assert_eq!(sa.recv_q, Some(0));
    assert_eq!(sa.inode, inode(a.as_raw_fd()));
    assert_eq!(sa.timer, None);
    let sb = out.iter().find(|s| s.local_port() == Some(pb)).unwrap();
    assert_eq!(sb.state, TcpState::Established);
    assert_eq!(peer(sb), (IpAddr::from([127, 0, 0, 1]), pa));

    // A states mask without UNCONN leaves the bound one out (kernel-side).
    let (out, _) = dump(&Query {
        states: StateSet::of(&[TcpState::Established]),
        ..query(&[Netid::Udp])
    });
    assert!(out.iter().all(|s| s.state == TcpState::Established));
    assert!(out.iter().any(|s| s.local_port() == Some(pb)));
}

/// An IPv6 TCP listener on `addr` with IPV6_V6ONLY set as asked. (The kernel forces v6only
/// on a socket bound to a plain IPv6 address such as ::1; a v4-mapped loopback address keeps
/// it off without listening on any other interface.)
fn v6_listener(addr: Ipv6Addr, v6only: bool) -> Option<(OwnedFd, u16)> {
    // SAFETY: raw socket calls on an fd this function owns; sockaddr_in6 zeroed then filled.
    unsafe {
        let fd = libc::socket(libc::AF_INET6, libc::SOCK_STREAM, 0);
        if fd < 0 {
            return None;
        }
        let fd = OwnedFd::from_raw_fd(fd);
        let on: libc::c_int = v6only.into();
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
        sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sa.sin6_addr.s6_addr = addr.octets();
        let len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        if libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_in6).cast(),
            len,
        ) != 0
        {
            return None;
        }
        if libc::listen(fd.as_raw_fd(), 4) != 0 {
            return None;
        }
        let mut got: libc::sockaddr_in6 = std::mem::zeroed();
        let mut glen = len;
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut got as *mut libc::sockaddr_in6).cast(),
            &mut glen,
        );
        Some((fd, u16::from_be(got.sin6_port)))
    }
}

#[test]
fn ipv6_listeners_report_v6only() {
    let mapped = Ipv4Addr::LOCALHOST.to_ipv6_mapped();
    let (Some((only, p_only)), Some((dual, p_dual))) = (
        v6_listener(Ipv6Addr::LOCALHOST, true),
        v6_listener(mapped, false),
    ) else {
        crate::common::require(false, "no IPv6 loopback here");
        return;
    };
    let q = Query {
        ipv4: false,
        ..query(&[Netid::Tcp])
    };
    let (out, _) = dump(&q);
    assert!(out.iter().all(|s| matches!(local(s).0, IpAddr::V6(_))));
    let a = out.iter().find(|s| s.local_port() == Some(p_only)).unwrap();
    assert_eq!(a.state, TcpState::Listen);
    assert_eq!(local(a).0, IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert_eq!(a.v6only, Some(true));
    assert_eq!(a.inode, inode(only.as_raw_fd()));
    let b = out.iter().find(|s| s.local_port() == Some(p_dual)).unwrap();
    assert_eq!(local(b).0, IpAddr::V6(mapped));
    assert_eq!(b.v6only, Some(false));
    assert_eq!(b.inode, inode(dual.as_raw_fd()));

    // An established v6 pair.
    let c = TcpStream::connect(SocketAddr::from((Ipv6Addr::LOCALHOST, p_only))).unwrap();
    let cport = c.local_addr().unwrap().port();
    let s = wait_for(&q, |s| s.local_port() == Some(cport));
    assert_eq!(s.state, TcpState::Established);
    assert_eq!(peer(&s), (IpAddr::V6(Ipv6Addr::LOCALHOST), p_only));

    // An IPv4 client of the dual-stack listener shows as a v4-mapped peer on the server side.
    let c4 = TcpStream::connect(("127.0.0.1", p_dual)).unwrap();
    let c4port = c4.local_addr().unwrap().port();
    let srv = wait_for(&q, |s| {
        s.local_port() == Some(p_dual) && s.peer_port() == Some(c4port)
    });
    assert_eq!(peer(&srv).0, IpAddr::V6(mapped));
    assert_eq!(
        s.v6only, None,
        "the kernel reports v6only for LISTEN/CLOSE only"
    );
}

#[test]
fn unix_listener_connections_and_datagrams() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sockeye-live.sock");
    let l = UnixListener::bind(&path).unwrap();
    relisten(l.as_raw_fd(), 5);
    let client2 = UnixStream::connect(&path).unwrap();
    let (mut accepted, _) = l.accept().unwrap();
    accepted.write_all(b"xyz").unwrap();
    let client = UnixStream::connect(&path).unwrap(); // never accepted
    let abs_name = format!("sockeye-live-{}", std::process::id());
    let abs_addr = std::os::unix::net::SocketAddr::from_abstract_name(&abs_name).unwrap();
    let abs = UnixListener::bind_addr(&abs_addr).unwrap();
    let lonely = UnixDatagram::unbound().unwrap();
    let (d1, d2) = UnixDatagram::pair().unwrap();
    d1.send(b"abcd").unwrap();

    let (out, _) = dump(&query(&[Netid::UnixStream, Netid::UnixDgram]));
    let by_inode = |fd: RawFd| {
        let ino = inode(fd);
        out.iter()
            .find(|s| s.inode == ino)
            .unwrap_or_else(|| panic!("inode {ino} not in the dump"))
    };

    let ls = by_inode(l.as_raw_fd());
    assert_eq!((ls.netid, ls.state), (Netid::UnixStream, TcpState::Listen));
    assert_eq!((ls.recv_q, ls.send_q), (Some(1), Some(5)));
    assert_eq!(
        ls.local,
        Endpoint::Unix {
            path: Some(path.to_str().unwrap().into()),
            inode: ls.inode
        }
    );
    // SAFETY: getuid cannot fail.
    assert_eq!(ls.uid, Some(unsafe { libc::getuid() }));

    let a = by_inode(abs.as_raw_fd());
    assert_eq!(
        a.local,
        Endpoint::Unix {
            path: Some(format!("@{abs_name}").into()),
            inode: a.inode
        }
    );

    let c = by_inode(client.as_raw_fd());
    assert_eq!(c.state, TcpState::Established);
    // The client's peer is the embryo queued on the listener: no inode yet (ss: `* 0`).
    assert_eq!(
        c.peer,
        Endpoint::Unix {
            path: None,
            inode: 0
        }
    );
    // An accepted connection: both ends name each other.
    let (acc, ac) = (
        by_inode(accepted.as_raw_fd()),
        by_inode(client2.as_raw_fd()),
    );
    assert_eq!(
        acc.peer,
        Endpoint::Unix {
            path: None,
            inode: ac.inode
        }
    );
    assert_eq!(
        ac.peer,
        Endpoint::Unix {
            path: None,
            inode: acc.inode
        }
    );
    assert_eq!(
        acc.local,
        Endpoint::Unix {
            path: Some(path.to_str().unwrap().into()),
            inode: acc.inode
        }
    );
    assert_eq!((ac.recv_q, ac.send_q), (Some(3), Some(0)), "3 unread bytes");

    let u = by_inode(lonely.as_raw_fd());
    assert_eq!((u.netid, u.state), (Netid::UnixDgram, TcpState::Close));
    assert_eq!(
        u.local,
        Endpoint::Unix {
            path: None,
            inode: u.inode
        }
    );

    let (s1, s2) = (by_inode(d1.as_raw_fd()), by_inode(d2.as_raw_fd()));
    assert_eq!(s1.state, TcpState::Established);
    assert_eq!(
        s1.peer,
        Endpoint::Unix {
            path: None,
            inode: s2.inode
        }
    );
    assert_eq!(
        s2.peer,
        Endpoint::Unix {
            path: None,
            inode: s1.inode
        }
    );
    assert!(s2.recv_q.is_some_and(|q| q > 0), "a datagram is waiting");

    // Seqpacket was not asked for, and no inet socket leaks in.
    assert!(out.iter().all(|s| s.netid.is_unix()));
}

#[test]
fn unix_states_filtered_in_userspace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sock");
    let l = UnixListener::bind(&path).unwrap();
    let lonely = UnixDatagram::unbound().unwrap();
    let q = Query {
        states: StateSet::of(&[TcpState::Close]),
        ..query(&[Netid::UnixStream, Netid::UnixDgram])
    };
    let (out, _) = dump(&q);
    assert!(out.iter().all(|s| s.state == TcpState::Close));
    let (li, ui) = (inode(l.as_raw_fd()), inode(lonely.as_raw_fd()));
    assert!(out.iter().any(|s| s.inode == ui));
    assert!(!out.iter().any(|s| s.inode == li));
}

/// inet_diag bytecode: `sport >= port && sport <= port`. Port operands are host order, in the
/// `no` field of the op following the comparison.
fn sport_is(port: u16) -> Vec<u8> {
    let op = |code: u8, yes: u8, no: u16| {
        let mut v = vec![code, yes];
        v.extend_from_slice(&no.to_ne_bytes());
        v
    };
    const S_GE: u8 = 2;
    const S_LE: u8 = 3;
    let mut bc = Vec::new();
    bc.extend(op(S_GE, 8, 20)); // false: jump past the end (+4) = reject
    bc.extend(op(0, 0, port));
    bc.extend(op(S_LE, 8, 12));
    bc.extend(op(0, 0, port));
    bc
}

#[test]
fn bytecode_is_evaluated_by_the_kernel() {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    let pa = a.local_addr().unwrap().port();
    let pb = b.local_addr().unwrap().port();
    let q = Query {
        ipv6: false,
        states: StateSet::of(&[TcpState::Listen]),
        bytecode: Some(Arc::new(sport_is(pa))),
        ..query(&[Netid::Tcp])
    };
    let (out, warnings) = dump(&q);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(out.iter().any(|s| s.local_port() == Some(pa)));
    // No userspace filter here: only the kernel could have dropped the others.
    assert!(out.iter().all(|s| s.local_port() == Some(pa)), "{out:?}");
    drop(b);
    let _ = pb;
}

#[test]
fn invalid_bytecode_falls_back_with_a_warning() {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    let pa = a.local_addr().unwrap().port();
    let pb = b.local_addr().unwrap().port();
    let q = Query {
        ipv6: false,
        states: StateSet::of(&[TcpState::Listen]),
        bytecode: Some(Arc::new(vec![0xff, 4, 8, 0])),
        keep: Some(Arc::new(move |s: &Socket| s.local_port() != Some(pb))),
        ..query(&[Netid::Tcp])
    };
    let (out, warnings) = dump(&q);
    assert_eq!(
        warnings,
        vec!["tcp/ipv4: kernel rejected the filter bytecode; filtering in userspace"]
    );
    assert!(out.iter().any(|s| s.local_port() == Some(pa)));
    assert!(
        !out.iter().any(|s| s.local_port() == Some(pb)),
        "keep applied"
    );
}

#[test]
fn source_is_reusable_between_dumps() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut src = NetlinkSource::open().unwrap();
    let q = query(&[Netid::Tcp, Netid::UnixStream]);
    for _ in 0..3 {
        let (mut out, mut w, mut sk) = (Vec::new(), Vec::new(), 0);
        src.dump(&q, &mut out, &mut w, &mut sk).unwrap();
        assert_eq!(sk, 0);
        assert_eq!(
            out.iter().filter(|s| s.local_port() == Some(port)).count(),
            1
        );
    }
}
