//! Decoding of one inet_diag answer (`struct inet_diag_msg` + attributes) into a [`Socket`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::wire::{
    AF_INET, AF_INET6, Attrs, INET_DIAG_CONG, INET_DIAG_INFO, INET_DIAG_SKMEMINFO,
    INET_DIAG_SKV6ONLY,
};
use crate::collect::Query;
use crate::model::{Endpoint, MemInfo, Netid, Socket, TcpInfo, TcpState, Timer, TimerKind};

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

/// Decode one SOCK_DIAG_BY_FAMILY payload of an inet dump of `netid`.
pub fn decode(payload: &[u8], netid: Netid, query: &Query) -> Decoded {
    let Some(h) = payload.first_chunk::<INET_DIAG_MSG_LEN>() else {
        return Decoded::Bad;
    };
    let family = h[0];
    if family != AF_INET && family != AF_INET6 {
        return Decoded::Bad;
    }
    let Some(state) = TcpState::from_kernel(h[1]) else {
        return Decoded::Bad;
    };
    // A TCP socket in CLOSE comes only from a request with TCP_BOUND_INACTIVE: bound, neither
    // listening nor connected (the kernel reports those as CLOSE).
    let bound_inactive = state == TcpState::Close && netid == Netid::Tcp;
    let wanted = query.states.contains(state) || (bound_inactive && query.states.bound_inactive());
    if !wanted {
        return Decoded::Filtered;
    }
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&h[8..24]);
    dst.copy_from_slice(&h[24..40]);
    let ifindex = u32_at(h, 40);
    let timer = if netid == Netid::Tcp {
        timer_kind(h[2]).map(|kind| Timer {
            kind,
            expires_ms: u64::from(u32_at(h, 52)),
            retrans: u32::from(h[3]),
        })
    } else {
        None
    };

    let mut sock = Socket {
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
        processes: Default::default(),
    };

    let mut attrs = Attrs::new(&payload[INET_DIAG_MSG_LEN..]);
    let mut congestion: Option<&[u8]> = None;
    for (kind, value) in attrs.by_ref() {
        match kind {
            INET_DIAG_SKV6ONLY if family == AF_INET6 => {
                sock.v6only = value.first().map(|b| *b != 0);
            }
            INET_DIAG_INFO if query.tcp_info && netid == Netid::Tcp => {
                sock.tcp_info = Some(Box::new(tcp_info(value)));
            }
            INET_DIAG_CONG if query.tcp_info => congestion = Some(value),
            INET_DIAG_SKMEMINFO if query.memory => sock.memory = Some(Box::new(meminfo(value))),
            _ => {}
        }
    }
    if attrs.broken {
        return Decoded::Bad;
    }
    if let (Some(info), Some(name)) = (sock.tcp_info.as_mut(), congestion) {
        let name = name.split(|b| *b == 0).next().unwrap_or_default();
        if !name.is_empty() {
            info.congestion = Some(String::from_utf8_lossy(name).into());
        }
    }
    if let Some(keep) = &query.keep
        && !keep(&sock)
    {
        return Decoded::Filtered;
    }
    Decoded::Keep(sock)
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

/// Size of the prefix of `struct tcp_info` sockeye reads (through tcpi_snd_wnd).
const TCP_INFO_LEN: usize = 232;

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
    let ssthresh = u32_(76);
    TcpInfo {
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
