//! `sockeye dump -N NAME` and `--all-netns`: which namespaces are read, each through its own
//! [`Host`], and what is added to the output: a `netns` (and `container`) object on every
//! JSON socket, a Netns column in the table when it spans every namespace, a summary per
//! namespace under `-s`. A namespace that vanishes while it is read is dropped quietly; one
//! that cannot be read is named in a single line on stderr, and the others are still shown.

use std::io::{self, BufWriter, Write};

use anyhow::Context;

use crate::cli::DumpArgs;
use crate::collect::container::{self, Container};
use crate::collect::namespaces::{self, Netns};
use crate::collect::{Collector, Host, Query};
use crate::model::Snapshot;
use crate::output::columns::CellCtx;
use crate::output::json::{JsonOptions, SocketJson};
use crate::output::summary::Summary;
use crate::output::table::{TableOptions, ss_order, write_table};
use crate::text::{escape, stderr_line};

/// The namespace `-N` names and a host reading it; without `-N`, this process's own.
pub fn host_for(args: &DumpArgs) -> anyhow::Result<(Option<Netns>, Host)> {
    let Some(arg) = &args.net else {
        return Ok((None, Host::current()));
    };
    let ns = namespaces::resolve(arg)?;
    let host = ns
        .host()
        .with_context(|| format!("cannot enter network namespace {}", escape(&ns.label())))?;
    Ok((Some(ns), host))
}

/// One namespace read: its identity, container and snapshot.
struct Read {
    ns: Netns,
    container: Option<Container>,
    snap: Snapshot,
}

/// `--all-netns`.
pub fn run_all(
    args: &DumpArgs,
    query: Query,
    numeric: bool,
    opts: TableOptions,
) -> anyhow::Result<()> {
    let mut reads = Vec::new();
    let mut failed: Vec<(String, String)> = Vec::new();
    for ns in namespaces::enumerate() {
        let host = match ns.host() {
            Ok(h) => h,
            Err(_) if !ns.still_there() => continue,
            Err(e) => {
                failed.push((ns.label(), reason(&e)));
                continue;
            }
        };
        match Collector::on_host(query.clone(), host).snapshot() {
            Ok(mut snap) => {
                ss_order(&mut snap.sockets);
                let container = ns.pids.iter().find_map(|&p| container::of_pid(p));
                reads.push(Read {
                    ns,
                    container,
                    snap,
                });
            }
            Err(_) if !ns.still_there() => {}
            Err(e) => failed.push((ns.label(), e.to_string())),
        }
    }
    if !failed.is_empty() && !args.quiet {
        stderr_line(&unreadable_line(&failed));
    }
    if reads.is_empty() {
        anyhow::bail!("no network namespace could be read");
    }
    let mut w = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    if args.summary {
        write_summaries(&mut w, &reads, args.json)?;
    } else if args.json {
        let jopts = json_options(args);
        w.write_all(b"[")?;
        let mut first = true;
        for r in &reads {
            for s in &r.snap.sockets {
                w.write_all(if first { b"\n" } else { b",\n" })?;
                first = false;
                write_one(&mut w, s, &r.snap, &r.ns, r.container.as_ref(), &jopts)?;
            }
        }
        w.write_all(b"\n]\n")?;
    } else {
        write_netns_table(&mut w, &reads, numeric, &opts)?;
    }
    w.flush()?;
    Ok(())
}

