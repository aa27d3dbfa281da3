//! Destroy events (`dump -E`, as `ss -E`): a NETLINK_SOCK_DIAG socket bound to the
//! sock_diag multicast groups. The kernel broadcasts one `inet_diag_msg` (plus
//! INET_DIAG_PROTOCOL and, for TCP, INET_DIAG_INFO) for every TCP or UDP socket it frees in
//! the subscriber's network namespace; unprivileged receivers are allowed. Nothing comes for
//! unix or other families.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_sys::{Socket as NlSocket, SocketAddr};

use super::inet::{self, Decoded};
use super::wire::{Attrs, Messages, NLMSG_ERROR, Next, SOCK_DIAG_BY_FAMILY};
use super::wire::{IPPROTO_TCP, IPPROTO_UDP};
use crate::closed::Ending;
use crate::closed::ending::classify;
use crate::collect::Query;
use crate::model::{Endpoint, Netid, Socket};

/// `enum sknetlink_groups` (linux/sock_diag.h).
const SKNLGRP_INET_TCP_DESTROY: u32 = 1;
const SKNLGRP_INET_UDP_DESTROY: u32 = 2;
const SKNLGRP_INET6_TCP_DESTROY: u32 = 3;
const SKNLGRP_INET6_UDP_DESTROY: u32 = 4;
/// `INET_DIAG_PROTOCOL`: the u8 protocol the broadcast carries (the message has none).
const INET_DIAG_PROTOCOL: u16 = 10;
/// `INET_DIAG_INFO`: struct tcp_info, sent with every TCP destroy event.
const INET_DIAG_INFO: u16 = 2;

/// One socket the kernel freed, and how its connection ended (`None`: not a connection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destroyed {
    pub socket: Socket,
    pub ending: Option<Ending>,
}

/// The receive buffer asked for: a burst of closes must fit while the writer catches up.
/// SO_RCVBUFFORCE (CAP_NET_ADMIN) gets it whole; SO_RCVBUF is capped by net.core.rmem_max.
pub const RCVBUF_BYTES: usize = 32 << 20;

/// How long one recv blocks, so the caller can notice a stop request.
const POLL: Duration = Duration::from_millis(200);

/// The group bits (`nl_groups`) for the tables and families of `query`; 0: none applies.
pub fn group_mask(query: &Query) -> u32 {
    let bit = |g: u32| 1u32 << (g - 1);
    let mut m = 0;
    let tcp = query.netids.contains(Netid::Tcp);
    let udp = query.netids.contains(Netid::Udp);
    if query.ipv4 && tcp {
        m |= bit(SKNLGRP_INET_TCP_DESTROY);
    }
    if query.ipv4 && udp {
        m |= bit(SKNLGRP_INET_UDP_DESTROY);
    }
    if query.ipv6 && tcp {
        m |= bit(SKNLGRP_INET6_TCP_DESTROY);
    }
    if query.ipv6 && udp {
        m |= bit(SKNLGRP_INET6_UDP_DESTROY);
    }
    m
}

/// What one wait for events brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// One datagram was read; the events in it that the query keeps were appended.
    Events,
    /// Nothing came within the wait (or, without waiting, nothing was queued).
    Empty,
    /// The kernel dropped events because the queue was full (ENOBUFS); how many is unknown
    /// to the kernel too, so the caller counts one drop episode.
    Overrun,
}

/// A subscription to the destroy groups.
pub struct EventSource {
    sock: NlSocket,
    buf: Vec<u8>,
    /// The receive buffer the kernel granted (bytes, as SO_RCVBUF reads it back).
    pub rcvbuf: usize,
    /// Messages that could not be decoded.
    pub skipped: usize,
}

