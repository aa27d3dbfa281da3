//! The detail pane: everything sockeye knows about the selected socket (what `dump -eoim -p`
//! prints), plus byte rates between the last two refreshes.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::group::AcceptQueue;
use crate::model::{Socket, TcpState, TimerKind};
use crate::output::columns::Column;
use crate::tui::cells;
use crate::tui::state::App;

use super::Styles;

pub fn render(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    Clear.render(area, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(st.dim())
        .title(Span::styled(" Details ", st.accent()));
    let sock = app
        .selected_socket()
        .and_then(|i| app.snapshot.as_ref()?.sockets.get(i).map(|s| (i, s)));
    let lines = match (app.selected_closed(), sock) {
        // A closed connection: how and when it ended, then its final state as freed (the
        // tcp_info at destruction); no rates (usize::MAX is no snapshot index).
        (Some(c), _) => {
            let mut v = vec![Line::from(closed_spans(st, c))];
            v.extend(lines(app, st, usize::MAX, &c.socket));
            v
        }
        (None, Some((i, s))) => {
            let mut v = lines(app, st, i, s);
            if s.state == TcpState::Listen
                && let Some(port) = s.local_port()
            {
                v.push(rates_line(
                    app,
                    st,
                    crate::tui::rates::RateKey::Listener(port),
                ));
            }
            v
        }
        (None, None) => vec![Line::from(Span::styled(
            "Select a socket or a listener.",
            st.dim(),
        ))],
    };
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block)
        .render(area, buf);
}

/// Opened and closed per second (last refresh) with sparklines of the last refreshes.
fn rates_line(app: &App, st: &Styles, key: crate::tui::rates::RateKey) -> Line<'static> {
    use crate::tui::rates::per_second;
    let Some((o, c)) = app.rates.now(key) else {
        return Line::from(Span::styled(
            "opened/closed per second: after two refreshes",
            st.dim(),
        ));
    };
    let series = app.rates.of(key);
    let spark = |f: fn(&crate::tui::rates::Sample) -> u64| {
        series.map_or_else(String::new, |s| crate::group::sparkline(s.iter().map(f)))
    };
    let mut spans = Vec::new();
    spans.extend(kv(
        st,
        "opened",
        format!("{} {}", per_second(o), spark(|s| s.opened)),
    ));
    spans.extend(kv(
        st,
        "closed",
        format!("{} {}", per_second(c), spark(|s| s.closed)),
    ));
    Line::from(spans)
}

/// When and how a closed connection ended, how long it lived, its last state seen.
fn closed_spans(st: &Styles, c: &crate::tui::closed::Closed) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    spans.extend(kv(st, "closed", crate::commands::events::rfc3339(c.at)));
    spans.extend(kv(st, "ended", c.ending.as_str().to_string()));
    spans.extend(kv(
        st,
        "lived",
        c.lifetime.map_or_else(|| "-".to_string(), |l| l.text()),
    ));
    spans.extend(kv(
        st,
        "last seen",
        c.last_state
            .map_or_else(|| "-".to_string(), |s| s.ss_name().to_string()),
    ));
    spans
}

