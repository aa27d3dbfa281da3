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

mod extras;
mod families;
mod follow;
mod layout;
mod order;
mod rows;
mod tail;
#[cfg(test)]
mod tests;
mod writer;

use std::io::{self, Write};

use super::columns::{CellCtx, Column};
use crate::model::Socket;
pub use follow::FollowRows;
use layout::column_widths;
pub use order::ss_order;
pub use rows::TableRows;
use tail::push_tail;
use writer::{Writer, emit};

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
    /// `-T`: threads instead of processes in `users:(...)`.
    pub threads: bool,
    /// `-O`: no continuation lines.
    pub oneline: bool,
    /// `--tos`
    pub tos: bool,
    /// `--cgroup`
    pub cgroup: bool,
    /// `--inet-sockopt`
    pub inet_sockopt: bool,
    /// `--tipcinfo`: a TIPC socket's type, congestion, drops, publication and service.
    pub tipcinfo: bool,
    /// Terminal width to spread columns over; `None` for compact output (not a terminal).
    pub screen_width: Option<usize>,
    /// A leading Netns column (the output spans namespaces: `--all-netns`).
    pub netns: bool,
}

fn visible_columns(opts: &TableOptions) -> Vec<Column> {
    opts.netns
        .then_some(Column::Netns)
        .into_iter()
        .chain(Column::SS_TABLE.into_iter().filter(|c| match c {
            Column::Netid => opts.show_netid,
            Column::State => opts.show_state,
            _ => true,
        }))
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

/// The widths columns start from: the header's (when shown), and 6 for the queues, which ss
/// prints with `%-6d` (so `-H` tables are as wide as with the header).
fn header_lengths(cols: &[Column], opts: &TableOptions) -> Vec<usize> {
    cols.iter()
        .map(|c| {
            let queue = if matches!(c, Column::RecvQ | Column::SendQ) {
                6
            } else {
                0
            };
            if opts.header {
                c.header().len().max(queue)
            } else {
                queue
            }
        })
        .collect()
}

fn write_cell(c: Column, s: &Socket, ctx: &CellCtx, opts: &TableOptions, out: &mut String) {
    match c {
        Column::Process => push_tail(out, s, ctx, opts),
        Column::RecvQ | Column::SendQ => {
            // ss prints the queues with "%-6d": six wide even without a header (-H).
            let start = out.len();
            c.write(s, ctx, out);
            while out.len() - start < 6 {
                out.push(' ');
            }
        }
        _ => c.write(s, ctx, out),
    }
}
