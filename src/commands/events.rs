//! `sockeye dump -E`: follow the kernel's sock_diag destroy events (as `ss -E`), one row
//! or one JSON line per destroyed socket, each flushed at once (a pipe too). Runs until
//! SIGINT, SIGTERM or a closed output; exit 0 then.
//!
//! Every flag and filter of dump applies; states default to every state (a destroyed socket
//! is reported in the state it had when freed: CLOSE, shown UNCONN as ss does). Events lost
//! to a full receive queue are counted from the socket's drop counter (SO_MEMINFO) and
//! reported, never lost silently.

use std::io::{self, IsTerminal, Write};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use anyhow::Context;

use crate::cli::DumpArgs;
use crate::collect::host::Host;
use crate::collect::netlink::events::{EventSource, RCVBUF_BYTES, Received, group_mask};
use crate::collect::{Query, SourcePref};
use crate::error::UsageError;
use crate::model::{Socket, Source};
use crate::output::columns::CellCtx;
use crate::output::json::{JsonOptions, SocketJson};
use crate::output::table::{TableOptions, TableRows};
use crate::selection::{Options, Request};
use crate::text;

pub fn run(args: &DumpArgs, no_config: bool) -> anyhow::Result<()> {
    let (query, numeric) = plan(args, no_config)?;
    let host = Host::current();
    let sock = host
        .open_diag_socket()
        .context("cannot open a netlink sock_diag socket")?;
    let mut source = EventSource::subscribe(sock, group_mask(&query), rcvbuf_bytes())
        .context("cannot subscribe to the sock_diag destroy events")?;
    if args.verbose {
        text::stderr_line(&format!(
            "receive buffer for events: {} bytes",
            source.rcvbuf
        ));
    }

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
    }

    let stdout = io::stdout();
    let is_tty = stdout.is_terminal();
    let opts = TableOptions {
        show_netid: query.netids.len() != 1,
        show_state: query.states.single().is_none(),
        header: false,
        processes: false,
        timers: args.options || args.extended,
        extended: args.extended,
        info: args.info,
        memory: false,
        screen_width: if is_tty { terminal_width() } else { None },
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
    if !args.json && !args.no_header {
        let header = TableOptions {
            header: true,
            ..opts
        };
        TableRows::new(CellCtx::new(numeric, Source::Netlink), header).write(&mut out)?;
        out.flush()?;
    }
    // One row at a time, measured alone against the header's widths (as ss -E lays it
    // out): the header line it writes is dropped.
    let with_header = TableOptions {
        header: true,
        ..opts
    };
    let mut row = TableRows::new(CellCtx::new(numeric, Source::Netlink), with_header);
    let mut line = Vec::with_capacity(512);

    let fd = source.fd();
    let mut drops = socket_drops(fd).unwrap_or(0);
    let mut events = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        events.clear();
        let got = source
            .recv(&query, &mut events)
            .context("cannot receive destroy events")?;
        let time = SystemTime::now();
        for s in &events {
            if args.json {
                write_json_event(&mut out, s, &json, time)?;
            } else {
                row.push(s);
                line.clear();
                row.write(&mut line)?;
                row.clear();
                let body = line.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1);
                out.write_all(&line[body..])?;
            }
            out.flush()?;
        }
        if got == Received::Overrun || events.is_empty() {
            // Quiet moments and overruns: report drops, notice a closed output.
            match socket_drops(fd) {
                Some(now) if now > drops => {
                    report_lost(&mut out, args.json, now - drops, time)?;
                    drops = now;
                }
                Some(_) => {}
                // No drop counter (a kernel before SO_MEMINFO): say so without a count.
                None if got == Received::Overrun => report_lost(&mut out, args.json, 0, time)?,
                None => {}
            }
            if output_closed(&out) {
                return Ok(());
            }
        }
    }
    let now = socket_drops(fd).unwrap_or(drops);
    if now > drops {
        report_lost(&mut out, args.json, now - drops, SystemTime::now())?;
    }
    Ok(())
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
fn plan(args: &DumpArgs, no_config: bool) -> anyhow::Result<(Query, bool)> {
    let config = crate::config::load(no_config).map_err(UsageError::from)?;
    let selection = Request::from_args(&args.select, &config, Options::EVENTS)?.resolve()?;
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
    if args.select.unix && !args.quiet {
        text::stderr_line(
            "the kernel sends no destroy events for unix sockets; following TCP/UDP only",
        );
    }
    query.tcp_info = args.info;
    Ok((query, selection.numeric))
}

