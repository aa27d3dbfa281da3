//! The other commands: demo scenarios, metrics and HTTP limits, recordings, escaping, findings.

use super::Page;

pub(super) fn demo_scenarios(page: &mut Page) {
    page.section("DEMO SCENARIOS").para(
        "sockeye demo runs the classic socket experiments on loopback, each on its own port, \
         with its clients built in. Every scenario has hard caps on sockets and rates, and no \
         traffic leaves the bound address (127.0.0.1 unless --bind and --allow-non-loopback \
         say otherwise).",
    );
    // From the registry: every scenario documents itself.
    for kind in crate::demo::scenarios::all() {
        let spec = kind.spec();
        let mut text = spec.man.to_string();
        for c in spec.commands {
            text.push_str(&format!(
                " Command {} ({{\"cmd\":\"do\",\"scenario\":\"{}\",\"action\":\"{}\"}}): {}",
                c.name, spec.name, c.name, c.help
            ));
        }
        page.item(spec.name, &text);
    }
    page.para(
        "The running demo listens on a control socket; sockeye attach finds it, opens the \
         live view scoped to the demo's sockets with a panel explaining each scenario, and \
         drives the demo from the keyboard: connect a client, send bytes, close clients, \
         pause or resume accepting, change the churn rate. Quitting attach leaves the demo \
         running; SIGINT or SIGTERM stops the demo and removes its sockets and control file.",
    );
    page.para(
        "The caps hold whatever requests arrive: each scenario opens new connections at no more \
         than its rate cap, its schedule, add requests and replacements counted together \
         (time-wait 200 per second, every other scenario 10), after a first burst of at most \
         its client cap; no sequence of requests multiplies a rate. A control request must \
         arrive whole within 3 seconds of its first byte, and at most 8 control connections \
         are served at once.",
    );
    page.para(
        "sockeye attach talks to a control socket only when it is the user's own: the \
         directory and the socket are not symbolic links and belong to the user (the \
         directory may also be root's), the directory is not writable by others unless \
         sticky, and the process listening on the socket runs as the user (SO_PEERCRED). \
         Otherwise it says why and exits with status 1 before sending anything.",
    );
}

/// METRICS: written from what the exporter itself serves for a small synthetic snapshot (one
/// listener, every counter known), so the page lists exactly the metrics, types, labels and
/// help texts of the code.
pub(super) fn metrics(page: &mut Page) {
    page.section("METRICS").para(
        "sockeye export serves these at /metrics in the OpenMetrics text format. Every \
         scrape reads a fresh snapshot or reuses one younger than --interval. Port labels \
         of the CLOSE-WAIT and TIME-WAIT families name the service port (the local port \
         when a listener holds it, else the peer's) and are bounded: the --top-ports \
         busiest ports, the rest summed under port=\"other\". Closed connections are counted from \
         the kernel's destroy events (a thread of their own, from the start) under their \
         service port (the local port when a listener holds it, else the peer's; the first \
         --top-ports ports seen get a series, later ones count under port=\"other\") and \
         reason (orderly, reset, timeout, refused, aborted, unknown: see DESTROY EVENTS); \
         when the kernel refuses the subscription, from consecutive snapshots compared \
         (reason unknown, connections shorter than the interval missed), which \
         sockeye_closed_source_info says.",
    );
    for family in metric_families() {
        let mut tag = family.sample_name.clone();
        if !family.labels.is_empty() {
            tag.push_str(&format!("{{{}}}", family.labels.join(",")));
        }
        page.item(&tag, &format!("{} ({})", family.help, family.kind));
    }
    page.subsection("HTTP limits").para(&http_limits());
}

