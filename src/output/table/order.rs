//! ss's print order of the socket kinds: unix, then UDP, then TCP.

use crate::model::{Netid, Socket};

/// ss prints unix sockets, then UDP, then TCP.
pub(super) fn table_class(s: &Socket) -> u8 {
    match s.netid {
        Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => 0,
        Netid::Udp => 1,
        Netid::Tcp => 2,
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
