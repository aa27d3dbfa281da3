//! The Closed view's body: a line saying where closes come from, the column header, then the
//! visible closed connections (only those on screen are formatted).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::closed::Ending;
use crate::output::columns::Column;
use crate::tui::cells;
use crate::tui::closed::{Closed, ClosedSource, KEEP};
use crate::tui::state::{App, Row};

use super::{Styles, fit};

/// Fixed columns: (title, width); Local, Peer and Process share what is left.
const FIXED: [(&str, usize); 7] = [
    ("Time(UTC)", 10),
    ("Lived", 12),
    ("Last state", 11),
    ("Sent", 8),
    ("Recv", 8),
    ("Retr", 5),
    ("Ended", 8),
];

/// The Netns column's width, when the closes span namespaces (`--all-netns`): room for
/// `net:[INODE]` (16 characters) and a space.
const NETNS_WIDTH: usize = 18;

/// Whether the view shows its own order (newest first): the sort is the default one.
pub fn default_sort(app: &App) -> bool {
    app.sort.column == Column::Local && !app.sort.descending
}

/// What the tab line ends with in this view: where closes come from, and how many.
pub fn source_note(app: &App) -> String {
    let log = &app.closed;
    let what = match log.source {
        ClosedSource::Events => match &log.namespaces {
            Some((n, unreadable)) => {
                let left_out = if unreadable.is_empty() {
                    String::new()
                } else {
                    let names: Vec<String> = unreadable
                        .iter()
                        .map(|(label, why)| format!("{}: {why}", crate::text::escape(label)))
                        .collect();
                    format!("; not entered: {}", names.join(", "))
                };
                format!(
                    "destroy events in {n} namespace{}{left_out}",
                    if *n == 1 { "" } else { "s" }
                )
            }
            None => "destroy events".to_string(),
        },
        ClosedSource::Snapshots => format!(
            "snapshots compared ({}; short connections missed, endings unknown)",
            log.why_not_events.as_deref().unwrap_or("no destroy events")
        ),
    };
    let lost = if log.lost > 0 {
        format!(", {} lost", log.lost)
    } else {
        String::new()
    };
    format!(
        "  {} closed, {} kept{lost}, from {what}",
        log.total,
        KEEP.min(log.entries.len())
    )
}

/// Which fixed columns show in `width`: narrow bodies (the details pane beside) drop the
/// last state, then the retransmits, then the lifetime, so the endpoints stay readable.
fn shown(width: usize) -> [bool; 7] {
    let mut on = [true; 7];
    for drop in [2, 5, 1] {
        let fixed: usize = FIXED
            .iter()
            .zip(on)
            .filter(|(_, o)| *o)
            .map(|((_, w), _)| w)
            .sum();
        if width >= fixed + 1 + 2 * 21 + 8 {
            break;
        }
        on[drop] = false;
    }
    on
}

pub fn render(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    if area.height == 0 {
        return;
    }
    let width = area.width as usize;
    let on = shown(width);
    let fixed: usize = FIXED
        .iter()
        .zip(on)
        .filter(|(_, o)| *o)
        .map(|((_, w), _)| w)
        .sum();
    let netns = if app.closed.spans_namespaces() {
        NETNS_WIDTH
    } else {
        0
    };
    let flex = width.saturating_sub(fixed + 1 + netns);
    let ends = flex * 3 / 8;
    let process = flex.saturating_sub(2 * ends);
    let titles = FIXED.map(|(t, _)| t.to_string());
    let mut h = String::from(" ");
    push_cells(
        &mut h,
        &titles,
        on,
        (netns, "Netns"),
        ends,
        process,
        ["Local", "Peer", "Process"],
    );
    buf.set_line(
        area.x,
        area.y,
        &Line::from(Span::styled(h, st.dim().add_modifier(Modifier::BOLD))),
        area.width,
    );
    let vs = app.view_state();
    let empty = (" no connection closed yet", " no closed connection matches");
    if super::body::empty_view_note(area, buf, app, st, empty) {
        return;
    }
    let page = area.height.saturating_sub(1) as usize;
    for (n, row) in vs.rows.iter().skip(vs.offset).take(page).enumerate() {
        let Row::Closed(seq) = *row else { continue };
        let Some(c) = app.closed.by_seq(seq) else {
            continue;
        };
        let y = area.y + 1 + n as u16;
        buf.set_line(
            area.x,
            y,
            &line(app, st, c, on, netns, ends, process),
            area.width,
        );
        if vs.offset + n == vs.selected {
            buf.set_style(
                Rect {
                    x: area.x,
                    y,
                    width: area.width,
                    height: 1,
                },
                Style::new().add_modifier(Modifier::REVERSED),
            );
        }
    }
}

