//! `sockeye export`: validate the arguments, start the collector and the HTTP server, and
//! run until SIGINT or SIGTERM.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::cli::{ExportArgs, SelectArgs};
use crate::collect::netlink::events::{EventSource, RCVBUF_BYTES, Received, group_mask};
use crate::collect::{Collector, Host, Query};
use crate::error::UsageError;
use crate::export::cache::{Cache, Collected};
use crate::export::closed::{CloseSource, ClosedCounter};
use crate::export::server::{Exporter, ServeOptions};
use crate::findings::history::{Coverage, History};
use crate::model::{Netid, NetidSet, StateSet, TcpState};
use crate::selection::{Options, Request};
use crate::text::stderr_line;

/// The findings' window: the collections of the last five minutes (one per scrape, at most
/// once per --interval).
const FINDINGS_SPAN: Duration = Duration::from_secs(300);

/// Request-handling threads: enough for Prometheus plus a curl or two.
const HTTP_THREADS: usize = 4;
/// Below this many file descriptors the exporter counts closes from snapshots.
const MIN_FDS_FOR_EVENTS: libc::rlim_t = 64;
/// The least time between two looks at the listeners from the events thread.
const LISTENER_REFRESH: Duration = Duration::from_millis(100);

pub fn run(args: &ExportArgs, no_config: bool) -> anyhow::Result<()> {
    let addr = listen_addr(&args.listen)?;
    let interval = seconds("--interval", args.interval, 0.0)?;
    let deadline = seconds("--timeout", args.timeout, 0.05)?;
    if let Some(warning) = exposure_warning(addr) {
        stderr_line(&format!("warning: {warning}"));
    }

    // Register before anything can block, so a signal during start-up is not lost.
    let mut signals =
        Signals::new([SIGINT, SIGTERM]).context("cannot install the SIGINT/SIGTERM handlers")?;

    // Every table and state (the exporter takes no filter), through the one selection: the
    // configuration file is read (and a bad one reported) as by every front end, unless
    // --no-config. No key of it changes the metrics today.
    let config = crate::config::load(no_config).map_err(UsageError::from)?;
    let select = SelectArgs {
        source: args.source,
        ..SelectArgs::default()
    };
    let mut query = Request::from_args(&select, &config, Options::EXPORT)?
        .resolve()?
        .query;
    query.processes = !args.no_processes;
    query.counters = true;
    // Socket memory names the UDP socket that drops (the findings' udp-receive-drops).
    query.memory = true;
    // The findings look at the scrapes of the last minutes (a trend needs two).
    let mut history = History::new(
        FINDINGS_SPAN,
        Coverage::of_query(&query, false),
        config.findings.thresholds(),
    );
    let closed = count_closes(args.top_ports);
    let closed_seen = Arc::clone(&closed);
    let mut collector = if args.all_netns {
        Collector::all_netns(query)
    } else {
        Collector::new(query)
    };
    let mut told_unreadable = false;
    let (mut told_fallback, mut told_processes) = (false, false);
    let cache = Cache::start(interval, move || {
        let snap = collector.snapshot().map_err(|e| e.to_string())?;
        closed_seen.observe(&snap);
        // Each notice once, not once per scrape.
        if let Some(reason) = &snap.fallback_reason
            && !std::mem::replace(&mut told_fallback, true)
        {
            stderr_line(&format!(
                "netlink unavailable ({reason}); reading /proc/net instead"
            ));
        }
        if let Some(note) = &snap.process_note
            && !std::mem::replace(&mut told_processes, true)
        {
            stderr_line(note);
        }
        if let Some(reads) = &snap.netns
            && !reads.unreadable.is_empty()
            && !std::mem::replace(&mut told_unreadable, true)
        {
            stderr_line(&super::dump_netns::unreadable_line(&reads.unreadable));
        }
        let (findings, snapshot) = history.observe(snap);
        Ok(Collected { snapshot, findings })
    })
    .context("cannot start the collector thread")?;

    let exporter = Exporter::start(
        addr,
        Arc::new(cache),
        ServeOptions {
            deadline,
            top_ports: args.top_ports,
            top_netns: args.top_netns,
            threads: HTTP_THREADS,
            closed: Some(closed),
        },
    )?;
    // Tests and scripts read the bound address (port 0 picks a free one) from this line.
    stderr_line(&format!("serving http://{}/metrics", exporter.addr()));

    if let Some(sig) = signals.forever().next() {
        let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
        stderr_line(&format!("{name} received, stopping"));
    }
    exporter.shutdown();
    Ok(())
}