impl EventSource {
    /// Subscribe `sock` (a fresh NETLINK_SOCK_DIAG socket, opened in the namespace to
    /// watch) to the groups of `mask`, asking for a receive buffer of `rcvbuf` bytes
    /// ([`RCVBUF_BYTES`] normally).
    pub fn subscribe(mut sock: NlSocket, mask: u32, rcvbuf: usize) -> io::Result<EventSource> {
        sock.bind(&SocketAddr::new(0, mask))?;
        let fd = sock.as_raw_fd();
        // Forced first (root); the plain option is capped by rmem_max but always allowed.
        if setsockopt_int(fd, libc::SO_RCVBUFFORCE, rcvbuf).is_err() {
            let _ = setsockopt_int(fd, libc::SO_RCVBUF, rcvbuf);
        }
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: POLL.as_micros() as libc::suseconds_t,
        };
        // SAFETY: a valid fd we own, and a pointer/length pair describing `tv`.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        let rcvbuf = getsockopt_int(fd, libc::SO_RCVBUF).unwrap_or(0);
        Ok(EventSource {
            sock,
            buf: Vec::with_capacity(1 << 16),
            rcvbuf,
            skipped: 0,
        })
    }

    /// The socket, for poll(2).
    pub fn fd(&self) -> i32 {
        self.sock.as_raw_fd()
    }

    /// Messages the kernel dropped for this socket so far (SK_MEMINFO_DROPS of
    /// SO_MEMINFO); `None` on a kernel without it.
    pub fn drops(&self) -> Option<u64> {
        let mut v = [0u32; 9];
        let mut len = std::mem::size_of_val(&v) as libc::socklen_t;
        // SAFETY: a valid fd and a pointer/length pair describing `v`.
        let rc = unsafe {
            libc::getsockopt(
                self.sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_MEMINFO,
                v.as_mut_ptr().cast(),
                &mut len,
            )
        };
        (rc == 0 && len as usize >= std::mem::size_of_val(&v)).then(|| u64::from(v[8]))
    }

    /// Wait up to a fraction of a second for one datagram and append the events in it that
    /// `query` keeps to `out`.
    pub fn recv(&mut self, query: &Query, out: &mut Vec<Destroyed>) -> io::Result<Received> {
        self.recv_flags(query, out, 0)
    }

    /// [`EventSource::recv`] without waiting (for a caller that polls several sources).
    pub fn recv_now(&mut self, query: &Query, out: &mut Vec<Destroyed>) -> io::Result<Received> {
        self.recv_flags(query, out, libc::MSG_DONTWAIT)
    }

    fn recv_flags(
        &mut self,
        query: &Query,
        out: &mut Vec<Destroyed>,
        flags: i32,
    ) -> io::Result<Received> {
        self.buf.clear();
        match self.sock.recv(&mut self.buf, flags) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Ok(Received::Overrun),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(Received::Empty);
            }
            Err(e) => return Err(e),
        }
        self.skipped += decode_events(&self.buf, query, out);
        Ok(Received::Events)
    }
}

/// Decode every event of one datagram into `out` (those `query` keeps); returns how many
/// messages could not be decoded.
pub fn decode_events(datagram: &[u8], query: &Query, out: &mut Vec<Destroyed>) -> usize {
    let mut bad = 0;
    for next in Messages::new(datagram) {
        let (h, payload) = match next {
            Next::Msg(h, p) => (h, p),
            Next::Broken => {
                bad += 1;
                break;
            }
        };
        if h.kind == NLMSG_ERROR || h.kind != SOCK_DIAG_BY_FAMILY {
            continue;
        }
        let Some(netid) = netid_of(payload) else {
            bad += 1;
            continue;
        };
        match inet::decode(payload, netid, query) {
            Decoded::Keep(mut s) => {
                // A UDP socket being freed reports a write queue of -1 (ss prints -1): the
                // queue is gone, so it is unknown, not four billion bytes.
                for q in [&mut s.recv_q, &mut s.send_q] {
                    if *q == Some(u32::MAX) {
                        *q = None;
                    }
                }
                if family_wanted(&s, query) {
                    // Classified from tcp_info whether or not the query keeps it.
                    let raw = attr(payload, INET_DIAG_INFO);
                    let decoded = match (&s.tcp_info, raw) {
                        (None, Some(v)) => Some(inet::tcp_info(v)),
                        _ => None,
                    };
                    let info = s.tcp_info.as_deref().or(decoded.as_ref());
                    let ending = classify(&s, info, raw.map_or(0, <[u8]>::len));
                    out.push(Destroyed { socket: s, ending });
                }
            }
            Decoded::Filtered => {}
            Decoded::Bad => bad += 1,
        }
    }
    bad
}

/// The value of a message's attribute `kind`.
fn attr(payload: &[u8], kind: u16) -> Option<&[u8]> {
    let attrs = payload.get(inet::INET_DIAG_MSG_LEN..)?;
    Attrs::new(attrs).find(|(k, _)| *k == kind).map(|(_, v)| v)
}

/// The table of a broadcast message, from its INET_DIAG_PROTOCOL attribute.
fn netid_of(payload: &[u8]) -> Option<Netid> {
    let proto = attr(payload, INET_DIAG_PROTOCOL).and_then(|v| v.first().copied())?;
    match proto {
        IPPROTO_TCP => Some(Netid::Tcp),
        IPPROTO_UDP => Some(Netid::Udp),
        _ => None,
    }
}

