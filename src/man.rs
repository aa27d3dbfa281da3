//! The manual page: what clap knows (synopsis, every subcommand and flag, examples) rendered by
//! clap_mangen, plus the sections clap cannot write (filter grammar, TCP states, queues, demo
//! scenarios, files, environment, exit status). `man/sockeye.1` is this output, committed;
//! `tests/it/cli/man_page.rs` fails when the two differ.

use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, italic, roman};

use crate::cli::Cli;

/// The whole page, in roff. Deterministic: no date, and the version without the git revision,
/// so the committed page only changes when the CLI or the text does.
pub fn render() -> Vec<u8> {
    let mut cmd = Cli::command()
        .bin_name("sockeye")
        .disable_help_subcommand(true);
    cmd.build();

    let source = format!("sockeye {}", env!("CARGO_PKG_VERSION"));
    let top = Man::new(cmd.clone())
        .title("SOCKEYE")
        .source(source)
        .manual("User Commands");

    let mut page = Roff::new().render();
    page.push_str(&piece(|w| top.render_title(w)));
    page.push_str(&piece(|w| top.render_name_section(w)));
    page.push_str(&piece(|w| top.render_synopsis_section(w)));
    page.push_str(&synopsis_of_commands(&cmd));
    page.push_str(&piece(|w| top.render_description_section(w)));
    page.push_str(&piece(|w| top.render_options_section(w)));
    page.push_str(&commands_section(&cmd));
    page.push_str(&hand_written().render());
    page.into_bytes()
}

/// Output of one clap_mangen renderer, without the preamble every renderer repeats.
fn piece(render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail, and clap_mangen writes UTF-8 only.
    render(&mut buf).expect("rendering into memory cannot fail");
    let text = String::from_utf8(buf).expect("clap_mangen writes UTF-8");
    strip_preamble(&text).to_owned()
}

/// The roff crate starts every document with the same apostrophe-handling preamble (what an
/// empty document renders to); the page keeps one copy, at the top.
fn strip_preamble(text: &str) -> &str {
    static PREAMBLE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let preamble = PREAMBLE.get_or_init(|| Roff::new().render());
    text.strip_prefix(preamble.as_str()).unwrap_or(text)
}

/// One short usage line per subcommand under the top-level synopsis (each command's full
/// synopsis is in its own subsection).
fn synopsis_of_commands(cmd: &clap::Command) -> String {
    let mut roff = Roff::new();
    for sub in visible_subcommands(cmd) {
        let name = format!("sockeye {}", sub.get_name());
        let usage = sub.clone().render_usage().to_string();
        let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage);
        let rest = usage.strip_prefix(name.as_str()).unwrap_or(usage);
        roff.control("br", []);
        roff.text([bold(name), roman(rest)]);
    }
    strip_preamble(&roff.render()).to_owned()
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// COMMANDS: each subcommand with its description, options and examples.
fn commands_section(cmd: &clap::Command) -> String {
    let mut out = String::from(".SH COMMANDS\n");
    for sub in visible_subcommands(cmd) {
        let man = Man::new(sub.clone());
        let name = format!("sockeye {}", sub.get_name());
        out.push_str(&format!(".SS \"{name}\"\n"));
        out.push_str(drop_headings(&piece(|w| man.render_synopsis_section(w))));
        out.push_str(".PP\n");
        out.push_str(drop_headings(&piece(|w| man.render_description_section(w))));
        out.push_str(drop_headings(&piece(|w| man.render_options_section(w))));
        if let Some(after) = sub.get_after_long_help().or_else(|| sub.get_after_help()) {
            out.push_str(strip_preamble(&examples(&after.to_string()).render()));
        }
    }
    out
}

/// clap_mangen's section pieces start with `.SH NAME`; inside COMMANDS they are subsections
/// already, so the heading lines go.
fn drop_headings(text: &str) -> &str {
    match text.strip_prefix(".SH ") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
        None => text,
    }
}

