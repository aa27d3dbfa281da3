//! The three views' bodies: a column header line, then the visible rows. Only the rows on
//! screen are formatted, so a view of 100,000 sockets draws as fast as one of 30.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::group::AcceptQueue;
use crate::model::{Netid, Socket, TcpState};
use crate::output::columns::{Column, Fit};
use crate::tui::cells;
use crate::tui::delta;
use crate::tui::rates::{RateKey, per_second};
use crate::tui::settings::View;
use crate::tui::state::{App, GroupId, Row};

use super::{Styles, fit};

/// The columns shown and their widths for a body of a given width: after the lead (change
/// mark, tree indent), each column gets its minimum, and the flexible ones share the rest by
/// their weights (the last takes what rounding leaves).
#[derive(Clone, Debug)]
struct Layout {
    lead: usize,
    cols: Vec<(Column, usize)>,
}

impl Layout {
    fn new(width: usize, lead: usize, columns: &[Column], processes: bool) -> Layout {
        let shown: Vec<Column> = columns
            .iter()
            .copied()
            .filter(|c| processes || *c != Column::Process)
            .collect();
        let fixed: usize = shown.iter().map(|c| usize::from(c.spec().tui.min)).sum();
        let rest = width.saturating_sub(lead + fixed);
        let total: usize = shown.iter().map(|c| usize::from(c.spec().tui.share)).sum();
        let last_flex = shown.iter().rposition(|c| c.spec().tui.share > 0);
        let mut given = 0;
        let cols = shown
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let t = c.spec().tui;
                let extra = if t.share == 0 {
                    0
                } else if Some(i) == last_flex {
                    rest - given
                } else {
                    let e = rest * usize::from(t.share) / total;
                    given += e;
                    e
                };
                (*c, usize::from(t.min) + extra)
            })
            .collect();
        Layout { lead, cols }
    }
}

/// A cell fitted to its width as its column says.
fn cell(text: &str, w: usize, f: Fit) -> String {
    match f {
        Fit::Left => fit(text, w, false, false),
        Fit::Right => fit(&format!("{text} "), w, true, false),
        Fit::KeepEnd => gap(text, w),
    }
}

/// A header cell: like [`cell`], but a header is cut at its end.
fn header_cell(text: &str, w: usize, f: Fit) -> String {
    match f {
        Fit::Left => fit(text, w, false, false),
        Fit::Right => fit(&format!("{text} "), w, true, false),
        Fit::KeepEnd => {
            let mut s = fit(text, w.saturating_sub(1), false, false);
            s.push(' ');
            s
        }
    }
}

/// Whether a listener row shows this column (the peer side belongs to its connections).
fn listener_shows(c: Column) -> bool {
    !matches!(
        c,
        Column::Peer | Column::PeerAddr | Column::PeerPort | Column::PeerInode | Column::Process
    )
}

/// Under the header of a view without rows: why it is empty (nothing yet, or nothing the
/// filter keeps). Returns whether it was empty.
pub(super) fn empty_view_note(
    area: Rect,
    buf: &mut Buffer,
    app: &App,
    st: &Styles,
    (nothing, no_match): (&str, &str),
) -> bool {
    if !app.view_state().rows.is_empty() || area.height <= 1 {
        return false;
    }
    let msg = if app.filter.applied.is_empty() {
        nothing.to_string()
    } else {
        format!("{no_match} `{}`", crate::text::escape(&app.filter.applied))
    };
    buf.set_line(
        area.x,
        area.y + 1,
        &Line::from(Span::styled(msg, st.dim())),
        area.width,
    );
    true
}

fn lead_for(view: View) -> usize {
    match view {
        View::States => 4,
        View::Listeners => 6,
        View::Sockets => 2,
        View::Closed => 1,
        View::Lifecycle => 4,
        View::Namespaces => 4,
    }
}

