//! `sockeye check`: watch the selection for a window, run the findings rules, print them
//! (text blocks or JSON) and exit as a monitoring plugin: 0 nothing, 1 warning, 2 critical,
//! 3 could not check (usage errors included).

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cli::CheckArgs;
use crate::collect::Collector;
use crate::error::{CheckExit, UsageError};
use crate::findings::history::Coverage;
use crate::findings::render::{InNetns, Located};
use crate::findings::{self, Severity, Thresholds, Window};
use crate::model::Snapshot;
use crate::selection::{Options, Request, StdinFilter};

/// Snapshots taken over a window (the first at its start, the last at its end).
pub const SAMPLES: u32 = 7;
const WINDOW_MIN: f64 = 0.5;
const WINDOW_MAX: f64 = 600.0;

/// True when the command line names the check subcommand (so a clap usage error exits 3).
pub fn invoked() -> bool {
    std::env::args_os()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'))
        .is_some_and(|a| a == "check")
}

/// Run and map the outcome to the plugin exit status; an error is one line on stderr, 3.
pub fn main(args: &CheckArgs, no_config: bool) -> ExitCode {
    match run(args, no_config) {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) if crate::error::is_broken_pipe(&e) => ExitCode::from(CheckExit::Unknown.code()),
        Err(e) => {
            crate::text::stderr_line(&crate::error::user_message(&e));
            ExitCode::from(CheckExit::Unknown.code())
        }
    }
}

pub fn run(args: &CheckArgs, no_config: bool) -> anyhow::Result<CheckExit> {
    if !(WINDOW_MIN..=WINDOW_MAX).contains(&args.window) {
        return Err(UsageError(format!(
            "--window {} is out of range: give {WINDOW_MIN} to {WINDOW_MAX} seconds",
            crate::error::shown_number(args.window)
        ))
        .into());
    }
    let config = crate::config::load(no_config).map_err(UsageError::from)?;
    let thresholds = config.findings.thresholds();
    let options = Options {
        stdin_filter: StdinFilter::Read,
        ..Options::LIVE
    };
    let request = Request::from_args(&args.select, &config, options)?;
    // Host-wide counters speak for the selection only when nothing filters it.
    let coverage = Coverage {
        whole_host: request.filter_words().is_empty()
            && request.ipv4
            && request.ipv6
            && !request.listening,
        tables: request.tables,
    };
    let mut query = request.resolve()?.query;
    query.processes = true;
    query.counters = true;
    // UDP drops need each socket's buffer and drop count; per-peer retransmit rates need
    // tcp_info.
    query.memory = true;
    query.tcp_info = true;

    let checked = if let Some(path) = &args.from {
        vec![super::check_sources::recording(
            args,
            path,
            &query,
            coverage,
            &thresholds,
        )?]
    } else if args.all_netns {
        super::check_sources::all_netns(args, &query, coverage, &thresholds)?
    } else if let Some(name) = &args.net {
        vec![super::check_sources::one_netns(
            args,
            name,
            &query,
            coverage,
            &thresholds,
        )?]
    } else {
        let mut collector = Collector::new(query);
        let snaps = watch(args.window, |i| {
            let snap = collector
                .snapshot()
                .context("cannot read the socket tables")?;
            Ok(Some(keep(i, snap)))
        })?;
        vec![Checked::of(&snaps, coverage, &thresholds, None)]
    };
    let mut found: Vec<Located> = checked.iter().flat_map(|c| c.found.clone()).collect();
    findings::render::sort(&mut found);
    let sockets = checked.iter().map(|c| c.sockets).sum();
    let secs = checked.iter().map(|c| c.secs).fold(0.0, f64::max);
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &findings::render::to_json(&found, sockets, secs))?;
        writeln!(out)?;
    } else {
        findings::render::write_text(&mut out, &found, sockets, secs)?;
    }
    out.flush()?;
    let worst = found.iter().map(|l| l.finding.severity).max();
    Ok(match worst {
        None => CheckExit::Ok,
        Some(Severity::Warning) => CheckExit::Warning,
        Some(Severity::Critical) => CheckExit::Critical,
    })
}

/// What one checked table (the host's, a namespace's, a recording's) gave.
pub struct Checked {
    pub found: Vec<Located>,
    /// Sockets in the last snapshot.
    pub sockets: usize,
    pub secs: f64,
}

impl Checked {
    /// The rules over `snaps`, the findings placed in `netns`.
    pub fn of(
        snaps: &[Snapshot],
        coverage: Coverage,
        thresholds: &Thresholds,
        netns: Option<InNetns>,
    ) -> Checked {
        let window = Window {
            snaps,
            whole_host: coverage.whole_host,
            tables: coverage.tables,
        };
        let found = findings::evaluate(&window, thresholds)
            .into_iter()
            .map(|finding| Located {
                finding,
                netns: netns.clone(),
            })
            .collect();
        Checked {
            found,
            sockets: snaps.last().map_or(0, |s| s.sockets.len()),
            secs: window.seconds(),
        }
    }
}

/// What is kept of round `i`'s snapshot: the last whole, the others distilled (the sockets
/// a rule compares over time, see [`findings::history::distill`]), so seven snapshots of a
/// big table cost little more than one.
pub fn keep(i: u32, snap: Snapshot) -> Snapshot {
    if i + 1 < SAMPLES {
        findings::history::distill_with(&snap, i == 0)
    } else {
        snap
    }
}

/// `SAMPLES` rounds spread over `window` seconds; `round(i)` takes the snapshots of round
/// `i` (several namespaces read theirs in one round). A round that gives `None` is skipped.
pub fn watch<T>(
    window: f64,
    mut round: impl FnMut(u32) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<Vec<T>> {
    let step = Duration::from_secs_f64(window / f64::from(SAMPLES - 1));
    let start = Instant::now();
    let mut out = Vec::with_capacity(SAMPLES as usize);
    for i in 0..SAMPLES {
        let due = start + step * i;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if let Some(t) = round(i)? {
            out.push(t);
        }
    }
    Ok(out)
}