/// An `after_help` block ("Examples:" then lines of `command   what it does`) as tagged
/// paragraphs: the command in bold, its explanation under it, so nothing runs off an 80-column
/// terminal. A line without an explanation is the command alone.
fn examples(after_help: &str) -> Roff {
    let mut roff = Roff::new();
    let mut lines = after_help.lines();
    let title = lines.next().unwrap_or("Examples:").trim();
    roff.control("PP", []);
    roff.text([bold(title)]);
    for line in lines.map(str::trim).filter(|l| !l.is_empty()) {
        let (command, what) = match line.find("  ") {
            Some(at) => (line[..at].trim_end(), line[at..].trim()),
            None => (line, ""),
        };
        if what.is_empty() {
            roff.control("PP", []);
            roff.text([bold(command)]);
        } else {
            roff.control("TP", ["4"]);
            roff.text([bold(command)]);
            roff.text([roman(what)]);
        }
    }
    roff
}

// ---- The sections clap cannot write ---------------------------------------------------------

/// A small builder over roff for prose sections.
struct Page {
    roff: Roff,
}

impl Page {
    fn new() -> Self {
        Page { roff: Roff::new() }
    }

    fn section(&mut self, title: &str) -> &mut Self {
        self.roff.control("SH", [title]);
        self
    }

    fn subsection(&mut self, title: &str) -> &mut Self {
        self.roff.control("SS", [title]);
        self
    }

    fn para(&mut self, text: &str) -> &mut Self {
        self.roff.control("PP", []);
        self.roff.text([roman(text)]);
        self
    }

    fn para_inlines(&mut self, inlines: Vec<Inline>) -> &mut Self {
        self.roff.control("PP", []);
        self.roff.text(inlines);
        self
    }

    /// A tagged paragraph: the tag in bold, the text indented under it.
    fn item(&mut self, tag: &str, text: &str) -> &mut Self {
        self.roff.control("TP", []);
        self.roff.text([bold(tag)]);
        self.roff.text([roman(text)]);
        self
    }

    /// Lines kept as they are (commands, grammar), indented.
    fn verbatim(&mut self, lines: &[&str]) -> &mut Self {
        self.roff.control("PP", []);
        self.roff.control("RS", ["4"]);
        self.roff.control("nf", []);
        for line in lines {
            self.roff.text([roman(*line)]);
        }
        self.roff.control("fi", []);
        self.roff.control("RE", []);
        self
    }

    /// Example commands, each followed by what it does.
    fn examples(&mut self, pairs: &[(&str, &str)]) -> &mut Self {
        for (command, what) in pairs {
            self.roff.control("TP", []);
            self.roff.text([bold(*command)]);
            self.roff.text([roman(*what)]);
        }
        self
    }

    fn render(&self) -> String {
        strip_preamble(&self.roff.render()).to_owned()
    }
}

fn hand_written() -> Page {
    let mut page = Page::new();
    live_view(&mut page);
    tables_and_families(&mut page);
    filters(&mut page);
    tcp_states(&mut page);
    queues(&mut page);
    events_and_kill(&mut page);
    findings(&mut page);
    namespaces(&mut page);
    escaping(&mut page);
    demo_scenarios(&mut page);
    metrics(&mut page);
    recording(&mut page);
    configuration(&mut page);
    files(&mut page);
    environment(&mut page);
    exit_status(&mut page);
    see_also(&mut page);
    page
}