/// An endpoint cell: cut from the left (the port stays), one space before the next cell.
fn addr(text: &str, w: usize) -> String {
    let mut s = fit(text, w.saturating_sub(1), false, true);
    if w > 0 {
        s.push(' ');
    }
    s
}

/// The cells of one line in column order: the fixed ones shown, the three flexible ones.
fn push_cells(
    out: &mut String,
    fixed: &[String; 7],
    on: [bool; 7],
    (netns, ns_title): (usize, &str),
    ends: usize,
    process: usize,
    flex: [&str; 3],
) {
    let put = |i: usize, out: &mut String| {
        if on[i] {
            out.push_str(&fit(&fixed[i], FIXED[i].1, false, false));
        }
    };
    put(0, out);
    put(1, out);
    out.push_str(&addr(ns_title, netns));
    out.push_str(&addr(flex[0], ends));
    out.push_str(&addr(flex[1], ends));
    for i in 2..7 {
        put(i, out);
    }
    out.push_str(&fit(flex[2], process, false, false));
}

fn line(
    app: &App,
    st: &Styles,
    c: &Closed,
    on: [bool; 7],
    netns: usize,
    ends: usize,
    process: usize,
) -> Line<'static> {
    let info = c.socket.tcp_info.as_deref();
    let time = crate::commands::events::rfc3339(c.at);
    let lived = c.lifetime.map_or_else(|| "-".to_string(), |l| l.text());
    let state = c
        .last_state
        .map_or_else(|| "-".to_string(), |s| s.ss_name().to_string());
    let num = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| cells::bytes(v as f64));
    let fixed = [
        time.get(11..19).unwrap_or("").to_string(),
        lived,
        state,
        num(info.map(|i| i.bytes_sent)),
        num(info.map(|i| i.bytes_received)),
        info.map_or_else(|| "-".to_string(), |i| i.total_retrans.to_string()),
        c.ending.as_str().to_string(),
    ];
    let ended_style = match c.ending {
        Ending::Reset | Ending::Refused | Ending::Aborted => st.warn(),
        Ending::Timeout => st.alert(),
        Ending::Orderly | Ending::Unknown => st.plain(),
    };
    let local = cells::text(Column::Local, &c.socket, &app.cells);
    let peer = cells::text(Column::Peer, &c.socket, &app.cells);
    let proc = cells::compact(Column::Process, &c.socket, &app.cells);
    let mut spans = vec![Span::raw(" ")];
    let put = |i: usize, spans: &mut Vec<Span<'static>>| {
        if on[i] {
            let style = match i {
                0 => st.dim(),
                6 => ended_style,
                _ => st.plain(),
            };
            spans.push(Span::styled(
                fit(&fixed[i], FIXED[i].1, false, false),
                style,
            ));
        }
    };
    put(0, &mut spans);
    put(1, &mut spans);
    if netns > 0 {
        let label = c.socket.netns.as_ref().map_or_else(
            || "-".to_string(),
            |t| crate::text::escape(&t.label).into_owned(),
        );
        spans.push(Span::styled(addr(&label, netns), st.dim()));
    }
    spans.push(Span::raw(addr(&local, ends)));
    spans.push(Span::raw(addr(&peer, ends)));
    for i in 2..7 {
        put(i, &mut spans);
    }
    spans.push(Span::raw(fit(&proc, process, false, false)));
    Line::from(spans)
}
