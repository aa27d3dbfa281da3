//! Output-flag parity with ss: the test builds sockets that exercise every field of -e -i -m
//! -o -p -T -O -r --tos --cgroup --inet-sockopt (a listener with IP_TOS, a half-closed
//! connection with unread data, an IPv6 pair with a traffic class and a priority, a
//! TIME-WAIT, UDP, a unix listener with a pending peer, a half-shut unix pair), hands them
//! to a single-threaded child process (so -p and -T list one stable holder), then runs ss
//! and `sockeye dump` with the same arguments over a table of flag sets and compares the
//! outputs token by token. Only what changes from one moment to the next is masked: the
//! lastsnd/lastrcv/lastack ages and a timer's remaining time.
//!
//! As root it runs in a private network namespace (the tables are the test's alone, and
//! `-r` is tried: the resolver is unreachable from there, /etc/hosts names 127.0.0.1).
//! Otherwise it filters by its own ports and paths and leaves `-r` out.

mod file;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::Command;
use std::time::Duration;

use crate::common::*;

/// A forked child that only waits, holding the test's sockets; killed on drop.
struct Holder(libc::pid_t);

impl Holder {
    fn fork() -> Holder {
        // SAFETY: the child calls only pause(), which is async-signal-safe, so forking a
        // multithreaded process is sound; the parent only records the pid.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            loop {
                // SAFETY: pause has no preconditions.
                unsafe { libc::pause() };
            }
        }
        Holder(pid)
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        // SAFETY: signalling and reaping our own child.
        unsafe {
            libc::kill(self.0, libc::SIGKILL);
            libc::waitpid(self.0, std::ptr::null_mut(), 0);
        }
    }
}

fn set_int(fd: i32, level: i32, opt: i32, v: i32) {
    // SAFETY: a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&v as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt: {}", std::io::Error::last_os_error());
}

/// The sockets, and what selects them.
struct Fixture {
    _dir: tempfile::TempDir,
    /// `( sport = :P or dport = :P ... )` over every inet port.
    inet_filter: Vec<String>,
    /// The unix paths.
    unix_filter: Vec<String>,
    _holder: Holder,
}

fn fixture(private: bool) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ports = Vec::new();

    let tos =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    set_int(tos.as_raw_fd(), libc::IPPROTO_IP, libc::IP_TOS, 0x10);
    tos.bind(&SocketAddr::new(LO4, 0).into()).expect("bind");
    tos.listen(8).expect("listen");
    let tos: TcpListener = tos.into();
    ports.push(tos.local_addr().expect("addr").port());

    // Half-closed with unread data: FIN-WAIT-2 and CLOSE-WAIT, Recv-Q, ato, rcv_rtt.
    let l4 = TcpListener::bind(SocketAddr::new(LO4, 0)).expect("bind");
    ports.push(l4.local_addr().expect("addr").port());
    let mut c4 = TcpStream::connect(l4.local_addr().expect("addr")).expect("connect");
    let (mut a4, _) = l4.accept().expect("accept");
    c4.write_all(&[b'x'; 1000]).expect("write");
    let mut buf = [0u8; 10];
    a4.read_exact(&mut buf).expect("read");
    c4.shutdown(std::net::Shutdown::Write).expect("shutdown");

    // IPv6, v6only, traffic class and priority (class_id), cubic.
    let l6 = tcp_listener(SocketAddr::new(LO6, 0), 8, Some(true));
    ports.push(l6.local_addr().expect("addr").port());
    let c6 =
        socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None).expect("socket");
    set_int(c6.as_raw_fd(), libc::IPPROTO_IPV6, libc::IPV6_TCLASS, 0x20);
    set_int(c6.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PRIORITY, 3);
    // Another congestion module than the default, where the kernel has it.
    let _ = c6.set_tcp_congestion(b"cubic");
    c6.connect(&l6.local_addr().expect("addr").into())
        .expect("connect");
    let (a6, _) = l6.accept().expect("accept");

    let tw = time_wait(LO4);
    ports.extend([tw.port, tw.client_port]);

    let u6 = UdpSocket::bind(SocketAddr::new(LO6, 0)).expect("bind udp");
    ports.push(u6.local_addr().expect("addr").port());

    // unix: a listener with a connection it has not accepted (peers:), a pair whose client
    // shut its reading side (-->/<--), a bound path (ino:/dev:).
    let lpath = dir.path().join("l.sock");
    let ul = UnixListener::bind(&lpath).expect("bind unix");
    let pending = UnixStream::connect(&lpath).expect("connect unix");
    let apath = dir.path().join("a.sock");
    let ua = UnixListener::bind(&apath).expect("bind unix");
    let uc = UnixStream::connect(&apath).expect("connect unix");
    let (us, _) = ua.accept().expect("accept unix");
    uc.shutdown(std::net::Shutdown::Read)
        .expect("shutdown unix");

    assert!(
        wait_until(Duration::from_secs(5), || {
            let st = tcp_state_of(c4.local_addr().expect("addr").port());
            st.iter().any(|s| s == "FIN-WAIT-2")
        }),
        "no FIN-WAIT-2"
    );
    let holder = Holder::fork();
    // The child holds them now; the parent's copies go, so each socket has one holder.
    drop((tos, l4, c4, a4, l6, c6, a6, u6, ul, pending, ua, uc, us));
    let paths = [&lpath, &apath];
    let mut unix_filter = Vec::new();
    if !private {
        for (i, p) in paths.iter().enumerate() {
            if i > 0 {
                unix_filter.push("or".to_string());
            }
            unix_filter.extend(["src".to_string(), p.display().to_string()]);
        }
    }
    Fixture {
        _dir: dir,
        inet_filter: port_filter(ports),
        unix_filter,
        _holder: holder,
    }
}