pub fn render(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    if app.view == View::Closed {
        return super::closed::render(area, buf, app, st);
    }
    if area.height == 0 {
        return;
    }
    let cols = Layout::new(
        area.width as usize,
        lead_for(app.view),
        &app.settings.columns,
        app.show_processes,
    );
    // Column header.
    let mut h = " ".repeat(cols.lead);
    for &(c, w) in &cols.cols {
        h.push_str(&header_cell(c.header(), w, c.spec().tui.fit));
    }
    buf.set_line(
        area.x,
        area.y,
        &Line::from(Span::styled(h, st.dim().add_modifier(Modifier::BOLD))),
        area.width,
    );

    let Some(snap) = app.snapshot.as_ref() else {
        let msg = match &app.error {
            Some(e) => Span::styled(format!(" no data: {e}"), st.alert()),
            None => Span::styled(" waiting for the first snapshot…", st.dim()),
        };
        if area.height > 1 {
            buf.set_line(area.x, area.y + 1, &Line::from(msg), area.width);
        }
        return;
    };
    let vs = app.view_state();
    if empty_view_note(area, buf, app, st, (" no sockets", " no sockets match")) {
        return;
    }
    let page = area.height.saturating_sub(1) as usize;
    // The pair a panel's guided walk is on (the demo's tour): both ends marked.
    let marked = app.panel.as_ref().map(|p| p.marked()).unwrap_or_default();
    let is_marked = |idx: usize| {
        snap.sockets.get(idx).is_some_and(|s| {
            s.netid == crate::model::Netid::Tcp
                && s.local_port()
                    .zip(s.peer_port())
                    .is_some_and(|pair| marked.contains(&pair))
        })
    };
    for (n, row) in vs.rows.iter().skip(vs.offset).take(page).enumerate() {
        let y = area.y + 1 + n as u16;
        let line = match *row {
            Row::Socket { idx, depth } => socket_line(app, st, &cols, &snap.sockets, idx, depth),
            Row::StateGroup(key) => {
                let count = app
                    .groups
                    .iter()
                    .find(|g| g.key == key)
                    .map_or(0, |g| g.members.len());
                let collapsed = app.collapsed.contains(&GroupId::State(key));
                let style = match key {
                    crate::group::StateGroupKey::Tcp(TcpState::CloseWait) => st.close_wait(),
                    crate::group::StateGroupKey::Tcp(TcpState::TimeWait) => st.time_wait(),
                    _ => st.group(),
                };
                let mut spans = vec![
                    Span::styled(format!(" {} ", glyph(collapsed)), st.dim()),
                    Span::styled(format!("{} ", key.label()), style),
                    Span::styled(format!("{count}"), style),
                ];
                if key == crate::group::StateGroupKey::Tcp(TcpState::CloseWait) {
                    spans.push(Span::styled(
                        "  the application has not called close()",
                        st.dim(),
                    ));
                }
                Line::from(spans)
            }
            Row::Closed(_) => continue,
            Row::Listener(g) | Row::NetnsListener(g) => {
                listener_line(app, st, &cols, &snap.sockets, g)
            }
            Row::Netns(n) => {
                let Some(g) = app.netns.get(n) else {
                    continue;
                };
                netns_line(app, st, g)
            }
            Row::OutboundHeader => {
                let collapsed = app.collapsed.contains(&GroupId::Outbound);
                Line::from(vec![
                    Span::styled(format!(" {} ", glyph(collapsed)), st.dim()),
                    Span::styled("Outbound", st.group()),
                    Span::styled(
                        format!(
                            "  {} remote endpoints (connections that belong to no listener)",
                            app.tree.outbound.len()
                        ),
                        st.dim(),
                    ),
                ])
            }
            Row::Remote(r) => {
                let Some(rg) = app.tree.outbound.get(r) else {
                    continue;
                };
                let collapsed = app.collapsed.contains(&GroupId::Remote(rg.addr, rg.port));
                let ep = cells::remote(rg.addr, rg.port);
                let g = if rg.members.is_empty() {
                    "·"
                } else {
                    glyph(collapsed)
                };
                let mut spans = vec![
                    Span::styled(format!("   {g} "), st.dim()),
                    Span::styled(format!("→ {ep}"), st.group()),
                    Span::styled(format!("  {} open", rg.members.len()), st.plain()),
                ];
                counts_spans(&mut spans, st, rg.close_wait, rg.time_wait);
                rate_spans(&mut spans, app, st, RateKey::Remote(rg.addr, rg.port));
                Line::from(spans)
            }
        };
        buf.set_line(area.x, y, &line, area.width);
        if let Row::Socket { idx, .. } = *row
            && !marked.is_empty()
            && is_marked(idx)
        {
            let rect = Rect {
                x: area.x,
                y,
                width: area.width,
                height: 1,
            };
            buf.set_style(rect, st.accent().add_modifier(Modifier::BOLD));
            if area.width > 0 {
                buf[(area.x, y)].set_symbol("◆");
            }
        }
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

/// An address cell: cut from the left (the port stays visible), one space before the next.
fn gap(text: &str, w: usize) -> String {
    let mut s = fit(text, w.saturating_sub(1), false, true);
    if w > 0 {
        s.push(' ');
    }
    s
}

/// A namespace's header: its name (escaped: container names are untrusted), runtime, socket
/// count and TCP states, TIME-WAIT and CLOSE-WAIT emphasized.
fn netns_line(app: &App, st: &Styles, g: &crate::tui::netns::NsGroup) -> Line<'static> {
    let collapsed = app.collapsed.contains(&GroupId::Netns(g.key()));
    let mut spans = vec![
        Span::styled(format!(" {} ", glyph(collapsed)), st.dim()),
        Span::styled(crate::text::escape(g.label()).into_owned(), st.group()),
    ];
    if let Some(t) = &g.tag {
        let mut what = String::new();
        if let Some(c) = &t.container {
            what.push_str(c.runtime);
            what.push(' ');
        }
        if t.container.is_some() || t.name.is_some() {
            what.push_str(&format!("net:[{}]", t.inode));
        }
        if !what.is_empty() {
            spans.push(Span::styled(
                format!(" ({})", crate::text::escape(&what)),
                st.dim(),
            ));
        }
    }
    let plural = if g.sockets == 1 { "" } else { "s" };
    spans.push(Span::styled(
        format!("  {} socket{plural}", g.sockets),
        st.plain(),
    ));
    for s in [TcpState::Listen, TcpState::Established, TcpState::SynRecv] {
        let n = g.tcp(s);
        if n > 0 {
            spans.push(Span::styled(format!("  {} {n}", s.ss_name()), st.plain()));
        }
    }
    let (cw, tw) = (g.tcp(TcpState::CloseWait), g.tcp(TcpState::TimeWait));
    counts_spans(&mut spans, st, cw as usize, tw as usize);
    if !app.netns_open.contains(&g.key()) && !collapsed {
        spans.push(Span::styled("  (Enter: its sockets)", st.dim()));
    }
    Line::from(spans)
}

fn glyph(collapsed: bool) -> &'static str {
    if collapsed { "▸" } else { "▾" }
}

