//! The one model of a socket and of a snapshot. Every source (netlink, /proc) fills it and every
//! view (table, JSON, summary, TUI, exporter) reads it. `None` always means "the source could
//! not know", never zero.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

pub use crate::tables::{FamilyClass, Netid, NetidSet};

mod extras;
pub use extras::{
    InfoExtras, Md5Key, MptcpInfo, PacketRing, PacketRings, SubflowInfo, TipcInfo, TlsInfo,
    UlpInfo, XdpRings, XdpStats, XdpUmem,
};

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
    /// A vsock end: context id and port (`u32::MAX`: VMADDR_CID_ANY / VMADDR_PORT_ANY,
    /// which ss prints `*`).
    Vsock { cid: u32, port: u32 },
    /// An AF_XDP socket's binding (XDP_DIAG_INFO): interface index and queue id.
    Xdp { ifindex: u32, queue: u32 },
    /// A TIPC end: node address and port (TIPC_NLA_SOCK_ADDR/REF locally,
    /// TIPC_NLA_CON_NODE/SOCK for a connection's peer).
    Tipc { node: u32, port: u32 },
    /// No address at all: the peer of a packet socket or of an unconnected netlink socket
    /// (ss prints `*`).
    Nothing,
}

impl Endpoint {
    /// One end in a line of prose (findings, kill plans, `--between`): `addr:port` (IPv6
    /// bracketed), a unix path escaped for a terminal (`* INODE` when unnamed), or the
    /// family's own pair of numbers as ss prints it.
    pub fn label(&self) -> String {
        match self {
            // Port 0 is a wildcard (a listener's or an unconnected socket's peer): `*`, as
            // the tables print it.
            Endpoint::Inet {
                addr: IpAddr::V6(a),
                port: 0,
            } => format!("[{a}]:*"),
            Endpoint::Inet { addr, port: 0 } => format!("{addr}:*"),
            Endpoint::Inet {
                addr: IpAddr::V6(a),
                port,
            } => format!("[{a}]:{port}"),
            Endpoint::Inet { addr, port } => format!("{addr}:{port}"),
            Endpoint::Unix { path, inode } => match path {
                Some(p) => crate::text::escape(p).into_owned(),
                None => format!("* {inode}"),
            },
            Endpoint::Link {
                protocol, ifindex, ..
            } => format!("{protocol}:{ifindex}"),
            Endpoint::Netlink {
                protocol, portid, ..
            } => format!("{protocol}:{portid}"),
            Endpoint::NetlinkPeer { group, portid } => format!("{group}:{portid}"),
            Endpoint::Vsock { cid, port } => format!("{cid}:{port}"),
            Endpoint::Xdp { ifindex, queue } => format!("{ifindex}:q{queue}"),
            Endpoint::Tipc { node, port } => format!("{node}:{port}"),
            Endpoint::Nothing => "*".to_string(),
        }
    }
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

impl Timer {
    /// The name ss prints for this timer of a `netid` socket: SCTP's one timer in inet_diag
    /// is its association's T3-rtx (net/sctp/diag.c), which ss spells `T3_RTX`.
    pub fn ss_name(&self, netid: Netid) -> &'static str {
        match (netid, self.kind) {
            (Netid::Sctp, k) if k != TimerKind::Off => "T3_RTX",
            (_, k) => k.ss_name(),
        }
    }
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
    /// `tcpi_options` (TCPI_OPT_*: timestamps, SACK, window scaling, ECN, ECN seen, SYN data).
    pub options: u8,
    /// `tcpi_ca_state` (open, disorder, CWR, recovery, loss).
    pub ca_state: u8,
    pub fackets: u32,
    pub reordering: u32,
    pub rcv_rtt_us: u32,
    pub max_pacing_rate: u64,
    pub notsent_bytes: u32,
    pub rwnd_limited_us: u64,
    pub sndbuf_limited_us: u64,
    pub delivered_ce: u32,
    pub dsack_dups: u32,
    pub reord_seen: u32,
    pub rcv_ooopack: u32,
    /// Zero from kernels before 6.2 (the field did not exist).
    pub rcv_wnd: u32,
    pub rehash: u32,
    pub total_rto: u16,
    pub total_rto_recoveries: u16,
    pub total_rto_time_ms: u32,
    /// The congestion module's own report (`INET_DIAG_BBRINFO`, `_DCTCPINFO`, `_VEGASINFO`).
    pub cc_info: Option<CcInfo>,
}

