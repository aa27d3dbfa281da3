//! The "by state" grouping and per-state counts.

use crate::model::{Netid, Socket, TcpState};

/// A group of the "by state" view: one per TCP state, then UDP and unix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateGroupKey {
    Tcp(TcpState),
    Udp,
    Unix,
    Raw,
    Mptcp,
    Packet,
    Netlink,
    Dccp,
    Sctp,
    Vsock,
    Xdp,
    Tipc,
}

impl StateGroupKey {
    pub fn of(s: &Socket) -> StateGroupKey {
        match s.netid {
            Netid::Tcp => StateGroupKey::Tcp(s.state),
            Netid::Udp => StateGroupKey::Udp,
            Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => StateGroupKey::Unix,
            Netid::Raw => StateGroupKey::Raw,
            Netid::Mptcp => StateGroupKey::Mptcp,
            Netid::PacketRaw | Netid::PacketDgram => StateGroupKey::Packet,
            Netid::Netlink => StateGroupKey::Netlink,
            Netid::Dccp => StateGroupKey::Dccp,
            Netid::Sctp => StateGroupKey::Sctp,
            Netid::VsockStream | Netid::VsockDgram => StateGroupKey::Vsock,
            Netid::Xdp => StateGroupKey::Xdp,
            Netid::TipcStream | Netid::TipcDgram | Netid::TipcRdm | Netid::TipcSeqpacket => {
                StateGroupKey::Tipc
            }
        }
    }

    /// Display label: the ss state name for TCP, the protocol otherwise.
    pub fn label(self) -> &'static str {
        match self {
            StateGroupKey::Tcp(TcpState::Close) => "CLOSE",
            StateGroupKey::Tcp(st) => st.ss_name(),
            StateGroupKey::Udp => "UDP",
            StateGroupKey::Unix => "UNIX",
            StateGroupKey::Raw => "RAW",
            StateGroupKey::Mptcp => "MPTCP",
            StateGroupKey::Packet => "PACKET",
            StateGroupKey::Netlink => "NETLINK",
            StateGroupKey::Dccp => "DCCP",
            StateGroupKey::Sctp => "SCTP",
            StateGroupKey::Vsock => "VSOCK",
            StateGroupKey::Xdp => "XDP",
            StateGroupKey::Tipc => "TIPC",
        }
    }

    /// Position in lifecycle order (TCP states as a connection lives through them).
    fn rank(self) -> usize {
        match self {
            StateGroupKey::Tcp(st) => TcpState::LIFECYCLE
                .iter()
                .position(|s| *s == st)
                .unwrap_or(TcpState::LIFECYCLE.len()),
            StateGroupKey::Udp => 20,
            StateGroupKey::Unix => 21,
            StateGroupKey::Raw => 22,
            StateGroupKey::Mptcp => 23,
            StateGroupKey::Packet => 24,
            StateGroupKey::Netlink => 25,
            StateGroupKey::Dccp => 26,
            StateGroupKey::Sctp => 27,
            StateGroupKey::Vsock => 28,
            StateGroupKey::Xdp => 29,
            StateGroupKey::Tipc => 30,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateGroup {
    pub key: StateGroupKey,
    /// Indices into the snapshot's sockets, in snapshot order.
    pub members: Vec<usize>,
}

/// Sockets grouped by state in lifecycle order (LISTEN, SYN-SENT, SYN-RECV, ESTAB, FIN-WAIT-1,
/// FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, CLOSING, TIME-WAIT, CLOSE), then UDP, then unix. Empty
/// groups are left out.
pub fn by_state(sockets: &[Socket]) -> Vec<StateGroup> {
    let mut tally = StateTally::default();
    for (i, s) in sockets.iter().enumerate() {
        tally.add(i, s);
    }
    tally.finish().1
}

/// [`by_state`] and [`StateCounts::of`] fed one socket at a time, so a caller walking the
/// table for other reasons too (the live view, at 100,000 sockets a second) walks it once.
#[derive(Default)]
pub struct StateTally {
    counts: StateCounts,
    /// Members per slot: the 12 TCP states by kernel number, then UDP, unix, raw, MPTCP,
    /// packet, netlink, DCCP, SCTP, vsock, XDP and TIPC.
    slots: [Vec<usize>; 23],
    keys: [Option<StateGroupKey>; 23],
}

impl StateTally {
    pub fn add(&mut self, i: usize, s: &Socket) {
        self.counts.add(s);
        let slot = match s.netid {
            Netid::Tcp => s.state as usize,
            Netid::Udp => 12,
            Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => 13,
            Netid::Raw => 14,
            Netid::Mptcp => 15,
            Netid::PacketRaw | Netid::PacketDgram => 16,
            Netid::Netlink => 17,
            Netid::Dccp => 18,
            Netid::Sctp => 19,
            Netid::VsockStream | Netid::VsockDgram => 20,
            Netid::Xdp => 21,
            Netid::TipcStream | Netid::TipcDgram | Netid::TipcRdm | Netid::TipcSeqpacket => 22,
        };
        if self.keys[slot].is_none() {
            self.keys[slot] = Some(StateGroupKey::of(s));
        }
        self.slots[slot].push(i);
    }

    /// The counts, and the non-empty groups in lifecycle order.
    pub fn finish(self) -> (StateCounts, Vec<StateGroup>) {
        let mut groups: Vec<StateGroup> = self
            .keys
            .into_iter()
            .zip(self.slots)
            .filter_map(|(key, members)| Some(StateGroup { key: key?, members }))
            .collect();
        groups.sort_by_key(|g| g.key.rank());
        (self.counts, groups)
    }
}

/// Number of TCP sockets per state (indexed by the kernel's state number) plus UDP and unix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    tcp: [usize; 12],
    pub udp: usize,
    pub unix: usize,
    /// Raw, MPTCP, packet and netlink sockets.
    pub other: usize,
}

impl StateCounts {
    pub fn of(sockets: &[Socket]) -> StateCounts {
        let mut c = StateCounts::default();
        for s in sockets {
            c.add(s);
        }
        c
    }
    pub fn add(&mut self, s: &Socket) {
        match s.netid {
            Netid::Tcp => self.tcp[s.state as usize] += 1,
            Netid::Udp => self.udp += 1,
            Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => self.unix += 1,
            Netid::Raw
            | Netid::Mptcp
            | Netid::PacketRaw
            | Netid::PacketDgram
            | Netid::Netlink
            | Netid::Dccp
            | Netid::Sctp
            | Netid::VsockStream
            | Netid::VsockDgram
            | Netid::Xdp
            | Netid::TipcStream
            | Netid::TipcDgram
            | Netid::TipcRdm
            | Netid::TipcSeqpacket => self.other += 1,
        }
    }
    pub fn tcp(&self, st: TcpState) -> usize {
        self.tcp[st as usize]
    }
    pub fn tcp_total(&self) -> usize {
        self.tcp.iter().sum()
    }
    pub fn total(&self) -> usize {
        self.tcp_total() + self.udp + self.unix + self.other
    }
}
