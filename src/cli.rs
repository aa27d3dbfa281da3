//! Command-line definitions. They also feed the man page and the shell completions, so every
//! flag is documented here once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::View;

#[derive(Debug, Parser)]
#[command(
    name = "sockeye",
    // Set by build.rs: the package version and the git revision.
    version = env!("SOCKEYE_VERSION"),
    about = "Linux socket inspector: what ss and netstat show, live, grouped and explained",
    long_about = "Linux socket inspector: what ss and netstat show, but live, grouped by TCP \
state and by listening socket, with queue depth and TIME-WAIT/CLOSE-WAIT counts highlighted.\n\n\
Without a subcommand, sockeye opens the live view (the same as `sockeye tui`), and options \
before any subcommand are the live view's: `sockeye -N -t` is `sockeye tui -N -t`."
)]
pub struct Cli {
    /// Do not read the configuration file.
    #[arg(long, global = true)]
    pub no_config: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the socket table once, like ss (table, JSON or summary).
    Dump(DumpArgs),
    /// Open the live view (the default when no subcommand is given).
    Tui(TuiArgs),
    /// Run the classic socket experiments on loopback and watch them live.
    Demo(DemoArgs),
    /// Watch and drive a running demo (or any process with --pid).
    Attach(AttachArgs),
    /// Serve socket metrics for Prometheus at /metrics.
    ///
    /// Serves the OpenMetrics text format at /metrics, on loopback unless --listen names
    /// another address. A scrape reuses a snapshot younger than --interval, otherwise
    /// collects a new one, and never waits past --timeout: then it gets the last snapshot,
    /// with sockeye_snapshot_stale 1. Only one collection runs at a time.
    ///
    /// Metrics: sockeye_sockets{protocol,state}; per TCP listener {address,port,process}
    /// sockeye_listen_queue_length, sockeye_listen_queue_limit (absent when read from /proc,
    /// which cannot know it) and sockeye_listen_syn_recv; sockeye_tcp_port_sockets{state,port}
    /// for CLOSE-WAIT and TIME-WAIT by service port (a listener's port, else the peer's),
    /// the --top-ports busiest ports plus port "other";
    /// sockeye_tcp_recv_queue_bytes and sockeye_tcp_send_queue_bytes over connected TCP
    /// sockets (never a listener's queue fields); the counters
    /// sockeye_tcp_listen_overflows_total, sockeye_tcp_listen_drops_total and
    /// sockeye_tcp_retrans_segs_total; the gauges sockeye_tcp_max_tw_buckets,
    /// sockeye_somaxconn, sockeye_ephemeral_port_range_start and _end; and about the exporter
    /// sockeye_source_info{source}, sockeye_scrape_duration_seconds,
    /// sockeye_collect_duration_seconds, sockeye_snapshot_age_seconds,
    /// sockeye_snapshot_stale and sockeye_collect_errors_total; and the findings (see check)
    /// over the collections of the last five minutes: sockeye_finding{rule,severity,where}
    /// and sockeye_findings{rule,severity}.
    Export(ExportArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Check the configuration file and show the settings in effect.
    Config(ConfigArgs),
    /// Watch for a few seconds and report what is wrong: findings with evidence and a fix.
    ///
    /// Rules: close-wait-leak, accept-queue-overflow, syn-backlog-pressure,
    /// port-exhaustion, fin-wait-2-pile-up, stuck-receiver, stuck-sender, retransmissions,
    /// orphans, udp-receive-drops, unix-listener-full, syncookies, peer-retransmits. Works on
    /// one namespace (-N), every namespace (--all-netns) or a recording (--from). Every
    /// finding names the threshold it crossed; thresholds come from the configuration
    /// file's [findings] table. Exit status as a
    /// monitoring plugin (Nagios/Icinga): 0 nothing found, 1 a warning, 2 a critical
    /// finding, 3 could not check (usage errors included).
    Check(CheckArgs),
    /// Record snapshots to a file, for `dump --from` later (a flight recorder).
    ///
    /// Writes the selected sockets (with what -p, -i, -m collect) and the kernel counters
    /// every --interval until SIGINT or SIGTERM (a clean end) or for --duration. The file
    /// holds periodic full frames and deltas between them, each checksummed and compressed,
    /// so it reads while it is written and a cut tail loses only the last frame. Rotation
    /// keeps FILE, FILE.1, FILE.2 and FILE.3, each at most a quarter of --max-size. The
    /// format is in FORMAT.md.
    Record(RecordArgs),
    /// Open the live view on a recording: move through it, play it back at 1x to 60x.
    ///
    /// Every view, the filter, sort, details and the history sparklines work as live, on the
    /// moment shown. A timeline under the tabs shows the recording's span and the moment;
    /// , and . step one interval, < and > a minute, g goes to a time (as --at takes it),
    /// space plays and pauses, [ and ] set the speed. FILE.1 to FILE.3 beside FILE are read
    /// with it, in time order; gaps between them are shown. Killing and the demo's keys are
    /// not available (the sockets are not live).
    Replay(ReplayArgs),
    /// Print sockets as net-tools netstat does (also when sockeye is run as `netstat`).
    ///
    /// Takes netstat's socket options (-t -u -w -x -l -a -n -p -e -o -W -4 -6 -c, combined
    /// as -tanp, long ones as --tcp --listening --programs...) and prints its layout byte for
    /// byte: the "Active Internet connections" and "Active UNIX domain sockets" sections,
    /// netstat's columns, widths, address truncation (none with -W), state spellings,
    /// User/Inode, PID/Program name and timers. Unix RefCnt comes from /proc/net/unix and
    /// argv[0] from /proc/PID/cmdline, where netstat reads them. Lists sockets only: the
    /// routing table (-r), interfaces (-i), statistics (-s), multicast groups (-g) and
    /// masquerading (-M) are refused with status 2. Reads no configuration file.
    Netstat(crate::cli_netstat::NetstatArgs),
}

/// What to look at: tables, families, source and the ss filter. Shared by dump and tui.
#[derive(Debug, Args, Clone, Default)]
pub struct SelectArgs {
    /// Show TCP sockets.
    #[arg(short = 't', long = "tcp")]
    pub tcp: bool,
    /// Show UDP sockets.
    #[arg(short = 'u', long = "udp")]
    pub udp: bool,
    /// Show unix domain sockets.
    #[arg(short = 'x', long = "unix")]
    pub unix: bool,
    /// Show raw sockets (every IP protocol; read from /proc/net/raw{,6} when the kernel has
    /// no raw diag module, as ss does).
    #[arg(short = 'w', long = "raw")]
    pub raw: bool,
    /// Show MPTCP sockets.
    #[arg(short = 'M', long = "mptcp")]
    pub mptcp: bool,
    /// Show packet sockets (p_raw, p_dgr): the family `link`, as ss -0.
    #[arg(short = '0', long = "packet")]
    pub packet: bool,
    /// Show SCTP sockets and their associations (needs the kernel's sctp_diag; without it
    /// the table is empty and --verbose says why).
    #[arg(short = 'S', long = "sctp")]
    pub sctp: bool,
    /// Show DCCP sockets (needs the kernel's dccp_diag; without it the table is empty and
    /// --verbose says why).
    #[arg(short = 'd', long = "dccp")]
    pub dccp: bool,
    /// Show vsock sockets: the family `vsock` (needs vsock_diag; without it the tables are
    /// empty and --verbose says why).
    #[arg(long = "vsock")]
    pub vsock: bool,
    /// Show TIPC sockets: the family `tipc` (needs tipc_diag).
    #[arg(long = "tipc")]
    pub tipc: bool,
    /// Show XDP sockets: the family `xdp` (needs xsk_diag; without it the table is empty
    /// and --verbose says why).
    #[arg(long = "xdp")]
    pub xdp: bool,
    /// Only IPv4 sockets.
    #[arg(short = '4', long = "ipv4")]
    pub ipv4: bool,
    /// Only IPv6 sockets.
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// Show only listening sockets (and unconnected UDP/unix ones).
    #[arg(short = 'l', long = "listening")]
    pub listening: bool,
    /// Only these families, as ss -f (repeatable): inet, inet6, link, unix, netlink, vsock,
    /// tipc, xdp. Combined with -t -u -x -4 -6 -A as ss combines them.
    #[arg(short = 'f', long = "family", value_name = "FAMILY", value_parser = parse_family)]
    pub family: Vec<crate::tables::SsFamily>,
    /// Only these tables, as ss -A (comma-separated, repeatable; !NAME removes one): all,
    /// inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, unix_seqpacket, packet,
    /// packet_raw, packet_dgram, netlink, dccp, sctp, vsock_stream, vsock_dgram, tipc, xdp.
    #[arg(
        short = 'A',
        long = "query",
        visible_alias = "socket",
        value_name = "QUERY",
        value_parser = parse_query
    )]
    pub query: Vec<String>,
    /// Where the selection flags stood (ss's meaning depends on it).
    #[arg(skip)]
    pub order: crate::cli_order::ArgOrder,
    /// Show sockets in every state.
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Do not resolve service names (ports as numbers).
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
    /// Where socket state comes from: netlink sock_diag, /proc/net, or netlink with a
    /// fallback to /proc when netlink is unavailable.
    #[arg(long, value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,
    /// Read the filter expression from FILE ('-' for standard input in dump): a regular file
    /// of at most 4 MiB, read after the FILTER words.
    #[arg(short = 'F', long = "filter-file", value_name = "FILE")]
    pub filter_file: Option<PathBuf>,
    /// Filter in ss syntax: [state NAME | exclude NAME]... [EXPRESSION], e.g.
    /// `state established '(' dport = :443 or dport = :80 ')'`.
    // Options may also follow the filter, as with ss (`-t sport = :22 -n`); no filter word
    // starts with '-', so an unknown option is reported as one, not as a filter keyword.
    #[arg(value_name = "FILTER")]
    pub filter: Vec<String>,
}

