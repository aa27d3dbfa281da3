//! Socket scenarios for integration tests: each builder creates real sockets on loopback in a
//! known kernel state and returns a guard that keeps them alive, plus what identifies them
//! (ports, unix paths). Every wait is bounded. Also a parser for `ss` output, the oracle.
//!
//! Use from a test crate with tests/it/common.rs. Not every test uses every helper.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub mod skip;
pub use skip::{require, require_non_root, require_root, require_tool};

pub const LO4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
pub const LO6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// Poll `f` until it returns true or `timeout` passes. Returns whether it became true.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Filter words selecting sockets with any of `ports` as local or peer port, parenthesized,
/// so a test reads only its own rows even when the machine holds 100,000 other sockets.
pub fn port_filter<P: std::fmt::Display>(ports: impl IntoIterator<Item = P>) -> Vec<String> {
    let mut w = vec!["(".to_string()];
    for (i, p) in ports.into_iter().enumerate() {
        if i > 0 {
            w.push("or".into());
        }
        let port = format!(":{p}");
        w.extend(["sport", "=", &port, "or", "dport", "=", &port].map(String::from));
    }
    w.push(")".into());
    w
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Move the calling thread (and the processes it spawns) into a fresh network namespace
/// with `lo` up, so the socket table is the test's alone. Root only; returns false (and
/// changes nothing) otherwise. Only call it from a test's own thread.
pub fn enter_private_netns() -> bool {
    if !is_root() {
        return false;
    }
    // SAFETY: unshare affects only the calling thread's namespaces.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return false;
    }
    Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn check(rc: libc::c_int, what: &str) -> libc::c_int {
    if rc < 0 {
        panic!("{what}: {}", std::io::Error::last_os_error());
    }
    rc
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is large enough for sockaddr_in.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in, sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_storage is large enough for sockaddr_in6.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in6, sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

fn setsockopt_int(fd: RawFd, level: libc::c_int, opt: libc::c_int, v: libc::c_int) {
    // SAFETY: passing a pointer to a live c_int and its size.
    check(
        unsafe {
            libc::setsockopt(
                fd,
                level,
                opt,
                &v as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        },
        "setsockopt",
    );
}

fn new_socket(family: libc::c_int, ty: libc::c_int) -> OwnedFd {
    // SAFETY: socket() returns a new fd we take ownership of.
    let fd = check(
        unsafe { libc::socket(family, ty | libc::SOCK_CLOEXEC, 0) },
        "socket",
    );
    // SAFETY: fd is a fresh, owned descriptor.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A TCP listener on `addr` (port 0: ephemeral) with an exact backlog — std always uses 128.
/// For IPv6, `v6only` sets IPV6_V6ONLY.
pub fn tcp_listener(addr: SocketAddr, backlog: i32, v6only: Option<bool>) -> TcpListener {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = new_socket(family, libc::SOCK_STREAM);
    if let Some(v) = v6only {
        setsockopt_int(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            v as i32,
        );
    }
    let (sa, len) = sockaddr(addr);
    // SAFETY: sa/len describe a valid sockaddr.
    check(
        unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sa as *const _ as *const libc::sockaddr,
                len,
            )
        },
        "bind",
    );
    // SAFETY: plain syscall on our fd.
    check(unsafe { libc::listen(fd.as_raw_fd(), backlog) }, "listen");
    TcpListener::from(fd)
}

/// A client bound to `from` (port 0) and connected to `to`.
pub fn tcp_connect_from(from: IpAddr, to: SocketAddr) -> TcpStream {
    let family = if from.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = new_socket(family, libc::SOCK_STREAM);
    let (sa, len) = sockaddr(SocketAddr::new(from, 0));
    // SAFETY: sa/len describe a valid sockaddr; plain syscall on our fd.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sa as *const _ as *const libc::sockaddr,
            len,
        )
    };
    check(rc, "bind");
    let (sa, len) = sockaddr(to);
    // SAFETY: as above.
    let rc = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            &sa as *const _ as *const libc::sockaddr,
            len,
        )
    };
    check(rc, "connect");
    TcpStream::from(fd)
}

