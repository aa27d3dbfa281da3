//! Rendering: pure functions from [`App`] to a frame. Nothing here changes state; the scroll
//! position is part of the state (kept by the update functions from [`layout`]'s page size).

mod body;
mod closed;
mod detail;
mod findings;
mod header;
mod help;
mod lifecycle;
mod timeline;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use super::settings::{Action, Theme, View};
use super::state::App;
use crate::config::keys::{KeyBindings, entries_where};

/// Where each part of the screen goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub tabs: Rect,
    /// A replay's timeline (empty live).
    pub timeline: Rect,
    /// The view, its column header line included.
    pub body: Rect,
    /// The Lifecycle view's state diagram, above its list (when the body has room).
    pub diagram: Option<Rect>,
    pub detail: Option<Rect>,
    /// The findings panel (`f`), below the view.
    pub findings: Option<Rect>,
    pub panel: Option<Rect>,
    /// Filter bar (open, or showing an error) or status line.
    pub bar: Rect,
    pub footer: Rect,
}

impl Areas {
    /// Socket rows that fit in the body (its first line is the column header).
    pub fn page(&self) -> usize {
        self.body.height.saturating_sub(1).max(1) as usize
    }
}

fn take_top(area: &mut Rect, h: u16) -> Rect {
    let h = h.min(area.height);
    let top = Rect { height: h, ..*area };
    area.y += h;
    area.height -= h;
    top
}

fn take_bottom(area: &mut Rect, h: u16) -> Rect {
    let h = h.min(area.height);
    area.height -= h;
    Rect {
        y: area.y + area.height,
        height: h,
        ..*area
    }
}

/// Split the screen. Small terminals lose the header's detail lines first, then the footer.
pub fn layout(area: Rect, app: &App) -> Areas {
    let mut rest = area;
    let header_h = match area.height {
        0..=11 => 1,
        12..=17 => 2,
        _ => 4,
    };
    let header = take_top(&mut rest, header_h);
    let tabs = take_top(&mut rest, 1);
    let timeline = if app.replay.is_some() {
        take_top(&mut rest, 1)
    } else {
        Rect::default()
    };
    let footer = if area.height >= 10 {
        take_bottom(&mut rest, 1)
    } else {
        Rect::default()
    };
    let bar_h = if app.filter.input.is_some() && app.filter.error.is_some() {
        2
    } else {
        1
    };
    let bar = take_bottom(&mut rest, bar_h);
    let panel = app.panel.as_ref().map(|p| {
        let h = p.height().min(rest.height / 2);
        take_bottom(&mut rest, h)
    });
    let mut body = rest;
    let findings = app.show_findings.then(|| {
        let h = (body.height / 2).max(6).min(body.height.saturating_sub(3));
        take_bottom(&mut body, h)
    });
    let detail = if app.detail {
        if body.width >= 120 {
            let w = (body.width * 2 / 5).max(48);
            body.width -= w;
            Some(Rect {
                x: body.x + body.width,
                width: w,
                ..body
            })
        } else {
            let h = (body.height / 2).max(8).min(body.height.saturating_sub(3));
            Some(take_bottom(&mut body, h))
        }
    } else {
        None
    };
    let diagram = (app.view == View::Lifecycle && lifecycle::fits(body))
        .then(|| take_top(&mut body, lifecycle::HEIGHT));
    Areas {
        header,
        tabs,
        timeline,
        body,
        diagram,
        detail,
        findings,
        panel,
        bar,
        footer,
    }
}

/// Styles from the theme, or monochrome emphasis under NO_COLOR.
pub struct Styles<'a> {
    theme: &'a Theme,
    mono: bool,
}

