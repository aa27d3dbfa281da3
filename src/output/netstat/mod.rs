//! net-tools netstat's layout over the socket model: the "Active Internet connections" and
//! "Active UNIX domain sockets" sections, their headers, column widths, address truncation,
//! state spellings, `User Inode`, `PID/Program name` and timers, byte for byte as netstat
//! 2.10 prints them. What netstat reads from other files than the socket tables (host,
//! service and user names, argv[0] of a process, unix reference counts) comes through a
//! [`Lookup`], which the command fills from the host.
//!
//! Widths are counted in bytes, as printf counts them: netstat pads with `%-Ns`.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::collect::netlink::unix_shown_name;
use crate::model::{Endpoint, Netid, Socket, TcpState, TimerKind};
use crate::text;

#[cfg(test)]
mod tests;

/// netstat's `PROGNAME_WIDTH`: the column's width, and one more than the longest
/// `PID/name` it keeps (its buffer holds the terminating NUL).
const PROGNAME_WIDTH: usize = 20;
/// netstat's `short_len` for an address and port together without `-W`.
const SHORT_LEN: usize = 22;

/// What the command line asked to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// `-a`: servers and established.
    pub all: bool,
    /// `-l`: servers only.
    pub listening: bool,
    pub numeric_hosts: bool,
    pub numeric_ports: bool,
    pub numeric_users: bool,
    /// `-p`.
    pub programs: bool,
    /// `-e`: the User and Inode columns.
    pub extend: bool,
    /// `-o`.
    pub timers: bool,
    /// `-W`.
    pub wide: bool,
}

/// Names netstat takes from outside the socket tables. `None` means "print the number"
/// (or `-`), as netstat does when a lookup fails.
pub trait Lookup {
    /// A host name for `addr` (netstat's reverse lookup without `-n`).
    fn host(&mut self, addr: IpAddr) -> Option<String>;
    /// A service name for `port` of protocol `proto` ("tcp", "udp").
    fn service(&mut self, port: u16, proto: &str) -> Option<String>;
    /// A user name for `uid`.
    fn user(&mut self, uid: u32) -> Option<String>;
    /// argv[0] of `pid` as netstat shortens it (after the last `/` of an absolute path);
    /// `None` when /proc/PID/cmdline cannot be read.
    fn program(&mut self, pid: u32) -> Option<String>;
    /// The reference count /proc/net/unix gives the unix socket `inode`.
    fn unix_refcnt(&mut self, inode: u64) -> Option<u32>;
}

/// Which of netstat's sections a socket belongs to.
pub fn is_inet(s: &Socket) -> bool {
    match s.netid {
        Netid::Tcp | Netid::Udp | Netid::Raw => true,
        // netstat's personality lists TCP, UDP, raw and unix only (commands/netstat asks
        // for nothing else): the other kinds are in no section.
        Netid::UnixStream
        | Netid::UnixDgram
        | Netid::UnixSeqpacket
        | Netid::Mptcp
        | Netid::PacketRaw
        | Netid::PacketDgram
        | Netid::Netlink
        | Netid::Dccp
        | Netid::Sctp
        | Netid::VsockStream
        | Netid::VsockDgram
        | Netid::Xdp
        | Netid::TipcStream
        | Netid::TipcDgram
        | Netid::TipcRdm
        | Netid::TipcSeqpacket => false,
    }
}

/// netstat's order: tcp, tcp6, udp, udp6, raw, raw6, then unix; the kernel's order within
/// each.
pub fn sort(sockets: &mut [Socket]) {
    sockets.sort_by_key(|s| {
        let table = match s.netid {
            Netid::Tcp => 0,
            Netid::Udp => 1,
            Netid::Raw => 2,
            Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => 3,
            Netid::Mptcp
            | Netid::PacketRaw
            | Netid::PacketDgram
            | Netid::Netlink
            | Netid::Dccp
            | Netid::Sctp
            | Netid::VsockStream
            | Netid::VsockDgram
            | Netid::Xdp
            | Netid::TipcStream
            | Netid::TipcDgram
            | Netid::TipcRdm
            | Netid::TipcSeqpacket => 4,
        };
        (table, is_v6(s))
    });
}

fn is_v6(s: &Socket) -> bool {
    matches!(
        s.local,
        Endpoint::Inet {
            addr: IpAddr::V6(_),
            ..
        }
    )
}