/// `-f NAME`: one of ss's family names.
fn parse_family(name: &str) -> Result<crate::tables::SsFamily, String> {
    crate::tables::SsFamily::from_name(name).ok_or_else(|| {
        format!(
            "\"{}\" is invalid family (one of: {})",
            crate::error::shown_value(name),
            crate::tables::SsFamily::ALL.map(|f| f.name()).join(", ")
        )
    })
}

/// `-A LIST`: ss's table names, comma-separated.
fn parse_query(list: &str) -> Result<String, String> {
    match list.split(',').find(|n| !crate::tables::is_query_name(n)) {
        Some(bad) => Err(format!(
            "\"{}\" is illegal socket table id",
            crate::error::shown_value(bad)
        )),
        None => Ok(list.to_string()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SourceArg {
    #[default]
    Auto,
    Netlink,
    Proc,
}

#[derive(Debug, Args, Clone, Default)]
#[command(after_help = "Examples:
  sockeye dump -tan                      all TCP sockets, numeric
  sockeye dump -tan state time-wait      only TIME-WAIT
  sockeye dump -ltnp                     TCP listeners with their processes
  sockeye dump -tn dport = :443          connections to port 443
  sockeye dump -s                        summary with per-state counts
  sockeye dump -wan                      raw sockets (ICMP and others), as ss -wan
  sockeye dump -0 -f netlink -ap         packet and netlink sockets
  sockeye dump -tn state bound-inactive  TCP ports bound but not listening or connected
  sockeye dump -ta --json | jq '.[] | select(.state == \"CLOSE-WAIT\")'
  sockeye dump -E -tn --json             follow TCP sockets as they close
  sockeye dump -E --all-netns -tn        ... in every network namespace
  sockeye dump -K -tn state close-wait sport = :8080   close leaked CLOSE-WAIT (root)
  sockeye dump -tanieo --tos --cgroup    everything ss shows about each TCP socket
  sockeye dump -tanT                     the threads holding each socket
  sockeye dump -D cap.bin -ta            the raw TCP answer (ss -D); TCPDIAG_FILE=cap.bin reads it
  ln -s $(command -v sockeye) ss         invoked as ss, sockeye is `sockeye dump`")]
pub struct DumpArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Show the processes using each socket.
    #[arg(short = 'p', long = "processes")]
    pub processes: bool,
    /// Show timer information.
    #[arg(short = 'o', long = "options")]
    pub options: bool,
    /// Show detailed socket information: uid, inode, cookie, fwmark, cgroup, v6only, the
    /// shutdown mark (<-> open, --> receive shut, <-- send shut, --- both); unix: the
    /// bound file's inode and device, a listener's pending peers. Implies -o.
    #[arg(short = 'e', long = "extended")]
    pub extended: bool,
    /// Show internal TCP information (tcp_info and the congestion module's own: bbr,
    /// dctcp).
    #[arg(short = 'i', long = "info")]
    pub info: bool,
    /// Show socket memory usage (skmem).
    #[arg(short = 'm', long = "memory")]
    pub memory: bool,
    /// Show the threads using each socket (users:(("cmd",pid=P,tid=T,fd=F))).
    #[arg(short = 'T', long = "threads")]
    pub threads: bool,
    /// Print each socket on one line (no continuation lines).
    #[arg(short = 'O', long = "oneline")]
    pub oneline: bool,
    /// Resolve host names (system resolver; /etc/hosts works offline). Each address is
    /// asked once; a resolver that does not answer within 2 s leaves the rest numeric.
    #[arg(short = 'r', long = "resolve")]
    pub resolve: bool,
    /// Show the cgroup v2 path of each socket.
    #[arg(long)]
    pub cgroup: bool,
    /// Show TOS, traffic class and class id (net_cls class or socket priority).
    #[arg(long)]
    pub tos: bool,
    /// Show the inet socket options ss shows (recverr, is_icsk, freebind, mc_loop, ...).
    #[arg(long)]
    pub inet_sockopt: bool,
    /// Show internal TIPC socket information (as ss): type, congestion (link, conn or
    /// none), drops, publ when it published a service name, via {TYPE,INSTANCE} when
    /// connected to one.
    #[arg(long)]
    pub tipcinfo: bool,
    /// Show the classic BPF filters attached to sockets (ss shows them for packet sockets;
    /// implies -o, as in ss).
    #[arg(short = 'b', long = "bpf")]
    pub bpf: bool,
    /// Show process SELinux security contexts (as ss: implies -p; refused when SELinux is
    /// absent).
    #[arg(short = 'Z', long = "context")]
    pub context: bool,
    /// Show process and socket SELinux security contexts (as ss: implies -p; refused when
    /// SELinux is absent).
    #[arg(short = 'z', long = "contexts")]
    pub contexts: bool,
    /// Write the raw TCP sock_diag answer (netlink messages, as ss -D) to FILE ('-' for
    /// standard output) and exit; `TCPDIAG_FILE=FILE sockeye dump` reads it back.
    #[arg(short = 'D', long = "diag", value_name = "FILE")]
    pub diag: Option<PathBuf>,
    /// Suppress the header line.
    #[arg(short = 'H', long = "no-header")]
    pub no_header: bool,
    /// Print a summary instead of the socket table.
    #[arg(short = 's', long = "summary")]
    pub summary: bool,
    /// Print one JSON array of socket objects.
    #[arg(long)]
    pub json: bool,
    /// Print how the filter was understood and what the kernel is asked, then exit.
    #[arg(long)]
    pub explain: bool,
    /// No notices on standard error (fallback to /proc, process attribution limits).
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Report skipped tables and records on standard error.
    #[arg(long)]
    pub verbose: bool,
    /// Follow destroy events: print each TCP/UDP socket as the kernel frees it, how its
    /// connection ended (ended:orderly|reset|timeout|refused|aborted|unknown) and, when a
    /// scan saw it, its lifetime, until interrupted (as ss -E). With -N or --all-netns, one
    /// subscription per namespace.
    #[arg(short = 'E', long = "events", conflicts_with_all = ["summary", "processes", "memory", "kill"])]
    pub events: bool,
    /// Close every socket the filter selects (SOCK_DESTROY, needs CAP_NET_ADMIN; as ss -K).
    /// Needs a filter expression, or --kill-all.
    #[arg(short = 'K', long = "kill", conflicts_with_all = ["summary"])]
    pub kill: bool,
    /// With -K: allow an empty filter (close every selected socket).
    #[arg(long, requires = "kill")]
    pub kill_all: bool,
    /// With -K: also close listening sockets (takes services down).
    #[arg(long, requires = "kill")]
    pub kill_listeners: bool,
    /// With -K: list what would be closed, close nothing.
    #[arg(long, requires = "kill")]
    pub dry_run: bool,
    /// Read a recording made by `sockeye record` instead of the kernel.
    // What acts on the kernel's live sockets (follow, close, -D, SELinux, the source) means
    // nothing for a recording: refused rather than silently ignored. -K's companions are
    // named too: clap lets an argument's `requires` go unchecked when what it requires
    // conflicts with an argument given, so `--from F --dry-run` would pass unnoticed.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = [
            "events", "kill", "kill_all", "kill_listeners", "dry_run", "diag", "context",
            "contexts", "source"
        ]
    )]
    pub from: Option<PathBuf>,
    /// With --from: the moment to print, RFC 3339, HH:MM[:SS] (local time on the
    /// recording's day) or +DURATION from its start (+90s, +5m); default the last (also
    /// for a time past the end, with a note saying so).
    #[arg(
        long,
        value_name = "TIME",
        requires = "from",
        conflicts_with = "between"
    )]
    pub at: Option<String>,
    /// With --from: the sockets that appeared or vanished after T1 up to T2, one line each
    /// with numeric addresses (-p -o -e -i -m add their fields with --json; -s and -r are
    /// refused).
    #[arg(long, num_args = 2, value_names = ["T1", "T2"], requires = "from")]
    pub between: Option<Vec<String>>,
    /// Read network namespace NAME (a name under /run/netns, as ss), a namespace file
    /// (/proc/PID/ns/net, /run/docker/netns/ID) or pid:PID.
    #[arg(
        short = 'N',
        long = "net",
        value_name = "NAME",
        conflicts_with = "all_netns"
    )]
    pub net: Option<String>,
    /// Read every network namespace on the machine (/run/netns, /run/docker/netns, every
    /// process's), the host's own included; the table gets a Netns column.
    #[arg(long)]
    pub all_netns: bool,
}

