//! The tables beyond TCP, UDP and unix, against ss on sockets the test creates: raw (ICMP
//! over IPv4 and IPv6 and a connected one, read from /proc/net/raw{,6} because this kernel has
//! no raw diag module), packet (raw and dgram, bound to lo and to every interface), netlink
//! (bound to chosen port ids, one connected), MPTCP (a listener and a connection over each
//! family) and bound-inactive TCP, under the flag sets that apply. Rows are found by what
//! identifies the test's sockets and compared word by word; only the queues of sockets that
//! receive traffic from elsewhere (raw ICMP) may differ.
//!
//! Raw and packet sockets need root; as another user those parts skip and say why. Root runs
//! them in a private network namespace, where the tables are the test's alone.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

fn socket(domain: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> Option<OwnedFd> {
    // SAFETY: socket() returns a new fd we take ownership of (or -1).
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) };
    // SAFETY: fd is a fresh, owned descriptor.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

fn check(rc: libc::c_int, what: &str) {
    assert!(rc == 0, "{what}: {}", std::io::Error::last_os_error());
}

fn bind_raw<T>(fd: &OwnedFd, addr: &T) {
    // SAFETY: `addr` is a live sockaddr of its own size.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (addr as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    check(rc, "bind");
}

fn connect_raw<T>(fd: &OwnedFd, addr: &T) {
    // SAFETY: as in bind_raw.
    let rc = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (addr as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    check(rc, "connect");
}

fn sin(ip: Ipv4Addr) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(ip.octets()),
        },
        sin_zero: [0; 8],
    }
}

fn lo_index() -> i32 {
    // SAFETY: a NUL-terminated name.
    let i = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
    assert!(i > 0, "no lo");
    i as i32
}

fn packet(ty: libc::c_int, proto: u16, ifindex: i32) -> OwnedFd {
    let fd = socket(libc::AF_PACKET, ty, i32::from(proto.to_be())).expect("packet socket");
    if ifindex != 0 {
        // SAFETY: sockaddr_ll is plain data; all-zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto.to_be();
        sll.sll_ifindex = ifindex;
        bind_raw(&fd, &sll);
    }
    fd
}

fn netlink(proto: libc::c_int, portid: u32, connect: bool) -> OwnedFd {
    let fd = socket(libc::AF_NETLINK, libc::SOCK_RAW, proto).expect("netlink socket");
    // SAFETY: sockaddr_nl is plain data; all-zero is valid.
    let mut snl: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    snl.nl_family = libc::AF_NETLINK as u16;
    snl.nl_pid = portid;
    bind_raw(&fd, &snl);
    if connect {
        snl.nl_pid = 0;
        connect_raw(&fd, &snl);
    }
    fd
}

