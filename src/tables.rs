//! The table registry: every kind of socket table sockeye reads (ss's Netid column) is one
//! entry here — its ss spelling, the flags and names that select it, its family class, how
//! sock_diag asks for it and which /proc/net files hold it. [`Netid`], [`Netid::ALL`] and
//! every set of kinds ([`NetidSet::ALL`], [`NetidSet::of_class`]...) derive from it.
//!
//! A new kind is one entry in [`registry!`] below plus its decoder; every `match` over
//! [`Netid`] is exhaustive, so the compiler then lists each place that must say what the new
//! kind does (grouping, ss's table order...).

/// Which addresses a table holds, as ss's `-f` families group them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FamilyClass {
    /// IPv4 and IPv6 (`-f inet`, `-f inet6`; narrowed by `-4`/`-6`).
    Inet,
    /// `-f unix`.
    Unix,
    /// `-f link` / `-0`: packet sockets (AF_PACKET).
    Link,
    /// `-f netlink`.
    Netlink,
    /// `-f vsock` / `--vsock` (AF_VSOCK).
    Vsock,
    /// `-f xdp` / `--xdp` (AF_XDP).
    Xdp,
    /// `-f tipc` / `--tipc` (AF_TIPC).
    Tipc,
}

impl FamilyClass {
    /// The address families netlink and /proc report for this class (what sock_diag asks
    /// per request, `sdiag_family`).
    pub fn address_families(self) -> &'static [u8] {
        match self {
            FamilyClass::Inet => &[libc::AF_INET as u8, libc::AF_INET6 as u8],
            FamilyClass::Unix => &[libc::AF_UNIX as u8],
            FamilyClass::Link => &[libc::AF_PACKET as u8],
            FamilyClass::Netlink => &[libc::AF_NETLINK as u8],
            FamilyClass::Vsock => &[libc::AF_VSOCK as u8],
            FamilyClass::Xdp => &[libc::AF_XDP as u8],
            FamilyClass::Tipc => &[libc::AF_TIPC as u8],
        }
    }

    /// The `-f` names that select this class.
    pub fn family_names(self) -> &'static [&'static str] {
        match self {
            FamilyClass::Inet => &["inet", "inet6"],
            FamilyClass::Unix => &["unix"],
            FamilyClass::Link => &["link"],
            FamilyClass::Netlink => &["netlink"],
            FamilyClass::Vsock => &["vsock"],
            FamilyClass::Xdp => &["xdp"],
            FamilyClass::Tipc => &["tipc"],
        }
    }
}

/// ss's address families: the `-f`/`--family` names, and `-4`/`-6` (inet, inet6). ss
/// combines them with the tables asked for (see `selection_ss.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SsFamily {
    Inet,
    Inet6,
    Unix,
    /// `-f link`: packet sockets.
    Link,
    Netlink,
    Vsock,
    Tipc,
    Xdp,
}

impl SsFamily {
    /// Every family, in ss's `-f` order.
    pub const ALL: [SsFamily; 8] = [
        SsFamily::Inet,
        SsFamily::Inet6,
        SsFamily::Link,
        SsFamily::Unix,
        SsFamily::Netlink,
        SsFamily::Vsock,
        SsFamily::Tipc,
        SsFamily::Xdp,
    ];

    /// The `-f` spelling.
    pub fn name(self) -> &'static str {
        match self {
            SsFamily::Inet => "inet",
            SsFamily::Inet6 => "inet6",
            SsFamily::Unix => "unix",
            SsFamily::Link => "link",
            SsFamily::Netlink => "netlink",
            SsFamily::Vsock => "vsock",
            SsFamily::Tipc => "tipc",
            SsFamily::Xdp => "xdp",
        }
    }

    pub const fn bit(self) -> u16 {
        1 << (self as u16)
    }

    pub fn from_name(name: &str) -> Option<SsFamily> {
        SsFamily::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl FamilyClass {
    /// The ss families a kind of this class belongs to (a bit per [`SsFamily`]).
    pub fn ss_families(self) -> u16 {
        match self {
            FamilyClass::Inet => SsFamily::Inet.bit() | SsFamily::Inet6.bit(),
            FamilyClass::Unix => SsFamily::Unix.bit(),
            FamilyClass::Link => SsFamily::Link.bit(),
            FamilyClass::Netlink => SsFamily::Netlink.bit(),
            FamilyClass::Vsock => SsFamily::Vsock.bit(),
            FamilyClass::Xdp => SsFamily::Xdp.bit(),
            FamilyClass::Tipc => SsFamily::Tipc.bit(),
        }
    }
}

/// A table ss knows that sockeye does not decode yet. ss's way of combining tables with
/// families still counts them (`-A sctp -6` must not add the other inet tables). Selected,
/// the kernel is asked for it ([`Probe`]): without the diag module (this kernel: none of
/// them) the table is empty, as ss prints it, and `--verbose` says why; a kernel that answers
/// with sockets gets a warning that they are not shown. A kind moves from here to
/// [`registry!`] when its decoder lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnreadTable {
    /// ss's Netid column.
    pub ss_name: &'static str,
    /// A bit per [`SsFamily`].
    pub families: u16,
    pub query_names: &'static [&'static str],
    /// Shown by ss when no table or family is named.
    pub in_default: bool,
    /// How the kernel is asked whether it has this table.
    pub probe: Probe,
}

