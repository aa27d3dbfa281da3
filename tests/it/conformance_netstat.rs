//! Conformance against net-tools netstat: the test builds the classic socket situations
//! (listeners, a full accept queue and a client in SYN_SENT, an established pair, unread
//! data, CLOSE-WAIT and its FIN-WAIT-2 orphan, TIME-WAIT, keepalive, IPv6, a long IPv6
//! address, UDP bound and connected, unix stream/dgram/seqpacket with paths, an abstract name
//! and an unnamed pair), then runs `netstat ARGS` and `sockeye netstat ARGS` over a table of
//! flag sets and compares them line by line. Only the seconds left on a timer (and the count
//! of a SYN being retransmitted) may differ: they change from one moment to the next.
//!
//! As root the test runs in a private network namespace (unix sockets are per namespace
//! too), so both tables are the test's alone and are compared whole, headers included.
//! Otherwise it compares the headers and the rows naming its own ports, paths or inodes.
//!
//! Also: `-c` repeating, sockeye run as `netstat` through a symlink, bad options, escaping.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const SOCKEYE: &str = env!("CARGO_BIN_EXE_sockeye");

/// An IPv6 address longer than netstat's column (added to lo in the private namespace).
const LONG_V6: &str = "2001:db8:1234:5678:9abc:def0:1234:5678";

/// The flag sets compared: every socket option sockeye netstat takes, alone and combined.
const FLAG_SETS: &[&[&str]] = &[
    &["-tan"],
    &["-tanp"],
    &["-tanpe"],
    &["-tano"],
    &["-tanoe"],
    &["-tanpeo"],
    &["-tn"],
    &["-tln"],
    &["-lnt", "-W"],
    &["-tanW"],
    &["-uan"],
    &["-uln"],
    &["-un"],
    &["-uanpeo"],
    &["-tuan"],
    &["-tuln"],
    &["-xa"],
    &["-xap"],
    &["-x"],
    &["-xl"],
    &["-xlp"],
    &["-4", "-an"],
    &["-6", "-an"],
    &["-4tan"],
    &["-6tanpe"],
    &["-an"],
    &["-lnp"],
    &["-A", "inet6", "-n"],
    &["-ta"],
    &["-tae"],
    &["-tua"],
    &["-tl"],
    &[
        "--tcp",
        "--all",
        "--numeric",
        "--programs",
        "--extend",
        "--timers",
    ],
    &["--udp", "--listening", "--numeric", "--wide"],
    &["--unix", "--all", "--program"],
    &["-x", "-4", "-n"],
    &["-6", "-x", "-a", "-n"],
    &["-tanee"],
    &["-A", "unix"],
    &["--inet", "-n"],
    &["-tu", "-a", "-n", "-l"],
    &["-n"],
    &["-e"],
];

/// The raw-socket flag sets (`-w`): compared where the test could open raw sockets (root,
/// in its private namespace, where no ICMP arrives to move their queues).
const RAW_FLAG_SETS: &[&[&str]] = &[
    &["-wan"],
    &["-wn"],
    &["-w"],
    &["-wa"],
    &["-wl"],
    &["-wln", "-W"],
    &["-wanpe"],
    &["-wanoe"],
    &["-wanee"],
    &["-4", "-wan"],
    &["-6", "-wan"],
    &["-tuwan"],
    &["--raw", "--all", "--numeric", "--programs"],
];

/// Everything the test made, kept alive while the tables are compared.
struct Scene {
    _guards: Vec<Box<dyn std::any::Any>>,
    ports: HashSet<u16>,
    /// Unix paths and abstract names (as /proc prints them), and unix inodes.
    paths: Vec<String>,
    inodes: HashSet<u64>,
}

