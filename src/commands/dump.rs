//! `sockeye dump`: flags → [`Query`] → one snapshot → table, JSON or summary on stdout.
//!
//! Exit status: 0, 1 for runtime failures (one line on stderr), 2 for usage and filter
//! errors. A closed stdout is a normal end. Notices go to stderr: the fallback to /proc
//! (unless `-q`), why some sockets have no process (`-p`, unless `-q`), skipped tables and
//! records (`--verbose`).

use std::io::{self, BufWriter, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use anyhow::Context;

use crate::cli::DumpArgs;
use crate::collect::{Collector, NetidSet, Query, SourcePref};
use crate::error::UsageError;
use crate::filter::{FamilyOnly, Filter, ParseOptions};
use crate::model::{Netid, Snapshot, Socket, Source, StateSet, TcpState};
use crate::output::columns::CellCtx;
use crate::output::json::{JsonOptions, write_json};
use crate::output::summary::{StateCounts, Summary};
use crate::output::table::{TableOptions, TableRows, ss_order, write_table};

pub fn run(args: &DumpArgs, _no_config: bool) -> anyhow::Result<()> {
    let plan = Plan::from_args(args)?;
    if args.explain {
        let mut out = io::stdout().lock();
        writeln!(out, "{}", plan.explain)?;
        return Ok(());
    }
    let stdout = io::stdout();
    let is_tty = stdout.is_terminal();
    let table_opts = TableOptions {
        show_netid: plan.query.netids.len() != 1,
        show_state: plan.query.states.single().is_none(),
        header: !args.no_header,
        processes: args.processes,
        timers: args.options || args.extended,
        extended: args.extended,
        info: args.info,
        memory: args.memory,
        screen_width: if is_tty { terminal_width() } else { None },
    };
    // The plain table is formatted while the kernel's answer is decoded, so the snapshot
    // never holds the sockets. Process attribution needs the whole table first, and the
    // summary and JSON read the snapshot.
    if !args.summary && !args.json && !args.processes {
        return streamed_table(args, plan.query, table_opts);
    }
    if args.summary {
        return summary(args, plan.query);
    }

    let mut collector = Collector::new(plan.query.clone());
    let mut snap = collector
        .snapshot()
        .context("cannot read the socket tables")?;
    report_notices(args, &snap);

    let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
    if args.json {
        ss_order(&mut snap.sockets);
        let opts = JsonOptions {
            timers: args.options || args.extended,
            processes: args.processes,
            info: args.info,
            memory: args.memory,
        };
        write_json(&mut w, &snap.sockets, snap.source, &opts)?;
    } else {
        ss_order(&mut snap.sockets);
        let ctx = CellCtx::new(args.select.numeric, snap.source);
        write_table(&mut w, &snap.sockets, &ctx, &table_opts)?;
    }
    w.flush()?;
    Ok(())
}

/// `-s`: TCP sockets are counted per state as they are decoded, never stored.
fn summary(args: &DumpArgs, mut query: Query) -> anyhow::Result<()> {
    let counts = Arc::new(Mutex::new(StateCounts::default()));
    let sink = Arc::clone(&counts);
    query.keep = Some(Arc::new(move |s: &Socket| {
        sink.lock().unwrap_or_else(|e| e.into_inner()).add(s);
        false
    }));
    let mut collector = Collector::new(query);
    let snap = snapshot_from_one_source(&mut collector, || {
        *counts.lock().unwrap_or_else(|e| e.into_inner()) = StateCounts::default();
    })?;
    report_notices(args, &snap);
    let summary = Summary::with_counts(&snap, &counts.lock().unwrap_or_else(|e| e.into_inner()));
    let mut w = io::stdout().lock();
    if args.json {
        summary.write_json(&mut w)?;
    } else {
        summary.write_text(&mut w)?;
    }
    w.flush()?;
    Ok(())
}

/// The table without `-p`: every decoded socket that passes the filter is formatted into
/// [`TableRows`] from inside the collector's `keep` hook and then dropped.
fn streamed_table(args: &DumpArgs, mut query: Query, opts: TableOptions) -> anyhow::Result<()> {
    let first_source = if query.source == SourcePref::Proc {
        Source::Proc
    } else {
        Source::Netlink
    };
    let rows = Arc::new(Mutex::new(TableRows::new(
        CellCtx::new(args.select.numeric, first_source),
        opts,
    )));
    let sink = Arc::clone(&rows);
    let filter = query.keep.take();
    query.keep = Some(Arc::new(move |s: &Socket| {
        if filter.as_ref().is_none_or(|f| f(s)) {
            lock(&sink).push(s);
        }
        false
    }));
    let mut collector = Collector::new(query);
    let snap = snapshot_from_one_source(&mut collector, || {
        let mut r = lock(&rows);
        r.clear();
        r.set_source(Source::Proc);
    })?;
    report_notices(args, &snap);
    drop(collector);
    let mut w = io::stdout().lock();
    lock(&rows).write(&mut w)?;
    w.flush()?;
    Ok(())
}

/// One snapshot whose streamed rows all come from one source. When auto mode tried netlink
/// in this very call and fell back, what the `keep` hook took from netlink would mix with
/// /proc's: `discard` drops it and the tables are read again, from /proc only (the
/// collector stays there).
fn snapshot_from_one_source(
    collector: &mut Collector,
    discard: impl FnOnce(),
) -> anyhow::Result<Snapshot> {
    let snap = collector
        .snapshot()
        .context("cannot read the socket tables")?;
    if snap.fallback_reason.is_none() {
        return Ok(snap);
    }
    discard();
    collector
        .snapshot()
        .context("cannot read the socket tables")
}

fn lock(rows: &Mutex<TableRows>) -> std::sync::MutexGuard<'_, TableRows> {
    // A panic while formatting would already have ended the program; never poisoned in use.
    rows.lock().unwrap_or_else(|e| e.into_inner())
}

