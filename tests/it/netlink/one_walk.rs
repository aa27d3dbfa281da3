//! TCP over both families in one kernel walk (the legacy TCPDIAG_GETSOCK request) against
//! the live kernel: it must select exactly what one request per family selects, IPv4 first.
//! Each test looks only at sockets it creates on 127.0.0.1 / ::1 with ephemeral ports.

use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockeye::collect::netlink::NetlinkSource;
use sockeye::collect::{NetidSet, Query};
use sockeye::filter::Filter;
use sockeye::model::{Endpoint, Netid, Socket, StateSet, TcpState};

/// A listener with one accepted connection, and a second connection closed actively so that
/// it lingers in TIME-WAIT (on the client side).
struct Pair {
    _listener: TcpListener,
    _client: TcpStream,
    _server: TcpStream,
    port: u16,
}

fn pair(ip: &str) -> Pair {
    let listener = TcpListener::bind((ip, 0)).expect("bind loopback");
    let port = listener.local_addr().unwrap().port();
    let client = TcpStream::connect((ip, port)).unwrap();
    let (server, _) = listener.accept().unwrap();
    // One more connection, closed by the client first: TIME-WAIT.
    let c = TcpStream::connect((ip, port)).unwrap();
    let (s, _) = listener.accept().unwrap();
    c.shutdown(Shutdown::Both).unwrap();
    drop(c);
    drop(s);
    Pair {
        _listener: listener,
        _client: client,
        _server: server,
        port,
    }
}

type Key = (bool, TcpState, IpAddr, u16, IpAddr, u16, u64);

fn key(s: &Socket) -> Key {
    let (Endpoint::Inet { addr: la, port: lp }, Endpoint::Inet { addr: pa, port: pp }) =
        (&s.local, &s.peer)
    else {
        panic!("not inet: {s:?}");
    };
    (la.is_ipv6(), s.state, *la, *lp, *pa, *pp, s.inode)
}

/// Dump with both families in one walk or per family; only sockets on `ports` are kept.
fn dump(one_walk: bool, mut q: Query, ports: &[u16]) -> Vec<Key> {
    let ports = ports.to_vec();
    let filter = q.keep.take();
    q.keep = Some(Arc::new(move |s: &Socket| {
        let mine = [s.local_port(), s.peer_port()]
            .iter()
            .any(|p| p.is_some_and(|p| ports.contains(&p)));
        mine && filter.as_ref().is_none_or(|f| f(s))
    }));
    let mut src = NetlinkSource::open().expect("netlink sock_diag socket");
    src.set_one_walk(one_walk);
    let (mut out, mut warnings, mut skipped) = (Vec::new(), Vec::new(), 0);
    src.dump(&q, &mut out, &mut warnings, &mut skipped)
        .expect("dump");
    assert_eq!(skipped, 0, "undecodable messages: {warnings:?}");
    if one_walk {
        assert!(
            src.one_walk(),
            "this kernel refused the one-walk request: {warnings:?}"
        );
    }
    assert!(warnings.is_empty(), "{warnings:?}");
    out.iter().map(key).collect()
}

fn tcp(states: StateSet) -> Query {
    Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        states,
        ..Query::default()
    }
}

/// The two ways agree; retried briefly, since a connection may still be settling.
fn assert_same(q: &Query, ports: &[u16], expect_at_least: usize) -> Vec<Key> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let one = dump(true, q.clone(), ports);
        let two = dump(false, q.clone(), ports);
        if one == two && one.len() >= expect_at_least {
            let first_v6 = one.iter().position(|k| k.0).unwrap_or(one.len());
            assert!(
                one[first_v6..].iter().all(|k| k.0),
                "IPv4 sockets after IPv6 ones: {one:?}"
            );
            return one;
        }
        assert!(
            Instant::now() < deadline,
            "one walk {one:#?}\nper family {two:#?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn one_walk_selects_what_two_requests_select() {
    let v4 = pair("127.0.0.1");
    let v6 = pair("::1");
    let ports = [v4.port, v6.port];
    // Per family: listener, two ends of the open connection, the TIME-WAIT client (its
    // server side may be gone or in FIN-WAIT/LAST-ACK, both are fine).
    let all = assert_same(&tcp(StateSet::ALL), &ports, 8);
    assert!(all.iter().any(|k| !k.0 && k.1 == TcpState::TimeWait));
    assert!(all.iter().any(|k| k.0 && k.1 == TcpState::TimeWait));
    assert!(all.iter().any(|k| k.0 && k.1 == TcpState::Listen));

    // States mask alone.
    let tw = assert_same(&tcp(StateSet::of(&[TcpState::TimeWait])), &ports, 2);
    assert!(tw.iter().all(|k| k.1 == TcpState::TimeWait));
}

#[test]
fn one_walk_with_filter_bytecode() {
    let v4 = pair("127.0.0.1");
    let v6 = pair("::1");
    let ports = [v4.port, v6.port];
    // Ports, and addresses of both families: the kernel checks the family per socket.
    for expr in [
        format!("dport = :{} or dport = :{}", v4.port, v6.port),
        format!("sport = :{} or sport = :{}", v4.port, v6.port),
        format!("src [::1] and sport = :{}", v6.port),
        format!("dst 127.0.0.1 and dport = :{}", v4.port),
        format!("not sport = :{}", v4.port),
    ] {
        let words: Vec<String> = expr.split(' ').map(String::from).collect();
        let f = Filter::parse(&words).expect("filter parses");
        let bytecode = f.bytecode().expect("compiles to bytecode");
        let q = Query {
            bytecode: Some(Arc::new(bytecode)),
            keep: f.predicate(),
            ..tcp(StateSet::ALL)
        };
        let got = assert_same(&q, &ports, 1);
        assert!(!got.is_empty(), "{expr}: nothing selected");
    }
}

#[test]
fn explain_names_the_requests() {
    let run = |args: &[&str]| {
        let o = assert_cmd::Command::cargo_bin("sockeye")
            .unwrap()
            .args(["dump", "--explain"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        String::from_utf8(o.stdout).unwrap()
    };
    let both = run(&["-tan", "dport", "=", ":22"]);
    assert!(
        both.contains("requests:   tcp/ipv4+ipv6: one TCPDIAG_GETSOCK dump, one kernel walk"),
        "{both}"
    );
    let v4 = run(&["-tuan4"]);
    assert!(
        v4.contains("requests:   tcp/ipv4: one SOCK_DIAG_BY_FAMILY dump\n            udp/ipv4: one SOCK_DIAG_BY_FAMILY dump"),
        "{v4}"
    );
}