impl<'a> Styles<'a> {
    pub fn new(app: &'a App) -> Styles<'a> {
        Styles {
            theme: &app.settings.theme,
            mono: app.settings.no_color,
        }
    }
    fn fg(&self, c: Color) -> Style {
        if self.mono {
            Style::new()
        } else {
            Style::new().fg(c)
        }
    }
    pub fn accent(&self) -> Style {
        self.fg(self.theme.accent).add_modifier(Modifier::BOLD)
    }
    pub fn warn(&self) -> Style {
        self.fg(self.theme.warn).add_modifier(Modifier::BOLD)
    }
    pub fn alert(&self) -> Style {
        let s = self.fg(self.theme.alert).add_modifier(Modifier::BOLD);
        if self.mono {
            s.add_modifier(Modifier::UNDERLINED)
        } else {
            s
        }
    }
    pub fn close_wait(&self) -> Style {
        self.fg(self.theme.close_wait).add_modifier(Modifier::BOLD)
    }
    pub fn time_wait(&self) -> Style {
        self.fg(self.theme.time_wait).add_modifier(Modifier::BOLD)
    }
    pub fn changed(&self) -> Style {
        self.fg(self.theme.changed).add_modifier(Modifier::BOLD)
    }
    pub fn group(&self) -> Style {
        self.fg(self.theme.group).add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.mono {
            Style::new()
        } else {
            Style::new().fg(self.theme.dim)
        }
    }
    pub fn plain(&self) -> Style {
        Style::new()
    }
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    render(area, frame.buffer_mut(), app);
}

/// Draw into a buffer (what [`draw`] does; tests and screenshots call it directly).
pub fn render(area: Rect, buf: &mut Buffer, app: &App) {
    let a = layout(area, app);
    let st = Styles::new(app);
    header::render(a.header, buf, app, &st);
    render_tabs(a.tabs, buf, app, &st);
    if let Some(r) = &app.replay {
        timeline::render(a.timeline, buf, r, &st);
    }
    body::render(a.body, buf, app, &st);
    if let Some(d) = a.diagram {
        lifecycle::render(d, buf, app, &st);
    }
    if let Some(d) = a.detail {
        detail::render(d, buf, app, &st);
    }
    if let Some(f) = a.findings {
        findings::render(f, buf, app, &st);
    }
    if let (Some(pa), Some(p)) = (a.panel, app.panel.as_ref()) {
        let block = Block::new()
            .borders(Borders::TOP)
            .title(Span::styled(format!(" {} ", p.title()), st.accent()));
        let inner = block.inner(pa);
        block.render(pa, buf);
        p.render(inner, buf, app.snapshot.as_ref());
    }
    render_bar(a.bar, buf, app, &st);
    render_footer(a.footer, buf, app, &st);
    if app.help {
        help::render(area, buf, app, &st);
    }
}

fn render_tabs(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    if area.height == 0 {
        return; // a terminal one or two lines high: the header took them
    }
    let mut rest = vec![Span::raw("  sort ")];
    let sort = match (app.view, closed::default_sort(app)) {
        (View::Closed, true) => "newest first".to_string(),
        _ => format!(
            "{}{}",
            app.sort.column.title(),
            if app.sort.descending { "↓" } else { "↑" }
        ),
    };
    rest.push(Span::styled(sort, st.accent()));
    if !app.filter.applied.is_empty() {
        rest.push(Span::raw("  filter "));
        rest.push(Span::styled(app.filter.applied.clone(), st.accent()));
    }
    if app.view == View::Closed {
        rest.push(Span::styled(
            crate::text::escape(&closed::source_note(app)).into_owned(),
            st.dim(),
        ));
    }
    // When every title does not fit beside the sort and filter, the other views show only
    // their numbers (the help lists them).
    let full: usize = View::ALL
        .iter()
        .map(|v| v.title().chars().count() + 4)
        .sum();
    let rest_w: usize = rest.iter().map(|s| s.content.chars().count()).sum();
    let compact = full + rest_w > usize::from(area.width);
    let mut spans = Vec::new();
    for v in View::ALL {
        if *v == app.view {
            spans.push(Span::styled(
                format!(" {} {} ", v.key(), v.title()),
                st.accent().add_modifier(Modifier::REVERSED),
            ));
        } else if compact {
            spans.push(Span::styled(format!(" {} ", v.key()), st.plain()));
        } else {
            spans.push(Span::styled(
                format!(" {} {} ", v.key(), v.title()),
                st.plain(),
            ));
        }
    }
    spans.extend(rest);
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

fn render_bar(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    if area.height == 0 {
        return;
    }
    Clear.render(area, buf);
    let line = if let Some(input) = &app.filter.input {
        const HINT: &str = "   Enter apply · Esc cancel";
        // The cursor is at the end: a text longer than the bar shows its end.
        let room = usize::from(area.width).saturating_sub(2 + HINT.chars().count());
        let n = input.chars().count();
        let shown = if n > room && room > 1 {
            let tail: String = input.chars().skip(n - (room - 1)).collect();
            format!("…{tail}")
        } else {
            input.clone()
        };
        Line::from(vec![
            Span::styled("/", st.accent()),
            Span::raw(shown),
            Span::styled("█", st.dim()),
            Span::styled(HINT, st.dim()),
        ])
    } else if let Some(plan) = &app.confirm {
        Line::from(vec![
            Span::styled(format!("Close {}? ", plan.what), st.alert()),
            Span::styled("y closes · any other key cancels", st.dim()),
        ])
    } else if let Some(note) = &app.notice {
        Line::from(Span::styled(note.clone(), st.accent()))
    } else if let Some(job) = &app.filter.resolving {
        Line::from(vec![
            Span::styled("resolving… ", st.accent()),
            Span::raw(job.text.clone()),
            Span::styled("   Esc cancels · the filter in force stays", st.dim()),
        ])
    } else if let Some(e) = &app.error {
        Line::from(Span::styled(format!("collection failed: {e}"), st.alert()))
    } else if let Some(e) = &app.filter.error {
        Line::from(Span::styled(
            e.lines().next().unwrap_or("").to_string(),
            st.alert(),
        ))
    } else if let Some(note) = app.snapshot.as_ref().and_then(|s| s.process_note.as_ref()) {
        Line::from(Span::styled(note.clone(), st.dim()))
    } else {
        Line::default()
    };
    buf.set_line(area.x, area.y, &line, area.width);
    if app.filter.input.is_some()
        && let Some(e) = &app.filter.error
        && area.height > 1
    {
        // The error stays inline; the last good filter is still applied.
        let msg = e.lines().next().unwrap_or("").to_string();
        let line = Line::from(vec![
            Span::styled(msg, st.alert()),
            Span::styled(
                format!("   (still applied: {})", shown_filter(&app.filter.applied)),
                st.dim(),
            ),
        ]);
        buf.set_line(area.x, area.y + 1, &line, area.width);
    }
}

fn shown_filter(f: &str) -> &str {
    if f.is_empty() { "none" } else { f }
}

fn render_footer(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    if area.height == 0 {
        return;
    }
    let items = entries_where(
        &app.settings.keys,
        |b| b.footer,
        KeyBindings::label,
        |a| shown(app, a),
    )
    .into_iter()
    .map(|(key, what, action)| {
        let what = match (&app.replay, action) {
            (Some(r), Action::Pause) => {
                if r.playing {
                    "pause"
                } else {
                    "play"
                }
            }
            (None, Action::Pause) if app.paused => "resume",
            _ => what,
        };
        (key, what)
    });
    let mut spans = Vec::new();
    for (key, what) in items {
        spans.push(Span::styled(format!(" {key}"), st.accent()));
        spans.push(Span::styled(format!(" {what} "), st.dim()));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

/// Whether the help and the footer list `a`: the live view leaves out the replay keys, a
/// replay the live-only ones.
pub fn shown(app: &App, a: Action) -> bool {
    if app.replay.is_some() {
        !a.live_only()
    } else {
        !a.replay_only()
    }
}

/// Pad or cut `s` to exactly `w` columns. Cut text keeps its end (the port of an address)
/// when `keep_end`, and shows `…` where it was cut.
pub fn fit(s: &str, w: usize, right: bool, keep_end: bool) -> String {
    let n = s.chars().count();
    if n > w {
        if w == 0 {
            return String::new();
        }
        let kept: String = if keep_end {
            let tail: String = s.chars().skip(n - (w - 1)).collect();
            format!("…{tail}")
        } else {
            let head: String = s.chars().take(w - 1).collect();
            format!("{head}…")
        };
        return kept;
    }
    let pad = " ".repeat(w - n);
    if right {
        format!("{pad}{s}")
    } else {
        format!("{s}{pad}")
    }
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn fit_pads_and_cuts() {
        assert_eq!(fit("ab", 4, false, false), "ab  ");
        assert_eq!(fit("ab", 4, true, false), "  ab");
        assert_eq!(fit("127.0.0.1:8080", 8, false, true), "….1:8080");
        assert_eq!(fit("abcdef", 4, false, false), "abc…");
        assert_eq!(fit("abc", 0, false, false), "");
    }
}
