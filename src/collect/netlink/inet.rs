//! Decoding of one inet_diag answer (`struct inet_diag_msg` + attributes) into a [`Socket`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::ulp;
use super::wire::{
    AF_INET, AF_INET6, Attrs, INET_DIAG_BBRINFO, INET_DIAG_CGROUP_ID, INET_DIAG_CLASS_ID,
    INET_DIAG_CONG, INET_DIAG_DCTCPINFO, INET_DIAG_INFO, INET_DIAG_MARK, INET_DIAG_SHUTDOWN,
    INET_DIAG_SKMEMINFO, INET_DIAG_SKV6ONLY, INET_DIAG_SOCKOPT, INET_DIAG_TCLASS, INET_DIAG_TOS,
    INET_DIAG_VEGASINFO,
};
use crate::collect::Query;
use crate::model::{
    CcInfo, Details, Endpoint, InfoExtras, MemInfo, Netid, Socket, TcpInfo, TcpState, Timer,
    TimerKind,
};

/// sizeof(struct inet_diag_msg).
pub const INET_DIAG_MSG_LEN: usize = 72;

/// The outcome of decoding one message. Not boxed: it is moved straight into the output
/// vector, and a box would cost one allocation per socket.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Decoded {
    Keep(Socket),
    /// Valid, but not wanted (state or userspace filter).
    Filtered,
    /// Undecodable: counted and skipped.
    Bad,
}

impl Decoded {
    /// A decoded socket, kept unless the query's userspace filter rejects it (every
    /// decoder ends with this).
    pub fn unless_filtered(sock: Socket, query: &Query) -> Decoded {
        match &query.keep {
            Some(keep) if !keep(&sock) => Decoded::Filtered,
            _ => Decoded::Keep(sock),
        }
    }
}

fn u32_at(b: &[u8; INET_DIAG_MSG_LEN], off: usize) -> u32 {
    // `off` is always a constant below 68: a true invariant.
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn addr(family: u8, raw: &[u8; 16]) -> IpAddr {
    if family == AF_INET {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    } else {
        IpAddr::V6(Ipv6Addr::from(*raw))
    }
}

/// `idiag_cookie[2]` as ss prints it; `INET_DIAG_NOCOOKIE` (all ones) means none.
pub fn cookie(lo: u32, hi: u32) -> Option<u64> {
    if lo == u32::MAX && hi == u32::MAX {
        None
    } else {
        Some((u64::from(hi) << 32) | u64::from(lo))
    }
}

fn timer_kind(n: u8) -> Option<TimerKind> {
    Some(match n {
        0 => TimerKind::Off,
        1 => TimerKind::Retransmit,
        2 => TimerKind::Keepalive,
        3 => TimerKind::TimeWait,
        4 => TimerKind::Probe,
        _ => return None,
    })
}

/// What [`decode_into`] did with one payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The socket was appended.
    Kept,
    Filtered,
    Bad,
}

/// Decode one SOCK_DIAG_BY_FAMILY payload of an inet dump of `netid`.
pub fn decode(payload: &[u8], netid: Netid, query: &Query) -> Decoded {
    let mut one = Vec::with_capacity(1);
    match decode_into(payload, netid, query, &mut one) {
        Outcome::Kept => one.pop().map_or(Decoded::Bad, Decoded::Keep),
        Outcome::Filtered => Decoded::Filtered,
        Outcome::Bad => Decoded::Bad,
    }
}

/// As [`decode`], appending the socket to `out`: a dump's sockets are filled in where they
/// stay rather than built and then moved twice (a socket is ~180 bytes; at 100,000 a dump,
/// the copies were a fifth of decoding).
pub fn decode_into(payload: &[u8], netid: Netid, query: &Query, out: &mut Vec<Socket>) -> Outcome {
    let at = out.len();
    let got = fill(payload, netid, query, out);
    match got {
        Outcome::Kept => {
            if let (Some(keep), Some(s)) = (&query.keep, out.get(at))
                && !keep(s)
            {
                out.truncate(at);
                return Outcome::Filtered;
            }
        }
        Outcome::Filtered | Outcome::Bad => out.truncate(at),
    }
    got
}

