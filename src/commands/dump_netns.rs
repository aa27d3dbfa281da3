//! `sockeye dump -N NAME` and `--all-netns`: which namespaces are read, each through its own
//! [`Host`], and what is added to the output: a `netns` (and `container`) object on every
//! JSON socket, a Netns column in the table when it spans every namespace, a summary per
//! namespace under `-s`. A namespace that vanishes while it is read is dropped quietly; one
//! that cannot be read is named in a single line on stderr, and the others are still shown.

use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use anyhow::Context;

use crate::cli::DumpArgs;
use crate::collect::all_netns::tag_of;
use crate::collect::namespaces::{self, Netns};
use crate::collect::{Collector, Host, Query};
use crate::model::{NetnsReads, NetnsTag, Socket};
use crate::output::columns::CellCtx;
use crate::output::json::{ContainerJson, JsonOptions, NetnsJson, write_json};
use crate::output::summary::Summary;
use crate::output::table::{TableOptions, ss_order, write_table};
use crate::text::{escape, stderr_line};

/// The namespace `-N` names (as the tag its sockets carry) and a host reading it; without
/// `-N`, this process's own.
pub fn host_for(args: &DumpArgs) -> anyhow::Result<(Option<Arc<NetnsTag>>, Host)> {
    let Some(arg) = &args.net else {
        return Ok((None, Host::current()));
    };
    let ns: Netns = namespaces::resolve(arg).map_err(usage_or_not)?;
    let host = ns
        .host()
        .with_context(|| format!("cannot enter network namespace {}", escape(&ns.label())))?;
    Ok((Some(Arc::new(tag_of(&ns))), host))
}

/// A `-N` argument's error: a usage error (exit 2) when what was typed cannot name a
/// network namespace.
pub fn usage_or_not(e: namespaces::NetnsError) -> anyhow::Error {
    if e.is_usage() {
        crate::error::UsageError(e.to_string()).into()
    } else {
        e.into()
    }
}

/// A collector of `host`, tagging every socket with `-N`'s namespace when there is one.
pub fn collector(query: Query, host: Host, tag: Option<Arc<NetnsTag>>) -> Collector {
    match tag {
        Some(t) => Collector::in_netns(query, host, t),
        None => Collector::on_host(query, host),
    }
}

/// `--all-netns`: one snapshot spanning every namespace (one collector per namespace, one
/// process scan), then the table with a leading Netns column, the JSON array with `netns`
/// and `container` on each socket, or `-s` per namespace and in total.
pub fn run_all(
    args: &DumpArgs,
    query: Query,
    numeric: bool,
    opts: TableOptions,
) -> anyhow::Result<()> {
    let mut snap = Collector::all_netns(query)
        .snapshot()
        .context("cannot read the socket tables")?;
    let reads = snap.netns.clone().unwrap_or_default();
    if !reads.unreadable.is_empty() && !args.quiet {
        stderr_line(&unreadable_line(&reads.unreadable));
    }
    if reads.read.is_empty() {
        anyhow::bail!("no network namespace could be read");
    }
    if args.processes
        && !args.quiet
        && let Some(note) = &snap.process_note
    {
        stderr_line(&format!("sockeye: {note}"));
    }
    // ss's order within each namespace; namespaces stay in the order they were listed.
    let mut at = 0;
    for r in &reads.read {
        ss_order(&mut snap.sockets[at..at + r.sockets]);
        at += r.sockets;
    }
    let mut w = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    if args.summary {
        write_summaries(&mut w, &reads, &snap.sockets, args.json)?;
    } else if args.json {
        write_json(&mut w, &snap.sockets, snap.source, &json_options(args))?;
    } else {
        let opts = TableOptions {
            netns: true,
            ..opts
        };
        let ctx = CellCtx::new(numeric, snap.source);
        write_table(&mut w, &snap.sockets, &ctx, &opts)?;
    }
    w.flush()?;
    Ok(())
}

pub fn json_options(args: &DumpArgs) -> JsonOptions {
    JsonOptions {
        timers: args.options || args.extended || args.bpf,
        processes: args.processes,
        info: args.info,
        memory: args.memory,
        details: args.extended || args.cgroup || args.tos || args.inet_sockopt,
        threads: args.threads,
        tipcinfo: args.tipcinfo,
    }
}

/// `-s`: one summary per namespace, headed by its label, then the total over all of them
/// (text); or a JSON object `{"namespaces": [{"netns", "container", "summary"}], "total"}`.
fn write_summaries<W: Write>(
    w: &mut W,
    reads: &NetnsReads,
    sockets: &[Socket],
    json: bool,
) -> io::Result<()> {
    let mut at = 0;
    let parts: Vec<Summary> = reads
        .read
        .iter()
        .map(|r| {
            let part = Summary::of_netns(r, &sockets[at..at + r.sockets]);
            at += r.sockets;
            part
        })
        .collect();
    let total = Summary::total(&parts);
    if json {
        w.write_all(b"{\"namespaces\":[")?;
        for (i, (r, part)) in reads.read.iter().zip(&parts).enumerate() {
            let mut one = Vec::new();
            part.write_json(&mut one)?;
            w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            w.write_all(b"{\"netns\":")?;
            serde_json::to_writer(&mut *w, &NetnsJson(&r.tag)).map_err(io::Error::from)?;
            w.write_all(b",\"container\":")?;
            serde_json::to_writer(&mut *w, &r.tag.container.as_ref().map(ContainerJson))
                .map_err(io::Error::from)?;
            w.write_all(b",\"summary\":")?;
            w.write_all(one.trim_ascii_end())?;
            w.write_all(b"}")?;
        }
        w.write_all(b"\n],\"total\":")?;
        total.write_json(w)?;
        return w.write_all(b"}\n");
    }
    for (r, part) in reads.read.iter().zip(&parts) {
        let t = &r.tag;
        if t.container.is_none() && t.name.is_none() {
            writeln!(w, "Netns {}:", t.label)?;
        } else {
            writeln!(w, "Netns {} (net:[{}]):", escape(&t.label), t.inode)?;
        }
        part.write_text(w)?;
        writeln!(w)?;
    }
    writeln!(w, "All {} network namespaces:", reads.read.len())?;
    total.write_text(w)
}

/// One line naming the namespaces that could not be read, grouped by why.
pub fn unreadable_line(failed: &[(String, String)]) -> String {
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