/// `--view`'s values and their help come from the view registry (config/views.rs).
impl ValueEnum for View {
    fn value_variants<'a>() -> &'a [Self] {
        View::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.about()))
    }
}

#[derive(Debug, Args, Clone)]
#[command(after_help = "Examples:
  sockeye replay sockeye.rec              from the start, paused (space plays)
  sockeye replay /var/lib/sockeye/sockets.rec --at 03:10 -t
                                          TCP only, at 03:10 of the recording's day
  sockeye replay r.rec --at +5m --view listeners state close-wait")]
pub struct ReplayArgs {
    /// The recording (its rotated files FILE.1 to FILE.3 are read with it).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The moment to open at: RFC 3339, HH:MM[:SS] (the recording's day) or +DURATION from
    /// its start; default its start.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// The view to open with (default states or the config file's).
    #[arg(long, value_enum)]
    pub view: Option<View>,
    #[command(flatten)]
    pub select: SelectArgs,
}

#[derive(Debug, Args, Clone, Default)]
#[command(after_help = "Examples:
  sockeye                                 live view of every socket
  sockeye tui -t --view listeners         TCP listeners and their accept queues
  sockeye tui --process nginx             only nginx's sockets
  sockeye tui -t state close-wait         watch CLOSE-WAIT build up
  sockeye tui -N --view closed            closes in every namespace, with their Netns
  sockeye tui --read-only                 a view that cannot close sockets (K disabled)")]
