//! netlink sock_diag source: one dump per table (inet family × protocol, and one unix dump),
//! decoded straight from a reused receive buffer into [`Socket`]s.
//!
//! TCP over both families is asked with one legacy TCPDIAG_GETSOCK request: the kernel then
//! walks its TCP hash tables once for both families, where a request per family walks them
//! twice (the family is checked per socket, inside the walk). The answer interleaves the
//! families; IPv4 sockets are decoded as they come and IPv6 ones are held back until the end,
//! so the order is that of two per-family dumps (ss's). A kernel that refuses the request is
//! asked per family from then on.
//!
//! The dump loop checks sequence numbers, reads NLMSG_DONE's error code, treats NLMSG_ERROR as
//! a failed table (never the whole dump), and skips undecodable messages by their header
//! length, counting them.

mod inet;
mod unix;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::io;
use std::os::fd::AsRawFd;

use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use netlink_sys::{Socket as NlSocket, SocketAddr};

use crate::collect::Query;
use crate::model::{Netid, Socket, TcpState};
use crate::tables::Diag;
use inet::Decoded;
use wire::{
    AF_INET, AF_INET6, AF_UNSPEC, IPPROTO_TCP, IPPROTO_UDP, Messages, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_NOOP, NLMSG_OVERRUN, Next, SOCK_DIAG_BY_FAMILY, TCP_NEW_SYN_RECV, TCPDIAG_GETSOCK,
};

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("cannot open a netlink sock_diag socket: {0}")]
    Open(std::io::Error),
    #[error("the kernel refused the {table} dump: {source}")]
    Refused {
        table: &'static str,
        source: std::io::Error,
    },
    #[error("netlink I/O error: {0}")]
    Io(std::io::Error),
}

impl NetlinkError {
    /// Errors that mean "netlink is not available here" (auto mode falls back to /proc).
    pub fn is_unavailable(&self) -> bool {
        match self {
            NetlinkError::Open(_) => true,
            NetlinkError::Refused { source, .. } => matches!(
                source.raw_os_error(),
                Some(libc::EPERM | libc::EACCES | libc::EPROTONOSUPPORT | libc::ENOENT)
            ),
            NetlinkError::Io(_) => false,
        }
    }
}

/// Receive buffer size. The kernel caps dump datagrams at about 32 KiB, so this never
/// truncates; it is allocated once and reused for every dump.
const RECV_BUF: usize = 64 * 1024;

/// How long one recv may block before the dump is declared broken (the kernel always
/// answers a dump; this only guards against a hang).
const RECV_TIMEOUT_SECS: libc::time_t = 5;

// inet_diag extension bits (1 << (attribute - 1)).
const EXT_INFO: u8 = 1 << (wire::INET_DIAG_INFO - 1);
const EXT_CONG: u8 = 1 << (wire::INET_DIAG_CONG - 1);
const EXT_SKMEMINFO: u8 = 1 << (wire::INET_DIAG_SKMEMINFO - 1);

/// One kernel table, dumped by one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// `family` AF_UNSPEC: both families in one walk (the legacy TCPDIAG_GETSOCK request).
    Inet {
        family: u8,
        protocol: u8,
        netid: Netid,
        name: &'static str,
    },
    /// Stream, dgram and seqpacket come in one dump, split by `udiag_type`.
    Unix,
}

impl Table {
    pub(crate) const TCP4: Table = Table::inet(AF_INET, IPPROTO_TCP, Netid::Tcp, "tcp/ipv4");
    pub(crate) const TCP6: Table = Table::inet(AF_INET6, IPPROTO_TCP, Netid::Tcp, "tcp/ipv6");
    pub(crate) const UDP4: Table = Table::inet(AF_INET, IPPROTO_UDP, Netid::Udp, "udp/ipv4");
    pub(crate) const UDP6: Table = Table::inet(AF_INET6, IPPROTO_UDP, Netid::Udp, "udp/ipv6");
    pub(crate) const TCP_BOTH: Table =
        Table::inet(AF_UNSPEC, IPPROTO_TCP, Netid::Tcp, "tcp/ipv4+ipv6");

    const fn inet(family: u8, protocol: u8, netid: Netid, name: &'static str) -> Table {
        Table::Inet {
            family,
            protocol,
            netid,
            name,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Inet { name, .. } => name,
            Table::Unix => "unix",
        }
    }

    fn is_inet(self) -> bool {
        matches!(self, Table::Inet { .. })
    }

    /// Both families in one walk, answered with the request's legacy message type.
    fn is_compat(self) -> bool {
        matches!(self, Table::Inet { family, .. } if family == AF_UNSPEC)
    }
}