fn live_view(page: &mut Page) {
    page.section("LIVE VIEW")
        .para(
            "sockeye (or sockeye tui) opens a live view of the socket table, refreshed every \
             --interval seconds by a collector thread, so a key press never waits for a \
             collection. It needs a terminal; sockeye dump is its one-shot sibling over the \
             same data.",
        )
        .item(
            "Header",
            "Host, data source (and why it fell back to /proc), interval, live or paused, \
             the number of sockets; a count for every TCP state with TIME-WAIT and CLOSE-WAIT \
             emphasized and their recent history as sparklines; the per-refresh increase of \
             ListenOverflows, ListenDrops and RetransSegs; TIME-WAIT against \
             net.ipv4.tcp_max_tw_buckets and ephemeral ports in use against \
             net.ipv4.ip_local_port_range, with a warning as they near exhaustion.",
        )
        .item(
            "States view",
            "Sockets grouped by TCP state in lifecycle order (LISTEN, SYN-SENT, SYN-RECV, \
             ESTAB, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, CLOSING, TIME-WAIT), each \
             group collapsible with its count; UDP and unix sockets in groups of their own.",
        )
        .item(
            "Listeners view",
            "Each listening socket with its accept queue as a gauge (Recv-Q of Send-Q, red \
             when full, ? when the source cannot know the limit), its SYN-RECV and \
             established connections and the owning process; outbound connections grouped \
             by remote endpoint; TIME-WAIT and CLOSE-WAIT counts per group.",
        )
        .item(
            "Sockets view",
            "The flat table with ss's columns and the process, sortable by any column.",
        )
        .item(
            "Highlights",
            "Recv-Q and Send-Q are colored from the configured thresholds; CLOSE-WAIT rows \
             stand out, and a ! marks a connection with unread data. For one refresh, a + \
             marks a socket that appeared and a * one whose queues changed.",
        )
        .item(
            "Details",
            "The selected socket's timer, tcp_info, memory, cookie, uid and processes, with \
             byte rates between refreshes.",
        )
        .item(
            "Filter bar",
            "A filter that names hosts is resolved off the screen's thread: the bar says \
             so and the last good filter stays in force until the names resolve, or \
             for at most 5 seconds; Esc gives up. A paste arrives whole.",
        )
        .item(
            "Terminal",
            "The terminal is restored on every way out: q, errors, SIGINT, SIGTERM, SIGHUP \
             and SIGQUIT (after which sockeye dies of it). Ctrl-Z and SIGTSTP restore it and \
             stop; fg takes it again and redraws.",
        );

    keys(page);
}

/// The Keys subsection, from the bindings table: the rebindable keys at their defaults with
/// their names in the [keys] table, then the fixed ones.
fn keys(page: &mut Page) {
    use crate::config::keys::{Binding, Key, KeyBindings, Show, entries};
    page.subsection("Keys").para(
        "The letter keys can be changed in the configuration file (the [keys] table, by the \
         names in parentheses); the defaults are:",
    );
    let defaults = KeyBindings::default();
    let rebindable = |b: &Binding| matches!(b.key, Key::Rebindable { .. });
    let label = |k: &KeyBindings, key: Key| match key {
        Key::Rebindable { name, .. } => {
            let c = k.char_of(key).unwrap_or(' ');
            format!("{} ({name})", String::from(crate::config::KeyChar(c)))
        }
        // Plain words: the arrows of the help overlay are not in groff's input set.
        Key::Up => "Up".into(),
        Key::Down => "Down".into(),
        Key::Left => "Left".into(),
        Key::Right => "Right".into(),
        Key::PageUp => "PageUp".into(),
        Key::PageDown => "PageDown".into(),
        Key::Wheel => "the mouse wheel".into(),
        other => k.label(other),
    };
    let pick = |want: bool| {
        move |b: &Binding| {
            if rebindable(b) == want {
                b.man
            } else {
                Show::Hidden
            }
        }
    };
    for (keys, text, _) in entries(&defaults, pick(true), label) {
        page.item(&keys, text);
    }
    page.para("Fixed keys, whatever the configuration says:");
    for (keys, text, _) in entries(&defaults, pick(false), label) {
        page.item(&keys, text);
    }
}

fn tables_and_families(page: &mut Page) {
    page.section("TABLES AND FAMILIES").para(
        "-t -u -x -4 -6, -f/--family (inet, inet6, link, unix, netlink, vsock, tipc, xdp) and \
         -A/--query/--socket (all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, \
         unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock_stream, \
         vsock_dgram, tipc, xdp; comma-separated, !NAME removes one) combine as in ss(8): a \
         table named without any of its families brings them; a family named without any of \
         its tables brings them all, so -x -4 shows unix and the IPv4 inet tables; the family \
         given last narrows inet to itself (-4 -6 shows IPv6 only); the first -A drops a -t \
         or -u given before it. sockeye reads the tcp, udp and unix tables; a selection of \
         only other tables is refused (exit status 2), and within a wider one they are left \
         out.",
    );
}

