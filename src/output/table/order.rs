//! ss's print order of the socket kinds: netlink, packet, unix, raw, UDP, TCP, DCCP, SCTP, vsock, TIPC, XDP, MPTCP.

use crate::model::{Netid, Socket};

/// How many table classes [`table_class`] numbers.
pub(super) const CLASSES: usize = 12;

/// ss 6.1 prints netlink, packet (raw and dgram interleaved, one dump), unix, raw, UDP, TCP,
/// DCCP, SCTP, vsock (stream and dgram interleaved, one dump), TIPC (every type
/// interleaved, one dump), XDP and last MPTCP.
pub(super) fn table_class(s: &Socket) -> u8 {
    match s.netid {
        Netid::Netlink => 0,
        Netid::PacketRaw | Netid::PacketDgram => 1,
        Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => 2,
        Netid::Raw => 3,
        Netid::Udp => 4,
        Netid::Tcp => 5,
        Netid::Dccp => 6,
        Netid::Sctp => 7,
        Netid::VsockStream | Netid::VsockDgram => 8,
        Netid::TipcStream | Netid::TipcDgram | Netid::TipcRdm | Netid::TipcSeqpacket => 9,
        Netid::Xdp => 10,
        Netid::Mptcp => 11,
    }
}

/// Order sockets as ss prints its tables: unix, then UDP, then TCP; the kernel's order
/// within a table. In place: sockets are large, so this permutes them instead of letting a
/// stable sort allocate half the table again.
pub fn ss_order(sockets: &mut [Socket]) {
    let class = table_class;
    if sockets.is_sorted_by_key(class) {
        return;
    }
    let mut order: Vec<usize> = (0..sockets.len()).collect();
    order.sort_by_key(|i| class(&sockets[*i]));
    // Apply the permutation: position i receives the socket at order[i].
    for i in 0..sockets.len() {
        let mut j = order[i];
        while j < i {
            j = order[j];
        }
        sockets.swap(i, j);
        order[i] = j;
    }
}