/// The tables a query needs, in ss's order (tcp, udp, unix; IPv4 before IPv6). With
/// `one_walk`, TCP over both families is one table (one request, one kernel walk).
pub(crate) fn tables(query: &Query, one_walk: bool) -> Vec<Table> {
    let mut t = Vec::with_capacity(5);
    // In the table registry's (ss's) order; every kind of request handled here.
    let mut unix = false;
    for netid in query.netids.iter() {
        match netid.kind().diag {
            Diag::Inet { protocol, names } => {
                if protocol == IPPROTO_TCP && one_walk && query.ipv4 && query.ipv6 {
                    t.push(Table::TCP_BOTH);
                    continue;
                }
                if query.ipv4 {
                    t.push(Table::inet(AF_INET, protocol, netid, names[0]));
                }
                if query.ipv6 {
                    t.push(Table::inet(AF_INET6, protocol, netid, names[1]));
                }
            }
            // One dump answers every unix kind.
            Diag::Unix { .. } => unix = true,
        }
    }
    if unix {
        t.push(Table::Unix);
    }
    t
}

/// What [`NetlinkSource::dump`] will send for `query`, one line per request (for
/// `--explain`). TCP over both families is planned as one walk; the kernel may still refuse
/// it, and the source then asks per family.
pub fn describe_requests(query: &Query) -> Vec<String> {
    tables(query, true)
        .into_iter()
        .map(|t| {
            let what = if t.is_compat() {
                "one TCPDIAG_GETSOCK dump, one kernel walk for both families \
                 (per family if the kernel refuses it)"
            } else {
                "one SOCK_DIAG_BY_FAMILY dump"
            };
            format!("{}: {what}", t.name())
        })
        .collect()
}

/// The kernel's states mask for an inet request: the query's states, plus TCP_NEW_SYN_RECV
/// when SYN-RECV is asked (request sockets report that state).
pub(crate) fn inet_states(query: &Query) -> u32 {
    let mut mask = query.states.0 & crate::model::StateSet::ALL.0;
    if query.states.contains(TcpState::SynRecv) {
        mask |= 1 << TCP_NEW_SYN_RECV;
    }
    mask
}

/// What a datagram said about the table being dumped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Keep reading.
    More,
    /// NLMSG_DONE without error.
    Done,
    /// NLMSG_ERROR, or NLMSG_DONE carrying an error: the positive errno.
    Failed(i32),
}

/// Capacity of the held-back IPv6 buffer kept between dumps (some 15,000 sockets).
const HELD_KEEP: usize = 2 << 20;

/// The IPv6 answers of a one-walk dump, held back until it ends so that every IPv4 socket
/// comes first (they pass through the query's `keep` hook, which may stream them out).
#[derive(Debug, Default)]
pub(crate) struct Held {
    /// `inet_diag_msg` payloads, each preceded by its length (u32, native endian).
    v6: Vec<u8>,
    /// Socket messages of the current dump received so far (kept, filtered or not).
    messages: usize,
}

impl Held {
    fn reset(&mut self) {
        self.v6.clear();
        self.messages = 0;
    }

    fn hold(&mut self, payload: &[u8]) {
        // A payload comes from one datagram of at most 64 KiB: its length fits.
        self.v6
            .extend_from_slice(&(payload.len() as u32).to_ne_bytes());
        self.v6.extend_from_slice(payload);
    }

    /// Decode what was held, in arrival order, and forget it.
    fn release(&mut self, netid: Netid, query: &Query, out: &mut Vec<Socket>, skipped: &mut usize) {
        let mut rest = self.v6.as_slice();
        while let Some((len, tail)) = rest.split_first_chunk::<4>() {
            let len = u32::from_ne_bytes(*len) as usize;
            let Some(payload) = tail.get(..len) else {
                break; // cannot happen: written by `hold`
            };
            match inet::decode(payload, netid, query) {
                Decoded::Keep(s) => out.push(s),
                Decoded::Filtered => {}
                Decoded::Bad => *skipped += 1,
            }
            rest = &tail[len..];
        }
        self.v6.clear();
        if self.v6.capacity() > HELD_KEEP {
            // A huge IPv6 table once: do not keep its buffer for every later dump.
            self.v6 = Vec::new();
        }
    }
}