/// `  +2.0/s -0.5/s ▁▃▂` : opened and closed per second over the last refresh, and the
/// closes of the last refreshes as a sparkline (nothing before two refreshes).
pub(super) fn rate_spans(spans: &mut Vec<Span<'static>>, app: &App, st: &Styles, key: RateKey) {
    let Some((opened, closed)) = app.rates.now(key) else {
        return;
    };
    spans.push(Span::styled(
        format!("  +{} -{} ", per_second(opened), per_second(closed)),
        st.dim(),
    ));
    if let Some(series) = app.rates.of(key) {
        let tail = series.iter().rev().take(10).rev().map(|s| s.closed);
        spans.push(Span::styled(crate::group::sparkline(tail), st.dim()));
    }
}

fn counts_spans(spans: &mut Vec<Span<'static>>, st: &Styles, close_wait: usize, time_wait: usize) {
    if close_wait > 0 {
        spans.push(Span::styled(
            format!("  CLOSE-WAIT {close_wait}"),
            st.close_wait(),
        ));
    }
    if time_wait > 0 {
        spans.push(Span::styled(
            format!("  TIME-WAIT {time_wait}"),
            st.time_wait(),
        ));
    }
}

/// Style of a Recv-Q/Send-Q cell: thresholds apply to payload bytes (TCP, not listeners).
fn queue_style(st: &Styles, app: &App, s: &Socket, v: Option<u32>) -> Style {
    if !cells::queues_are_bytes(s) {
        return st.plain();
    }
    match v {
        Some(v) if v >= app.settings.queue_alert => st.alert(),
        Some(v) if v >= app.settings.queue_warn => st.warn(),
        _ => st.plain(),
    }
}

