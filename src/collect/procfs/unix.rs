//! One line of /proc/net/unix, and the whole table read so that a socket path cannot
//! forge a row.
//!
//! ```text
//! Num       RefCount Protocol Flags    Type St Inode Path
//! 0000000000000000: 00000002 00000000 00010000 0001 01 31245 /run/foo.sock
//! ```
//! Flags `00010000` (__SO_ACCEPTCON) marks a listener; Type is SOCK_STREAM (1), SOCK_DGRAM (2)
//! or SOCK_SEQPACKET (5); St is the `socket_state`: 1 unconnected, 2 connecting, 3 connected,
//! 4 disconnecting; Inode is decimal; the path follows one space and may itself contain
//! spaces; abstract names already start with '@'. There are no queues, no peer and no uid.
//!
//! The kernel prints the path byte for byte, newlines included, so anyone who can bind a
//! socket can make the file show extra lines, even whole rows of made-up sockets. The table
//! is therefore read row by row, not line by line:
//! - a row must have the kernel's exact shape (`%pK: %08X %08X %08X %04X %02X %lu`);
//! - a line that is no row, after a row with a path, continues that path: it is joined back
//!   with its newline (shown escaped as `\n` in tables) and counted in a warning;
//! - a well-formed row that *could* continue the previous path (the path would stay within
//!   the 108 bytes a socket name can print as) is a forgery when a row no path can hold has
//!   its inode, or when netlink, asked where available, does not know the inode. Without
//!   netlink a forged row with a fresh inode cannot be told from a real one (README).

use rustc_hash::FxHashMap;

use super::BadLines;
use super::lex::{Fields, Lines, dec_u64, hex_u32};
#[cfg(test)]
use super::{Malformed, Parsed};
use crate::collect::{NetidSet, Query};
use crate::model::{Endpoint, Netid, Socket, StateSet, TcpState};

const SO_ACCEPTCON: u32 = 1 << 16;

/// The longest path text the kernel prints: 108 bytes of `sun_path` (an abstract name's
/// leading NUL printed as '@').
pub(super) const MAX_PATH_TEXT: usize = 108;

/// Whether a socket with this inode exists (netlink's view); `None` when it cannot be asked.
pub type Verify<'a> = &'a mut dyn FnMut(u64) -> Option<bool>;

/// The fields of one row, before the query's filter.
struct Row<'a> {
    refcount: u32,
    netid: Netid,
    state: TcpState,
    inode: u64,
    path: &'a [u8],
}

/// One row, in the kernel's exact shape, or `None`.
fn parse_row(line: &[u8]) -> Option<Row<'_>> {
    let colon = line.iter().position(|&b| b == b':')?;
    let num = &line[..colon];
    if !(num.len() == 8 || num.len() == 16) || !num.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let rest = line[colon + 1..].strip_prefix(b" ")?;
    // RefCount, Protocol, Flags, Type, St: fixed-width upper-case hex, one space apart.
    let mut fixed = [0u32; 5];
    let mut at = 0;
    for (slot, width) in fixed.iter_mut().zip([8, 8, 8, 4, 2]) {
        let field = rest.get(at..at + width)?;
        if field.iter().any(u8::is_ascii_lowercase) {
            return None;
        }
        *slot = hex_u32(field)?;
        if rest.get(at + width) != Some(&b' ') {
            return None;
        }
        at += width + 1;
    }
    let [refcount, _protocol, flags, kind, st] = fixed;
    let netid = Netid::of_unix_type(u8::try_from(kind).ok()?)?;
    // The kernel prints SS_CONNECTED/SS_CONNECTING exactly when sk_state is ESTABLISHED (2 is
    // an accepted-but-not-yet-accept()ed connection), and SS_UNCONNECTED/SS_DISCONNECTING
    // otherwise. Mapping by that keeps /proc in agreement with netlink, which reports
    // sk_state (ss's own /proc path prints 2 as SYN-SENT, which netlink never shows).
    let state = match st {
        _ if flags & SO_ACCEPTCON != 0 => TcpState::Listen,
        2 | 3 => TcpState::Established,
        1 | 4 => TcpState::Close,
        _ => return None,
    };
    let mut f = Fields::new(&rest[at..]);
    let inode = dec_u64(f.next()?)?;
    let path = match f.rest() {
        b"" => &[][..],
        p => p.strip_prefix(b" ").filter(|p| !p.is_empty())?,
    };
    Some(Row {
        refcount,
        netid,
        state,
        inode,
        path,
    })
}

