//! The last cell: processes, timers, extended details and the TCP continuation line.

use super::TableOptions;
use crate::model::{Netid, Socket, Source};
use crate::output::columns::{CellCtx, Column};
use crate::output::format::{push_skmem, push_tcp_info, push_timer, push_u64};

/// The last cell: processes, timer, details, and the TCP continuation line, in ss's order.
pub(super) fn push_tail(out: &mut String, s: &Socket, ctx: &CellCtx, opts: &TableOptions) {
    // ss never names the processes of netlink sockets (JSON and the live view do).
    if opts.processes && !s.processes.is_empty() && s.netid != crate::model::Netid::Netlink {
        out.push(' ');
        // Through the column model: process names are escaped there.
        Column::Process.write(s, ctx, out);
    }
    match s.netid {
        Netid::UnixStream
        | Netid::UnixDgram
        | Netid::UnixSeqpacket
        | Netid::PacketRaw
        | Netid::PacketDgram => {
            if opts.extended && !s.netid.is_unix() {
                push_details(out, s);
                if let crate::model::Endpoint::Link { info: Some(p), .. } = &s.local {
                    push_packet_info(out, p);
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
            // ss: the skmem after a tab on the same line; `-e` the socket's groups (its
            // netlink path prints sk and cb as 0: they are /proc/net/netlink's pointers).
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
        Netid::Tcp | Netid::Udp | Netid::Raw | Netid::Mptcp => {}
    }
    if opts.timers && s.timer.is_some() {
        let mark = out.len();
        out.push(' ');
        if !push_timer(out, s.timer.as_ref()) {
            out.truncate(mark);
        }
    }
    if opts.extended {
        push_details(out, s);
        if let (Some(v6), crate::model::Endpoint::Inet { addr, .. }) = (s.v6only, &s.local)
            && addr.is_ipv6()
        {
            out.push_str(if v6 { " v6only:1" } else { " v6only:0" });
        }
    }
    // ss's /proc path prints no continuation line; its netlink path prints one for every
    // TCP socket with -i or -m (empty for TIME-WAIT), and for UDP with -m.
    let continuation = opts.memory || (opts.info && s.netid == Netid::Tcp);
    if continuation && ctx.source() == Source::Netlink {
        out.push_str("\n\t");
        if opts.memory
            && let Some(m) = &s.memory
        {
            out.push(' ');
            push_skmem(out, m);
        }
        if opts.info
            && let Some(info) = &s.tcp_info
        {
            push_tcp_info(out, info, s.state, ctx.numeric());
        }
    }
}

/// ss's `sock_details_print`: uid (when not root), inode, cookie.
fn push_details(out: &mut String, s: &Socket) {
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
}

/// ss's packet `-e` line: `\n\tver:V cpy_thresh:T flags( running auxdata ... )`.
fn push_packet_info(out: &mut String, p: &crate::model::PacketInfo) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "\n\tver:{} cpy_thresh:{} flags( ",
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
