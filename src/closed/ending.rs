//! How a TCP connection ended, read from what the kernel reports as it frees the socket
//! (the destroy event's tcp_info). The event's state is always CLOSE, and the kernel gives
//! no reason, so the answer comes from the connection's own counters:
//!
//! - **timeout**: the kernel was still retransmitting unanswered (`retransmits`, RTO
//!   back-off) or probing an unanswering peer (`probes`: keepalive, zero window) when the
//!   socket went: it gave up, or the owner did;
//! - **refused**: never established (nothing delivered) and a segment came back: the RST
//!   answering the SYN;
//! - **reset**: data was still unacknowledged, or this end's FIN was never acknowledged: the
//!   connection was aborted (a RST sent or received, SO_LINGER 0, `sockeye dump -K`);
//! - **orderly**: this end's FIN was sent and acknowledged with nothing left in flight;
//! - **aborted**: the kernel had already disconnected the socket (its peer port is 0 but
//!   its peer address stays): a connect that failed (refused or timed out) or a close with
//!   SO_LINGER 0. Disconnecting resets the counters too, so nothing more can be said;
//! - **unknown**: the counters do not tell (an older kernel's shorter tcp_info, or
//!   retransmissions that make the FIN arithmetic ambiguous).
//!
//! Whether the FIN was acknowledged: `delivered` counts every segment the peer acknowledged
//! (the SYN or SYN-ACK included, on both sides) and `data_segs_out` those that carried data,
//! so without retransmissions `delivered - data_segs_out` is 1 (the SYN) or 2 (SYN and
//! FIN). With retransmissions the byte counters decide where they can: `bytes_acked` counts
//! sequence space (the active opener's SYN and either side's FIN included) and
//! `bytes_sent - bytes_retrans` the unique data, so an excess of 2 is SYN and FIN, 0 is
//! neither (a passive end whose FIN was not acknowledged); 1 is ambiguous.

use crate::model::{Endpoint, Netid, Socket, TcpInfo};

/// The tcp_info length that holds `bytes_retrans` (through offset 216): the fields the FIN
/// arithmetic needs (kernel 4.19 and later).
pub const TCP_INFO_NEEDED: usize = 216;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ending {
    Orderly,
    Reset,
    Timeout,
    Refused,
    Aborted,
    Unknown,
}

impl Ending {
    pub const ALL: [Ending; 6] = [
        Ending::Orderly,
        Ending::Reset,
        Ending::Timeout,
        Ending::Refused,
        Ending::Aborted,
        Ending::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Orderly => "orderly",
            Ending::Reset => "reset",
            Ending::Timeout => "timeout",
            Ending::Refused => "refused",
            Ending::Aborted => "aborted",
            Ending::Unknown => "unknown",
        }
    }
}

/// Whether `s` was a connection (TCP with a peer): listeners, unconnected and UDP sockets
/// do not "end" in this sense.
pub fn is_connection(s: &Socket) -> bool {
    s.netid == Netid::Tcp
        && matches!(s.peer, Endpoint::Inet { addr, port } if port != 0 || !addr.is_unspecified())
}

/// Disconnected before it was freed (tcp_disconnect clears the peer port, not the address).
fn disconnected(s: &Socket) -> bool {
    matches!(s.peer, Endpoint::Inet { port: 0, .. })
}

/// How the connection `s` ended, from its tcp_info at destruction (`info_len`: the length
/// of the attribute the kernel sent). `None` for what is not a connection.
pub fn classify(s: &Socket, info: Option<&TcpInfo>, info_len: usize) -> Option<Ending> {
    if !is_connection(s) {
        return None;
    }
    if disconnected(s) {
        return Some(Ending::Aborted);
    }
    let Some(i) = info else {
        return Some(Ending::Unknown);
    };
    Some(from_info(i, info_len))
}