/// Whether netstat lists `s` under `-l`/`-a`/neither. netstat decides by the peer, not by
/// the state: a TCP socket is a server when its remote port is 0, a UDP or raw one when its
/// remote address is unspecified, a unix one when it listens.
pub fn selected(s: &Socket, layout: &Layout) -> bool {
    if layout.all {
        return true;
    }
    let server = match (&s.netid, &s.peer) {
        (Netid::Tcp, Endpoint::Inet { port, .. }) => *port == 0,
        (Netid::Udp | Netid::Raw, Endpoint::Inet { addr, .. }) => addr.is_unspecified(),
        (Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket, _) => {
            s.state == TcpState::Listen
        }
        (Netid::Tcp | Netid::Udp | Netid::Raw, _) => false,
        (
            Netid::Mptcp
            | Netid::PacketRaw
            | Netid::PacketDgram
            | Netid::Netlink
            | Netid::Dccp
            | Netid::Sctp
            | Netid::VsockStream
            | Netid::VsockDgram
            | Netid::Xdp
            | Netid::TipcStream
            | Netid::TipcDgram
            | Netid::TipcRdm
            | Netid::TipcSeqpacket,
            _,
        ) => false,
    };
    server == layout.listening
}

fn which(layout: &Layout) -> &'static str {
    if layout.all {
        "(servers and established)"
    } else if layout.listening {
        "(only servers)"
    } else {
        "(w/o servers)"
    }
}

/// The two header lines of the Internet section.
pub fn inet_header(layout: &Layout) -> String {
    let mut h = format!(
        "Active Internet connections {}\nProto Recv-Q Send-Q Local Address           Foreign Address         State      ",
        which(layout)
    );
    if layout.extend {
        h.push_str(" User       Inode     ");
    }
    if layout.programs {
        let _ = write!(h, " {:<PROGNAME_WIDTH$}", "PID/Program name");
    }
    if layout.timers {
        h.push_str(" Timer");
    }
    h.push('\n');
    h
}

/// The two header lines of the unix section.
pub fn unix_header(layout: &Layout) -> String {
    let mut h = format!(
        "Active UNIX domain sockets {}\nProto RefCnt Flags       Type       State         I-Node  ",
        which(layout)
    );
    if layout.programs {
        let _ = write!(h, " {:<PROGNAME_WIDTH$}", "PID/Program name");
    }
    h.push_str(" Path\n");
    h
}

/// `s` left-aligned in `width` bytes, as `%-Ns`.
fn pad(out: &mut String, s: &str, width: usize) {
    out.push_str(s);
    for _ in s.len()..width {
        out.push(' ');
    }
}

/// The longest prefix of `s` of at most `n` bytes that ends on a character boundary.
fn prefix(s: &str, n: usize) -> &str {
    let mut end = n.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// netstat's `addr_do_one`: `HOST:PORT`, cut to 22 bytes without `-W` by shortening the
/// port to at most 18 bytes and the host to the rest.
fn address(
    addr: IpAddr,
    port: u16,
    proto: &str,
    layout: &Layout,
    lookup: &mut dyn Lookup,
) -> String {
    let host = host_text(addr, layout, lookup);
    let port = if port == 0 {
        "*".to_string()
    } else if layout.numeric_ports {
        port.to_string()
    } else {
        lookup
            .service(port, proto)
            .map(|n| text::escape(&n).into_owned())
            .unwrap_or_else(|| port.to_string())
    };
    if !layout.wide && host.len() + port.len() > SHORT_LEN {
        let port_len = port.len().min(SHORT_LEN - 4);
        let host_len = SHORT_LEN - port_len;
        format!("{}:{}", prefix(&host, host_len), prefix(&port, port_len))
    } else {
        format!("{host}:{port}")
    }
}

fn host_text(addr: IpAddr, layout: &Layout, lookup: &mut dyn Lookup) -> String {
    if let IpAddr::V6(a) = addr
        && let Some(v4) = a.to_ipv4_mapped()
    {
        // netstat prints an IPv4-mapped address of a tcp6/udp6 socket as the IPv4
        // address, and names it in no mode.
        return v4.to_string();
    }
    if !layout.numeric_hosts {
        if let IpAddr::V6(a) = addr
            && a.is_unspecified()
        {
            // netstat 2.10 names the IPv6 wildcard so, and looks nothing up for it.
            return "[::]".into();
        }
        if !addr.is_unspecified()
            && let Some(name) = lookup.host(addr)
        {
            return text::escape(&name).into_owned();
        }
    }
    addr.to_string()
}

fn tcp_state(s: TcpState) -> &'static str {
    match s {
        TcpState::Established => "ESTABLISHED",
        TcpState::SynSent => "SYN_SENT",
        TcpState::SynRecv => "SYN_RECV",
        TcpState::FinWait1 => "FIN_WAIT1",
        TcpState::FinWait2 => "FIN_WAIT2",
        TcpState::TimeWait => "TIME_WAIT",
        TcpState::Close => "CLOSE",
        TcpState::CloseWait => "CLOSE_WAIT",
        TcpState::LastAck => "LAST_ACK",
        TcpState::Listen => "LISTEN",
        TcpState::Closing => "CLOSING",
    }
}