#[cfg(test)]
pub(super) fn parse_line(line: &[u8], netids: NetidSet, states: StateSet) -> Parsed {
    let row = parse_row(line).ok_or(Malformed)?;
    Ok(build(&row, row.path, netids, states))
}

fn build(row: &Row<'_>, path: &[u8], netids: NetidSet, states: StateSet) -> Option<Socket> {
    if !netids.contains(row.netid) || !states.contains(row.state) {
        return None;
    }
    let path = (!path.is_empty()).then(|| Box::from(String::from_utf8_lossy(path).as_ref()));
    // /proc/net/unix has no queues, uid or peer: those stay unknown.
    let peer = Endpoint::Unix {
        path: None,
        inode: 0,
    };
    Some(Socket {
        inode: row.inode,
        ..Socket::new(
            row.netid,
            row.state,
            Endpoint::Unix {
                path,
                inode: row.inode,
            },
            peer,
        )
    })
}

/// inode -> RefCount of /proc/net/unix (netstat's RefCnt; sock_diag does not report it).
/// An inode on two rows (a forged row inside a path copies a real one) is `None`: which
/// count is the socket's cannot be told.
pub fn unix_refcounts(text: &[u8]) -> FxHashMap<u64, Option<u32>> {
    let mut out: FxHashMap<u64, Option<u32>> = FxHashMap::default();
    for row in Lines::new(text).skip(1).filter_map(parse_row) {
        if row.inode == 0 {
            continue;
        }
        out.entry(row.inode)
            .and_modify(|c| *c = None)
            .or_insert(Some(row.refcount));
    }
    out
}

/// What reading the table found besides sockets.
#[derive(Default)]
pub(super) struct UnixRead {
    pub(super) bad: BadLines,
    /// Paths that held a newline (lines joined back into the path before them).
    pub(super) joined: usize,
    /// Inode of the first socket whose path was joined.
    pub(super) first_joined: u64,
}

/// The row being read: its fields, and its path once a continuation was joined to it.
struct Pending<'a> {
    row: Row<'a>,
    joined: Option<Vec<u8>>,
}

impl Pending<'_> {
    fn path_len(&self) -> usize {
        self.joined.as_ref().map_or(self.row.path.len(), Vec::len)
    }

    /// Whether `line` fits as the rest of this row's path.
    fn can_continue(&self, line: &[u8]) -> bool {
        !self.row.path.is_empty() && self.path_len() + 1 + line.len() <= MAX_PATH_TEXT
    }

    fn join(&mut self, line: &[u8]) {
        let path = self.joined.get_or_insert_with(|| self.row.path.to_vec());
        path.push(b'\n');
        path.extend_from_slice(line);
    }
}

