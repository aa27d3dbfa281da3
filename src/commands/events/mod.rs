//! `sockeye dump -E`: follow the kernel's sock_diag destroy events (as `ss -E`), one row
//! or one JSON line per destroyed socket, each flushed at once (a pipe too). Runs until
//! SIGINT, SIGTERM or a closed output; exit 0 then.
//!
//! Every flag and filter of dump applies; states default to every state (a destroyed socket
//! is reported in the state it had when freed: CLOSE, shown UNCONN as ss does). Events lost
//! to a full receive queue are counted from the socket's drop counter (SO_MEMINFO) and
//! reported, never lost silently.

//! With `-N` or `--all-netns` there is one subscription per namespace (the kernel delivers
//! a namespace's events only to subscribers inside it), waited on together with poll(2).
//! Every event says how the connection ended (from its tcp_info at destruction, see
//! [`crate::closed::ending`]) and, when a scan saw the socket earlier, how long it lived.

mod subs;
mod write;

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;

use crate::cli::DumpArgs;
use crate::collect::event_netns::{self, RESCAN_NAMESPACES, entered};
use crate::collect::host::Host;
use crate::collect::namespaces::{self, Netns};
use crate::collect::netlink::events::{Destroyed, RCVBUF_BYTES, Received, group_mask};
use crate::collect::{Query, SourcePref};
use crate::error::UsageError;
use crate::model::{Source, StateSet};
use crate::output::columns::CellCtx;
use crate::output::json::JsonOptions;
use crate::output::table::{FollowRows, TableOptions};
use crate::selection::{Options, Request};
use crate::text;
use subs::Sub;
pub use write::rfc3339;

/// Datagrams read from one subscription before the others get their turn.
const BATCH: usize = 64;

pub fn run(args: &DumpArgs, no_config: bool) -> anyhow::Result<()> {
    let (query, numeric, show_state) = plan(args, no_config)?;
    let rcvbuf = rcvbuf_bytes();
    let mut subs = subscribe(args, &query, rcvbuf)?;
    if args.verbose {
        for s in &subs {
            text::stderr_line(&format!(
                "receive buffer for events{}: {} bytes",
                if s.label.is_empty() {
                    String::new()
                } else {
                    format!(" in {}", s.label)
                },
                s.source.rcvbuf
            ));
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
    }

    let stdout = io::stdout();
    let is_tty = stdout.is_terminal();
    let opts = TableOptions {
        show_netid: query.netids.ss_tables() != 1,
        show_state,
        header: !args.no_header,
        processes: false,
        timers: args.options || args.extended,
        extended: args.extended,
        info: args.info,
        memory: false,
        screen_width: if is_tty { terminal_width() } else { None },
        // The namespace leads each event line on its own (`write::Lead`).
        netns: false,
        ..TableOptions::default()
    };
    let json = JsonOptions {
        timers: args.options || args.extended,
        processes: false,
        info: args.info,
        memory: false,
        ..JsonOptions::default()
    };
    let mut out = stdout.lock();
    let mut rows = FollowRows::new(CellCtx::new(numeric, Source::Netlink), opts);
    let mut lead = write::Lead::new(args.all_netns, &subs);
    let mut extra = String::with_capacity(64);

    let mut events: Vec<Destroyed> = Vec::new();
    let mut ready = Vec::new();
    let mut next_ns_scan = Instant::now() + RESCAN_NAMESPACES;
    while !stop.load(Ordering::Relaxed) {
        for s in &mut subs {
            s.scan_if_due();
        }
        subs::wait_any(&subs, Duration::from_millis(200), &mut ready)
            .context("cannot wait for destroy events")?;
        let time = SystemTime::now();
        let mut quiet = ready.is_empty();
        for &i in &ready {
            let sub = &mut subs[i];
            // One datagram (one event) at a time, as ss renders them.
            for _ in 0..BATCH {
                events.clear();
                let got = sub
                    .source
                    .recv_now(&query, &mut events)
                    .context("cannot receive destroy events")?;
                if got != Received::Events {
                    quiet = true;
                    if got == Received::Overrun {
                        report_drops(&mut out, args.json, sub, true, time)?;
                    }
                    break;
                }
                if events.is_empty() && !args.json && rows.header_due() {
                    rows.write_header(&mut out, &lead.cells(&sub.label).0)?;
                }
                for e in &events {
                    let lifetime = e.socket.cookie.and_then(|c| sub.births.lifetime(c, time));
                    if args.json {
                        write::json_event(&mut out, e, lifetime, sub.ns.as_ref(), &json, time)?;
                    } else {
                        write::extra_text(&mut extra, e.ending, lifetime);
                        let (header_lead, row_lead) = lead.cells(&sub.label);
                        rows.write(&mut out, &e.socket, &extra, [&header_lead, &row_lead])?;
                    }
                }
            }
            out.flush()?;
        }
        if quiet {
            for sub in &mut subs {
                report_drops(&mut out, args.json, sub, false, time)?;
            }
        }
        if quiet && write::output_closed(&out) {
            return Ok(());
        }
        if args.all_netns && Instant::now() >= next_ns_scan {
            follow_new_namespaces(&mut subs, &query, rcvbuf);
            lead.widen(&subs);
            next_ns_scan = Instant::now() + RESCAN_NAMESPACES;
        }
    }
    let time = SystemTime::now();
    for sub in &mut subs {
        report_drops(&mut out, args.json, sub, false, time)?;
    }
    Ok(())
}

/// Report what the kernel dropped for `sub` since the last report; `overrun`: it said so
/// (ENOBUFS), which without a drop counter is reported without a count.
fn report_drops(
    out: &mut impl Write,
    json: bool,
    sub: &mut Sub,
    overrun: bool,
    time: SystemTime,
) -> io::Result<()> {
    match sub.new_drops() {
        Some(0) => Ok(()),
        Some(n) => write::report_lost(out, json, n, &sub.label, time),
        None if overrun => write::report_lost(out, json, 0, &sub.label, time),
        None => Ok(()),
    }
}

/// The subscriptions: this namespace, the one `-N` names, or every namespace
/// (`--all-netns`; those that cannot be entered are named in one line and left out).
fn subscribe(args: &DumpArgs, query: &Query, rcvbuf: usize) -> anyhow::Result<Vec<Sub>> {
    let context = "cannot subscribe to the sock_diag destroy events";
    if let Some(arg) = &args.net {
        let ns = namespaces::resolve(arg)?;
        let label = text::escape(&ns.label()).into_owned();
        let host =
            entered(&ns).with_context(|| format!("cannot enter network namespace {label}"))?;
        let sub = Sub::open(Some(ns), host, query, rcvbuf)
            .with_context(|| format!("{context} in network namespace {label}"))?;
        return Ok(vec![sub]);
    }
    if !args.all_netns {
        return Ok(vec![
            Sub::open(None, Host::current(), query, rcvbuf).context(context)?,
        ]);
    }
    let mut subs = Vec::new();
    let mut failed = Vec::new();
    for ns in namespaces::enumerate() {
        let label = ns.label();
        match entered(&ns).and_then(|h| Sub::open(Some(ns.clone()), h, query, rcvbuf)) {
            Ok(s) => subs.push(s),
            Err(_) if !ns.still_there() => {}
            Err(e) => failed.push((label, crate::collect::all_netns::reason(&e))),
        }
    }
    if !failed.is_empty() && !args.quiet {
        text::stderr_line(&format!(
            "{} (no destroy events from them)",
            super::dump_netns::unreadable_line(&failed)
        ));
    }
    if subs.is_empty() {
        anyhow::bail!("{context}: no network namespace could be entered");
    }
    Ok(subs)
}

/// `--all-netns`: subscribe in namespaces that appeared since the last look, drop those
/// that are gone. Failures stay quiet here (they were named at the start for the others).
fn follow_new_namespaces(subs: &mut Vec<Sub>, query: &Query, rcvbuf: usize) {
    subs.retain(|s| s.ns.as_ref().is_none_or(Netns::still_there));
    let known: Vec<(u64, u64)> = subs
        .iter()
        .filter_map(|s| s.ns.as_ref().map(|n| (n.dev, n.inode)))
        .collect();
    for ns in event_netns::unknown(&known) {
        if let Ok(s) = entered(&ns).and_then(|h| Sub::open(Some(ns.clone()), h, query, rcvbuf)) {
            subs.push(s);
        }
    }
}

/// The receive buffer to ask for. `SOCKEYE_EVENTS_RCVBUF` (bytes) overrides it, so tests
/// can make the kernel drop events on purpose.
fn rcvbuf_bytes() -> usize {
    std::env::var("SOCKEYE_EVENTS_RCVBUF")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RCVBUF_BYTES)
}