pub struct TuiArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Seconds between refreshes (0.2 to 60; default 1 or the config file's).
    #[arg(long, value_name = "SECS")]
    pub interval: Option<f64>,
    /// The view to open with (default states or the config file's).
    #[arg(long, value_enum)]
    pub view: Option<View>,
    /// Only the sockets of this process (and connections to its listeners).
    #[arg(long, value_name = "PID", conflicts_with = "process")]
    pub pid: Option<u32>,
    /// Only the sockets of processes with this command name.
    #[arg(long, value_name = "NAME")]
    pub process: Option<String>,
    /// Watch every network namespace on the machine (as `dump --all-netns`); namespaces
    /// appearing or vanishing are picked up at each refresh. See the Namespaces view (4);
    /// the Closed view (5) follows destroy events in each namespace, with a Netns column.
    #[arg(short = 'N', long)]
    pub all_netns: bool,
    /// Change nothing on the machine: disable `K` (closing sockets), whatever the
    /// configuration file says (its `[tui] read_only` does the same).
    #[arg(long)]
    pub read_only: bool,
}

#[derive(Debug, Args, Clone)]
#[command(after_help = "Examples:
  sockeye demo                            every scenario, watched in the live view
  sockeye demo backlog unread             two scenarios only
  sockeye demo --headless --port 7000     print the ports, run until Ctrl-C
  sockeye demo unix udp                   unix sockets (in the control socket's directory), UDP
  sockeye attach                          watch and drive a running demo")]
pub struct DemoArgs {
    /// Scenarios to run (default: all).
    #[arg(value_name = "SCENARIO", value_parser = crate::demo::scenarios::KindParser)]
    pub scenarios: Vec<crate::demo::Kind>,
    /// Address to bind (loopback by default).
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: String,
    /// Allow a --bind address that is not loopback.
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// First port; scenarios take consecutive ports (default: ephemeral ports).
    #[arg(long, value_name = "BASE")]
    pub port: Option<u16>,
    /// Connections per second of the time-wait scenario (at most 200).
    #[arg(long, default_value_t = 20.0, value_name = "PER_SEC")]
    pub rate: f64,
    /// Do not open the live view: print the ports and run until SIGINT/SIGTERM.
    #[arg(long)]
    pub headless: bool,
    /// Control socket path (default: $XDG_RUNTIME_DIR/sockeye/demo.sock); the unix
    /// scenario's sockets go in the same directory.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
#[command(after_help = "Examples:
  sockeye attach                          the running demo
  sockeye attach --pid 1234               any process, scoped view")]
pub struct AttachArgs {
    /// Control socket of the demo (default: $XDG_RUNTIME_DIR/sockeye/demo.sock).
    #[arg(long, value_name = "PATH", conflicts_with = "pid")]
    pub socket: Option<PathBuf>,
    /// Watch this process instead of a demo.
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// Seconds between refreshes (0.2 to 60; default 1 or the config file's).
    #[arg(long, value_name = "SECS")]
    pub interval: Option<f64>,
}

#[derive(Debug, Args, Clone)]
#[command(after_help = "Examples:
  sockeye export                          serve http://127.0.0.1:9977/metrics
  sockeye export --listen 0.0.0.0:9977    on every interface (explicit)
  curl -s 127.0.0.1:9977/metrics | grep sockeye_listen
  curl -s 127.0.0.1:9977/metrics | grep sockeye_tcp_connections_closed")]
pub struct ExportArgs {
    /// Address to serve /metrics on.
    #[arg(long, default_value = "127.0.0.1:9977", value_name = "ADDR:PORT")]
    pub listen: String,
    /// Reuse a snapshot younger than this many seconds.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub interval: f64,
    /// Ports with most CLOSE-WAIT/TIME-WAIT sockets to label; the rest sum into "other".
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top_ports: usize,
    /// Read every network namespace (as `dump --all-netns`): every series gets `netns` and
    /// `container` labels.
    #[arg(short = 'N', long)]
    pub all_netns: bool,
    /// With --all-netns: namespaces with most sockets to label; the rest sum into "other".
    #[arg(long, default_value_t = crate::export::metrics::DEFAULT_TOP_NETNS, value_name = "N")]
    pub top_netns: usize,
    /// Where socket state comes from: netlink sock_diag, /proc/net, or netlink with a
    /// fallback to /proc when netlink is unavailable.
    #[arg(long, value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,
    /// Longest a scrape waits for a fresh snapshot; past it the last one is served, marked
    /// stale. Shortened to fit Prometheus's own scrape timeout when it sends one.
    #[arg(long, default_value_t = 3.0, value_name = "SECS")]
    pub timeout: f64,
    /// Do not scan /proc/*/fd for the process label of listeners (cheaper on busy hosts).
    #[arg(long)]
    pub no_processes: bool,
}

#[derive(Debug, Args, Clone)]
#[command(after_help = "Examples:
  sockeye record -o /tmp/s.rec --duration 10m      every socket, 1 s apart, 10 minutes
  sockeye record -tp -o s.rec --max-size 1G state close-wait
  sockeye dump --from s.rec --at 03:12 -tn          the TCP table at 03:12
  sockeye dump --from s.rec --at +90s -s            the summary 90 s in
  sockeye dump --from s.rec --between 03:10 03:15 --json")]
pub struct RecordArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// The recording to write; an existing one is rotated to FILE.1 first (a file there, or
    /// at FILE.1 to FILE.3, that is not a recording is refused, never moved).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "sockeye.rec"
    )]
    pub output: PathBuf,
    /// Seconds between snapshots (0.05 to 3600).
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub interval: f64,
    /// Stop after this long (90s, 10m, 2h, 1d); default until SIGINT or SIGTERM.
    #[arg(long, value_name = "D")]
    pub duration: Option<String>,
    /// Most bytes the recording and its rotated files take together (K, M, G; default 256M).
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
    /// When frames are forced to the disk: `frame` (after each, the default: a crash or a
    /// power cut loses at most the last interval), a duration (`10s`: at most that much is
    /// lost), or `never` (the kernel writes back when it will).
    #[arg(long, value_name = "POLICY", default_value = "frame")]
    pub fsync: String,
    /// Record the processes using each socket.
    #[arg(short = 'p', long = "processes")]
    pub processes: bool,
    /// Record internal TCP information (tcp_info).
    #[arg(short = 'i', long = "info")]
    pub info: bool,
    /// Record socket memory usage.
    #[arg(short = 'm', long = "memory")]
    pub memory: bool,
    /// No line on standard error at the end.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
