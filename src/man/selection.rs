//! What sockets are selected and what their fields mean: tables and families, filters, TCP states, namespaces, queues, destroy events and closing.

use super::Page;

pub(super) fn tables_and_families(page: &mut Page) {
    page.section("TABLES AND FAMILIES")
        .para(
            "-t -u -x -w (raw) -M (mptcp) -0 (packet) -S (sctp) -d (dccp) --vsock --tipc --xdp \
         -4 -6, -f/--family (inet, inet6, link, unix, netlink, vsock, tipc, xdp) and \
         -A/--query/--socket (all, inet, tcp, mptcp, udp, raw, unix, unix_dgram, unix_stream, \
         unix_seqpacket, packet, packet_raw, packet_dgram, netlink, dccp, sctp, vsock_stream, \
         vsock_dgram, tipc, xdp; comma-separated, !NAME removes one) combine as in ss(8): a \
         table named without any of its families brings them; a family named without any of \
         its tables brings them all, so -x -4 shows unix and the IPv4 inet tables; the family \
         given last narrows inet to itself (-4 -6 shows IPv6 only); the first -A drops a -t \
         or -u given before it.",
        )
        .para(
            "sockeye reads the tcp, udp, raw, mptcp, unix (u_str, u_dgr, u_seq), packet (p_raw, \
         p_dgr) and netlink (nl) tables, and prints them in ss's order and spelling. Raw \
         sockets come from /proc/net/raw and raw6 when the kernel has no raw diag module, as \
         with ss; a raw socket's port is its IP protocol (icmp, ipproto-253). A packet \
         socket's address is its protocol and interface (ip:lo, *:* for every protocol on \
         every interface); a netlink socket's its protocol and port id (rtnl:kernel, \
         genl:COMMAND/PID), and a connected one's peer is GROUP:PORTID. DCCP sockets (dccp, \
         -d) come from inet_diag and print as TCP ones; without the kernel's dccp_diag the \
         table is empty, as ss prints it, and --verbose says why. SCTP sockets (sctp, -S) \
         come from inet_diag too: each endpoint, then each of its associations on a row of \
         its own with an empty Netid and its SCTP state (`- ESTAB, COOKIE_WAIT...), as ss \
         prints them; -i and -m add every local and peer address (locals:, peers:); \
         without sctp_diag the table is empty and --verbose says why. Vsock sockets (v_str, \
         v_dgr; --vsock, -f vsock) come from vsock_diag, their ends printed CID:PORT (* for \
         any), as ss; without vsock_diag the tables are empty and --verbose says why. XDP \
         sockets (xdp, --xdp) come from xsk_diag: UNCONN, bound to IFNAME:qQUEUE (* when \
         unbound), Recv-Q their receive memory; without xsk_diag the table is empty and \
         --verbose says why. TIPC sockets (ti_st, ti_dg, ti_rd, ti_sq; --tipc, -f tipc) \
         come from tipc_diag, split by socket type: local NODE:PORT (the own node address \
         and port id), the peer's NODE:PORT when connected, queues in messages; \
         --tipcinfo adds each socket's type, congestion, drops and service names. They are \
         not shown by default nor by -A all, as with ss; without tipc_diag the tables are \
         empty and --verbose says why.",
        )
        .para(
            "When a table is named and no state, -l or -a is given, each table shows ss's \
         default states for it: raw and udp connected (ESTAB) sockets, packet and netlink \
         their only state (UNCONN), the others connected ones; with -A, or with no table \
         named, connected sockets.",
        );
}

pub(super) fn filters(page: &mut Page) {
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
        .item(
            "bound-inactive",
            "TCP sockets bound to a port but neither listening nor connected (kernel 6.7 \
             and later; iproute2 6.8's name). Shown as the kernel reports them, UNCONN. Not \
             part of all.",
        )
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
             sockets, match the socket path with a shell glob pattern (the NULs of an \
             abstract name read as '@', as ss prints them). link:PROTO[:IFACE] matches packet \
             sockets by protocol (ip, ipv6, all, a number) and interface, netlink:PROTO[:PID] \
             netlink sockets by protocol (rtnl, genl, a number) and port id (kernel: 0); after \
             -0 or -f link (-f netlink) given last, the prefix may be left out. Such an operand \
             lists only its family.",
        )
        .item(
            "dev NAME",
            "Match the interface a socket is bound to (a packet or XDP socket: the interface \
             it listens on).",
        )
        .item(
            "autobound",
            "Match sockets whose local port the kernel chose rather than bind().",
        )
        .item(
            "netns [=|!=] PATTERN",
            "A sockeye extension (ss has none), checked in userspace only: match the \
             socket's network namespace by a shell glob against its /run/netns name, its \
             container's name, id or pod, or net:[INODE]. Only sockets read with -N or \
             --all-netns carry a namespace; without them netns = matches nothing.",
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

pub(super) fn tcp_states(page: &mut Page) {
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

pub(super) fn namespaces(page: &mut Page) {
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
             fields are null. Container names are escaped in tables. Several containers \
             in one namespace are a pod: container names the pod and lists them in \
             \"containers\": [{\"id\", \"name\"}]. With -p, a socket of the host's \
             namespace whose owning process runs in a container (host networking) carries \
             that container.",
        )
        .para(
            "Entering a namespace needs CAP_SYS_ADMIN. Without it, a namespace holding one of \
             the caller's own processes is read through that process's /proc/PID/net (the \
             /proc source: listeners' backlog limits unknown); the others are named in one \
             line on standard error with the reason, and the rest are still shown. A \
             namespace that disappears while it is read is left out quietly.",
        );
}

pub(super) fn queues(page: &mut Page) {
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

pub(super) fn events_and_kill(page: &mut Page) {
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
             in JSON mode). A state selection is ignored with a note (every socket is freed \
             in state CLOSE). The header comes with the first event, padded as ss pads it.",
        )
        .item(
            "How it ended",
            "Each TCP connection's row ends with ended:REASON (JSON \"ended\", null for \
             listeners and UDP), read from its tcp_info at destruction: timeout (the kernel \
             was still retransmitting or probing an unanswering peer), refused (never \
             established, a RST came back), reset (data unacknowledged or this end's FIN \
             never acknowledged: a RST sent or received), orderly (this end's FIN sent and \
             acknowledged, nothing in flight), aborted (already disconnected by the kernel: a \
             failed connect or SO_LINGER 0; the counters are reset then), unknown (the \
             counters do not tell). The kernel gives no reason itself; these rules are \
             sockeye's reading of the counters.",
        )
        .item(
            "Lifetime",
            "The kernel sends no event at a socket's birth, so dump -E lists the followed \
             namespaces' TCP/UDP sockets once a second: a socket a scan saw gets \
             lifetime:MIN-MAX (JSON \"lifetime\": {\"min_ms\", \"max_ms\"}), bounded by the \
             first scan that listed it and the one before; >MIN when it was there at the \
             first scan. Shorter-lived sockets have none (null).",
        )
        .item(
            "-E -N NAME, -E --all-netns",
            "One subscription per network namespace (the kernel delivers a namespace's \
             events only inside it): -N follows one, --all-netns every one sockeye can enter \
             (CAP_SYS_ADMIN; the others are named in one line) with a leading Netns column \
             (JSON: netns), and looks for new namespaces every 5 s.",
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
