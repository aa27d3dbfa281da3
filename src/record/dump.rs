//! `sockeye dump --from FILE [--at TIME | --between T1 T2]`: a moment of a recording printed
//! as dump prints the live tables (table, JSON, `-s`), after the same selection and filter.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::net::IpAddr;
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use super::reader::Recording;
use super::when::{format_rfc3339, parse_moment};
use crate::cli::DumpArgs;
use crate::collect::Query;
use crate::error::UsageError;
use crate::model::{Endpoint, Socket, Source};
use crate::output::json::{JsonOptions, SocketJson, write_json};
use crate::output::summary::Summary;
use crate::output::table::{TableOptions, ss_order, write_table};
use crate::selection::{Options, Request};
use crate::text;

pub fn run(args: &DumpArgs, path: &Path, no_config: bool) -> anyhow::Result<()> {
    let config = crate::config::load(no_config).map_err(UsageError::from)?;
    let options = if args.summary {
        Options::SUMMARY
    } else {
        Options::DUMP
    };
    let selection = Request::from_args(&args.select, &config, options)?.resolve()?;
    refuse_unrecorded(args)?;
    if args.between.is_some() {
        refuse_with_between(args)?;
    }
    if args.explain {
        let mut out = io::stdout().lock();
        writeln!(out, "{}", selection.explain())?;
        return Ok(());
    }
    let rec = open(path)?;
    if !args.quiet {
        missing_notice(args, &rec);
    }
    let query = selection.query;
    if let Some(between) = &args.between {
        let [t1, t2] = between.as_slice() else {
            return Err(UsageError("--between takes two times: T1 T2".into()).into());
        };
        let (from, to) = (moment(&rec, t1)?, moment(&rec, t2)?);
        if to < from {
            return Err(UsageError(format!(
                "--between: {} is before {}",
                text::escape(t2),
                text::escape(t1)
            ))
            .into());
        }
        if !args.quiet {
            for g in rec.gaps.iter().filter(|g| g.next > from && g.next <= to) {
                text::stderr_line(&format!("note: {}", gap_text(g)));
            }
        }
        return between_out(args, &rec, &query, from, to);
    }
    let i = match &args.at {
        Some(t) => moment(&rec, t)?,
        None => rec.len() - 1,
    };
    if !args.quiet
        && let Some(t) = &args.at
        && let Some(g) = rec.gaps.iter().find(|g| g.next == i + 1)
        && parse_moment(t, rec.start()).is_ok_and(|at| at > g.from)
    {
        text::stderr_line(&format!(
            "note: {}; showing the last moment before it",
            gap_text(g)
        ));
    }
    if !args.quiet
        && let Some(t) = &args.at
        && let Some(note) = past_end_note(&rec, t)
    {
        text::stderr_line(&note);
    }
    let mut snap = rec.moment(i)?;
    snap.sockets.retain(|s| wanted(&query, s));
    ss_order(&mut snap.sockets);

    let stdout = io::stdout();
    let is_tty = stdout.is_terminal();
    let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
    if args.summary {
        let summary = Summary::new(&snap);
        if args.json {
            summary.write_json(&mut w)?;
        } else {
            summary.write_text(&mut w)?;
        }
    } else if args.json {
        write_json(&mut w, &snap.sockets, snap.source, &json_options(args))?;
    } else {
        let opts = TableOptions {
            show_netid: query.netids.ss_tables() != 1,
            show_state: query.states.single().is_none(),
            header: !args.no_header,
            processes: args.processes,
            timers: args.options || args.extended,
            extended: args.extended,
            info: args.info,
            memory: args.memory,
            oneline: args.oneline,
            screen_width: if is_tty { terminal_width() } else { None },
            ..TableOptions::default()
        };
        let ctx = crate::commands::dump::cell_ctx(args, selection.numeric, snap.source);
        write_table(&mut w, &snap.sockets, &ctx, &opts)?;
        w.flush()?;
        crate::commands::dump::resolver_notice(&ctx);
    }
    w.flush()?;
    Ok(())
}