/// Count closed TCP connections from the destroy events on a thread of their own; when the
/// subscription is refused (or fails later), from snapshot comparison, said once.
fn count_closes(limit: usize) -> Arc<ClosedCounter> {
    let mut query = Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        ..Query::default()
    };
    query.tcp_info = false;
    // The events thread keeps two descriptors; under a very low RLIMIT_NOFILE they are the
    // server's and the collector's to have.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    let low = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0
        && lim.rlim_cur < MIN_FDS_FOR_EVENTS;
    let source = if low {
        Err(std::io::Error::other(format!(
            "RLIMIT_NOFILE {} is below {MIN_FDS_FOR_EVENTS}",
            lim.rlim_cur
        )))
    } else {
        Host::current()
            .open_diag_socket()
            .and_then(|s| EventSource::subscribe(s, group_mask(&query), RCVBUF_BYTES))
    };
    let mut source = match source {
        Ok(s) => s,
        Err(e) => {
            stderr_line(&format!(
                "no destroy events ({e}); closed connections are counted by comparing snapshots"
            ));
            return Arc::new(ClosedCounter::new(CloseSource::Snapshots, limit));
        }
    };
    let counter = Arc::new(ClosedCounter::new(CloseSource::Events, limit));
    let c = Arc::clone(&counter);
    let mut listeners = Collector::new(Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        states: StateSet::of(&[TcpState::Listen]),
        ..Query::default()
    });
    let mut refreshed: Option<Instant> = None;
    let spawned = std::thread::Builder::new()
        .name("sockeye-events".into())
        .spawn(move || {
            let mut events = Vec::new();
            let mut drops = source.drops().unwrap_or(0);
            loop {
                events.clear();
                match source.recv(&query, &mut events) {
                    Ok(Received::Overrun | Received::Empty) => {
                        if let Some(now) = source.drops() {
                            c.lost(now.saturating_sub(drops));
                            drops = now;
                        }
                    }
                    Ok(Received::Events) => {
                        for e in &events {
                            let Some(ending) = e.ending else { continue };
                            // A close no known listener explains: perhaps a service that
                            // just started; look again (at most ten times a second).
                            if !c.knows_service_of(&e.socket)
                                && refreshed.is_none_or(|t| t.elapsed() >= LISTENER_REFRESH)
                                && let Ok(snap) = listeners.snapshot()
                            {
                                c.set_listeners(snap.sockets.iter().filter_map(|s| s.local_port()));
                                refreshed = Some(Instant::now());
                            }
                            c.record(&e.socket, ending);
                        }
                    }
                    Err(e) => {
                        stderr_line(&format!(
                            "destroy events failed ({e}); closed connections are counted by \
                             comparing snapshots from now on"
                        ));
                        c.fall_back_to_snapshots();
                        return;
                    }
                }
            }
        });
    if spawned.is_err() {
        counter.fall_back_to_snapshots();
    }
    counter
}

/// Serving beyond loopback was asked for explicitly, but deserves a word: the metrics name
/// this host's listeners, ports and processes.
fn exposure_warning(addr: SocketAddr) -> Option<String> {
    let ip = addr.ip();
    let loopback = ip.is_loopback()
        || matches!(ip, std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()));
    (!loopback).then(|| {
        format!(
            "serving metrics on {addr}, which is not loopback: whoever can reach it sees this \
             host's listeners, ports and process names"
        )
    })
}

/// `ADDR:PORT`, an IPv6 address in brackets, or a host name that resolves.
fn listen_addr(s: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let bad = |why: String| {
        UsageError(format!(
            "invalid --listen '{s}': {why} (e.g. 127.0.0.1:9977 or [::1]:9977)"
        ))
    };
    let mut addrs = s.to_socket_addrs().map_err(|e| bad(e.to_string()))?;
    Ok(addrs
        .next()
        .ok_or_else(|| bad("resolves to no address".into()))?)
}

fn seconds(flag: &str, v: f64, min: f64) -> anyhow::Result<Duration> {
    if !v.is_finite() || v < min || v > 86_400.0 {
        return Err(UsageError(format!(
            "invalid {flag} {}: give seconds between {min} and 86400",
            crate::error::shown_number(v)
        ))
        .into());
    }
    Ok(Duration::from_secs_f64(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(listen_addr("127.0.0.1:9977").unwrap().port(), 9977);
        assert!(listen_addr("[::1]:0").unwrap().ip().is_loopback());
        for bad in ["", "127.0.0.1", "1.2.3.4:99999", "nonsense"] {
            let err = listen_addr(bad).unwrap_err();
            assert_eq!(crate::error::exit_code(&err), 2, "{bad}");
        }
    }

    #[test]
    fn warns_beyond_loopback_only() {
        for quiet in [
            "127.0.0.1:9977",
            "127.0.0.2:1",
            "[::1]:9977",
            "[::ffff:127.0.0.1]:1",
        ] {
            assert_eq!(exposure_warning(quiet.parse().unwrap()), None, "{quiet}");
        }
        for loud in ["0.0.0.0:9977", "10.0.0.5:9977", "[::]:9977", "[fe80::1]:1"] {
            let w = exposure_warning(loud.parse().unwrap());
            assert!(w.is_some_and(|w| w.contains("not loopback")), "{loud}");
        }
    }

    #[test]
    fn second_ranges() {
        assert!(seconds("--interval", 0.0, 0.0).is_ok());
        assert!(seconds("--interval", -1.0, 0.0).is_err());
        assert!(seconds("--interval", f64::NAN, 0.0).is_err());
        assert!(seconds("--timeout", 0.0, 0.05).is_err());
    }
}
