//! Rare reports the kernel sends for a few sockets, kept behind [`super::Details`] so the
//! common socket pays nothing: a packet socket's rings and fanout (`-e`), an MPTCP socket's
//! `struct mptcp_info`, a TCP socket's upper-layer protocol (kTLS, an MPTCP subflow) and its
//! MD5 keys (`-i`/`-m`).

use std::net::IpAddr;

/// `struct packet_diag_ring` (PACKET_DIAG_RX_RING / PACKET_DIAG_TX_RING).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketRing {
    pub block_size: u32,
    pub block_nr: u32,
    pub frame_size: u32,
    pub frame_nr: u32,
    pub retire_tmo: u32,
    pub sizeof_priv: u32,
    pub features: u32,
}

/// A packet socket's mmap rings and fanout group, as `ss -0 -e` prints them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketRings {
    pub rx: Option<PacketRing>,
    pub tx: Option<PacketRing>,
    /// PACKET_DIAG_FANOUT: group id in the low 16 bits, type (hash, lb, ...) and flags above.
    pub fanout: Option<u32>,
}

/// `struct mptcp_info` (linux/mptcp.h), the MPTCP socket's INET_DIAG_INFO.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MptcpInfo {
    pub subflows: u8,
    pub add_addr_signal: u8,
    pub add_addr_accepted: u8,
    pub subflows_max: u8,
    pub add_addr_signal_max: u8,
    pub add_addr_accepted_max: u8,
    /// MPTCP_INFO_FLAG_FALLBACK (1), MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED (2).
    pub flags: u32,
    pub token: u32,
    pub write_seq: u64,
    pub snd_una: u64,
    pub rcv_nxt: u64,
}

/// INET_DIAG_ULP_INFO: the upper-layer protocol on a TCP socket (`tcp-ulp-NAME`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UlpInfo {
    /// INET_ULP_INFO_NAME (`tls`, `mptcp`, ...): kernel text, escaped when printed.
    pub name: Option<Box<str>>,
    pub tls: Option<TlsInfo>,
    pub subflow: Option<SubflowInfo>,
}

/// INET_ULP_INFO_TLS: the TLS_INFO_* attributes, each `None` when absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// TLS_1_2_VERSION (0x0303), TLS_1_3_VERSION (0x0304).
    pub version: Option<u16>,
    /// TLS_CIPHER_* (51 aes-gcm-128, 52 aes-gcm-256, ...).
    pub cipher: Option<u16>,
    /// TLS_CONF_* (1 none, 2 sw, 3 hw, 4 hw-record).
    pub rxconf: Option<u16>,
    pub txconf: Option<u16>,
}

/// INET_ULP_INFO_MPTCP: an MPTCP subflow's MPTCP_SUBFLOW_ATTR_* attributes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubflowInfo {
    pub flags: Option<u32>,
    pub token_rem: Option<u32>,
    pub token_loc: Option<u32>,
    pub id_rem: Option<u8>,
    pub id_loc: Option<u8>,
    pub map_seq: Option<u64>,
    pub map_sfseq: Option<u32>,
    pub ssn_offset: Option<u32>,
    pub map_datalen: Option<u32>,
}

/// One `struct tcp_diag_md5sig` of INET_DIAG_MD5SIG (sent to CAP_NET_ADMIN only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Md5Key {
    pub addr: IpAddr,
    pub prefixlen: u8,
    /// The key itself: secret bytes, escaped when printed.
    pub key: Box<[u8]>,
}

/// What `ss -i`/`-m` prints after a TCP or MPTCP socket's tcp_info.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InfoExtras {
    pub mptcp: Option<MptcpInfo>,
    pub ulp: Option<UlpInfo>,
    pub md5keys: Vec<Md5Key>,
}

/// What `ss --tipcinfo` prints of a TIPC socket (TIPC_NLA_SOCK_STAT's congestion marks and
/// drops, TIPC_NLA_SOCK_HAS_PUBL, TIPC_NLA_CON's service).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TipcInfo {
    /// TIPC_NLA_SOCK_TYPE (SOCK_STREAM, SOCK_DGRAM, SOCK_RDM, SOCK_SEQPACKET): ss names it.
    pub sock_type: u32,
    /// TIPC_NLA_SOCK_STAT_LINK_CONG: the link is congested.
    pub link_cong: bool,
    /// TIPC_NLA_SOCK_STAT_CONN_CONG: the connection is congested.
    pub conn_cong: bool,
    /// TIPC_NLA_SOCK_STAT_DROP: messages dropped.
    pub drops: Option<u32>,
    /// TIPC_NLA_SOCK_HAS_PUBL: the socket published a service name.
    pub published: bool,
    /// The service a connection was made to (TIPC_NLA_CON_TYPE, TIPC_NLA_CON_INST).
    pub via: Option<(u32, u32)>,
}

/// `struct xdp_diag_umem` (XDP_DIAG_UMEM).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XdpUmem {
    pub size: u64,
    pub id: u32,
    pub num_pages: u32,
    pub chunk_size: u32,
    pub headroom: u32,
    pub ifindex: u32,
    pub queue_id: u32,
    /// XDP_DU_F_ZEROCOPY (bit 0).
    pub flags: u32,
    pub refs: u32,
}

/// `struct xdp_diag_stats` (XDP_DIAG_STATS).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XdpStats {
    pub rx_dropped: u64,
    pub rx_invalid: u64,
    pub rx_full: u64,
    pub fill_ring_empty: u64,
    pub tx_invalid: u64,
    pub tx_ring_empty: u64,
}

/// An AF_XDP socket's rings (entries of each), umem and counters, as `ss --xdp -e` prints
/// them; each `None` when the kernel did not send it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XdpRings {
    pub rx: Option<u32>,
    pub tx: Option<u32>,
    pub umem: Option<XdpUmem>,
    /// The umem's fill and completion rings (XDP_DIAG_UMEM_FILL_RING / _COMPLETION_RING).
    pub fill: Option<u32>,
    pub completion: Option<u32>,
    pub stats: Option<XdpStats>,
}
