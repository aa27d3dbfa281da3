//! Socket helpers for what std cannot do: a listen backlog other than 128, a receive buffer
//! set before the handshake, and a connect that does not wait for the handshake. socket2
//! does the work; only TCP_SYNCNT, which it does not offer, is a raw setsockopt.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// A non-blocking listener on `addr` with exactly `backlog` as the accept-queue limit
/// (SO_REUSEADDR as std sets it). No connection can arrive before listen() sets the limit.
pub fn listen(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
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
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    if let Some(size) = opts.rcvbuf {
        socket.set_recv_buffer_size(size as usize)?;
    }
    if let Some(n) = opts.syn_retries {
        set_syn_retries(socket.as_raw_fd(), n)?;
    }
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
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
    SockRef::from(stream).set_send_buffer_size(size as usize)
}

fn set_syn_retries(fd: RawFd, n: u8) -> io::Result<()> {
    let value = libc::c_int::from(n);
    // SAFETY: setsockopt(2) on a valid fd, with a c_int that lives for the call and its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_SYNCNT,
            (&raw const value).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
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
        // The options were set before the SYN (the kernel doubles SO_RCVBUF).
        let sock = SockRef::from(&c);
        assert!(sock.recv_buffer_size().unwrap() >= 4096);
        assert!(sock.nonblocking().unwrap());
        assert!(l.accept().is_ok());
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