/// TCPI_OPT_* bits of [`TcpInfo::options`].
pub mod tcpi_opt {
    pub const TIMESTAMPS: u8 = 1;
    pub const SACK: u8 = 2;
    pub const WSCALE: u8 = 4;
    pub const ECN: u8 = 8;
    pub const ECN_SEEN: u8 = 16;
    pub const SYN_DATA: u8 = 32;
}

/// What a congestion-control module reports about itself (include/uapi/linux/inet_diag.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CcInfo {
    /// `struct tcpvegas_info`
    Vegas {
        enabled: u32,
        rttcnt: u32,
        rtt_us: u32,
        min_rtt_us: u32,
    },
    /// `struct tcp_dctcp_info`
    Dctcp {
        enabled: bool,
        ce_state: u16,
        alpha: u32,
        ab_ecn: u32,
        ab_tot: u32,
    },
    /// `struct tcp_bbr_info`: bandwidth in bytes per second, gains in 1/256.
    Bbr {
        bw: u64,
        min_rtt_us: u32,
        pacing_gain: u32,
        cwnd_gain: u32,
    },
}

/// What ss prints under `-e`, `--tos`, `--cgroup` and `--inet-sockopt` beyond the header
/// fields, and the threads of `-T`. Behind one pointer in [`Socket`], present only when one
/// of those flags asked (every field `None` when the kernel did not send it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details {
    /// `INET_DIAG_SHUTDOWN` / `UNIX_DIAG_SHUTDOWN`: bit 0 receive, bit 1 send shut down.
    pub shutdown: Option<u8>,
    /// `INET_DIAG_MARK` (SO_MARK; the kernel sends it to CAP_NET_ADMIN only).
    pub mark: Option<u32>,
    /// `INET_DIAG_CGROUP_ID`: the cgroup v2 id, and its path when it could be found.
    pub cgroup_id: Option<u64>,
    pub cgroup_path: Option<Arc<str>>,
    pub tos: Option<u8>,
    pub tclass: Option<u8>,
    /// `INET_DIAG_CLASS_ID`: the net_cls class id, or the socket priority when it has none.
    pub class_id: Option<u32>,
    /// `INET_DIAG_SOCKOPT`: `struct inet_diag_sockopt`'s bits, low byte first.
    pub sockopt: Option<u16>,
    /// `UNIX_DIAG_VFS`: inode and device (kernel encoding) of a bound path.
    pub vfs: Option<(u32, u32)>,
    /// `UNIX_DIAG_ICONS`: a unix listener's connections not yet accepted (peer inodes).
    pub icons: Option<Vec<u32>>,
    /// `-T`: every thread holding the socket, as ss lists them.
    pub threads: Vec<ThreadRef>,
    /// A packet socket's rings and fanout (`-e`).
    pub packet: Option<Box<PacketRings>>,
    /// mptcp_info, ULP and MD5 keys (`-i`/`-m`); `Details` is then made for them alone.
    pub info_extras: Option<Box<InfoExtras>>,
    /// An SCTP association (not its endpoint): its own state. Always present for one, so
    /// that the table prints it as ss does (an empty Netid, `` `- ESTAB``).
    pub sctp_assoc: Option<SctpState>,
    /// `INET_DIAG_LOCALS` / `INET_DIAG_PEERS` of an SCTP socket (every address of a
    /// multi-homed end), when `-i` or `-m` asked.
    pub sctp_locals: Vec<std::net::IpAddr>,
    pub sctp_peers: Vec<std::net::IpAddr>,
    /// `INET_DIAG_INFO` of an SCTP socket (`struct sctp_info`), when `-i` asked.
    pub sctp_info: Option<Box<SctpInfo>>,
    /// A TIPC socket's `--tipcinfo` report (always kept for TIPC sockets: they are rare).
    pub tipc: Option<Box<TipcInfo>>,
    /// An AF_XDP socket's rings, umem and counters (`-e`).
    pub xdp: Option<Box<XdpRings>>,
    /// `-Z`/`-z` on a netlink socket: the SELinux context ss prints as `proc_ctx=` — the
    /// kernel's initial context for port id 0, the process whose pid is the port id
    /// otherwise, `unavailable` when it cannot be read.
    pub netlink_ctx: Option<Arc<str>>,
}

