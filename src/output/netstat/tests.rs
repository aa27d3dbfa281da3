use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::model::{Holders, ProcessRef, TcpInfo, Timer};

/// Names from fixed tables; counts what was asked.
#[derive(Default)]
struct Fake {
    hosts_asked: usize,
}

impl Lookup for Fake {
    fn host(&mut self, addr: IpAddr) -> Option<String> {
        self.hosts_asked += 1;
        (addr == IpAddr::V4(Ipv4Addr::LOCALHOST)).then(|| "localhost".into())
    }
    fn service(&mut self, port: u16, proto: &str) -> Option<String> {
        match (port, proto) {
            (22, "tcp") => Some("ssh".into()),
            (9, _) => Some("a-very-long-service-name-indeed".into()),
            _ => None,
        }
    }
    fn user(&mut self, uid: u32) -> Option<String> {
        (uid == 0).then(|| "root".into())
    }
    fn program(&mut self, pid: u32) -> Option<String> {
        match pid {
            7 => None,
            8 => Some("a-program-with-a-long-name".into()),
            _ => Some("evil\x1b[2Jname".into()),
        }
    }
    fn unix_refcnt(&mut self, inode: u64) -> Option<u32> {
        (inode == 500).then_some(3)
    }
}

fn inet(netid: Netid, state: TcpState, local: (IpAddr, u16), peer: (IpAddr, u16)) -> Socket {
    let mut s = Socket::new(
        netid,
        state,
        Endpoint::Inet {
            addr: local.0,
            port: local.1,
        },
        Endpoint::Inet {
            addr: peer.0,
            port: peer.1,
        },
    );
    s.recv_q = Some(0);
    s.send_q = Some(0);
    s.uid = Some(0);
    s.inode = 1234;
    s
}

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const ANY: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
const ANY6: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

fn numeric() -> Layout {
    Layout {
        numeric_hosts: true,
        numeric_ports: true,
        numeric_users: true,
        ..Layout::default()
    }
}

#[test]
fn headers_as_netstat_prints_them() {
    let mut l = numeric();
    assert_eq!(
        inet_header(&l),
        "Active Internet connections (w/o servers)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \n"
    );
    l.all = true;
    l.extend = true;
    l.programs = true;
    l.timers = true;
    assert_eq!(
        inet_header(&l),
        "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State       User       Inode      PID/Program name     Timer\n"
    );
    l.all = false;
    l.listening = true;
    assert_eq!(
        unix_header(&l),
        "Active UNIX domain sockets (only servers)\nProto RefCnt Flags       Type       State         I-Node   PID/Program name     Path\n"
    );
}

#[test]
fn a_listener_shows_no_send_queue_and_a_star_port() {
    let mut s = inet(Netid::Tcp, TcpState::Listen, (ANY, 8080), (ANY, 0));
    s.recv_q = Some(2);
    s.send_q = Some(4096);
    let row = inet_row(&s, &numeric(), &mut Fake::default());
    assert_eq!(
        row,
        "tcp        2      0 0.0.0.0:8080            0.0.0.0:*               LISTEN     \n"
    );
}

#[test]
fn names_without_numeric_and_the_v6_wildcard() {
    let mut fake = Fake::default();
    let l = Layout::default();
    let s = inet(Netid::Tcp, TcpState::Established, (LO, 22), (ANY6, 0));
    let row = inet_row(&s, &l, &mut fake);
    assert!(
        row.starts_with("tcp6 ") || row.starts_with("tcp  "),
        "{row}"
    );
    assert!(row.contains("localhost:ssh           [::]:*"), "{row}");
    // The wildcard is never looked up.
    assert_eq!(fake.hosts_asked, 1);
}

#[test]
fn long_addresses_are_cut_to_22_bytes_unless_wide() {
    let v6: IpAddr = "2001:db8:1234:5678:9abc:def0:1234:5678".parse().unwrap();
    let s = inet(Netid::Tcp, TcpState::Established, (v6, 54321), (v6, 9));
    let row = inet_row(&s, &numeric(), &mut Fake::default());
    let cols: Vec<&str> = row.split_whitespace().collect();
    // The port keeps its 5 bytes, the host the 17 left of 22; the colon makes 23.
    assert_eq!(cols[3], "2001:db8:1234:567:54321");
    // A long service name keeps at most 18 bytes, the host the rest.
    let named = inet_row(&s, &Layout::default(), &mut Fake::default());
    let cols: Vec<&str> = named.split_whitespace().collect();
    assert_eq!(cols[4], "2001:a-very-long-servic");
    let wide = Layout {
        wide: true,
        ..numeric()
    };
    let row = inet_row(&s, &wide, &mut Fake::default());
    assert!(
        row.contains("2001:db8:1234:5678:9abc:def0:1234:5678:54321 2001:db8"),
        "{row}"
    );
}

