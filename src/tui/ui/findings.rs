//! The findings panel (`f`): every finding of the latest refresh, worst first, as `sockeye
//! check` prints them — what and where, the evidence, why, what to do, the threshold —
//! wrapped to the panel's width. The text is already escaped by the rules.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};

use super::Styles;
use crate::findings::Severity;
use crate::tui::state::App;

pub fn render(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    let block = Block::new().borders(Borders::TOP).title(Span::styled(
        format!(" Findings ({}) ", app.findings.len()),
        st.accent(),
    ));
    let inner = block.inner(area);
    block.render(area, buf);
    let lines = lines(app, st, usize::from(inner.width));
    for (i, line) in lines
        .into_iter()
        .take(usize::from(inner.height))
        .enumerate()
    {
        buf.set_line(inner.x, inner.y + i as u16, &line, inner.width);
    }
}

fn lines(app: &App, st: &Styles, width: usize) -> Vec<Line<'static>> {
    if app.findings.is_empty() {
        let what = if app.snapshot.is_none() {
            "waiting for the first refresh"
        } else {
            "no findings: nothing over a threshold in the last refreshes (rules need two)"
        };
        return vec![Line::from(Span::styled(format!(" {what}"), st.dim()))];
    }
    let mut out = Vec::new();
    for f in &app.findings {
        let sev = match f.severity {
            Severity::Critical => Span::styled(" CRITICAL ", st.alert()),
            Severity::Warning => Span::styled(" WARNING ", st.warn()),
        };
        out.push(Line::from(vec![
            sev,
            Span::styled(f.rule.name().to_string(), st.accent()),
            Span::raw(format!("  {}", f.place)),
        ]));
        for (j, e) in f.evidence.iter().enumerate() {
            labelled(&mut out, if j == 0 { "evidence" } else { "" }, e, width, st);
        }
        labelled(&mut out, "why", &f.why, width, st);
        labelled(&mut out, "do", &f.action, width, st);
        labelled(&mut out, "threshold", &f.threshold, width, st);
    }
    out
}

/// `   label      text`, the text wrapped at word boundaries under itself.
fn labelled(out: &mut Vec<Line<'static>>, label: &str, text: &str, width: usize, st: &Styles) {
    const INDENT: usize = 14;
    let room = width.saturating_sub(INDENT).max(20);
    for (i, chunk) in wrap(text, room).into_iter().enumerate() {
        let head = if i == 0 { label } else { "" };
        out.push(Line::from(vec![
            Span::styled(format!("   {head:<10} "), st.dim()),
            Span::raw(chunk),
        ]));
    }
}

/// Greedy word wrap; a word longer than `room` is cut.
fn wrap(text: &str, room: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let w: String = word.chars().take(room).collect();
        let need = cur.chars().count() + usize::from(!cur.is_empty()) + w.chars().count();
        if need > room && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&w);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_words_and_cuts_long_ones() {
        assert_eq!(wrap("a bb ccc dddd", 6), vec!["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("abcdefgh", 4), vec!["abcd"]);
        assert_eq!(wrap("", 4), vec![""]);
    }
}
