//! The `?` overlay: every key, the panel's keys, and how to read the screen.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::tui::app::App;
use crate::tui::settings::key_label;

use super::Styles;

/// The key list (also used by tests and the README).
pub fn keys(app: &App) -> Vec<(String, String)> {
    let k = &app.settings.keys;
    let mut v: Vec<(String, String)> = vec![
        (
            format!("{} Esc Ctrl-C", k.quit),
            "quit (Esc closes help/details first)".into(),
        ),
        (
            "Tab 1 2 3".into(),
            "switch view: States, Listeners, Sockets".into(),
        ),
        (format!("↑ ↓ {} {}", k.up, k.down), "move".into()),
        (
            "PgUp PgDn Home End".into(),
            "move by page, to first/last".into(),
        ),
        (
            "Enter".into(),
            "expand/collapse a group; details of a socket".into(),
        ),
        ("← → h l".into(), "collapse/expand the current group".into()),
        (k.detail.to_string(), "details pane on/off".into()),
        (
            k.filter.to_string(),
            "filter (ss syntax, e.g. state close-wait dport = :80)".into(),
        ),
        (
            format!("{} {}", k.sort, k.sort_reverse),
            "next sort column, reverse order".into(),
        ),
        (key_label(k.pause), "pause/resume refreshing".into()),
        (
            format!("{} {}", k.slower, k.faster),
            "refresh less/more often".into(),
        ),
        (k.processes.to_string(), "processes on/off".into()),
        ("wheel".into(), "scroll".into()),
        (k.help.to_string(), "this help".into()),
    ];
    if let Some(p) = &app.panel {
        v.extend(p.help());
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
    let keys = keys(app);
    let key_w = keys
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let want_h = keys.len() as u16 + LEGEND.len() as u16 + 3;
    let w = area.width.min(84);
    let h = area.height.min(want_h);
    let popup = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
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