fn scene(dir: &Path, private: bool) -> Scene {
    let mut g: Vec<Box<dyn std::any::Any>> = Vec::new();
    let mut ports = HashSet::new();
    let mut inodes = HashSet::new();

    // A listener whose accept queue overflowed (Recv-Q 2) and a client left in SYN_SENT.
    let overflow = backlog_overflow(LO4);
    ports.insert(overflow.port);
    g.push(Box::new(overflow));
    let pair = tcp_pair(SocketAddr::new(LO4, 0), None, None);
    socket2::SockRef::from(&pair.client)
        .set_keepalive(true)
        .expect("keepalive");
    ports.insert(pair.port);
    g.push(Box::new(pair));
    let unread = estab_unread(LO4, 8);
    ports.insert(unread.port);
    g.push(Box::new(unread));
    let cw = close_wait(LO4, 5);
    ports.insert(cw.port);
    g.push(Box::new(cw));
    let tw = time_wait(LO4);
    ports.insert(tw.port);
    let v6 = tcp_pair(SocketAddr::new(LO6, 0), None, Some(true));
    ports.insert(v6.port);
    g.push(Box::new(v6));
    // A listener with a connection it has not accepted yet (its Recv-Q is 1).
    let queued = tcp_listener(SocketAddr::new(LO4, 0), 4, None);
    let queued_addr = queued.local_addr().expect("addr");
    ports.insert(queued_addr.port());
    let waiting =
        TcpStream::connect_timeout(&queued_addr, Duration::from_secs(2)).expect("connect");
    g.push(Box::new(queued));
    g.push(Box::new(waiting));
    if private {
        // Binds the wildcard address: only where nobody else can reach it.
        let dual = dual_stack();
        ports.insert(dual.port);
        g.push(Box::new(dual));
        // An address too long for netstat's 22 bytes: cut without -W, whole with it.
        let long: IpAddr = LONG_V6.parse().expect("address");
        let added = Command::new("ip")
            .args([
                "-6",
                "addr",
                "add",
                &format!("{LONG_V6}/128"),
                "dev",
                "lo",
                "nodad",
            ])
            .status()
            .is_ok_and(|s| s.success());
        assert!(added, "cannot add {LONG_V6} to lo in the private namespace");
        // The kernel adds the address's local route from a work queue, even with nodad:
        // until then a connect to it is ENETUNREACH.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !Command::new("ip")
            .args(["-6", "route", "show", "table", "local", LONG_V6])
            .output()
            .is_ok_and(|o| !o.stdout.is_empty())
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{LONG_V6} has no local route in the private namespace"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let wide = tcp_pair(SocketAddr::new(long, 0), None, Some(true));
        ports.insert(wide.port);
        g.push(Box::new(wide));
        g.push(Box::new(raw_sockets()));
    }
    for ip in [LO4, LO6] {
        let u = udp(ip);
        ports.insert(u.bound_port);
        ports.insert(u.connected_port);
        g.push(Box::new(u));
    }
    let wild6 = UdpSocket::bind(SocketAddr::new(
        IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        0,
    ))
    .expect("bind udp6");
    if private {
        ports.insert(wild6.local_addr().expect("addr").port());
        g.push(Box::new(wild6));
    }

    // Unix: a stream listener with one accepted connection, a datagram socket, a seqpacket
    // listener, an abstract listener and an unnamed datagram pair.
    let stream_path = dir.join("stream.sock");
    let listener = UnixListener::bind(&stream_path).expect("bind unix");
    let client = UnixStream::connect(&stream_path).expect("connect unix");
    let (accepted, _) = listener.accept().expect("accept unix");
    let dgram_path = dir.join("dgram.sock");
    let dgram = UnixDatagram::bind(&dgram_path).expect("bind dgram");
    let seq_path = dir.join("seq.sock");
    let seq = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::SEQPACKET, None)
        .expect("seqpacket");
    seq.bind(&socket2::SockAddr::unix(&seq_path).expect("addr"))
        .expect("bind seqpacket");
    seq.listen(4).expect("listen seqpacket");
    // Unique per scene: tests of one process share the namespace when not root.
    static SCENES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SCENES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // A NUL inside the name: /proc/net/unix (netstat's source) prints it as '@', as ss does.
    let name = format!("sockeye-netstat-{}-{n}\0nul", std::process::id());
    let abstract_addr =
        <std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(
            name.as_bytes(),
        )
        .expect("abstract name");
    let abstract_listener = UnixListener::bind_addr(&abstract_addr).expect("bind abstract");
    let (left, right) = UnixDatagram::pair().expect("pair");
    for fd in [
        listener.as_raw_fd(),
        client.as_raw_fd(),
        accepted.as_raw_fd(),
        dgram.as_raw_fd(),
        seq.as_raw_fd(),
        abstract_listener.as_raw_fd(),
        left.as_raw_fd(),
        right.as_raw_fd(),
    ] {
        inodes.insert(inode_of(fd));
    }
    let paths = vec![
        stream_path.display().to_string(),
        dgram_path.display().to_string(),
        seq_path.display().to_string(),
        format!("@{}", name.replace('\0', "@")),
    ];
    g.push(Box::new((
        listener,
        client,
        accepted,
        dgram,
        seq,
        abstract_listener,
    )));
    g.push(Box::new((left, right)));
    Scene {
        _guards: g,
        ports,
        paths,
        inodes,
    }
}

/// Raw sockets (root only): ICMP over IPv4 and IPv6 (servers: no peer) and protocol 253
/// bound to 127.0.0.1 and connected to 127.0.0.3 (netstat's State `1`).
fn raw_sockets() -> Vec<socket2::Socket> {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let icmp4 = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).expect("raw icmp");
    let icmp6 = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).expect("raw icmp6");
    let conn = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(253))).expect("raw 253");
    conn.bind(&SockAddr::from(SocketAddr::new(LO4, 0)))
        .expect("bind raw");
    conn.connect(&SockAddr::from(SocketAddr::new(
        IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 3)),
        0,
    )))
    .expect("connect raw");
    vec![icmp4, icmp6, conn]
}