#[command(after_help = "Examples:
  sockeye completions bash > ~/.local/share/bash-completion/completions/sockeye
  sockeye completions zsh > ~/.zfunc/_sockeye     (with fpath+=~/.zfunc)
  sockeye completions fish > ~/.config/fish/completions/sockeye.fish")]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args, Clone)]
#[command(after_help = "Examples:
  sockeye config                          check the file, print the settings in effect
  sockeye config --path                   where sockeye looks for the file
  sockeye config --print-default          the commented sample, every key at its default")]
pub struct ConfigArgs {
    /// Print the default configuration file, with comments.
    #[arg(long, conflicts_with = "path")]
    pub print_default: bool,
    /// Print the path of the configuration file.
    #[arg(long)]
    pub path: bool,
}

#[derive(Debug, Args, Clone, Default)]
#[command(after_help = "Examples:
  sockeye check                           watch 3 s, report findings
  sockeye check -t sport = :8080          only port 8080's sockets
  sockeye check --window 10 --json        for scripts
  sockeye check --all-netns               every namespace; findings name theirs
  sockeye check --from rec.sck            the last 3 s of a recording
  sockeye check --from rec.sck --between 10:00 10:05   a recorded window")]
pub struct CheckArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Seconds to watch (0.5 to 600); several snapshots are taken over it. With --from:
    /// the recorded seconds looked at, ending at --at (default the recording's end).
    #[arg(long, value_name = "SECS", default_value_t = 3.0)]
    pub window: f64,
    /// Print one JSON object: {window_seconds, sockets, findings: [...]}.
    #[arg(long)]
    pub json: bool,
    /// Check network namespace NAME (a name under /run/netns, a namespace file or
    /// pid:PID), as dump -N.
    #[arg(
        short = 'N',
        long = "net",
        value_name = "NAME",
        conflicts_with = "all_netns"
    )]
    pub net: Option<String>,
    /// Check every network namespace on the machine, each on its own; every finding names
    /// its namespace (and container).
    #[arg(long)]
    pub all_netns: bool,
    /// Check a recording made by `sockeye record` instead of the kernel.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["net", "all_netns"])]
    pub from: Option<PathBuf>,
    /// With --from: the end of the window (RFC 3339, HH:MM[:SS] or +DURATION, as dump
    /// --at); default the recording's last frame.
    #[arg(
        long,
        value_name = "TIME",
        requires = "from",
        conflicts_with = "between"
    )]
    pub at: Option<String>,
    /// With --from: the window is the recording from T1 to T2 (--window is not used).
    #[arg(long, num_args = 2, value_names = ["T1", "T2"], requires = "from")]
    pub between: Option<Vec<String>>,
}