/// Decode every message of one datagram of the dump of `table` whose request had sequence
/// number `seq`. Messages of another sequence (a previous, abandoned dump) are ignored; an
/// undecodable message is skipped and counted; a datagram whose message lengths do not add up
/// is counted once and its rest dropped. For a one-walk table, IPv6 answers go to `held` and
/// are decoded at NLMSG_DONE.
pub(crate) fn process_datagram(
    data: &[u8],
    seq: u32,
    table: Table,
    query: &Query,
    out: &mut Vec<Socket>,
    skipped: &mut usize,
    held: &mut Held,
) -> Progress {
    let compat = table.is_compat();
    for next in Messages::new(data) {
        let (header, payload) = match next {
            Next::Msg(h, p) => (h, p),
            Next::Broken => {
                *skipped += 1;
                break;
            }
        };
        if header.seq != seq {
            continue;
        }
        match header.kind {
            kind if kind == SOCK_DIAG_BY_FAMILY || (compat && kind == TCPDIAG_GETSOCK) => {
                held.messages += 1;
                if compat && payload.first() == Some(&AF_INET6) {
                    held.hold(payload);
                    continue;
                }
                let decoded = match table {
                    Table::Inet { netid, .. } => inet::decode(payload, netid, query),
                    Table::Unix => unix::decode(payload, query),
                };
                match decoded {
                    Decoded::Keep(s) => out.push(s),
                    Decoded::Filtered => {}
                    Decoded::Bad => *skipped += 1,
                }
            }
            NLMSG_DONE => {
                return match wire::error_code(payload) {
                    0 => {
                        if let Table::Inet { netid, .. } = table {
                            held.release(netid, query, out, skipped);
                        }
                        Progress::Done
                    }
                    e => Progress::Failed(e),
                };
            }
            NLMSG_ERROR => match wire::error_code(payload) {
                // An acknowledgement, not an error.
                0 => {}
                e => return Progress::Failed(e),
            },
            NLMSG_NOOP | NLMSG_OVERRUN => {}
            _ => *skipped += 1,
        }
    }
    Progress::More
}

/// A recorded datagram (for fixtures): table name, request sequence number, raw bytes.
#[doc(hidden)]
pub type Recorded = (&'static str, u32, Vec<u8>);

/// Where requests go and answers come from: the kernel, or a script in tests.
pub(crate) trait Transport {
    fn send(&mut self, request: &[u8]) -> io::Result<()>;
    /// Receive one datagram into `buf`'s spare capacity; returns the datagram's full length
    /// (larger than what was stored when it was truncated).
    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<usize>;
}

struct KernelTransport(NlSocket);

impl Transport for KernelTransport {
    fn send(&mut self, request: &[u8]) -> io::Result<()> {
        self.0.send(request, 0).map(|_| ())
    }
    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        self.0.recv(buf, libc::MSG_TRUNC)
    }
}

/// What survives between dumps: buffers, the sequence counter, the previous size.
pub(crate) struct DumpState {
    /// Receive buffer; `recv` fills its spare capacity, so it is cleared, never shrunk.
    buf: Vec<u8>,
    /// Request buffer, reused.
    req: Vec<u8>,
    seq: u32,
    /// Sockets kept by the previous dump, to size the output once.
    last_count: usize,
    recording: Option<Vec<Recorded>>,
    /// Whether TCP over both families may be asked in one walk; cleared for good the first
    /// time the kernel refuses that request.
    one_walk: bool,
    /// IPv6 answers of the one-walk dump in progress.
    held: Held,
}

impl DumpState {
    pub(crate) fn new() -> DumpState {
        DumpState {
            buf: Vec::with_capacity(RECV_BUF),
            req: Vec::with_capacity(256),
            seq: 0,
            last_count: 0,
            recording: None,
            one_walk: true,
            held: Held::default(),
        }
    }
}

pub struct NetlinkSource {
    transport: KernelTransport,
    state: DumpState,
}

