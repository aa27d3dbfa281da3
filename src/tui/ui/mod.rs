//! Rendering: pure functions from [`App`] to a frame. Nothing here changes state; the scroll
//! position is part of the state (kept by the update functions from [`layout`]'s page size).

mod body;
mod detail;
mod header;
mod help;
mod lifecycle;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use super::settings::{Action, Theme, View};
use super::state::App;
use crate::config::keys::{KeyBindings, entries};

/// Where each part of the screen goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub tabs: Rect,
    /// The view, its column header line included.
    pub body: Rect,
    /// The Lifecycle view's state diagram, above its list (when the body has room).
    pub diagram: Option<Rect>,
    pub detail: Option<Rect>,
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
        body,
        diagram,
        detail,
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
    body::render(a.body, buf, app, &st);
    if let Some(d) = a.diagram {
        lifecycle::render(d, buf, app, &st);
    }
    if let Some(d) = a.detail {
        detail::render(d, buf, app, &st);
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
    let mut spans = Vec::new();
    for v in View::ALL {
        let label = format!(" {} {} ", v.key(), v.title());
        if *v == app.view {
            spans.push(Span::styled(
                label,
                st.accent().add_modifier(Modifier::REVERSED),
            ));
        } else {
            spans.push(Span::styled(label, st.plain()));
        }
    }
    spans.push(Span::raw("  sort "));
    spans.push(Span::styled(
        format!(
            "{}{}",
            app.sort.column.title(),
            if app.sort.descending { "↓" } else { "↑" }
        ),
        st.accent(),
    ));
    if !app.filter.applied.is_empty() {
        spans.push(Span::raw("  filter "));
        spans.push(Span::styled(app.filter.applied.clone(), st.accent()));
    }
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
    let items = entries(&app.settings.keys, |b| b.footer, KeyBindings::label)
        .into_iter()
        .map(|(key, what, action)| {
            let what = if action == Action::Pause && app.paused {
                "resume"
            } else {
                what
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
