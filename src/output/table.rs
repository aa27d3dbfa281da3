//! The ss-style table, laid out as iproute2's ss (6.x) lays it out, so `sockeye dump -tan`
//! can be compared byte for byte with `ss -tan`:
//!
//! - cells are the [`Column::SS_TABLE`] columns; Netid and State may be hidden;
//! - every column is as wide as its widest cell (the header counts unless `-H`), plus a one
//!   space delimiter before State, Recv-Q, Send-Q and both addresses; addresses are
//!   right-aligned, everything else left-aligned and padded, the last column too;
//! - the last column holds everything after the peer: ` users:(...)`, ` timer:(...)`, ` uid:..
//!   ino:.. sk:..`, and for TCP with `-i`/`-m` a `\n\t` continuation line — ss counts that
//!   whole text, newline and tab included, as the cell's width;
//! - on a terminal, spare width is spread over the columns as ss does; otherwise the output
//!   is compact;
//! - ss measures a cell when it moves on to the next one, so the very last cell of the output
//!   (the last row's Process cell) never widens its column; reproduced, so `ss -xlp` with one
//!   listener and `sockeye dump -xlp` print the same unpadded header.
//!
//! Cells are formatted into one reused buffer (no allocation per row). [`TableRows`] keeps
//! compact row text while the collector decodes (the dump's path); [`write_table`] measures
//! and writes a stored snapshot in two passes. Both share the layout code.

use std::io::{self, Write};

use super::columns::{Align, CellCtx, Column};
use super::format::{push_skmem, push_tcp_info, push_timer, push_u64};
use crate::model::{Netid, Socket, Source};

/// What to show, from the dump flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableOptions {
    pub show_netid: bool,
    pub show_state: bool,
    pub header: bool,
    /// `-p`
    pub processes: bool,
    /// `-o` (also implied by `-e`, as in ss)
    pub timers: bool,
    /// `-e`
    pub extended: bool,
    /// `-i`
    pub info: bool,
    /// `-m`
    pub memory: bool,
    /// Terminal width to spread columns over; `None` for compact output (not a terminal).
    pub screen_width: Option<usize>,
}

fn visible_columns(opts: &TableOptions) -> Vec<Column> {
    Column::SS_TABLE
        .into_iter()
        .filter(|c| match c {
            Column::Netid => opts.show_netid,
            Column::State => opts.show_state,
            _ => true,
        })
        .collect()
}

/// Format `sockets` (already in ss order) as an ss table and write it to `w`.
///
/// Two passes over the sockets: the first measures every cell, the second formats it again
/// and writes it padded, so nothing but the sockets is held in memory.
pub fn write_table<W: Write>(
    w: &mut W,
    sockets: &[Socket],
    ctx: &CellCtx,
    opts: &TableOptions,
) -> io::Result<()> {
    let cols = visible_columns(opts);
    let mut cell = String::with_capacity(256);
    let mut max_len = header_lengths(&cols, opts);
    for (row, s) in sockets.iter().enumerate() {
        let last_row = row + 1 == sockets.len();
        for (m, c) in max_len.iter_mut().zip(&cols) {
            if last_row && *c == Column::Process {
                continue; // ss quirk, kept: see the module doc
            }
            cell.clear();
            write_cell(*c, s, ctx, opts, &mut cell);
            *m = (*m).max(cell.len());
        }
    }
    let widths = column_widths(&cols, &max_len, opts.screen_width);
    let mut out = Writer::new(w);
    if opts.header {
        out.row(&cols, &widths, cols.iter().map(|c| c.header()))?;
    }
    for s in sockets {
        for (i, c) in cols.iter().enumerate() {
            cell.clear();
            write_cell(*c, s, ctx, opts, &mut cell);
            emit(&mut out.buf, &cols, &widths, i, &cell);
        }
        out.end_row()?;
    }
    out.finish()
}

fn header_lengths(cols: &[Column], opts: &TableOptions) -> Vec<usize> {
    cols.iter()
        .map(|c| if opts.header { c.header().len() } else { 0 })
        .collect()
}

