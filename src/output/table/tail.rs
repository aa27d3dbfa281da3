//! The last cell: processes, timers, extended details and the TCP continuation line, in
//! iproute2 6.1 ss's order (`inet_show_sock`, `unix_show_sock`).

use super::TableOptions;
use crate::model::{Details, FamilyClass, Netid, Socket, Source};
use crate::output::columns::{CellCtx, Column};
use crate::output::format::{
    push_alt_hex, push_shutdown, push_skmem, push_tcp_info, push_timer, push_u64,
};
use crate::text::escape;

/// The last cell: processes, timer, details, and the TCP continuation line, in ss's order.
pub(super) fn push_tail(out: &mut String, s: &Socket, ctx: &CellCtx, opts: &TableOptions) {
    let details = s.details.as_deref();
    // ss never names the processes of netlink sockets (JSON and the live view do); TIPC's
    // come after -e's fields.
    if !matches!(s.netid.class(), FamilyClass::Netlink | FamilyClass::Tipc) {
        push_owners(out, s, details, ctx, opts);
    }
    match s.netid {
        Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => {
            push_unix_tail(out, s, details, opts);
            return;
        }
        // ss's vsock_stats_print ends with the owners (proc_ctx_print): nothing else.
        Netid::VsockStream | Netid::VsockDgram => return,
        // ss's xdp_show_sock: the owners, -e's uid/ino/sk then rings, umem and stats, -m.
        Netid::Xdp => {
            if opts.extended {
                push_sock_details(out, s, details);
                if let Some(r) = details.and_then(|d| d.xdp.as_deref()) {
                    super::families::push_xdp_rings(out, r, opts.oneline);
                }
            }
            if opts.memory
                && let Some(m) = &s.memory
            {
                out.push(' ');
                push_skmem(out, m);
            }
            return;
        }
        // ss's tipc_show_sock: -e's uid/ino/sk, the owners, then --tipcinfo's report.
        Netid::TipcStream | Netid::TipcDgram | Netid::TipcRdm | Netid::TipcSeqpacket => {
            if opts.extended {
                push_sock_details(out, s, details);
            }
            push_owners(out, s, details, ctx, opts);
            if opts.tipcinfo
                && let Some(t) = details.and_then(|d| d.tipc.as_deref())
            {
                super::families::push_tipc_info(out, t, opts.oneline);
            }
            return;
        }
        Netid::PacketRaw | Netid::PacketDgram => {
            if opts.extended {
                push_sock_details(out, s, details);
                if let crate::model::Endpoint::Link { info: Some(p), .. } = &s.local {
                    push_packet_info(out, p, opts.oneline);
                }
                if let Some(r) = details.and_then(|d| d.packet.as_deref()) {
                    push_packet_rings(out, r, opts.oneline);
                }
            }
            if opts.memory
                && let Some(m) = &s.memory
            {
                out.push(' ');
                push_skmem(out, m);
            }
            return;
        }
        Netid::Netlink => {
            // ss (netlink_show_one): `-Z`/`-z`'s proc_ctx of the port id's process; the
            // skmem after a tab on the same line; `-e` the socket's groups (its netlink
            // path prints sk and cb as 0: they are /proc/net/netlink's pointers).
            if let Some(c) = details.and_then(|d| d.netlink_ctx.as_deref()) {
                out.push_str(" proc_ctx=");
                // Read from /proc: untrusted text.
                out.push_str(&escape(c));
            }
            if opts.extended
                && let crate::model::Endpoint::Netlink { groups, .. } = s.local
            {
                use std::fmt::Write as _;
                if ctx.source() == Source::Netlink {
                    out.push_str(" sk=0 cb=0");
                }
                let _ = write!(out, " groups=0x{groups:08x}");
            }
            if opts.memory
                && let Some(m) = &s.memory
            {
                out.push_str("\t ");
                push_skmem(out, m);
            }
            return;
        }
        // Read from /proc/net/raw{,6} (no raw diag module): ss prints nothing more there.
        Netid::Raw if s.cookie.is_none() => return,
        Netid::Tcp | Netid::Udp | Netid::Raw | Netid::Mptcp | Netid::Dccp | Netid::Sctp => {}
    }
    if opts.timers && s.timer.is_some() {
        let mark = out.len();
        out.push(' ');
        if !push_timer(out, s.netid, s.timer.as_ref()) {
            out.truncate(mark);
        }
    }
    if opts.extended {
        push_sock_details(out, s, details);
        if let (Some(v6), crate::model::Endpoint::Inet { addr, .. }) = (s.v6only, &s.local)
            && addr.is_ipv6()
        {
            out.push_str(if v6 { " v6only:1" } else { " v6only:0" });
        }
        if let Some(mask) = details.and_then(|d| d.shutdown) {
            push_shutdown(out, mask);
        }
    }
    if opts.tos
        && let Some(d) = details
    {
        for (label, v) in [
            (" tos:", d.tos.map(u32::from)),
            (" tclass:", d.tclass.map(u32::from)),
            (" class_id:", d.class_id),
        ] {
            if let Some(v) = v {
                out.push_str(label);
                push_alt_hex(out, v);
            }
        }
    }
    if opts.cgroup {
        push_cgroup(out, details);
    }
    if opts.inet_sockopt
        && let Some(bits) = details.and_then(|d| d.sockopt)
    {
        out.push_str(if opts.oneline {
            " inet-sockopt: ("
        } else {
            "\n\tinet-sockopt: ("
        });
        for (bit, name) in crate::model::INET_SOCKOPTS {
            if bits & bit != 0 {
                out.push(' ');
                out.push_str(name);
            }
        }
        out.push(')');
    }
    // ss's /proc path prints no continuation line; its netlink path prints one for every
    // TCP socket with -i or -m (empty for TIME-WAIT), and for UDP with -m.
    // SCTP's too (ss's sctp_show_info: skmem, then every local and peer address).
    let continuation =
        opts.memory || (opts.info && matches!(s.netid, Netid::Tcp | Netid::Mptcp | Netid::Sctp));
    if continuation && ctx.source() == Source::Netlink {
        if !opts.oneline {
            out.push_str("\n\t");
        }
        if opts.memory
            && let Some(m) = &s.memory
        {
            out.push(' ');
            push_skmem(out, m);
        }
        if s.netid == Netid::Sctp
            && let Some(d) = details
        {
            push_sctp_addrs(out, " locals:", &d.sctp_locals);
            push_sctp_addrs(out, " peers:", &d.sctp_peers);
            if opts.info
                && let Some(i) = &d.sctp_info
            {
                push_sctp_info(out, i);
            }
        }
        if opts.info
            && let Some(info) = &s.tcp_info
        {
            push_tcp_info(out, info, s.state, ctx.numeric(), opts.timers);
        }
        if let Some(x) = details.and_then(|d| d.info_extras.as_deref()) {
            super::extras::push_info_extras(out, x);
        }
    }
}