/// The body of [`decode_into`]: pushes the socket onto `out` as soon as its fixed part is
/// read and completes it there (the caller takes it off again unless [`Outcome::Kept`]).
fn fill(payload: &[u8], netid: Netid, query: &Query, out: &mut Vec<Socket>) -> Outcome {
    let Some(h) = payload.first_chunk::<INET_DIAG_MSG_LEN>() else {
        return Outcome::Bad;
    };
    let family = h[0];
    if family != AF_INET && family != AF_INET6 {
        return Outcome::Bad;
    }
    // An SCTP association reports its SCTP_STATE_* instead (sctp.rs).
    let (state, sctp_assoc) = if netid == Netid::Sctp {
        match super::sctp::state(h[1], &payload[INET_DIAG_MSG_LEN..]) {
            Some(s) => s,
            None => return Outcome::Bad,
        }
    } else {
        match TcpState::from_kernel(h[1]) {
            Some(s) => (s, None),
            None => return Outcome::Bad,
        }
    };
    // A TCP socket in CLOSE comes only from a request with TCP_BOUND_INACTIVE: bound, neither
    // listening nor connected (the kernel reports those as CLOSE).
    let bound_inactive = state == TcpState::Close && netid == Netid::Tcp;
    let wanted = query.states.contains(state) || (bound_inactive && query.states.bound_inactive());
    if !wanted {
        return Outcome::Filtered;
    }
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&h[8..24]);
    dst.copy_from_slice(&h[24..40]);
    let ifindex = u32_at(h, 40);
    // DCCP sockets are connection sockets too: inet_diag reports their timers alike.
    let timer = if matches!(netid, Netid::Tcp | Netid::Dccp) {
        timer_kind(h[2]).map(|kind| Timer {
            kind,
            expires_ms: u64::from(u32_at(h, 52)),
            retrans: u32::from(h[3]),
        })
    } else if netid == Netid::Sctp {
        // sctp_diag sets idiag_timer only for an association whose T3-rtx timer is pending
        // (ss prints it for any non-zero value).
        Some(Timer {
            kind: if h[2] == 0 {
                TimerKind::Off
            } else {
                TimerKind::Retransmit
            },
            expires_ms: u64::from(u32_at(h, 52)),
            retrans: u32::from(h[3]),
        })
    } else {
        None
    };

    out.push(Socket {
        netid,
        state,
        recv_q: Some(u32_at(h, 56)),
        send_q: Some(u32_at(h, 60)),
        local: Endpoint::Inet {
            addr: addr(family, &src),
            port: u16::from_be_bytes([h[4], h[5]]),
        },
        peer: Endpoint::Inet {
            addr: addr(family, &dst),
            port: u16::from_be_bytes([h[6], h[7]]),
        },
        inode: u64::from(u32_at(h, 68)),
        uid: Some(u32_at(h, 64)),
        cookie: cookie(u32_at(h, 44), u32_at(h, 48)),
        ifindex: (ifindex != 0).then_some(ifindex),
        v6only: None,
        timer,
        tcp_info: None,
        memory: None,
        details: None,
        processes: Default::default(),
        netns: None,
    });
    let Some(sock) = out.last_mut() else {
        return Outcome::Bad; // just pushed
    };

    let mut attrs = Attrs::new(&payload[INET_DIAG_MSG_LEN..]);
    let mut congestion: Option<&[u8]> = None;
    let mut cc_info: Option<CcInfo> = None;
    let mut details = (query.details || sctp_assoc.is_some()).then(|| Details {
        sctp_assoc,
        ..Details::default()
    });
    let sctp_addrs = netid == Netid::Sctp && (query.tcp_info || query.memory);
    for (kind, value) in attrs.by_ref() {
        if sctp_addrs
            && matches!(
                kind,
                super::sctp::INET_DIAG_LOCALS | super::sctp::INET_DIAG_PEERS
            )
        {
            let d = details.get_or_insert_with(Details::default);
            let addrs = super::sctp::addresses(value);
            if kind == super::sctp::INET_DIAG_LOCALS {
                d.sctp_locals = addrs;
            } else {
                d.sctp_peers = addrs;
            }
            continue;
        }
        if let Some(d) = details.as_mut()
            && detail(d, kind, value)
        {
            continue;
        }
        match kind {
            INET_DIAG_SKV6ONLY if family == AF_INET6 => {
                sock.v6only = value.first().map(|b| *b != 0);
            }
            INET_DIAG_INFO if query.tcp_info && netid == Netid::Sctp => {
                let d = details.get_or_insert_with(Details::default);
                d.sctp_info = Some(Box::new(super::sctp::info(value)));
            }
            INET_DIAG_INFO if query.tcp_info && netid == Netid::Tcp => {
                sock.tcp_info = Some(Box::new(tcp_info(value)));
            }
            INET_DIAG_INFO if query.tcp_info && netid == Netid::Mptcp => {
                extras(&mut details).mptcp = Some(super::mptcp::mptcp_info(value));
            }
            // Sent with every TCP answer; ss prints them on the -i/-m continuation line.
            ulp::INET_DIAG_ULP_INFO if query.tcp_info || query.memory => {
                extras(&mut details).ulp = Some(ulp::ulp_info(value));
            }
            ulp::INET_DIAG_MD5SIG if query.tcp_info || query.memory => {
                extras(&mut details).md5keys = ulp::md5keys(value);
            }
            INET_DIAG_CONG if query.tcp_info => congestion = Some(value),
            INET_DIAG_VEGASINFO | INET_DIAG_DCTCPINFO | INET_DIAG_BBRINFO if query.tcp_info => {
                cc_info = cc(kind, value);
            }
            INET_DIAG_SKMEMINFO if query.memory => sock.memory = Some(Box::new(meminfo(value))),
            _ => {}
        }
    }
    if attrs.broken {
        return Outcome::Bad;
    }
    if let (Some(info), Some(name)) = (sock.tcp_info.as_mut(), congestion) {
        let name = name.split(|b| *b == 0).next().unwrap_or_default();
        if !name.is_empty() {
            info.congestion = Some(String::from_utf8_lossy(name).into());
        }
    }
    sock.netns.clone_from(&query.netns);
    if let Some(info) = sock.tcp_info.as_mut() {
        info.cc_info = cc_info;
    }
    if let Some(mut d) = details {
        d.cgroup_path = d.cgroup_id.and_then(|id| query.cgroup_path(id));
        sock.details = Some(Box::new(d));
    }
    Outcome::Kept
}

