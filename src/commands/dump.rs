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
use crate::collect::{Collector, Host, Query, SourcePref};
use crate::error::UsageError;
use crate::model::{NetnsTag, Snapshot, Socket, Source};
use crate::output::columns::CellCtx;
use crate::output::json::write_json;
use crate::output::summary::{StateCounts, Summary};
use crate::output::table::{TableOptions, TableRows, ss_order, write_table};
use crate::selection::{Options, Request};

pub fn run(args: &DumpArgs, no_config: bool) -> anyhow::Result<()> {
    if (args.net.is_some() || args.all_netns)
        && let Some(flag) = [(args.from.is_some(), "--from"), (args.kill, "-K")]
            .iter()
            .find_map(|&(on, f)| on.then_some(f))
    {
        // Better refused than silently showing this namespace's sockets instead.
        return Err(UsageError(format!(
            "{} with -N/--all-netns is not supported yet (it reads only this namespace)",
            flag
        ))
        .into());
    }
    if let Some(path) = &args.from {
        return crate::record::dump::run(args, path, no_config);
    }
    if args.events {
        return crate::commands::events::run(args, no_config);
    }
    if args.kill {
        return crate::commands::kill::run(args, no_config);
    }
    // ss: -Z and -z need SELinux, and imply -p.
    let with_processes;
    let args = if args.context || args.contexts {
        selinux_enabled(&Host::current())?;
        with_processes = DumpArgs {
            processes: true,
            ..args.clone()
        };
        &with_processes
    } else {
        args
    };
    let plan = Plan::from_args(args, no_config)?;
    if let Some(path) = &args.diag {
        return super::tcpdiag::write_diag(path, &plan.query, plan.host);
    }
    if args.explain {
        let mut out = io::stdout().lock();
        writeln!(out, "{}", plan.explain)?;
        return Ok(());
    }
    let stdout = io::stdout();
    let is_tty = stdout.is_terminal();
    let unread = crate::selection::ss::resolve(&args.select).unread;
    let table_opts = TableOptions {
        // ss counts every table it asks, read by sockeye or not.
        show_netid: plan.named_tables.ss_tables() + unread.len() != 1,
        show_state: plan.query.states.single().is_none(),
        header: !args.no_header,
        processes: args.processes,
        // ss: -e and -b imply -o.
        timers: args.options || args.extended || args.bpf,
        extended: args.extended,
        info: args.info,
        memory: args.memory,
        threads: args.threads,
        oneline: args.oneline,
        tos: args.tos,
        cgroup: args.cgroup,
        inet_sockopt: args.inet_sockopt,
        tipcinfo: args.tipcinfo,
        screen_width: if is_tty { terminal_width() } else { None },
        netns: false,
    };
    if args.all_netns {
        return super::dump_netns::run_all(args, plan.query, plan.numeric, table_opts);
    }
    // The plain table is formatted while the kernel's answer is decoded, so the snapshot
    // never holds the sockets. Process attribution needs the whole table first, and the
    // summary and JSON read the snapshot.
    if !args.summary && !args.json && !args.processes && !args.threads {
        return streamed_table(
            args,
            plan.numeric,
            plan.query,
            table_opts,
            (plan.host, plan.netns),
        );
    }
    if args.summary {
        return summary(args, plan.query, plan.host, plan.netns);
    }

    let mut collector = super::dump_netns::collector(plan.query.clone(), plan.host, plan.netns);
    let mut snap = match super::tcpdiag::file_from_env() {
        Some(path) => super::tcpdiag::snapshot_with_file(&mut collector, &path)?,
        None => collector
            .snapshot()
            .context("cannot read the socket tables")?,
    };
    report_notices(args, &snap, collector.host());

    let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
    if args.json {
        ss_order(&mut snap.sockets);
        let opts = super::dump_netns::json_options(args);
        write_json(&mut w, &snap.sockets, snap.source, &opts)?;
    } else {
        ss_order(&mut snap.sockets);
        let ctx = cell_ctx(args, plan.numeric, snap.source);
        write_table(&mut w, &snap.sockets, &ctx, &table_opts)?;
        w.flush()?;
        resolver_notice(&ctx);
    }
    w.flush()?;
    Ok(())
}