/// Mask what changes between two readings a moment apart, and split into tokens (column
/// padding follows the widest cell, which a masked value can change).
fn tokens(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|t| {
            for age in ["lastsnd:", "lastrcv:", "lastack:"] {
                if t.starts_with(age) {
                    return format!("{age}N");
                }
            }
            if let Some(rest) = t.strip_prefix("timer:(")
                && let Some((kind, tail)) = rest.split_once(',')
                && let Some((_, retrans)) = tail.split_once(',')
            {
                return format!("timer:({kind},T,{retrans}");
            }
            t.to_string()
        })
        .collect()
}

fn run(program: &str, args: &[String]) -> (bool, String, String) {
    let mut cmd = Command::new(program);
    if program != "ss" {
        cmd.args(["dump", "--no-config"]);
    }
    let out = cmd
        .args(args)
        .env_remove("TCPDIAG_FILE")
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// ss and sockeye agree on `args`; read again (up to three times) when they do not, in case
/// the kernel moved between the two readings.
fn assert_same(args: &[String]) {
    let mut last = String::new();
    for _ in 0..3 {
        let (ok_ss, ss_out, ss_err) = run("ss", args);
        let (ok_me, me_out, me_err) = run(env!("CARGO_BIN_EXE_sockeye"), args);
        assert!(ok_ss, "ss {args:?} failed: {ss_err}");
        assert!(ok_me, "sockeye dump {args:?} failed: {me_err}");
        if tokens(&ss_out) == tokens(&me_out) && ss_out.lines().count() == me_out.lines().count() {
            return;
        }
        last = format!("ss {args:?}:\n{ss_out}\nsockeye dump {args:?}:\n{me_out}");
    }
    panic!("outputs differ\n{last}");
}

/// The flag sets: each alone, then combined.
const INET_SETS: &[&str] = &[
    "-tan",
    "-tane",
    "-tani",
    "-tanm",
    "-tano",
    "-tanp",
    "-tanT",
    "-tanO",
    "-tan --tos",
    "-tan --cgroup",
    "-tan --inet-sockopt",
    "-tanb",
    "-tanH",
    "-tanie",
    "-tanio",
    "-tanieO",
    "-tanimO --inet-sockopt",
    "-tanieomp --tos --cgroup --inet-sockopt",
    "-taniemT --tos --cgroup --inet-sockopt",
    "-taneO --tos --cgroup --inet-sockopt -p",
    "-tanHiemo",
    "-uan",
    "-uane --tos --cgroup --inet-sockopt",
    "-uanm",
    "-uaniemp",
    "-uanT",
    "-uaneO --inet-sockopt",
    "-tuanepm",
];

const UNIX_SETS: &[&str] = &[
    "-xa", "-xae", "-xam", "-xaem", "-xap", "-xaT", "-xaeO", "-xaemp", "-xaH",
];

#[test]
fn flag_sets_match_ss() {
    if !require_tool("ss", "iproute2") {
        return;
    }
    let private = enter_private_netns();
    let f = fixture(private);
    let words = |set: &str, filter: &[String]| {
        let mut v: Vec<String> = set.split(' ').map(String::from).collect();
        v.extend(filter.iter().cloned());
        v
    };
    // The fixture reaches every field the flag sets are about (else agreeing proves little);
    // checked first, while the TIME-WAIT lives (60 s, and a loaded machine is slow).
    let all =
        |set: &str, filter: &[String]| run(env!("CARGO_BIN_EXE_sockeye"), &words(set, filter)).1;
    let inet = all("-tuaniemT --tos --cgroup --inet-sockopt", &f.inet_filter);
    for want in [
        "tos:0x10",
        "tclass:0x20",
        "class_id:0x3",
        " <-> ",
        " --> ",
        " <-- ",
        "v6only:1",
        "cgroup:/",
        "inet-sockopt: ( is_icsk",
        "skmem:(r",
        "ts sack",
        "wscale:",
        "rcv_space:",
        "bytes_received:",
        "timer:(timewait,",
        ",tid=",
        "minrtt:",
    ] {
        assert!(inet.contains(want), "no {want:?} in\n{inet}");
    }
    let unix = all("-xaemT", &f.unix_filter);
    for want in [" peers: ", " dev:", " <-- ", "skmem:(", ",tid="] {
        assert!(unix.contains(want), "no {want:?} in\n{unix}");
    }
    // The unnamed client end, which only the private namespace's whole table shows.
    assert!(
        !private || unix.contains(" --> "),
        "no \" --> \" in\n{unix}"
    );
    for set in INET_SETS {
        assert_same(&words(set, &f.inet_filter));
    }
    for set in UNIX_SETS {
        assert_same(&words(set, &f.unix_filter));
    }
    if private {
        // Host names: /etc/hosts (127.0.0.1), no resolver reachable from here.
        for set in ["-tar", "-tarie", "-uar"] {
            assert_same(&words(set, &f.inet_filter));
        }
    }
}