/// A sock_diag request that tells whether the kernel can dump a table, and how many sockets
/// it holds (answers of socket `sock_type`, 0 for any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// inet_diag for an IP protocol (both families).
    Inet { protocol: u8 },
    /// vsock_diag (`struct vsock_diag_req`).
    Vsock { sock_type: u8 },
    /// tipc's sock_diag (`struct tipc_sock_diag_req`).
    Tipc,
    /// xsk_diag (`struct xdp_diag_req`).
    Xdp,
}

/// ss 6.1's tables beyond the registry, in its table order.
pub const UNREAD_TABLES: &[UnreadTable] = &[];

/// Whether ss knows `name` as an `-A`/`--query` table name (a leading `!` removes).
pub fn is_query_name(name: &str) -> bool {
    let name = name.strip_prefix('!').unwrap_or(name);
    NetidSet::of_query_name(name).is_some()
        || UNREAD_TABLES.iter().any(|t| t.query_names.contains(&name))
}

/// The short flag that selects a kind (`-t`, `-u`, `-x`, `-w`, `-M`, `-0`; netlink has
/// none, only `-f netlink` / `-A netlink`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flag {
    Tcp,
    Udp,
    Unix,
    Raw,
    Mptcp,
    /// `-0`: a family flag to ss (AF_PACKET).
    Packet,
    /// No short flag.
    Netlink,
    /// `-d`.
    Dccp,
    /// `-S`.
    Sctp,
    /// No short flag: `--vsock` is a family to ss (`-f vsock`).
    Vsock,
    /// No short flag: `--xdp` is a family to ss (`-f xdp`).
    Xdp,
    /// No short flag: `--tipc` is a family to ss (`-f tipc`).
    Tipc,
}

impl Flag {
    /// The flag's letter; `None` for netlink, which only `-f`/`-A` select.
    pub fn short(self) -> Option<char> {
        match self {
            Flag::Tcp => Some('t'),
            Flag::Udp => Some('u'),
            Flag::Unix => Some('x'),
            Flag::Raw => Some('w'),
            Flag::Mptcp => Some('M'),
            Flag::Packet => Some('0'),
            Flag::Netlink => None,
            Flag::Dccp => Some('d'),
            Flag::Sctp => Some('S'),
            Flag::Vsock => None,
            Flag::Xdp => None,
            Flag::Tipc => None,
        }
    }
}

/// A table's states when none is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultStates {
    /// Connected sockets but TIME-WAIT and SYN-RECV (TCP, MPTCP, unix).
    Connected,
    /// ESTAB only: connected UDP and raw sockets.
    Established,
    /// UNCONN: packet and netlink sockets, which have no other state.
    Closed,
}