/// The groups select tables and families; a socket bound to several groups still gets
/// only what it asked for, and this holds for a caller decoding datagrams itself.
fn family_wanted(s: &Socket, query: &Query) -> bool {
    query.netids.contains(s.netid)
        && match &s.local {
            Endpoint::Inet { addr, .. } => {
                if addr.is_ipv4() {
                    query.ipv4
                } else {
                    query.ipv6
                }
            }
            Endpoint::Unix { .. }
            | Endpoint::Link { .. }
            | Endpoint::Netlink { .. }
            | Endpoint::NetlinkPeer { .. }
            | Endpoint::Vsock { .. }
            | Endpoint::Xdp { .. }
            | Endpoint::Tipc { .. }
            | Endpoint::Nothing => false,
        }
}

fn setsockopt_int(fd: i32, opt: i32, value: usize) -> io::Result<()> {
    let v = libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX);
    // SAFETY: a valid fd and a pointer/length pair describing `v`.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn getsockopt_int(fd: i32, opt: i32) -> io::Result<usize> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid fd and a pointer/length pair describing `v`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(usize::try_from(v).unwrap_or(0))
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One broadcast message: an inet_diag_msg for 127.0.0.1:`sport` → :`dport` in state
    /// CLOSE plus INET_DIAG_PROTOCOL.
    fn event(proto: u8, sport: u16, dport: u16) -> Vec<u8> {
        let mut p = vec![0u8; inet::INET_DIAG_MSG_LEN];
        p[0] = libc::AF_INET as u8;
        p[1] = 7; // TCP_CLOSE
        p[4..6].copy_from_slice(&sport.to_be_bytes());
        p[6..8].copy_from_slice(&dport.to_be_bytes());
        p[8..12].copy_from_slice(&[127, 0, 0, 1]);
        p[24..28].copy_from_slice(&[127, 0, 0, 1]);
        p[44..52].copy_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        p[60..64].copy_from_slice(&u32::MAX.to_ne_bytes());
        p.extend_from_slice(&5u16.to_ne_bytes());
        p.extend_from_slice(&INET_DIAG_PROTOCOL.to_ne_bytes());
        p.extend_from_slice(&[proto, 0, 0, 0]);
        let mut m = Vec::new();
        m.extend_from_slice(&((16 + p.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        m.extend_from_slice(&[0u8; 10]);
        m.extend_from_slice(&p);
        m
    }

    #[test]
    fn decodes_tcp_and_udp_events_by_their_protocol_attribute() {
        let mut d = event(IPPROTO_TCP, 4000, 5000);
        d.extend(event(IPPROTO_UDP, 53, 0));
        let mut out = Vec::new();
        assert_eq!(decode_events(&d, &Query::default(), &mut out), 0);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].socket.netid, Netid::Tcp);
        assert_eq!(out[1].socket.netid, Netid::Udp);
        assert_eq!(out[0].ending, Some(Ending::Unknown), "no tcp_info");
        assert_eq!(out[1].ending, None, "UDP");
        assert_eq!(
            out[0].socket.local,
            Endpoint::Inet {
                addr: [127, 0, 0, 1].into(),
                port: 4000
            }
        );
        assert_eq!(out[0].socket.cookie, Some(1));
        assert_eq!(out[1].socket.send_q, None, "-1 is unknown");
        assert_eq!(out[1].socket.recv_q, Some(0));
    }

    #[test]
    fn unknown_protocol_and_broken_tail_are_counted() {
        let mut d = event(132, 1, 2);
        d.extend_from_slice(&[1, 2, 3]);
        let mut out = Vec::new();
        assert_eq!(decode_events(&d, &Query::default(), &mut out), 2);
        assert!(out.is_empty());
    }

    #[test]
    fn tables_and_families_choose_the_groups() {
        let mut q = Query::default();
        assert_eq!(group_mask(&q), 0b1111);
        q.ipv6 = false;
        assert_eq!(group_mask(&q), 0b0011);
        q.netids = crate::model::NetidSet::of(&[Netid::Udp]);
        assert_eq!(group_mask(&q), 0b0010);
        q.netids = crate::model::NetidSet::of(&[Netid::UnixStream]);
        assert_eq!(group_mask(&q), 0);
        let mut out = Vec::new();
        q.netids = crate::model::NetidSet::of(&[Netid::Udp]);
        decode_events(&event(IPPROTO_TCP, 1, 2), &q, &mut out);
        assert!(out.is_empty(), "a TCP event is not a UDP table's");
    }
}