/// The fields of `struct sctp_info` (linux/sctp.h) that ss prints with `-i`
/// (`sctp_stats_print`), by their kernel names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SctpInfo {
    pub tag: u32,
    pub state: u32,
    pub rwnd: u32,
    pub unackdata: u16,
    pub penddata: u16,
    pub instrms: u16,
    pub outstrms: u16,
    pub inqueue: u32,
    pub outqueue: u32,
    pub overall_error: u32,
    pub max_burst: u32,
    pub maxseg: u32,
    pub peer_rwnd: u32,
    pub peer_tag: u32,
    pub peer_capable: u8,
    pub peer_sack: u8,
    pub autoclose: u32,
    pub adaptation_ind: u32,
    pub pd_point: u32,
    pub nodelay: u8,
    pub disable_fragments: u8,
    pub v4mapped: u8,
    pub frag_interleave: u8,
}

/// An SCTP association's state: the kernel's `SCTP_STATE_*` numbers (linux/sctp.h `enum
/// sctp_state`), which sctp_diag reports for an association in `idiag_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SctpState {
    Closed = 0,
    CookieWait = 1,
    CookieEchoed = 2,
    Established = 3,
    ShutdownPending = 4,
    ShutdownSent = 5,
    ShutdownReceived = 6,
    ShutdownAckSent = 7,
}

impl SctpState {
    pub fn from_kernel(n: u8) -> Option<SctpState> {
        Some(match n {
            0 => SctpState::Closed,
            1 => SctpState::CookieWait,
            2 => SctpState::CookieEchoed,
            3 => SctpState::Established,
            4 => SctpState::ShutdownPending,
            5 => SctpState::ShutdownSent,
            6 => SctpState::ShutdownReceived,
            7 => SctpState::ShutdownAckSent,
            _ => return None,
        })
    }

    /// ss's spelling (`sctp_sstate_name` in misc/ss.c).
    pub fn ss_name(self) -> &'static str {
        match self {
            SctpState::Closed => "CLOSED",
            SctpState::CookieWait => "COOKIE_WAIT",
            SctpState::CookieEchoed => "COOKIE_ECHOED",
            SctpState::Established => "ESTAB",
            SctpState::ShutdownPending => "SHUTDOWN_PENDING",
            SctpState::ShutdownSent => "SHUTDOWN_SENT",
            SctpState::ShutdownReceived => "SHUTDOWN_RECEIVED",
            SctpState::ShutdownAckSent => "ACK_SENT",
        }
    }

    /// The TCP state an association stands for in state filters, grouping and counts
    /// (sockeye's mapping, by the handshake and shutdown steps they correspond to).
    pub fn as_tcp(self) -> TcpState {
        match self {
            SctpState::Closed => TcpState::Close,
            SctpState::CookieWait | SctpState::CookieEchoed => TcpState::SynSent,
            SctpState::Established => TcpState::Established,
            SctpState::ShutdownPending | SctpState::ShutdownSent => TcpState::FinWait1,
            SctpState::ShutdownReceived => TcpState::CloseWait,
            SctpState::ShutdownAckSent => TcpState::LastAck,
        }
    }
}

/// The names of [`Details::sockopt`]'s bits, in ss's order (`inet-sockopt: ( ... )`).
pub const INET_SOCKOPTS: [(u16, &str); 11] = [
    (1 << 0, "recverr"),
    (1 << 1, "is_icsk"),
    (1 << 2, "freebind"),
    (1 << 3, "hdrincl"),
    (1 << 4, "mc_loop"),
    (1 << 5, "transparent"),
    (1 << 6, "mc_all"),
    (1 << 7, "nodefrag"),
    (1 << 8, "bind_addr_no_port"),
    (1 << 9, "recverr_rfc4884"),
    (1 << 10, "defer_connect"),
];

