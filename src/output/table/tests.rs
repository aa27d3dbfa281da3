//! Layouts recorded from ss, and the streamed and stored tables agreeing.

use super::*;
use crate::model::{MemInfo, Netid, Source, TcpState, Timer, TimerKind};
use crate::output::columns::tests::inet;

fn render(sockets: &[Socket], opts: TableOptions) -> String {
    let ctx = CellCtx::new(true, Source::Netlink);
    let mut out = Vec::new();
    write_table(&mut out, sockets, &ctx, &opts).expect("write to a Vec");
    String::from_utf8(out).expect("utf8")
}

fn tan() -> TableOptions {
    TableOptions {
        show_state: true,
        header: true,
        ..TableOptions::default()
    }
}

#[test]
fn compact_layout_matches_ss() {
    // Recorded from `ss -tan` (iproute2 6.1) on the same three sockets.
    let mut l = inet(Netid::Tcp, TcpState::Listen, "0.0.0.0:2024", "0.0.0.0:0");
    l.send_q = Some(128);
    let t1 = inet(
        Netid::Tcp,
        TcpState::TimeWait,
        "192.0.2.2:38682",
        "203.0.113.80:80",
    );
    let t2 = inet(
        Netid::Tcp,
        TcpState::TimeWait,
        "192.0.2.2:42788",
        "203.0.113.80:80",
    );
    let got = render(&[l, t1, t2], tan());
    let want = "\
State     Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess
LISTEN    0      128          0.0.0.0:2024       0.0.0.0:*          
TIME-WAIT 0      0          192.0.2.2:38682 203.0.113.80:80         
TIME-WAIT 0      0          192.0.2.2:42788 203.0.113.80:80         
";
    assert_eq!(got, want);
}

#[test]
fn header_only_and_no_header() {
    let got = render(&[], tan());
    assert_eq!(
        got,
        "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    );
    let s = inet(Netid::Tcp, TcpState::Established, "1.2.3.4:5", "6.7.8.9:10");
    let got = render(
        std::slice::from_ref(&s),
        TableOptions {
            header: false,
            ..tan()
        },
    );
    // Without the header, columns shrink to their content; the queues stay six wide, as
    // ss prints them ("%-6d").
    assert_eq!(got, "ESTAB 0      0      1.2.3.4:5 6.7.8.9:10\n");
}

#[test]
fn netid_column_and_unix() {
    let mut u = inet(
        Netid::UnixStream,
        TcpState::Established,
        "1.1.1.1:1",
        "1.1.1.1:1",
    );
    u.local = crate::model::Endpoint::Unix {
        path: None,
        inode: 0,
    };
    u.peer = crate::model::Endpoint::Unix {
        path: None,
        inode: 1601,
    };
    u.inode = 1600;
    let got = render(
        &[u],
        TableOptions {
            show_netid: true,
            ..tan()
        },
    );
    let want = "\
Netid State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
u_str ESTAB 0      0                  * 1600            * 1601       
";
    assert_eq!(got, want);
}

#[test]
fn tail_with_timer_details_and_continuation_line() {
    // Shapes recorded from `ss -tanoeim`: the continuation line is part of the last
    // cell, so shorter ones are padded after the tab.
    let mut l = inet(Netid::Tcp, TcpState::Listen, "0.0.0.0:2024", "0.0.0.0:0");
    l.send_q = Some(128);
    l.uid = Some(0);
    l.inode = 1604;
    l.cookie = Some(1);
    l.memory = Some(Box::new(MemInfo {
        rcvbuf: 131_072,
        sndbuf: 16_384,
        ..MemInfo::default()
    }));
    let mut t = inet(
        Netid::Tcp,
        TcpState::TimeWait,
        "192.0.2.2:38682",
        "203.0.113.80:80",
    );
    t.uid = Some(0);
    t.inode = 0;
    t.cookie = Some(0x1002);
    t.timer = Some(Timer {
        kind: TimerKind::TimeWait,
        expires_ms: 2_888,
        retrans: 0,
    });
    let got = render(
        &[l, t],
        TableOptions {
            timers: true,
            extended: true,
            info: true,
            memory: true,
            ..tan()
        },
    );
    let lines: Vec<&str> = got.split('\n').collect();
    assert_eq!(
        lines[1],
        "LISTEN    0      128          0.0.0.0:2024       0.0.0.0:*    ino:1604 sk:1"
    );
    assert_eq!(
        lines[2],
        "\t skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)"
    );
    assert_eq!(
        lines[3],
        "TIME-WAIT 0      0          192.0.2.2:38682 203.0.113.80:80   timer:(timewait,2.888ms,0) ino:0 sk:1002"
    );
    // Padded to the widest last cell (the listener's), newline and tab counted.
    let widest = " ino:1604 sk:1\n\t skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)".len();
    let tw = " timer:(timewait,2.888ms,0) ino:0 sk:1002\n\t".len();
    assert_eq!(lines[4], format!("\t{}", " ".repeat(widest - tw)));
}

#[test]
fn terminal_width_spreads_spare_space() {
    let s = inet(Netid::Tcp, TcpState::Established, "1.2.3.4:5", "6.7.8.9:10");
    let got = render(
        &[s],
        TableOptions {
            screen_width: Some(100),
            ..tan()
        },
    );
    for line in got.lines() {
        assert_eq!(line.len(), 100, "{line:?}");
    }
}

#[test]
fn streamed_rows_print_like_the_stored_table() {
    let mut v = vec![
        inet(Netid::Tcp, TcpState::Listen, "0.0.0.0:2024", "0.0.0.0:0"),
        inet(Netid::Udp, TcpState::Close, "127.0.0.1:53", "0.0.0.0:0"),
        inet(
            Netid::Tcp,
            TcpState::TimeWait,
            "192.0.2.2:38682",
            "203.0.113.80:80",
        ),
        inet(Netid::UnixDgram, TcpState::Close, "1.1.1.1:1", "0.0.0.0:0"),
    ];
    v[3].local = crate::model::Endpoint::Unix {
        path: Some("/run/a b".into()),
        inode: 0,
    };
    v[3].peer = crate::model::Endpoint::Unix {
        path: None,
        inode: 0,
    };
    for header in [true, false] {
        let opts = TableOptions {
            show_netid: true,
            header,
            timers: true,
            ..tan()
        };
        let ctx = || CellCtx::new(true, Source::Netlink);
        let mut rows = TableRows::new(ctx(), opts);
        for s in &v {
            rows.push(s);
        }
        assert_eq!(rows.len(), 4);
        let mut streamed = Vec::new();
        rows.write(&mut streamed).expect("write");
        let mut sorted = v.clone();
        ss_order(&mut sorted);
        let mut stored = Vec::new();
        write_table(&mut stored, &sorted, &ctx(), &opts).expect("write");
        assert_eq!(
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&stored)
        );
        rows.clear();
        assert!(rows.is_empty());
    }
}

