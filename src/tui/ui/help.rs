//! The `?` overlay: every key, the panel's keys, and how to read the screen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::config::keys::{Action, KeyBindings, entries_where};
use crate::tui::state::App;

use super::Styles;

/// The key list, from the bindings table (also used by tests and the README).
pub fn keys(app: &App) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = entries_where(
        &app.settings.keys,
        |b| b.help,
        KeyBindings::label,
        |a| super::shown(app, a),
    )
    .into_iter()
    .map(|(keys, text, action)| match action {
        // A replay has nothing to refresh: the same key plays and pauses it (the footer
        // says "play").
        Action::Pause if app.replay.is_some() => (keys, "play/pause the replay".to_owned()),
        _ => (keys, text.to_owned()),
    })
    .collect();
    if let Some(p) = &app.panel {
        v.extend(p.help());
    }
    if app.replay.is_some() {
        v.push((
            String::new(),
            // Short enough for the overlay's 84 columns with the widest key column.
            "in a replay: no interval, no killing, no demo keys (not live)".into(),
        ));
    }
    v
}

const LEGEND: [&str; 4] = [
    "+ new since the last refresh   * queue changed   ! unread data",
    "Listener queue: Recv-Q/Send-Q = accepted-not-yet/limit; full when len > limit",
    "CLOSE-WAIT: peer closed, the application has not; TIME-WAIT lasts 60 s",
    "Recv-Q/Send-Q of UDP and unix sockets are memory, not bytes",
];

pub fn render(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    // The header's first line (host, source, refresh) stays visible over the overlay.
    let area = if area.height > 2 {
        Rect {
            y: area.y + 1,
            height: area.height - 1,
            ..area
        }
    } else {
        area
    };
    let keys = keys(app);
    let key_w = keys
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let want_h = keys.len() as u16 + LEGEND.len() as u16 + 3;
    let w = area.width.min(84);
    // The first line (the header naming the host) stays visible when there is room.
    let top = u16::from(area.height > 2);
    let room = area.height - top;
    let h = room.min(want_h);
    let popup = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + top + (room - h) / 2,
        width: w,
        height: h,
    };
    Clear.render(popup, buf);
    let mut lines: Vec<Line> = keys
        .into_iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:<key_w$}"), st.accent()),
                Span::raw(what),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.extend(
        LEGEND
            .iter()
            .map(|l| Line::from(Span::styled(*l, st.dim()))),
    );
    Paragraph::new(lines)
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(st.accent())
                .title(Span::styled(" Keys (? or Esc closes) ", st.accent())),
        )
        .render(popup, buf);
}