impl NetlinkSource {
    pub fn open() -> Result<NetlinkSource, NetlinkError> {
        let sock = NlSocket::new(NETLINK_SOCK_DIAG).map_err(NetlinkError::Open)?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(NetlinkError::Open)?;
        let tv = libc::timeval {
            tv_sec: RECV_TIMEOUT_SECS,
            tv_usec: 0,
        };
        // SAFETY: a valid fd we own, and a pointer/length pair describing `tv`.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(NetlinkError::Open(io::Error::last_os_error()));
        }
        Ok(NetlinkSource {
            transport: KernelTransport(sock),
            state: DumpState::new(),
        })
    }

    /// Start (or stop) keeping a copy of every datagram received, for fixtures. Fixtures hold
    /// one table each, so while recording TCP is dumped per family.
    #[doc(hidden)]
    pub fn set_recording(&mut self, on: bool) {
        self.state.recording = on.then(Vec::new);
    }

    /// Ask TCP over both families in one walk (the default) or once per family. The source
    /// turns it off by itself when the kernel refuses the one-walk request; tests compare
    /// both ways.
    #[doc(hidden)]
    pub fn set_one_walk(&mut self, on: bool) {
        self.state.one_walk = on;
    }

    /// Whether TCP over both families is still asked in one walk.
    #[doc(hidden)]
    pub fn one_walk(&self) -> bool {
        self.state.one_walk
    }

    /// The datagrams recorded since recording started.
    #[doc(hidden)]
    pub fn take_recording(&mut self) -> Vec<Recorded> {
        self.state
            .recording
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Append every socket of the tables in `query` to `out`.
    ///
    /// A table the kernel lacks (ENOENT, EINVAL) is skipped with a warning. The dump is
    /// refused (so auto mode falls back to /proc) when an inet table answers EPERM, EACCES
    /// or EPROTONOSUPPORT, or when every inet table answers ENOENT. A refused one-walk TCP
    /// request is not an error: TCP is asked per family instead, now and from then on.
    pub fn dump(
        &mut self,
        query: &Query,
        out: &mut Vec<Socket>,
        warnings: &mut Vec<String>,
        skipped: &mut usize,
    ) -> Result<(), NetlinkError> {
        dump_with(
            &mut self.transport,
            &mut self.state,
            query,
            out,
            warnings,
            skipped,
        )
    }
}

/// [`NetlinkSource::dump`] over any transport.
pub(crate) fn dump_with<T: Transport>(
    transport: &mut T,
    st: &mut DumpState,
    query: &Query,
    out: &mut Vec<Socket>,
    warnings: &mut Vec<String>,
    skipped: &mut usize,
) -> Result<(), NetlinkError> {
    let first = out.len();
    out.reserve(st.last_count);
    let mut inet_tables = 0usize;
    let mut inet_enoent = 0usize;
    let mut first_enoent = None;
    let mut work: VecDeque<Table> = tables(query, st.one_walk && st.recording.is_none()).into();
    while let Some(table) = work.pop_front() {
        let table_start = out.len();
        let mut bytecode = match table {
            Table::Inet { .. } => query.bytecode.as_deref().map(|b| b.as_slice()),
            Table::Unix => None,
        };
        if table.is_inet() {
            inet_tables += 1;
        }
        loop {
            let progress = dump_table(
                transport, st, table, query, bytecode, out, warnings, skipped,
            )?;
            let Progress::Failed(errno) = progress else {
                break;
            };
            out.truncate(table_start);
            let err = io::Error::from_raw_os_error(errno);
            if table.is_compat() && st.held.messages == 0 {
                // Refused before answering anything (an old or stripped-down kernel, or a
                // rejected filter): ask per family, which handles the rest as usual.
                st.one_walk = false;
                inet_tables -= 1;
                warnings.push(format!(
                    "tcp: the kernel refused one request for both families ({err}); \
                     asking once per family"
                ));
                work.push_front(Table::TCP6);
                work.push_front(Table::TCP4);
                break;
            }
            if errno == libc::EINVAL && bytecode.is_some() {
                warnings.push(format!(
                    "{}: kernel rejected the filter bytecode; filtering in userspace",
                    table.name()
                ));
                bytecode = None;
                continue;
            }
            if table.is_inet()
                && matches!(errno, libc::EPERM | libc::EACCES | libc::EPROTONOSUPPORT)
            {
                return Err(NetlinkError::Refused {
                    table: table.name(),
                    source: err,
                });
            }
            if table.is_inet() && errno == libc::ENOENT {
                inet_enoent += 1;
                first_enoent.get_or_insert(table.name());
            }
            warnings.push(format!(
                "{}: the kernel cannot dump this table ({err}); skipped",
                table.name()
            ));
            break;
        }
    }
    if inet_tables > 0 && inet_enoent == inet_tables {
        return Err(NetlinkError::Refused {
            table: first_enoent.unwrap_or("inet"),
            source: io::Error::from_raw_os_error(libc::ENOENT),
        });
    }
    st.last_count = out.len() - first;
    Ok(())
}

