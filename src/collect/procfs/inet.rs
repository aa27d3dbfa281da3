//! One line of /proc/net/{tcp,tcp6,udp,udp6}.
//!
//! ```text
//!   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ...
//!    0: 0100007F:1F90 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000        0 12345 ...
//! ```
//! Addresses are the hex of in-memory 32-bit words (so 127.0.0.1 is `0100007F` on a
//! little-endian host; IPv6 is four such words), ports are hex in host order, `st` is the
//! kernel state in hex, `tr:tm->when` the timer kind and its remaining clock ticks, then the
//! retransmit count, uid, probe count ("timeout") and inode. Later columns are not needed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::lex::{Fields, dec_i64, dec_u64, hex_u32, hex_u64, split_colon};
use super::{Malformed, Parsed};
use crate::model::{Endpoint, Netid, Socket, StateSet, TcpState, Timer, TimerKind};

/// Parse one table line. `ticks_per_sec` converts `tm->when` (USER_HZ clock ticks) to ms.
pub(super) fn parse_line(
    line: &[u8],
    netid: Netid,
    v6: bool,
    states: StateSet,
    ticks_per_sec: u64,
) -> Parsed {
    parse(line, netid, v6, states, ticks_per_sec).ok_or(Malformed)
}

/// `None`: malformed. `Some(None)`: well formed, state not asked for.
fn parse(
    line: &[u8],
    netid: Netid,
    v6: bool,
    states: StateSet,
    ticks_per_sec: u64,
) -> Option<Option<Socket>> {
    let mut f = Fields::new(line);
    let sl = f.next()?;
    if sl.last() != Some(&b':') {
        return None;
    }
    let local = endpoint(f.next()?, v6)?;
    let peer = endpoint(f.next()?, v6)?;
    let st = f.next()?;
    if st.len() > 2 {
        return None;
    }
    let state = TcpState::from_kernel(hex_u32(st)? as u8)?;
    if !states.contains(state) {
        return Some(None);
    }
    let (tx, rx) = split_colon(f.next()?)?;
    let (tx, rx) = (hex_u32(tx)?, hex_u32(rx)?);
    let (tr, when) = split_colon(f.next()?)?;
    let (tr, when) = (hex_u32(tr)?, hex_u64(when)?);
    let retransmits = hex_u32(f.next()?)?;
    let uid = u32::try_from(dec_u64(f.next()?)?).ok()?;
    let probes = dec_i64(f.next()?)?;
    let inode = dec_u64(f.next()?)?;

    // Retransmit timer reports retransmits, keepalive and zero-window probe timers report
    // probes: the same meaning as netlink's idiag_retrans, so both sources agree.
    let (kind, retrans) = match tr {
        0 => (Some(TimerKind::Off), retransmits),
        1 => (Some(TimerKind::Retransmit), retransmits),
        2 => (Some(TimerKind::Keepalive), clamp_u32(probes)),
        3 => (Some(TimerKind::TimeWait), retransmits),
        4 => (Some(TimerKind::Probe), clamp_u32(probes)),
        _ => (None, 0),
    };
    let timer = kind.map(|kind| Timer {
        kind,
        expires_ms: ticks_to_ms(when, ticks_per_sec),
        retrans,
    });

    Some(Some(Socket {
        netid,
        state,
        recv_q: Some(rx),
        // A listener's tx_queue is printed as 0: its backlog limit is simply not in /proc.
        send_q: if state == TcpState::Listen {
            None
        } else {
            Some(tx)
        },
        local,
        peer,
        inode,
        uid: Some(uid),
        cookie: None,
        ifindex: None,
        v6only: None,
        timer,
        tcp_info: None,
        memory: None,
        processes: Default::default(),
    }))
}

fn clamp_u32(v: i64) -> u32 {
    v.clamp(0, i64::from(u32::MAX)) as u32
}