fn mark(app: &App, st: &Styles, idx: usize) -> Span<'static> {
    let m = app.changes.marks.get(idx).copied().unwrap_or(0);
    if m & delta::NEW != 0 {
        Span::styled("+", st.changed())
    } else if m & delta::QUEUE_CHANGED != 0 {
        Span::styled("*", st.changed())
    } else {
        Span::raw(" ")
    }
}

fn socket_line(
    app: &App,
    st: &Styles,
    cols: &Layout,
    sockets: &[Socket],
    idx: usize,
    depth: u8,
) -> Line<'static> {
    let Some(s) = sockets.get(idx) else {
        return Line::default();
    };
    let close_wait = s.netid == Netid::Tcp && s.state == TcpState::CloseWait;
    let unread = cells::queues_are_bytes(s) && s.recv_q.unwrap_or(0) > 0;
    let base = if close_wait {
        st.close_wait()
    } else if s.state == TcpState::TimeWait {
        st.dim()
    } else {
        st.plain()
    };
    let m = app.changes.marks.get(idx).copied().unwrap_or(0);
    let mut qmod = Style::new();
    if m & delta::QUEUE_CHANGED != 0 {
        qmod = qmod.add_modifier(Modifier::UNDERLINED);
    }
    // The lead holds the change mark; deeper rows are indented within it.
    let indent = (2 * depth as usize).min(cols.lead.saturating_sub(2));
    let mut spans = vec![
        Span::raw(" ".repeat(indent)),
        mark(app, st, idx),
        Span::raw(" ".repeat(cols.lead - 1 - indent)),
    ];
    for &(c, w) in &cols.cols {
        let style = match c {
            Column::RecvQ => base.patch(queue_style(st, app, s, s.recv_q)).patch(qmod),
            Column::SendQ => base.patch(queue_style(st, app, s, s.send_q)).patch(qmod),
            Column::Process if s.processes.is_empty() => st.dim(),
            _ => base,
        };
        let text = cells::compact(c, s, &app.cells);
        spans.push(Span::styled(cell(&text, w, c.spec().tui.fit), style));
    }
    if unread && !close_wait && spans[1].content == " " {
        // Unread data stands out even in an ordinary ESTAB row.
        spans[1] = Span::styled("!", st.warn());
    }
    Line::from(spans)
}

