//! Whole tables against ss, byte for byte, for the corners a user diffing the two finds:
//! which states (and so which columns) a table named with its family selects, unix names
//! with NULs in filters, and `-r` on IPv4-mapped peers. Each test builds its own sockets; the
//! ones that compare whole tables run in a private network namespace (root), so the table is
//! theirs alone.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::unix::net::UnixListener;
use std::process::Command;

use crate::common::*;

const SOCKEYE: &str = env!("CARGO_BIN_EXE_sockeye");

fn stdout_of(program: &str, pre: &[&str], args: &[&str]) -> String {
    let out = Command::new(program)
        .args(pre)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {pre:?} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ss ARGS` and `sockeye dump ARGS`, which must print the same bytes; ss's output.
fn same_as_ss(args: &[&str]) -> String {
    let want = stdout_of("ss", &[], args);
    let got = stdout_of(SOCKEYE, &["dump", "-q"], args);
    assert_eq!(
        got, want,
        "sockeye dump {args:?} differs from ss {args:?}\n--- ss\n{want}--- sockeye\n{got}"
    );
    want
}

fn connected_udp(ip: IpAddr) -> (UdpSocket, UdpSocket) {
    let a = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind udp");
    let b = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind udp");
    b.connect(a.local_addr().expect("addr"))
        .expect("connect udp");
    (a, b)
}

#[test]
fn a_table_named_with_its_family_adds_the_familys_states() {
    // ss adds a named family's default states (SS_CONN for inet) to the table's (UDP: ESTAB
    // only), so `-u -4` has more than one state and shows the State column; `-u` alone
    // has one and hides it.
    let private = enter_private_netns();
    if !require(
        private,
        "comparing whole tables needs root (a private netns)",
    ) {
        return;
    }
    let _v4 = connected_udp(LO4);
    let _v6 = connected_udp(LO6);
    let raw = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::RAW,
        Some(socket2::Protocol::from(253)),
    )
    .expect("raw socket");
    raw.connect(&socket2::SockAddr::from(SocketAddr::new(LO4, 0)))
        .expect("connect raw");

    let shown = same_as_ss(&["-u4"]);
    assert!(
        shown.starts_with("State ") && shown.contains("ESTAB"),
        "ss -u4 shows the State column: {shown}"
    );
    let hidden = same_as_ss(&["-u"]);
    assert!(
        hidden.starts_with("Recv-Q"),
        "ss -u hides the State column: {hidden}"
    );
    for args in [
        &["-4u"][..],
        &["-u", "-f", "inet6"],
        &["-u", "-f", "inet"],
        &["-uH6"],
        &["-w4"],
        &["-6w"],
        &["-w"],
        &["-u", "-4", "-n"],
        &["-u", "-x"],
        &["-u", "-0"],
        &["-A", "udp", "-4"],
        &["-4", "-A", "udp"],
    ] {
        same_as_ss(args);
    }
}

#[test]
fn an_abstract_name_with_a_nul_matches_as_ss_prints_it() {
    // ss shows every NUL of an abstract name as '@' and matches `src` globs against that
    // text: `@name@tail`.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let base = format!("sockeye-conf-{}-{n}", std::process::id());
    let addr =
        <std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(
            format!("{base}\0tail").as_bytes(),
        )
        .expect("abstract name");
    let _l = UnixListener::bind_addr(&addr).expect("bind abstract");
    for pattern in [
        format!("@{base}*"),
        format!("@{base}@tail"),
        format!("@{base}?tail"),
    ] {
        let out = same_as_ss(&["-xlH", "src", &pattern]);
        assert_eq!(out.lines().count(), 1, "ss -xlH src {pattern}: {out}");
        assert!(out.contains(&format!("@{base}@tail")), "{out}");
    }
    // The name up to the NUL is not the whole name.
    let none = same_as_ss(&["-xlH", "src", &format!("@{base}")]);
    assert_eq!(none, "");
}

#[test]
fn resolving_names_an_ipv4_mapped_peer_as_ss_does() {
    // ss -r asks for an IPv4-mapped address as the IPv4 address it maps (iproute2's
    // resolve_address): a dual-stack listener's IPv4 client is named like any IPv4 host.
    let private = enter_private_netns();
    if !require(
        private,
        "a dual-stack listener needs root (a private netns)",
    ) {
        return;
    }
    let pair = tcp_pair(
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
        Some(SocketAddr::new(LO4, 0)),
        Some(false),
    );
    let out = same_as_ss(&["-tar"]);
    if !require(
        !out.contains("::ffff:127.0.0.1"),
        "127.0.0.1 has no name for the resolver (/etc/hosts)",
    ) {
        return;
    }
    assert_eq!(out.lines().count(), 4, "listener, client, server: {out}");
    drop(pair);
}

#[test]
fn holders_are_listed_in_ss_order() {
    // ss walks /proc by pid (then tid), then fd, and puts each holder it finds first: the
    // highest pid leads, and within a process the highest fd. Two child processes hold the
    // listener on two fds each; the test closes its own.
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let listener = tcp_listener(SocketAddr::new(LO4, 0), 4, None);
    let port = listener.local_addr().expect("addr").port();
    let dup = || {
        // SAFETY: a close-on-exec dup of an open fd, owned below (so the ss and sockeye
        // runs of this and other tests do not inherit it).
        let fd = unsafe { libc::fcntl(listener.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        assert!(fd >= 0, "dup: {}", std::io::Error::last_os_error());
        // SAFETY: `fd` is a fresh fd that nothing else owns.
        unsafe { OwnedFd::from_raw_fd(fd) }
    };
    let dups = [dup(), dup()];
    let inherited = [dups[0].as_raw_fd(), dups[1].as_raw_fd()];
    let spawn = || {
        let mut c = Command::new("sleep");
        c.arg("30");
        // SAFETY: only fcntl, async-signal-safe, between fork and exec: the child alone
        // keeps the dups across exec.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut c, move || {
                for fd in inherited {
                    if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        c.spawn().expect("spawn sleep")
    };
    let mut children = [spawn(), spawn()];
    drop(dups);
    drop(listener);
    let filter = format!("sport = :{port}");
    let seen = wait_until(std::time::Duration::from_secs(5), || {
        stdout_of("ss", &[], &["-tlnpH", &filter])
            .matches("pid=")
            .count()
            == 4
    });
    let outs = seen.then(|| {
        (
            same_as_ss(&["-tlnpH", &filter]),
            same_as_ss(&["-tlnTH", &filter]),
        )
    });
    for c in &mut children {
        c.kill().ok();
        c.wait().ok();
    }
    let Some((p, t)) = outs else {
        panic!("ss never showed the four holders");
    };
    let (hi, lo) = (
        children[0].id().max(children[1].id()),
        children[0].id().min(children[1].id()),
    );
    let want = format!(
        "users:((\"sleep\",pid={hi},fd={b}),(\"sleep\",pid={hi},fd={a}),(\"sleep\",pid={lo},fd={b}),(\"sleep\",pid={lo},fd={a}))",
        a = inherited[0],
        b = inherited[1]
    );
    assert!(p.contains(&want), "{want} in {p}");
    let first = format!("users:((\"sleep\",pid={hi},tid={hi},fd={}),", inherited[1]);
    assert!(t.contains(&first), "{first} in {t}");
}

/// A packet socket of `kind` for ETH_P_IP, bound to interface `ifindex` unless 0.
fn packet_socket(kind: libc::c_int, ifindex: i32) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    let proto = (libc::ETH_P_IP as u16).to_be();
    // SAFETY: plain socket(2); the fd is owned right below.
    let fd = unsafe { libc::socket(libc::AF_PACKET, kind | libc::SOCK_CLOEXEC, proto.into()) };
    assert!(
        fd >= 0,
        "packet socket: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `fd` is a fresh fd that nothing else owns.
    let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    if ifindex != 0 {
        // SAFETY: an all-zero sockaddr_ll is valid; the fields that matter are set below.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = ifindex;
        // SAFETY: `sll` is a valid sockaddr_ll of the length passed.
        let rc = unsafe {
            libc::bind(
                fd,
                std::ptr::from_ref(&sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "bind packet: {}", std::io::Error::last_os_error());
    }
    owned
}

#[test]
fn dev_matches_the_interface_a_packet_socket_is_bound_to() {
    // ss compares `dev` with a packet socket's bound interface (its `iface`, also its
    // "port").
    let private = enter_private_netns();
    if !require(private, "packet sockets need root (a private netns)") {
        return;
    }
    let _bound = packet_socket(libc::SOCK_DGRAM, 1);
    let _unbound = packet_socket(libc::SOCK_RAW, 0);
    let on_lo = same_as_ss(&["-0aH", "dev", "lo"]);
    assert_eq!(on_lo.lines().count(), 1, "the socket bound to lo: {on_lo}");
    let elsewhere = same_as_ss(&["-0aH", "not", "dev", "lo"]);
    assert_eq!(elsewhere.lines().count(), 1, "the unbound one: {elsewhere}");
    for args in [
        &["-0a", "dev", "1"][..],
        &["-0a", "dev", "=", "lo"],
        &["-0a", "dev", "!=", "lo"],
        &["-0a", "dev", "lo", "or", "sport", "=", ":0"],
    ] {
        same_as_ss(args);
    }
}

#[test]
fn link_and_netlink_operands_select_as_ss_does() {
    // ss reads `link:PROTO[:IFACE]` and `netlink:PROTO[:PID]` (bare after -0/-f link or
    // -f netlink, its preferred family) and then lists only that family; operands follow
    // the family given last (`-x -4 src ADDR` is an inet condition).
    let private = enter_private_netns();
    if !require(private, "packet sockets need root (a private netns)") {
        return;
    }
    let _bound = packet_socket(libc::SOCK_DGRAM, 1);
    let _unbound = packet_socket(libc::SOCK_RAW, 0);
    let _listener = tcp_listener(SocketAddr::new(LO4, 0), 4, None);
    let ip = same_as_ss(&["-0aH", "src", "link:ip"]);
    assert_eq!(ip.lines().count(), 2, "both ETH_P_IP sockets: {ip}");
    let on_lo = same_as_ss(&["-0aH", "src", "link:ip:lo"]);
    assert_eq!(on_lo.lines().count(), 1, "the one bound to lo: {on_lo}");
    let rtnl = same_as_ss(&["-A", "netlink", "-aH", "src", "netlink:rtnl"]);
    assert!(
        rtnl.contains("rtnl:kernel"),
        "the kernel's rtnl socket: {rtnl}"
    );
    for args in [
        &["-0a", "src", "ip:lo"][..],
        &["-0a", "src", "link:*:lo"],
        &["-0a", "src", "link::1"],
        &["-0a", "src", "0x800"],
        &["-0a", "not", "src", "ip"],
        &["-a", "src", "link:ip"],
        &["-a", "src", "link:*"],
        &["-a", "dst", "link:*"],
        &["-f", "link", "-a", "src", "all"],
        &["-f", "netlink", "-a", "src", "rtnl:kernel"],
        &["-f", "netlink", "-a", "src", "genl"],
        &["-A", "netlink", "-a", "src", "netlink:16:0"],
        &["-x", "-4", "-a", "src", "127.0.0.1"],
        &["-x", "-0", "-a", "src", "ip"],
    ] {
        same_as_ss(args);
    }
    // The Netid column follows the tables the flags name, not the one family an operand
    // leaves: every table here, so ss shows it.
    let kernel = same_as_ss(&["-a", "src", "netlink:rtnl:kernel"]);
    assert!(kernel.starts_with("Netid "), "{kernel}");
}

#[test]
fn the_summary_total_does_not_count_sockeyes_own_socket() {
    // /proc/net/sockstat counts every socket of the namespace: ss reads it before opening its
    // netlink socket, and so must sockeye, so Total is the namespace's sockets alone.
    let private = enter_private_netns();
    if !require(
        private,
        "comparing whole summaries needs root (a private netns)",
    ) {
        return;
    }
    let _listener = std::net::TcpListener::bind((LO4, 0)).expect("listen");
    let _udp = connected_udp(LO4);
    // The `ip` that brought lo up closed its netlink socket; the kernel frees it a moment
    // later. (This thread's namespace: /proc/net is the main thread's.)
    let used = || {
        std::fs::read_to_string("/proc/thread-self/net/sockstat")
            .ok()
            .and_then(|t| {
                t.lines()
                    .next()?
                    .strip_prefix("sockets: used ")?
                    .parse::<u32>()
                    .ok()
            })
    };
    assert!(
        wait_until(std::time::Duration::from_secs(10), || used() == Some(3)),
        "the namespace never held just this test's 3 sockets: {:?}",
        used()
    );
    let got = stdout_of(SOCKEYE, &["dump", "-q"], &["-s"]);
    assert_eq!(got.lines().next(), Some("Total: 3"), "{got}");
    // A recorder keeps its netlink socket open from the second frame on: its moments must
    // say the same Total (they said 4). The kernel frees dump's closed netlink socket a
    // moment later (after an RCU grace period), and until then sockstat counts it.
    assert!(
        wait_until(std::time::Duration::from_secs(10), || used() == Some(3)),
        "dump's netlink socket was never freed: {:?}",
        used()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = dir.path().join("t.rec");
    let rec = rec.to_str().expect("utf-8 path");
    let out = std::process::Command::new(SOCKEYE)
        .args([
            "--no-config",
            "record",
            "-q",
            "--interval",
            "0.2",
            "--duration",
            "1s",
        ])
        .args(["-o", rec])
        .output()
        .expect("run sockeye record");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = stdout_of(
        SOCKEYE,
        &["dump", "-q"],
        &["-s", "--from", rec, "--at", "+0s"],
    );
    assert_eq!(
        first.lines().next(),
        Some("Total: 3"),
        "first frame: {first}"
    );
    let last = stdout_of(SOCKEYE, &["dump", "-q"], &["-s", "--from", rec]);
    assert_eq!(last.lines().next(), Some("Total: 3"), "last frame: {last}");
}