/// Older kernels printed an already-expired timer as a negative `long` in hex.
fn ticks_to_ms(ticks: u64, ticks_per_sec: u64) -> u64 {
    if ticks > i64::MAX as u64 || ticks_per_sec == 0 {
        return 0;
    }
    ticks.saturating_mul(1000) / ticks_per_sec
}

/// `ADDR:PORT`, ADDR as 8 (IPv4) or 32 (IPv6) hex digits.
fn endpoint(s: &[u8], v6: bool) -> Option<Endpoint> {
    let (addr, port) = split_colon(s)?;
    if port.len() > 4 {
        return None;
    }
    let port = hex_u32(port)? as u16;
    let addr = if v6 {
        if addr.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (i, word) in addr.chunks_exact(8).enumerate() {
            bytes[i * 4..i * 4 + 4].copy_from_slice(&hex_u32(word)?.to_ne_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        if addr.len() != 8 {
            return None;
        }
        IpAddr::V4(Ipv4Addr::from(hex_u32(addr)?.to_ne_bytes()))
    };
    Some(Endpoint::Inet { addr, port })
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    fn sock(line: &str, v6: bool) -> Socket {
        match parse_line(line.as_bytes(), Netid::Tcp, v6, StateSet::ALL, 100) {
            Ok(Some(s)) => s,
            _ => panic!("not parsed: {line}"),
        }
    }

    #[test]
    fn v4_listener_has_unknown_send_q() {
        let s = sock(
            "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000002 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0",
            false,
        );
        assert_eq!(s.state, TcpState::Listen);
        assert_eq!(s.recv_q, Some(2));
        assert_eq!(s.send_q, None);
        assert_eq!(
            s.local,
            Endpoint::Inet {
                addr: "127.0.0.1".parse().unwrap(),
                port: 8080
            }
        );
        assert_eq!(s.uid, Some(1000));
        assert_eq!(s.inode, 4242);
    }

    #[test]
    fn v6_words_and_mapped_v4() {
        let s = sock(
            "   0: 00000000000000000000000001000000:1F90 0000000000000000FFFF00000100007F:D431 01 00000003:00000008 02:00001F40 00000000  1000        2 77 1",
            true,
        );
        assert_eq!(
            s.local,
            Endpoint::Inet {
                addr: "::1".parse().unwrap(),
                port: 8080
            }
        );
        assert_eq!(
            s.peer,
            Endpoint::Inet {
                addr: "::ffff:127.0.0.1".parse().unwrap(),
                port: 0xD431
            }
        );
        assert_eq!((s.send_q, s.recv_q), (Some(3), Some(8)));
        let t = s.timer.unwrap();
        assert_eq!(t.kind, TimerKind::Keepalive);
        assert_eq!(t.expires_ms, 80_000);
        assert_eq!(t.retrans, 2);
    }

    #[test]
    fn malformed_and_filtered() {
        let states = StateSet::of(&[TcpState::Listen]);
        let p = |l: &str| parse_line(l.as_bytes(), Netid::Tcp, false, states, 100);
        let estab = "   0: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 5 1";
        assert!(matches!(p(estab), Ok(None)));
        assert!(matches!(p("   0: 0100007F:1F90"), Err(Malformed)));
        assert!(matches!(
            p("   0: 0100007Z:1F90 0100007F:D431 0A 00000000:00000000 00:00000000 00000000 0 0 5"),
            Err(Malformed)
        ));
        assert!(matches!(
            p("   0: 0100007F:1F90 0100007F:D431 0D 00000000:00000000 00:00000000 00000000 0 0 5"),
            Err(Malformed)
        ));
        assert!(matches!(p(""), Err(Malformed)));
    }

    #[test]
    fn negative_expiry_reads_as_zero() {
        assert_eq!(ticks_to_ms(0xFFFF_FFFF_FFFF_FFF6, 100), 0);
        assert_eq!(ticks_to_ms(5918, 100), 59_180);
    }
}
