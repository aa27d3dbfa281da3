//! The one model of a socket and of a snapshot. Every source (netlink, /proc) fills it and every
//! view (table, JSON, summary, TUI, exporter) reads it. `None` always means "the source could
//! not know", never zero.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

pub use crate::tables::{FamilyClass, Netid, NetidSet};

/// Kernel socket states (include/net/tcp_states.h). UDP and unix reuse them: a connected one
/// is `Established`, an unconnected one `Close` (printed UNCONN), a unix listener `Listen`.
/// The kernel's TCP_NEW_SYN_RECV (12) is folded into `SynRecv` at decode time, as ss does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TcpState {
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
}

impl TcpState {
    /// All states in kernel numbering order.
    pub const ALL: [TcpState; 11] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
    ];

    /// States in the order a connection lives through them (the TUI's grouping order).
    pub const LIFECYCLE: [TcpState; 11] = [
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Closing,
        TcpState::TimeWait,
        TcpState::Close,
    ];

    /// Decode the kernel's number; 12 (TCP_NEW_SYN_RECV) reads as SYN-RECV.
    pub fn from_kernel(n: u8) -> Option<TcpState> {
        Some(match n {
            1 => TcpState::Established,
            2 => TcpState::SynSent,
            3 | 12 => TcpState::SynRecv,
            4 => TcpState::FinWait1,
            5 => TcpState::FinWait2,
            6 => TcpState::TimeWait,
            7 => TcpState::Close,
            8 => TcpState::CloseWait,
            9 => TcpState::LastAck,
            10 => TcpState::Listen,
            11 => TcpState::Closing,
            _ => return None,
        })
    }

    /// Bit of this state in a kernel `idiag_states` mask.
    pub fn bit(self) -> u32 {
        1 << (self as u8)
    }

    /// ss's State column spelling for TCP.
    pub fn ss_name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTAB",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynRecv => "SYN-RECV",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Close => "UNCONN",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::LastAck => "LAST-ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
        }
    }

    /// ss's filter-language name (`state time-wait`).
    pub fn filter_name(self) -> &'static str {
        match self {
            TcpState::Established => "established",
            TcpState::SynSent => "syn-sent",
            TcpState::SynRecv => "syn-recv",
            TcpState::FinWait1 => "fin-wait-1",
            TcpState::FinWait2 => "fin-wait-2",
            TcpState::TimeWait => "time-wait",
            TcpState::Close => "closed",
            TcpState::CloseWait => "close-wait",
            TcpState::LastAck => "last-ack",
            TcpState::Listen => "listening",
            TcpState::Closing => "closing",
        }
    }
}

/// A set of states as the kernel's `idiag_states` bitmask (bit n = state n).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct StateSet(pub u32);

impl StateSet {
    pub const EMPTY: StateSet = StateSet(0);
    /// Every state, as ss's `all` (bits 1..=11).
    pub const ALL: StateSet = StateSet(0xffe);
    /// TCP_BOUND_INACTIVE (13), a request-only bit (kernel 6.7+): TCP sockets bound but
    /// neither listening nor connected, which the kernel then reports in state CLOSE. Not
    /// part of `all`, as in ss 6.1 (which does not know it): only `state bound-inactive`
    /// asks for it.
    pub const BOUND_INACTIVE: StateSet = StateSet(1 << 13);