/// How netlink sock_diag asks for a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diag {
    /// One SOCK_DIAG_BY_FAMILY request per family (AF_INET, AF_INET6) for `protocol`;
    /// `names` label the two requests (IPv4, IPv6) in errors and `--explain`. A protocol
    /// above 255 (MPTCP) travels in an INET_DIAG_REQ_PROTOCOL attribute. With
    /// `proc_fallback`, a kernel without the protocol's diag module (ENOENT) has that table
    /// read from /proc/net instead, as ss does for raw sockets.
    Inet {
        protocol: u16,
        names: [&'static str; 2],
        proc_fallback: bool,
    },
    /// Part of the one AF_UNIX dump, told apart by the answer's `udiag_type`.
    Unix { sock_type: u8 },
    /// Part of the one AF_PACKET dump (packet_diag), told apart by `pdiag_type`.
    Packet { sock_type: u8 },
    /// The one AF_NETLINK dump (netlink_diag), every netlink protocol.
    Netlink,
    /// Part of the one AF_VSOCK dump (vsock_diag), told apart by `vdiag_type`.
    Vsock { sock_type: u8 },
    /// The one AF_XDP dump (xsk_diag).
    Xdp,
    /// Part of the one AF_TIPC dump (tipc_diag), told apart by TIPC_NLA_SOCK_TYPE.
    Tipc { sock_type: u8 },
}

/// Which /proc/net files hold a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcFiles {
    /// One file per family (`tcp`, `tcp6`).
    Inet { v4: &'static str, v6: &'static str },
    /// Lines of `file` whose Type column is `sock_type`.
    Unix { file: &'static str, sock_type: u8 },
    /// Lines of /proc/net/packet whose Type column is `sock_type`.
    Packet { file: &'static str, sock_type: u8 },
    /// /proc/net/netlink.
    Netlink { file: &'static str },
    /// No /proc/net table (MPTCP): under `--source proc` the table is not read, said once.
    Absent,
}

/// One registry entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableKind {
    /// ss's Netid column, also the JSON `netid` value.
    pub ss_name: &'static str,
    pub class: FamilyClass,
    pub flag: Flag,
    /// Shown by ss when no table or family is named.
    pub in_default: bool,
    /// What ss shows of this table when no state, -l or -a is given (ss's `default_dbs`);
    /// the dump's states are the union over the tables shown.
    pub default_states: DefaultStates,
    /// The `-A`/`--query` names that include this kind.
    pub query_names: &'static [&'static str],
    pub diag: Diag,
    pub proc: ProcFiles,
}

const SOCK_STREAM: u8 = libc::SOCK_STREAM as u8;
const SOCK_DGRAM: u8 = libc::SOCK_DGRAM as u8;
const SOCK_SEQPACKET: u8 = libc::SOCK_SEQPACKET as u8;
const SOCK_RAW: u8 = libc::SOCK_RAW as u8;
const SOCK_RDM: u8 = libc::SOCK_RDM as u8;
/// IPPROTO_MPTCP (linux/in.h); above 255, so it is not in every libc.
pub const IPPROTO_MPTCP: u16 = 262;

/// Declares [`Netid`] (one variant per entry, in ss's table order), [`Netid::ALL`] and
/// [`Netid::kind`] from one list, so no set of kinds can be forgotten.
macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident => $entry:expr,)*) => {
        /// Which table a socket came from, spelled as ss's Netid column. In ss's table order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Netid {
            $($(#[$doc])* $variant,)*
        }

        const KINDS: &[TableKind] = &[$($entry,)*];

        impl Netid {
            /// Every kind, in ss's table order.
            pub const ALL: [Netid; KINDS.len()] = [$(Netid::$variant,)*];
        }
    };
}

