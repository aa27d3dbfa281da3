//! `dump -D FILE` (write the raw TCP sock_diag answer, as ss -D) and `TCPDIAG_FILE=FILE`
//! (read TCP sockets from such a file instead of the kernel, as ss does in iproute2's own
//! tests). The format is [`crate::collect::netlink::diagfile`]'s.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::collect::netlink::diagfile;
use crate::collect::{Collector, Host, NetidSet, Query};
use crate::error::UsageError;
use crate::model::{Netid, Snapshot};

/// The largest file read: about 2 million sockets' worth of bare messages.
const FILE_LIMIT: u64 = 256 << 20;

/// `TCPDIAG_FILE`, when set (and not empty).
pub fn file_from_env() -> Option<PathBuf> {
    std::env::var_os("TCPDIAG_FILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `-D FILE`: dump TCP (the selection's states and filter) and write every message.
pub fn write_diag(path: &Path, query: &Query, host: Host) -> anyhow::Result<()> {
    if !query.netids.contains(Netid::Tcp) {
        return Err(UsageError("-D writes the TCP table, and TCP is not selected".into()).into());
    }
    let mut tcp = query.clone();
    tcp.netids = NetidSet::of(&[Netid::Tcp]);
    tcp.processes = false;
    tcp.counters = false;
    let mut source = host.open_netlink().context("-D needs netlink sock_diag")?;
    source.set_recording(true);
    let mut sockets = Vec::new();
    let mut warnings = Vec::new();
    source
        .dump(&tcp, &mut sockets, &mut warnings, &mut 0)
        .context("cannot dump the TCP table")?;
    let bytes = diagfile::from_recording(&source.take_recording(), &tcp);
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)?;
        out.flush()?;
    } else {
        std::fs::write(path, &bytes).with_context(|| {
            format!(
                "cannot write {}",
                crate::text::escape(&path.display().to_string())
            )
        })?;
    }
    Ok(())
}

/// A snapshot whose TCP sockets come from `path` and every other selected table from the
/// host. The query's filter and states apply to the file's sockets too; processes are not
/// attributed to them (they may come from another machine).
pub fn snapshot_with_file(collector: &mut Collector, path: &Path) -> anyhow::Result<Snapshot> {
    let shown = crate::text::escape(&path.display().to_string()).into_owned();
    let bytes = read_file(path).with_context(|| format!("TCPDIAG_FILE {shown}"))?;
    let query = collector.query().clone();
    let others = NetidSet::of_kinds(|n| n != Netid::Tcp && query.netids.contains(n));
    let mut snap = if others.is_empty() {
        Snapshot::new(
            std::time::SystemTime::now(),
            crate::model::Source::Netlink,
            Vec::new(),
            None,
        )
    } else {
        let mut q = query.clone();
        q.netids = others;
        collector.set_query(q);
        let snap = collector
            .snapshot()
            .context("cannot read the socket tables");
        collector.set_query(query.clone());
        snap?
    };
    if query.netids.contains(Netid::Tcp) {
        let mut q = query;
        if q.details && q.cgroups.is_none() {
            q.cgroups = Some(std::sync::Arc::new(
                crate::collect::cgroups::CgroupNames::load(collector.host()),
            ));
        }
        diagfile::read(&bytes, &q, &mut snap.sockets)
            .map_err(|e| anyhow::anyhow!("TCPDIAG_FILE {shown}: {e}"))?;
    }
    Ok(snap)
}

/// A regular file only, opened without blocking: `TCPDIAG_FILE=FIFO` waited for a writer
/// forever, and a device was read up to the limit.
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = crate::input::open_regular(path)?;
    if f.metadata()?.len() > FILE_LIMIT {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            FILE_LIMIT >> 20
        )));
    }
    let mut bytes = Vec::new();
    f.take(FILE_LIMIT + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > FILE_LIMIT {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            FILE_LIMIT >> 20
        )));
    }
    Ok(bytes)
}