/// One event as one JSON line: dump's object with `event` and `time` first.
fn write_json_event(
    w: &mut impl Write,
    s: &Socket,
    opts: &JsonOptions,
    time: SystemTime,
) -> io::Result<()> {
    let body = serde_json::to_vec(&SocketJson {
        s,
        source: Source::Netlink,
        opts,
    })
    .map_err(io::Error::from)?;
    write!(w, "{{\"event\":\"destroy\",\"time\":\"{}\"", rfc3339(time))?;
    match body.strip_prefix(b"{") {
        Some(rest) if rest != b"}" => {
            w.write_all(b",")?;
            w.write_all(rest)?;
        }
        _ => w.write_all(b"}")?,
    }
    w.write_all(b"\n")
}

/// Events the kernel dropped: one line on stderr, and a JSON line in JSON mode. `count` 0:
/// the kernel said it dropped some but the count is unknown (no drop counter).
fn report_lost(w: &mut impl Write, json: bool, count: u64, time: SystemTime) -> io::Result<()> {
    let what = if count == 0 {
        "some destroy events (count unknown)".to_string()
    } else {
        format!("{count} destroy event(s)")
    };
    text::stderr_line(&format!(
        "the kernel dropped {what}: its receive queue for sockeye was full"
    ));
    if json {
        writeln!(
            w,
            "{{\"event\":\"lost\",\"time\":\"{}\",\"count\":{}}}",
            rfc3339(time),
            if count == 0 {
                "null".to_string()
            } else {
                count.to_string()
            }
        )?;
        w.flush()?;
    }
    Ok(())
}

/// Messages the kernel dropped for this socket so far (SK_MEMINFO_DROPS).
fn socket_drops(fd: i32) -> Option<u64> {
    let mut v = [0u32; 9];
    let mut len = std::mem::size_of_val(&v) as libc::socklen_t;
    // SAFETY: a valid fd and a pointer/length pair describing `v`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_MEMINFO,
            v.as_mut_ptr().cast(),
            &mut len,
        )
    };
    (rc == 0 && len as usize >= std::mem::size_of_val(&v)).then(|| u64::from(v[8]))
}

/// The reader of our stdout went away (a pipe whose reader closed reports POLLERR), so a
/// quiet stream still ends instead of waiting for the next event to fail its write.
fn output_closed(out: &impl AsRawFd) -> bool {
    let mut p = libc::pollfd {
        fd: out.as_raw_fd(),
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let rc = unsafe { libc::poll(&mut p, 1, 0) };
    rc > 0 && p.revents & (libc::POLLERR | libc::POLLHUP) != 0
}

/// `time` as RFC 3339 UTC with milliseconds (no time crate: days to a civil date).
pub fn rfc3339(time: SystemTime) -> String {
    let d = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

fn terminal_width() -> Option<usize> {
    let ws = crossterm::terminal::window_size().ok()?;
    (ws.columns > 0).then_some(usize::from(ws.columns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_of_known_instants() {
        let at = |s: u64, ms: u64| {
            rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(s) + Duration::from_millis(ms))
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(1_796_169_173, 250), "2026-12-01T23:52:53.250Z");
    }

    #[test]
    fn lost_line_is_json_with_a_count() {
        let mut v = Vec::new();
        report_lost(&mut v, true, 3, SystemTime::UNIX_EPOCH).unwrap();
        let j: serde_json::Value = serde_json::from_slice(&v).unwrap();
        assert_eq!(j["event"], "lost");
        assert_eq!(j["count"], 3);
    }
}