fn filters(page: &mut Page) {
    page.section("FILTERS")
        .para(
            "sockeye dump, sockeye tui and the live view's filter bar accept the filter \
             language of ss(8), with the same meaning: a state selection, then an expression.",
        )
        .verbatim(&["[ state NAME | exclude NAME ]... [ EXPRESSION ]"])
        .para(
            "The words come as separate arguments, as with ss; a single quoted argument \
             holding the whole filter works too. Parentheses are words of their own and must \
             be quoted for the shell. -F FILE reads the expression from FILE (- for standard \
             input); lines starting with # are comments. A mistake is reported with the \
             offending word quoted and marked, and exit status 2.",
        );

    page.subsection("State selection")
        .item(
            "state NAME",
            "Select sockets in state NAME. May be repeated: the states add up.",
        )
        .item(
            "exclude NAME",
            "Leave out state NAME. A leading exclude starts from all states.",
        )
        .para(
            "State names (case-insensitive): established, syn-sent, syn-recv, fin-wait-1, \
             fin-wait-2, time-wait, closed, close-wait, last-ack, listening, closing. \
             Groups of states:",
        )
        .item("all", "Every state.")
        .item("connected", "Every state except listening and closed.")
        .item("synchronized", "Every connected state except syn-sent.")
        .item(
            "bucket",
            "syn-recv and time-wait (the kernel's minisockets).",
        )
        .item("big", "Every state except the bucket ones.")
        .para(
            "Without a state selection, sockeye shows connected sockets except time-wait and \
             syn-recv; with -l, listening sockets (and unconnected UDP and unix sockets); with \
             -a, sockets in every state.",
        );

    page.subsection("Expressions")
        .item(
            "sport OP [ADDR]:PORT, dport OP [ADDR]:PORT",
            "Compare the source (local) or destination (peer) port.",
        )
        .item(
            "src [=] ADDR[/PREFIX][:PORT], dst [=] ADDR[/PREFIX][:PORT]",
            "Match the local or peer address, optionally a prefix and a port. For unix \
             sockets, match the socket path with a shell glob pattern.",
        )
        .item("dev NAME", "Match the interface a socket is bound to.")
        .item(
            "autobound",
            "Match sockets whose local port the kernel chose rather than bind().",
        )
        .para(
            "Operators: = == eq, != ne neq, > gt, < lt, >= ge geq, <= le leq. Addresses: \
             IPv4, IPv6 (in brackets when a port follows, as in [::1]:22), * for any, \
             v4-mapped [::ffff:a.b.c.d], and host names. Ports are numbers or service names \
             from /etc/services (:ssh, :https). As in ss, an IPv4 address also matches its \
             v4-mapped form, but a v4-mapped address does not match plain IPv4.",
        )
        .para(
            "Conditions combine with and (&& &), or (|| |) and not (!), and group with \
             parentheses. Adjacent conditions mean and. not binds tightest; and and or have \
             the same precedence and group from left to right, as ss really does it: a or b \
             and c means (a or b) and c. Use parentheses; --explain prints the expression \
             fully parenthesized.",
        )
        .para(
            "The kernel evaluates what it can: the states as the request's state mask and, \
             for TCP and UDP, the expression as inet_diag bytecode. sockeye re-checks the \
             whole expression itself, so the netlink and /proc sources select the same \
             sockets. --explain prints the parsed expression, the state set, the bytecode \
             and what runs in userspace.",
        );

    page.subsection("Examples").examples(&[
        (
            "sockeye dump -tan state established '(' dport = :443 or dport = :80 ')'",
            "Established connections to web servers.",
        ),
        (
            "sockeye dump -tn 'dport = :https or sport = :https'",
            "The same kind of filter as one argument.",
        ),
        (
            "sockeye dump -tan state time-wait dst 10.0.0.0/8",
            "TIME-WAIT sockets towards one network.",
        ),
        (
            "sockeye dump -tan src [::1]:8080",
            "Sockets bound to port 8080 on the IPv6 loopback.",
        ),
        (
            "sockeye dump -ltn sport ge :1024 and not sport = :8080",
            "Listeners on unprivileged ports except 8080.",
        ),
        (
            "sockeye dump -ta exclude time-wait exclude listening",
            "Everything but TIME-WAIT and listeners.",
        ),
        (
            "sockeye dump -x src '/run/*'",
            "Unix sockets whose path is under /run.",
        ),
        (
            "sockeye dump -tn --explain dport = :22 and not dst 127.0.0.1",
            "Show how a filter is understood and what the kernel is asked.",
        ),
        (
            "sockeye dump -tn -F filter.txt",
            "Read the expression from a file.",
        ),
    ]);
}

