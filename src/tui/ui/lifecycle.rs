//! The Lifecycle view's diagram: the classic TCP state machine, each state with its live
//! count and sparkline, each edge with the rate connections took it at between the last two
//! refreshes (see `tui::lifecycle`). The state selected in the list below is highlighted; the
//! pair a panel marks (the demo's tour) is shown with ◆ on its two states. Too small a body
//! gets no diagram, only the list.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::group::{StateGroupKey, sparkline};
use crate::model::{Netid, TcpState};
use crate::tui::state::{App, Row};

use super::Styles;

/// Rows and columns the diagram needs.
pub const HEIGHT: u16 = 15;
pub const WIDTH: u16 = 76;
/// List rows the body keeps under the diagram; fewer and the diagram is left out.
pub const MIN_LIST: u16 = 4;

/// Whether a body of `area` draws the diagram above its list.
pub fn fits(area: Rect) -> bool {
    area.width >= WIDTH && area.height >= HEIGHT + MIN_LIST
}

/// Sparkline samples per state.
const SPARK: usize = 8;

/// The TCP state the list's selected row is in (a state group, or a socket under one).
fn selected_state(app: &App) -> Option<TcpState> {
    let vs = app.view_state();
    let rows = &vs.rows;
    let at = vs.selected.min(rows.len().checked_sub(1)?);
    rows[..=at].iter().rev().find_map(|r| match r {
        Row::StateGroup(StateGroupKey::Tcp(s)) => Some(*s),
        _ => None,
    })
}

/// States of the sockets the panel marks (its (local, peer) port pairs).
fn marked_states(app: &App) -> Vec<TcpState> {
    let Some(marked) = app.panel.as_ref().map(|p| p.marked()) else {
        return Vec::new();
    };
    let Some(snap) = app.snapshot.as_ref() else {
        return Vec::new();
    };
    let mut states: Vec<TcpState> = snap
        .sockets
        .iter()
        .filter(|s| s.netid == Netid::Tcp)
        .filter(|s| {
            s.local_port()
                .zip(s.peer_port())
                .is_some_and(|p| marked.contains(&p))
        })
        .map(|s| s.state)
        .collect();
    if !marked.is_empty() && states.len() < 2 {
        // One end gone (CLOSED), or not yet there.
        states.push(TcpState::Close);
    }
    states
}

fn rate(app: &App, from: TcpState, to: TcpState) -> String {
    match app.moves.rate(from, to) {
        Some(0.0) => "0/s".into(),
        Some(r) if r < 10.0 => format!("{r:.1}/s"),
        Some(r) => format!("{r:.0}/s"),
        None => "–/s".into(),
    }
}

/// Draw the diagram into `area` (at least `WIDTH` × `HEIGHT`).
pub fn render(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    use TcpState::*;
    let selected = selected_state(app);
    let marked = marked_states(app);
    let put = |buf: &mut Buffer, x: u16, y: u16, spans: Vec<Span<'static>>| {
        if y < area.height && x < area.width {
            buf.set_line(area.x + x, area.y + y, &Line::from(spans), area.width - x);
        }
    };
    let node = |state: TcpState| -> Vec<Span<'static>> {
        let count = if state == Close {
            None
        } else {
            Some(app.counts.tcp(state))
        };
        let ring = app.history.get(state);
        let samples: Vec<u64> = ring.iter().collect();
        let tail = &samples[samples.len().saturating_sub(SPARK)..];
        let mut style = match state {
            CloseWait => st.close_wait(),
            TimeWait => st.time_wait(),
            _ => st.group(),
        };
        if selected == Some(state) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let mark = if marked.contains(&state) { "◆" } else { "" };
        let name = if state == Close {
            "CLOSED"
        } else {
            state.ss_name()
        };
        let mut spans = vec![Span::styled(format!("{mark}[{name}"), style)];
        match count {
            Some(n) => {
                spans.push(Span::styled(
                    format!(" {n}]"),
                    style.add_modifier(Modifier::BOLD),
                ));
                spans.push(Span::styled(
                    format!(" {}", sparkline(tail.iter().copied())),
                    st.dim(),
                ));
            }
            None => spans.push(Span::styled("]", style)),
        }
        spans
    };
    let edge = |label: &str, from: TcpState, to: TcpState| -> Vec<Span<'static>> {
        vec![
            Span::styled(format!("│ {label} "), st.dim()),
            Span::styled(rate(app, from, to), st.accent()),
        ]
    };
    let dim = |s: &str| vec![Span::styled(s.to_string(), st.dim())];
    // Two columns: the active opener and closer on the left, the passive side on the right.
    let (l, m, r) = (1u16, 27u16, 52u16);
    put(buf, l, 0, node(Close));
    put(buf, l + 10, 0, dim("(no socket)"));
    put(buf, r, 0, node(Listen));
    put(buf, l, 1, edge("connect()", Close, SynSent));
    put(buf, r, 1, edge("SYN in", Listen, SynRecv));
    put(buf, l, 2, node(SynSent));
    put(buf, r, 2, node(SynRecv));
    put(buf, l, 3, edge("SYN-ACK in", SynSent, Established));
    put(buf, r, 3, edge("ACK in", SynRecv, Established));
    put(buf, m, 4, node(Established));
    put(buf, l, 5, edge("close()", Established, FinWait1));
    put(buf, r, 5, edge("FIN in", Established, CloseWait));
    put(buf, l, 6, node(FinWait1));
    put(buf, r, 6, node(CloseWait));
    put(buf, l, 7, edge("ACK in", FinWait1, FinWait2));
    put(buf, m, 7, edge("FIN in", FinWait1, Closing));
    put(buf, r, 7, edge("close()", CloseWait, LastAck));
    put(buf, l, 8, node(FinWait2));
    put(buf, m, 8, node(Closing));
    put(buf, r, 8, node(LastAck));
    put(buf, l, 9, edge("FIN in", FinWait2, TimeWait));
    put(buf, m, 9, edge("ACK in", Closing, TimeWait));
    put(buf, r, 9, edge("ACK in", LastAck, Close));
    put(buf, l, 10, node(TimeWait));
    put(buf, r, 10, node(Close));
    put(buf, l, 11, edge("2 MSL (60 s)", TimeWait, Close));
    put(buf, l + 24, 11, dim("→ CLOSED"));
    put(
        buf,
        l,
        12,
        vec![
            Span::styled("other: FIN-WAIT-1→TIME-WAIT (FIN+ACK in) ", st.dim()),
            Span::styled(rate(app, FinWait1, TimeWait), st.accent()),
            Span::styled("  SYN-SENT→CLOSED ", st.dim()),
            Span::styled(rate(app, SynSent, Close), st.accent()),
            Span::styled("  ESTAB→CLOSED (RST) ", st.dim()),
            Span::styled(rate(app, Established, Close), st.accent()),
        ],
    );
    let interval = app.moves.interval.map_or_else(
        || "after the next refresh".to_string(),
        |s| format!("over the last {s:.1} s"),
    );
    let mut note = format!("rates {interval}, inferred from snapshots");
    if let Some(n) = app.moves.unseen_closes {
        note.push_str(&format!(
            "; {n} connections opened and closed between refreshes (destroy events)"
        ));
    }
    if app.moves.skipped > 0 {
        note.push_str(&format!(
            "; {} moves skipped states between refreshes",
            app.moves.skipped
        ));
    }
    put(buf, l, 13, dim(&note));
}
