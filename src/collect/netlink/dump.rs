//! One dump of every table a query needs, over any [`Transport`]: requests out, datagrams
//! in, failed tables skipped, refusals and overruns told apart.

use std::collections::VecDeque;
use std::io;

use super::datagram::{Held, Progress, process_datagram};
use super::table::{Table, inet_states, tables};
use super::wire;
const IPPROTO_TCP: u16 = libc::IPPROTO_TCP as u16;
use super::{NetlinkError, Recorded};
use crate::collect::Query;
use crate::model::Socket;

/// Receive buffer size. The kernel caps dump datagrams at about 32 KiB, so this never
/// truncates; it is allocated once and reused for every dump.
pub(super) const RECV_BUF: usize = 64 * 1024;

/// How often a dump the kernel overran (ENOBUFS: the socket's receive queue was full and
/// answers were dropped) is asked again before giving up.
pub const OVERRUN_RETRIES: usize = 3;

// inet_diag extension bits (1 << (attribute - 1)).
const EXT_INFO: u8 = 1 << (wire::INET_DIAG_INFO - 1);
const EXT_CONG: u8 = 1 << (wire::INET_DIAG_CONG - 1);
const EXT_SKMEMINFO: u8 = 1 << (wire::INET_DIAG_SKMEMINFO - 1);
// Asks for the congestion module's own report (bbr, dctcp, vegas), as ss -i does.
const EXT_VEGASINFO: u8 = 1 << (wire::INET_DIAG_VEGASINFO - 1);
// TCLASS also brings INET_DIAG_CLASS_ID (its number does not fit the 8-bit mask).
const EXT_TOS: u8 = (1 << (wire::INET_DIAG_TOS - 1)) | (1 << (wire::INET_DIAG_TCLASS - 1));

/// Where requests go and answers come from: the kernel, the fake host, or a script in tests.
pub(crate) trait Transport {
    fn send(&mut self, request: &[u8]) -> io::Result<()>;
    /// Receive one datagram into `buf`'s spare capacity; returns the datagram's full length
    /// (larger than what was stored when it was truncated).
    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<usize>;
}

/// What survives between dumps: buffers, the sequence counter, the previous size.
pub(crate) struct DumpState {
    /// Receive buffer; `recv` fills its spare capacity, so it is cleared, never shrunk.
    pub(super) buf: Vec<u8>,
    /// Request buffer, reused.
    pub(super) req: Vec<u8>,
    pub(super) seq: u32,
    /// Sockets kept by the previous dump, to size the output once.
    pub(super) last_count: usize,
    pub(super) recording: Option<Vec<Recorded>>,
    /// Whether TCP over both families may be asked in one walk; cleared for good the first
    /// time the kernel refuses that request.
    pub(super) one_walk: bool,
    /// IPv6 answers of the one-walk dump in progress.
    pub(super) held: Held,
    /// Tables of the last dump the kernel could not answer (no diag module) and that are
    /// read from /proc/net instead: (kind, IPv6).
    pub(super) proc_tables: Vec<(crate::model::Netid, bool)>,
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
            proc_tables: Vec::new(),
        }
    }
}

/// [`super::NetlinkSource::dump`] over any transport. A dump the kernel overran (ENOBUFS on
/// recv) is asked again from the start, up to [`OVERRUN_RETRIES`] times: what it had
/// decoded is dropped (and the query's `on_restart` hook told, for sockets it streamed).
pub(crate) fn dump_with<T: Transport>(
    transport: &mut T,
    st: &mut DumpState,
    query: &Query,
    out: &mut Vec<Socket>,
    warnings: &mut Vec<String>,
    skipped: &mut usize,
) -> Result<(), NetlinkError> {
    let (first, first_warning, skipped_before) = (out.len(), warnings.len(), *skipped);
    let mut overruns = 0;
    loop {
        match dump_once(transport, st, query, out, warnings, skipped) {
            Err(NetlinkError::Overrun { .. }) if overruns < OVERRUN_RETRIES => {
                overruns += 1;
                out.truncate(first);
                warnings.truncate(first_warning);
                *skipped = skipped_before;
                if let Some(restart) = &query.on_restart {
                    restart();
                }
            }
            Err(NetlinkError::Overrun { table, .. }) => {
                return Err(NetlinkError::Overrun {
                    table,
                    attempts: overruns + 1,
                });
            }
            Ok(()) if overruns > 0 => {
                warnings.push(format!(
                    "netlink: the kernel dropped part of the answer (ENOBUFS); asked again \
                     ({overruns} time{})",
                    if overruns == 1 { "" } else { "s" }
                ));
                return Ok(());
            }
            r => return r,
        }
    }
}