/// The exporter's HTTP bounds, with the figures taken from the server's constants.
pub(super) fn http_limits() -> String {
    use crate::export::request::{MAX_HEAD, MAX_HEADERS, MAX_REQUEST_LINE};
    use crate::export::server::{
        FD_RESERVE, HEAD_TIMEOUT, IDLE_TIMEOUT, MAX_CONNECTIONS, MIN_CONNECTIONS, WRITE_TIMEOUT,
    };
    format!(
        "Only GET and HEAD of /metrics are answered (404 for another path, 405 for another \
         method), over HTTP/1.0 and 1.1 with keep-alive and pipelining. At most \
         {MAX_CONNECTIONS} connections are open (fewer under a low RLIMIT_NOFILE: the limit \
         minus {FD_RESERVE}, at least {MIN_CONNECTIONS}); one more closes the oldest idle connection, or gets 503 when \
         every one is being answered. A request head must arrive whole within {head} s of \
         its first byte however it trickles in (else 408), an answer must be taken by the \
         client within {write} s, and a connection without a request closes after {idle} s. \
         A request line over {line} KiB is refused with 414, a head over {headk} KiB or \
         with more than {MAX_HEADERS} fields with 431, an HTTP version other than 1.0 and \
         1.1 with 505, anything malformed with 400; each closes the connection, and so does \
         a request with a body (bodies are not read). When file descriptors run out, idle \
         connections are closed and accepting goes on. One thread serves every connection \
         and a fixed pool of a few more answers scrapes.",
        head = HEAD_TIMEOUT.as_secs(),
        write = WRITE_TIMEOUT.as_secs(),
        idle = IDLE_TIMEOUT.as_secs(),
        line = MAX_REQUEST_LINE / 1024,
        headk = MAX_HEAD / 1024,
    )
}

pub(super) struct MetricFamily {
    pub(super) sample_name: String,
    pub(super) kind: String,
    pub(super) help: String,
    pub(super) labels: Vec<String>,
}

pub(super) fn metric_families() -> Vec<MetricFamily> {
    use crate::model::{Endpoint, KernelCounters, Netid, Snapshot, Socket, Source, TcpState};
    use std::net::{IpAddr, Ipv4Addr};

    let counters = KernelCounters {
        listen_overflows: Some(0),
        listen_drops: Some(0),
        retrans_segs: Some(0),
        somaxconn: Some(4096),
        tcp_max_tw_buckets: Some(1),
        ip_local_port_range: Some((32768, 60999)),
        ..KernelCounters::default()
    };
    let listener = Socket {
        recv_q: Some(0),
        send_q: Some(1),
        inode: 1,
        uid: Some(0),
        ..Socket::new(
            Netid::Tcp,
            TcpState::Listen,
            Endpoint::Inet {
                addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
                port: 80,
            },
            Endpoint::Inet {
                addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                port: 0,
            },
        )
    };
    let snapshot = Snapshot {
        taken_at: std::time::UNIX_EPOCH,
        source: Source::Netlink,
        fallback_reason: None,
        sockets: vec![listener],
        counters: Some(counters),
        warnings: Vec::new(),
        skipped_records: 0,
        process_note: None,
        netns: None,
    };
    // One closed connection, so the closed-connection families show with their labels.
    let info = crate::export::metrics::ScrapeInfo {
        closed: Some(crate::export::closed::ClosedTotals {
            source: crate::export::closed::CloseSource::Events,
            counts: vec![(("80".into(), crate::closed::Ending::Orderly), 1)],
            opened: vec![("80".into(), 1)],
            lost: 0,
        }),
        ..Default::default()
    };
    let text = crate::export::metrics::render(&snapshot, &info, 20);

    let mut families: Vec<MetricFamily> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            families.push(MetricFamily {
                sample_name: name.to_owned(),
                kind: String::new(),
                help: help.to_owned(),
                labels: Vec::new(),
            });
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            if let (Some(family), Some((_, kind))) = (families.last_mut(), rest.split_once(' ')) {
                family.kind = kind.to_owned();
                if kind == "counter" {
                    family.sample_name.push_str("_total");
                }
            }
        } else if !line.starts_with('#')
            && let Some(family) = families.last_mut()
            && family.labels.is_empty()
            && let Some((_, labels)) = line.split_once('{')
        {
            // The label names of the first sample: `{a="x",b="y"} 1` gives a, b.
            let labels = labels.split_once('}').map_or("", |(l, _)| l);
            family.labels = labels
                .split(',')
                .filter_map(|pair| pair.split_once('=').map(|(k, _)| k.to_owned()))
                .collect();
        }
    }
    families
}