#[test]
fn last_rows_tail_does_not_widen_the_column() {
    // Recorded from `ss -xlp` (iproute2 6.1) with one unix listener.
    let mut u = inet(
        Netid::UnixStream,
        TcpState::Listen,
        "1.1.1.1:1",
        "1.1.1.1:1",
    );
    u.local = crate::model::Endpoint::Unix {
        path: Some("/tmp/sockeye-0/demo.sock".into()),
        inode: 0,
    };
    u.peer = crate::model::Endpoint::Unix {
        path: None,
        inode: 0,
    };
    u.inode = 1_156_694;
    u.send_q = Some(4096);
    u.processes = vec![crate::model::ProcessRef {
        command: "sockeye".into(),
        pid: 9951,
        fd: 14,
        nspid: None,
        proc_ctx: None,
        sock_ctx: None,
    }]
    .into();
    let opts = TableOptions {
        show_netid: true,
        processes: true,
        ..tan()
    };
    let want = "\
Netid State  Recv-Q Send-Q            Local Address:Port    Peer Address:PortProcess
u_str LISTEN 0      4096   /tmp/sockeye-0/demo.sock 1156694            * 0    users:((\"sockeye\",pid=9951,fd=14))
";
    assert_eq!(render(std::slice::from_ref(&u), opts), want);
    let mut rows = TableRows::new(CellCtx::new(true, Source::Netlink), opts);
    rows.push(&u);
    let mut out = Vec::new();
    rows.write(&mut out).expect("write");
    assert_eq!(String::from_utf8_lossy(&out), want);
}

#[test]
fn ss_table_order() {
    let mut v = vec![
        inet(Netid::Tcp, TcpState::Listen, "1.1.1.1:1", "0.0.0.0:0"),
        inet(Netid::Udp, TcpState::Close, "1.1.1.1:2", "0.0.0.0:0"),
        inet(Netid::UnixDgram, TcpState::Close, "1.1.1.1:3", "0.0.0.0:0"),
        inet(Netid::Tcp, TcpState::Listen, "1.1.1.1:4", "0.0.0.0:0"),
    ];
    ss_order(&mut v);
    let order: Vec<u16> = v.iter().filter_map(|s| s.local_port()).collect();
    assert_eq!(order, vec![3, 2, 1, 4]);
    // A longer interleaving keeps the kernel order inside each table.
    let nets = [Netid::Tcp, Netid::UnixStream, Netid::Udp];
    let mut v: Vec<Socket> = (0..30u16)
        .map(|i| {
            let mut s = inet(
                nets[usize::from(i % 3)],
                TcpState::Close,
                "1.1.1.1:1",
                "0.0.0.0:0",
            );
            s.inode = i.into();
            s
        })
        .collect();
    ss_order(&mut v);
    let got: Vec<u64> = v.iter().map(|s| s.inode).collect();
    let want: Vec<u64> = (0..30)
        .filter(|i| i % 3 == 1)
        .chain((0..30).filter(|i| i % 3 == 2))
        .chain((0..30).filter(|i| i % 3 == 0))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn netlink_proc_ctx_sits_before_the_extended_fields_as_ss() {
    use crate::model::{Details, Endpoint};
    let local = Endpoint::Netlink {
        protocol: 0,
        portid: 0,
        groups: 1,
    };
    let mut s = Socket::new(Netid::Netlink, TcpState::Close, local, Endpoint::Nothing);
    s.recv_q = Some(0);
    s.send_q = Some(0);
    s.details = Some(Box::new(Details {
        netlink_ctx: Some("system_u:system_r:kernel_t:s0".into()),
        ..Details::default()
    }));
    let opts = TableOptions {
        header: false,
        processes: true,
        ..TableOptions::default()
    };
    // ss's netlink_show_one: ` proc_ctx=%s` after the peer, then -e's sk/cb/groups.
    let z = render(std::slice::from_ref(&s), opts);
    assert!(
        z.ends_with(" * proc_ctx=system_u:system_r:kernel_t:s0\n"),
        "{z:?}"
    );
    let ze = render(
        std::slice::from_ref(&s),
        TableOptions {
            extended: true,
            timers: true,
            ..opts
        },
    );
    assert!(
        ze.ends_with(" * proc_ctx=system_u:system_r:kernel_t:s0 sk=0 cb=0 groups=0x00000001\n"),
        "{ze:?}"
    );
    // Without -Z nothing is attached and nothing printed; a context with control bytes
    // (it is read from /proc) is escaped.
    s.details = Some(Box::new(Details {
        netlink_ctx: Some("a\x1b[2Jb".into()),
        ..Details::default()
    }));
    let esc = render(std::slice::from_ref(&s), opts);
    assert!(!esc.contains('\x1b'), "{esc:?}");
    s.details = None;
    assert!(!render(&[s], opts).contains("proc_ctx"));
}

#[test]
fn vsock_tipc_and_xdp_rows_share_the_layout_of_every_table() {
    use crate::model::Endpoint;
    let row = |netid, state, local, peer| {
        let mut s = Socket::new(netid, state, local, peer);
        s.recv_q = Some(0);
        s.send_q = Some(0);
        s
    };
    let tcp = inet(
        Netid::Tcp,
        TcpState::Established,
        "127.0.0.1:22",
        "127.0.0.1:5000",
    );
    let vsock = row(
        Netid::VsockStream,
        TcpState::Established,
        Endpoint::Vsock { cid: 3, port: 1024 },
        Endpoint::Vsock { cid: 2, port: 5000 },
    );
    let tipc = row(
        Netid::TipcStream,
        TcpState::Established,
        Endpoint::Tipc {
            node: 16781313,
            port: 3405,
        },
        Endpoint::Tipc {
            node: 16781314,
            port: 77,
        },
    );
    // Interface 1 is lo on every Linux host.
    let xdp = row(
        Netid::Xdp,
        TcpState::Close,
        Endpoint::Xdp {
            ifindex: 1,
            queue: 0,
        },
        Endpoint::Nothing,
    );
    let got = render(
        &[tcp, vsock, tipc, xdp],
        TableOptions {
            show_netid: true,
            ..tan()
        },
    );
    // ss's render: every column as wide as its widest cell in any table, `addr:` right-
    // aligned against its port; XDP's peer `*` in the address column.
    let want = "\
Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
tcp   ESTAB  0      0          127.0.0.1:22      127.0.0.1:5000       
v_str ESTAB  0      0                  3:1024            2:5000       
ti_st ESTAB  0      0           16781313:3405     16781314:77         
xdp   UNCONN 0      0                 lo:q0               *           
";
    assert_eq!(got, want);
    // The streamed path (rows formatted while the kernel answers) lays them out the same.
    let ctx = CellCtx::new(true, Source::Netlink);
    let opts = TableOptions {
        show_netid: true,
        ..tan()
    };
    let mut rows = TableRows::new(ctx, opts);
    let socks = [
        inet(
            Netid::Tcp,
            TcpState::Established,
            "127.0.0.1:22",
            "127.0.0.1:5000",
        ),
        row(
            Netid::Xdp,
            TcpState::Close,
            Endpoint::Xdp {
                ifindex: 1,
                queue: 0,
            },
            Endpoint::Nothing,
        ),
    ];
    for s in &socks {
        rows.push(s);
    }
    let mut out = Vec::new();
    rows.write(&mut out).expect("write to a Vec");
    let mut stored = Vec::new();
    write_table(
        &mut stored,
        &socks,
        &CellCtx::new(true, Source::Netlink),
        &opts,
    )
    .expect("write to a Vec");
    assert_eq!(String::from_utf8(out), String::from_utf8(stored));
}