registry! {
    Tcp => TableKind {
        ss_name: "tcp",
        class: FamilyClass::Inet,
        flag: Flag::Tcp,
        in_default: true,
        default_states: DefaultStates::Connected,
        query_names: &["all", "inet", "tcp"],
        diag: Diag::Inet {
            protocol: libc::IPPROTO_TCP as u16,
            names: ["tcp/ipv4", "tcp/ipv6"],
            proc_fallback: false,
        },
        proc: ProcFiles::Inet { v4: "tcp", v6: "tcp6" },
    },
    Udp => TableKind {
        ss_name: "udp",
        class: FamilyClass::Inet,
        flag: Flag::Udp,
        in_default: true,
        default_states: DefaultStates::Established,
        query_names: &["all", "inet", "udp"],
        diag: Diag::Inet {
            protocol: libc::IPPROTO_UDP as u16,
            names: ["udp/ipv4", "udp/ipv6"],
            proc_fallback: false,
        },
        proc: ProcFiles::Inet { v4: "udp", v6: "udp6" },
    },
    UnixStream => TableKind {
        ss_name: "u_str",
        class: FamilyClass::Unix,
        flag: Flag::Unix,
        in_default: true,
        default_states: DefaultStates::Connected,
        query_names: &["all", "unix", "unix_stream", "u_str"],
        diag: Diag::Unix { sock_type: SOCK_STREAM },
        proc: ProcFiles::Unix { file: "unix", sock_type: SOCK_STREAM },
    },
    UnixDgram => TableKind {
        ss_name: "u_dgr",
        class: FamilyClass::Unix,
        flag: Flag::Unix,
        in_default: true,
        default_states: DefaultStates::Connected,
        query_names: &["all", "unix", "unix_dgram", "u_dgr"],
        diag: Diag::Unix { sock_type: SOCK_DGRAM },
        proc: ProcFiles::Unix { file: "unix", sock_type: SOCK_DGRAM },
    },
    UnixSeqpacket => TableKind {
        ss_name: "u_seq",
        class: FamilyClass::Unix,
        flag: Flag::Unix,
        in_default: true,
        default_states: DefaultStates::Connected,
        query_names: &["all", "unix", "unix_seqpacket", "u_seq"],
        diag: Diag::Unix { sock_type: SOCK_SEQPACKET },
        proc: ProcFiles::Unix { file: "unix", sock_type: SOCK_SEQPACKET },
    },
    /// Raw IP sockets, every protocol (the protocol is the local "port", as ss shows it).
    Raw => TableKind {
        ss_name: "raw",
        class: FamilyClass::Inet,
        flag: Flag::Raw,
        in_default: true,
        default_states: DefaultStates::Established,
        query_names: &["all", "inet", "raw"],
        diag: Diag::Inet {
            protocol: libc::IPPROTO_RAW as u16,
            names: ["raw/ipv4", "raw/ipv6"],
            proc_fallback: true,
        },
        proc: ProcFiles::Inet { v4: "raw", v6: "raw6" },
    },
    /// MPTCP sockets (the MPTCP-level socket; its subflows are in the TCP table).
    Mptcp => TableKind {
        ss_name: "mptcp",
        class: FamilyClass::Inet,
        flag: Flag::Mptcp,
        in_default: true,
        default_states: DefaultStates::Connected,
        query_names: &["all", "inet", "mptcp"],
        diag: Diag::Inet {
            protocol: IPPROTO_MPTCP,
            names: ["mptcp/ipv4", "mptcp/ipv6"],
            proc_fallback: false,
        },
        proc: ProcFiles::Absent,
    },
    PacketRaw => TableKind {
        ss_name: "p_raw",
        class: FamilyClass::Link,
        flag: Flag::Packet,
        in_default: true,
        default_states: DefaultStates::Closed,
        query_names: &["all", "packet", "packet_raw", "p_raw"],
        diag: Diag::Packet { sock_type: SOCK_RAW },
        proc: ProcFiles::Packet { file: "packet", sock_type: SOCK_RAW },
    },
    PacketDgram => TableKind {
        ss_name: "p_dgr",
        class: FamilyClass::Link,
        flag: Flag::Packet,
        in_default: true,
        default_states: DefaultStates::Closed,
        query_names: &["all", "packet", "packet_dgram", "p_dgr"],
        diag: Diag::Packet { sock_type: SOCK_DGRAM },
        proc: ProcFiles::Packet { file: "packet", sock_type: SOCK_DGRAM },
    },
    Netlink => TableKind {
        ss_name: "nl",
        class: FamilyClass::Netlink,
        flag: Flag::Netlink,
        in_default: true,
        default_states: DefaultStates::Closed,
        query_names: &["all", "netlink"],
        diag: Diag::Netlink,
        proc: ProcFiles::Netlink { file: "netlink" },
    },
    /// DCCP sockets: inet_diag answers them with the TCP layout (ss prints them as TCP).
    /// Listed last so that recorded kind numbers stay what they were; ss's print order is
    /// `output/table/order.rs`'s.
    Dccp => TableKind {
        ss_name: "dccp",
        class: FamilyClass::Inet,
        flag: Flag::Dccp,
        in_default: true,
        default_states: DefaultStates::Connected,
        query_names: &["all", "inet", "dccp"],
        diag: Diag::Inet {
            protocol: libc::IPPROTO_DCCP as u16,
            names: ["dccp/ipv4", "dccp/ipv6"],
            proc_fallback: false,
        },
        proc: ProcFiles::Absent,
    },
    /// SCTP endpoints and associations through inet_diag (sctp_diag): an association's
    /// answer carries INET_DIAG_PEERS and an SCTP_STATE_* state (`collect/netlink/sctp.rs`).
    /// Listed after DCCP so that recorded kind numbers stay what they were.
    Sctp => TableKind {
        ss_name: "sctp",
        class: FamilyClass::Inet,
        flag: Flag::Sctp,
        in_default: true,
        default_states: DefaultStates::Connected,
        query_names: &["all", "inet", "sctp"],
        diag: Diag::Inet {
            protocol: libc::IPPROTO_SCTP as u16,
            names: ["sctp/ipv4", "sctp/ipv6"],
            proc_fallback: false,
        },
        proc: ProcFiles::Absent,
    },
    /// vsock stream sockets (`collect/netlink/vsock.rs`); `cid:port` addresses.
    VsockStream => TableKind {
        ss_name: "v_str",
        class: FamilyClass::Vsock,
        flag: Flag::Vsock,
        in_default: true,
        default_states: DefaultStates::Connected,
        query_names: &["all", "vsock", "vsock_stream", "v_str"],
        diag: Diag::Vsock { sock_type: SOCK_STREAM },
        proc: ProcFiles::Absent,
    },
    VsockDgram => TableKind {
        ss_name: "v_dgr",
        class: FamilyClass::Vsock,
        flag: Flag::Vsock,
        in_default: true,
        default_states: DefaultStates::Connected,
        query_names: &["all", "vsock", "vsock_dgram", "v_dgr"],
        diag: Diag::Vsock { sock_type: SOCK_DGRAM },
        proc: ProcFiles::Absent,
    },
    /// AF_XDP sockets (`collect/netlink/xdp.rs`); `ifname:qQUEUE` addresses.
    Xdp => TableKind {
        ss_name: "xdp",
        class: FamilyClass::Xdp,
        flag: Flag::Xdp,
        in_default: true,
        default_states: DefaultStates::Closed,
        query_names: &["all", "xdp"],
        diag: Diag::Xdp,
        proc: ProcFiles::Absent,
    },
    /// TIPC sockets (`collect/netlink/tipc.rs`), one kind per socket type; `node:port`
    /// addresses. Not in ss's `all`, nor shown by default.
    TipcStream => TableKind {
        ss_name: "ti_st",
        class: FamilyClass::Tipc,
        flag: Flag::Tipc,
        in_default: false,
        default_states: DefaultStates::Connected,
        query_names: &["tipc"],
        diag: Diag::Tipc { sock_type: SOCK_STREAM },
        proc: ProcFiles::Absent,
    },
    TipcDgram => TableKind {
        ss_name: "ti_dg",
        class: FamilyClass::Tipc,
        flag: Flag::Tipc,
        in_default: false,
        default_states: DefaultStates::Connected,
        query_names: &["tipc"],
        diag: Diag::Tipc { sock_type: SOCK_DGRAM },
        proc: ProcFiles::Absent,
    },
    TipcRdm => TableKind {
        ss_name: "ti_rd",
        class: FamilyClass::Tipc,
        flag: Flag::Tipc,
        in_default: false,
        default_states: DefaultStates::Connected,
        query_names: &["tipc"],
        diag: Diag::Tipc { sock_type: SOCK_RDM },
        proc: ProcFiles::Absent,
    },
    TipcSeqpacket => TableKind {
        ss_name: "ti_sq",
        class: FamilyClass::Tipc,
        flag: Flag::Tipc,
        in_default: false,
        default_states: DefaultStates::Connected,
        query_names: &["tipc"],
        diag: Diag::Tipc { sock_type: SOCK_SEQPACKET },
        proc: ProcFiles::Absent,
    },
}