/// A thread holding a socket open (`-T`): `("cmd",pid=1,tid=2,fd=3)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadRef {
    pub command: Arc<str>,
    pub pid: u32,
    pub tid: u32,
    pub fd: u32,
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
    /// The pid as seen inside the process's own pid namespace (a container), when it differs
    /// from `pid` and it was asked for (`NSpid` in /proc/PID/status; `--all-netns`, `-N`).
    pub nspid: Option<u32>,
    /// `-Z`/`-z`: the process's SELinux context (untrusted text); `None` when not asked.
    /// Asked but unreadable is the text ss prints, `unavailable`.
    pub proc_ctx: Option<Arc<str>>,
    /// `-z`: the SELinux context of the socket behind this fd (as `proc_ctx`).
    pub sock_ctx: Option<Arc<str>>,
}

/// A container as far as it is known (from the cgroup of the processes in a namespace and
/// the runtime's state on disk); unknown fields are `None`. Every text is untrusted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Container {
    /// `docker`, `containerd`, `crio`, `podman`, `crun`, `runc`, `lxc`, `nspawn`.
    pub runtime: &'static str,
    pub id: String,
    pub name: Option<String>,
    pub pod: Option<String>,
    pub pod_namespace: Option<String>,
    /// The Kubernetes pod UID from a `kubepods` path.
    pub pod_uid: Option<String>,
    /// When several containers share the namespace (a pod): every one of them, this one
    /// first. Empty for a container alone in its namespace.
    pub containers: Vec<PodMember>,
}

/// One container of a pod (containers sharing one network namespace).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodMember {
    pub id: String,
    pub name: Option<String>,
}

impl Container {
    /// The name to show: the pod, else the container's name, else its short id; a pod whose
    /// name is unknown shows its first container's name and how many others share it.
    pub fn label(&self) -> String {
        if let Some(p) = &self.pod {
            return p.clone();
        }
        if self.containers.len() > 1 {
            let first = self.name.clone().unwrap_or_else(|| self.short_id());
            return format!("{first}+{}", self.containers.len() - 1);
        }
        if let Some(n) = &self.name {
            return n.clone();
        }
        self.short_id()
    }

    fn short_id(&self) -> String {
        self.id.chars().take(12).collect()
    }
}

/// The network namespace a socket was read in: its identity, its /run/netns name, the
/// container that owns it, and the label the Netns column and the filter's `netns` use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetnsTag {
    /// The nsfs inode (`net:[INODE]`).
    pub inode: u64,
    /// Its name under /run/netns, if any.
    pub name: Option<String>,
    pub container: Option<Container>,
    /// The container (or pod) name, else the /run/netns name, else `net:[INODE]`.
    pub label: String,
}

impl NetnsTag {
    pub fn new(inode: u64, name: Option<String>, container: Option<Container>) -> NetnsTag {
        let label = match (&container, &name) {
            (Some(c), _) => c.label(),
            (None, Some(n)) => n.clone(),
            (None, None) => format!("net:[{inode}]"),
        };
        NetnsTag {
            inode,
            name,
            container,
            label,
        }
    }

    /// The names the filter's `netns = PATTERN` matches: the label, the /run/netns name, the
    /// container's name, id and pod, and `net:[INODE]`.
    pub fn names(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
        let c = self.container.as_ref();
        [
            Some(self.label.as_str()),
            self.name.as_deref(),
            c.and_then(|c| c.name.as_deref()),
            c.map(|c| c.id.as_str()),
            c.and_then(|c| c.pod.as_deref()),
        ]
        .into_iter()
        .flatten()
        .map(std::borrow::Cow::Borrowed)
        .chain(std::iter::once(std::borrow::Cow::Owned(format!(
            "net:[{}]",
            self.inode
        ))))
    }
}

/// One namespace of a snapshot that spans several (`--all-netns`): its tag and what its own
/// read said.
#[derive(Clone, Debug)]
pub struct NetnsRead {
    pub tag: Arc<NetnsTag>,
    pub source: Source,
    pub fallback_reason: Option<String>,
    /// Its own kernel counters, when the query asked for counters.
    pub counters: Option<KernelCounters>,
    /// How many of the snapshot's sockets are its.
    pub sockets: usize,
}

/// The namespaces a snapshot spans, and those that could not be read.
#[derive(Clone, Debug, Default)]
pub struct NetnsReads {
    pub read: Vec<NetnsRead>,
    /// (label, why) of each namespace that could not be read.
    pub unreadable: Vec<(String, String)>,
}

