//! /proc/net source: /proc/net/{tcp,tcp6,udp,udp6,unix} into the same [`Socket`] model as
//! netlink, with what /proc cannot know (a listener's backlog limit, unix queues and peers,
//! tcp_info, cookies) left as `None`.
//!
//! The tables are parsed here rather than with the procfs crate: its net parsers drop the
//! timer columns and the unix flags (so no timers and no unix listeners), allocate per line,
//! and fail a whole table on one bad line, where we skip and count it. Each file is read
//! into one reused buffer and parsed in place as bytes.

mod inet;
mod lex;
mod link;
mod unix;

pub use unix::{Verify, unix_refcounts};

use std::io::ErrorKind;

use crate::collect::{Host, Query};
use crate::model::{Netid, Socket};
use crate::tables::ProcFiles;

#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// A line that is not what the kernel prints; it is skipped and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Malformed;

/// One line: a socket, a well-formed line the query does not want (`Ok(None)`), or junk.
type Parsed = Result<Option<Socket>, Malformed>;

#[derive(Clone, Copy)]
enum Table {
    Inet { netid: Netid, v6: bool },
    Unix,
    Packet,
    Netlink,
}

/// Append every socket of the tables in `query`, read from `host`'s /proc/net, to `out`.
/// A missing table (no IPv6, no unix) is a warning; a malformed line is counted in `skipped`.
/// Unix rows that could be forged by a path are judged on the file alone (see
/// [`read_with`]).
pub fn read(
    host: &Host,
    query: &Query,
    out: &mut Vec<Socket>,
    warnings: &mut Vec<String>,
    skipped: &mut usize,
) -> Result<(), ProcError> {
    read_with(host, query, None, out, warnings, skipped)
}

/// [`read`], asking `verify` (netlink, where available) whether a unix row that could be
/// part of the path before it is a real socket. It is called only for such rows.
pub fn read_with(
    host: &Host,
    query: &Query,
    verify: Option<Verify<'_>>,
    out: &mut Vec<Socket>,
    warnings: &mut Vec<String>,
    skipped: &mut usize,
) -> Result<(), ProcError> {
    host.check_net().map_err(|source| ProcError::Read {
        path: host.net_path("").display().to_string(),
        source,
    })?;
    let mut tables: Vec<(&str, Table)> = Vec::with_capacity(5);
    // In the table registry's (ss's) order; every kind of file handled here.
    let (mut unix_file, mut packet_file, mut netlink_file) = (None, None, None);
    for netid in query.netids.iter() {
        match netid.kind().proc {
            ProcFiles::Inet { v4, v6 } => {
                if query.ipv4 {
                    tables.push((v4, Table::Inet { netid, v6: false }));
                }
                if query.ipv6 {
                    tables.push((v6, Table::Inet { netid, v6: true }));
                }
            }
            // One file holds every unix kind, and one every packet kind.
            ProcFiles::Unix { file, .. } => unix_file = Some(file),
            ProcFiles::Packet { file, .. } => packet_file = Some(file),
            ProcFiles::Netlink { file } => netlink_file = Some(file),
            ProcFiles::Absent => warnings.push(format!(
                "{}: /proc/net has no such table; not shown from /proc",
                netid.as_str()
            )),
        }
    }
    if let Some(file) = unix_file {
        tables.push((file, Table::Unix));
    }
    if let Some(file) = packet_file {
        tables.push((file, Table::Packet));
    }
    if let Some(file) = netlink_file {
        tables.push((file, Table::Netlink));
    }
    read_tables(host, query, tables, verify, out, warnings, skipped)
}

/// The inet tables netlink could not dump (no diag module: raw sockets here), read from
/// `host`'s /proc/net: (kind, IPv6) as [`crate::collect::netlink::NetlinkSource::take_proc_tables`]
/// lists them.
pub fn read_inet_tables(
    host: &Host,
    query: &Query,
    wanted: &[(Netid, bool)],
    out: &mut Vec<Socket>,
    warnings: &mut Vec<String>,
    skipped: &mut usize,
) -> Result<(), ProcError> {
    let tables = wanted
        .iter()
        .filter_map(|&(netid, v6)| match netid.kind().proc {
            ProcFiles::Inet { v4, v6: file6 } => {
                Some((if v6 { file6 } else { v4 }, Table::Inet { netid, v6 }))
            }
            ProcFiles::Unix { .. }
            | ProcFiles::Packet { .. }
            | ProcFiles::Netlink { .. }
            | ProcFiles::Absent => None,
        })
        .collect();
    read_tables(host, query, tables, None, out, warnings, skipped)
}