/// ` locals:A,B` / ` peers:A,B` of an SCTP socket, numeric as ss's `format_host_sa`
/// prints them; nothing when the kernel sent none.
fn push_sctp_addrs(out: &mut String, label: &str, addrs: &[std::net::IpAddr]) {
    use std::fmt::Write as _;
    for (i, a) in addrs.iter().enumerate() {
        out.push_str(if i == 0 { label } else { "," });
        let _ = write!(out, "{a}");
    }
}

/// ss's `sctp_stats_print`: each non-zero field, `%d` (so a u32 above i32::MAX prints
/// negative, as there), the tags in hex.
fn push_sctp_info(out: &mut String, i: &crate::model::SctpInfo) {
    use std::fmt::Write as _;
    if i.tag != 0 {
        let _ = write!(out, " tag:{:x}", i.tag);
    }
    if let Some(st) = u8::try_from(i.state)
        .ok()
        .filter(|s| *s != 0)
        .and_then(crate::model::SctpState::from_kernel)
    {
        out.push_str(" state:");
        out.push_str(st.ss_name());
    }
    let d = |out: &mut String, label: &str, v: u32| {
        if v != 0 {
            let _ = write!(out, " {label}:{}", v as i32);
        }
    };
    d(out, "rwnd", i.rwnd);
    d(out, "unackdata", i.unackdata.into());
    d(out, "penddata", i.penddata.into());
    d(out, "instrms", i.instrms.into());
    d(out, "outstrms", i.outstrms.into());
    d(out, "inqueue", i.inqueue);
    d(out, "outqueue", i.outqueue);
    d(out, "overerr", i.overall_error);
    d(out, "maxburst", i.max_burst);
    d(out, "maxseg", i.maxseg);
    d(out, "prwnd", i.peer_rwnd);
    if i.peer_tag != 0 {
        let _ = write!(out, " ptag:{:x}", i.peer_tag);
    }
    d(out, "pcapable", i.peer_capable.into());
    d(out, "psack", i.peer_sack.into());
    d(out, "autoclose", i.autoclose);
    d(out, "adapind", i.adaptation_ind);
    d(out, "pdpoint", i.pd_point);
    d(out, "nodelay", i.nodelay.into());
    d(out, "nofrag", i.disable_fragments.into());
    d(out, "v4mapped", i.v4mapped.into());
    d(out, "fraginl", i.frag_interleave.into());
}

/// ` users:(...)`: processes (`-p`), or threads (`-T`).
fn push_owners(
    out: &mut String,
    s: &Socket,
    details: Option<&Details>,
    ctx: &CellCtx,
    opts: &TableOptions,
) {
    if opts.threads {
        let threads = details.map_or(&[][..], |d| &d.threads[..]);
        if threads.is_empty() {
            return;
        }
        out.push_str(" users:(");
        // ss's order: the last thread found first (ss walks pids, their tids, then fds).
        let mut threads: Vec<_> = threads.iter().collect();
        threads.sort_by_key(|t| std::cmp::Reverse((t.pid, t.tid, t.fd)));
        for (i, t) in threads.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("(\"");
            out.push_str(&escape(&t.command));
            out.push_str("\",pid=");
            push_u64(out, t.pid.into());
            out.push_str(",tid=");
            push_u64(out, t.tid.into());
            out.push_str(",fd=");
            push_u64(out, t.fd.into());
            out.push(')');
        }
        out.push(')');
    } else if opts.processes && !s.processes.is_empty() {
        out.push(' ');
        // Through the column model: process names are escaped there.
        Column::Process.write(s, ctx, out);
    }
}