/// The processes holding a socket open, sorted by pid then fd; reads as a slice. Shared
/// (reference-counted) with the attribution cache: attaching owners to 100,000 sockets each
/// refresh then costs a count increment per socket instead of an allocation, and a socket
/// nobody holds costs nothing. A thin pointer (the slice's length lives behind it): eight
/// bytes in every socket rather than sixteen.
#[derive(Clone, Default)]
pub struct Holders(Option<Arc<HolderList>>);

/// What a [`Holders`] points to. Almost every socket has one holder, kept in the shared
/// allocation itself: one allocation and one pointer to follow per socket, not two.
#[derive(Debug)]
enum HolderList {
    One([ProcessRef; 1]),
    /// Two or more (a socket shared across a fork).
    Many(Box<[ProcessRef]>),
}

impl std::fmt::Debug for Holders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Holders")
            .field(&self.0.as_ref().map(|_| self.as_slice()))
            .finish()
    }
}

impl PartialEq for Holders {
    fn eq(&self, other: &Holders) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Holders {}

impl Holders {
    pub fn as_slice(&self) -> &[ProcessRef] {
        match self.0.as_deref() {
            None => &[],
            Some(HolderList::One(one)) => one,
            Some(HolderList::Many(many)) => many,
        }
    }

    /// Ask the CPU to bring this list's reference count into cache ahead of a clone or a
    /// drop. Each socket's list is its own allocation, scattered over the heap: counting
    /// references for 100,000 sockets in a row otherwise waits on a cache miss per socket.
    #[inline]
    pub fn prefetch(&self) {
        #[cfg(target_arch = "x86_64")]
        if let Some(list) = &self.0 {
            // The counts sit just before the data in the same allocation (ArcInner).
            let counts = Arc::as_ptr(list).cast::<i8>().wrapping_sub(16);
            // SAFETY: a prefetch is only a hint: it never faults and reads nothing the
            // program sees, whatever the address.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(counts)
            };
        }
    }
}

/// How many sockets ahead [`Holders::prefetch`] is issued in walks over a table.
pub const PREFETCH_AHEAD: usize = 16;