/// Everything decided before touching the kernel.
struct Plan {
    query: Query,
    explain: String,
}

impl Plan {
    fn from_args(args: &DumpArgs) -> anyhow::Result<Plan> {
        let sel = &args.select;
        // With -x, ss reads every address and port operand as a unix path pattern.
        let parse_opts = ParseOptions { unix: sel.unix };
        let filter = match &sel.filter_file {
            None => Filter::parse_with(&sel.filter, parse_opts),
            Some(path) => {
                // States may stay on the command line; the expression comes from the file.
                let text = if path.as_os_str() == "-" {
                    io::read_to_string(io::stdin()).map_err(|e| {
                        UsageError(format!("cannot read the filter from stdin: {e}"))
                    })?
                } else {
                    std::fs::read_to_string(path).map_err(|e| {
                        UsageError(format!("cannot read filter file {}: {e}", path.display()))
                    })?
                };
                Filter::parse_text_with(&format!("{}\n{text}", sel.filter.join(" ")), parse_opts)
            }
        }
        .map_err(|e| UsageError(e.to_string()))?;

        let (mut netids, mut ipv4, mut ipv6) = super::select::tables(sel);
        // ss lists only one family when a filter operand names it (`inet6:`, a unix path).
        match filter.family_only() {
            Some(FamilyOnly::V4) => {
                ipv6 = false;
                netids = NetidSet(netids.0 & NetidSet::of(&[Netid::Tcp, Netid::Udp]).0);
            }
            Some(FamilyOnly::V6) => {
                ipv4 = false;
                netids = NetidSet(netids.0 & NetidSet::of(&[Netid::Tcp, Netid::Udp]).0);
            }
            Some(FamilyOnly::Unix) => {
                netids = NetidSet(netids.0 & !NetidSet::of(&[Netid::Tcp, Netid::Udp]).0);
            }
            None => {}
        }
        if !ipv4 && !ipv6 {
            return Err(UsageError("no families to show with such filter".into()).into());
        }
        if netids.is_empty() {
            return Err(UsageError("no socket tables to show with such filter".into()).into());
        }

        let mut states = filter.states(sel.listening, sel.all);
        // ss: a UDP-only dump without any state selection shows connected UDP sockets only.
        if filter.explicit_states().is_none()
            && !sel.listening
            && !sel.all
            && netids == NetidSet::of(&[Netid::Udp])
        {
            states = StateSet::of(&[TcpState::Established]);
        }
        if args.summary {
            // The summary counts every TCP state.
            netids = NetidSet::of(&[Netid::Tcp]);
            states = StateSet::ALL;
        }
        if states.is_empty() {
            return Err(UsageError("no socket states to show with such filter".into()).into());
        }

        let query = Query {
            netids,
            ipv4,
            ipv6,
            states,
            tcp_info: args.info,
            memory: args.memory,
            bytecode: if args.summary {
                None
            } else {
                filter.bytecode().map(Arc::new)
            },
            keep: if args.summary {
                None
            } else {
                filter.predicate()
            },
            processes: args.processes && !args.summary,
            counters: args.summary,
            source: super::select::source_pref(sel.source),
            ..Query::default()
        };
        let requests = if query.source == SourcePref::Proc {
            vec!["none: --source proc reads /proc/net".to_string()]
        } else {
            crate::collect::netlink::describe_requests(&query)
        };
        let explain = format!(
            "{}\ntables:     {}\nfamilies:   {}\nrequests:   {}",
            filter.explain(sel.listening, sel.all).trim_end(),
            netids
                .iter()
                .map(Netid::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            match (ipv4, ipv6) {
                (true, true) => "ipv4 ipv6",
                (true, false) => "ipv4",
                _ => "ipv6",
            },
            requests.join("\n            "),
        );
        Ok(Plan { query, explain })
    }
}

/// The stderr notices: fallback and process attribution once (unless `-q`), warnings and
/// skipped records under `--verbose`.
fn report_notices(args: &DumpArgs, snap: &Snapshot) {
    let mut err = io::stderr().lock();
    if !args.quiet
        && let Some(reason) = &snap.fallback_reason
    {
        let _ = writeln!(
            err,
            "sockeye: netlink is not available ({reason}); reading /proc/net instead \
             (queues of listeners and unix sockets, tcp_info and memory are unknown)"
        );
    }
    if args.processes
        && !args.quiet
        && let Some(note) = &snap.process_note
    {
        let _ = writeln!(err, "sockeye: {note}");
    }
    if args.verbose {
        for w in &snap.warnings {
            let _ = writeln!(err, "sockeye: warning: {w}");
        }
        if snap.skipped_records > 0 {
            let _ = writeln!(
                err,
                "sockeye: warning: {} record(s) could not be decoded and were skipped",
                snap.skipped_records
            );
        }
    }
}

/// Columns of the terminal on stdout, as ss uses to spread the table.
fn terminal_width() -> Option<usize> {
    let ws = crossterm::terminal::window_size().ok()?;
    (ws.columns > 0).then_some(usize::from(ws.columns))
}