/// One attempt at every table.
fn dump_once<T: Transport>(
    transport: &mut T,
    st: &mut DumpState,
    query: &Query,
    out: &mut Vec<Socket>,
    warnings: &mut Vec<String>,
    skipped: &mut usize,
) -> Result<(), NetlinkError> {
    let first = out.len();
    out.reserve(st.last_count);
    st.proc_tables.clear();
    let mut inet_tables = 0usize;
    let mut inet_enoent = 0usize;
    let mut first_enoent = None;
    let mut work: VecDeque<Table> = tables(query, st.one_walk && st.recording.is_none()).into();
    while let Some(table) = work.pop_front() {
        let table_start = out.len();
        let mut bytecode = match table {
            Table::Inet { .. } => query.bytecode.as_deref().map(|b| b.as_slice()),
            Table::Unix
            | Table::Packet
            | Table::Netlink
            | Table::Vsock
            | Table::Xdp
            | Table::Tipc => None,
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
            if let Table::Inet { family, netid, .. } = table
                && errno == libc::ENOENT
                && table.proc_fallback()
            {
                // No diag module for this protocol (raw here): /proc/net has the table, as
                // ss reads it. Not a sign that netlink is unavailable.
                inet_tables -= 1;
                st.proc_tables.push((netid, family == wire::AF_INET6));
                warnings.push(format!(
                    "{}: the kernel has no diag module for this table ({err}); read from \
                     /proc/net instead",
                    table.name()
                ));
                break;
            }
            if let Table::Inet { netid, .. } = table
                && errno == libc::ENOENT
                && netid.diag_module_optional()
            {
                // A protocol whose diag module is built apart (dccp_diag): without it the
                // table is empty, as ss prints it; netlink itself is fine.
                inet_tables -= 1;
                warnings.push(format!(
                    "{}: empty: this kernel cannot dump it (no diag module for it: {err})",
                    table.name()
                ));
                break;
            }
            if matches!(table, Table::Vsock | Table::Xdp | Table::Tipc) && errno == libc::ENOENT {
                // No vsock_diag / xsk_diag (modules of their own): the tables are empty, as
                // ss prints them; netlink itself is fine.
                let kinds = match table {
                    Table::Vsock => " (v_str, v_dgr)",
                    Table::Tipc => " (ti_st, ti_dg, ti_rd, ti_sq)",
                    _ => "",
                };
                warnings.push(format!(
                    "{}{kinds}: empty: this kernel cannot dump it (no diag module for it: \
                     {err})",
                    table.name()
                ));
                break;
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
            let states = inet_states(query, protocol);
            if states == 0 {
                return Ok(Progress::Done);
            }
            let mut ext = 0u8;
            // MPTCP's INET_DIAG_INFO is its `struct mptcp_info`.
            if query.tcp_info
                && (protocol == IPPROTO_TCP || protocol == crate::tables::IPPROTO_MPTCP)
            {
                ext |= EXT_INFO | EXT_CONG | EXT_VEGASINFO;
            }
            // SCTP's struct sctp_info (ss asks INET_DIAG_INFO for every protocol with -i).
            if query.tcp_info && protocol == libc::IPPROTO_SCTP as u16 {
                ext |= EXT_INFO;
            }
            if query.memory {
                ext |= EXT_SKMEMINFO;
            }
            if query.tos {
                ext |= EXT_TOS;
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
            if query.details {
                show |= wire::UDIAG_SHOW_VFS | wire::UDIAG_SHOW_ICONS;
            }
            // Every state bit: unconnected unix sockets are TCP_CLOSE, which the crate's
            // StateFlags cannot express. States are filtered in userspace.
            wire::unix_request(u32::MAX, show, seq, &mut st.req);
        }
        // Memory always: ss's queues for these are the memory in use.
        Table::Packet => wire::packet_request(
            wire::PACKET_SHOW_INFO
                | wire::PACKET_SHOW_MEMINFO
                | super::packet::PACKET_SHOW_RING_CFG
                | super::packet::PACKET_SHOW_FANOUT,
            seq,
            &mut st.req,
        ),
        Table::Vsock => super::vsock::request(super::vsock::states(query), seq, &mut st.req),
        Table::Xdp => super::xdp::request(seq, &mut st.req),
        Table::Tipc => super::tipc::request(super::vsock::states(query), seq, &mut st.req),
        Table::Netlink => wire::netlink_request(
            wire::NDIAG_SHOW_MEMINFO | wire::NDIAG_SHOW_GROUPS,
            seq,
            &mut st.req,
        ),
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
            Err(e) => return Err(recv_error(table, e)),
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

/// What a failed recv means. ENOBUFS: the kernel dropped answers because the socket's queue
/// was full (the dump is asked again). EPERM/EACCES: a sandbox (seccomp, an LSM) refuses
/// the socket's use mid-way, which is the same as refusing the socket: fall back to /proc.
/// Anything else is an I/O error.
fn recv_error(table: Table, e: io::Error) -> NetlinkError {
    match e.raw_os_error() {
        Some(libc::ENOBUFS) => NetlinkError::Overrun {
            table: table.name(),
            attempts: 1,
        },
        Some(libc::EPERM | libc::EACCES) => NetlinkError::Refused {
            table: table.name(),
            source: e,
        },
        _ => NetlinkError::Io(e),
    }
}
