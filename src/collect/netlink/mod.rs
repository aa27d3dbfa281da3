//! netlink sock_diag source: one dump per table (inet family × protocol, and one unix dump),
//! decoded straight from a reused receive buffer into [`Socket`]s.
//!
//! The dump loop checks sequence numbers, reads NLMSG_DONE's error code, treats NLMSG_ERROR as
//! a failed table (never the whole dump), and skips undecodable messages by their header
//! length, counting them.

mod inet;
mod unix;
mod wire;

#[cfg(test)]
mod tests;

use std::io;
use std::os::fd::AsRawFd;

use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use netlink_sys::{Socket as NlSocket, SocketAddr};

use crate::collect::Query;
use crate::model::{Netid, Socket, TcpState};
use inet::Decoded;
use wire::{
    AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, Messages, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
    NLMSG_OVERRUN, Next, SOCK_DIAG_BY_FAMILY, TCP_NEW_SYN_RECV,
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
}

/// The tables a query needs, in ss's order (tcp, udp, unix; IPv4 before IPv6).
pub(crate) fn tables(query: &Query) -> Vec<Table> {
    let mut t = Vec::with_capacity(5);
    for (netid, v4, v6) in [
        (Netid::Tcp, Table::TCP4, Table::TCP6),
        (Netid::Udp, Table::UDP4, Table::UDP6),
    ] {
        if query.netids.contains(netid) {
            if query.ipv4 {
                t.push(v4);
            }
            if query.ipv6 {
                t.push(v6);
            }
        }
    }
    if query.netids.iter().any(Netid::is_unix) {
        t.push(Table::Unix);
    }
    t
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

/// Decode every message of one datagram of the dump of `table` whose request had sequence
/// number `seq`. Messages of another sequence (a previous, abandoned dump) are ignored; an
/// undecodable message is skipped and counted; a datagram whose message lengths do not add up
/// is counted once and its rest dropped.
pub(crate) fn process_datagram(
    data: &[u8],
    seq: u32,
    table: Table,
    query: &Query,
    out: &mut Vec<Socket>,
    skipped: &mut usize,
) -> Progress {
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
            SOCK_DIAG_BY_FAMILY => {
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
                    0 => Progress::Done,
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
}

impl DumpState {
    pub(crate) fn new() -> DumpState {
        DumpState {
            buf: Vec::with_capacity(RECV_BUF),
            req: Vec::with_capacity(256),
            seq: 0,
            last_count: 0,
            recording: None,
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

    /// Start (or stop) keeping a copy of every datagram received, for fixtures.
    #[doc(hidden)]
    pub fn set_recording(&mut self, on: bool) {
        self.state.recording = on.then(Vec::new);
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
    /// or EPROTONOSUPPORT, or when every inet table answers ENOENT.
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
    for table in tables(query) {
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
            if errno == libc::EINVAL && bytecode.is_some() {
                warnings.push(format!(
                    "{}: kernel rejected the filter bytecode; filtering in userspace",
                    table.name()
                ));
                bytecode = None;
                continue;
            }
            let err = io::Error::from_raw_os_error(errno);
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
            if !wire::inet_request(family, protocol, ext, states, bytecode, seq, &mut st.req) {
                warnings.push(format!(
                    "{}: filter bytecode too long for the kernel; filtering in userspace",
                    table.name()
                ));
                wire::inet_request(family, protocol, ext, states, None, seq, &mut st.req);
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
        match process_datagram(&st.buf, seq, table, query, out, skipped) {
            Progress::More => {}
            end => return Ok(end),
        }
    }
}

/// Recorded datagrams, for fixtures and benchmarks: a file holds one table's answer as the
/// request's sequence number (u32 LE) followed by `[length u32 LE][datagram]` records.
#[doc(hidden)]
pub mod fixture {
    use super::{Progress, Query, Socket, Table, process_datagram};

    pub fn table_by_name(name: &str) -> Option<Table> {
        [
            Table::TCP4,
            Table::TCP6,
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
        for d in datagrams {
            match process_datagram(d, seq, table, query, out, skipped) {
                Progress::More => {}
                Progress::Done => return Ok(true),
                Progress::Failed(e) => return Err(e),
            }
        }
        Ok(false)
    }
}
