//! The three views' bodies: a column header line, then the visible rows. Only the rows on
//! screen are formatted, so a view of 100,000 sockets draws as fast as one of 30.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::group::AcceptQueue;
use crate::model::{Netid, Socket, TcpState};
use crate::output::columns::Column;
use crate::tui::cells;
use crate::tui::delta;
use crate::tui::settings::View;
use crate::tui::state::{App, GroupId, Row};

use super::{Styles, fit};

/// Column widths for a body of a given width.
#[derive(Clone, Copy, Debug)]
struct Cols {
    lead: usize,
    netid: usize,
    state: usize,
    rq: usize,
    sq: usize,
    local: usize,
    peer: usize,
    process: usize,
}

impl Cols {
    fn new(width: usize, lead: usize, processes: bool) -> Cols {
        let (netid, state, rq, sq) = (6, 11, 7, 7);
        let rest = width.saturating_sub(lead + netid + state + rq + sq);
        let (local, peer, process) = if processes {
            let l = rest * 36 / 100;
            let p = rest * 36 / 100;
            (l, p, rest - l - p)
        } else {
            (rest / 2, rest - rest / 2, 0)
        };
        Cols {
            lead,
            netid,
            state,
            rq,
            sq,
            local,
            peer,
            process,
        }
    }
}

fn lead_for(view: View) -> usize {
    match view {
        View::States => 4,
        View::Listeners => 6,
        View::Sockets => 2,
    }
}

pub fn render(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    if area.height == 0 {
        return;
    }
    let cols = Cols::new(area.width as usize, lead_for(app.view), app.show_processes);
    // Column header.
    let mut h = String::new();
    h.push_str(&" ".repeat(cols.lead));
    h.push_str(&fit("Netid", cols.netid, false, false));
    h.push_str(&fit("State", cols.state, false, false));
    h.push_str(&fit("Recv-Q ", cols.rq, true, false));
    h.push_str(&fit("Send-Q ", cols.sq, true, false));
    h.push_str(&fit(
        "Local Address:Port",
        cols.local.saturating_sub(1),
        false,
        false,
    ));
    h.push(' ');
    h.push_str(&fit(
        "Peer Address:Port",
        cols.peer.saturating_sub(1),
        false,
        false,
    ));
    h.push(' ');
    if app.show_processes {
        h.push_str(&fit("Process", cols.process, false, false));
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
    if vs.rows.is_empty() && area.height > 1 {
        let msg = if app.filter.applied.is_empty() {
            " no sockets".to_string()
        } else {
            format!(" no sockets match `{}`", app.filter.applied)
        };
        buf.set_line(
            area.x,
            area.y + 1,
            &Line::from(Span::styled(msg, st.dim())),
            area.width,
        );
        return;
    }
    let page = area.height.saturating_sub(1) as usize;
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
            Row::Listener(g) => listener_line(app, st, &cols, &snap.sockets, g),
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
                Line::from(spans)
            }
        };
        buf.set_line(area.x, y, &line, area.width);
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

fn glyph(collapsed: bool) -> &'static str {
    if collapsed { "▸" } else { "▾" }
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
    cols: &Cols,
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
    spans.push(Span::styled(
        fit(
            &cells::text(Column::Netid, s, &app.cells),
            cols.netid,
            false,
            false,
        ),
        base,
    ));
    spans.push(Span::styled(
        fit(
            &cells::text(Column::State, s, &app.cells),
            cols.state,
            false,
            false,
        ),
        base,
    ));
    spans.push(Span::styled(
        fit(
            &format!("{} ", cells::text(Column::RecvQ, s, &app.cells)),
            cols.rq,
            true,
            false,
        ),
        base.patch(queue_style(st, app, s, s.recv_q)).patch(qmod),
    ));
    spans.push(Span::styled(
        fit(
            &format!("{} ", cells::text(Column::SendQ, s, &app.cells)),
            cols.sq,
            true,
            false,
        ),
        base.patch(queue_style(st, app, s, s.send_q)).patch(qmod),
    ));
    spans.push(Span::styled(
        gap(&cells::text(Column::Local, s, &app.cells), cols.local),
        base,
    ));
    spans.push(Span::styled(
        gap(&cells::text(Column::Peer, s, &app.cells), cols.peer),
        base,
    ));
    if app.show_processes {
        let p = cells::process(s);
        let pstyle = if s.processes.is_empty() {
            st.dim()
        } else {
            base
        };
        spans.push(Span::styled(fit(&p, cols.process, false, false), pstyle));
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
    cols: &Cols,
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
        Span::styled(
            fit(
                &cells::text(Column::Netid, l, &app.cells),
                cols.netid,
                false,
                false,
            ),
            st.group(),
        ),
        Span::styled(fit("LISTEN", cols.state, false, false), st.group()),
        Span::styled(
            fit(
                &format!("{} ", cells::text(Column::RecvQ, l, &app.cells)),
                cols.rq,
                true,
                false,
            ),
            qstyle,
        ),
        Span::styled(
            fit(
                &format!("{} ", cells::text(Column::SendQ, l, &app.cells)),
                cols.sq,
                true,
                false,
            ),
            st.plain(),
        ),
        Span::styled(
            gap(&cells::text(Column::Local, l, &app.cells), cols.local),
            st.group(),
        ),
    ];
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
    if app.show_processes {
        spans.push(Span::styled(format!("  {}", cells::process(l)), st.dim()));
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
