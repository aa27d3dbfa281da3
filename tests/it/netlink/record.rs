//! Records real kernel answers into tests/fixtures/netlink/*.bin. Not a test: run it by hand,
//! as root, in a private network namespace so the tables hold only its sockets:
//!
//! ```text
//! unshare -n sh -c 'ip link set lo up && cargo test --test it netlink::record -- --ignored --nocapture'
//! ```
//!
//! The sockets (fixed ports, which is fine in a private namespace) are what
//! `tests/it/netlink/fixtures.rs` expects.

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

use crate::common::{tcp_state_of, wait_until};
use sockeye::collect::Query;
use sockeye::collect::netlink::{NetlinkSource, fixture};

pub const UNIX_PATH: &str = "/tmp/sockeye-fixture.sock";

fn v6_listener(addr: Ipv6Addr, port: u16) -> OwnedFd {
    // SAFETY: raw socket calls on an fd this function owns.
    unsafe {
        let fd = OwnedFd::from_raw_fd(libc::socket(libc::AF_INET6, libc::SOCK_STREAM, 0));
        let off: libc::c_int = 0;
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            (&off as *const libc::c_int).cast(),
            4,
        );
        let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
        sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sa.sin6_port = port.to_be();
        sa.sin6_addr.s6_addr = addr.octets();
        let len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        assert_eq!(
            libc::bind(
                fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_in6).cast(),
                len
            ),
            0
        );
        assert_eq!(libc::listen(fd.as_raw_fd(), 7), 0);
        fd
    }
}

#[test]
#[ignore = "records fixtures; run by hand in a private netns (see the file's doc)"]
fn record_fixtures() {
    // tcp/ipv4: an overflowing listener (backlog 1, two pending), an ESTAB pair with 8
    // unread bytes, and a TIME-WAIT.
    let full = TcpListener::bind("127.0.0.1:40001").unwrap();
    // SAFETY: listen() on our own listening socket only changes its backlog.
    assert_eq!(unsafe { libc::listen(full.as_raw_fd(), 1) }, 0);
    let _p1 = TcpStream::connect("127.0.0.1:40001").unwrap();
    let _p2 = TcpStream::connect("127.0.0.1:40001").unwrap();
    let srv = TcpListener::bind("127.0.0.1:40002").unwrap();
    let mut c = TcpStream::connect("127.0.0.1:40002").unwrap();
    let (_accepted, _) = srv.accept().unwrap();
    c.write_all(b"12345678").unwrap();
    let tw = TcpStream::connect("127.0.0.1:40002").unwrap();
    let tw_port = tw.local_addr().unwrap().port();
    let (tw_srv, _) = srv.accept().unwrap();
    drop(tw);
    let state_is = |want: &str| {
        wait_until(Duration::from_secs(3), || {
            tcp_state_of(tw_port).iter().any(|s| s == want)
        })
    };
    assert!(state_is("FIN-WAIT-2"), "client never reached FIN-WAIT-2");
    drop(tw_srv);

    // tcp/ipv6: v6-only on ::1 (forced by the kernel), dual-stack on ::ffff:127.0.0.1,
    // and an ESTAB pair.
    let _v6 = v6_listener(Ipv6Addr::LOCALHOST, 40003);
    let _dual = v6_listener(Ipv4Addr::LOCALHOST.to_ipv6_mapped(), 40004);
    let _c6 = TcpStream::connect(SocketAddr::from((Ipv6Addr::LOCALHOST, 40003))).unwrap();

    // udp: bound and connected; a bound v6 one.
    let u1 = UdpSocket::bind("127.0.0.1:40005").unwrap();
    let u2 = UdpSocket::bind("127.0.0.1:40006").unwrap();
    u2.connect("127.0.0.1:40005").unwrap();
    u2.send(b"ping").unwrap();
    let _u6 = UdpSocket::bind("[::1]:40007").unwrap();

    // unix: a path listener with one pending connection, an abstract one, an unbound dgram.
    let _ = std::fs::remove_file(UNIX_PATH);
    let ul = UnixListener::bind(UNIX_PATH).unwrap();
    let _pending = UnixStream::connect(UNIX_PATH).unwrap();
    let abs = std::os::unix::net::SocketAddr::from_abstract_name("sockeye-fixture").unwrap();
    let _ua = UnixListener::bind_addr(&abs).unwrap();
    let _ud = UnixDatagram::unbound().unwrap();
    assert!(state_is("TIME-WAIT"), "client never reached TIME-WAIT");

    let q = Query {
        tcp_info: true,
        memory: true,
        ..Query::default()
    };
    let mut src = NetlinkSource::open().unwrap();
    src.set_recording(true);
    let (mut out, mut warnings, mut skipped) = (Vec::new(), Vec::new(), 0);
    src.dump(&q, &mut out, &mut warnings, &mut skipped).unwrap();
    println!("{} sockets, warnings {warnings:?}", out.len());

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/netlink");
    std::fs::create_dir_all(&dir).unwrap();
    let rec = src.take_recording();
    for table in ["tcp/ipv4", "tcp/ipv6", "udp/ipv4", "udp/ipv6", "unix"] {
        let mine: Vec<_> = rec.iter().filter(|r| r.0 == table).collect();
        let seq = mine.first().map(|r| r.1).unwrap_or(0);
        let datagrams: Vec<&[u8]> = mine.iter().map(|r| r.2.as_slice()).collect();
        let file = dir.join(format!("{}.bin", table.replace('/', "_")));
        std::fs::write(&file, fixture::encode(seq, &datagrams)).unwrap();
        println!("{}: {} datagrams", file.display(), datagrams.len());
    }
    drop((ul, u1));
    let _ = std::fs::remove_file(UNIX_PATH);
}