#[test]
fn v4_mapped_addresses_print_as_ipv4() {
    let mapped = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());
    let s = inet(
        Netid::Tcp,
        TcpState::Established,
        (mapped, 80),
        (mapped, 5000),
    );
    let mut fake = Fake::default();
    let row = inet_row(&s, &Layout::default(), &mut fake);
    assert!(
        row.starts_with("tcp6       0      0 127.0.0.1:80 "),
        "{row}"
    );
    assert_eq!(fake.hosts_asked, 0);
}

#[test]
fn udp_states_and_timers() {
    let mut l = numeric();
    l.timers = true;
    l.all = true;
    let unconn = inet(Netid::Udp, TcpState::Close, (LO, 53), (ANY, 0));
    assert_eq!(
        inet_row(&unconn, &l, &mut Fake::default()),
        "udp        0      0 127.0.0.1:53            0.0.0.0:*                           off (0.00/0/0)\n"
    );
    let conn = inet(Netid::Udp, TcpState::Established, (LO, 5000), (LO, 53));
    assert!(inet_row(&conn, &l, &mut Fake::default()).contains("ESTABLISHED off (0.00/0/0)"));
}

#[test]
fn tcp_timers_take_their_counts_from_tcp_info() {
    let mut l = numeric();
    l.timers = true;
    let mut s = inet(Netid::Tcp, TcpState::Established, (LO, 1), (LO, 2));
    s.timer = Some(Timer {
        kind: TimerKind::Keepalive,
        expires_ms: 7_199_870,
        retrans: 3,
    });
    s.tcp_info = Some(Box::new(TcpInfo {
        retransmits: 1,
        probes: 3,
        ..TcpInfo::default()
    }));
    assert!(inet_row(&s, &l, &mut Fake::default()).ends_with("keepalive (7199.87/1/3)\n"));
    let mut tw = inet(Netid::Tcp, TcpState::TimeWait, (LO, 1), (LO, 2));
    tw.timer = Some(Timer {
        kind: TimerKind::TimeWait,
        expires_ms: 59_500,
        retrans: 0,
    });
    assert!(
        inet_row(&tw, &l, &mut Fake::default()).ends_with("TIME_WAIT   timewait (59.50/0/0)\n")
    );
    tw.timer = Some(Timer {
        kind: TimerKind::Probe,
        expires_ms: 200,
        retrans: 2,
    });
    tw.state = TcpState::Established;
    // Without tcp_info the count the model holds is the probes; retransmits are unknown.
    assert!(inet_row(&tw, &l, &mut Fake::default()).ends_with("unkn-4 (0.20/-/2)\n"));
}

#[test]
fn user_inode_and_program_columns() {
    let mut l = numeric();
    l.extend = true;
    l.programs = true;
    l.numeric_users = false;
    let mut s = inet(Netid::Tcp, TcpState::Established, (LO, 1), (LO, 2));
    s.uid = Some(1000);
    s.processes = Holders::from(vec![
        ProcessRef {
            command: "x".into(),
            pid: 7,
            fd: 3,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        },
        ProcessRef {
            command: "x".into(),
            pid: 8,
            fd: 4,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        },
    ]);
    let row = inet_row(&s, &l, &mut Fake::default());
    // pid 7's cmdline is unreadable: the next holder, cut to 19 bytes.
    assert!(
        row.ends_with("ESTABLISHED 1000       1234       8/a-program-with-a- \n"),
        "{row:?}"
    );
    s.uid = Some(0);
    s.processes = Holders::from(vec![ProcessRef {
        command: "x".into(),
        pid: 9,
        fd: 3,
        nspid: None,
        proc_ctx: None,
        sock_ctx: None,
    }]);
    let row = inet_row(&s, &l, &mut Fake::default());
    assert!(
        row.contains(" root       1234       9/evil\\x1b[2Jname"),
        "{row:?}"
    );
    assert!(!row.contains('\x1b'));
}