/// Parse the whole table (header line first) and push the sockets the query keeps.
///
/// Rows with inode 0 are connections still waiting in a listener's queue: unix_diag never
/// lists them, so neither do we. Both sources then show the same sockets, and the one
/// we follow is netlink's (ss's): such a row has no inode, no process and no address of
/// its own — the listener's path only — so it tells nothing the listener's own row does
/// not, and its count is the listener's Recv-Q under netlink.
pub(super) fn parse_table(
    text: &[u8],
    query: &Query,
    mut verify: Option<&mut dyn FnMut(u64) -> Option<bool>>,
    out: &mut Vec<Socket>,
) -> UnixRead {
    let mut read = UnixRead::default();
    // Inodes of the rows no path can hold, counted once a row is in doubt.
    let mut certain: Option<FxHashMap<u64, u32>> = None;
    let mut pending: Option<Pending<'_>> = None;
    let flush = |p: Pending<'_>, read: &mut UnixRead, out: &mut Vec<Socket>| {
        if p.joined.is_some() {
            if read.joined == 0 {
                read.first_joined = p.row.inode;
            }
            read.joined += 1;
        }
        if p.row.inode == 0 {
            return;
        }
        let path = p.joined.as_deref().unwrap_or(p.row.path);
        if let Some(s) = build(&p.row, path, query.netids, query.states)
            && query.keep.as_ref().is_none_or(|keep| keep(&s))
        {
            out.push(s);
        }
    };
    for (i, line) in Lines::new(text).enumerate().skip(1) {
        if line.is_empty() {
            // An empty line inside a path is a path byte too.
            if let Some(p) = pending.as_mut()
                && p.can_continue(line)
            {
                p.join(line);
            }
            continue;
        }
        match parse_row(line) {
            Some(row) => {
                if let Some(p) = pending.as_mut()
                    && p.can_continue(line)
                    && forged(&row, text, &mut certain, &mut verify)
                {
                    p.join(line);
                    continue;
                }
                if let Some(p) = pending.take() {
                    flush(p, &mut read, out);
                }
                pending = Some(Pending { row, joined: None });
            }
            None => match pending.as_mut() {
                Some(p) if p.can_continue(line) => p.join(line),
                _ => {
                    if read.bad.count == 0 {
                        read.bad.first_line = i + 1;
                    }
                    read.bad.count += 1;
                }
            },
        }
    }
    if let Some(p) = pending.take() {
        flush(p, &mut read, out);
    }
    read
}

/// A well-formed row that could be the rest of the previous path: forged when a row that
/// is not in doubt has the same inode (a real socket's, copied), or when netlink does not
/// know the inode.
fn forged(
    row: &Row<'_>,
    text: &[u8],
    certain: &mut Option<FxHashMap<u64, u32>>,
    verify: &mut Option<&mut dyn FnMut(u64) -> Option<bool>>,
) -> bool {
    if row.inode == 0 {
        return false; // dropped either way (see `parse_table`)
    }
    let certain = certain.get_or_insert_with(|| certain_inodes(text));
    if certain.contains_key(&row.inode) {
        return true;
    }
    match verify.as_mut().and_then(|v| v(row.inode)) {
        Some(real) => !real,
        None => false,
    }
}