fn tcp_states(page: &mut Page) {
    page.section("TCP STATES")
        .para("States are spelled as ss prints them; the filter name follows in parentheses.");
    for (state, meaning) in [
        (
            "LISTEN (listening)",
            "Waiting for connections. Its Recv-Q and Send-Q describe the accept queue (see \
             QUEUES).",
        ),
        (
            "SYN-SENT (syn-sent)",
            "connect() sent a SYN and waits for the answer. Many of them: the peer is slow or \
             unreachable, or its accept queue is full and the kernel drops the SYNs, so the \
             client retransmits.",
        ),
        (
            "SYN-RECV (syn-recv)",
            "A SYN arrived on a listener and was answered; the handshake's last ACK has not \
             come yet. Many of them: a slow client network or a SYN flood \
             (net.ipv4.tcp_max_syn_backlog bounds them).",
        ),
        ("ESTAB (established)", "An open connection: data flows."),
        (
            "FIN-WAIT-1 (fin-wait-1)",
            "This side closed and sent its FIN; the peer has not acknowledged it yet.",
        ),
        (
            "FIN-WAIT-2 (fin-wait-2)",
            "This side closed and the peer acknowledged, but the peer has not closed. When \
             the application has already let go, the kernel gives up after \
             net.ipv4.tcp_fin_timeout seconds.",
        ),
        (
            "CLOSE-WAIT (close-wait)",
            "The peer closed (its FIN arrived) and the local application has not called \
             close(). These never time out: a growing number is a bug in the application, \
             which leaks the sockets and their file descriptors.",
        ),
        (
            "LAST-ACK (last-ack)",
            "The peer closed first, then this side closed too; waiting for the ACK of the \
             last FIN.",
        ),
        (
            "CLOSING (closing)",
            "Both sides closed at the same time; waiting for the ACK of this side's FIN.",
        ),
        (
            "TIME-WAIT (time-wait)",
            "The side that closed first keeps the connection's addresses and ports for 60 \
             seconds, so that late segments cannot be mistaken for a new connection. They \
             belong to no process and show uid 0 and inode 0. Harmless one by one; at a high \
             connection rate they can use up the ephemeral ports \
             (net.ipv4.ip_local_port_range) or reach net.ipv4.tcp_max_tw_buckets.",
        ),
        (
            "UNCONN (closed)",
            "A UDP or unix socket with no peer, such as a bound UDP server. ss prints TCP's \
             CLOSE state this way too.",
        ),
    ] {
        page.item(state, meaning);
    }
}

fn namespaces(page: &mut Page) {
    page.section("NETWORK NAMESPACES")
        .para(
            "sockeye dump reads the caller's network namespace unless told otherwise. \
             -N NAME (--net NAME) reads one other namespace, as ss -N does: NAME is a name \
             under /run/netns, a path to a namespace file (/proc/PID/ns/net, \
             /run/docker/netns/ID) or pid:PID. The output is exactly ss's; --json adds \
             \"netns\": {\"inode\", \"name\"} and \"container\" to every socket.",
        )
        .para(
            "--all-netns reads every network namespace on the machine: those under \
             /run/netns and /run/docker/netns and those held by any process or thread \
             (/proc/*/ns/net, /proc/*/task/*/ns/net), each once (by device and inode); the \
             caller's own is one of them. The table gets a leading Netns column (the \
             container or pod name, else the /run/netns name, else net:[INODE]); -s prints \
             one summary per namespace; --json gives every socket its netns and container \
             objects. Container identity comes from /proc/PID/cgroup of a process inside \
             (docker, containerd and Kubernetes, CRI-O, podman scopes and cgroupfs paths), \
             names from docker's config.v2.json or the OCI bundle's annotations; unknown \
             fields are null. Container names are escaped in tables.",
        )
        .para(
            "Entering a namespace needs CAP_SYS_ADMIN. Without it, a namespace holding one of \
             the caller's own processes is read through that process's /proc/PID/net (the \
             /proc source: listeners' backlog limits unknown); the others are named in one \
             line on standard error with the reason, and the rest are still shown. A \
             namespace that disappears while it is read is left out quietly.",
        );
}