pub(super) fn recording(page: &mut Page) {
    page.section("RECORDING")
        .para(
            "sockeye record writes the selected sockets (with what -p, -i and -m collect) and \
             the kernel counters every --interval seconds to a file, until SIGINT or SIGTERM \
             or for --duration. dump --from FILE prints a moment of it with every dump flag and \
             filter; --at takes RFC 3339, HH:MM[:SS] (local time on the recording's day) or \
             +DURATION from its start (+90s, +5m) and defaults to the last moment; --between \
             T1 T2 lists the sockets that appeared or vanished after T1 up to T2.",
        )
        .para(
            "The file holds a full frame every 60 frames and deltas between them, each \
             checksummed (CRC-32) and compressed (LZ4); it reads while it is written, and a cut \
             or damaged tail is skipped with a warning naming its byte offset. --max-size \
             (default 256M) bounds FILE and its rotations FILE.1 to FILE.3 together. A file \
             that is not a recording or is of a newer major format version is refused (exit \
             2); an empty one, or one cut before its first frame, exits 1. The format is \
             specified in FORMAT.md.",
        )
        .para(
            "dump --from FILE and replay FILE read FILE.3, FILE.2, FILE.1 and FILE as one \
             recording in time order; a gap between two files (the recorder was stopped) is \
             noted. Opening a recording indexes its frames without decoding them, so any \
             moment is rebuilt from the full frame before it and at most 59 deltas. --fsync \
             frame (the default) forces every frame to the disk, so a crash loses at most the \
             last interval; --fsync DURATION syncs at most that often, --fsync never leaves it \
             to the kernel. A full disk ends the recording with one line and exit status 1; \
             the partial frame is cut off, so the file reads as it is.",
        )
        .para(
            "sockeye replay FILE [--at TIME] opens the live view on the recording, paused at \
             its start or at TIME. Every view, the filter, sorting, the details pane and the \
             history sparklines work on the moment shown; a timeline line shows the span, the \
             moment and gaps. Keys: , and . one interval back and forward, < and > a minute, g \
             go to a TIME, space play and pause, [ and ] the speed (1x to 60x). The refresh \
             interval keys, killing and the demo's keys are not available in a replay.",
        );
}

pub(super) fn escaping(page: &mut Page) {
    page.section("ESCAPING").para(
        "Process names and unix socket paths are chosen by other users. In tables and in the \
         live view they are escaped, so they can neither send sequences to the terminal nor \
         forge a row: a backslash prints as \\\\, newline, return and tab as \\n, \\r and \\t, \
         other control bytes as \\xNN (C1 controls as \\u{NNNN}), and the invisible \
         characters that reorder or hide text (bidirectional overrides, isolates and marks, \
         zero-width spaces and joiners, U+FEFF) as \\u{NNNN}. As in ss, the NULs of an \
         abstract unix name print as @. --json keeps the exact strings, escaped by JSON.",
    );
}

/// FINDINGS: the rules of sockeye check, from the rules' own summaries.
pub(super) fn findings(page: &mut Page) {
    page.section("FINDINGS")
        .para(
            "sockeye check watches the selection for --window seconds (default 3), taking seven \
             snapshots with processes, kernel counters, socket memory and tcp_info, and reports \
             each problem it finds as one block: the rule, the severity, where (a listener, a \
             process, a destination, a peer or the host), the evidence, why it happens, what to \
             do and the threshold crossed; --json prints the same as one object. Rules judge \
             trends over the window, never a single sample. Host-wide counters are blamed only \
             when the selection holds every socket of their table (no filter, no -l, -4 or -6). \
             Thresholds are keys of the configuration file's [findings] table.",
        )
        .para(
            "-N NAME checks one network namespace and --all-netns every one, each on its own; \
             each finding then names its namespace and container. --from FILE checks a \
             recording: the --window seconds ending at --at (default its last frame), or the \
             frames from T1 to T2 with --between, at most 60 of them, evenly spread. A window \
             holding one frame is a usage error (exit 3).",
        )
        .para(
            "The live view runs the same rules on the collector thread over its last 10 s (or \
             five refreshes): the header counts findings by severity and f shows them. In that \
             panel Up and Down select a finding and Enter applies its filter (the sockets line: \
             a listener's sport = :P or src ADDR:PORT, a destination's dst IP:PORT, a state, \
             the stuck connections one by one), closes the panel and shows Listeners (a \
             listener's queue) or Sockets; a host-wide counter names no sockets and says so. \
             Esc closes the panel. check --json gives the same filter as \"filter\" (null \
             when none). sockeye \
             export serves sockeye_finding{rule,severity,where} (1 for each of the 50 worst) and \
             sockeye_findings{rule,severity} counts, over its collections of the last five \
             minutes.",
        );
    for rule in crate::findings::Rule::ALL {
        page.item(rule.name(), rule.summary());
    }
}