/// Ask the CPU to bring a socket into cache ahead of reading it, for walks over a table in
/// another order than its own (by cookie): each socket is then a cache miss waited on.
#[inline]
pub fn prefetch_socket(s: &Socket) {
    #[cfg(target_arch = "x86_64")]
    {
        let p = std::ptr::from_ref(s).cast::<i8>();
        for line in (0..std::mem::size_of::<Socket>()).step_by(64) {
            // SAFETY: a prefetch is only a hint: it never faults and reads nothing the
            // program sees, whatever the address.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    p.wrapping_add(line),
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = s;
}

/// Empty a table in one pass: each socket is dropped where it stands, with its holders'
/// reference counts fetched a few sockets ahead (see [`Holders::prefetch`]), so dropping a
/// table of 100,000 attributed sockets is not a cache miss per socket. (Releasing the
/// holders first and then clearing read the table twice.)
pub fn clear_sockets(sockets: &mut Vec<Socket>) {
    let mut rest = sockets.drain(..);
    loop {
        if let Some(ahead) = rest.as_slice().get(PREFETCH_AHEAD) {
            ahead.processes.prefetch();
        }
        if rest.next().is_none() {
            break;
        }
    }
}

impl std::ops::Deref for Holders {
    type Target = [ProcessRef];
    fn deref(&self) -> &[ProcessRef] {
        self.as_slice()
    }
}

impl From<Vec<ProcessRef>> for Holders {
    fn from(mut v: Vec<ProcessRef>) -> Holders {
        match v.len() {
            0 => Holders(None),
            1 => Holders(v.pop().map(|p| Arc::new(HolderList::One([p])))),
            _ => Holders(Some(Arc::new(HolderList::Many(v.into_boxed_slice())))),
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
    /// Present only when asked for (`-e`, `--tos`, `--cgroup`, `--inet-sockopt`, `-T`).
    pub details: Option<Box<Details>>,
    /// Filled by process attribution (`-p`); empty otherwise.
    pub processes: Holders,
    /// The network namespace it was read in, when the output spans namespaces (`-N`,
    /// `--all-netns`); shared by every socket of that namespace. `None` otherwise.
    pub netns: Option<Arc<NetnsTag>>,
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
            details: None,
            processes: Holders::default(),
            netns: None,
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
    // /proc/net/netstat, TcpExt:
    pub listen_overflows: Option<u64>,
    pub listen_drops: Option<u64>,
    pub tcp_timeouts: Option<u64>,
    pub tw_recycled: Option<u64>,
    pub tcp_abort_on_data: Option<u64>,
    /// SYN cookies sent (the SYN queue overflowed), received back valid, and failed.
    pub syncookies_sent: Option<u64>,
    pub syncookies_recv: Option<u64>,
    pub syncookies_failed: Option<u64>,
    /// SYNs dropped because the SYN queue was full and cookies were off.
    pub tcp_req_q_full_drop: Option<u64>,
    /// Orphaned connections reset for lack of memory or past tcp_max_orphans.
    pub tcp_abort_on_memory: Option<u64>,
    // /proc/net/snmp Udp plus /proc/net/snmp6 Udp6 (summed; unknown when either overflows):
    pub udp_in_datagrams: Option<u64>,
    /// Datagrams dropped because a socket's receive buffer was full.
    pub udp_rcvbuf_errors: Option<u64>,
    pub udp_in_errors: Option<u64>,
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
    pub tcp_max_orphans: Option<u64>,
    pub tcp_syncookies: Option<u64>,
    pub rmem_default: Option<u64>,
    pub rmem_max: Option<u64>,
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
    /// Every namespace read, when the snapshot spans several (`--all-netns`); `None` for one.
    pub netns: Option<Arc<NetnsReads>>,
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
            netns: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_labels_as_one_escaped_word() {
        let v4 = Endpoint::Inet {
            addr: "127.0.0.1".parse().unwrap(),
            port: 80,
        };
        let v6 = Endpoint::Inet {
            addr: "::1".parse().unwrap(),
            port: 443,
        };
        assert_eq!(v4.label(), "127.0.0.1:80");
        assert_eq!(v6.label(), "[::1]:443");
        let wildcard = Endpoint::Inet {
            addr: "0.0.0.0".parse().unwrap(),
            port: 0,
        };
        assert_eq!(wildcard.label(), "0.0.0.0:*");
        let hostile = Endpoint::Unix {
            path: Some("/run/a\x1b[2Jb\n".into()),
            inode: 7,
        };
        assert_eq!(hostile.label(), "/run/a\\x1b[2Jb\\n");
        let unnamed = Endpoint::Unix {
            path: None,
            inode: 42,
        };
        assert_eq!(unnamed.label(), "* 42");
        assert_eq!(Endpoint::Vsock { cid: 3, port: 9 }.label(), "3:9");
        assert_eq!(Endpoint::Nothing.label(), "*");
    }

    /// The live view holds two 100,000-socket tables: every byte here is ~200 KB of RSS, and
    /// each pass over the table streams it through the cache.
    #[test]
    fn socket_stays_compact() {
        let size = std::mem::size_of::<Socket>();
        println!("size_of::<Socket>() = {size}");
        // 176 until two pointers were added: the namespace tag (`netns`) and `details`
        // (-e/--tos/--cgroup/-T); 184 since `Holders` is a thin pointer.
        assert!(size <= 184, "Socket grew to {size} bytes");
    }

    fn holder(pid: u32, fd: u32) -> ProcessRef {
        ProcessRef {
            command: "p".into(),
            pid,
            fd,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        }
    }

    /// A list of one, two or no holders reads back as it was made, equal by contents, and a
    /// single holder lives in one allocation no larger than the reference counts plus itself.
    #[test]
    fn holders_read_back_as_made() {
        for n in 0..3u32 {
            let list: Vec<ProcessRef> = (0..n).map(|i| holder(10 + i, i)).collect();
            let h = Holders::from(list.clone());
            assert_eq!(h.as_slice(), list.as_slice());
            assert_eq!(h, list.iter().cloned().collect::<Holders>());
            assert_eq!(h.clone().as_slice().len(), n as usize);
        }
        assert_ne!(Holders::from(vec![holder(1, 3)]), Holders::default());
        assert_eq!(
            std::mem::size_of::<HolderList>(),
            std::mem::size_of::<ProcessRef>()
        );
        assert_eq!(
            format!("{:?}", Holders::default()),
            "Holders(None)",
            "Debug reads as the slice it holds"
        );
    }
}