/// The rows of `stdout` holding one of `markers` (as words), and the header without spaces.
fn rows(stdout: &[u8], markers: &[String]) -> (String, Vec<Vec<String>>) {
    let text = String::from_utf8_lossy(stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("").split_whitespace().collect();
    let rows = lines
        .filter(|l| {
            let l = format!(" {l} ");
            markers.iter().any(|m| l.contains(m.as_str()))
        })
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Queue columns (after the state word) may differ for sockets marked `volatile`.
fn same_row(a: &[String], b: &[String], volatile: &[String]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let line = format!(" {} ", a.join(" "));
    if !volatile.iter().any(|m| line.contains(m.as_str())) {
        return a == b;
    }
    let st = a.iter().position(|w| w == "UNCONN" || w == "ESTAB");
    a.iter().zip(b).enumerate().all(|(i, (x, y))| {
        x == y || st.is_some_and(|s| (i == s + 1 || i == s + 2) && x.parse::<u64>().is_ok())
    })
}

/// Run ss and `sockeye dump` with `args` and compare the marked rows and the header. A
/// process another test forks holds every fd of this one until its exec, and ss or sockeye
/// may catch it in that window: a mismatch is retried until a deadline before it fails.
fn compare(args: &[&str], markers: &[String], volatile: &[String]) {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match compare_once(args, markers, volatile) {
            Ok(()) => return,
            Err(e) if Instant::now() >= end => panic!("{e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn compare_once(args: &[&str], markers: &[String], volatile: &[String]) -> Result<(), String> {
    let ss = Command::new("ss").args(args).output().expect("run ss");
    assert!(ss.status.success(), "ss {args:?}");
    let us = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["dump", "-q"])
        .args(args)
        .output()
        .expect("run sockeye");
    assert!(
        us.status.success(),
        "sockeye {args:?}: {}",
        String::from_utf8_lossy(&us.stderr)
    );
    let (ss_header, ss_rows) = rows(&ss.stdout, markers);
    let (header, got) = rows(&us.stdout, markers);
    assert_eq!(header, ss_header, "header of {args:?}");
    if ss_rows.is_empty() {
        return Err(format!("ss shows none of {markers:?} for {args:?}"));
    }
    if got.len() != ss_rows.len() {
        return Err(format!("rows of {args:?}: {got:?} vs {ss_rows:?}"));
    }
    for (g, s) in got.iter().zip(&ss_rows) {
        if !same_row(g, s, volatile) {
            return Err(format!("{args:?}:\n ours {g:?}\n ss   {s:?}"));
        }
    }
    Ok(())
}

/// Every flag set of `tables` with the output flags that apply.
fn flag_sets<'a>(tables: &[&'a [&'a str]], outputs: &[&'a [&'a str]]) -> Vec<Vec<&'a str>> {
    let mut v = Vec::new();
    for t in tables {
        for o in outputs {
            v.push(t.iter().chain(o.iter()).copied().collect());
        }
    }
    v
}

#[test]
fn raw_and_packet_sockets_match_ss() {
    if !require_tool("ss", "iproute2") || !require_root("raw and packet sockets need CAP_NET_RAW") {
        return;
    }
    // The whole test in a private namespace: its tables hold only these sockets.
    let handle = std::thread::spawn(|| {
        assert!(enter_private_netns(), "cannot make a network namespace");
        let icmp4 = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP).expect("raw icmp");
        let icmp6 =
            socket(libc::AF_INET6, libc::SOCK_RAW, libc::IPPROTO_ICMPV6).expect("raw icmpv6");
        // Protocol 253 (experiments), bound and connected.
        let conn = socket(libc::AF_INET, libc::SOCK_RAW, 253).expect("raw 253");
        bind_raw(&conn, &sin(Ipv4Addr::LOCALHOST));
        connect_raw(&conn, &sin(Ipv4Addr::new(127, 0, 0, 2)));
        let lo = lo_index();
        let p_loop = packet(libc::SOCK_RAW, 0x0060, lo);
        let p_dgram = packet(libc::SOCK_DGRAM, 0x88b5, lo);
        let p_any = packet(libc::SOCK_RAW, 0x88b6, 0);
        let _keep = (&icmp4, &icmp6, &conn, &p_loop, &p_dgram, &p_any);
        let pid = std::process::id();
        let fd_of = |fd: &OwnedFd| format!("pid={pid},fd={}))", fd.as_raw_fd());
        let raw_markers: Vec<String> = vec![
            ":1 ".into(),
            ":icmp ".into(),
            ":58 ".into(),
            ":ipv6-icmp ".into(),
            "127.0.0.1:253 ".into(),
            "127.0.0.2:* ".into(),
        ];
        let volatile = vec![
            ":1 ".into(),
            ":icmp ".into(),
            ":58 ".into(),
            ":ipv6-icmp ".into(),
        ];
        let outputs: &[&[&str]] = &[
            &["-a", "-n"],
            &["-a"],
            &["-a", "-n", "-e"],
            &["-a", "-n", "-m"],
            &["-a", "-n", "-o"],
            &["-l", "-n"],
        ];
        let raw_tables: &[&[&str]] = &[
            &["-w"],
            &["-w", "-4"],
            &["-w", "-6"],
            &["-A", "raw"],
            &["-A", "raw", "-4"],
            &["-f", "inet6", "-w"],
        ];
        for args in flag_sets(raw_tables, outputs) {
            compare(&args, &raw_markers, &volatile);
        }
        // With -p the rows are found by the test's own fds.
        let mut by_fd: Vec<String> = [&icmp4, &icmp6, &conn].map(fd_of).to_vec();
        for args in flag_sets(raw_tables, &[&["-a", "-n", "-p"], &["-a", "-p"]]) {
            compare(&args, &by_fd, &volatile);
        }
        let packet_markers: Vec<String> = vec![
            " loop:lo ".into(),
            " [96]:lo ".into(),
            " [34997]:lo ".into(),
            " [34998]:* ".into(),
        ];
        // Not `-A p_raw` or `-A packet_dgram`: ss 6.1's packet_diag path shows every packet
        // socket for either (and hides Netid); sockeye shows the table asked for (below).
        let packet_tables: &[&[&str]] =
            &[&["-0"], &["-f", "link"], &["-A", "packet"], &["-0", "-w"]];
        for args in flag_sets(packet_tables, outputs) {
            let markers: Vec<String> = if args.contains(&"-w") {
                packet_markers.iter().chain(&raw_markers).cloned().collect()
            } else {
                packet_markers.clone()
            };
            compare(&args, &markers, &volatile);
        }
        by_fd = [&p_loop, &p_dgram, &p_any].map(fd_of).to_vec();
        for args in flag_sets(packet_tables, &[&["-a", "-n", "-p"], &["-a", "-p", "-e"]]) {
            compare(&args, &by_fd, &volatile);
        }
        for (query, netid, other) in [
            ("p_raw", "p_raw", "p_dgr"),
            ("packet_dgram", "p_dgr", "p_raw"),
        ] {
            let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
                .args(["dump", "-q", "-a", "-n", "-A", query, "--json"])
                .output()
                .expect("run sockeye");
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
            let list = v.as_array().expect("array");
            assert!(list.iter().any(|s| s["netid"] == netid), "{query}");
            assert!(list.iter().all(|s| s["netid"] != other), "{query}");
        }
        // JSON carries what the table shows, as exact values.
        let out = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["dump", "-q", "-a", "-0", "-w", "--json"])
            .output()
            .expect("run sockeye");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let list = v.as_array().expect("array");
        let dgram = list
            .iter()
            .find(|s| s["netid"] == "p_dgr" && s["protocol"] == 0x88b5)
            .expect("the dgram packet socket in JSON");
        assert_eq!(dgram["ifindex"], lo);
        assert_eq!(dgram["state"], "UNCONN");
        assert!(dgram.get("path").is_none(), "no unix keys: {dgram}");
        let raw = list
            .iter()
            .find(|s| s["netid"] == "raw" && s["protocol"] == 253)
            .expect("the raw socket in JSON");
        assert_eq!(raw["local_addr"], "127.0.0.1");
        assert_eq!(raw["peer_addr"], "127.0.0.2");
        assert_eq!(raw["state"], "ESTAB");
        // Filters: sport of a packet socket is its interface index, as ss.
        let f = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args([
                "dump",
                "-q",
                "-0",
                "-n",
                "-H",
                "sport",
                "=",
                &format!(":{lo}"),
            ])
            .output()
            .expect("run sockeye");
        let ssf = Command::new("ss")
            .args(["-0", "-n", "-H", "sport", "=", &format!(":{lo}")])
            .output()
            .expect("run ss");
        assert_eq!(
            String::from_utf8_lossy(&f.stdout)
                .split_whitespace()
                .collect::<Vec<_>>(),
            String::from_utf8_lossy(&ssf.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
        );
        // --verbose says where raw sockets came from.
        let v = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["dump", "-q", "-w", "--verbose"])
            .output()
            .expect("run sockeye");
        let err = String::from_utf8_lossy(&v.stderr);
        let has_raw_diag = !err.contains("no diag module");
        if !has_raw_diag {
            assert!(err.contains("read from /proc/net instead"), "{err}");
        }
    });
    if let Err(panic) = handle.join() {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn netlink_sockets_match_ss() {
    if !require_tool("ss", "iproute2") {
        return;
    }
    // Port ids no process has (above the largest pid), so ss and sockeye print numbers.
    let base = 0x4000_0000 + (std::process::id() & 0xffff) * 4;
    let a = netlink(libc::NETLINK_ROUTE, base, false);
    let b = netlink(libc::NETLINK_GENERIC, base + 1, false);
    let c = netlink(libc::NETLINK_ROUTE, base + 2, true);
    let _keep = (&a, &b, &c);
    let markers: Vec<String> = (0..3).map(|i| format!(":{} ", base + i)).collect();
    let outputs: &[&[&str]] = &[
        &["-a", "-n"],
        &["-a"],
        &["-a", "-n", "-e"],
        &["-a", "-n", "-m"],
        &["-a", "-n", "-p"],
        &["-a", "-p"],
        &["-l", "-n"],
        &["-a", "-n", "-e", "-m"],
    ];
    let tables: &[&[&str]] = &[
        &["-f", "netlink"],
        &["-A", "netlink"],
        &["-A", "netlink,unix"],
    ];
    for args in flag_sets(tables, outputs) {
        compare(&args, &markers, &[]);
    }
    // Only netlink is UNCONN-only: an established-only query shows none of them.
    let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["dump", "-q", "-f", "netlink", "-n", "state", "established"])
        .output()
        .expect("run sockeye");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(markers.iter().all(|m| !text.contains(m.as_str())), "{text}");
    let json = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["dump", "-q", "-a", "-f", "netlink", "--json"])
        .output()
        .expect("run sockeye");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let conn = v
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["portid"] == base + 2)
        .expect("the connected netlink socket");
    assert_eq!(
        (conn["protocol"].as_u64(), conn["dst_portid"].as_u64()),
        (Some(0), Some(0))
    );
}

/// An MPTCP listener on `addr` with one accepted connection; `None` when the kernel has no
/// MPTCP (or it is disabled).
fn mptcp_pair(v6: bool) -> Option<(OwnedFd, OwnedFd, std::net::TcpStream, u16)> {
    let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    let l = socket(domain, libc::SOCK_STREAM, 262)?;
    // Through std for the addresses: bind/listen/accept on the raw fd.
    let std_l = {
        // SAFETY: `l` stays open; the TcpListener wraps a dup of it.
        let dup = unsafe { libc::dup(l.as_raw_fd()) };
        assert!(dup >= 0);
        // SAFETY: a fresh fd we own.
        unsafe { TcpListener::from_raw_fd(dup) }
    };
    let addr: SocketAddr = if v6 { "[::1]:0" } else { "127.0.0.1:0" }.parse().ok()?;
    let s2 = socket2::SockRef::from(&std_l);
    s2.bind(&addr.into()).ok()?;
    s2.listen(8).ok()?;
    let port = std_l.local_addr().ok()?.port();
    let c = socket(domain, libc::SOCK_STREAM, 262)?;
    let target = SocketAddr::new(addr.ip(), port);
    socket2::SockRef::from(&c).connect(&target.into()).ok()?;
    let (accepted, _) = std_l.accept().ok()?;
    Some((l, c, accepted, port))
}

#[test]
fn mptcp_listener_and_connection_match_ss() {
    if !require_tool("ss", "iproute2") {
        return;
    }
    let (Some(p4), Some(p6)) = (mptcp_pair(false), mptcp_pair(true)) else {
        crate::common::skip::announce_skip("this kernel has no MPTCP (or net.mptcp.enabled=0)");
        return;
    };
    let markers = vec![format!(":{} ", p4.3), format!(":{} ", p6.3)];
    let outputs: &[&[&str]] = &[
        &["-a", "-n"],
        &["-a"],
        &["-l", "-n"],
        &["-n"],
        &["-a", "-n", "-p"],
        &["-a", "-n", "-m"],
        &["-a", "-n", "-o"],
    ];
    let tables: &[&[&str]] = &[
        &["-M"],
        &["-M", "-4"],
        &["-M", "-6"],
        &["-A", "mptcp"],
        &["-A", "mptcp", "-6"],
        &["-M", "-t"],
    ];
    for args in flag_sets(tables, outputs) {
        compare(&args, &markers, &[]);
    }
}

#[test]
fn bound_inactive_tcp_sockets_are_shown_when_asked() {
    let fd = socket(libc::AF_INET, libc::SOCK_STREAM, 0).expect("tcp socket");
    let std_l = {
        // SAFETY: a dup of the live fd, owned by the TcpListener.
        let dup = unsafe { libc::dup(fd.as_raw_fd()) };
        // SAFETY: a fresh fd we own.
        unsafe { TcpListener::from_raw_fd(dup) }
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket2::SockRef::from(&std_l).bind(&addr.into()).unwrap();
    let port = std_l.local_addr().unwrap().port();
    let marker = format!("127.0.0.1:{port} ");
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["dump", "-q", "-n"])
            .args(args)
            .output()
            .expect("run sockeye");
        assert!(o.status.success(), "{args:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let shown = run(&["-t", "state", "bound-inactive"]);
    let kernel_has_it = shown.contains(&marker);
    // Kernel 6.7 and later dump them; older kernels ignore the request bit.
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let (major, minor) = {
        let mut it = release
            .trim()
            .split(['.', '-'])
            .map(|n| n.parse::<u32>().unwrap_or(0));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    };
    if (major, minor) < (6, 7) {
        assert!(!kernel_has_it);
        crate::common::skip::announce_skip("kernel older than 6.7: no bound-inactive dump");
        return;
    }
    let row: Vec<&str> = shown
        .lines()
        .find(|l| l.contains(&marker))
        .expect("the bound socket")
        .split_whitespace()
        .collect();
    // The kernel reports them in CLOSE: UNCONN, no queues, no peer — the columns ss would
    // print for any socket (ss 6.1 refuses the state name, so there is no ss to compare).
    assert_eq!(row, ["UNCONN", "0", "0", marker.trim(), "0.0.0.0:*"]);
    assert!(
        !run(&["-ta"]).contains(&marker),
        "not part of -a, as ss 6.1"
    );
    let both = run(&["-t", "state", "bound-inactive", "state", "listening"]);
    assert!(both.starts_with("State"), "two states: State column shown");
    let json = run(&["-t", "state", "bound-inactive", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let me = v
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["local_port"] == port)
        .expect("in JSON");
    assert_eq!(me["inode"], inode_of(fd.as_raw_fd()));
    assert_eq!(me["netid"], "tcp");
    if crate::common::skip::find_tool("ss").is_some() {
        let o = Command::new("ss")
            .args(["-tn", "state", "bound-inactive"])
            .output()
            .expect("run ss");
        if !o.status.success() {
            // ss before 6.8 does not know the state; sockeye documents it.
            assert!(String::from_utf8_lossy(&o.stderr).contains("wrong state name"));
        }
    }
}

#[test]
fn tables_the_kernel_lacks_are_empty_as_ss_prints_them() {
    if !require_tool("ss", "iproute2") {
        return;
    }
    for args in [
        &["-S", "-a"][..],
        &["-d", "-a"],
        &["--vsock", "-a"],
        &["--tipc", "-a"],
        &["--tipc", "-a", "--tipcinfo"],
        &["--xdp", "-a"],
        &["--xdp", "-aem"],
        &["-A", "sctp,dccp"],
        &["-A", "vsock_stream"],
    ] {
        let ss = Command::new("ss").args(args).output().expect("run ss");
        let us = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["dump", "--verbose"])
            .args(args)
            .output()
            .expect("run sockeye");
        assert_eq!(us.status.code(), ss.status.code(), "{args:?}");
        let err = String::from_utf8_lossy(&us.stderr);
        // An empty table only where the kernel cannot dump it or holds no such socket.
        if err.contains("cannot dump it") || err.contains("holds no such sockets") {
            assert_eq!(
                String::from_utf8_lossy(&us.stdout),
                String::from_utf8_lossy(&ss.stdout),
                "{args:?}"
            );
        } else {
            assert!(err.contains("not shown"), "{args:?}: {err}");
        }
    }
}

#[test]
fn new_family_flags_take_their_place_in_ss_combinations() {
    if !require_tool("ss", "iproute2") {
        return;
    }
    // Headers decide which columns show: compare them over combinations of the new flags.
    for args in [
        &["-w", "-t"][..],
        &["-M", "-u"],
        &["-0", "-x"],
        &["-0", "-4"],
        &["-f", "netlink", "-t"],
        &["-A", "raw,packet"],
        &["-S", "-t"],
        &["--vsock", "-x"],
        &["-w", "-A", "udp"],
        &["-d", "-t"],
        &["-d", "-6"],
        &["-t", "-A", "dccp"],
        &["-A", "dccp,tcp"],
        &["-S", "-6"],
        &["-t", "-A", "sctp"],
        &["-A", "sctp,tcp"],
        &["-S", "-d"],
        &["--vsock"],
        &["-f", "vsock", "-t"],
        &["-A", "vsock_dgram"],
        &["--vsock", "-S"],
        &["--xdp"],
        &["--xdp", "-t"],
        &["-A", "xdp,udp"],
    ] {
        let ss = Command::new("ss")
            .args(["-a", "-n"])
            .args(args)
            .output()
            .expect("ss");
        let us = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["dump", "-q", "-a", "-n"])
            .args(args)
            .output()
            .expect("sockeye");
        let first = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .lines()
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect::<String>()
        };
        assert!(us.status.success(), "{args:?}");
        assert_eq!(first(&us.stdout), first(&ss.stdout), "{args:?}");
    }
}