/// The selection of dump, with every state by default, and the refusals that are -E's own.
/// Also whether the State column shows: as in ss, by the states a dump with these flags
/// would show (`-E -u` has none: a UDP dump shows one state), not by those followed.
fn plan(args: &DumpArgs, no_config: bool) -> anyhow::Result<(Query, bool, bool)> {
    let config = crate::config::load(no_config).map_err(UsageError::from)?;
    let selection = Request::from_args(&args.select, &config, Options::EVENTS)?.resolve()?;
    let as_dump = Request::from_args(&args.select, &config, Options::DUMP)?.resolve()?;
    let show_state = as_dump.query.states.single().is_none();
    let mut query = selection.query;
    if query.source == SourcePref::Proc {
        return Err(UsageError(
            "-E reads events from netlink; it cannot be used with --source proc".into(),
        )
        .into());
    }
    if group_mask(&query) == 0 {
        return Err(UsageError(
            "the kernel sends destroy events only for TCP and UDP sockets, none for unix or \
             other families: give -E with -t and/or -u (or no table flag)"
                .into(),
        )
        .into());
    }
    if query.states != StateSet::ALL {
        // Every TCP socket is freed in state CLOSE, so a state filter would keep all or
        // nothing; ss -E ignores it too, but says nothing.
        if !args.quiet {
            text::stderr_line(
                "-E: every socket is reported as the kernel frees it (state CLOSE); the \
                 state selection is ignored, the rest of the filter applies",
            );
        }
        query.states = StateSet::ALL;
    }
    if args.select.unix && !args.quiet {
        text::stderr_line(
            "the kernel sends no destroy events for unix sockets; following TCP/UDP only",
        );
    }
    query.tcp_info = args.info;
    Ok((query, selection.numeric, show_state))
}

fn terminal_width() -> Option<usize> {
    let ws = crossterm::terminal::window_size().ok()?;
    (ws.columns > 0).then_some(usize::from(ws.columns))
}
