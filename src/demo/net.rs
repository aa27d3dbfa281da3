//! Socket helpers for what std cannot do: a listen backlog other than 128, a receive buffer
//! set before the handshake, and a connect that does not wait for the handshake.

use std::io;
use std::mem;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A non-blocking listener on `addr` with exactly `backlog` as the accept-queue limit.
/// std binds with SO_REUSEADDR and listens with 128; Linux lets a second `listen()` on a
/// listening socket change the limit, so no connection can arrive under the wrong one
/// before any client of ours exists.
pub fn listen(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    // SAFETY: listen(2) on a valid fd we own.
    if unsafe { libc::listen(listener.as_raw_fd(), backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Socket options a client sets before its SYN.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectOpts {
    /// SO_RCVBUF, so the advertised window matches a small buffer from the start.
    pub rcvbuf: Option<u32>,
    /// TCP_SYNCNT: SYN retransmissions before connect() gives up (the default, 6, waits
    /// about two minutes).
    pub syn_retries: Option<u8>,
}

/// Start a non-blocking connect to `addr`.
pub fn connect(addr: SocketAddr, opts: ConnectOpts) -> io::Result<TcpStream> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: plain socket(2); the fd is wrapped in OwnedFd at once.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    if let Some(size) = opts.rcvbuf {
        set_int_opt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, size as libc::c_int)?;
    }
    if let Some(n) = opts.syn_retries {
        set_int_opt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_SYNCNT,
            libc::c_int::from(n),
        )?;
    }
    let (storage, len) = sockaddr(addr);
    // SAFETY: storage holds a valid sockaddr of `len` bytes.
    let rc = unsafe { libc::connect(fd, (&raw const storage).cast::<libc::sockaddr>(), len) };
    if rc != 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(err);
        }
    }
    Ok(TcpStream::from(owned))
}

/// Where a non-blocking connect stands.
#[derive(Debug)]
pub enum ConnectState {
    Pending,
    Connected,
    Failed(io::Error),
}

pub fn connect_state(stream: &TcpStream) -> ConnectState {
    match stream.take_error() {
        Ok(Some(e)) => return ConnectState::Failed(e),
        Err(e) => return ConnectState::Failed(e),
        Ok(None) => {}
    }
    match stream.peer_addr() {
        Ok(_) => ConnectState::Connected,
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => ConnectState::Pending,
        Err(e) => ConnectState::Failed(e),
    }
}

pub fn set_sndbuf(stream: &TcpStream, size: u32) -> io::Result<()> {
    set_int_opt(
        stream.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_SNDBUF,
        size as libc::c_int,
    )
}

fn set_int_opt(
    fd: RawFd,
    level: libc::c_int,
    opt: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: value is a valid c_int for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&raw const value).cast::<libc::c_void>(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
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
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in>().write(sin) };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in6>().write(sin6) };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// Wait until one of `fds` is ready or `timeout_ms` passes. EINTR counts as a timeout.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) {
    // SAFETY: fds is a valid, exclusively borrowed slice of pollfd.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
}

pub fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn nonblocking_connect_completes_on_loopback() {
        let l = listen("127.0.0.1:0".parse().unwrap(), 1).unwrap();
        let addr = l.local_addr().unwrap();
        let opts = ConnectOpts {
            rcvbuf: Some(4096),
            syn_retries: Some(2),
        };
        let c = connect(addr, opts).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match connect_state(&c) {
                ConnectState::Connected => break,
                ConnectState::Pending if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                other => panic!("connect: {other:?}"),
            }
        }
        assert_eq!(c.peer_addr().unwrap(), addr);
    }

    #[test]
    fn refused_connect_fails() {
        // Bind then drop to get a port with no listener.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let c = connect(port, ConnectOpts::default()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match connect_state(&c) {
                ConnectState::Failed(_) => break,
                ConnectState::Pending if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                other => panic!("expected failure, got {other:?}"),
            }
        }
    }
}
