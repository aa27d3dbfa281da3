//! Rows written one at a time as events arrive (`dump -E`), laid out as `ss -E` lays them
//! out: ss renders after every event with column widths that only grow (each column's
//! widest cell so far, the header's included), prints the header together with the first
//! event (so it is padded to that event's widths), and never measures the last cell.

use std::io::{self, Write};

use super::layout::column_widths;
use super::writer::emit;
use super::{TableOptions, header_lengths, visible_columns, write_cell};
use crate::model::Socket;
use crate::output::columns::{CellCtx, Column};

pub struct FollowRows {
    ctx: CellCtx,
    opts: TableOptions,
    cols: Vec<Column>,
    /// Widest cell per column so far (the header's included when shown).
    max_len: Vec<usize>,
    header_due: bool,
    cells: Vec<String>,
    line: Vec<u8>,
}

impl FollowRows {
    pub fn new(ctx: CellCtx, opts: TableOptions) -> FollowRows {
        let cols = visible_columns(&opts);
        FollowRows {
            max_len: header_lengths(&cols, &opts),
            header_due: opts.header,
            cells: vec![String::new(); cols.len()],
            line: Vec::with_capacity(512),
            cols,
            ctx,
            opts,
        }
    }

    /// Whether the header is still to be written.
    pub fn header_due(&self) -> bool {
        self.header_due
    }

    /// The header alone, padded to the widths so far: ss renders after every message it
    /// receives, also one its filter rejects, so its header can come before any row.
    pub fn write_header<W: Write>(&mut self, w: &mut W, lead: &str) -> io::Result<()> {
        if !std::mem::take(&mut self.header_due) {
            return Ok(());
        }
        let widths = column_widths(&self.cols, &self.max_len, self.opts.screen_width);
        self.line.clear();
        self.line.extend_from_slice(lead.as_bytes());
        for (i, c) in self.cols.iter().enumerate() {
            emit(&mut self.line, &self.cols, &widths, i, c.header());
        }
        self.line.push(b'\n');
        w.write_all(&self.line)
    }

    /// Write `s`'s row (after the header, the first time), with `extra` (e.g. ` ended:reset`)
    /// added to the first line of the last cell and `lead` (header's, row's) written before
    /// the lines (a Netns column).
    pub fn write<W: Write>(
        &mut self,
        w: &mut W,
        s: &Socket,
        extra: &str,
        lead: [&str; 2],
    ) -> io::Result<()> {
        for ((c, cell), m) in self.cols.iter().zip(&mut self.cells).zip(&mut self.max_len) {
            cell.clear();
            write_cell(*c, s, &self.ctx, &self.opts, cell);
            if *c == Column::Process {
                // Before the `\n\t` continuation line, if there is one.
                let at = cell.find('\n').unwrap_or(cell.len());
                cell.insert_str(at, extra);
            } else {
                *m = (*m).max(cell.len());
            }
        }
        let widths = column_widths(&self.cols, &self.max_len, self.opts.screen_width);
        self.line.clear();
        if std::mem::take(&mut self.header_due) {
            self.line.extend_from_slice(lead[0].as_bytes());
            for (i, c) in self.cols.iter().enumerate() {
                emit(&mut self.line, &self.cols, &widths, i, c.header());
            }
            self.line.push(b'\n');
        }
        self.line.extend_from_slice(lead[1].as_bytes());
        for (i, cell) in self.cells.iter().enumerate() {
            emit(&mut self.line, &self.cols, &widths, i, cell);
        }
        self.line.push(b'\n');
        w.write_all(&self.line)
    }
}
