//! One line of /proc/net/unix.
//!
//! ```text
//! Num       RefCount Protocol Flags    Type St Inode Path
//! 0000000000000000: 00000002 00000000 00010000 0001 01 31245 /run/foo.sock
//! ```
//! Flags `00010000` (__SO_ACCEPTCON) marks a listener; Type is SOCK_STREAM (1), SOCK_DGRAM (2)
//! or SOCK_SEQPACKET (5); St is the `socket_state`: 1 unconnected, 2 connecting, 3 connected,
//! 4 disconnecting; Inode is decimal; the path follows one space and may itself contain
//! spaces; abstract names already start with '@'. There are no queues, no peer and no uid.

use super::lex::{Fields, dec_u64, hex_u32};
use super::{Malformed, Parsed};
use crate::collect::NetidSet;
use crate::model::{Endpoint, Netid, Socket, StateSet, TcpState};

const SO_ACCEPTCON: u32 = 1 << 16;

pub(super) fn parse_line(line: &[u8], netids: NetidSet, states: StateSet) -> Parsed {
    parse(line, netids, states).ok_or(Malformed)
}

fn parse(line: &[u8], netids: NetidSet, states: StateSet) -> Option<Option<Socket>> {
    let mut f = Fields::new(line);
    let num = f.next()?;
    if num.last() != Some(&b':') {
        return None;
    }
    let _refcount = hex_u32(f.next()?)?;
    let _protocol = hex_u32(f.next()?)?;
    let flags = hex_u32(f.next()?)?;
    let netid = Netid::of_unix_type(u8::try_from(hex_u32(f.next()?)?).ok()?)?;
    // The kernel prints SS_CONNECTED/SS_CONNECTING exactly when sk_state is ESTABLISHED (2 is
    // an accepted-but-not-yet-accept()ed connection), and SS_UNCONNECTED/SS_DISCONNECTING
    // otherwise. Mapping by that keeps /proc in agreement with netlink, which reports
    // sk_state (ss's own /proc path prints 2 as SYN-SENT, which netlink never shows).
    let state = match hex_u32(f.next()?)? {
        _ if flags & SO_ACCEPTCON != 0 => TcpState::Listen,
        2 | 3 => TcpState::Established,
        1 | 4 => TcpState::Close,
        _ => return None,
    };
    let inode = dec_u64(f.next()?)?;
    if !netids.contains(netid) || !states.contains(state) {
        return Some(None);
    }
    let path = match f.rest().strip_prefix(b" ") {
        Some(p) if !p.is_empty() => Some(Box::from(String::from_utf8_lossy(p).as_ref())),
        _ => None,
    };
    // /proc/net/unix has no queues, uid or peer: those stay unknown.
    let peer = Endpoint::Unix {
        path: None,
        inode: 0,
    };
    Some(Some(Socket {
        inode,
        ..Socket::new(netid, state, Endpoint::Unix { path, inode }, peer)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(line: &str) -> Socket {
        match parse_line(line.as_bytes(), NetidSet::ALL, StateSet::ALL) {
            Ok(Some(s)) => s,
            _ => panic!("not parsed: {line}"),
        }
    }

    #[test]
    fn listener_with_path_containing_space() {
        let s = sock("0000000000000000: 00000002 00000000 00010000 0001 01 31245 /tmp/a b.sock");
        assert_eq!(s.state, TcpState::Listen);
        assert_eq!(s.netid, Netid::UnixStream);
        assert_eq!(
            s.local,
            Endpoint::Unix {
                path: Some("/tmp/a b.sock".into()),
                inode: 31245
            }
        );
        assert_eq!((s.recv_q, s.send_q), (None, None));
    }

    #[test]
    fn states_and_types() {
        let s = sock("ffff8881: 00000003 00000000 00000000 0001 03  1600");
        assert_eq!(
            (s.netid, s.state),
            (Netid::UnixStream, TcpState::Established)
        );
        assert_eq!(
            s.local,
            Endpoint::Unix {
                path: None,
                inode: 1600
            }
        );
        let s = sock("ffff8881: 00000002 00000000 00000000 0002 01 17 @abstract@name");
        assert_eq!((s.netid, s.state), (Netid::UnixDgram, TcpState::Close));
        let s = sock("ffff8881: 00000002 00000000 00000000 0005 02 18");
        assert_eq!(
            (s.netid, s.state),
            (Netid::UnixSeqpacket, TcpState::Established)
        );
    }

    #[test]
    fn malformed() {
        let bad = |l: &str| {
            matches!(
                parse_line(l.as_bytes(), NetidSet::ALL, StateSet::ALL),
                Err(Malformed)
            )
        };
        assert!(bad("ffff8881: 00000002 00000000 00000000 0003 01 17"));
        assert!(bad("ffff8881: 00000002 00000000 00000000 0001 07 17"));
        assert!(bad("ffff8881: 00000002 00000000"));
        assert!(bad("ffff8881: 00000002 00000000 0000X000 0001 01 17"));
    }
}