/// Start a connection without waiting for it (non-blocking connect). The socket may stay in
/// SYN-SENT if the listener drops the SYN.
pub fn tcp_connect_nowait(to: SocketAddr) -> OwnedFd {
    let family = if to.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = new_socket(family, libc::SOCK_STREAM | libc::SOCK_NONBLOCK);
    let (sa, len) = sockaddr(to);
    // SAFETY: sa/len describe a valid sockaddr.
    let rc = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            &sa as *const _ as *const libc::sockaddr,
            len,
        )
    };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        assert_eq!(e.raw_os_error(), Some(libc::EINPROGRESS), "connect: {e}");
    }
    fd
}

/// Local port of a socket fd.
pub fn local_port(fd: RawFd) -> u16 {
    // SAFETY: getsockname fills the storage up to len.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    check(
        unsafe { libc::getsockname(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len) },
        "getsockname",
    );
    // Both sockaddr_in and sockaddr_in6 keep the port right after the family.
    let sin = unsafe { &*(&ss as *const _ as *const libc::sockaddr_in) };
    u16::from_be(sin.sin_port)
}

/// Set SO_SNDBUF / SO_RCVBUF (the kernel doubles and clamps them).
pub fn set_buffers(fd: RawFd, snd: i32, rcv: i32) {
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, snd);
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, rcv);
}