/// The cells' context: numeric ports or not, and host names with `-r`.
pub(crate) fn cell_ctx(args: &DumpArgs, numeric: bool, source: Source) -> CellCtx {
    let ctx = CellCtx::new(numeric, source);
    if args.resolve {
        ctx.with_host_names(crate::output::resolve::HostNames::default())
    } else {
        ctx
    }
}

pub(crate) fn resolver_notice(ctx: &CellCtx) {
    if ctx.resolver_gave_up() {
        crate::text::stderr_line(&format!(
            "sockeye: the resolver did not answer within {} s; the other addresses are shown \
             as numbers",
            crate::output::resolve::DEADLINE.as_secs()
        ));
    }
}

/// `-Z`/`-z` need SELinux; without it ss prints this and exits 1.
fn selinux_enabled(host: &Host) -> anyhow::Result<()> {
    if host.selinux_enabled() {
        return Ok(());
    }
    anyhow::bail!("SELinux is not enabled.")
}

/// Which SELinux contexts `-Z`/`-z` ask for.
fn selinux_contexts(args: &DumpArgs) -> Option<crate::collect::processes::selinux::Contexts> {
    use crate::collect::processes::selinux::Contexts;
    if args.contexts {
        Some(Contexts::ProcessAndSocket)
    } else {
        args.context.then_some(Contexts::Process)
    }
}