impl Netid {
    /// This kind's registry entry.
    pub fn kind(self) -> &'static TableKind {
        &KINDS[self as usize]
    }

    /// ss spelling, also the JSON `netid` value.
    pub fn as_str(self) -> &'static str {
        self.kind().ss_name
    }

    pub fn class(self) -> FamilyClass {
        self.kind().class
    }

    pub fn is_unix(self) -> bool {
        self.class() == FamilyClass::Unix
    }

    pub fn is_inet(self) -> bool {
        self.class() == FamilyClass::Inet
    }

    /// The unix kind of a socket type (`udiag_type`, /proc/net/unix's Type column).
    pub fn of_unix_type(sock_type: u8) -> Option<Netid> {
        Netid::ALL
            .into_iter()
            .find(|n| matches!(n.kind().diag, Diag::Unix { sock_type: t } if t == sock_type))
    }

    /// Whether ss shows this kind when no table or family is named.
    pub fn in_ss_default(self) -> bool {
        self.kind().in_default
    }

    /// The packet kind of a socket type (`pdiag_type`, /proc/net/packet's Type column).
    pub fn of_packet_type(sock_type: u8) -> Option<Netid> {
        Netid::ALL
            .into_iter()
            .find(|n| matches!(n.kind().diag, Diag::Packet { sock_type: t } if t == sock_type))
    }

    /// The vsock kind of a socket type (`vdiag_type`).
    pub fn of_vsock_type(sock_type: u8) -> Option<Netid> {
        Netid::ALL
            .into_iter()
            .find(|n| matches!(n.kind().diag, Diag::Vsock { sock_type: t } if t == sock_type))
    }

    /// The TIPC kind of a socket type (TIPC_NLA_SOCK_TYPE).
    pub fn of_tipc_type(sock_type: u32) -> Option<Netid> {
        let t = u8::try_from(sock_type).ok()?;
        Netid::ALL
            .into_iter()
            .find(|n| matches!(n.kind().diag, Diag::Tipc { sock_type: s } if s == t))
    }

    /// Whether the kernel builds this table's diag module apart (`dccp_diag`, `sctp_diag`): an ENOENT
    /// answer then means the module is absent, so the table is empty, not that netlink is
    /// unavailable.
    pub fn diag_module_optional(self) -> bool {
        matches!(self, Netid::Dccp | Netid::Sctp)
    }

    /// The kind ss spells `name` (`tcp`, `u_str`...).
    pub fn from_ss_name(name: &str) -> Option<Netid> {
        Netid::ALL.into_iter().find(|n| n.as_str() == name)
    }
}