/// How often each inode appears in rows that no path can hold: a row right after the
/// header or after a row without a path, or too long to fit in what is left of the path
/// before it. (Judged on the lines as they are: joining only makes paths longer.)
fn certain_inodes(text: &[u8]) -> FxHashMap<u64, u32> {
    let mut m = FxHashMap::default();
    // The length of the path the previous line may be part of; `None`: no path.
    let mut open_path: Option<usize> = None;
    for line in Lines::new(text).skip(1) {
        match parse_row(line) {
            Some(r) => {
                if open_path.is_none_or(|len| len + 1 + line.len() > MAX_PATH_TEXT) {
                    *m.entry(r.inode).or_insert(0) += 1;
                }
                open_path = (!r.path.is_empty()).then_some(r.path.len());
            }
            // A line that continues a path: a row after it may continue it too.
            None => open_path = Some(0),
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(line: &str) -> Socket {
        match parse_line(line.as_bytes(), NetidSet::ALL, StateSet::ALL) {
            Ok(Some(s)) => s,
            _ => panic!("not parsed: {line}"),
        }
    }

    #[test]
    fn listener_with_path_containing_space() {
        let s = sock("0000000000000000: 00000002 00000000 00010000 0001 01 31245 /tmp/a b.sock");
        assert_eq!(s.state, TcpState::Listen);
        assert_eq!(s.netid, Netid::UnixStream);
        assert_eq!(
            s.local,
            Endpoint::Unix {
                path: Some("/tmp/a b.sock".into()),
                inode: 31245
            }
        );
        assert_eq!((s.recv_q, s.send_q), (None, None));
    }

    #[test]
    fn states_and_types() {
        let s = sock("ffff8881: 00000003 00000000 00000000 0001 03  1600");
        assert_eq!(
            (s.netid, s.state),
            (Netid::UnixStream, TcpState::Established)
        );
        assert_eq!(
            s.local,
            Endpoint::Unix {
                path: None,
                inode: 1600
            }
        );
        let s = sock("ffff8881: 00000002 00000000 00000000 0002 01 17 @abstract@name");
        assert_eq!((s.netid, s.state), (Netid::UnixDgram, TcpState::Close));
        let s = sock("ffff8881: 00000002 00000000 00000000 0005 02 18");
        assert_eq!(
            (s.netid, s.state),
            (Netid::UnixSeqpacket, TcpState::Established)
        );
    }

    #[test]
    fn malformed() {
        let bad = |l: &str| {
            matches!(
                parse_line(l.as_bytes(), NetidSet::ALL, StateSet::ALL),
                Err(Malformed)
            )
        };
        assert!(bad("ffff8881: 00000002 00000000 00000000 0003 01 17"));
        assert!(bad("ffff8881: 00000002 00000000 00000000 0001 07 17"));
        assert!(bad("ffff8881: 00000002 00000000"));
        assert!(bad("ffff8881: 00000002 00000000 0000X000 0001 01 17"));
    }

    const HEADER: &str = "Num       RefCount Protocol Flags    Type St Inode Path\n";

    fn table(
        rows: &str,
        verify: Option<&mut dyn FnMut(u64) -> Option<bool>>,
    ) -> (Vec<Socket>, UnixRead) {
        let text = format!("{HEADER}{rows}");
        let mut out = Vec::new();
        let read = parse_table(text.as_bytes(), &Query::default(), verify, &mut out);
        (out, read)
    }

    fn path_of(s: &Socket) -> Option<&str> {
        match &s.local {
            Endpoint::Unix { path, .. } => path.as_deref(),
            _ => None,
        }
    }

    const REAL: &str = "000000006f1d65fc: 00000002 00000000 00010000 0001 01 24808 /tmp/x\n";
    const OTHER: &str = "00000000609e34ff: 00000003 00000000 00000000 0001 03 24811\n";

    #[test]
    fn a_newline_in_a_path_joins_the_next_line_back() {
        let (out, read) = table(&format!("{REAL}and more\n\nend\n{OTHER}"), None);
        assert_eq!(out.len(), 2);
        assert_eq!(path_of(&out[0]), Some("/tmp/x\nand more\n\nend"));
        assert_eq!(
            (read.joined, read.first_joined, read.bad.count),
            (1, 24808, 0)
        );
    }

    #[test]
    fn a_forged_row_copying_a_real_inode_is_part_of_the_path() {
        let forged = "0000000000000000: 00000002 00000000 00010000 0001 01 24811 /etc\n";
        // OTHER first: no path can hold it, so its inode is certainly real.
        let (out, read) = table(&format!("{OTHER}{REAL}{forged}"), None);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].inode, 24811);
        assert_eq!(
            path_of(&out[1]),
            Some(&*format!("/tmp/x\n{}", forged.trim_end()))
        );
        assert_eq!(read.joined, 1);
        // The same forged row before the real one: both are in doubt, neither is joined
        // without netlink.
        let (out, _) = table(&format!("{REAL}{forged}{OTHER}"), None);
        assert_eq!(out.len(), 3, "{out:?}");
    }

    #[test]
    fn a_forged_row_with_a_fresh_inode_is_judged_by_netlink() {
        let forged = "0000000000000000: 00000002 00000000 00010000 0001 01 99999 /etc\n";
        let rows = format!("{REAL}{forged}{OTHER}");
        let mut asked = Vec::new();
        let mut netlink = |inode: u64| {
            asked.push(inode);
            Some(inode != 99999)
        };
        let (out, read) = table(&rows, Some(&mut netlink));
        assert_eq!(
            out.iter().map(|s| s.inode).collect::<Vec<_>>(),
            vec![24808, 24811]
        );
        assert_eq!(read.joined, 1);
        // Asked only about the rows that could continue a path (not the first row).
        assert_eq!(asked, vec![99999]);

        // Netlink knows it: a real socket after all.
        let mut real = |_: u64| Some(true);
        let (out, read) = table(&rows, Some(&mut real));
        assert_eq!(out.len(), 3);
        assert_eq!(read.joined, 0);
        // Without netlink, /proc alone cannot tell (documented).
        let (out, _) = table(&rows, None);
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn a_row_too_long_to_be_in_a_path_is_a_row() {
        let long = format!("/{}", "p".repeat(60));
        let first = format!("000000006f1d65fc: 00000002 00000000 00010000 0001 01 24808 {long}\n");
        let mut never = |_: u64| -> Option<bool> { panic!("not in doubt") };
        let (out, read) = table(&format!("{first}{OTHER}"), Some(&mut never));
        assert_eq!(out.len(), 2);
        assert_eq!(read.joined, 0);
        // Nor is a line that does not fit in what is left of a path.
        let junk = "j".repeat(MAX_PATH_TEXT);
        let (out, read) = table(&format!("{REAL}{junk}\n"), None);
        assert_eq!((out.len(), read.joined, read.bad.count), (1, 0, 1));
    }

    #[test]
    fn reference_counts_by_inode_and_unknown_when_an_inode_repeats() {
        let text = b"Num       RefCount Protocol Flags    Type St Inode Path\n\
            0000000000000000: 00000003 00000000 00000000 0001 03 900\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 901 /a\n\
            0000000000000000: 00000005 00000000 00000000 0001 03 901\n\
            0000000000000000: 00000002 00000000 00000000 0001 02 0 /a\n";
        let r = unix_refcounts(text);
        assert_eq!(r.get(&900), Some(&Some(3)));
        assert_eq!(r.get(&901), Some(&None));
        assert_eq!(r.get(&0), None);
    }

    #[test]
    fn queued_connections_are_not_listed() {
        let queued = "00000000d3d8af14: 00000003 00000000 00000000 0001 02     0 /tmp/x\n";
        let (out, read) = table(&format!("{OTHER}{queued}{queued}"), None);
        assert_eq!(out.iter().map(|s| s.inode).collect::<Vec<_>>(), vec![24811]);
        assert_eq!(read.bad.count, 0);
    }

    #[test]
    fn rows_not_in_the_kernels_shape_are_malformed() {
        let bad = |l: &str| parse_row(l.as_bytes()).is_none();
        assert!(!bad(
            "000000006f1d65fc: 00000002 00000000 00010000 0001 01 24808 /a"
        ));
        assert!(
            bad("000000006f1d65fc: 00000002 00000000 0001000a 0001 01 24808"),
            "lower case"
        );
        assert!(
            bad("000000006f1d65fc:  00000002 00000000 00010000 0001 01 24808"),
            "two spaces"
        );
        assert!(
            bad("000000006f1d65fc: 0000002 00000000 00010000 0001 01 24808"),
            "width"
        );
        assert!(
            bad("0006f1d65fc: 00000002 00000000 00010000 0001 01 24808"),
            "Num width"
        );
        assert!(
            bad("000000006f1d65fc: 00000002 00000000 00010000 0001 01"),
            "no inode"
        );
    }
}
