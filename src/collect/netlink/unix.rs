//! Decoding of one unix_diag answer (`struct unix_diag_msg` + attributes) into a [`Socket`].

use super::inet::{Decoded, cookie, meminfo};
use super::wire::{
    AF_UNIX, Attrs, UNIX_DIAG_ICONS, UNIX_DIAG_MEMINFO, UNIX_DIAG_NAME, UNIX_DIAG_PEER,
    UNIX_DIAG_RQLEN, UNIX_DIAG_SHUTDOWN, UNIX_DIAG_UID, UNIX_DIAG_VFS,
};
use crate::collect::Query;
use crate::model::{Details, Endpoint, Netid, Socket, TcpState};

/// sizeof(struct unix_diag_msg).
pub const UNIX_DIAG_MSG_LEN: usize = 16;

fn netid_of(sock_type: u8) -> Option<Netid> {
    Netid::of_unix_type(sock_type)
}

fn u32_of(value: &[u8], off: usize) -> Option<u32> {
    let s = value.get(off..off + 4)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

/// The bound name as ss prints it: a path up to its NUL, or an abstract name (leading NUL)
/// shown with '@'.
pub fn name(raw: &[u8]) -> Option<Box<str>> {
    match raw.split_first() {
        None => None,
        Some((0, rest)) => {
            let mut s = String::with_capacity(rest.len() + 1);
            s.push('@');
            s.push_str(&String::from_utf8_lossy(rest));
            Some(s.into())
        }
        Some(_) => {
            let path = raw.split(|b| *b == 0).next().unwrap_or_default();
            Some(String::from_utf8_lossy(path).into())
        }
    }
}

/// A bound name as ss shows and matches it, and as /proc/net/unix prints it: an abstract
/// name keeps its NULs in the model (JSON shows them exactly), every one of them is '@' here.
/// A path cannot hold a NUL, so it is returned as it is.
pub fn shown_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.starts_with('@') && name.contains('\0') {
        name.replace('\0', "@").into()
    } else {
        name.into()
    }
}

/// Decode one SOCK_DIAG_BY_FAMILY payload of the unix dump. Only the types in
/// `query.netids` and the states in `query.states` are kept.
pub fn decode(payload: &[u8], query: &Query) -> Decoded {
    let Some(h) = payload.first_chunk::<UNIX_DIAG_MSG_LEN>() else {
        return Decoded::Bad;
    };
    if h[0] != AF_UNIX {
        return Decoded::Bad;
    }
    let Some(netid) = netid_of(h[1]) else {
        return Decoded::Bad;
    };
    let Some(state) = TcpState::from_kernel(h[2]) else {
        return Decoded::Bad;
    };
    if !query.netids.contains(netid) || !query.states.contains(state) {
        return Decoded::Filtered;
    }
    let inode = u64::from(u32::from_ne_bytes([h[4], h[5], h[6], h[7]]));
    let lo = u32::from_ne_bytes([h[8], h[9], h[10], h[11]]);
    let hi = u32::from_ne_bytes([h[12], h[13], h[14], h[15]]);

    let mut path = None;
    let mut peer = 0u64;
    let mut queues = None;
    let mut uid = None;
    let mut memory = None;
    let mut details = query.details.then(Details::default);
    let mut attrs = Attrs::new(&payload[UNIX_DIAG_MSG_LEN..]);
    for (kind, value) in attrs.by_ref() {
        match kind {
            UNIX_DIAG_NAME => path = name(value),
            UNIX_DIAG_PEER => peer = u64::from(u32_of(value, 0).unwrap_or(0)),
            // For a listener: accept-queue length and backlog; otherwise the bytes queued
            // for reading and writing. Read here because the crate's helper is wrong for
            // connected sockets.
            UNIX_DIAG_RQLEN => {
                if let (Some(r), Some(w)) = (u32_of(value, 0), u32_of(value, 4)) {
                    queues = Some((r, w));
                }
            }
            UNIX_DIAG_UID => uid = u32_of(value, 0),
            UNIX_DIAG_MEMINFO if query.memory => memory = Some(Box::new(meminfo(value))),
            UNIX_DIAG_SHUTDOWN => {
                if let Some(d) = details.as_mut() {
                    d.shutdown = value.first().copied();
                }
            }
            UNIX_DIAG_VFS => {
                if let (Some(d), Some(ino), Some(dev)) =
                    (details.as_mut(), u32_of(value, 0), u32_of(value, 4))
                {
                    d.vfs = Some((ino, dev));
                }
            }
            UNIX_DIAG_ICONS => {
                if let Some(d) = details.as_mut() {
                    d.icons = Some(
                        value
                            .chunks_exact(4)
                            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                            .collect(),
                    );
                }
            }
            _ => {}
        }
    }
    if attrs.broken {
        return Decoded::Bad;
    }
    let mut sock = Socket {
        netid,
        state,
        recv_q: queues.map(|q| q.0),
        send_q: queues.map(|q| q.1),
        local: Endpoint::Unix { path, inode },
        peer: Endpoint::Unix {
            path: None,
            inode: peer,
        },
        inode,
        uid,
        cookie: cookie(lo, hi),
        ifindex: None,
        v6only: None,
        timer: None,
        tcp_info: None,
        memory,
        details: details.map(Box::new),
        processes: Default::default(),
        netns: None,
    };
    sock.netns.clone_from(&query.netns);
    Decoded::unless_filtered(sock, query)
}