fn queues(page: &mut Page) {
    page.section("QUEUES")
        .para("Recv-Q and Send-Q mean different things for a listener and for a connection.")
        .item(
            "Listening sockets",
            "Recv-Q is the accept queue: connections the kernel has completed and the \
             application has not accept()ed yet. Send-Q is the queue's limit, the smaller of \
             the backlog given to listen() and net.core.somaxconn. The queue counts as full \
             only when its length exceeds the limit, so listen(1) holds two waiting \
             connections (LISTEN 2 1). The next SYN is then dropped and the client stays in \
             SYN-SENT, retransmitting, unless net.ipv4.tcp_abort_on_overflow is 1, which \
             answers with a reset. The kernel counts these drops in ListenOverflows and \
             ListenDrops (/proc/net/netstat), which sockeye dump -s and the live view show. \
             Connections waiting in the queue are ESTAB sockets that no process owns yet \
             (inode 0). The /proc source cannot know the limit: it is shown as - (null in \
             JSON), never as 0.",
        )
        .item(
            "Connections",
            "Recv-Q is the number of bytes received and not yet read by the application; \
             Send-Q the number of bytes sent and not yet acknowledged by the peer. A Recv-Q \
             that stays up means the application is not reading; a growing Send-Q means the \
             peer or the network is not keeping up. In CLOSE-WAIT the peer's FIN counts as \
             one byte of Recv-Q.",
        )
        .item(
            "UDP and unix sockets",
            "The queues are memory in bytes, bookkeeping included, not payload: one \
             datagram of 4 bytes can show as several hundred. The /proc source has no queues \
             for unix sockets.",
        );
}

fn events_and_kill(page: &mut Page) {
    page.section("DESTROY EVENTS AND CLOSING SOCKETS")
        .item(
            "dump -E",
            "Follows the kernel's sock_diag destroy events for TCP and UDP (IPv4 and IPv6) in \
             the current network namespace and prints each socket as it is freed, in the \
             layout of ss -E, flushed per event (into a pipe too). The dump flags and filter \
             apply; states default to all (a freed socket is in state CLOSE, printed UNCONN). \
             --json writes one object per line: the dump schema plus event (\"destroy\") and \
             time (RFC 3339, UTC), with tcp_info at destruction under -i. Unix and other \
             families have no events. Runs until SIGINT, SIGTERM or a closed output (status \
             0). Needs no privilege. Events the kernel drops when the receive queue is full \
             are counted and reported on stderr (and as an event \"lost\" line with a count \
             in JSON mode).",
        )
        .item(
            "dump -K",
            "Closes every socket the filter selects (SOCK_DESTROY; the owner sees \
             ECONNABORTED) and prints the closed ones as dump does. Each socket not closed is \
             listed on standard error with the reason (no CAP_NET_ADMIN in the socket's \
             network namespace, kernel without CONFIG_INET_DIAG_DESTROY, a unix socket) and \
             the exit status is 1. A filter expression or state is required unless \
             --kill-all; listening sockets are kept unless --kill-listeners, TIME-WAIT \
             sockets unless the filter names state time-wait; --dry-run closes nothing.",
        );
}