/// Dump flags showing what a recording does not keep (it keeps what `-p`, `-i` and `-m`
/// collect, and the rest of a socket's row): refused, where printing the moment without
/// them would pass for an answer.
fn refuse_unrecorded(args: &DumpArgs) -> Result<(), UsageError> {
    let flag = first_given([
        (args.threads, "-T (thread ids)"),
        (args.tos, "--tos"),
        (args.cgroup, "--cgroup"),
        (args.inet_sockopt, "--inet-sockopt"),
        (args.tipcinfo, "--tipcinfo"),
        (args.bpf, "-b (BPF filters)"),
    ]);
    match flag {
        Some(f) => Err(UsageError(format!(
            "--from: a recording does not keep what {f} shows (only what -p, -i and -m collect)"
        ))),
        None => Ok(()),
    }
}

/// The name of the first flag given, in the order listed.
fn first_given<const N: usize>(flags: [(bool, &'static str); N]) -> Option<&'static str> {
    flags.into_iter().find_map(|(on, name)| on.then_some(name))
}

/// `--between` lists changes, one line each (or JSON): a summary, or the table's extra
/// fields on the text lines, are not what it prints.
fn refuse_with_between(args: &DumpArgs) -> Result<(), UsageError> {
    if args.summary {
        return Err(UsageError(
            "--between lists the sockets that appeared or vanished; -s summarises one moment \
             (use --at)"
                .into(),
        ));
    }
    if args.resolve {
        return Err(UsageError(
            "--between prints addresses as numbers; -r resolves one moment's table (use --at)"
                .into(),
        ));
    }
    let extra = first_given([
        (args.processes, "-p"),
        (args.options, "-o"),
        (args.extended, "-e"),
        (args.info, "-i"),
        (args.memory, "-m"),
    ]);
    match extra {
        Some(f) if !args.json => Err(UsageError(format!(
            "--between prints one line a socket, without what {f} shows: add --json for it"
        ))),
        _ => Ok(()),
    }
}

/// The recording, its warnings (a damaged tail) reported; errors classed for the exit code.
pub fn open(path: &Path) -> anyhow::Result<Recording> {
    let rec = match Recording::open(path) {
        Ok(r) => r,
        Err(e) if e.is_usage() => return Err(UsageError(e.to_string()).into()),
        Err(e) => return Err(e.into()),
    };
    for w in &rec.warnings {
        text::stderr_line(&format!("warning: {w}"));
    }
    Ok(rec)
}

/// A gap between two files of a recording, in words.
pub fn gap_text(g: &super::reader::Gap) -> String {
    let secs = g.to.duration_since(g.from).unwrap_or_default().as_secs();
    format!(
        "nothing was recorded from {} to {} ({}; the recorder was stopped or a rotated \
         file is missing)",
        format_rfc3339(g.from),
        format_rfc3339(g.to),
        super::when::format_span(std::time::Duration::from_secs(secs))
    )
}

/// A note when TIME is later than the recording's last frame by more than an interval: what
/// is printed is then the last moment recorded, which TIME's sockets need not be.
pub fn past_end_note(rec: &Recording, t: &str) -> Option<String> {
    let at = parse_moment(t, rec.start()).ok()?;
    let past = at.duration_since(rec.end()).ok()?;
    (past > rec.header.interval).then(|| {
        format!(
            "note: the recording ends at {}, {} before {}; showing its last moment",
            format_rfc3339(rec.end()),
            super::when::format_span(past),
            text::escape(t)
        )
    })
}

/// The frame a TIME names: the last one taken at or before it.
fn moment(rec: &Recording, t: &str) -> anyhow::Result<usize> {
    let at = parse_moment(t, rec.start()).map_err(UsageError)?;
    rec.frame_at(at).ok_or_else(|| {
        UsageError(format!(
            "{} is before the recording starts ({})",
            text::escape(t),
            format_rfc3339(rec.start())
        ))
        .into()
    })
}

/// What the selection would have let through live: tables, families, states, the filter.
pub fn wanted(q: &Query, s: &Socket) -> bool {
    if !q.netids.contains(s.netid) || !q.states.contains(s.state) {
        return false;
    }
    if let Endpoint::Inet { addr, .. } = &s.local {
        let ok = match addr {
            IpAddr::V4(_) => q.ipv4,
            IpAddr::V6(_) => q.ipv6,
        };
        if !ok {
            return false;
        }
    }
    q.keep.as_ref().is_none_or(|k| k(s))
}

fn json_options(args: &DumpArgs) -> JsonOptions {
    JsonOptions {
        timers: args.options || args.extended,
        processes: args.processes,
        info: args.info,
        memory: args.memory,
        ..JsonOptions::default()
    }
}

/// A flag asks for what the recording did not collect: say so once (the values read as
/// unknown).
fn missing_notice(args: &DumpArgs, rec: &Recording) {
    let c = rec.header.collected;
    for (asked, had, what, flag) in [
        (args.processes, c.processes, "processes", "-p"),
        (args.info, c.tcp_info, "tcp_info", "-i"),
        (args.memory, c.memory, "socket memory", "-m"),
    ] {
        if asked && !had {
            text::stderr_line(&format!(
                "the recording has no {what} (record with {flag} to keep them)"
            ));
        }
    }
}

/// `--between`: the sockets that appeared or vanished after T1 up to T2.
fn between_out(
    args: &DumpArgs,
    rec: &Recording,
    query: &Query,
    from: usize,
    to: usize,
) -> anyhow::Result<()> {
    let mut changes = rec.changes(from, to)?;
    changes.appeared.retain(|(_, s)| wanted(query, s));
    changes.vanished.retain(|(_, s)| wanted(query, s));
    let source = rec.entries()[to].source;
    let mut w = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    if args.json {
        let doc = BetweenJson {
            from: rec.entries()[from].at,
            to: rec.entries()[to].at,
            appeared: &changes.appeared,
            vanished: &changes.vanished,
            source,
            opts: json_options(args),
        };
        serde_json::to_writer(&mut w, &doc).map_err(io::Error::from)?;
        w.write_all(b"\n")?;
    } else {
        let mut events: Vec<(&SystemTime, &str, &Socket)> = changes
            .appeared
            .iter()
            .map(|(t, s)| (t, "appeared", s))
            .chain(changes.vanished.iter().map(|(t, s)| (t, "vanished", s)))
            .collect();
        events.sort_by_key(|e| *e.0);
        for (t, what, s) in events {
            writeln!(
                w,
                "{} {what:<8} {:<5} {:<10} {} {}",
                format_rfc3339(*t),
                s.netid.as_str(),
                s.state.ss_name(),
                endpoint(&s.local),
                endpoint(&s.peer)
            )?;
        }
    }
    w.flush()?;
    Ok(())
}

fn endpoint(e: &Endpoint) -> String {
    match e {
        // Sockets bound to one path are told apart by their inodes.
        Endpoint::Unix {
            path: Some(_),
            inode,
        } => format!("{} {inode}", e.label()),
        _ => e.label(),
    }
}

struct BetweenJson<'a> {
    from: SystemTime,
    to: SystemTime,
    appeared: &'a [(SystemTime, Socket)],
    vanished: &'a [(SystemTime, Socket)],
    source: Source,
    opts: JsonOptions,
}

impl Serialize for BetweenJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(Some(4))?;
        m.serialize_entry("from", &format_rfc3339(self.from))?;
        m.serialize_entry("to", &format_rfc3339(self.to))?;
        m.serialize_entry("appeared", &Events(self.appeared, self))?;
        m.serialize_entry("vanished", &Events(self.vanished, self))?;
        m.end()
    }
}

struct Events<'a>(&'a [(SystemTime, Socket)], &'a BetweenJson<'a>);

impl Serialize for Events<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(Some(self.0.len()))?;
        for (t, s) in self.0 {
            seq.serialize_element(&Event {
                at: format_rfc3339(*t),
                socket: SocketJson {
                    s,
                    source: self.1.source,
                    opts: &self.1.opts,
                },
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Event<'a> {
    at: String,
    socket: SocketJson<'a>,
}

fn terminal_width() -> Option<usize> {
    let ws = crossterm::terminal::window_size().ok()?;
    (ws.columns > 0).then_some(usize::from(ws.columns))
}