fn kv(st: &Styles, k: &str, v: String) -> Vec<Span<'static>> {
    vec![
        Span::styled(format!("{k} "), st.dim()),
        Span::raw(v),
        Span::raw("  "),
    ]
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn lines(app: &App, st: &Styles, idx: usize, s: &Socket) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let state_style = if s.state == TcpState::CloseWait {
        st.close_wait()
    } else {
        st.accent()
    };
    out.push(Line::from(vec![
        Span::styled(
            format!("{} ", cells::text(Column::Netid, s, &app.cells)),
            st.dim(),
        ),
        Span::styled(cells::text(Column::State, s, &app.cells), state_style),
    ]));
    out.push(Line::from(kv(
        st,
        "local",
        cells::text(Column::Local, s, &app.cells),
    )));
    out.push(Line::from(kv(
        st,
        "peer ",
        cells::text(Column::Peer, s, &app.cells),
    )));
    let mut q = Vec::new();
    if s.state == TcpState::Listen {
        let aq = AcceptQueue::of(s);
        let style = if aq.is_full() { st.alert() } else { st.plain() };
        q.push(Span::styled("accept queue ", st.dim()));
        q.push(Span::styled(aq.label(), style));
        if aq.is_full() {
            q.push(Span::styled(" FULL: the next SYN is dropped", st.alert()));
        } else if aq.limit.is_none() {
            q.push(Span::styled(" (limit unknown from /proc)", st.dim()));
        }
    } else {
        q.extend(kv(st, "Recv-Q", cells::text(Column::RecvQ, s, &app.cells)));
        q.extend(kv(st, "Send-Q", cells::text(Column::SendQ, s, &app.cells)));
        if !cells::queues_are_bytes(s) {
            q.push(Span::styled("(memory, not payload bytes)", st.dim()));
        }
    }
    out.push(Line::from(q));
    if s.state == TcpState::CloseWait {
        out.push(Line::from(Span::styled(
            "The peer closed; this application has not called close().",
            st.close_wait(),
        )));
    }
    let procs = if s.processes.is_empty() {
        if s.inode == 0 {
            "- (no process: not accepted yet, or TIME-WAIT)".to_string()
        } else if app.show_processes {
            "-".to_string()
        } else {
            "- (p shows processes)".to_string()
        }
    } else {
        cells::text(Column::Process, s, &app.cells)
    };
    out.push(Line::from(kv(st, "process", procs)));
    let mut ids = kv(st, "uid", opt(s.uid));
    ids.extend(kv(st, "inode", s.inode.to_string()));
    ids.extend(kv(st, "cookie", opt(s.cookie.map(|c| format!("{c:#x}")))));
    if let Some(ifi) = s.ifindex {
        ids.extend(kv(st, "ifindex", ifi.to_string()));
    }
    if let Some(v6) = s.v6only {
        ids.extend(kv(st, "v6only", v6.to_string()));
    }
    out.push(Line::from(ids));
    // Netlink reports "no timer" as kind Off, which ss (and the Timer cell) print as nothing.
    if s.timer.is_some_and(|t| t.kind != TimerKind::Off) {
        out.push(Line::from(kv(
            st,
            "timer",
            cells::text(Column::Timer, s, &app.cells),
        )));
    }
    if let Some(r) = app.changes.rates.get(idx).copied().flatten() {
        let mut l = kv(st, "rate out", format!("{}/s", cells::bytes(r.sent)));
        l.extend(kv(st, "in", format!("{}/s", cells::bytes(r.received))));
        out.push(Line::from(l));
    }
    match &s.tcp_info {
        Some(i) => {
            let mut l = kv(
                st,
                "rtt",
                format!(
                    "{:.3}/{:.3}ms",
                    f64::from(i.rtt_us) / 1000.0,
                    f64::from(i.rttvar_us) / 1000.0
                ),
            );
            l.extend(kv(st, "rto", format!("{}ms", i.rto_us / 1000)));
            l.extend(kv(st, "cwnd", i.snd_cwnd.to_string()));
            l.extend(kv(st, "ssthresh", opt(i.snd_ssthresh)));
            out.push(Line::from(l));
            let mut l = kv(st, "mss", i.snd_mss.to_string());
            l.extend(kv(st, "pmtu", i.pmtu.to_string()));
            l.extend(kv(
                st,
                "wscale",
                format!("{},{}", i.snd_wscale, i.rcv_wscale),
            ));
            l.extend(kv(
                st,
                "cc",
                i.congestion.as_deref().unwrap_or("-").to_string(),
            ));
            out.push(Line::from(l));
            let mut l = kv(st, "sent", i.bytes_sent.to_string());
            l.extend(kv(st, "acked", i.bytes_acked.to_string()));
            l.extend(kv(st, "received", i.bytes_received.to_string()));
            out.push(Line::from(l));
            let mut l = kv(st, "segs out", i.segs_out.to_string());
            l.extend(kv(st, "in", i.segs_in.to_string()));
            l.extend(kv(
                st,
                "retrans",
                format!("{}/{}", i.retrans, i.total_retrans),
            ));
            l.extend(kv(st, "lost", i.lost.to_string()));
            out.push(Line::from(l));
            let mut l = kv(st, "last send", format!("{}ms", i.last_data_sent_ms));
            l.extend(kv(st, "recv", format!("{}ms", i.last_data_recv_ms)));
            l.extend(kv(st, "ack", format!("{}ms", i.last_ack_recv_ms)));
            out.push(Line::from(l));
            let mut l = kv(
                st,
                "delivery",
                format!("{}/s", cells::bytes(i.delivery_rate as f64)),
            );
            l.extend(kv(st, "rcv_space", i.rcv_space.to_string()));
            l.extend(kv(st, "snd_wnd", i.snd_wnd.to_string()));
            out.push(Line::from(l));
        }
        None if s.netid == crate::model::Netid::Tcp => {
            let why = if s.state == TcpState::TimeWait {
                "tcp_info: none (the kernel keeps none for TIME-WAIT)"
            } else if app.detail {
                "tcp_info: arrives with the next refresh"
            } else {
                "tcp_info: -"
            };
            out.push(Line::from(Span::styled(why, st.dim())));
        }
        None => {}
    }
    if let Some(m) = s.memory.as_deref() {
        out.push(Line::from(kv(
            st,
            "skmem",
            format!(
                "(r{},rb{},t{},tb{},f{},w{},o{},bl{},d{})",
                m.rmem_alloc,
                m.rcvbuf,
                m.wmem_alloc,
                m.sndbuf,
                m.fwd_alloc,
                m.wmem_queued,
                m.optmem,
                m.backlog,
                m.drops
            ),
        )));
    }
    out
}