/// Run `ss` with `args` and return its output lines (the oracle).
pub fn ss(args: &[&str]) -> Vec<String> {
    let out = Command::new("ss").args(args).output().expect("run ss");
    assert!(out.status.success(), "ss {args:?} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The state ss shows for the TCP socket with this local port (`ss -tanH sport = :P`).
pub fn tcp_state_of(port: u16) -> Vec<String> {
    ss(&["-tanH", "sport", "=", &format!(":{port}")])
        .iter()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// One parsed line of `ss -tuxanoeH` style output.
#[derive(Debug, Clone, PartialEq)]
pub struct SsRow {
    pub netid: String,
    pub state: String,
    pub recv_q: u64,
    pub send_q: u64,
    /// Address as ss prints it without brackets (`*` kept).
    pub local_addr: String,
    /// Port, or the inode for unix.
    pub local_port: u64,
    pub peer_addr: String,
    pub peer_port: u64,
    /// `ino:` (inet with -e); for unix the local port is the inode.
    pub inode: Option<u64>,
    pub uid: Option<u64>,
    pub cookie: Option<u64>,
    pub timer: Option<String>,
}

fn split_addr(tok: &str) -> (String, u64) {
    let (a, p) = tok.rsplit_once(':').unwrap_or((tok, "*"));
    let a = a.trim_start_matches('[').trim_end_matches(']');
    // Strip an interface suffix.
    let a = a.split('%').next().unwrap_or(a);
    let p = if p == "*" { 0 } else { p.parse().unwrap_or(0) };
    (a.to_string(), p)
}

/// Parse ss output lines (with Netid column, `-n`, `-H`; `-e`/`-o` extras understood).
/// Unix paths must not contain spaces.
pub fn parse_ss(lines: &[String]) -> Vec<SsRow> {
    let mut rows = Vec::new();
    for line in lines {
        if line.starts_with('\t') || line.trim().is_empty() {
            continue;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() < 6 {
            continue;
        }
        let netid = t[0].to_string();
        let unix = netid.starts_with("u_");
        let (local_addr, local_port, peer_addr, peer_port, rest) = if unix {
            if t.len() < 8 {
                continue;
            }
            (
                t[4].to_string(),
                t[5].parse().unwrap_or(0),
                t[6].to_string(),
                t[7].parse().unwrap_or(0),
                &t[8..],
            )
        } else {
            let (la, lp) = split_addr(t[4]);
            let (pa, pp) = split_addr(t[5]);
            (la, lp, pa, pp, &t[6..])
        };
        let mut row = SsRow {
            netid,
            state: t[1].to_string(),
            recv_q: t[2].parse().unwrap_or(0),
            send_q: t[3].parse().unwrap_or(0),
            local_addr,
            local_port,
            peer_addr,
            peer_port,
            inode: None,
            uid: None,
            cookie: None,
            timer: None,
        };
        for x in rest {
            if let Some(v) = x.strip_prefix("ino:") {
                row.inode = v.parse().ok();
            } else if let Some(v) = x.strip_prefix("uid:") {
                row.uid = v.parse().ok();
            } else if let Some(v) = x.strip_prefix("sk:") {
                row.cookie = u64::from_str_radix(v, 16).ok();
            } else if let Some(v) = x.strip_prefix("timer:(") {
                row.timer = v.split(',').next().map(str::to_string);
            }
        }
        rows.push(row);
    }
    rows
}

// ---------------------------------------------------------------------------------------
// Scenarios. Each guard keeps its sockets open until dropped.

/// A listener with backlog 1 whose accept queue overflowed: two un-accepted connections in
/// the queue (`LISTEN 2 1`) and a third client stuck in SYN-SENT.
pub struct BacklogOverflow {
    pub listener: TcpListener,
    pub queued: Vec<TcpStream>,
    pub syn_sent: OwnedFd,
    pub port: u16,
    pub syn_sent_port: u16,
}

pub fn backlog_overflow(ip: IpAddr) -> BacklogOverflow {
    let listener = tcp_listener(SocketAddr::new(ip, 0), 1, None);
    let addr = listener.local_addr().expect("local addr");
    let queued: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect"))
        .collect();
    // The queue now holds 2 > 1: the next SYN is dropped and the client retransmits.
    let syn_sent = tcp_connect_nowait(addr);
    let syn_sent_port = local_port(syn_sent.as_raw_fd());
    assert!(
        wait_until(Duration::from_secs(3), || tcp_state_of(syn_sent_port)
            .iter()
            .any(|s| s == "SYN-SENT")),
        "client did not stay in SYN-SENT"
    );
    BacklogOverflow {
        port: addr.port(),
        listener,
        queued,
        syn_sent,
        syn_sent_port,
    }
}

/// An accepted connection whose server side holds `unread` bytes it never reads.
pub struct Pair {
    pub listener: TcpListener,
    pub client: TcpStream,
    pub server: TcpStream,
    pub port: u16,
    pub client_port: u16,
}

/// A connected pair on `listen_at` (connect to `connect_to`, usually the same address).
pub fn tcp_pair(
    listen_at: SocketAddr,
    connect_to: Option<SocketAddr>,
    v6only: Option<bool>,
) -> Pair {
    let listener = tcp_listener(listen_at, 16, v6only);
    let port = listener.local_addr().expect("addr").port();
    let mut to = connect_to.unwrap_or(listen_at);
    to.set_port(port);
    let client = TcpStream::connect_timeout(&to, Duration::from_secs(2)).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    let client_port = client.local_addr().expect("addr").port();
    Pair {
        listener,
        client,
        server,
        port,
        client_port,
    }
}

/// Wait until ss shows `want` Recv-Q on the TCP socket with local port `port`.
pub fn wait_recv_q(port: u16, want: u64) -> bool {
    wait_until(Duration::from_secs(3), || {
        ss(&["-tanH", "sport", "=", &format!(":{port}")])
            .iter()
            .any(|l| l.split_whitespace().nth(1).and_then(|q| q.parse().ok()) == Some(want))
    })
}

/// Server-side ESTAB with `n` unread bytes.
pub fn estab_unread(ip: IpAddr, n: usize) -> Pair {
    let mut p = tcp_pair(SocketAddr::new(ip, 0), None, None);
    p.client.write_all(&vec![b'x'; n]).expect("write");
    // The server's row is the accepted socket: local port = listener port, peer = client.
    assert!(
        wait_until(Duration::from_secs(3), || {
            ss(&["-tanH", "dport", "=", &format!(":{}", p.client_port)])
                .iter()
                .any(|l| l.split_whitespace().nth(1) == Some(&n.to_string()))
        }),
        "Recv-Q never reached {n}"
    );
    p
}

/// Server in CLOSE-WAIT (the client closed; `unread` bytes left unread) and the closed
/// client as an orphan in FIN-WAIT-2.
pub struct CloseWait {
    pub listener: TcpListener,
    pub server: TcpStream,
    pub port: u16,
    pub client_port: u16,
}

pub fn close_wait(ip: IpAddr, unread: usize) -> CloseWait {
    let mut p = tcp_pair(SocketAddr::new(ip, 0), None, None);
    if unread > 0 {
        p.client.write_all(&vec![b'y'; unread]).expect("write");
    }
    let client_port = p.client_port;
    drop(p.client);
    assert!(
        wait_until(Duration::from_secs(3), || tcp_state_of(client_port)
            .iter()
            .any(|s| s == "FIN-WAIT-2")),
        "client never reached FIN-WAIT-2"
    );
    CloseWait {
        listener: p.listener,
        server: p.server,
        port: p.port,
        client_port,
    }
}

/// A client in TIME-WAIT (it closed first, then the server closed). Nothing to keep open.
pub struct TimeWait {
    pub port: u16,
    pub client_port: u16,
}

pub fn time_wait(ip: IpAddr) -> TimeWait {
    let p = tcp_pair(SocketAddr::new(ip, 0), None, None);
    let (port, client_port) = (p.port, p.client_port);
    p.client.shutdown(std::net::Shutdown::Both).ok();
    let mut server = p.server;
    let mut buf = [0u8; 16];
    // Read the FIN, then close: the client ends in TIME-WAIT.
    server
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let _ = server.read(&mut buf);
    drop(server);
    drop(p.client);
    drop(p.listener);
    assert!(
        wait_until(Duration::from_secs(3), || tcp_state_of(client_port)
            .iter()
            .any(|s| s == "TIME-WAIT")),
        "no TIME-WAIT"
    );
    TimeWait { port, client_port }
}

/// A server writing to a client that never reads, with small buffers: Send-Q builds up.
pub fn send_q_buildup(ip: IpAddr) -> Pair {
    let listener = tcp_listener(SocketAddr::new(ip, 0), 16, None);
    let addr = listener.local_addr().expect("addr");
    let client = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    set_buffers(client.as_raw_fd(), 4096, 4096);
    let (mut server, _) = listener.accept().expect("accept");
    set_buffers(server.as_raw_fd(), 4096, 4096);
    server.set_nonblocking(true).expect("nonblocking");
    let chunk = [b'z'; 4096];
    let end = Instant::now() + Duration::from_secs(3);
    // Write until the kernel refuses more (both windows full).
    while Instant::now() < end {
        match server.write(&chunk) {
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("write: {e}"),
        }
    }
    let client_port = client.local_addr().expect("addr").port();
    Pair {
        port: addr.port(),
        listener,
        client,
        server,
        client_port,
    }
}

/// A dual-stack listener on `::` (v6only off) with an IPv4 client: the accepted socket's
/// addresses are v4-mapped. Binds the wildcard address: use inside a private netns.
pub fn dual_stack() -> Pair {
    tcp_pair(
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
        Some(SocketAddr::new(LO4, 0)),
        Some(false),
    )
}

/// A bound UDP socket and a connected one talking to it.
pub struct Udp {
    pub bound: UdpSocket,
    pub connected: UdpSocket,
    pub bound_port: u16,
    pub connected_port: u16,
}

pub fn udp(ip: IpAddr) -> Udp {
    let bound = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind udp");
    let connected = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind udp");
    connected
        .connect(bound.local_addr().expect("addr"))
        .expect("connect udp");
    Udp {
        bound_port: bound.local_addr().expect("addr").port(),
        connected_port: connected.local_addr().expect("addr").port(),
        bound,
        connected,
    }
}

/// A unix stream listener with one accepted and one un-accepted connection.
pub struct UnixStreams {
    pub path: PathBuf,
    pub listener: UnixListener,
    pub accepted: UnixStream,
    pub accepted_client: UnixStream,
    pub pending_client: UnixStream,
}

pub fn unix_streams(dir: &Path) -> UnixStreams {
    let path = dir.join("stream.sock");
    let listener = UnixListener::bind(&path).expect("bind unix");
    let accepted_client = UnixStream::connect(&path).expect("connect unix");
    let (accepted, _) = listener.accept().expect("accept unix");
    let pending_client = UnixStream::connect(&path).expect("connect unix");
    UnixStreams {
        path,
        listener,
        accepted,
        accepted_client,
        pending_client,
    }
}

/// A bound unix datagram socket.
pub fn unix_dgram(dir: &Path) -> (PathBuf, UnixDatagram) {
    let path = dir.join("dgram.sock");
    let s = UnixDatagram::bind(&path).expect("bind unix dgram");
    (path, s)
}

/// Socket inode of an fd (from /proc/self/fd).
pub fn inode_of(fd: RawFd) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).expect("readlink");
    let s = link.to_string_lossy();
    s.trim_start_matches("socket:[")
        .trim_end_matches(']')
        .parse()
        .expect("socket inode")
}
