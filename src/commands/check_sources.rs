//! Where `sockeye check` reads its window from besides the host's own tables: one network
//! namespace (`-N`), every namespace (`--all-netns`, each checked on its own and every
//! finding named by its namespace and container), or a recording (`--from`, the frames of a
//! recorded window).

use std::path::Path;

use anyhow::Context;

use super::check::{Checked, SAMPLES, keep, watch};
use crate::cli::CheckArgs;
use crate::collect::namespaces::{self, Netns};
use crate::collect::{Collector, Query, container};
use crate::error::UsageError;
use crate::findings::Thresholds;
use crate::findings::history::{Coverage, distill_with};
use crate::findings::render::InNetns;
use crate::model::Snapshot;
use crate::record::reader::Recording;
use crate::record::when::{format_rfc3339, parse_moment};
use crate::text::{escape, stderr_line};

/// Frames of a recorded window looked at, at most (spread evenly; the last always).
const MAX_FRAMES: usize = 60;

fn in_netns(ns: &Netns) -> InNetns {
    InNetns {
        label: escape(&ns.label()).into_owned(),
        inode: ns.inode,
        container: ns
            .pids
            .iter()
            .find_map(|&p| container::of_pid(p))
            .map(|c| escape(&c.label()).into_owned()),
    }
}

/// `-N NAME`.
pub fn one_netns(
    args: &CheckArgs,
    name: &str,
    query: &Query,
    coverage: Coverage,
    t: &Thresholds,
) -> anyhow::Result<Checked> {
    let ns = namespaces::resolve(name).map_err(super::dump_netns::usage_or_not)?;
    let host = ns
        .host()
        .with_context(|| format!("cannot enter network namespace {}", escape(&ns.label())))?;
    let mut collector = Collector::on_host(query.clone(), host);
    let snaps = watch(args.window, |i| {
        let snap = collector.snapshot().with_context(|| {
            format!(
                "cannot read the socket tables of network namespace {}",
                escape(&ns.label())
            )
        })?;
        Ok(Some(keep(i, snap)))
    })?;
    Ok(Checked::of(&snaps, coverage, t, Some(in_netns(&ns))))
}

/// `--all-netns`: every namespace watched over the same window, each on its own. One that
/// cannot be entered is named in one line on stderr; one that vanishes is dropped quietly.
pub fn all_netns(
    args: &CheckArgs,
    query: &Query,
    coverage: Coverage,
    t: &Thresholds,
) -> anyhow::Result<Vec<Checked>> {
    struct Watched {
        ns: Netns,
        collector: Collector,
        snaps: Vec<Snapshot>,
        gone: bool,
    }
    let mut failed: Vec<String> = Vec::new();
    let mut watched: Vec<Watched> = Vec::new();
    for ns in namespaces::enumerate() {
        match ns.host() {
            Ok(host) => watched.push(Watched {
                collector: Collector::on_host(query.clone(), host),
                ns,
                snaps: Vec::new(),
                gone: false,
            }),
            Err(_) if !ns.still_there() => {}
            Err(e) => failed.push(format!("{} ({e})", escape(&ns.label()))),
        }
    }
    watch(args.window, |i| {
        for w in watched.iter_mut().filter(|w| !w.gone) {
            match w.collector.snapshot() {
                Ok(snap) => w.snaps.push(keep(i, snap)),
                Err(_) if !w.ns.still_there() => w.gone = true,
                Err(e) => {
                    failed.push(format!("{} ({e})", escape(&w.ns.label())));
                    w.gone = true;
                }
            }
        }
        Ok(Some(()))
    })?;
    if !failed.is_empty() {
        stderr_line(&format!(
            "cannot check {} network namespace(s): {}",
            failed.len(),
            failed.join(", ")
        ));
    }
    let checked: Vec<Checked> = watched
        .iter()
        .filter(|w| !w.gone && w.snaps.len() == SAMPLES as usize)
        .map(|w| Checked::of(&w.snaps, coverage, t, Some(in_netns(&w.ns))))
        .collect();
    if checked.is_empty() {
        anyhow::bail!("no network namespace could be checked");
    }
    Ok(checked)
}

/// `--from FILE`: the window of the recording ending at `--at` (default its last frame),
/// `--window` seconds long, or `--between T1 T2`.
pub fn recording(
    args: &CheckArgs,
    path: &Path,
    query: &Query,
    coverage: Coverage,
    t: &Thresholds,
) -> anyhow::Result<Checked> {
    let rec = crate::record::dump::open(path)?;
    let (from, to) = window_of(args, &rec)?;
    if to <= from {
        return Err(UsageError(format!(
            "the window holds one frame of the recording (taken every {:.1} s): widen \
             --window or --between",
            rec.header.interval.as_secs_f64()
        ))
        .into());
    }
    let picked = spread(from, to, MAX_FRAMES);
    let last = picked.len() - 1;
    let snaps = picked
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let mut snap = rec.moment(i)?;
            snap.sockets
                .retain(|s| crate::record::dump::wanted(query, s));
            Ok(if k == last {
                snap
            } else {
                distill_with(&snap, k == 0)
            })
        })
        .collect::<Result<Vec<Snapshot>, crate::record::ReadError>>()?;
    Ok(Checked::of(&snaps, coverage, t, None))
}

/// First and last frame of the window asked for.
fn window_of(args: &CheckArgs, rec: &Recording) -> anyhow::Result<(usize, usize)> {
    let frame = |t: &str| -> anyhow::Result<usize> {
        let at = parse_moment(t, rec.start()).map_err(UsageError)?;
        rec.frame_at(at).ok_or_else(|| {
            UsageError(format!(
                "{} is before the recording starts ({})",
                escape(t),
                format_rfc3339(rec.start())
            ))
            .into()
        })
    };
    if let Some(between) = &args.between {
        let [t1, t2] = between.as_slice() else {
            return Err(UsageError("--between takes two times: T1 T2".into()).into());
        };
        // T1 names the first frame at or after it; T2 the last at or before it.
        let to = frame(t2)?;
        let at1 = parse_moment(t1, rec.start()).map_err(UsageError)?;
        let from = rec.entries().partition_point(|f| f.at < at1);
        if from > to {
            return Err(UsageError(format!(
                "--between: {} is before {} (or no frame lies between them)",
                escape(t2),
                escape(t1)
            ))
            .into());
        }
        return Ok((from, to));
    }
    let to = match &args.at {
        Some(t) => frame(t)?,
        None => rec.len().saturating_sub(1),
    };
    let Some(end) = rec.entries().get(to).map(|f| f.at) else {
        return Err(UsageError("the recording holds no frame".into()).into());
    };
    let span = std::time::Duration::from_secs_f64(args.window);
    let from = rec.entries()[..=to]
        .partition_point(|f| end.duration_since(f.at).is_ok_and(|age| age > span));
    Ok((from, to))
}

/// At most `max` indices from `from` to `to`, evenly spread, both ends included.
fn spread(from: usize, to: usize, max: usize) -> Vec<usize> {
    let n = to - from + 1;
    if n <= max {
        return (from..=to).collect();
    }
    let mut v: Vec<usize> = (0..max).map(|k| from + k * (n - 1) / (max - 1)).collect();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_both_ends_and_the_bound() {
        assert_eq!(spread(3, 5, 60), vec![3, 4, 5]);
        let v = spread(0, 599, 60);
        assert_eq!(v.len(), 60);
        assert_eq!((v[0], v[59]), (0, 599));
        assert!(v.windows(2).all(|w| w[1] > w[0]));
    }
}