fn number(n: Option<impl std::fmt::Display>) -> String {
    n.map_or_else(|| "-".to_string(), |n| n.to_string())
}

/// The TCP Timer column: netstat prints /proc/net/tcp's timer kind, its clock ticks left
/// (hundredths of a second), `retrnsmt` (icsk_retransmits) and `timeout`
/// (icsk_probes_out). tcp_info carries the last two as tcpi_retransmits and tcpi_probes;
/// a TIME-WAIT or SYN-RECV socket has no tcp_info and its /proc line has the retransmits
/// (a request's timeouts) in `retrnsmt` and 0 in `timeout`.
fn tcp_timer(s: &Socket) -> String {
    let Some(t) = s.timer else {
        return "-".into();
    };
    let (retr, probes) = match (&s.tcp_info, s.state) {
        (Some(i), _) => (Some(u32::from(i.retransmits)), Some(u32::from(i.probes))),
        // A TIME-WAIT socket (FIN-WAIT-2 orphans too) and a request socket have no
        // tcp_info; the kernel prints 0 as their `timeout`.
        (None, TcpState::SynRecv) => (Some(t.retrans), Some(0)),
        (None, _) if t.kind == TimerKind::TimeWait => (Some(t.retrans), Some(0)),
        // Without tcp_info (read from /proc), the model kept one of the two counts.
        (None, _) => match t.kind {
            TimerKind::Off | TimerKind::Retransmit | TimerKind::TimeWait => (Some(t.retrans), None),
            TimerKind::Keepalive | TimerKind::Probe => (None, Some(t.retrans)),
        },
    };
    let secs = t.expires_ms as f64 / 1000.0;
    let (retr, probes) = (number(retr), number(probes));
    match t.kind {
        TimerKind::Off => format!("off (0.00/{retr}/{probes})"),
        TimerKind::Retransmit => format!("on ({secs:.2}/{retr}/{probes})"),
        TimerKind::Keepalive => format!("keepalive ({secs:.2}/{retr}/{probes})"),
        TimerKind::TimeWait => format!("timewait ({secs:.2}/{retr}/{probes})"),
        // netstat knows no name for the zero-window probe timer (4).
        TimerKind::Probe => format!("unkn-4 ({secs:.2}/{retr}/{probes})"),
    }
}

/// `PID/name` of the first process holding the socket (netstat keeps the first one its
/// /proc walk finds, the lowest pid), cut to 19 bytes; `-` when none is known.
fn program(s: &Socket, lookup: &mut dyn Lookup) -> String {
    if s.inode == 0 {
        return "-".into();
    }
    let mut last = None;
    for p in s.processes.iter() {
        if last == Some(p.pid) {
            continue;
        }
        last = Some(p.pid);
        // netstat skips a process whose cmdline it cannot open and tries the next.
        if let Some(name) = lookup.program(p.pid) {
            let full = format!("{}/{}", p.pid, name);
            return text::escape(prefix(&full, PROGNAME_WIDTH - 1)).into_owned();
        }
    }
    "-".into()
}

/// The columns after the state, as netstat's `finish_this_one`.
fn finish(
    out: &mut String,
    s: &Socket,
    timer: Option<String>,
    layout: &Layout,
    l: &mut dyn Lookup,
) {
    if layout.extend {
        let user = match s.uid {
            Some(uid) if !layout.numeric_users => l
                .user(uid)
                .map(|n| text::escape(&n).into_owned())
                .unwrap_or_else(|| uid.to_string()),
            uid => number(uid),
        };
        out.push(' ');
        pad(out, &user, 10);
        out.push(' ');
        pad(out, &s.inode.to_string(), 10);
    }
    if layout.programs {
        out.push(' ');
        pad(out, &program(s, l), PROGNAME_WIDTH);
    }
    if let Some(t) = timer {
        out.push(' ');
        out.push_str(&t);
    }
    out.push('\n');
}

