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
use crate::findings::{self, Severity, Window};
use crate::selection::{Options, Request, StdinFilter};

/// Snapshots taken over a window (the first at its start, the last at its end).
const SAMPLES: u32 = 7;
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
            args.window
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
    // The host's TCP counters speak for the selection only when it holds every TCP socket.
    let whole_host =
        request.filter_words().is_empty() && request.ipv4 && request.ipv6 && !request.listening;
    let mut query = request.resolve()?.query;
    query.processes = true;
    query.counters = true;
    // UDP drops need each socket's buffer and drop count; per-peer retransmit rates need
    // tcp_info.
    query.memory = true;
    query.tcp_info = true;
    let mut collector = Collector::new(query);

    let step = Duration::from_secs_f64(args.window / f64::from(SAMPLES - 1));
    let start = Instant::now();
    let mut snaps = Vec::with_capacity(SAMPLES as usize);
    for i in 0..SAMPLES {
        let due = start + step * i;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let snap = collector
            .snapshot()
            .context("cannot read the socket tables")?;
        snaps.push(snap);
    }
    let window = Window {
        snaps: &snaps,
        whole_host,
        tables: request.tables,
    };
    let found = findings::evaluate(&window, &thresholds);
    let sockets = snaps.last().map_or(0, |s| s.sockets.len());
    let secs = window.seconds();
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &findings::render::to_json(&found, sockets, secs))?;
        writeln!(out)?;
    } else {
        findings::render::write_text(&mut out, &found, sockets, secs)?;
    }
    out.flush()?;
    Ok(match findings::worst(&found) {
        None => CheckExit::Ok,
        Some(Severity::Warning) => CheckExit::Warning,
        Some(Severity::Critical) => CheckExit::Critical,
    })
}