/// ss's `sock_details_print`: ` uid:U` (not for root) ` ino:I sk:COOKIE` ` fwmark:0x..`
/// ` cgroup:PATH`.
fn push_sock_details(out: &mut String, s: &Socket, details: Option<&Details>) {
    if let Some(uid) = s.uid.filter(|u| *u != 0) {
        out.push_str(" uid:");
        push_u64(out, uid.into());
    }
    out.push_str(" ino:");
    push_u64(out, s.inode);
    if let Some(cookie) = s.cookie {
        use std::fmt::Write as _;
        let _ = write!(out, " sk:{cookie:x}");
    }
    if let Some(mark) = details.and_then(|d| d.mark).filter(|m| *m != 0) {
        use std::fmt::Write as _;
        let _ = write!(out, " fwmark:{mark:#x}");
    }
    push_cgroup(out, details);
}

fn push_cgroup(out: &mut String, details: Option<&Details>) {
    let Some(d) = details else { return };
    match (d.cgroup_id, &d.cgroup_path) {
        (Some(0) | None, _) => {}
        (Some(_), Some(path)) => {
            out.push_str(" cgroup:");
            // A container runtime names these directories: untrusted text.
            out.push_str(&escape(path));
        }
        (Some(id), None) => {
            use std::fmt::Write as _;
            let _ = write!(out, " cgroup:unreachable:{id:x}");
        }
    }
}

/// unix: ` skmem:(...)` (`-m`), then (`-e`) the shutdown mark, ` ino:I dev:MAJ/MIN` of a
/// bound path and a listener's ` peers: I I ...`.
fn push_unix_tail(out: &mut String, s: &Socket, details: Option<&Details>, opts: &TableOptions) {
    if opts.memory
        && let Some(m) = &s.memory
    {
        out.push(' ');
        push_skmem(out, m);
    }
    if !opts.extended {
        return;
    }
    let Some(d) = details else { return };
    if let Some(mask) = d.shutdown {
        push_shutdown(out, mask);
    }
    if let Some((ino, dev)) = d.vfs {
        // The kernel's new_encode_dev; glibc's major()/minor() of a 32-bit value.
        let (major, minor) = ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
        out.push_str(" ino:");
        push_u64(out, ino.into());
        out.push_str(" dev:");
        push_u64(out, major.into());
        out.push('/');
        push_u64(out, minor.into());
    }
    if let Some(icons) = &d.icons {
        out.push_str(" peers:");
        for i in icons {
            out.push(' ');
            push_u64(out, (*i).into());
        }
    }
}

/// ss's packet `-e` line: `\n\tver:V cpy_thresh:T flags( running auxdata ... )`.
fn push_packet_info(out: &mut String, p: &crate::model::PacketInfo, oneline: bool) {
    use std::fmt::Write as _;
    out.push_str(if oneline { " " } else { "\n\t" });
    let _ = write!(
        out,
        "ver:{} cpy_thresh:{} flags( ",
        p.version, p.copy_thresh
    );
    for (bit, name) in [
        (0x1, "running"),
        (0x2, " auxdata"),
        (0x4, " origdev"),
        (0x8, " vnethdr"),
        (0x10, " loss"),
    ] {
        if p.flags & bit != 0 {
            out.push_str(name);
        }
    }
    if p.flags == 0 {
        out.push('0');
    }
    out.push_str(" )");
}

/// ss's `packet_show_ring` lines and its fanout group: `ring_rx(blk_size:..,features:0x..)`,
/// `ring_tx(...)`, `fanout(id:N,type:hash)`, each on its own line (or one line with `-O`).
fn push_packet_rings(out: &mut String, r: &crate::model::PacketRings, oneline: bool) {
    use std::fmt::Write as _;
    let sep = if oneline { " " } else { "\n\t" };
    for (name, ring) in [("ring_rx(", &r.rx), ("ring_tx(", &r.tx)] {
        if let Some(g) = ring {
            // ss prints these with %d: a value above i32::MAX shows negative there too.
            let _ = write!(
                out,
                "{sep}{name}blk_size:{},blk_nr:{},frm_size:{},frm_nr:{},tmo:{},features:0x{:x})",
                g.block_size as i32,
                g.block_nr as i32,
                g.frame_size as i32,
                g.frame_nr as i32,
                g.retire_tmo as i32,
                g.features
            );
        }
    }
    if let Some(f) = r.fanout {
        let _ = write!(out, "{sep}fanout(id:{},type:", f & 0xffff);
        match (f >> 16) & 0xffff {
            0 => out.push_str("hash"),
            1 => out.push_str("lb"),
            2 => out.push_str("cpu"),
            3 => out.push_str("roll"),
            4 => out.push_str("random"),
            5 => out.push_str("qm"),
            t => {
                let _ = write!(out, "0x{t:x}");
            }
        }
        out.push(')');
    }
}