/// One line of the Internet section.
pub fn inet_row(s: &Socket, layout: &Layout, lookup: &mut dyn Lookup) -> String {
    let (proto, v6) = match s.netid {
        Netid::Tcp => ("tcp", is_v6(s)),
        Netid::Udp => ("udp", is_v6(s)),
        Netid::Raw => ("raw", is_v6(s)),
        Netid::UnixStream
        | Netid::UnixDgram
        | Netid::UnixSeqpacket
        | Netid::Mptcp
        | Netid::PacketRaw
        | Netid::PacketDgram
        | Netid::Netlink
        | Netid::Dccp
        | Netid::Sctp
        | Netid::VsockStream
        | Netid::VsockDgram
        | Netid::Xdp
        | Netid::TipcStream
        | Netid::TipcDgram
        | Netid::TipcRdm
        | Netid::TipcSeqpacket => return String::new(),
    };
    let name = if v6 {
        format!("{proto}6")
    } else {
        proto.to_string()
    };
    let endpoint = |e: &Endpoint, lookup: &mut dyn Lookup| match e {
        Endpoint::Inet { addr, port } => address(*addr, *port, proto, layout, lookup),
        _ => "-".into(),
    };
    let local = endpoint(&s.local, lookup);
    let peer = endpoint(&s.peer, lookup);
    // A listener's /proc line has write_seq - snd_una as its tx_queue, where netlink
    // reports the backlog limit: a socket that listens has nothing unacknowledged.
    let send_q = if s.netid == Netid::Tcp && s.state == TcpState::Listen {
        Some(0)
    } else {
        s.send_q
    };
    let state = match s.netid {
        Netid::Tcp => tcp_state(s.state).to_string(),
        // netstat's raw_do_one prints /proc/net/raw's `st` as a number (7 unconnected).
        Netid::Raw => (s.state as u8).to_string(),
        _ => match s.state {
            TcpState::Established => "ESTABLISHED",
            TcpState::Close => "",
            _ => "UNKNOWN",
        }
        .to_string(),
    };
    let mut out = String::with_capacity(128);
    pad(&mut out, &name, 5);
    let _ = write!(out, " {:>6} {:>6} ", number(s.recv_q), number(send_q));
    pad(&mut out, &local, 23);
    out.push(' ');
    pad(&mut out, &peer, 23);
    out.push(' ');
    pad(&mut out, &state, 11);
    let timer = layout.timers.then(|| match s.netid {
        Netid::Tcp => tcp_timer(s),
        // /proc/net/udp and /proc/net/raw print no timer, retransmits or probes.
        _ => "off (0.00/0/0)".to_string(),
    });
    finish(&mut out, s, timer, layout, lookup);
    out
}

/// One line of the unix section. /proc/net/unix (where netstat reads them) gives the
/// reference count; the flags, type and state follow from the socket's kind and state as
/// the kernel prints them there.
pub fn unix_row(s: &Socket, layout: &Layout, lookup: &mut dyn Lookup) -> String {
    let kind = match s.netid {
        Netid::UnixStream => "STREAM",
        Netid::UnixDgram => "DGRAM",
        Netid::UnixSeqpacket => "SEQPACKET",
        Netid::Tcp
        | Netid::Udp
        | Netid::Raw
        | Netid::Mptcp
        | Netid::PacketRaw
        | Netid::PacketDgram
        | Netid::Netlink
        | Netid::Dccp
        | Netid::Sctp
        | Netid::VsockStream
        | Netid::VsockDgram
        | Netid::Xdp
        | Netid::TipcStream
        | Netid::TipcDgram
        | Netid::TipcRdm
        | Netid::TipcSeqpacket => return String::new(),
    };
    let (flags, state) = match s.state {
        TcpState::Listen => ("[ ACC ]", "LISTENING"),
        TcpState::Established => ("[ ]", "CONNECTED"),
        _ => ("[ ]", ""),
    };
    let refcnt = number(lookup.unix_refcnt(s.inode));
    let mut out = String::with_capacity(96);
    out.push_str("unix  ");
    pad(&mut out, &refcnt, 6);
    out.push(' ');
    pad(&mut out, flags, 11);
    out.push(' ');
    pad(&mut out, kind, 10);
    out.push(' ');
    pad(&mut out, state, 13);
    out.push(' ');
    pad(&mut out, &s.inode.to_string(), 8);
    if layout.programs {
        out.push(' ');
        pad(&mut out, &program(s, lookup), PROGNAME_WIDTH);
    }
    out.push(' ');
    if let Endpoint::Unix { path: Some(p), .. } = &s.local {
        // As /proc/net/unix prints it (what netstat reads): an abstract name's NULs as '@'.
        out.push_str(&text::escape(&unix_shown_name(p)));
    }
    out.push('\n');
    out
}
