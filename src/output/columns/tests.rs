use super::*;
use crate::model::{Endpoint, Netid, ProcessRef, TcpState, Timer, TimerKind};
use crate::output::services::Services;

pub(crate) fn inet(netid: Netid, state: TcpState, local: &str, peer: &str) -> Socket {
    let split = |s: &str| -> (IpAddr, u16) {
        let sa: std::net::SocketAddr = s.parse().expect("socket address");
        (sa.ip(), sa.port())
    };
    let (la, lp) = split(local);
    let (pa, pp) = split(peer);
    Socket {
        netid,
        state,
        recv_q: Some(0),
        send_q: Some(0),
        local: Endpoint::Inet { addr: la, port: lp },
        peer: Endpoint::Inet { addr: pa, port: pp },
        inode: 1234,
        uid: Some(1000),
        cookie: Some(0x2a),
        ifindex: None,
        v6only: None,
        timer: None,
        tcp_info: None,
        memory: None,
        details: None,
        processes: Default::default(),
        netns: None,
    }
}

fn cell(col: Column, s: &Socket, ctx: &CellCtx) -> String {
    let mut out = String::new();
    col.write(s, ctx, &mut out);
    out
}

fn services() -> Services {
    Services::parse(
        "ssh 22/tcp\nhttp 80/tcp\ndomain 53/udp\n",
        Some((32768, 60999)),
    )
}

#[test]
fn inet_addresses_like_ss() {
    let ctx = CellCtx::new(true, Source::Netlink);
    let s = inet(Netid::Tcp, TcpState::Listen, "127.0.0.1:22", "0.0.0.0:0");
    assert_eq!(cell(Column::Local, &s, &ctx), "127.0.0.1:22");
    assert_eq!(cell(Column::Peer, &s, &ctx), "0.0.0.0:*");
    assert_eq!(cell(Column::LocalAddr, &s, &ctx), "127.0.0.1:");
    assert_eq!(cell(Column::LocalPort, &s, &ctx), "22");

    let mut s6 = inet(Netid::Tcp, TcpState::Listen, "[::]:22", "[::]:0");
    assert_eq!(cell(Column::Local, &s6, &ctx), "*:22");
    assert_eq!(cell(Column::Peer, &s6, &ctx), "*:*");
    s6.v6only = Some(true);
    assert_eq!(cell(Column::Local, &s6, &ctx), "[::]:22");
    assert_eq!(cell(Column::Peer, &s6, &ctx), "[::]:*");

    let m = inet(
        Netid::Tcp,
        TcpState::Established,
        "[::ffff:127.0.0.1]:8080",
        "[::1]:40000",
    );
    assert_eq!(cell(Column::Local, &m, &ctx), "[::ffff:127.0.0.1]:8080");
    assert_eq!(cell(Column::Peer, &m, &ctx), "[::1]:40000");
}

#[test]
fn interface_suffix_on_local_only() {
    let ctx = CellCtx::new(true, Source::Netlink);
    let mut s = inet(Netid::Udp, TcpState::Close, "10.0.0.1:68", "0.0.0.0:0");
    s.ifindex = Some(1);
    let local = cell(Column::Local, &s, &ctx);
    assert!(local.starts_with("10.0.0.1%"), "{local}");
    assert!(local.ends_with(":68"), "{local}");
    assert_eq!(cell(Column::Peer, &s, &ctx), "0.0.0.0:*");
}

#[test]
fn service_names_unless_numeric() {
    let named = CellCtx::new(false, Source::Netlink).with_services(services());
    let s = inet(
        Netid::Tcp,
        TcpState::Established,
        "10.0.0.1:22",
        "10.0.0.2:80",
    );
    assert_eq!(cell(Column::Local, &s, &named), "10.0.0.1:ssh");
    assert_eq!(cell(Column::Peer, &s, &named), "10.0.0.2:http");
    let u = inet(Netid::Udp, TcpState::Close, "10.0.0.1:53", "0.0.0.0:0");
    assert_eq!(cell(Column::Local, &u, &named), "10.0.0.1:domain");
    let numeric = CellCtx::new(true, Source::Netlink).with_services(services());
    assert_eq!(cell(Column::Local, &s, &numeric), "10.0.0.1:22");
}

#[test]
fn unix_endpoints() {
    let mut s = inet(
        Netid::UnixStream,
        TcpState::Established,
        "1.1.1.1:1",
        "1.1.1.1:1",
    );
    s.local = Endpoint::Unix {
        path: Some("/run/x.sock".into()),
        inode: 0,
    };
    s.peer = Endpoint::Unix {
        path: None,
        inode: 4321,
    };
    s.inode = 1234;
    let nl = CellCtx::new(true, Source::Netlink);
    assert_eq!(cell(Column::Local, &s, &nl), "/run/x.sock 1234");
    assert_eq!(cell(Column::Peer, &s, &nl), "* 4321");
    assert_eq!(cell(Column::LocalAddr, &s, &nl), "/run/x.sock ");
    let proc_ctx = CellCtx::new(true, Source::Proc);
    assert_eq!(cell(Column::Peer, &s, &proc_ctx), "* -");
    s.local = Endpoint::Unix {
        path: None,
        inode: 0,
    };
    assert_eq!(cell(Column::Local, &s, &nl), "* 1234");
}

