//! The findings panel (`f`): every finding of the latest refresh, worst first, as `sockeye
//! check` prints them — what and where, the evidence, why, what to do, the threshold —
//! wrapped to the panel's width. The text is already escaped by the rules. The selected
//! finding (↑/↓) is marked `▸` and highlighted; Enter shows its sockets (tui/findings.rs).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};

use super::Styles;
use crate::findings::Severity;
use crate::tui::state::App;

pub fn render(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    let title = if app.findings.is_empty() {
        format!(" Findings ({}) ", app.findings.len())
    } else {
        format!(
            " Findings ({}) · ↑↓ select · Enter its sockets · Esc close ",
            app.findings.len()
        )
    };
    let block = Block::new()
        .borders(Borders::TOP)
        .title(Span::styled(title, st.accent()));
    let inner = block.inner(area);
    block.render(area, buf);
    let (lines, starts) = lines(app, st, usize::from(inner.width));
    let height = usize::from(inner.height);
    // Scroll only as far as needed to show the selected finding from its first line.
    let sel = app.findings_selected.min(starts.len().saturating_sub(1));
    let end = starts.get(sel + 1).copied().unwrap_or(lines.len());
    let skip = if end > height {
        starts.get(sel).copied().unwrap_or(0)
    } else {
        0
    };
    for (i, line) in lines.into_iter().skip(skip).take(height).enumerate() {
        buf.set_line(inner.x, inner.y + i as u16, &line, inner.width);
    }
}

/// The panel's lines, and the line each finding starts at.
fn lines(app: &App, st: &Styles, width: usize) -> (Vec<Line<'static>>, Vec<usize>) {
    if app.findings.is_empty() {
        let what = if app.snapshot.is_none() {
            "waiting for the first refresh"
        } else {
            "no findings: nothing over a threshold in the last refreshes (rules need two)"
        };
        let line = Line::from(Span::styled(format!(" {what}"), st.dim()));
        return (vec![line], Vec::new());
    }
    let mut out = Vec::new();
    let mut starts = Vec::new();
    let selected = app.selected_finding();
    for f in &app.findings {
        starts.push(out.len());
        let here = selected.is_some_and(|s| std::ptr::eq(s, f));
        let mark = if here { "▸" } else { " " };
        let sev = match f.severity {
            Severity::Critical => Span::styled(format!("{mark}CRITICAL "), st.alert()),
            Severity::Warning => Span::styled(format!("{mark}WARNING "), st.warn()),
        };
        let mut head = Line::from(vec![
            sev,
            Span::styled(f.rule.name().to_string(), st.accent()),
            Span::raw(format!("  {}", f.place)),
        ]);
        if here {
            head = head.patch_style(Style::new().add_modifier(Modifier::REVERSED));
        }
        out.push(head);
        for (j, e) in f.evidence.iter().enumerate() {
            labelled(&mut out, if j == 0 { "evidence" } else { "" }, e, width, st);
        }
        labelled(&mut out, "why", &f.why, width, st);
        labelled(&mut out, "do", &f.action, width, st);
        labelled(&mut out, "threshold", &f.threshold, width, st);
        let sockets = f.sockets.as_deref().unwrap_or("none: a host-wide counter");
        let sockets = if f.sockets.is_none() && f.place != "host" {
            "no filter selects exactly these sockets"
        } else {
            sockets
        };
        labelled(&mut out, "sockets", sockets, width, st);
    }
    (out, starts)
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