fn demo_scenarios(page: &mut Page) {
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
fn metrics(page: &mut Page) {
    page.section("METRICS").para(
        "sockeye export serves these at /metrics in the OpenMetrics text format. Every \
         scrape reads a fresh snapshot or reuses one younger than --interval. Port labels \
         of the CLOSE-WAIT and TIME-WAIT families are bounded: the --top-ports busiest \
         ports, the rest summed under port=\"other\".",
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
fn http_limits() -> String {
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

struct MetricFamily {
    sample_name: String,
    kind: String,
    help: String,
    labels: Vec<String>,
}

fn metric_families() -> Vec<MetricFamily> {
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
    };
    let text = crate::export::metrics::render(&snapshot, &Default::default(), 20);

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

fn recording(page: &mut Page) {
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
        );
}

fn escaping(page: &mut Page) {
    page.section("ESCAPING").para(
        "Process names and unix socket paths are chosen by other users. In tables and in the \
         live view they are escaped, so they can neither send sequences to the terminal nor \
         forge a row: a backslash prints as \\\\, newline, return and tab as \\n, \\r and \\t, \
         other control bytes as \\xNN (C1 controls as \\u{NNNN}). As in ss, the NULs of an \
         abstract unix name print as @. --json keeps the exact strings, escaped by JSON.",
    );
}

/// FINDINGS: the rules of sockeye check, from the rules' own summaries.
fn findings(page: &mut Page) {
    page.section("FINDINGS").para(
        "sockeye check watches the selection for --window seconds (default 3), taking seven \
         snapshots with processes and kernel counters, and reports each problem it finds as \
         one block: the rule, the severity, where (a listener, a process, a destination or \
         the host), the evidence, why it happens, what to do and the threshold crossed; \
         --json prints the same as one object. Rules judge trends over the window, never a \
         single sample. Host-wide counters are blamed only when the selection holds every TCP \
         socket (no filter, no -l, -4 or -6). Thresholds are keys of the configuration file's [findings] \
         table.",
    );
    for rule in crate::findings::Rule::ALL {
        page.item(rule.name(), rule.summary());
    }
}

fn configuration(page: &mut Page) {
    page.section("CONFIGURATION")
        .para(
            "Settings come from the command line, then the configuration file, then the \
             defaults: a flag always wins over the file. The file sets the live view's \
             default view and interval, the queue highlight thresholds, the socket table's \
             columns, the theme colors and the key bindings. Every key is optional. A file \
             that cannot be read or parsed, or that holds an unknown key or a bad value, is an \
             error naming the file, the line and the key (exit status 2); it is never silently \
             ignored. It must be a regular file of at most 1 MiB. --no-config skips the file. \
             The file's numeric key applies to dump too (as -n).",
        )
        .para(&format!(
            "columns under [view] lists the socket table's columns in order; the names are: \
             {}. The s key cycles the sort through the columns shown.",
            crate::output::columns::Column::names()
        ))
        .para_inlines(vec![
            roman("The commented default file is printed by "),
            bold("sockeye config --print-default"),
            roman(", and the path sockeye reads by "),
            bold("sockeye config --path"),
            roman(". It reads:"),
        ]);
    let sample: Vec<&str> = crate::config::DEFAULT_CONFIG.lines().collect();
    page.verbatim(&sample);
}

fn files(page: &mut Page) {
    page.section("FILES")
        .item(
            "$XDG_CONFIG_HOME/sockeye/config.toml",
            "The configuration file; ~/.config/sockeye/config.toml when XDG_CONFIG_HOME is \
             unset or empty.",
        )
        .item(
            "$XDG_RUNTIME_DIR/sockeye/demo.sock",
            "The control socket of a running demo (directory mode 0700, socket mode 0600); \
             /tmp/sockeye-UID/demo.sock when XDG_RUNTIME_DIR is unset.",
        )
        .item(
            "/proc/net/tcp, tcp6, udp, udp6, unix",
            "The socket tables read by --source proc, and by --source auto when netlink \
             sock_diag is unavailable or refused mid-dump. A unix socket path holding a \
             newline cannot add rows: lines it prints are read back into the path (shown \
             as \\n), checked against netlink where it works. Connections still waiting in a \
             unix listener's queue are not listed, as netlink never lists them.",
        )
        .item(
            "/proc/net/netstat, /proc/net/snmp, /proc/net/sockstat",
            "Kernel counters: ListenOverflows, ListenDrops, RetransSegs and the socket totals.",
        )
        .item(
            "/proc/PID/fd",
            "Scanned to find the processes owning each socket (-p). Without privileges, \
             other users' processes cannot be seen.",
        )
        .item("/etc/services", "Port names, unless -n is given.");
}

fn environment(page: &mut Page) {
    page.section("ENVIRONMENT")
        .item(
            "NO_COLOR",
            "When set to a non-empty value, the live view uses no colors: bold, underline and \
             reverse video mark what colors would.",
        )
        .item(
            "XDG_CONFIG_HOME",
            "Where the configuration directory is; ~/.config when unset or empty.",
        )
        .item("HOME", "Used to find ~/.config.")
        .item(
            "XDG_RUNTIME_DIR",
            "Where the demo's control socket lives (in a sockeye subdirectory); \
             /tmp/sockeye-UID when unset.",
        )
        .item(
            "SOCKEYE_TRACE",
            "A file the live view appends one line of timings to per refresh (collection \
             steps, preparation steps, apply, render, in milliseconds, and the resident \
             memory in MiB), for benchmarks. Unset: nothing is written. It must be a \
             regular file (created when missing): a FIFO, a device or a directory is refused \
             and nothing is traced.",
        );
}

fn exit_status(page: &mut Page) {
    page.section("EXIT STATUS");
    // From the one table the program exits by.
    for exit in crate::error::Exit::ALL {
        page.item(&exit.code().to_string(), exit.meaning());
    }
    page.para(
        "The one exception: sockeye check exits as a monitoring plugin (Nagios, Icinga) \
         does, so cron, CI and monitoring systems read its status directly:",
    );
    for exit in crate::error::CheckExit::ALL {
        page.item(&exit.code().to_string(), exit.meaning());
    }
}

fn see_also(page: &mut Page) {
    page.section("SEE ALSO").para_inlines(vec![
        bold("ss"),
        roman("(8), "),
        bold("netstat"),
        roman("(8), "),
        bold("tcp"),
        roman("(7), "),
        bold("udp"),
        roman("(7), "),
        bold("unix"),
        roman("(7), "),
        bold("sock_diag"),
        roman("(7), "),
        bold("proc"),
        roman("(5), "),
        italic("https://no-color.org"),
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_is_described() {
        let page = String::from_utf8(render()).unwrap();
        for kind in crate::demo::scenarios::all() {
            let name = kind.as_str();
            assert!(
                page.contains(&format!("\\fB{}\\fR", name.replace('-', "\\-"))),
                "scenario {name} missing"
            );
        }
    }

    #[test]
    fn one_preamble_and_one_title() {
        let page = String::from_utf8(render()).unwrap();
        let preamble = Roff::new().render();
        assert_eq!(page.matches(preamble.trim_end()).count(), 1);
        assert_eq!(
            page.matches("\n.TH ").count() + page.starts_with(".TH") as usize,
            1
        );
    }

    #[test]
    fn metrics_are_listed_with_labels() {
        let families = metric_families();
        let find = |name: &str| families.iter().find(|f| f.sample_name == name);
        let queue = find("sockeye_listen_queue_length").expect("listener metric");
        assert!(
            queue.labels.contains(&"port".to_owned()),
            "{:?}",
            queue.labels
        );
        assert!(find("sockeye_tcp_listen_overflows_total").is_some());
        assert!(
            families
                .iter()
                .all(|f| !f.help.is_empty() && !f.kind.is_empty())
        );
    }

    #[test]
    fn every_key_is_in_the_page() {
        use crate::config::keys::{BINDINGS, Show};
        assert!(BINDINGS.iter().all(|b| b.man != Show::Hidden));
        let page = String::from_utf8(render()).unwrap();
        for (name, _, _) in crate::config::keys::rebindable_keys() {
            assert!(
                page.contains(&format!("({name})")),
                "key {name} undescribed"
            );
        }
    }

    #[test]
    fn no_git_revision_in_the_page() {
        let page = String::from_utf8(render()).unwrap();
        assert!(
            !page.contains("(git "),
            "the page must not change with every commit"
        );
    }
}