/// A set of kinds (one bit per [`Netid`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct NetidSet(pub u32);

impl NetidSet {
    /// Every kind in the registry.
    pub const ALL: NetidSet = {
        let mut bits = 0;
        let mut i = 0;
        while i < Netid::ALL.len() {
            bits |= 1 << (Netid::ALL[i] as u32);
            i += 1;
        }
        NetidSet(bits)
    };
    pub const EMPTY: NetidSet = NetidSet(0);

    fn bit(n: Netid) -> u32 {
        1 << (n as u32)
    }
    pub fn of(ids: &[Netid]) -> NetidSet {
        NetidSet(ids.iter().fold(0, |m, n| m | Self::bit(*n)))
    }
    /// The kinds matching `pred`, from the registry.
    pub fn of_kinds(pred: impl Fn(Netid) -> bool) -> NetidSet {
        NetidSet::of(
            &Netid::ALL
                .into_iter()
                .filter(|n| pred(*n))
                .collect::<Vec<_>>(),
        )
    }
    /// Every kind of a family class (`FamilyClass::Inet`: tcp and udp today).
    pub fn of_class(class: FamilyClass) -> NetidSet {
        NetidSet::of_kinds(|n| n.class() == class)
    }
    /// The kinds a short flag selects (`-x`: the three unix kinds).
    pub fn of_flag(flag: Flag) -> NetidSet {
        NetidSet::of_kinds(|n| n.kind().flag == flag)
    }
    /// The kinds an `-A`/`--query` name selects (`inet`, `unix_dgram`, `all`...); `None` for a
    /// name ss does not know here.
    pub fn of_query_name(name: &str) -> Option<NetidSet> {
        let set = NetidSet::of_kinds(|n| n.kind().query_names.contains(&name));
        (!set.is_empty()).then_some(set)
    }
    /// The kinds an `-f`/`--family` name selects.
    pub fn of_family_name(name: &str) -> Option<NetidSet> {
        let set = NetidSet::of_kinds(|n| n.class().family_names().contains(&name));
        (!set.is_empty()).then_some(set)
    }
    pub fn contains(self, n: Netid) -> bool {
        self.0 & Self::bit(n) != 0
    }
    pub fn insert(&mut self, n: Netid) {
        self.0 |= Self::bit(n);
    }
    pub fn union(self, o: NetidSet) -> NetidSet {
        NetidSet(self.0 | o.0)
    }
    pub fn intersect(self, o: NetidSet) -> NetidSet {
        NetidSet(self.0 & o.0)
    }
    pub fn without(self, o: NetidSet) -> NetidSet {
        NetidSet(self.0 & !o.0)
    }
    pub fn len(self) -> usize {
        (self.0 & Self::ALL.0).count_ones() as usize
    }
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
    /// How many of ss's tables these kinds are, which decides whether the Netid column
    /// shows: the four TIPC kinds are one table (TIPC_DB) to ss.
    pub fn ss_tables(self) -> usize {
        let tipc = NetidSet::of_class(FamilyClass::Tipc);
        self.without(tipc).len() + usize::from(!self.intersect(tipc).is_empty())
    }
    pub fn iter(self) -> impl Iterator<Item = Netid> {
        Netid::ALL.into_iter().filter(move |n| self.contains(*n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_bit_and_entry() {
        assert_eq!(NetidSet::ALL.len(), Netid::ALL.len());
        assert_eq!(KINDS.len(), Netid::ALL.len());
        for (i, n) in Netid::ALL.into_iter().enumerate() {
            assert_eq!(n as usize, i);
            assert_eq!(Netid::from_ss_name(n.as_str()), Some(n));
            // ss's `all` leaves TIPC out.
            assert_eq!(
                n.kind().query_names.contains(&"all"),
                n.class() != FamilyClass::Tipc,
                "{n:?}"
            );
            assert!(NetidSet::of_flag(n.kind().flag).contains(n));
        }
    }

    #[test]
    fn spellings_are_ss_netids() {
        let names: Vec<&str> = Netid::ALL.iter().map(|n| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "tcp", "udp", "u_str", "u_dgr", "u_seq", "raw", "mptcp", "p_raw", "p_dgr", "nl",
                "dccp", "sctp", "v_str", "v_dgr", "xdp", "ti_st", "ti_dg", "ti_rd", "ti_sq"
            ]
        );
    }

    #[test]
    fn sets_derive_from_the_registry() {
        let inet = NetidSet::of(&[
            Netid::Tcp,
            Netid::Udp,
            Netid::Raw,
            Netid::Mptcp,
            Netid::Dccp,
            Netid::Sctp,
        ]);
        let unix = NetidSet::of(&[Netid::UnixStream, Netid::UnixDgram, Netid::UnixSeqpacket]);
        let link = NetidSet::of(&[Netid::PacketRaw, Netid::PacketDgram]);
        let netlink = NetidSet::of(&[Netid::Netlink]);
        let vsock = NetidSet::of(&[Netid::VsockStream, Netid::VsockDgram, Netid::Xdp]);
        assert_eq!(
            NetidSet::of_class(FamilyClass::Vsock).union(NetidSet::of_class(FamilyClass::Xdp)),
            vsock
        );
        assert_eq!(
            NetidSet::of_flag(Flag::Vsock).union(NetidSet::of_flag(Flag::Xdp)),
            vsock
        );
        assert_eq!(Netid::of_vsock_type(2), Some(Netid::VsockDgram));
        assert_eq!(Netid::of_vsock_type(5), None);
        let tipc = NetidSet::of_flag(Flag::Tipc);
        assert_eq!(tipc, NetidSet::of_class(FamilyClass::Tipc));
        assert_eq!((tipc.len(), tipc.ss_tables()), (4, 1));
        assert_eq!(tipc.union(NetidSet::of(&[Netid::Tcp])).ss_tables(), 2);
        assert_eq!(Netid::of_tipc_type(5), Some(Netid::TipcSeqpacket));
        assert_eq!(Netid::of_tipc_type(4), Some(Netid::TipcRdm));
        let netlink = netlink.union(vsock).union(tipc);
        assert_eq!(NetidSet::of_class(FamilyClass::Inet), inet);
        assert_eq!(NetidSet::of_class(FamilyClass::Unix), unix);
        assert_eq!(NetidSet::of_class(FamilyClass::Link), link);
        assert_eq!(
            NetidSet::of_class(FamilyClass::Netlink),
            netlink.without(vsock).without(tipc)
        );
        assert_eq!(NetidSet::of_flag(Flag::Unix), unix);
        assert_eq!(NetidSet::of_flag(Flag::Packet), link);
        assert_eq!(NetidSet::of_flag(Flag::Tcp), NetidSet::of(&[Netid::Tcp]));
        assert_eq!(NetidSet::of_flag(Flag::Raw), NetidSet::of(&[Netid::Raw]));
        assert_eq!(inet.union(unix).union(link).union(netlink), NetidSet::ALL);
        assert_eq!(
            NetidSet::ALL.without(inet).without(link).without(netlink),
            unix
        );
        assert_eq!(NetidSet::ALL.intersect(inet), inet);
        assert!(Netid::Tcp.is_inet() && !Netid::Tcp.is_unix());
        assert!(Netid::UnixDgram.is_unix() && !Netid::UnixDgram.is_inet());
    }

    #[test]
    fn ss_query_and_family_names() {
        let tipc = NetidSet::of_class(FamilyClass::Tipc);
        assert_eq!(
            NetidSet::of_query_name("all"),
            Some(NetidSet::ALL.without(tipc))
        );
        assert_eq!(NetidSet::of_query_name("tipc"), Some(tipc));
        assert_eq!(NetidSet::of_family_name("tipc"), Some(tipc));
        assert_eq!(
            NetidSet::of_query_name("inet"),
            Some(NetidSet::of_class(FamilyClass::Inet))
        );
        assert_eq!(
            NetidSet::of_query_name("unix_dgram"),
            Some(NetidSet::of(&[Netid::UnixDgram]))
        );
        assert_eq!(
            NetidSet::of_query_name("u_seq"),
            Some(NetidSet::of(&[Netid::UnixSeqpacket]))
        );
        assert_eq!(NetidSet::of_query_name("bogus"), None);
        assert_eq!(
            NetidSet::of_family_name("inet6"),
            Some(NetidSet::of_class(FamilyClass::Inet))
        );
        assert_eq!(
            NetidSet::of_family_name("unix"),
            Some(NetidSet::of_class(FamilyClass::Unix))
        );
        assert_eq!(
            NetidSet::of_family_name("link"),
            Some(NetidSet::of(&[Netid::PacketRaw, Netid::PacketDgram]))
        );
        assert_eq!(
            NetidSet::of_family_name("vsock"),
            Some(NetidSet::of(&[Netid::VsockStream, Netid::VsockDgram]))
        );
        assert_eq!(
            NetidSet::of_query_name("raw"),
            Some(NetidSet::of(&[Netid::Raw]))
        );
        assert!(is_query_name("sctp") && is_query_name("!xdp") && !is_query_name("bogus"));
        // Inet requests name one family each, IPv4 first, as the diag names do.
        assert_eq!(
            FamilyClass::Inet.address_families(),
            [libc::AF_INET as u8, libc::AF_INET6 as u8]
        );
        assert_eq!(FamilyClass::Unix.address_families(), [libc::AF_UNIX as u8]);
    }

    #[test]
    fn unix_types_map_to_kinds() {
        assert_eq!(Netid::of_unix_type(1), Some(Netid::UnixStream));
        assert_eq!(Netid::of_unix_type(2), Some(Netid::UnixDgram));
        assert_eq!(Netid::of_unix_type(5), Some(Netid::UnixSeqpacket));
        assert_eq!(Netid::of_unix_type(3), None);
        assert_eq!(Netid::of_packet_type(3), Some(Netid::PacketRaw));
        assert_eq!(Netid::of_packet_type(2), Some(Netid::PacketDgram));
        assert_eq!(Netid::of_packet_type(1), None);
        for n in Netid::ALL {
            match (n.kind().diag, n.kind().proc) {
                (Diag::Unix { sock_type: a }, ProcFiles::Unix { sock_type: b, .. }) => {
                    assert_eq!(a, b)
                }
                (Diag::Packet { sock_type: a }, ProcFiles::Packet { sock_type: b, .. }) => {
                    assert_eq!(a, b)
                }
                (Diag::Inet { .. }, ProcFiles::Inet { .. } | ProcFiles::Absent)
                | (Diag::Netlink, ProcFiles::Netlink { .. })
                | (Diag::Vsock { .. } | Diag::Xdp | Diag::Tipc { .. }, ProcFiles::Absent) => {}
                other => panic!("{n:?}: netlink and /proc disagree on the class: {other:?}"),
            }
        }
    }
}