/// A listener row: aligned like a socket up to Local, then the accept-queue gauge and the
/// counts of its children.
fn listener_line(
    app: &App,
    st: &Styles,
    cols: &Layout,
    sockets: &[Socket],
    g: usize,
) -> Line<'static> {
    let Some(lg) = app.tree.listeners.get(g) else {
        return Line::default();
    };
    let Some(l) = sockets.get(lg.listener) else {
        return Line::default();
    };
    let collapsed = app
        .collapsed
        .contains(&GroupId::Listener(listener_id(app, g)));
    let q = AcceptQueue::of(l);
    let qstyle = if q.is_full() {
        st.alert()
    } else if q.len.unwrap_or(0) > 0 {
        st.warn()
    } else {
        st.plain()
    };
    let mut spans = vec![
        mark(app, st, lg.listener),
        Span::styled(
            fit(
                &format!(" {}", glyph(collapsed)),
                cols.lead - 1,
                false,
                false,
            ),
            st.dim(),
        ),
    ];
    // The local side, aligned with the socket rows; a peer-side column before the last
    // local one stays blank.
    let upto = cols.cols.iter().rposition(|(c, _)| listener_shows(*c));
    for &(c, w) in &cols.cols[..upto.map_or(0, |u| u + 1)] {
        if !listener_shows(c) {
            spans.push(Span::raw(" ".repeat(w)));
            continue;
        }
        let style = match c {
            Column::RecvQ => qstyle,
            Column::Netid | Column::State | Column::Local | Column::LocalAddr => st.group(),
            _ => st.plain(),
        };
        let text = match c {
            // Every row of the tree is a listener.
            Column::State => "LISTEN".to_string(),
            _ => cells::compact(c, l, &app.cells),
        };
        spans.push(Span::styled(cell(&text, w, c.spec().tui.fit), style));
    }
    spans.push(Span::styled(gauge(&q, 6), qstyle));
    spans.push(Span::styled(format!(" {}", q.label()), qstyle));
    if q.is_full() {
        spans.push(Span::styled(" FULL", st.alert()));
    }
    let estab = lg
        .connections
        .iter()
        .filter(|&&i| {
            sockets
                .get(i)
                .is_some_and(|s| s.state == TcpState::Established)
        })
        .count();
    spans.push(Span::styled(format!("  {estab} estab"), st.plain()));
    if !lg.syn_recv.is_empty() {
        spans.push(Span::styled(
            format!("  {} syn-recv", lg.syn_recv.len()),
            st.warn(),
        ));
    }
    counts_spans(&mut spans, st, lg.close_wait, lg.time_wait);
    if app.show_processes && app.settings.columns.contains(&Column::Process) {
        let p = cells::compact(Column::Process, l, &app.cells);
        spans.push(Span::styled(format!("  {p}"), st.dim()));
    }
    if let Some(port) = l.local_port() {
        rate_spans(&mut spans, app, st, RateKey::Listener(port));
    }
    Line::from(spans)
}

fn listener_id(app: &App, g: usize) -> u64 {
    // Same identity as App uses for collapsing.
    match app.listener_group_id(g) {
        Some(GroupId::Listener(k)) => k,
        _ => 0,
    }
}

/// `▕███░░░▏`-style gauge of the accept queue; `?` cells when the limit is unknown.
fn gauge(q: &AcceptQueue, w: usize) -> String {
    match q.ratio() {
        Some(r) => {
            let full = ((r * w as f64).round() as usize).min(w);
            format!("▕{}{}▏", "█".repeat(full), "░".repeat(w - full))
        }
        None => format!("▕{}▏", "?".repeat(w)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout_shares_the_width_as_before() {
        // The live view's historical widths: fixed 6/11/7/7, addresses 36% each and the
        // process the rest, or the addresses half each without processes.
        for width in [40usize, 80, 123, 160, 301] {
            let rest = width.saturating_sub(2 + 6 + 11 + 7 + 7);
            let on = Layout::new(width, 2, &Column::COMPACT, true);
            let widths: Vec<usize> = on.cols.iter().map(|c| c.1).collect();
            let (l, p) = (rest * 36 / 100, rest * 36 / 100);
            assert_eq!(widths, [6, 11, 7, 7, l, p, rest - l - p], "{width}");
            let off = Layout::new(width, 2, &Column::COMPACT, false);
            let widths: Vec<usize> = off.cols.iter().map(|c| c.1).collect();
            assert_eq!(widths, [6, 11, 7, 7, rest / 2, rest - rest / 2], "{width}");
        }
        let custom = Layout::new(100, 2, &[Column::Uid, Column::Path], true);
        assert_eq!(custom.cols, [(Column::Uid, 7), (Column::Path, 91)]);
    }

    #[test]
    fn cells_fit_as_their_column_says() {
        assert_eq!(cell("12", 7, Fit::Right), "    12 ");
        assert_eq!(cell("127.0.0.1:8080", 9, Fit::KeepEnd), "….1:8080 ");
        assert_eq!(cell("ESTAB", 7, Fit::Left), "ESTAB  ");
        assert_eq!(
            header_cell("Local Address:Port", 9, Fit::KeepEnd),
            "Local A… "
        );
    }
}