/// `-s`: TCP sockets are counted per state as they are decoded, never stored.
fn summary(
    args: &DumpArgs,
    mut query: Query,
    host: Host,
    netns: Option<Arc<NetnsTag>>,
) -> anyhow::Result<()> {
    let counts = Arc::new(Mutex::new(StateCounts::default()));
    let sink = Arc::clone(&counts);
    query.keep = Some(Arc::new(move |s: &Socket| {
        sink.lock().unwrap_or_else(|e| e.into_inner()).add(s);
        false
    }));
    let reset = Arc::clone(&counts);
    query.on_restart = Some(Arc::new(move || {
        *reset.lock().unwrap_or_else(|e| e.into_inner()) = StateCounts::default();
    }));
    let mut collector = super::dump_netns::collector(query, host, netns);
    let snap = snapshot_from_one_source(&mut collector, || {
        *counts.lock().unwrap_or_else(|e| e.into_inner()) = StateCounts::default();
    })?;
    report_notices(args, &snap, collector.host());
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
fn streamed_table(
    args: &DumpArgs,
    numeric: bool,
    mut query: Query,
    opts: TableOptions,
    (host, netns): (Host, Option<Arc<NetnsTag>>),
) -> anyhow::Result<()> {
    let first_source = if query.source == SourcePref::Proc {
        Source::Proc
    } else {
        Source::Netlink
    };
    let rows = Arc::new(Mutex::new(TableRows::new(
        cell_ctx(args, numeric, first_source),
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
    let restart = Arc::clone(&rows);
    query.on_restart = Some(Arc::new(move || lock(&restart).clear()));
    let mut collector = super::dump_netns::collector(query, host, netns);
    let snap = match super::tcpdiag::file_from_env() {
        Some(path) => super::tcpdiag::snapshot_with_file(&mut collector, &path)?,
        None => snapshot_from_one_source(&mut collector, || {
            let mut r = lock(&rows);
            r.clear();
            r.set_source(Source::Proc);
        })?,
    };
    report_notices(args, &snap, collector.host());
    drop(collector);
    let mut w = io::stdout().lock();
    let rows = lock(&rows);
    rows.write(&mut w)?;
    w.flush()?;
    resolver_notice(rows.ctx());
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
    /// The tables the flags ask for, before a filter operand narrows them to its family
    /// (`src netlink:rtnl`): ss decides on the Netid column from these.
    named_tables: crate::model::NetidSet,
    numeric: bool,
    explain: String,
    /// `-N`: the namespace read (the host's own otherwise).
    netns: Option<Arc<NetnsTag>>,
    host: Host,
}

impl Plan {
    /// The one selection (flags, filter, `-F` file, configuration), plus what dump shows.
    fn from_args(args: &DumpArgs, no_config: bool) -> anyhow::Result<Plan> {
        let config = crate::config::load(no_config).map_err(UsageError::from)?;
        let options = if args.summary {
            Options::SUMMARY
        } else {
            Options::DUMP
        };
        let request = Request::from_args(&args.select, &config, options)?;
        let named_tables = request.tables;
        let selection = request.resolve()?;
        let explain = selection.explain();
        let mut query = selection.query;
        query.tcp_info = args.info;
        query.memory = args.memory;
        query.tos = args.tos;
        query.threads = args.threads;
        query.details =
            args.extended || args.cgroup || args.tos || args.inet_sockopt || args.threads;
        query.processes = args.processes && !args.summary;
        query.selinux = selinux_contexts(args);
        query.counters = args.summary;
        let (netns, host) = super::dump_netns::host_for(args)?;
        Ok(Plan {
            query,
            named_tables,
            numeric: selection.numeric,
            explain,
            netns,
            host,
        })
    }
}

/// The stderr notices: fallback and process attribution once (unless `-q`), warnings and
/// skipped records under `--verbose`.
fn report_notices(args: &DumpArgs, snap: &Snapshot, host: &Host) {
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
    let unread = crate::selection::ss::resolve(&args.select).unread;
    for name in &unread {
        let Some(table) = crate::tables::UNREAD_TABLES
            .iter()
            .find(|t| t.ss_name == *name)
        else {
            continue;
        };
        // Asked of the kernel: an empty table must mean no sockets (or no diag module),
        // never sockets sockeye skipped quietly.
        match crate::collect::netlink::probe::probe(host, table.probe) {
            Ok(0) if args.verbose => {
                let _ = writeln!(err, "sockeye: {name}: the kernel holds no such sockets");
            }
            Ok(0) => {}
            Ok(n) => {
                let _ = writeln!(
                    err,
                    "sockeye: warning: {n} {name} socket{} not shown: sockeye does not decode \
                     this table yet",
                    if n == 1 { "" } else { "s" }
                );
            }
            Err(e) if args.verbose => {
                let _ = writeln!(
                    err,
                    "sockeye: {name}: empty: this kernel cannot dump it (no diag module for it: \
                     {e})"
                );
            }
            Err(_) => {}
        }
    }
    if args.verbose {
        if !unread.is_empty() {
            let _ = writeln!(
                err,
                "sockeye: tables not shown: {} (sockeye does not read them yet)",
                unread.join(" ")
            );
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_z_is_refused_as_ss_refuses_it_only_without_selinux() {
        let dir = tempfile::tempdir().unwrap();
        let host = Host::fake(dir.path());
        let err = selinux_enabled(&host).unwrap_err();
        assert_eq!(err.to_string(), "SELinux is not enabled.");
        std::fs::create_dir_all(dir.path().join("sys/fs/selinux")).unwrap();
        std::fs::write(dir.path().join("sys/fs/selinux/enforce"), "0").unwrap();
        assert!(selinux_enabled(&host).is_ok());
    }

    #[test]
    fn dash_small_z_asks_for_both_contexts() {
        use crate::collect::processes::selinux::Contexts;
        let mut args = DumpArgs::default();
        assert_eq!(selinux_contexts(&args), None);
        args.context = true;
        assert_eq!(selinux_contexts(&args), Some(Contexts::Process));
        args.contexts = true;
        assert_eq!(selinux_contexts(&args), Some(Contexts::ProcessAndSocket));
    }
}