fn run(program: &str, pre: &[&str], args: &[&str]) -> Output {
    Command::new(program)
        .args(pre)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"))
}

/// Timer seconds change from one moment to the next: `(59.87/0/0)` becomes `(S/0/0)`; so
/// does the retransmit count of a retransmit timer.
fn without_seconds(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find(" (") {
        out.push_str(&rest[..at + 2]);
        rest = &rest[at + 2..];
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n > 0 && rest[n..].starts_with('/') {
            out.push('S');
            rest = &rest[n..];
        }
    }
    out.push_str(rest);
    // A retransmit timer's count grows while a SYN goes unanswered: `on (S/2/0)` too.
    if let Some(at) = out.find(" on (S/") {
        let from = at + " on (S/".len();
        if let Some(len) = out[from..].find('/') {
            out.replace_range(from..from + len, "R");
        }
    }
    out
}

/// Is this data row one of the test's own sockets?
fn ours(line: &str, s: &Scene) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    if line.starts_with("unix") {
        return s.paths.iter().any(|p| line.ends_with(&format!(" {p}")))
            || words
                .iter()
                .any(|w| w.parse().is_ok_and(|i| s.inodes.contains(&i)));
    }
    words.iter().take(5).any(|w| {
        w.rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .is_some_and(|p| s.ports.contains(&p))
    })
}

/// The lines to compare: every line in a private namespace; otherwise the section headers
/// and the test's own rows.
fn comparable(text: &str, s: &Scene, private: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut header_left: u8 = 0;
    for line in text.lines() {
        if line.starts_with("Active ") {
            header_left = 2;
        }
        let keep = private || header_left > 0 || ours(line, s);
        header_left = header_left.saturating_sub(1);
        if keep {
            out.push(without_seconds(line));
        }
    }
    out
}

#[test]
fn sockeye_netstat_prints_what_net_tools_netstat_prints() {
    if !require_tool("netstat", "net-tools") {
        return;
    }
    let private = enter_private_netns();
    let dir = tempfile::tempdir().expect("tempdir");
    let s = scene(dir.path(), private);
    let mut compared = 0;
    let raw: &[&[&str]] = if private { RAW_FLAG_SETS } else { &[] };
    if !private {
        crate::common::skip::announce_skip(
            "netstat -w: raw sockets need root (a private namespace)",
        );
    }
    for args in FLAG_SETS.iter().chain(raw) {
        let want = run("netstat", &[], args);
        let got = run(SOCKEYE, &["netstat"], args);
        assert!(want.status.success(), "netstat {args:?} failed");
        assert!(
            got.status.success(),
            "sockeye netstat {args:?} failed: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        let want = comparable(&String::from_utf8_lossy(&want.stdout), &s, private);
        let got = comparable(&String::from_utf8_lossy(&got.stdout), &s, private);
        assert!(
            want.len() > 2,
            "netstat {args:?} showed none of the test's sockets: {want:#?}"
        );
        if want != got {
            panic!(
                "sockeye netstat {args:?} differs from netstat\n--- netstat\n{}\n--- sockeye netstat\n{}",
                want.join("\n"),
                got.join("\n")
            );
        }
        compared += want.len();
    }
    // Every kind of row was seen in some flag set.
    assert!(compared > 200, "only {compared} lines compared");
}

#[test]
fn the_scene_holds_every_state_netstat_spells() {
    // Guards the comparison above against comparing empty tables: the states and kinds the
    // scene makes are really there, spelled as netstat spells them.
    if !require_tool("netstat", "net-tools") {
        return;
    }
    let private = enter_private_netns();
    let dir = tempfile::tempdir().expect("tempdir");
    let s = scene(dir.path(), private);
    let out = run(SOCKEYE, &["netstat"], &["-tuxanoe"]);
    assert!(out.status.success());
    let raw = String::from_utf8_lossy(&out.stdout);
    assert!(raw.contains(" off (0.00/0/0)\n"), "{raw}");
    let text = comparable(&raw, &s, private).join("\n");
    for want in [
        "Active Internet connections (servers and established)",
        "Active UNIX domain sockets (servers and established)",
        " LISTEN ",
        " ESTABLISHED ",
        " CLOSE_WAIT ",
        " FIN_WAIT2 ",
        " TIME_WAIT ",
        " SYN_SENT ",
        "on (S/R/0)",
        "tcp6 ",
        "udp6 ",
        "keepalive (S/0/0)",
        "timewait (S/0/0)",
        "off (S/0/0)",
        "[ ACC ]     STREAM     LISTENING",
        "[ ]         STREAM     CONNECTED",
        "DGRAM",
        "SEQPACKET",
        "@sockeye-netstat-",
    ] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    if private {
        // The long address is cut to 23 bytes here, as netstat cuts it...
        assert!(
            text.contains("tcp6       0      0 2001:db8:1234:567:"),
            "{text}"
        );
        let wide = run(SOCKEYE, &["netstat"], &["-tanW"]);
        // ...and whole with -W.
        assert!(String::from_utf8_lossy(&wide.stdout).contains(&format!("{LONG_V6}:")));
    }
}

#[test]
fn continuous_prints_again_every_second_until_interrupted() {
    let mut child = Command::new(SOCKEYE)
        .args(["netstat", "-c", "-tn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("Active Internet connections") && tx.send(Instant::now()).is_err() {
                break;
            }
        }
    });
    let deadline = Duration::from_secs(10);
    let first = rx.recv_timeout(deadline).expect("a first listing");
    let second = rx.recv_timeout(deadline).expect("a second listing");
    let third = rx.recv_timeout(deadline).expect("a third listing");
    assert!(
        child.try_wait().expect("wait").is_none(),
        "-c ended by itself"
    );
    // SAFETY: kill on the pid of a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().expect("wait");
    assert!(!status.success(), "SIGINT ends -c as it ends netstat");
    for gap in [second - first, third - second] {
        assert!(gap >= Duration::from_millis(900), "listings {gap:?} apart");
    }
}