/// Output buffer flushed to the writer in 64 KiB pieces.
struct Writer<'a, W: Write> {
    w: &'a mut W,
    buf: Vec<u8>,
}

impl<'a, W: Write> Writer<'a, W> {
    fn new(w: &'a mut W) -> Self {
        Writer {
            w,
            buf: Vec::with_capacity(1 << 16),
        }
    }
    fn row<'t>(
        &mut self,
        cols: &[Column],
        widths: &[usize],
        cells: impl Iterator<Item = &'t str>,
    ) -> io::Result<()> {
        for (i, text) in cells.enumerate() {
            emit(&mut self.buf, cols, widths, i, text);
        }
        self.end_row()
    }
    fn end_row(&mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        if self.buf.len() >= (1 << 16) - 1024 {
            self.w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
    fn finish(mut self) -> io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

/// The table built while the collector decodes: each socket is formatted once, as it
/// arrives, into compact per-table text (about 90 bytes a row instead of a 216-byte
/// `Socket`), then measured and written in ss order. This is what lets `sockeye dump -tan`
/// hold less than the snapshot would.
pub struct TableRows {
    ctx: CellCtx,
    opts: TableOptions,
    cols: Vec<Column>,
    /// unix, UDP, TCP: ss's table order.
    tables: [RowText; 3],
    cell: String,
}

#[derive(Default)]
struct RowText {
    text: String,
    /// Byte length of every cell, row after row.
    lens: Vec<u16>,
}

impl TableRows {
    pub fn new(ctx: CellCtx, opts: TableOptions) -> TableRows {
        TableRows {
            cols: visible_columns(&opts),
            ctx,
            opts,
            tables: Default::default(),
            cell: String::with_capacity(256),
        }
    }

    /// Format one socket's row.
    pub fn push(&mut self, s: &Socket) {
        let t = &mut self.tables[table_class(s) as usize];
        for c in &self.cols {
            self.cell.clear();
            write_cell(*c, s, &self.ctx, &self.opts, &mut self.cell);
            // ss cuts a field at 65535 bytes too.
            let mut n = self.cell.len().min(usize::from(u16::MAX));
            while !self.cell.is_char_boundary(n) {
                n -= 1;
            }
            t.text.push_str(&self.cell[..n]);
            t.lens.push(n as u16);
        }
    }

    /// Forget every row (e.g. when a snapshot is taken again from another source).
    pub fn clear(&mut self) {
        self.tables = Default::default();
    }

    /// Format later rows for this source (a /proc unix peer is `-`, not 0).
    pub fn set_source(&mut self, source: Source) {
        self.ctx = CellCtx::new(self.ctx.numeric(), source);
    }

    pub fn len(&self) -> usize {
        self.tables.iter().map(|t| t.lens.len()).sum::<usize>() / self.cols.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Measure and write the table.
    pub fn write<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let n = self.cols.len();
        let mut max_len = header_lengths(&self.cols, &self.opts);
        let rows = self.len();
        let mut seen = 0;
        for t in &self.tables {
            for row in t.lens.chunks(n) {
                seen += 1;
                for (i, (m, l)) in max_len.iter_mut().zip(row).enumerate() {
                    if seen == rows && self.cols[i] == Column::Process {
                        continue; // ss quirk, kept: see the module doc
                    }
                    *m = (*m).max(usize::from(*l));
                }
            }
        }
        let widths = column_widths(&self.cols, &max_len, self.opts.screen_width);
        let mut out = Writer::new(w);
        if self.opts.header {
            out.row(&self.cols, &widths, self.cols.iter().map(|c| c.header()))?;
        }
        for t in &self.tables {
            let mut start = 0;
            for row in t.lens.chunks(n) {
                for (i, l) in row.iter().enumerate() {
                    let end = start + usize::from(*l);
                    emit(&mut out.buf, &self.cols, &widths, i, &t.text[start..end]);
                    start = end;
                }
                out.end_row()?;
            }
        }
        out.finish()
    }
}

fn write_cell(c: Column, s: &Socket, ctx: &CellCtx, opts: &TableOptions, out: &mut String) {
    if c == Column::Process {
        push_tail(out, s, ctx, opts);
    } else {
        c.write(s, ctx, out);
    }
}

/// One cell with ss's delimiter and padding (`print_left_spacing`/`print_right_spacing`).
fn emit(out: &mut Vec<u8>, cols: &[Column], widths: &[usize], i: usize, text: &str) {
    let width = widths[i];
    let mut printed = 0;
    if i > 0 {
        let d = delimiter(cols[i]);
        out.extend_from_slice(d.as_bytes());
        printed = d.len();
    }
    if width > 0 && cols[i].align() == Align::Right {
        pad(out, width.saturating_sub(text.len() + printed));
    }
    out.extend_from_slice(text.as_bytes());
    printed += text.len();
    if width > 0 && cols[i].align() == Align::Left {
        pad(out, width.saturating_sub(printed));
    }
}

fn pad(out: &mut Vec<u8>, n: usize) {
    out.resize(out.len() + n, b' ');
}

/// ss's left delimiter of each column.
fn delimiter(c: Column) -> &'static str {
    match c {
        Column::State | Column::RecvQ | Column::SendQ | Column::LocalAddr | Column::PeerAddr => " ",
        _ => "",
    }
}

/// ss's `render_calc_width`: content width plus delimiter; on a terminal, spare space is
/// spread over the columns of each screen line.
fn column_widths(cols: &[Column], max_len: &[usize], screen: Option<usize>) -> Vec<usize> {
    let screen_width = screen.unwrap_or(usize::MAX);
    let mut first = true;
    let mut widths: Vec<usize> = cols
        .iter()
        .zip(max_len)
        .map(|(c, &m)| {
            let w = if !first && m > 0 {
                m + delimiter(*c).len()
            } else {
                m
            };
            if w > 0 {
                first = false;
            }
            w.min(screen_width)
        })
        .collect();
    if screen.is_none() {
        return widths;
    }
    let mut len = 0usize;
    let mut linecols = 0usize;
    let mut line_start = 0usize;
    let mut c = 0usize;
    while c < widths.len() {
        if widths[c] == 0 {
            c += 1;
            continue;
        }
        linecols += 1;
        len += widths[c];
        let last = widths[c + 1..].iter().all(|w| *w == 0);
        if !last && len < screen_width {
            c += 1;
            continue;
        }
        if len != screen_width {
            let mut line_end = c;
            if len > screen_width {
                // This column starts the next line.
                len -= widths[c];
                linecols -= 1;
                line_end = c - 1;
                c -= 1;
            }
            let pad = screen_width - len;
            let spacing = pad / linecols.max(1);
            let mut rem = pad % linecols.max(1);
            for w in widths[line_start..=line_end].iter_mut().rev() {
                if *w == 0 {
                    continue;
                }
                *w += spacing;
                if rem > 0 {
                    *w += 1;
                    rem -= 1;
                }
            }
        }
        line_start = c + 1;
        len = 0;
        linecols = 0;
        c += 1;
    }
    widths
}

/// The last cell: processes, timer, details, and the TCP continuation line, in ss's order.
fn push_tail(out: &mut String, s: &Socket, ctx: &CellCtx, opts: &TableOptions) {
    if opts.processes && !s.processes.is_empty() {
        out.push(' ');
        // Through the column model: process names are escaped there.
        Column::Process.write(s, ctx, out);
    }
    if s.netid.is_unix() {
        if opts.memory
            && let Some(m) = &s.memory
        {
            out.push(' ');
            push_skmem(out, m);
        }
        return;
    }
    if opts.timers && s.timer.is_some() {
        let mark = out.len();
        out.push(' ');
        if !push_timer(out, s.timer.as_ref()) {
            out.truncate(mark);
        }
    }
    if opts.extended {
        if let Some(uid) = s.uid.filter(|u| *u != 0) {
            out.push_str(" uid:");
            push_u64(out, uid.into());
        }
        out.push_str(" ino:");
        push_u64(out, s.inode);
        if let Some(cookie) = s.cookie {
            use std::fmt::Write as _;
            let _ = write!(out, " sk:{cookie:x}");
        }
        if let (Some(v6), crate::model::Endpoint::Inet { addr, .. }) = (s.v6only, &s.local)
            && addr.is_ipv6()
        {
            out.push_str(if v6 { " v6only:1" } else { " v6only:0" });
        }
    }
    // ss's /proc path prints no continuation line; its netlink path prints one for every
    // TCP socket with -i or -m (empty for TIME-WAIT), and for UDP with -m.
    let continuation = opts.memory || (opts.info && s.netid == Netid::Tcp);
    if continuation && ctx.source() == Source::Netlink {
        out.push_str("\n\t");
        if opts.memory
            && let Some(m) = &s.memory
        {
            out.push(' ');
            push_skmem(out, m);
        }
        if opts.info
            && let Some(info) = &s.tcp_info
        {
            push_tcp_info(out, info, s.state, ctx.numeric());
        }
    }
}

/// ss prints unix sockets, then UDP, then TCP.
fn table_class(s: &Socket) -> u8 {
    match s.netid {
        Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => 0,
        Netid::Udp => 1,
        Netid::Tcp => 2,
    }
}

/// Order sockets as ss prints its tables: unix, then UDP, then TCP; the kernel's order
/// within a table. In place: sockets are large, so this permutes them instead of letting a
/// stable sort allocate half the table again.
pub fn ss_order(sockets: &mut [Socket]) {
    let class = table_class;
    if sockets.is_sorted_by_key(class) {
        return;
    }
    let mut order: Vec<usize> = (0..sockets.len()).collect();
    order.sort_by_key(|i| class(&sockets[*i]));
    // Apply the permutation: position i receives the socket at order[i].
    for i in 0..sockets.len() {
        let mut j = order[i];
        while j < i {
            j = order[j];
        }
        sockets.swap(i, j);
        order[i] = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MemInfo, TcpState, Timer, TimerKind};
    use crate::output::columns::tests::inet;

    fn render(sockets: &[Socket], opts: TableOptions) -> String {
        let ctx = CellCtx::new(true, Source::Netlink);
        let mut out = Vec::new();
        write_table(&mut out, sockets, &ctx, &opts).expect("write to a Vec");
        String::from_utf8(out).expect("utf8")
    }

    fn tan() -> TableOptions {
        TableOptions {
            show_state: true,
            header: true,
            ..TableOptions::default()
        }
    }

    #[test]
    fn compact_layout_matches_ss() {
        // Recorded from `ss -tan` (iproute2 6.1) on the same three sockets.
        let mut l = inet(Netid::Tcp, TcpState::Listen, "0.0.0.0:2024", "0.0.0.0:0");
        l.send_q = Some(128);
        let t1 = inet(
            Netid::Tcp,
            TcpState::TimeWait,
            "192.0.2.2:38682",
            "203.0.113.80:80",
        );
        let t2 = inet(
            Netid::Tcp,
            TcpState::TimeWait,
            "192.0.2.2:42788",
            "203.0.113.80:80",
        );
        let got = render(&[l, t1, t2], tan());
        let want = "\
State     Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess
LISTEN    0      128          0.0.0.0:2024       0.0.0.0:*          
TIME-WAIT 0      0          192.0.2.2:38682 203.0.113.80:80         
TIME-WAIT 0      0          192.0.2.2:42788 203.0.113.80:80         
";
        assert_eq!(got, want);
    }

    #[test]
    fn header_only_and_no_header() {
        let got = render(&[], tan());
        assert_eq!(
            got,
            "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
        );
        let s = inet(Netid::Tcp, TcpState::Established, "1.2.3.4:5", "6.7.8.9:10");
        let got = render(
            std::slice::from_ref(&s),
            TableOptions {
                header: false,
                ..tan()
            },
        );
        // Without the header, columns shrink to their content.
        assert_eq!(got, "ESTAB 0 0 1.2.3.4:5 6.7.8.9:10\n");
    }

    #[test]
    fn netid_column_and_unix() {
        let mut u = inet(
            Netid::UnixStream,
            TcpState::Established,
            "1.1.1.1:1",
            "1.1.1.1:1",
        );
        u.local = crate::model::Endpoint::Unix {
            path: None,
            inode: 0,
        };
        u.peer = crate::model::Endpoint::Unix {
            path: None,
            inode: 1601,
        };
        u.inode = 1600;
        let got = render(
            &[u],
            TableOptions {
                show_netid: true,
                ..tan()
            },
        );
        let want = "\
Netid State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess
u_str ESTAB 0      0                  * 1600            * 1601       
";
        assert_eq!(got, want);
    }

    #[test]
    fn tail_with_timer_details_and_continuation_line() {
        // Shapes recorded from `ss -tanoeim`: the continuation line is part of the last
        // cell, so shorter ones are padded after the tab.
        let mut l = inet(Netid::Tcp, TcpState::Listen, "0.0.0.0:2024", "0.0.0.0:0");
        l.send_q = Some(128);
        l.uid = Some(0);
        l.inode = 1604;
        l.cookie = Some(1);
        l.memory = Some(Box::new(MemInfo {
            rcvbuf: 131_072,
            sndbuf: 16_384,
            ..MemInfo::default()
        }));
        let mut t = inet(
            Netid::Tcp,
            TcpState::TimeWait,
            "192.0.2.2:38682",
            "203.0.113.80:80",
        );
        t.uid = Some(0);
        t.inode = 0;
        t.cookie = Some(0x1002);
        t.timer = Some(Timer {
            kind: TimerKind::TimeWait,
            expires_ms: 2_888,
            retrans: 0,
        });
        let got = render(
            &[l, t],
            TableOptions {
                timers: true,
                extended: true,
                info: true,
                memory: true,
                ..tan()
            },
        );
        let lines: Vec<&str> = got.split('\n').collect();
        assert_eq!(
            lines[1],
            "LISTEN    0      128          0.0.0.0:2024       0.0.0.0:*    ino:1604 sk:1"
        );
        assert_eq!(
            lines[2],
            "\t skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)"
        );
        assert_eq!(
            lines[3],
            "TIME-WAIT 0      0          192.0.2.2:38682 203.0.113.80:80   timer:(timewait,2.888ms,0) ino:0 sk:1002"
        );
        // Padded to the widest last cell (the listener's), newline and tab counted.
        let widest = " ino:1604 sk:1\n\t skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)".len();
        let tw = " timer:(timewait,2.888ms,0) ino:0 sk:1002\n\t".len();
        assert_eq!(lines[4], format!("\t{}", " ".repeat(widest - tw)));
    }

    #[test]
    fn terminal_width_spreads_spare_space() {
        let s = inet(Netid::Tcp, TcpState::Established, "1.2.3.4:5", "6.7.8.9:10");
        let got = render(
            &[s],
            TableOptions {
                screen_width: Some(100),
                ..tan()
            },
        );
        for line in got.lines() {
            assert_eq!(line.len(), 100, "{line:?}");
        }
    }

    #[test]
    fn streamed_rows_print_like_the_stored_table() {
        let mut v = vec![
            inet(Netid::Tcp, TcpState::Listen, "0.0.0.0:2024", "0.0.0.0:0"),
            inet(Netid::Udp, TcpState::Close, "127.0.0.1:53", "0.0.0.0:0"),
            inet(
                Netid::Tcp,
                TcpState::TimeWait,
                "192.0.2.2:38682",
                "203.0.113.80:80",
            ),
            inet(Netid::UnixDgram, TcpState::Close, "1.1.1.1:1", "0.0.0.0:0"),
        ];
        v[3].local = crate::model::Endpoint::Unix {
            path: Some("/run/a b".into()),
            inode: 0,
        };
        v[3].peer = crate::model::Endpoint::Unix {
            path: None,
            inode: 0,
        };
        for header in [true, false] {
            let opts = TableOptions {
                show_netid: true,
                header,
                timers: true,
                ..tan()
            };
            let ctx = || CellCtx::new(true, Source::Netlink);
            let mut rows = TableRows::new(ctx(), opts);
            for s in &v {
                rows.push(s);
            }
            assert_eq!(rows.len(), 4);
            let mut streamed = Vec::new();
            rows.write(&mut streamed).expect("write");
            let mut sorted = v.clone();
            ss_order(&mut sorted);
            let mut stored = Vec::new();
            write_table(&mut stored, &sorted, &ctx(), &opts).expect("write");
            assert_eq!(
                String::from_utf8_lossy(&streamed),
                String::from_utf8_lossy(&stored)
            );
            rows.clear();
            assert!(rows.is_empty());
        }
    }

    #[test]
    fn last_rows_tail_does_not_widen_the_column() {
        // Recorded from `ss -xlp` (iproute2 6.1) with one unix listener.
        let mut u = inet(
            Netid::UnixStream,
            TcpState::Listen,
            "1.1.1.1:1",
            "1.1.1.1:1",
        );
        u.local = crate::model::Endpoint::Unix {
            path: Some("/tmp/sockeye-0/demo.sock".into()),
            inode: 0,
        };
        u.peer = crate::model::Endpoint::Unix {
            path: None,
            inode: 0,
        };
        u.inode = 1_156_694;
        u.send_q = Some(4096);
        u.processes = vec![crate::model::ProcessRef {
            command: "sockeye".into(),
            pid: 9951,
            fd: 14,
        }]
        .into();
        let opts = TableOptions {
            show_netid: true,
            processes: true,
            ..tan()
        };
        let want = "\
Netid State  Recv-Q Send-Q            Local Address:Port    Peer Address:PortProcess
u_str LISTEN 0      4096   /tmp/sockeye-0/demo.sock 1156694            * 0    users:((\"sockeye\",pid=9951,fd=14))
";
        assert_eq!(render(std::slice::from_ref(&u), opts), want);
        let mut rows = TableRows::new(CellCtx::new(true, Source::Netlink), opts);
        rows.push(&u);
        let mut out = Vec::new();
        rows.write(&mut out).expect("write");
        assert_eq!(String::from_utf8_lossy(&out), want);
    }

    #[test]
    fn ss_table_order() {
        let mut v = vec![
            inet(Netid::Tcp, TcpState::Listen, "1.1.1.1:1", "0.0.0.0:0"),
            inet(Netid::Udp, TcpState::Close, "1.1.1.1:2", "0.0.0.0:0"),
            inet(Netid::UnixDgram, TcpState::Close, "1.1.1.1:3", "0.0.0.0:0"),
            inet(Netid::Tcp, TcpState::Listen, "1.1.1.1:4", "0.0.0.0:0"),
        ];
        ss_order(&mut v);
        let order: Vec<u16> = v.iter().filter_map(|s| s.local_port()).collect();
        assert_eq!(order, vec![3, 2, 1, 4]);
        // A longer interleaving keeps the kernel order inside each table.
        let nets = [Netid::Tcp, Netid::UnixStream, Netid::Udp];
        let mut v: Vec<Socket> = (0..30u16)
            .map(|i| {
                let mut s = inet(
                    nets[usize::from(i % 3)],
                    TcpState::Close,
                    "1.1.1.1:1",
                    "0.0.0.0:0",
                );
                s.inode = i.into();
                s
            })
            .collect();
        ss_order(&mut v);
        let got: Vec<u64> = v.iter().map(|s| s.inode).collect();
        let want: Vec<u64> = (0..30)
            .filter(|i| i % 3 == 1)
            .chain((0..30).filter(|i| i % 3 == 2))
            .chain((0..30).filter(|i| i % 3 == 0))
            .collect();
        assert_eq!(got, want);
    }
}
