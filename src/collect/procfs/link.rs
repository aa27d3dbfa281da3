//! One line of /proc/net/packet or /proc/net/netlink, the tables ss reads when packet_diag
//! or netlink_diag is missing (or `--source proc`).
//!
//! ```text
//! sk               RefCnt Type Proto  Iface R Rmem   User   Inode
//! ffff8881...      3      2    0800   1     1 1666   0      3269797
//! sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
//! ffff8881...      0   26406      00000000 0        0        0     2        0        3269800
//! ```
//! Packet: Type is the socket type, Proto the protocol in hex (host order), Iface the
//! interface index. Netlink: Eth is the protocol, Pid the port id (printed unsigned; ss
//! reads it as a signed int, and so do we). Neither file says whether a netlink socket is
//! connected: its peer is shown as none, as ss does from this file.

use super::lex::{Fields, dec_u64, hex_u32};
use super::{Malformed, Parsed};
use crate::model::{Endpoint, Netid, NetidSet, Socket, StateSet, TcpState};

fn socket(netid: Netid, local: Endpoint, rq: u32, wq: u32, uid: Option<u32>, inode: u64) -> Socket {
    Socket {
        recv_q: Some(rq),
        send_q: Some(wq),
        inode,
        uid,
        ..Socket::new(netid, TcpState::Close, local, Endpoint::Nothing)
    }
}

fn dec_u32(s: &[u8]) -> Option<u32> {
    u32::try_from(dec_u64(s)?).ok()
}

/// One /proc/net/packet line; only the kinds in `netids` and only when `closed` is asked
/// (packet sockets are UNCONN to ss).
pub(super) fn parse_packet(line: &[u8], netids: NetidSet, states: StateSet) -> Parsed {
    packet(line, netids, states).ok_or(Malformed)
}

fn packet(line: &[u8], netids: NetidSet, states: StateSet) -> Option<Option<Socket>> {
    let mut f = Fields::new(line);
    let _sk = f.next()?;
    let _refcnt = dec_u64(f.next()?)?;
    let kind = u8::try_from(dec_u64(f.next()?)?).ok()?;
    let protocol = u16::try_from(hex_u32(f.next()?)?).ok()?;
    let ifindex = dec_u32(f.next()?)?;
    let _running = dec_u64(f.next()?)?;
    let rmem = dec_u32(f.next()?)?;
    let uid = dec_u32(f.next()?)?;
    let inode = dec_u64(f.next()?)?;
    let netid = Netid::of_packet_type(kind)?;
    if !netids.contains(netid) || !states.contains(TcpState::Close) {
        return Some(None);
    }
    let local = Endpoint::Link {
        protocol,
        ifindex,
        info: None,
    };
    Some(Some(socket(netid, local, rmem, 0, Some(uid), inode)))
}

/// One /proc/net/netlink line (only when `closed` is asked, as ss).
pub(super) fn parse_netlink(line: &[u8], states: StateSet) -> Parsed {
    netlink(line, states).ok_or(Malformed)
}

fn netlink(line: &[u8], states: StateSet) -> Option<Option<Socket>> {
    let mut f = Fields::new(line);
    let _sk = f.next()?;
    let protocol = u8::try_from(dec_u64(f.next()?)?).ok()?;
    // Printed with %u: the kernel's u32, which ss reads into an int.
    let portid = dec_u32(f.next()?)? as i32;
    let groups = hex_u32(f.next()?)?;
    let rmem = dec_u32(f.next()?)?;
    let wmem = dec_u32(f.next()?)?;
    let _dump = dec_u64(f.next()?)?;
    let _locks = dec_u64(f.next()?)?;
    let _drops = dec_u64(f.next()?)?;
    let inode = dec_u64(f.next()?)?;
    if !states.contains(TcpState::Close) {
        return Some(None);
    }
    let local = Endpoint::Netlink {
        protocol,
        portid,
        groups,
    };
    Some(Some(socket(Netid::Netlink, local, rmem, wmem, None, inode)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_lines() {
        let l = b"ffff8881053a9000 3      2    0800   1     1 1666   0      3269797";
        let s = parse_packet(l, NetidSet::ALL, StateSet::ALL)
            .unwrap()
            .unwrap();
        assert_eq!(s.netid, Netid::PacketDgram);
        assert_eq!(
            s.local,
            Endpoint::Link {
                protocol: 0x0800,
                ifindex: 1,
                info: None
            }
        );
        assert_eq!(
            (s.recv_q, s.send_q, s.uid, s.inode),
            (Some(1666), Some(0), Some(0), 3269797)
        );
        let raw = b"ffff8881053a9800 3      3    0003   0     1 0      0      5";
        assert_eq!(
            parse_packet(raw, NetidSet::of(&[Netid::PacketDgram]), StateSet::ALL),
            Ok(None)
        );
        assert_eq!(
            parse_packet(b"ffff 3 3 zz 0 1 0 0 5", NetidSet::ALL, StateSet::ALL),
            Err(Malformed)
        );
        assert_eq!(
            parse_packet(b"ffff 3 3", NetidSet::ALL, StateSet::ALL),
            Err(Malformed)
        );
    }

    #[test]
    fn netlink_lines() {
        let l = b"ffff88810bd5a000 0   4101655294 00000000 0        4        0     2        0        3269800";
        let s = parse_netlink(l, StateSet::ALL).unwrap().unwrap();
        assert_eq!(
            s.local,
            Endpoint::Netlink {
                protocol: 0,
                portid: 4101655294u32 as i32,
                groups: 0
            }
        );
        assert_eq!((s.recv_q, s.send_q, s.inode), (Some(0), Some(4), 3269800));
        assert_eq!(s.peer, Endpoint::Nothing);
        let est = StateSet::of(&[TcpState::Established]);
        assert_eq!(parse_netlink(l, est), Ok(None));
        assert_eq!(
            parse_netlink(b"ffff 999 1 0 0 0 0 0 0 1", StateSet::ALL),
            Err(Malformed)
        );
    }
}