#[test]
fn unknowns_are_dashes_and_extras() {
    let ctx = CellCtx::new(true, Source::Proc);
    let mut s = inet(Netid::Tcp, TcpState::Listen, "0.0.0.0:22", "0.0.0.0:0");
    s.send_q = None;
    s.uid = None;
    s.cookie = None;
    assert_eq!(cell(Column::SendQ, &s, &ctx), "-");
    assert_eq!(cell(Column::RecvQ, &s, &ctx), "0");
    assert_eq!(cell(Column::Uid, &s, &ctx), "-");
    assert_eq!(cell(Column::Cookie, &s, &ctx), "-");
    assert_eq!(cell(Column::Process, &s, &ctx), "");
    s.processes = vec![ProcessRef {
        command: "sshd".into(),
        pid: 1,
        fd: 3,
        nspid: None,
        proc_ctx: None,
        sock_ctx: None,
    }]
    .into();
    assert_eq!(
        cell(Column::Process, &s, &ctx),
        r#"users:(("sshd",pid=1,fd=3))"#
    );
    s.timer = Some(Timer {
        kind: TimerKind::Keepalive,
        expires_ms: 7_140_000,
        retrans: 0,
    });
    assert_eq!(cell(Column::Timer, &s, &ctx), "timer:(keepalive,119min,0)");
}

#[test]
fn packed_keys_order_like_the_keys() {
    let keys = [
        SortKey::Int(0),
        SortKey::Int(u64::MAX),
        SortKey::Inet {
            family: 4,
            addr: 0x7f00_0001,
            port: 1,
        },
        SortKey::Inet {
            family: 4,
            addr: 0x7f00_0001,
            port: 65535,
        },
        SortKey::Inet {
            family: 4,
            addr: 0x7f00_0002,
            port: 0,
        },
        SortKey::Inet {
            family: 6,
            addr: 1,
            port: 80,
        },
        SortKey::Inet {
            family: 6,
            addr: u128::MAX - 1,
            port: 65535,
        },
        SortKey::Inet {
            family: 6,
            addr: u128::MAX,
            port: 0,
        },
        SortKey::Inet {
            family: 6,
            addr: u128::MAX,
            port: 1,
        },
        SortKey::Unknown,
    ];
    for a in &keys {
        for b in &keys {
            assert_eq!(a.cmp(b), a.packed().cmp(&b.packed()), "{a:?} vs {b:?}");
        }
    }
    assert_eq!(SortKey::Process("x", 1).packed(), None);
}

#[test]
fn sort_keys_are_typed_and_unknown_last() {
    let mut a = inet(Netid::Tcp, TcpState::Established, "10.0.0.2:1", "0.0.0.0:0");
    let b = inet(Netid::Tcp, TcpState::Listen, "10.0.0.10:1", "0.0.0.0:0");
    // Numeric, not lexical, address order.
    assert!(Column::Local.sort_key(&a) < Column::Local.sort_key(&b));
    a.recv_q = None;
    assert!(Column::RecvQ.sort_key(&b) < Column::RecvQ.sort_key(&a));
    // Lifecycle order: LISTEN first.
    assert!(Column::State.sort_key(&b) < Column::State.sort_key(&a));
    for col in Column::SS_TABLE {
        assert!(!col.header().is_empty());
    }
    assert_eq!(Column::LocalAddr.align(), Align::Right);
    assert_eq!(Column::Local.align(), Align::Left);
}

#[test]
fn the_registry_lists_every_column_once_in_declaration_order() {
    for (i, c) in Column::ALL.iter().enumerate() {
        assert_eq!(*c as usize, i, "{c:?} out of place in Column::ALL");
        assert_eq!(Column::parse(c.spec().name), Some(*c));
        assert_eq!(Column::parse(&c.spec().name.to_uppercase()), Some(*c));
        assert!(!c.header().is_empty() && !c.title().is_empty());
    }
    assert_eq!(Column::ALL.len(), Column::DstPortId as usize + 1);
    // Every column with a JSON key is in the schema order, once; no other is.
    for c in Column::ALL {
        let listed = Column::JSON.iter().filter(|j| **j == c).count();
        assert_eq!(listed, usize::from(c.spec().json.is_some()), "{c:?}");
    }
    assert_eq!(Column::parse("nope"), None);
}