#[test]
fn unix_rows() {
    let mut l = numeric();
    l.all = true;
    let mut s = Socket::new(
        Netid::UnixStream,
        TcpState::Listen,
        Endpoint::Unix {
            path: Some("/run/a\nb.sock".into()),
            inode: 500,
        },
        Endpoint::Unix {
            path: None,
            inode: 0,
        },
    );
    s.inode = 500;
    assert_eq!(
        unix_row(&s, &l, &mut Fake::default()),
        "unix  3      [ ACC ]     STREAM     LISTENING     500      /run/a\\nb.sock\n"
    );
    s.netid = Netid::UnixDgram;
    s.state = TcpState::Close;
    s.inode = 501;
    s.local = Endpoint::Unix {
        path: None,
        inode: 501,
    };
    // No reference count in /proc/net/unix for it: unknown, not made up.
    assert_eq!(
        unix_row(&s, &l, &mut Fake::default()),
        "unix  -      [ ]         DGRAM                    501      \n"
    );
}

#[test]
fn servers_are_told_apart_as_netstat_does() {
    let l = numeric();
    let listening = Layout {
        listening: true,
        ..numeric()
    };
    let listener = inet(Netid::Tcp, TcpState::Listen, (ANY, 80), (ANY, 0));
    let estab = inet(Netid::Tcp, TcpState::Established, (LO, 80), (LO, 5000));
    let udp_bound = inet(Netid::Udp, TcpState::Close, (LO, 53), (ANY, 0));
    assert!(!selected(&listener, &l) && selected(&listener, &listening));
    assert!(selected(&estab, &l) && !selected(&estab, &listening));
    assert!(!selected(&udp_bound, &l) && selected(&udp_bound, &listening));
}

/// Raw sockets as netstat 2.10's raw_do_one prints them: `raw`/`raw6`, the protocol as the
/// port (named from /etc/protocols without -n), `*` for the peer's, the state as a number.
#[test]
fn raw_rows_as_netstat() {
    let any6 = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    let conn = inet(
        Netid::Raw,
        TcpState::Established,
        (LO, 253),
        (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)), 0),
    );
    let icmp = inet(Netid::Raw, TcpState::Close, (ANY, 1), (ANY, 0));
    let icmp6 = inet(Netid::Raw, TcpState::Close, (any6, 58), (any6, 0));
    let numeric = Layout {
        all: true,
        numeric_hosts: true,
        numeric_ports: true,
        ..Layout::default()
    };
    let mut f = Fake::default();
    assert_eq!(
        inet_row(&conn, &numeric, &mut f),
        "raw        0      0 127.0.0.1:253           127.0.0.3:*             1          \n"
    );
    assert_eq!(
        inet_row(&icmp6, &numeric, &mut f),
        "raw6       0      0 :::58                   :::*                    7          \n"
    );
    let named = Layout {
        all: true,
        timers: true,
        ..Layout::default()
    };
    assert_eq!(
        inet_row(&icmp6, &named, &mut f),
        "raw6       0      0 [::]:58                 [::]:*                  7           off (0.00/0/0)\n"
    );
    // Servers (-l) are those without a peer address, as for UDP.
    let listening = Layout {
        listening: true,
        ..Layout::default()
    };
    assert!(selected(&icmp, &listening) && !selected(&conn, &listening));
    assert!(selected(&conn, &Layout::default()));
    // After UDP, IPv4 before IPv6, before unix.
    let udp = inet(Netid::Udp, TcpState::Close, (ANY, 53), (ANY, 0));
    let unix = Socket::new(
        Netid::UnixStream,
        TcpState::Listen,
        Endpoint::Unix {
            path: None,
            inode: 1,
        },
        Endpoint::Unix {
            path: None,
            inode: 0,
        },
    );
    let mut v = vec![unix, icmp6.clone(), conn.clone(), udp];
    sort(&mut v);
    let order: Vec<_> = v.iter().map(|s| (s.netid, is_v6(s))).collect();
    assert_eq!(
        order,
        [
            (Netid::Udp, false),
            (Netid::Raw, false),
            (Netid::Raw, true),
            (Netid::UnixStream, false)
        ]
    );
}
