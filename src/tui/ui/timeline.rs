//! A replay's timeline: play state and speed, the moment shown (and how far into the
//! recording), a bar of the recording's span with the moment marked and its gaps shown, and
//! the frame number; or the go-to prompt while it is open.

use std::time::SystemTime;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::Styles;
use crate::record::when::{format_rfc3339, format_span};
use crate::tui::replay::ReplayView;

pub fn render(area: Rect, buf: &mut Buffer, r: &ReplayView, st: &Styles) {
    if area.height == 0 {
        return;
    }
    let line = match &r.goto {
        Some(input) => {
            let mut spans = vec![
                Span::styled(" go to: ", st.accent()),
                Span::raw(crate::text::escape(input).into_owned()),
                Span::styled("█", st.dim()),
            ];
            match &r.message {
                Some(m) => spans.push(Span::styled(format!("  {m}"), st.alert())),
                None => spans.push(Span::styled(
                    "  RFC 3339, HH:MM[:SS] (the recording's day), +DURATION from its start · \
                     Enter go · Esc cancel",
                    st.dim(),
                )),
            }
            Line::from(spans)
        }
        None => timeline(r, st, usize::from(area.width)),
    };
    buf.set_line(area.x, area.y, &line, area.width);
}

/// How far `b` is past `a`, to the nearest second: frames come a few microseconds early or
/// late, and a frame taken 2.9996 s in (what `g +3s` lands on) read "+2s".
fn since(a: SystemTime, b: SystemTime) -> std::time::Duration {
    let ms = b.duration_since(a).unwrap_or_default().as_millis();
    std::time::Duration::from_secs(u64::try_from((ms + 500) / 1000).unwrap_or(u64::MAX))
}

fn timeline(r: &ReplayView, st: &Styles, width: usize) -> Line<'static> {
    let Some(p) = &r.position else {
        return Line::from(Span::styled(" reading the recording…", st.dim()));
    };
    let state = if p.playing {
        format!(" ▶ {}x ", p.speed)
    } else {
        format!(" ⏸ {}x ", p.speed)
    };
    let moment = format!(
        " {}  +{} of {} ",
        format_rfc3339(p.at),
        format_span(since(p.start, p.at)),
        format_span(since(p.start, p.end))
    );
    let frame = format!(" frame {}/{} ", p.index + 1, p.frames);
    let note = r
        .message
        .as_ref()
        .or(p.note.as_ref())
        .map(|n| format!(" {n}"));
    // The note matters more than the bar: the bar gives way to it.
    let used = state.chars().count()
        + moment.chars().count()
        + frame.chars().count()
        + note.as_ref().map_or(0, |n| n.chars().count())
        + 2;
    let bar_w = width.saturating_sub(used).min(60);
    let mut spans = vec![Span::styled(state, st.accent()), Span::raw(moment)];
    if bar_w >= 8 {
        spans.push(Span::styled("├", st.dim()));
        spans.extend(bar(p, bar_w - 2, st));
        spans.push(Span::styled("┤", st.dim()));
    }
    spans.push(Span::styled(frame, st.dim()));
    if let Some(n) = note {
        spans.push(Span::styled(n, st.warn()));
    }
    Line::from(spans)
}

/// `w` cells of the recording's span: `●` at the moment, `┄` where nothing was recorded.
fn bar(p: &crate::tui::replay::Position, w: usize, st: &Styles) -> Vec<Span<'static>> {
    let span = since(p.start, p.end).as_secs_f64().max(1e-9);
    let cell = |t: SystemTime| -> usize {
        let f = since(p.start, t).as_secs_f64() / span;
        ((f * w as f64) as usize).min(w.saturating_sub(1))
    };
    let mut cells = vec!['─'; w];
    for (from, to) in &p.gaps {
        // A cell is a gap when the gap covers it whole or it is the gap's only cell.
        let (a, b) = (cell(*from), cell(*to));
        for c in cells.iter_mut().take(b.max(a + 1)).skip(a + 1) {
            *c = '┄';
        }
    }
    let at = cell(p.at);
    let before: String = cells[..at].iter().collect();
    let after: String = cells[at + 1..].iter().collect();
    vec![
        Span::styled(before, st.accent()),
        Span::styled("●", st.accent()),
        Span::styled(after, st.dim()),
    ]
}

#[cfg(test)]
mod tests {
    use super::since;
    use std::time::{Duration, SystemTime};

    #[test]
    fn the_offset_rounds_to_the_nearest_second() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |us: u64| since(t0, t0 + Duration::from_micros(us)).as_secs();
        assert_eq!(at(2_999_600), 3);
        assert_eq!(at(3_000_000), 3);
        assert_eq!(at(3_400_000), 3);
        assert_eq!(at(3_600_000), 4);
        assert_eq!(since(t0 + Duration::from_secs(1), t0), Duration::ZERO);
    }
}