#[test]
fn column_lists_from_the_config_are_checked() {
    let list = |names: &[&str]| {
        ColumnList::try_from(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
    };
    assert_eq!(
        list(&["netid", "Local", " recv-q "]),
        Ok(ColumnList(vec![
            Column::Netid,
            Column::Local,
            Column::RecvQ
        ]))
    );
    let e = list(&["netid", "bogus\x1b"]).unwrap_err();
    assert!(e.contains("'bogus\\x1b' is not a column"), "{e}");
    assert!(e.contains("local, peer, recv-q"), "{e}");
    assert!(list(&["peer", "peer"]).unwrap_err().contains("twice"));
    assert!(list(&[]).is_err());
    let names: Vec<String> = ColumnList(Column::COMPACT.to_vec()).into();
    assert_eq!(
        names,
        [
            "netid", "state", "recv-q", "send-q", "local", "peer", "process"
        ]
    );
}

fn hostile_unix() -> Socket {
    let mut s = inet(
        Netid::UnixStream,
        TcpState::Listen,
        "1.1.1.1:1",
        "1.1.1.1:1",
    );
    s.local = Endpoint::Unix {
        path: Some("/tmp/a\nb\x1b]0;x\x07\u{9b}2J\\.sock".into()),
        inode: 0,
    };
    s.peer = Endpoint::Unix {
        path: None,
        inode: 0,
    };
    s.processes = vec![ProcessRef {
        command: "ev\x1b[2Jil\n".into(),
        pid: 7,
        fd: 3,
        nspid: None,
        proc_ctx: None,
        sock_ctx: None,
    }]
    .into();
    s
}

#[test]
fn selinux_contexts_are_escaped_for_terminals() {
    let mut s = hostile_unix();
    s.processes = vec![ProcessRef {
        command: "x".into(),
        pid: 7,
        fd: 3,
        nspid: None,
        proc_ctx: Some("u:r:t\x1b[2J:s0".into()),
        sock_ctx: Some("u:r:t:s0\n".into()),
    }]
    .into();
    let ctx = CellCtx::new(true, Source::Netlink);
    assert_eq!(
        cell(Column::Process, &s, &ctx),
        r#"users:(("x",pid=7,proc_ctx=u:r:t\x1b[2J:s0,fd=3,sock_ctx=u:r:t:s0\n))"#
    );
}

#[test]
fn terminal_text_is_escaped_in_every_column() {
    let s = hostile_unix();
    let ctx = CellCtx::new(true, Source::Netlink);
    assert_eq!(
        cell(Column::Local, &s, &ctx),
        "/tmp/a\\nb\\x1b]0;x\\x07\\u{009b}2J\\\\.sock 1234"
    );
    assert_eq!(
        cell(Column::Process, &s, &ctx),
        r#"users:(("ev\x1b[2Jil\n",pid=7,fd=3))"#
    );
    let mut compact = String::new();
    Column::Process.write_compact(&s, &ctx, &mut compact);
    assert_eq!(compact, "ev\\x1b[2Jil\\n(7)");
    // Whatever the column, no control character reaches the terminal.
    for c in Column::ALL {
        let text = cell(c, &s, &ctx);
        assert!(!text.chars().any(char::is_control), "{c:?}: {text:?}");
        let mut text = String::new();
        c.write_compact(&s, &ctx, &mut text);
        assert!(!text.chars().any(char::is_control), "{c:?}: {text:?}");
    }
    // JSON keeps the exact text.
    assert!(matches!(
        Column::Path.json(&s, Source::Netlink),
        JsonValue::Str(p) if p == "/tmp/a\nb\x1b]0;x\x07\u{9b}2J\\.sock"
    ));
    assert!(matches!(
        Column::Process.json(&s, Source::Netlink),
        JsonValue::Processes([p]) if &*p.command == "ev\x1b[2Jil\n"
    ));
}

#[test]
fn abstract_names_show_nul_as_at() {
    let mut s = hostile_unix();
    s.local = Endpoint::Unix {
        path: Some("@name\0with\0nuls".into()),
        inode: 0,
    };
    let ctx = CellCtx::new(true, Source::Netlink);
    assert_eq!(cell(Column::LocalAddr, &s, &ctx), "@name@with@nuls ");
    assert_eq!(cell(Column::Path, &s, &ctx), "@name@with@nuls");
}

#[test]
fn proc_has_no_unix_peer_in_text_and_json_alike() {
    let mut s = hostile_unix();
    s.peer = Endpoint::Unix {
        path: None,
        inode: 99,
    };
    let nl = CellCtx::new(true, Source::Netlink);
    let pr = CellCtx::new(true, Source::Proc);
    assert_eq!(cell(Column::PeerPort, &s, &nl), "99");
    assert_eq!(cell(Column::PeerInode, &s, &nl), "99");
    assert_eq!(
        Column::PeerInode.json(&s, Source::Netlink),
        JsonValue::U64(99)
    );
    assert_eq!(cell(Column::PeerPort, &s, &pr), "-");
    assert_eq!(cell(Column::PeerInode, &s, &pr), "-");
    assert_eq!(Column::PeerInode.json(&s, Source::Proc), JsonValue::Null);
    // Inet sockets have address keys, no unix keys.
    let t = inet(Netid::Tcp, TcpState::Listen, "[::1]:22", "[::]:0");
    assert_eq!(Column::Path.json(&t, Source::Proc), JsonValue::Absent);
    assert_eq!(
        Column::LocalAddr.json(&t, Source::Proc),
        JsonValue::Addr("::1".parse().unwrap())
    );
    assert_eq!(Column::LocalAddr.json(&s, Source::Proc), JsonValue::Null);
    assert_eq!(cell(Column::Source, &t, &pr), "proc");
}
