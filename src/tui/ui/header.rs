//! The header: where the data comes from, per-state counts with TIME-WAIT and CLOSE-WAIT
//! emphasized and their sparklines, counter deltas and exhaustion warnings.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::group::sparkline;
use crate::model::TcpState;

use super::Styles;
use crate::tui::state::App;

/// Share at which TIME-WAIT buckets or ephemeral ports count as nearly exhausted.
const NEAR_EXHAUSTION: f64 = 0.8;

pub fn render(area: Rect, buf: &mut Buffer, app: &App, st: &Styles) {
    let lines = lines(app, st, area.width as usize);
    for (i, line) in lines.into_iter().take(area.height as usize).enumerate() {
        buf.set_line(area.x, area.y + i as u16, &line, area.width);
    }
}

fn secs(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 || s.fract() != 0.0 {
        format!("{s:.1}s")
    } else {
        format!("{s:.0}s")
    }
}

fn lines(app: &App, st: &Styles, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    // Line 1: identity and liveness.
    let mut l1 = vec![
        Span::styled(" sockeye ", st.accent()),
        Span::raw(app.hostname.clone()),
    ];
    if let Some(snap) = &app.snapshot {
        l1.push(Span::styled(" · ", st.dim()));
        l1.push(Span::raw(snap.source.as_str()));
        if let Some(r) = &snap.fallback_reason {
            l1.push(Span::styled(format!(" (fallback: {r})"), st.warn()));
        }
    }
    l1.push(Span::styled(" · ", st.dim()));
    l1.push(Span::raw(format!("every {}", secs(app.interval))));
    l1.push(Span::styled(" · ", st.dim()));
    if let Some(r) = &app.replay {
        l1.push(Span::styled("REPLAY", st.warn()));
        if !r.label.is_empty() {
            l1.push(Span::raw(format!(" {}", r.label)));
        }
    } else if app.paused {
        l1.push(Span::styled("PAUSED", st.warn()));
    } else {
        l1.push(Span::styled("live", st.changed()));
    }
    l1.push(Span::styled(" · ", st.dim()));
    let total = app.counts.total();
    let noun = if total == 1 { "socket" } else { "sockets" };
    l1.push(Span::raw(format!("{total} {noun}")));
    // Findings, by severity, whenever there are any (the f key opens them).
    let critical = app
        .findings
        .iter()
        .filter(|f| f.severity == crate::findings::Severity::Critical)
        .count();
    let warnings = app.findings.len() - critical;
    if critical + warnings > 0 {
        l1.push(Span::styled(" · ", st.dim()));
        if critical > 0 {
            l1.push(Span::styled(format!("{critical} critical"), st.alert()));
        }
        if warnings > 0 {
            if critical > 0 {
                l1.push(Span::raw(" "));
            }
            l1.push(Span::styled(format!("{warnings} warning(s)"), st.warn()));
        }
        let key = app
            .settings
            .keys
            .of(crate::config::keys::Action::Findings)
            .map_or(String::new(), |k| format!(" ({k})"));
        l1.push(Span::styled(key, st.dim()));
    }
    if let Some(reads) = app.snapshot.as_ref().and_then(|s| s.netns.as_ref()) {
        let n = reads.read.len();
        l1.push(Span::styled(" · ", st.dim()));
        l1.push(Span::raw(format!(
            "{n} namespace{}",
            if n == 1 { "" } else { "s" }
        )));
        if !reads.unreadable.is_empty() {
            l1.push(Span::styled(
                format!(" ({} unreadable)", reads.unreadable.len()),
                st.warn(),
            ));
        }
    }
    if let Some(e) = app.elapsed {
        l1.push(Span::styled(format!(" · {} ms", e.as_millis()), st.dim()));
    }
    if let Some(s) = &app.scope_label {
        l1.push(Span::styled(" · ", st.dim()));
        l1.push(Span::styled(s.clone(), st.accent()));
    }
    if !app.scope_exited.is_empty() {
        // After the scope's own `pid 7,42`: which of them are gone.
        let pids: Vec<String> = app.scope_exited.iter().map(u32::to_string).collect();
        l1.push(Span::styled(
            format!(" ({} exited)", pids.join(",")),
            st.warn(),
        ));
    }
    if app.snapshot.is_none() && app.error.is_none() {
        l1.push(Span::styled(" · collecting…", st.dim()));
    }
    out.push(Line::from(l1));

    // Line 2: every TCP state but the two emphasized ones, then UDP and unix.
    let mut l2 = vec![Span::raw(" ")];
    for stt in TcpState::LIFECYCLE {
        if matches!(
            stt,
            TcpState::TimeWait | TcpState::CloseWait | TcpState::Close
        ) {
            continue;
        }
        let n = app.counts.tcp(stt);
        let style = if n == 0 { st.dim() } else { st.plain() };
        l2.push(Span::styled(format!("{} ", stt.ss_name()), st.dim()));
        l2.push(Span::styled(format!("{n}  "), style));
    }
    l2.push(Span::styled("UDP ", st.dim()));
    l2.push(Span::raw(format!("{}  ", app.counts.udp)));
    l2.push(Span::styled("UNIX ", st.dim()));
    l2.push(Span::raw(format!("{}", app.counts.unix)));

    // Line 3: TIME-WAIT and CLOSE-WAIT, emphasized, with sparklines.
    let spark_w = (width.saturating_sub(60) / 2).clamp(8, 40);
    let tw = app.counts.tcp(TcpState::TimeWait);
    let cw = app.counts.tcp(TcpState::CloseWait);
    let mut l3 = vec![
        Span::styled(" TIME-WAIT ", st.time_wait()),
        Span::styled(format!("{tw} "), st.time_wait()),
        Span::styled(
            sparkline(app.history.get(TcpState::TimeWait).tail(spark_w)),
            st.time_wait(),
        ),
    ];
    if let Some(b) = app.snapshot.as_ref().and_then(|s| tw_budget(s, tw as u64)) {
        let style = if b.share >= NEAR_EXHAUSTION {
            st.alert()
        } else {
            st.dim()
        };
        let pct = b.share * 100.0;
        let text = match (b.kernel, b.namespaces) {
            (Some(sys), false) if sys != tw as u64 => {
                format!(" · {sys} system-wide of {} max ({pct:.0}%)", b.max)
            }
            (Some(sys), true) if sys != tw as u64 => {
                format!(
                    " · {sys} in all namespaces, fullest {pct:.0}% of {} max",
                    b.max
                )
            }
            (_, true) => format!(" · fullest namespace {pct:.0}% of {} max", b.max),
            _ => format!(" of {} max ({pct:.0}%)", b.max),
        };
        l3.push(Span::styled(text, style));
    }
    l3.push(Span::raw("   "));
    let cw_style = if cw > 0 { st.close_wait() } else { st.dim() };
    l3.push(Span::styled("CLOSE-WAIT ", cw_style));
    l3.push(Span::styled(format!("{cw} "), cw_style));
    l3.push(Span::styled(
        sparkline(app.history.get(TcpState::CloseWait).tail(spark_w)),
        cw_style,
    ));
    // TIME-WAIT and CLOSE-WAIT come first: small terminals keep only two header lines.
    out.push(Line::from(l3));
    out.push(Line::from(l2));

    // Line 4: counter deltas and ephemeral ports.
    let d = app.changes.counters;
    let delta = |name: &str, v: Option<u64>| -> Vec<Span<'static>> {
        let text = v.map_or_else(|| "-".to_string(), |v| format!("+{v}"));
        let style = if v.unwrap_or(0) > 0 {
            st.alert()
        } else {
            st.plain()
        };
        vec![
            Span::styled(format!(" {name} "), st.dim()),
            Span::styled(text, style),
        ]
    };
    let mut l4 = Vec::new();
    l4.extend(delta("ListenOverflows", d.listen_overflows));
    l4.extend(delta("ListenDrops", d.listen_drops));
    l4.extend(delta("RetransSegs", d.retrans_segs));
    if let Some((used, range)) = app.ephemeral {
        let share = used as f64 / range as f64;
        let style = if share >= NEAR_EXHAUSTION {
            st.alert()
        } else {
            st.plain()
        };
        l4.push(Span::styled("  ephemeral ports ", st.dim()));
        l4.push(Span::styled(
            format!("{used}/{range} ({:.0}%)", share * 100.0),
            style,
        ));
        if share >= NEAR_EXHAUSTION {
            l4.push(Span::styled(" near exhaustion!", st.alert()));
        }
    }
    out.push(Line::from(l4));
    out
}