    pub fn of(states: &[TcpState]) -> StateSet {
        StateSet(states.iter().fold(0, |m, s| m | s.bit()))
    }
    pub fn contains(self, s: TcpState) -> bool {
        self.0 & s.bit() != 0
    }
    pub fn insert(&mut self, s: TcpState) {
        self.0 |= s.bit();
    }
    pub fn remove(&mut self, s: TcpState) {
        self.0 &= !s.bit();
    }
    pub fn union(self, o: StateSet) -> StateSet {
        StateSet(self.0 | o.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 & (StateSet::ALL.0 | StateSet::BOUND_INACTIVE.0) == 0
    }
    /// Whether bound-inactive TCP sockets are asked for.
    pub fn bound_inactive(self) -> bool {
        self.0 & StateSet::BOUND_INACTIVE.0 != 0
    }
    pub fn len(self) -> usize {
        (self.0 & StateSet::ALL.0).count_ones() as usize
    }
    /// The single state when exactly one is selected (ss then hides the State column).
    pub fn single(self) -> Option<TcpState> {
        // Bound-inactive sockets print as UNCONN: with another state, two are shown.
        if self.len() == 1 && !self.bound_inactive() {
            TcpState::ALL.iter().copied().find(|s| self.contains(*s))
        } else {
            None
        }
    }
    pub fn iter(self) -> impl Iterator<Item = TcpState> {
        TcpState::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

/// One end of a socket.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// TCP/UDP. The unspecified address with port 0 is a wildcard / no peer.
    Inet { addr: IpAddr, port: u16 },
    /// Unix: the bound path (abstract names start with '@'), `None` when unnamed, and the
    /// socket inode (for the peer end: the peer's inode, 0 when there is none or unknown).
    Unix { path: Option<Box<str>>, inode: u64 },
    /// A packet socket's binding: the protocol (ethertype, host order; 3 = ETH_P_ALL) and
    /// the interface index (0: every interface).
    Link {
        protocol: u16,
        ifindex: u32,
        /// Its PACKET_DIAG_INFO settings, when the source has them (not /proc).
        info: Option<PacketInfo>,
    },
    /// A netlink socket's own end: its protocol (NETLINK_ROUTE...) and port id (0: the
    /// kernel; usually the owning process id, but any number a program bound).
    Netlink {
        protocol: u8,
        portid: i32,
        /// The multicast groups it listens to (the first 32).
        groups: u32,
    },
    /// A connected netlink socket's destination: group and port id.
    NetlinkPeer { group: u32, portid: i32 },
    /// No address at all: the peer of a packet socket or of an unconnected netlink socket
    /// (ss prints `*`).
    Nothing,
}

/// Socket timer as ss prints it: `timer:(kind,remaining,retrans)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    Off,
    /// Retransmit timer ("on" in ss).
    Retransmit,
    Keepalive,
    TimeWait,
    /// Zero-window probe timer ("persist" in ss).
    Probe,
}

impl TimerKind {
    pub fn ss_name(self) -> &'static str {
        match self {
            TimerKind::Off => "off",
            TimerKind::Retransmit => "on",
            TimerKind::Keepalive => "keepalive",
            TimerKind::TimeWait => "timewait",
            TimerKind::Probe => "persist",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    pub kind: TimerKind,
    /// Time until the timer fires, in milliseconds.
    pub expires_ms: u64,
    /// Retransmits (or probes) so far.
    pub retrans: u32,
}

/// The parts of `struct tcp_info` (and the congestion algorithm) sockeye shows. Times in
/// microseconds as the kernel gives them; rates in bytes per second.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    pub congestion: Option<Box<str>>,
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    pub rto_us: u32,
    pub ato_us: u32,
    pub rtt_us: u32,
    pub rttvar_us: u32,
    pub min_rtt_us: u32,
    pub snd_mss: u32,
    pub rcv_mss: u32,
    pub advmss: u32,
    pub pmtu: u32,
    pub snd_cwnd: u32,
    /// `None` when the kernel reports "infinite" (>= 0xFFFF).
    pub snd_ssthresh: Option<u32>,
    pub unacked: u32,
    pub sacked: u32,
    pub lost: u32,
    pub retrans: u32,
    pub total_retrans: u32,
    pub retransmits: u8,
    pub probes: u8,
    pub backoff: u8,
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub bytes_retrans: u64,
    pub segs_out: u32,
    pub segs_in: u32,
    pub data_segs_out: u32,
    pub data_segs_in: u32,
    pub delivery_rate: u64,
    pub pacing_rate: u64,
    pub last_data_sent_ms: u32,
    pub last_data_recv_ms: u32,
    pub last_ack_recv_ms: u32,
    pub rcv_space: u32,
    pub rcv_ssthresh: u32,
    pub snd_wnd: u32,
    pub busy_time_us: u64,
    pub delivered: u32,
    pub app_limited: bool,
}

/// `INET_DIAG_SKMEMINFO` / `UNIX_DIAG_MEMINFO`: what ss -m prints as
/// `skmem:(r,rb,t,tb,f,w,o,bl,d)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemInfo {
    pub rmem_alloc: u32,
    pub rcvbuf: u32,
    pub wmem_alloc: u32,
    pub sndbuf: u32,
    pub fwd_alloc: u32,
    pub wmem_queued: u32,
    pub optmem: u32,
    pub backlog: u32,
    pub drops: u32,
}

