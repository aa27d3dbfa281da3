//! Rows formatted as the collector decodes, kept as compact text until written.

use std::io::{self, Write};

use super::layout::column_widths;
use super::order::table_class;
use super::writer::{Writer, emit};
use super::{TableOptions, header_lengths, visible_columns, write_cell};
use crate::model::{Socket, Source};
use crate::output::columns::{CellCtx, Column};

/// The table built while the collector decodes: each socket is formatted once, as it
/// arrives, into compact per-table text (about 90 bytes a row instead of a 216-byte
/// `Socket`), then measured and written in ss order. This is what lets `sockeye dump -tan`
/// hold less than the snapshot would.
pub struct TableRows {
    ctx: CellCtx,
    opts: TableOptions,
    cols: Vec<Column>,
    /// One per table class, in ss's table order (see [`super::order::CLASSES`]).
    tables: [RowText; super::order::CLASSES],
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
        self.ctx.set_source(source);
    }

    /// The cells' context (to ask whether `-r` gave up).
    pub fn ctx(&self) -> &CellCtx {
        &self.ctx
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