#[test]
fn sockeye_run_as_netstat_is_netstat() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("netstat");
    std::os::unix::fs::symlink(SOCKEYE, &link).expect("symlink");
    let link = link.to_str().expect("utf-8 path");
    let listener = tcp_listener(SocketAddr::new(LO4, 0), 8, None);
    let port = listener.local_addr().expect("addr").port();
    let row = |text: &str| {
        text.lines()
            .find(|l| l.contains(&format!("127.0.0.1:{port} ")))
            .map(str::to_string)
    };
    let via_link = run(link, &[], &["-tln"]);
    let sub = run(SOCKEYE, &["netstat"], &["-tln"]);
    assert!(via_link.status.success() && sub.status.success());
    let (a, b) = (
        String::from_utf8_lossy(&via_link.stdout),
        String::from_utf8_lossy(&sub.stdout),
    );
    assert!(a.starts_with(
        "Active Internet connections (only servers)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \n"
    ));
    let mine = row(&a).expect("the test's listener in netstat -tln");
    assert_eq!(Some(mine.clone()), row(&b));
    assert_eq!(
        mine,
        format!(
            "tcp        0      0 {:<23} 0.0.0.0:*               LISTEN     ",
            format!("127.0.0.1:{port}")
        )
    );
    // Its usage errors are netstat's too: one line, status 2.
    let bad = run(link, &[], &["-tz"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("invalid option '-z'"), "{err}");
    let help = run(link, &[], &["--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: netstat"));
}

#[test]
fn bad_options_are_one_line_and_status_2() {
    for (args, says) in [
        (&["-z"][..], "invalid option '-z'"),
        (&["-tnq"][..], "invalid option '-q'"),
        (&["--bogus"][..], "invalid option '--bogus'"),
        (&["-r"][..], "-r (the routing table) is not supported"),
        (&["-i"][..], "-i (the interface table) is not supported"),
        (&["-s"][..], "-s (protocol statistics) is not supported"),
        (
            &["-g"][..],
            "-g (multicast group memberships) is not supported",
        ),
        (&["-M"][..], "-M (masqueraded connections) is not supported"),
        (&["-A", "ipx"][..], "invalid value 'ipx'"),
    ] {
        let out = run(SOCKEYE, &["netstat"], args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed a table");
    }
    // The refusal names what is supported.
    let out = run(SOCKEYE, &["netstat"], &["-r"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("-t -u -w -x -l -a -n -p -e -o -W -4 -6 -c")
    );
}

#[test]
fn untrusted_unix_paths_are_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("evil\n\x1b[2Jname");
    let listener = UnixListener::bind(&path).expect("bind");
    let inode = inode_of(listener.as_raw_fd());
    let out = run(SOCKEYE, &["netstat"], &["-xl"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains('\x1b'),
        "an escape sequence reached the terminal"
    );
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.split_whitespace().any(|w| w == inode.to_string()))
        .collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert!(rows[0].ends_with("evil\\n\\x1b[2Jname"), "{}", rows[0]);
    let _ = std::io::stderr().flush();
}

#[test]
fn a_full_stdout_is_one_line_and_status_1() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let out = Command::new(SOCKEYE)
        .args(["netstat", "-xa"])
        .stdout(full)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot write to standard output"), "{err}");
}
