//! Asking the kernel whether it can dump a table sockeye does not decode yet (SCTP, DCCP,
//! vsock, TIPC, XDP), and how many sockets it holds: so that an empty table is printed only
//! when it is truly empty or the kernel lacks the diag module, never over sockets.
//!
//! The requests are written by hand from the UAPI headers: netlink-packet-sock-diag has
//! inet and unix requests only. `struct vsock_diag_req` (linux/vm_sockets_diag.h): family,
//! protocol, pad u16, states u32, ino u32, show u32, cookie[2]; `struct tipc_sock_diag_req`
//! (linux/tipc_sockets_diag.h): family, protocol, pad u16, states u32; `struct
//! xdp_diag_req` (linux/xdp_diag.h): family, protocol, pad u16, ino u32, show u32,
//! cookie[2].

use std::io;
use std::os::fd::AsRawFd;

use super::wire::{self, Messages, NLMSG_DONE, NLMSG_ERROR, Next, SOCK_DIAG_BY_FAMILY};
use crate::collect::Host;
use crate::tables::Probe;

const AF_TIPC: u8 = libc::AF_TIPC as u8;
const AF_VSOCK: u8 = libc::AF_VSOCK as u8;
const AF_XDP: u8 = libc::AF_XDP as u8;

/// The dump requests of a probe, one per family asked.
pub fn requests(probe: Probe, seq: u32) -> Vec<Vec<u8>> {
    let body = |fixed: &[u8]| {
        let mut v = Vec::with_capacity(wire::NLMSG_HDRLEN + fixed.len());
        wire::diag_header(fixed.len(), seq, &mut v);
        v.extend_from_slice(fixed);
        v
    };
    let all = u32::MAX.to_ne_bytes();
    let no_cookie = [0xffu8; 8];
    match probe {
        Probe::Inet { protocol } => [wire::AF_INET, wire::AF_INET6]
            .into_iter()
            .map(|family| {
                let mut out = Vec::new();
                wire::inet_request(family, protocol.into(), 0, 0xfff, None, seq, &mut out);
                out
            })
            .collect(),
        Probe::Vsock { .. } => {
            let mut b = vec![AF_VSOCK, 0, 0, 0];
            b.extend_from_slice(&all);
            b.extend_from_slice(&[0; 8]); // ino, show
            b.extend_from_slice(&no_cookie);
            vec![body(&b)]
        }
        Probe::Tipc => {
            let mut b = vec![AF_TIPC, 0, 0, 0];
            b.extend_from_slice(&all);
            vec![body(&b)]
        }
        Probe::Xdp => {
            let mut b = vec![AF_XDP, 0, 0, 0];
            b.extend_from_slice(&[0; 8]); // ino (every socket), show
            b.extend_from_slice(&no_cookie);
            vec![body(&b)]
        }
    }
}

/// What the answers to one request said: sockets counted (of `sock_type` when non-zero,
/// read from the answer's second byte, the socket type in vsock_diag_msg), `Ok(None)` when
/// the dump ended, `Err(errno)` when the kernel refused it.
fn count(data: &[u8], seq: u32, sock_type: u8, sockets: &mut usize) -> Result<Option<()>, i32> {
    for next in Messages::new(data) {
        let Next::Msg(h, payload) = next else {
            return Err(libc::EBADMSG);
        };
        if h.seq != seq {
            continue;
        }
        match h.kind {
            SOCK_DIAG_BY_FAMILY if sock_type == 0 || payload.get(1) == Some(&sock_type) => {
                *sockets += 1;
            }
            SOCK_DIAG_BY_FAMILY => {}
            NLMSG_DONE => {
                return match wire::error_code(payload) {
                    0 => Ok(Some(())),
                    e => Err(e),
                };
            }
            NLMSG_ERROR => match wire::error_code(payload) {
                0 => {}
                e => return Err(e),
            },
            _ => {}
        }
    }
    Ok(None)
}

/// How many sockets `host`'s kernel holds in the table `probe` asks for; the error the
/// kernel answered when it cannot dump it (ENOENT: no diag module).
pub fn probe(host: &Host, probe: Probe) -> io::Result<usize> {
    let sock = host.open_diag_socket()?;
    let tv = libc::timeval {
        tv_sec: super::RECV_TIMEOUT_SECS,
        tv_usec: 0,
    };
    // SAFETY: a valid fd we own, and a pointer/length pair describing `tv`.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let sock_type = match probe {
        Probe::Vsock { sock_type } => sock_type,
        Probe::Inet { .. } | Probe::Tipc | Probe::Xdp => 0,
    };
    let mut sockets = 0;
    let mut buf = Vec::with_capacity(super::dump::RECV_BUF);
    for (seq, req) in (1u32..).zip(requests(probe, 0)) {
        let mut req = req;
        req[8..12].copy_from_slice(&seq.to_ne_bytes());
        sock.send(&req, 0)?;
        loop {
            buf.clear();
            match sock.recv(&mut buf, 0) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            match count(&buf, seq, sock_type, &mut sockets) {
                Ok(Some(())) => break,
                Ok(None) => {}
                Err(errno) => return Err(io::Error::from_raw_os_error(errno)),
            }
        }
    }
    Ok(sockets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(payload);
        v.resize(wire::align4(v.len()), 0);
        v
    }

    #[test]
    fn requests_follow_the_uapi_layouts() {
        let r = requests(Probe::Vsock { sock_type: 1 }, 7);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].len(), 16 + 24);
        assert_eq!(r[0][16], AF_VSOCK);
        assert_eq!(&r[0][20..24], &u32::MAX.to_ne_bytes());
        assert_eq!(&r[0][32..40], &[0xff; 8]);
        let r = requests(Probe::Tipc, 7);
        assert_eq!((r[0].len(), r[0][16]), (16 + 8, AF_TIPC));
        let r = requests(Probe::Xdp, 7);
        assert_eq!((r[0].len(), r[0][16]), (16 + 20, AF_XDP));
        assert_eq!(&r[0][20..24], &[0; 4], "xdiag_ino 0: every socket");
        let r = requests(Probe::Inet { protocol: 132 }, 7);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0][16], r[0][17], r[1][16]),
            (wire::AF_INET, 132, wire::AF_INET6)
        );
        for r in [requests(Probe::Tipc, 9), requests(Probe::Xdp, 9)] {
            assert_eq!(
                u32::from_ne_bytes([r[0][0], r[0][1], r[0][2], r[0][3]]) as usize,
                r[0].len()
            );
        }
    }

    #[test]
    fn counts_answers_and_reads_refusals() {
        let mut d = msg(SOCK_DIAG_BY_FAMILY, 3, &[AF_VSOCK, 1, 0, 0]);
        d.extend(msg(SOCK_DIAG_BY_FAMILY, 3, &[AF_VSOCK, 2, 0, 0]));
        d.extend(msg(SOCK_DIAG_BY_FAMILY, 2, &[AF_VSOCK, 1, 0, 0]));
        let mut n = 0;
        assert_eq!(count(&d, 3, 1, &mut n), Ok(None));
        assert_eq!(n, 1, "only stream answers of this request");
        let done = msg(NLMSG_DONE, 3, &0i32.to_ne_bytes());
        assert_eq!(count(&done, 3, 1, &mut n), Ok(Some(())));
        let enoent = msg(NLMSG_ERROR, 3, &(-libc::ENOENT).to_ne_bytes());
        assert_eq!(count(&enoent, 3, 0, &mut n), Err(libc::ENOENT));
        assert_eq!(count(&[1, 2, 3], 3, 0, &mut n), Err(libc::EBADMSG));
    }
}