fn from_info(i: &TcpInfo, info_len: usize) -> Ending {
    // retransmits and probes sit at the very start of every tcp_info version.
    if info_len >= 4 && (i.retransmits > 0 || i.probes > 0) {
        return Ending::Timeout;
    }
    if info_len < TCP_INFO_NEEDED {
        return Ending::Unknown;
    }
    if i.delivered == 0 {
        // A passive end exists only once its SYN-ACK was acknowledged; an active one that
        // got a segment back but nothing acknowledged got a RST to its SYN.
        return if i.segs_in > 0 {
            Ending::Refused
        } else {
            Ending::Unknown
        };
    }
    if i.unacked > 0 {
        return Ending::Reset;
    }
    if i.total_retrans == 0 {
        return match i.delivered.checked_sub(i.data_segs_out) {
            Some(1) => Ending::Reset,
            Some(2) => Ending::Orderly,
            _ => Ending::Unknown,
        };
    }
    let unique = i.bytes_sent.saturating_sub(i.bytes_retrans);
    match i.bytes_acked.checked_sub(unique) {
        Some(2) => Ending::Orderly,
        Some(0) => Ending::Reset,
        _ => Ending::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TcpState;

    fn classify(s: &Socket, len: usize) -> Option<Ending> {
        super::classify(s, s.tcp_info.as_deref(), len)
    }

    fn conn(info: Option<TcpInfo>) -> Socket {
        let mut s = Socket::new(
            Netid::Tcp,
            TcpState::Close,
            Endpoint::Inet {
                addr: [127, 0, 0, 1].into(),
                port: 40000,
            },
            Endpoint::Inet {
                addr: [127, 0, 0, 1].into(),
                port: 80,
            },
        );
        s.tcp_info = info.map(Box::new);
        s
    }

    fn info(f: impl FnOnce(&mut TcpInfo)) -> Option<TcpInfo> {
        let mut i = TcpInfo::default();
        f(&mut i);
        Some(i)
    }

    const FULL: usize = 232;

    #[test]
    fn measured_orderly_closes_of_both_ends() {
        // Client and server of one connection closed in turn (ss -E -ti, this kernel):
        // 10 bytes up, nothing down.
        let client = info(|i| {
            (i.bytes_sent, i.bytes_acked, i.bytes_received) = (10, 12, 1);
            (i.delivered, i.data_segs_out, i.segs_in) = (3, 1, 3);
        });
        let server = info(|i| {
            (i.bytes_acked, i.bytes_received) = (1, 11);
            (i.delivered, i.segs_in) = (2, 5);
        });
        assert_eq!(classify(&conn(client), FULL), Some(Ending::Orderly));
        assert_eq!(classify(&conn(server), FULL), Some(Ending::Orderly));
    }

    #[test]
    fn fin_never_acknowledged_or_data_in_flight_is_a_reset() {
        let no_fin = info(|i| (i.delivered, i.data_segs_out, i.segs_in) = (2, 1, 2));
        assert_eq!(classify(&conn(no_fin), FULL), Some(Ending::Reset));
        let in_flight = info(|i| (i.delivered, i.unacked, i.segs_in) = (5, 3, 5));
        assert_eq!(classify(&conn(in_flight), FULL), Some(Ending::Reset));
    }

    #[test]
    fn retransmitting_or_probing_is_a_timeout_refused_syn_is_refused() {
        let rto = info(|i| i.retransmits = 3);
        assert_eq!(classify(&conn(rto), 8), Some(Ending::Timeout));
        let keepalive = info(|i| (i.probes, i.delivered) = (9, 4));
        assert_eq!(classify(&conn(keepalive), FULL), Some(Ending::Timeout));
        let refused = info(|i| i.segs_in = 1);
        assert_eq!(classify(&conn(refused), FULL), Some(Ending::Refused));
        let silent = info(|_| {});
        assert_eq!(classify(&conn(silent), FULL), Some(Ending::Unknown));
    }

    #[test]
    fn with_retransmissions_the_bytes_decide_or_it_is_unknown() {
        let base = |acked: u64| {
            info(move |i| {
                (i.delivered, i.data_segs_out, i.total_retrans) = (4, 3, 1);
                (i.bytes_sent, i.bytes_retrans, i.bytes_acked) = (300, 100, acked);
            })
        };
        assert_eq!(classify(&conn(base(202)), FULL), Some(Ending::Orderly));
        assert_eq!(classify(&conn(base(200)), FULL), Some(Ending::Reset));
        assert_eq!(classify(&conn(base(201)), FULL), Some(Ending::Unknown));
    }

    #[test]
    fn short_info_missing_info_and_non_connections() {
        let orderly_looking = info(|i| (i.delivered, i.data_segs_out) = (2, 0));
        assert_eq!(classify(&conn(orderly_looking), 104), Some(Ending::Unknown));
        assert_eq!(classify(&conn(None), 0), Some(Ending::Unknown));
        let mut listener = conn(None);
        listener.peer = Endpoint::Inet {
            addr: [0, 0, 0, 0].into(),
            port: 0,
        };
        assert_eq!(classify(&listener, FULL), None);
        let mut aborted = conn(None);
        aborted.peer = Endpoint::Inet {
            addr: [127, 0, 0, 1].into(),
            port: 0,
        };
        assert_eq!(classify(&aborted, FULL), Some(Ending::Aborted));
        let mut udp = conn(None);
        udp.netid = Netid::Udp;
        assert_eq!(classify(&udp, FULL), None);
    }
}
