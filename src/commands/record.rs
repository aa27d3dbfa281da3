//! `sockeye record`: snapshots at an interval into a rotating recording, until SIGINT or
//! SIGTERM (a clean end: every frame written is whole) or for `--duration`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;

use crate::cli::RecordArgs;
use crate::collect::Collector;
use crate::error::UsageError;
use crate::record::when::{parse_duration, parse_size};
use crate::record::writer::SyncPolicy;
use crate::record::{Collected, Header, Writer};
use crate::selection::{DefaultStates, Options, Request, StdinFilter};
use crate::text;

/// Without --max-size a recording (all its rotated generations) stays within this.
pub const DEFAULT_MAX_SIZE: &str = "256M";

/// Every state by default (a flight recorder wants TIME-WAIT and listeners too), as the live
/// view; `-F -` reads the filter from standard input.
const RECORD: Options = Options {
    default_states: DefaultStates::Every,
    stdin_filter: StdinFilter::Read,
    summary: false,
};

pub fn run(args: &RecordArgs, no_config: bool) -> anyhow::Result<()> {
    let config = crate::config::load(no_config).map_err(UsageError::from)?;
    let interval = Duration::from_secs_f64(check_interval(args.interval)?);
    let duration = match &args.duration {
        Some(d) => Some(parse_duration(d).map_err(|e| UsageError(format!("--duration: {e}")))?),
        None => None,
    };
    let max_size = parse_size(args.max_size.as_deref().unwrap_or(DEFAULT_MAX_SIZE))
        .map_err(|e| UsageError(format!("--max-size: {e}")))?;
    if max_size < 64 << 10 {
        return Err(UsageError("--max-size: at least 64K".into()).into());
    }
    let sync = sync_policy(&args.fsync)?;
    let selection = Request::from_args(&args.select, &config, RECORD)?.resolve()?;
    let mut query = selection.query;
    query.processes = args.processes;
    query.tcp_info = args.info;
    query.memory = args.memory;
    query.counters = true;

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install the signal handlers")?;
    }
    let path: PathBuf = args.output.clone();
    let shown = text::escape(&path.to_string_lossy()).into_owned();
    let collected = Collected {
        processes: args.processes,
        tcp_info: args.info,
        memory: args.memory,
    };
    // Before anything is renamed: a file there that is not a recording is the user's
    // mistake (exit 2), never moved aside.
    crate::record::writer::check_rotatable(&path)
        .map_err(|why| UsageError(format!("--output {shown}: {why}")))?;
    let header = Header::new(interval, collected, SystemTime::now());
    let mut writer = Writer::create(&path, header, max_size)
        .with_context(|| format!("cannot create the recording {shown}"))?;
    writer.set_sync(sync);
    let mut collector = Collector::new(query);
    let began = Instant::now();
    let mut frames = 0u64;
    let mut next = Instant::now();
    loop {
        let snap = collector
            .snapshot()
            .context("cannot read the socket tables")?;
        if let Err(e) = writer.push(&snap) {
            if e.raw_os_error() == Some(libc::ENOSPC) || e.raw_os_error() == Some(libc::EDQUOT) {
                anyhow::bail!(
                    "the disk is full: recording to {shown} stopped after {frames} frame(s); \
                     the file ends with its last whole frame and reads as it is"
                );
            }
            return Err(e).with_context(|| format!("cannot write to {shown}"));
        }
        frames += 1;
        let sockets = snap.sockets;
        collector.recycle(sockets);
        next += interval;
        let deadline = duration.map(|d| began + d);
        // Sleep in short steps so a signal ends the recording promptly.
        loop {
            if stop.load(Ordering::Relaxed) {
                return done(&shown, frames, args.quiet);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return done(&shown, frames, args.quiet);
            }
            if now >= next {
                break;
            }
            std::thread::sleep((next - now).min(Duration::from_millis(50)));
        }
        // Fell behind (a slow collection): skip the missed ticks instead of bursting.
        if Instant::now() > next + interval {
            next = Instant::now();
        }
    }
}

fn done(shown: &str, frames: u64, quiet: bool) -> anyhow::Result<()> {
    if !quiet {
        text::stderr_line(&format!("recorded {frames} frame(s) to {shown}"));
    }
    Ok(())
}

fn sync_policy(text: &str) -> anyhow::Result<SyncPolicy> {
    Ok(match text {
        "frame" => SyncPolicy::EveryFrame,
        "never" => SyncPolicy::Never,
        d => SyncPolicy::Every(parse_duration(d).map_err(|e| {
            UsageError(format!(
                "--fsync {}: {e} (frame, never or a duration such as 10s)",
                text::escape(d)
            ))
        })?),
    })
}

fn check_interval(secs: f64) -> anyhow::Result<f64> {
    if !(0.05..=3600.0).contains(&secs) {
        return Err(UsageError(format!(
            "--interval {}: between 0.05 and 3600 seconds",
            crate::error::shown_number(secs)
        ))
        .into());
    }
    Ok(secs)
}