/// `-N NAME --json`: the sockets of one namespace, each with its `netns` and `container`.
pub fn write_json_in<W: Write>(
    w: &mut W,
    snap: &Snapshot,
    ns: &Netns,
    opts: &JsonOptions,
) -> io::Result<()> {
    let container = ns.pids.iter().find_map(|&p| container::of_pid(p));
    w.write_all(b"[")?;
    for (i, s) in snap.sockets.iter().enumerate() {
        w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        write_one(w, s, snap, ns, container.as_ref(), opts)?;
    }
    w.write_all(b"\n]\n")
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

/// One socket object: the usual keys, then `netns` and `container`.
fn write_one<W: Write>(
    w: &mut W,
    s: &crate::model::Socket,
    snap: &Snapshot,
    ns: &Netns,
    container: Option<&Container>,
    opts: &JsonOptions,
) -> io::Result<()> {
    let mut obj = serde_json::to_vec(&SocketJson {
        s,
        source: snap.source,
        opts,
    })
    .map_err(io::Error::from)?;
    // The object always has keys (netid, state): replace its closing brace.
    if obj.pop() != Some(b'}') {
        return Err(io::Error::other("socket JSON is not an object"));
    }
    w.write_all(&obj)?;
    w.write_all(b",\"netns\":")?;
    serde_json::to_writer(&mut *w, &netns_json(ns)).map_err(io::Error::from)?;
    w.write_all(b",\"container\":")?;
    serde_json::to_writer(&mut *w, &container.map(container_json)).map_err(io::Error::from)?;
    w.write_all(b"}")
}

fn netns_json(ns: &Netns) -> serde_json::Value {
    serde_json::json!({ "inode": ns.inode, "name": ns.name })
}

fn container_json(c: &Container) -> serde_json::Value {
    serde_json::json!({
        "runtime": c.runtime,
        "id": c.id,
        "name": c.name,
        "pod": c.pod,
        "pod_namespace": c.pod_namespace,
    })
}

/// What the Netns column shows: the container (or pod), else the /run/netns name, else
/// `net:[INODE]`.
fn column_label(r: &Read) -> String {
    match &r.container {
        Some(c) => c.label(),
        None => r.ns.label(),
    }
}

/// The ss table with a leading Netns column. The table is laid out once over every
/// namespace's sockets, so columns line up across namespaces.
fn write_netns_table<W: Write>(
    w: &mut W,
    reads: &[Read],
    numeric: bool,
    opts: &TableOptions,
) -> io::Result<()> {
    let source = reads[0].snap.source;
    let sockets: Vec<_> = reads
        .iter()
        .flat_map(|r| r.snap.sockets.iter().cloned())
        .collect();
    let mut labels: Vec<String> = Vec::with_capacity(sockets.len() + 1);
    if opts.header {
        labels.push("Netns".into());
    }
    for r in reads {
        let l = escape(&column_label(r)).into_owned();
        labels.extend(std::iter::repeat_n(l, r.snap.sockets.len()));
    }
    let mut table = Vec::new();
    write_table(&mut table, &sockets, &CellCtx::new(numeric, source), opts)?;
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    // Every cell is escaped, so each row is exactly one line.
    for (line, label) in table.split_inclusive(|&b| b == b'\n').zip(&labels) {
        write!(w, "{label:<width$} ")?;
        w.write_all(line)?;
    }
    Ok(())
}

/// `-s`: one summary per namespace, headed by its label (text), or a JSON array of
/// `{"netns", "container", "summary"}`.
fn write_summaries<W: Write>(w: &mut W, reads: &[Read], json: bool) -> io::Result<()> {
    if json {
        w.write_all(b"[")?;
        for (i, r) in reads.iter().enumerate() {
            let mut one = Vec::new();
            Summary::new(&r.snap).write_json(&mut one)?;
            w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            w.write_all(b"{\"netns\":")?;
            serde_json::to_writer(&mut *w, &netns_json(&r.ns)).map_err(io::Error::from)?;
            w.write_all(b",\"container\":")?;
            serde_json::to_writer(&mut *w, &r.container.as_ref().map(container_json))
                .map_err(io::Error::from)?;
            w.write_all(b",\"summary\":")?;
            w.write_all(one.trim_ascii_end())?;
            w.write_all(b"}")?;
        }
        return w.write_all(b"\n]\n");
    }
    for (i, r) in reads.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        let label = column_label(r);
        if label == r.ns.label() && r.ns.name.is_none() {
            writeln!(w, "Netns {label}:")?;
        } else {
            writeln!(w, "Netns {} (net:[{}]):", escape(&label), r.ns.inode)?;
        }
        Summary::new(&r.snap).write_text(w)?;
    }
    Ok(())
}

fn reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EPERM) => {
            "entering needs CAP_SYS_ADMIN and no process of yours is inside".into()
        }
        _ => e.to_string(),
    }
}

/// One line naming the namespaces that could not be read, grouped by why.
fn unreadable_line(failed: &[(String, String)]) -> String {
    let mut by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
    for (label, why) in failed {
        match by_reason.iter_mut().find(|(r, _)| *r == why.as_str()) {
            Some((_, v)) => v.push(label),
            None => by_reason.push((why, vec![label])),
        }
    }
    let parts: Vec<String> = by_reason
        .iter()
        .map(|(why, labels)| format!("{} ({})", escape(&labels.join(", ")), escape(why)))
        .collect();
    format!(
        "{} network namespace(s) could not be read: {}",
        failed.len(),
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_namespaces_are_one_line_grouped_by_reason() {
        let f = vec![
            ("net:[1]".to_string(), "denied".to_string()),
            ("web".to_string(), "denied".to_string()),
            ("x\n".to_string(), "gone".to_string()),
        ];
        let l = unreadable_line(&f);
        assert_eq!(
            l,
            "3 network namespace(s) could not be read: net:[1], web (denied); x\\n (gone)"
        );
    }
}