/// Send one dump request and read its answer to the end.
#[allow(clippy::too_many_arguments)]
fn dump_table<T: Transport>(
    transport: &mut T,
    st: &mut DumpState,
    table: Table,
    query: &Query,
    bytecode: Option<&[u8]>,
    out: &mut Vec<Socket>,
    warnings: &mut Vec<String>,
    skipped: &mut usize,
) -> Result<Progress, NetlinkError> {
    st.seq = st.seq.wrapping_add(1);
    let seq = st.seq;
    st.held.reset();
    match table {
        Table::Inet {
            family, protocol, ..
        } => {
            let states = inet_states(query);
            if states == 0 {
                return Ok(Progress::Done);
            }
            let mut ext = 0u8;
            if query.tcp_info && protocol == IPPROTO_TCP {
                ext |= EXT_INFO | EXT_CONG;
            }
            if query.memory {
                ext |= EXT_SKMEMINFO;
            }
            let fits = if table.is_compat() {
                wire::compat_tcp_request(ext, states, bytecode, seq, &mut st.req)
            } else {
                wire::inet_request(family, protocol, ext, states, bytecode, seq, &mut st.req)
            };
            if !fits {
                // The request went without it.
                warnings.push(format!(
                    "{}: filter bytecode too long for the kernel; filtering in userspace",
                    table.name()
                ));
            }
        }
        Table::Unix => {
            let mut show = wire::UDIAG_SHOW_NAME
                | wire::UDIAG_SHOW_PEER
                | wire::UDIAG_SHOW_RQLEN
                | wire::UDIAG_SHOW_UID;
            if query.memory {
                show |= wire::UDIAG_SHOW_MEMINFO;
            }
            // Every state bit: unconnected unix sockets are TCP_CLOSE, which the crate's
            // StateFlags cannot express. States are filtered in userspace.
            wire::unix_request(u32::MAX, show, seq, &mut st.req);
        }
    }
    if let Err(e) = transport.send(&st.req) {
        if table.is_compat()
            && let Some(errno) = e.raw_os_error()
        {
            // Refused at once: the caller asks per family.
            return Ok(Progress::Failed(errno));
        }
        return Err(if table.is_inet() {
            NetlinkError::Refused {
                table: table.name(),
                source: e,
            }
        } else {
            NetlinkError::Io(e)
        });
    }
    loop {
        st.buf.clear();
        let n = match transport.recv(&mut st.buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(NetlinkError::Io(e)),
        };
        if n > st.buf.len() {
            // Cannot happen with a 64 KiB buffer (the kernel caps dump datagrams at 32 KiB);
            // if it does, the messages cut off are lost.
            warnings.push(format!(
                "{}: a {n}-byte netlink datagram was truncated",
                table.name()
            ));
            *skipped += 1;
        }
        if let Some(rec) = st.recording.as_mut() {
            rec.push((table.name(), seq, st.buf.clone()));
        }
        match process_datagram(&st.buf, seq, table, query, out, skipped, &mut st.held) {
            Progress::More => {}
            end => return Ok(end),
        }
    }
}

/// Recorded datagrams, for fixtures and benchmarks: a file holds one table's answer as the
/// request's sequence number (u32 LE) followed by `[length u32 LE][datagram]` records.
#[doc(hidden)]
pub mod fixture {
    use super::{Held, Progress, Query, Socket, Table, process_datagram};

    pub fn table_by_name(name: &str) -> Option<Table> {
        [
            Table::TCP4,
            Table::TCP6,
            Table::TCP_BOTH,
            Table::UDP4,
            Table::UDP6,
            Table::Unix,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }

    pub fn encode(seq: u32, datagrams: &[&[u8]]) -> Vec<u8> {
        let mut v = seq.to_le_bytes().to_vec();
        for d in datagrams {
            v.extend_from_slice(&(d.len() as u32).to_le_bytes());
            v.extend_from_slice(d);
        }
        v
    }

    /// The sequence number and datagrams of a fixture file; `None` when it is malformed.
    pub fn decode(bytes: &[u8]) -> Option<(u32, Vec<&[u8]>)> {
        let (seq, mut rest) = bytes.split_first_chunk::<4>()?;
        let mut out = Vec::new();
        while !rest.is_empty() {
            let (len, tail) = rest.split_first_chunk::<4>()?;
            let len = u32::from_le_bytes(*len) as usize;
            if len > tail.len() {
                return None;
            }
            out.push(&tail[..len]);
            rest = &tail[len..];
        }
        Some((u32::from_le_bytes(*seq), out))
    }

    /// Decode `datagrams` as the answer to a dump of `table` with sequence number `seq`.
    /// Returns `Ok(true)` at NLMSG_DONE, `Ok(false)` when the answer ended early, and the
    /// errno when the kernel reported an error.
    pub fn replay(
        table: Table,
        seq: u32,
        datagrams: &[&[u8]],
        query: &Query,
        out: &mut Vec<Socket>,
        skipped: &mut usize,
    ) -> Result<bool, i32> {
        let mut held = Held::default();
        for d in datagrams {
            match process_datagram(d, seq, table, query, out, skipped, &mut held) {
                Progress::More => {}
                Progress::Done => return Ok(true),
                Progress::Failed(e) => return Err(e),
            }
        }
        Ok(false)
    }
}