fn read_tables(
    host: &Host,
    query: &Query,
    tables: Vec<(&str, Table)>,
    mut verify: Option<Verify<'_>>,
    out: &mut Vec<Socket>,
    warnings: &mut Vec<String>,
    skipped: &mut usize,
) -> Result<(), ProcError> {
    // /proc/net prints timers in USER_HZ clock ticks; the procfs crate asks the C library.
    let ticks_per_sec = match ::procfs::ticks_per_second() {
        0 => 100,
        n => n,
    };

    let mut buf = Vec::with_capacity(256 * 1024);
    for (name, table) in tables {
        let path = host.net_path(name);
        match host.read_net(name, &mut buf) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {
                warnings.push(format!(
                    "{} is missing: table skipped (protocol or family not available)",
                    path.display()
                ));
                continue;
            }
            Err(source) => {
                return Err(ProcError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        }
        let bad = match table {
            Table::Inet { netid, v6 } => parse_inet(&buf, netid, v6, query, ticks_per_sec, out),
            Table::Unix => {
                let read = unix::parse_table(
                    &buf,
                    query,
                    verify
                        .as_mut()
                        .map(|v| &mut **v as &mut dyn FnMut(u64) -> Option<bool>),
                    out,
                );
                if read.joined > 0 {
                    warnings.push(format!(
                        "{}: {} socket path{} held a newline (first: inode {}); the lines \
                         after it were read as part of the path, not as sockets",
                        path.display(),
                        read.joined,
                        if read.joined == 1 { "" } else { "s" },
                        read.first_joined
                    ));
                }
                read.bad
            }
            Table::Packet => parse_lines(&buf, query, out, |l| {
                link::parse_packet(l, query.netids, query.states)
            }),
            Table::Netlink => {
                parse_lines(&buf, query, out, |l| link::parse_netlink(l, query.states))
            }
        };
        if bad.count > 0 {
            *skipped += bad.count;
            warnings.push(format!(
                "{}: skipped {} malformed line{} (first at line {})",
                path.display(),
                bad.count,
                if bad.count == 1 { "" } else { "s" },
                bad.first_line
            ));
        }
    }
    Ok(())
}

#[derive(Default)]
struct BadLines {
    count: usize,
    /// 1-based, counting the header.
    first_line: usize,
}

/// Parse a whole table of one socket per line (header line first) with `parse`, and push
/// the sockets the query keeps.
fn parse_lines(
    text: &[u8],
    query: &Query,
    out: &mut Vec<Socket>,
    parse: impl Fn(&[u8]) -> Parsed,
) -> BadLines {
    let mut bad = BadLines::default();
    for (i, line) in lex::Lines::new(text).enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        match parse(line) {
            Ok(Some(mut socket)) => {
                // Tagged before the filter: `netns =` looks at it.
                socket.netns.clone_from(&query.netns);
                if query.keep.as_ref().is_none_or(|keep| keep(&socket)) {
                    out.push(socket);
                }
            }
            Ok(None) => {}
            Err(Malformed) => {
                if bad.count == 0 {
                    bad.first_line = i + 1;
                }
                bad.count += 1;
            }
        }
    }
    bad
}

/// Parse a whole inet table (header line first) and push the sockets the query keeps.
fn parse_inet(
    text: &[u8],
    netid: Netid,
    v6: bool,
    query: &Query,
    ticks_per_sec: u64,
    out: &mut Vec<Socket>,
) -> BadLines {
    let mut bad = BadLines::default();
    // About one socket per 150 bytes: reserving up front saves re-copying a large Vec while
    // it grows, and pages never filled are never touched.
    out.reserve(text.len() / 150);
    for (i, line) in lex::Lines::new(text).enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        match inet::parse_line(line, netid, v6, query.states, ticks_per_sec) {
            Ok(Some(mut socket)) => {
                socket.netns.clone_from(&query.netns);
                if query.keep.as_ref().is_none_or(|keep| keep(&socket)) {
                    out.push(socket);
                }
            }
            Ok(None) => {}
            Err(Malformed) => {
                if bad.count == 0 {
                    bad.first_line = i + 1;
                }
                bad.count += 1;
            }
        }
    }
    bad
}

/// One table's text parsed as `name` ("tcp", "tcp6", "udp", "udp6", "unix"), for the fuzz
/// targets: the sockets kept and the lines skipped.
#[doc(hidden)]
pub fn parse_for_fuzz(
    name: &str,
    text: &[u8],
    query: &Query,
    verify: Option<Verify<'_>>,
) -> (Vec<Socket>, usize) {
    let mut out = Vec::new();
    let bad = match name {
        "unix" => {
            unix::parse_table(
                text,
                query,
                verify.map(|v| v as &mut dyn FnMut(u64) -> Option<bool>),
                &mut out,
            )
            .bad
        }
        _ => {
            let (netid, v6) = match name {
                "tcp" => (Netid::Tcp, false),
                "tcp6" => (Netid::Tcp, true),
                "udp" => (Netid::Udp, false),
                _ => (Netid::Udp, true),
            };
            parse_inet(text, netid, v6, query, 100, &mut out)
        }
    };
    (out, bad.count)
}