/// The rare reports' home, made (with an otherwise empty [`Details`]) on first use.
fn extras(details: &mut Option<Details>) -> &mut InfoExtras {
    details
        .get_or_insert_with(Details::default)
        .info_extras
        .get_or_insert_with(Default::default)
}

fn u8_of(v: &[u8]) -> Option<u8> {
    v.first().copied()
}

fn u32_of(v: &[u8], off: usize) -> Option<u32> {
    let b = v.get(off..off + 4)?;
    Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

fn u16_of(v: &[u8], off: usize) -> Option<u16> {
    let b = v.get(off..off + 2)?;
    Some(u16::from_ne_bytes([b[0], b[1]]))
}

/// One of the attributes [`Details`] holds; false for any other. A short attribute leaves
/// the field unknown.
fn detail(d: &mut Details, kind: u16, v: &[u8]) -> bool {
    match kind {
        INET_DIAG_SHUTDOWN => d.shutdown = u8_of(v),
        INET_DIAG_MARK => d.mark = u32_of(v, 0),
        INET_DIAG_CGROUP_ID => {
            d.cgroup_id = v.first_chunk::<8>().map(|b| u64::from_ne_bytes(*b));
        }
        INET_DIAG_TOS => d.tos = u8_of(v),
        INET_DIAG_TCLASS => d.tclass = u8_of(v),
        INET_DIAG_CLASS_ID => d.class_id = u32_of(v, 0),
        // struct inet_diag_sockopt: two bytes of bit fields, the first bit lowest.
        INET_DIAG_SOCKOPT if v.len() >= 2 => d.sockopt = u16_of(v, 0),
        _ => return false,
    }
    true
}

/// A congestion module's own report; `None` when the attribute is too short for its struct.
fn cc(kind: u16, v: &[u8]) -> Option<CcInfo> {
    Some(match kind {
        INET_DIAG_VEGASINFO => CcInfo::Vegas {
            enabled: u32_of(v, 0)?,
            rttcnt: u32_of(v, 4)?,
            rtt_us: u32_of(v, 8)?,
            min_rtt_us: u32_of(v, 12)?,
        },
        INET_DIAG_DCTCPINFO => CcInfo::Dctcp {
            enabled: u16_of(v, 0)? != 0,
            ce_state: u16_of(v, 2)?,
            alpha: u32_of(v, 4)?,
            ab_ecn: u32_of(v, 8)?,
            ab_tot: u32_of(v, 12)?,
        },
        INET_DIAG_BBRINFO => CcInfo::Bbr {
            bw: (u64::from(u32_of(v, 4)?) << 32) | u64::from(u32_of(v, 0)?),
            min_rtt_us: u32_of(v, 8)?,
            pacing_gain: u32_of(v, 12)?,
            cwnd_gain: u32_of(v, 16)?,
        },
        _ => return None,
    })
}

/// `SK_MEMINFO_*` (u32 array); fields an older kernel does not send read as 0.
pub fn meminfo(value: &[u8]) -> MemInfo {
    let mut v = [0u32; 9];
    for (slot, chunk) in v.iter_mut().zip(value.chunks_exact(4)) {
        *slot = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    MemInfo {
        rmem_alloc: v[0],
        rcvbuf: v[1],
        wmem_alloc: v[2],
        sndbuf: v[3],
        fwd_alloc: v[4],
        wmem_queued: v[5],
        optmem: v[6],
        backlog: v[7],
        drops: v[8],
    }
}

/// Size of `struct tcp_info` as sockeye reads it (through tcpi_total_rto_time, Linux 6.7).
const TCP_INFO_LEN: usize = 248;

/// `struct tcp_info` (linux/tcp.h), read at fixed offsets. The attribute is copied into a
/// zeroed buffer first, so a shorter struct from an older kernel reads missing fields as 0
/// rather than failing. The crate's non-rich NLA keeps it as opaque bytes anyway.
pub fn tcp_info(value: &[u8]) -> TcpInfo {
    let mut b = [0u8; TCP_INFO_LEN];
    let n = value.len().min(TCP_INFO_LEN);
    b[..n].copy_from_slice(&value[..n]);
    let u32_ = |off: usize| u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]]);
    let u64_ = |off: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[off..off + 8]);
        u64::from_ne_bytes(a)
    };
    let u16_ = |off: usize| u16::from_ne_bytes([b[off], b[off + 1]]);
    let ssthresh = u32_(76);
    TcpInfo {
        ca_state: b[1],
        options: b[5],
        fackets: u32_(40),
        reordering: u32_(88),
        rcv_rtt_us: u32_(92),
        max_pacing_rate: u64_(112),
        notsent_bytes: u32_(144),
        rwnd_limited_us: u64_(176),
        sndbuf_limited_us: u64_(184),
        delivered_ce: u32_(196),
        dsack_dups: u32_(216),
        reord_seen: u32_(220),
        rcv_ooopack: u32_(224),
        rcv_wnd: u32_(232),
        rehash: u32_(236),
        total_rto: u16_(240),
        total_rto_recoveries: u16_(242),
        total_rto_time_ms: u32_(244),
        cc_info: None,
        congestion: None,
        retransmits: b[2],
        probes: b[3],
        backoff: b[4],
        snd_wscale: b[6] & 0x0f,
        rcv_wscale: b[6] >> 4,
        app_limited: b[7] & 1 != 0,
        rto_us: u32_(8),
        ato_us: u32_(12),
        snd_mss: u32_(16),
        rcv_mss: u32_(20),
        unacked: u32_(24),
        sacked: u32_(28),
        lost: u32_(32),
        retrans: u32_(36),
        last_data_sent_ms: u32_(44),
        last_data_recv_ms: u32_(52),
        last_ack_recv_ms: u32_(56),
        pmtu: u32_(60),
        rcv_ssthresh: u32_(64),
        rtt_us: u32_(68),
        rttvar_us: u32_(72),
        snd_ssthresh: (ssthresh < 0xffff).then_some(ssthresh),
        snd_cwnd: u32_(80),
        advmss: u32_(84),
        rcv_space: u32_(96),
        total_retrans: u32_(100),
        pacing_rate: u64_(104),
        bytes_acked: u64_(120),
        bytes_received: u64_(128),
        segs_out: u32_(136),
        segs_in: u32_(140),
        min_rtt_us: u32_(148),
        data_segs_in: u32_(152),
        data_segs_out: u32_(156),
        delivery_rate: u64_(160),
        busy_time_us: u64_(168),
        delivered: u32_(192),
        bytes_sent: u64_(200),
        bytes_retrans: u64_(208),
        snd_wnd: u32_(228),
    }
}