/// A process holding a socket open: `users:(("cmd",pid=1,fd=3))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessRef {
    /// Shared between all sockets of the process (comm, as ss shows it).
    pub command: Arc<str>,
    pub pid: u32,
    pub fd: u32,
}

/// The processes holding a socket open, sorted by pid then fd; reads as a slice. Shared
/// (reference-counted) with the attribution cache: attaching owners to 100,000 sockets each
/// refresh then costs a count increment per socket instead of an allocation, and a socket
/// nobody holds costs nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holders(Option<Arc<[ProcessRef]>>);

impl Holders {
    pub fn as_slice(&self) -> &[ProcessRef] {
        self.0.as_deref().unwrap_or(&[])
    }
}

impl std::ops::Deref for Holders {
    type Target = [ProcessRef];
    fn deref(&self) -> &[ProcessRef] {
        self.as_slice()
    }
}

impl From<Vec<ProcessRef>> for Holders {
    fn from(v: Vec<ProcessRef>) -> Holders {
        if v.is_empty() {
            Holders(None)
        } else {
            Holders(Some(v.into()))
        }
    }
}

impl FromIterator<ProcessRef> for Holders {
    fn from_iter<I: IntoIterator<Item = ProcessRef>>(iter: I) -> Holders {
        iter.into_iter().collect::<Vec<_>>().into()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socket {
    pub netid: Netid,
    pub state: TcpState,
    /// For a listener: the accept-queue length. For unix from /proc: unknown.
    pub recv_q: Option<u32>,
    /// For a listener: the accept-queue limit (unknown from /proc).
    pub send_q: Option<u32>,
    pub local: Endpoint,
    pub peer: Endpoint,
    /// 0 for sockets no process owns (TIME-WAIT, not yet accepted).
    pub inode: u64,
    pub uid: Option<u32>,
    pub cookie: Option<u64>,
    /// Interface the socket is bound to (`%dev` in ss), when bound.
    pub ifindex: Option<u32>,
    /// IPV6_V6ONLY of an IPv6 socket, when the source knows it. ss prints a listener on `::`
    /// as `*` unless it is v6-only (`[::]`).
    pub v6only: Option<bool>,
    pub timer: Option<Timer>,
    /// Present only when asked for (`-i`) and the kernel has it (not for TIME-WAIT).
    pub tcp_info: Option<Box<TcpInfo>>,
    /// Present only when asked for (`-m`).
    pub memory: Option<Box<MemInfo>>,
    /// Filled by process attribution (`-p`); empty otherwise.
    pub processes: Holders,
}

/// `struct packet_diag_info` as ss prints it with `-e`: `ver:V cpy_thresh:T flags( ... )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PacketInfo {
    pub version: u32,
    pub copy_thresh: u32,
    /// PDI_RUNNING, PDI_AUXDATA, PDI_ORIGDEV, PDI_VNETHDR, PDI_LOSS bits.
    pub flags: u32,
}

impl Socket {
    /// A socket of which only the table, the state and the two ends are known: queues, uid,
    /// cookie and the rest unknown, inode 0, no processes. Fixtures and front ends start here
    /// and fill in what they know.
    pub fn new(netid: Netid, state: TcpState, local: Endpoint, peer: Endpoint) -> Socket {
        Socket {
            netid,
            state,
            recv_q: None,
            send_q: None,
            local,
            peer,
            inode: 0,
            uid: None,
            cookie: None,
            ifindex: None,
            v6only: None,
            timer: None,
            tcp_info: None,
            memory: None,
            processes: Holders::default(),
        }
    }

