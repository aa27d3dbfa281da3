//! Column widths: content width plus delimiter, spare terminal width spread as ss does.

use super::writer::delimiter;
use crate::output::columns::Column;

/// ss's `render_calc_width`: content width plus delimiter; on a terminal, spare space is
/// spread over the columns of each screen line.
pub(super) fn column_widths(
    cols: &[Column],
    max_len: &[usize],
    screen: Option<usize>,
) -> Vec<usize> {
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