/// TIME-WAIT against tcp_max_tw_buckets, for the header.
#[derive(Debug, PartialEq)]
struct TwBudget {
    /// The kernel's own TIME-WAIT count (sockstat `tw`; summed over the namespaces).
    kernel: Option<u64>,
    /// The limit of the namespace nearest to it, and how full that namespace is.
    max: u64,
    share: f64,
    /// The snapshot spans several namespaces (`--all-netns`).
    namespaces: bool,
}

/// Exhaustion is per namespace (each has its own sockstat `tw` and tcp_max_tw_buckets): one
/// namespace's counters are compared with their own limit, and with `--all-netns` the
/// fullest namespace is the one that matters, never one namespace's count against the
/// sockets of all. Under a filter or a scope the shown count (`shown`) is only part of the
/// kernel's, so the kernel's count is used when known.
fn tw_budget(snap: &crate::model::Snapshot, shown: u64) -> Option<TwBudget> {
    if let Some(reads) = &snap.netns {
        let mut kernel = Some(0u64);
        let mut fullest: Option<(u64, f64)> = None;
        for r in &reads.read {
            let tw = r.counters.as_ref().and_then(|c| c.tcp_tw);
            kernel = kernel.zip(tw).map(|(a, b)| a.saturating_add(b));
            if let Some(max) = r.counters.as_ref().and_then(|c| c.tcp_max_tw_buckets)
                && max > 0
                && let Some(tw) = tw
            {
                let share = tw as f64 / max as f64;
                if fullest.is_none_or(|(_, f)| share > f) {
                    fullest = Some((max, share));
                }
            }
        }
        let (max, share) = fullest?;
        return Some(TwBudget {
            kernel,
            max,
            share,
            namespaces: true,
        });
    }
    let c = snap.counters.as_ref()?;
    let max = c.tcp_max_tw_buckets.filter(|m| *m > 0)?;
    let used = c.tcp_tw.unwrap_or(shown);
    Some(TwBudget {
        kernel: c.tcp_tw,
        max,
        share: used as f64 / max as f64,
        namespaces: false,
    })
}