    pub fn local_port(&self) -> Option<u16> {
        match self.local {
            Endpoint::Inet { port, .. } => Some(port),
            _ => None,
        }
    }
    pub fn peer_port(&self) -> Option<u16> {
        match self.peer {
            Endpoint::Inet { port, .. } => Some(port),
            _ => None,
        }
    }
    pub fn is_listener(&self) -> bool {
        self.state == TcpState::Listen
    }
}

/// Where a snapshot's sockets came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Netlink,
    Proc,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Netlink => "netlink",
            Source::Proc => "proc",
        }
    }
}

/// Kernel-wide counters and limits, read from /proc/net/{snmp,netstat,sockstat} and sysctls.
/// Every field is `None` when the file or key is missing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelCounters {
    // /proc/net/snmp, Tcp:
    pub active_opens: Option<u64>,
    pub passive_opens: Option<u64>,
    pub attempt_fails: Option<u64>,
    pub estab_resets: Option<u64>,
    pub curr_estab: Option<u64>,
    pub in_segs: Option<u64>,
    pub out_segs: Option<u64>,
    pub retrans_segs: Option<u64>,
    pub in_errs: Option<u64>,
    pub out_rsts: Option<u64>,
    // /proc/net/snmp, Udp:
    pub udp_in_errors: Option<u64>,
    pub udp_rcvbuf_errors: Option<u64>,
    // /proc/net/netstat, TcpExt:
    pub listen_overflows: Option<u64>,
    pub listen_drops: Option<u64>,
    pub tcp_timeouts: Option<u64>,
    pub tw_recycled: Option<u64>,
    pub tcp_abort_on_data: Option<u64>,
    // /proc/net/sockstat and sockstat6:
    pub sockets_used: Option<u64>,
    pub tcp_inuse: Option<u64>,
    pub tcp_orphan: Option<u64>,
    pub tcp_tw: Option<u64>,
    pub tcp_alloc: Option<u64>,
    pub tcp_mem_pages: Option<u64>,
    pub udp_inuse: Option<u64>,
    pub udp_mem_pages: Option<u64>,
    pub udplite_inuse: Option<u64>,
    pub raw_inuse: Option<u64>,
    pub frag_inuse: Option<u64>,
    pub tcp6_inuse: Option<u64>,
    pub udp6_inuse: Option<u64>,
    pub raw6_inuse: Option<u64>,
    pub frag6_inuse: Option<u64>,
    // sysctls:
    pub somaxconn: Option<u64>,
    pub tcp_max_syn_backlog: Option<u64>,
    pub tcp_abort_on_overflow: Option<u64>,
    pub tcp_max_tw_buckets: Option<u64>,
    pub ip_local_port_range: Option<(u16, u16)>,
    pub tcp_fin_timeout: Option<u64>,
}

/// Everything one collection saw, at one moment, from one source.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub taken_at: SystemTime,
    pub source: Source,
    /// Why auto mode fell back to /proc, when it did.
    pub fallback_reason: Option<String>,
    pub sockets: Vec<Socket>,
    /// Present when the query asked for counters.
    pub counters: Option<KernelCounters>,
    /// Non-fatal problems (skipped tables, undecodable messages), shown under --verbose.
    pub warnings: Vec<String>,
    /// Records that could not be decoded or parsed and were skipped.
    pub skipped_records: usize,
    /// Why some sockets have no process (e.g. not root), shown once when -p was asked.
    pub process_note: Option<String>,
}

impl Snapshot {
    /// A snapshot of `sockets` with no fallback, warnings, skipped records or notes: what a
    /// recording's moment, a fixture or a test starts from.
    pub fn new(
        taken_at: SystemTime,
        source: Source,
        sockets: Vec<Socket>,
        counters: Option<KernelCounters>,
    ) -> Snapshot {
        Snapshot {
            taken_at,
            source,
            fallback_reason: None,
            sockets,
            counters,
            warnings: Vec::new(),
            skipped_records: 0,
            process_note: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The live view holds two 100,000-socket tables: every byte here is ~200 KB of RSS, and
    /// each pass over the table streams it through the cache.
    #[test]
    fn socket_stays_compact() {
        let size = std::mem::size_of::<Socket>();
        println!("size_of::<Socket>() = {size}");
        assert!(size <= 176, "Socket grew to {size} bytes");
    }
}
