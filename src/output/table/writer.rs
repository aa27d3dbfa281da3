//! Writing rows: each cell with ss's delimiter and padding, into a buffer flushed in
//! 64 KiB pieces.

use std::io::{self, Write};

use crate::output::columns::{Align, Column};

/// Output buffer flushed to the writer in 64 KiB pieces.
pub(super) struct Writer<'a, W: Write> {
    w: &'a mut W,
    pub(super) buf: Vec<u8>,
}

impl<'a, W: Write> Writer<'a, W> {
    pub(super) fn new(w: &'a mut W) -> Self {
        Writer {
            w,
            buf: Vec::with_capacity(1 << 16),
        }
    }
    pub(super) fn row<'t>(
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
    pub(super) fn end_row(&mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        if self.buf.len() >= (1 << 16) - 1024 {
            self.w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
    pub(super) fn finish(mut self) -> io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

/// One cell with ss's delimiter and padding (`print_left_spacing`/`print_right_spacing`).
pub(super) fn emit(out: &mut Vec<u8>, cols: &[Column], widths: &[usize], i: usize, text: &str) {
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
pub(super) fn delimiter(c: Column) -> &'static str {
    match c {
        // Netid is first unless a Netns column leads.
        Column::Netid
        | Column::State
        | Column::RecvQ
        | Column::SendQ
        | Column::LocalAddr
        | Column::PeerAddr => " ",
        _ => "",
    }
}
