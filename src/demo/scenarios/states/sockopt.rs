//! The socket calls the recipes need that std and socket2 do not offer directly: a TCP
//! state read back from TCP_INFO, an int option by number, and close-with-reset.

use std::io;
use std::net::TcpStream;
use std::os::fd::RawFd;
use std::time::Duration;

use socket2::SockRef;

// Linux TCP states as TCP_INFO reports them (include/net/tcp_states.h).
pub const ESTABLISHED: u8 = 1;
pub const FIN_WAIT1: u8 = 4;
pub const FIN_WAIT2: u8 = 5;
pub const CLOSE_WAIT: u8 = 8;
pub const LAST_ACK: u8 = 9;
pub const CLOSING: u8 = 11;

/// Close with a reset (SO_LINGER 0), so nothing lingers in a closing state.
pub fn abort_on_close(s: &TcpStream) {
    let _ = SockRef::from(s).set_linger(Some(Duration::ZERO));
}

/// The socket's TCP state from TCP_INFO (its first byte), None when it cannot be read.
pub fn tcp_state(fd: RawFd) -> Option<u8> {
    let mut info = [0u8; 8];
    let mut len = info.len() as libc::socklen_t;
    // SAFETY: getsockopt(2) on a valid fd into a buffer of `len` bytes that outlives the call.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast::<libc::c_void>(),
            &raw mut len,
        )
    };
    (rc == 0 && len >= 1).then_some(info[0])
}

pub fn set_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: setsockopt(2) on a valid fd, with a c_int that lives for the call and its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
