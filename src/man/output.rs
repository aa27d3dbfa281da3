//! What dump prints after the peer under ss's output flags, and the ss personality.

use super::Page;

pub(super) fn output_flags(page: &mut Page) {
    page.section("OUTPUT FLAGS")
        .para(
            "sockeye dump prints what ss(8) 6.1 prints after the peer address, field for \
             field, in the same order and spelling.",
        )
        .item(
            "-p",
            "users:((\"cmd\",pid=P,fd=F),...): the processes holding the socket, in ss's \
             order: the highest pid (within it, the highest fd) first.",
        )
        .item(
            "-T",
            "users:((\"cmd\",pid=P,tid=T,fd=F),...): every thread holding it (each thread's \
             own fd table is read, as ss reads it).",
        )
        .item("-o", "timer:(on|keepalive|timewait|persist,TIME,RETRANS); SCTP associations: timer:(T3_RTX,TIME,RETRANS).")
        .item(
            "-e",
            "Implies -o. uid:U (not for root), ino:I, sk:COOKIE, fwmark:0x.. (the kernel tells \
             CAP_NET_ADMIN only), cgroup:PATH, v6only:0|1 and the shutdown mark: <-> open, \
             --> the receiving side shut, <-- the sending side shut, --- both. Unix: the \
             shutdown mark, ino:I dev:MAJ/MIN of a bound path, and a listener's peers: with \
             the connections it has not accepted.",
        )
        .item(
            "--tos",
            "tos:0x.., tclass:0x.. (IPv6) and class_id:0x.. (the net_cls class, or the \
             socket priority without one), as C's %#x.",
        )
        .item(
            "--cgroup",
            "cgroup:PATH from the kernel's cgroup v2 id; unreachable:ID for a cgroup removed \
             since.",
        )
        .item(
            "--inet-sockopt",
            "A line inet-sockopt: ( ... ) naming the options set: recverr, is_icsk, freebind, \
             hdrincl, mc_loop, transparent, mc_all, nodefrag, bind_addr_no_port, \
             recverr_rfc4884, defer_connect.",
        )
        .item(
            "-m",
            "skmem:(r,rb,t,tb,f,w,o,bl,d): allocated receive memory, receive buffer, \
             allocated send memory, send buffer, forward-allocated, queued for sending, \
             option memory, backlog, drops. On the next line for TCP and UDP.",
        )
        .item(
            "-i",
            "TCP, on the next line: with -o or -e the negotiated options (ts sack ecn ecnseen \
             fastopen); the congestion module; wscale, rto, backoff, rtt/rttvar, ato, mss, \
             pmtu, rcvmss, advmss, cwnd, ssthresh, bytes_*, segs_*, data_segs_*; the module's \
             own report (bbr:(bw,mrtt,pacing_gain,cwnd_gain), dctcp:(...) or \
             dctcp:fallback_mode); send, lastsnd, lastrcv, lastack, pacing_rate, \
             delivery_rate, delivered, delivered_ce, app_limited, busy with rwnd_limited and \
             sndbuf_limited as time and percentage, unacked, retrans, lost, sacked, \
             dsack_dups, fackets, reordering, reord_seen, rcv_rtt, rcv_space, rcv_ssthresh, \
             notsent, minrtt, rcv_ooopack, snd_wnd. Rates in bits per second (k, M, G, T \
             unless -n). Then, as ss: md5keys:ADDR/PREFIX=KEY (to CAP_NET_ADMIN) and \
             tcp-ulp-NAME with kTLS's version, cipher, rxconf and txconf or an MPTCP \
             subflow's flags, token, seq, sfseq, ssnoff and maplen. MPTCP sockets (-M): \
             subflows, add_addr_signal, add_addr_accepted, the three maxima, fallback, \
             remote_key, token, write_seq, snd_una, rcv_nxt (those not zero).",
        )
        .item(
            "-e (packet)",
            "With -0: ver, cpy_thresh and flags( ... ), then the mmap rings \
             ring_rx(blk_size,blk_nr,frm_size,frm_nr,tmo,features) and ring_tx(...) and the \
             fanout group fanout(id:N,type:hash|lb|cpu|roll|random|qm).",
        )
        .item(
            "-e (XDP)",
            "With --xdp: the rings rx(entries:N) and tx(entries:N), the umem \
             umem(id,size,num_pages,chunk_size,headroom,ifindex,qid,zc,refs) with its fill and \
             completion rings fr(entries:N) and cr(entries:N), and the counters stats(rx \
             dropped,rx invalid,rx queue full,rx fill ring empty,tx invalid,tx ring empty), \
             each on its own line (with -O on the row, the umem spelled tumem( as ss 6.1 \
             spells it).",
        )
        .item(
            "--tipcinfo",
            "TIPC sockets, after -e's fields and the processes: on a new line starting with a \
             space, type:STREAM|DGRAM|RDM|SEQPACKET, cong:link|conn|none, drop:N, publ when \
             the socket published a service name, via {TYPE,INSTANCE} when it connected to \
             one.",
        )
        .item(
            "-O",
            "One line per socket: the next-line text joins the row.",
        )
        .item(
            "-r",
            "Host names through the system resolver (/etc/hosts, then DNS), each address \
             asked once per run; an IPv4-mapped address is asked as the IPv4 address it maps, \
             as ss asks. A lookup taking over 2 seconds ends resolving for the run: \
             the rest is numeric, and one line on standard error says so.",
        )
        .item(
            "-b",
            "ss shows the classic BPF filters of packet sockets; for TCP and UDP it is -o.",
        )
        .item(
            "-Z, -z",
            "SELinux contexts, as ss: -Z implies -p and adds proc_ctx=CONTEXT to each \
             process, -z also sock_ctx=CONTEXT (the socket's); unavailable when unreadable. \
             Netlink sockets get proc_ctx=CONTEXT after the peer: the kernel's initial \
             context for port id 0, the process whose pid is the port id otherwise. \
             Without SELinux, as ss: \"SELinux is not enabled.\" and exit status 1.",
        )
        .item(
            "-H",
            "No header line; Recv-Q and Send-Q stay six characters wide, as ss prints them.",
        )
        .item(
            "-D FILE",
            "Write the TCP table as the kernel sent it (netlink messages, the format ss -D \
             writes; - for standard output), with the selection's states, filter and \
             extensions applied, and exit. TCPDIAG_FILE reads such a file back.",
        )
        .para(
            "Invoked through a link named ss (ln -s sockeye ss), sockeye behaves as sockeye \
             dump: ss -tanp runs sockeye dump -tanp.",
        );
}
