//! Findings: what is wrong, where, the evidence, why and what to do. Each rule is a small
//! function over a window of snapshots (oldest first) and its kernel counters; a rule only
//! speaks when a threshold of [`Thresholds`] is crossed, and says which.
//!
//! Rules look at trends, not single samples: a count that rises and falls is churn, not a
//! leak, and a queue that drains at all is slow, not stuck.

pub mod counters;
pub mod history;
pub mod peers;
pub mod queues;
pub mod render;
pub mod states;
pub mod tally;
pub mod thresholds;
pub mod udp;
pub mod unix;

use std::fmt::Write as _;

use crate::model::{Endpoint, KernelCounters, Netid, Snapshot, Socket};
use crate::tables::NetidSet;
pub use tally::Scan;
pub use thresholds::Thresholds;

/// How bad a finding is; the order is the report's order (worst first when sorted down).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// The rules, by the name they report under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    CloseWaitLeak,
    AcceptQueueOverflow,
    SynBacklogPressure,
    PortExhaustion,
    FinWait2PileUp,
    StuckReceiver,
    StuckSender,
    Retransmissions,
    Orphans,
    UdpReceiveDrops,
    UnixListenerFull,
    Syncookies,
    PeerRetransmits,
}

impl Rule {
    pub const ALL: [Rule; 13] = [
        Rule::CloseWaitLeak,
        Rule::AcceptQueueOverflow,
        Rule::SynBacklogPressure,
        Rule::PortExhaustion,
        Rule::FinWait2PileUp,
        Rule::StuckReceiver,
        Rule::StuckSender,
        Rule::Retransmissions,
        Rule::Orphans,
        Rule::UdpReceiveDrops,
        Rule::UnixListenerFull,
        Rule::Syncookies,
        Rule::PeerRetransmits,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::CloseWaitLeak => "close-wait-leak",
            Rule::AcceptQueueOverflow => "accept-queue-overflow",
            Rule::SynBacklogPressure => "syn-backlog-pressure",
            Rule::PortExhaustion => "port-exhaustion",
            Rule::FinWait2PileUp => "fin-wait-2-pile-up",
            Rule::StuckReceiver => "stuck-receiver",
            Rule::StuckSender => "stuck-sender",
            Rule::Retransmissions => "retransmissions",
            Rule::Orphans => "orphans",
            Rule::UdpReceiveDrops => "udp-receive-drops",
            Rule::UnixListenerFull => "unix-listener-full",
            Rule::Syncookies => "syncookies",
            Rule::PeerRetransmits => "peer-retransmits",
        }
    }

    /// What the rule looks for and its threshold keys, for the man page.
    pub fn summary(self) -> &'static str {
        match self {
            Rule::CloseWaitLeak => {
                "CLOSE-WAIT sockets of one listener or process whose count never decreases \
                 over the window and grows, or is held by the same sockets throughout \
                 (close_wait_min, close_wait_critical). A count that rises and falls is churn, \
                 not a leak."
            }
            Rule::AcceptQueueOverflow => {
                "A TCP listener whose accept queue is full (Recv-Q above the backlog: \
                 critical) or at least accept_queue_ratio full in every snapshot; says whether \
                 the listen() backlog or net.core.somaxconn limits, with ListenOverflows and \
                 ListenDrops."
            }
            Rule::SynBacklogPressure => {
                "At least syn_recv_min SYN-RECV sockets on one listener (critical from 90% of \
                 tcp_max_syn_backlog)."
            }
            Rule::PortExhaustion => {
                "Connections from one local address to one destination ip:port, from \
                 ephemeral ports, as a fraction of ip_local_port_range; and, for the whole \
                 host, TIME-WAIT as a fraction of tcp_max_tw_buckets (port_pressure_warn, \
                 port_pressure_critical). Never suggests tcp_tw_recycle."
            }
            Rule::FinWait2PileUp => {
                "At least fin_wait2_min FIN-WAIT-2 sockets toward one destination, never \
                 decreasing over the window: this side closed and the peer never closes its \
                 end."
            }
            Rule::StuckReceiver => {
                "ESTAB sockets whose Recv-Q is at least recv_q_min bytes in every snapshot and \
                 never decreases: the application is not reading (with tcp_info, a queue that \
                 holds while the application reads what arrives is not stuck)."
            }
            Rule::StuckSender => {
                "ESTAB sockets whose Send-Q is at least send_q_min bytes in every snapshot and \
                 never decreases; the persist timer says the peer's window is zero (with \
                 tcp_info, a queue held at the send buffer while the peer acknowledges is a \
                 slow reader, not a stuck one)."
            }
            Rule::Retransmissions => {
                "For the whole host: RetransSegs over OutSegs across the window at least \
                 retrans_ratio (critical at 5 times it), once retrans_min_segs were sent."
            }
            Rule::Orphans => {
                "For the whole host: orphaned TCP sockets (closed by their process, still \
                 finishing) as a fraction of net.ipv4.tcp_max_orphans (orphans_warn, \
                 orphans_critical); TCPAbortOnMemory rising (orphans reset) is critical."
            }
            Rule::UdpReceiveDrops => {
                "A UDP socket whose drop count rises over the window by udp_drops_min \
                 (critical) or whose receive queue is at least udp_rcvbuf_ratio of its \
                 receive buffer (warning); for the whole host, RcvbufErrors rising by \
                 udp_drops_min."
            }
            Rule::UnixListenerFull => {
                "A unix stream or seqpacket listener whose queue of connections waiting for \
                 accept() is full (above its backlog: critical) or at least \
                 accept_queue_ratio full in every snapshot."
            }
            Rule::Syncookies => {
                "For the whole host: SyncookiesSent, SyncookiesFailed or TCPReqQFullDrop \
                 rising by syncookies_min over the window (critical when SYNs are dropped \
                 or cookies fail), with the SYN-RECV sockets per listener and \
                 tcp_max_syn_backlog."
            }
            Rule::PeerRetransmits => {
                "TCP connections grouped by peer address: a retransmit timer backing off \
                 (at least retrans_backoff_min retransmits of one segment, critical at \
                 retrans_backoff_critical), or, with tcp_info, retransmitted over sent \
                 segments at least retrans_ratio once retrans_min_segs were sent."
            }
        }
    }
}

/// One problem found.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// Where: a listener, a process, a destination or "host". Already escaped.
    pub place: String,
    /// The numbers that show it, one line each.
    pub evidence: Vec<String>,
    pub why: String,
    pub action: String,
    /// The threshold crossed, with its configuration key.
    pub threshold: String,
    /// A filter (sockeye's filter language, as typed after `/`) that selects exactly the
    /// sockets the finding is about; `None` when it names none (host-wide counters) or
    /// none the language can select (a process, too many single connections).
    pub sockets: Option<String>,
}

/// What the rules look at: snapshots oldest first, all of the same selection.
pub struct Window<'a> {
    pub snaps: &'a [Snapshot],
    /// The selection is the whole host (no filter): host-wide counters may be blamed on it.
    /// With a filter, a counter rising elsewhere on the host says nothing about the sockets
    /// asked for.
    pub whole_host: bool,
    /// The tables selected: a table's host-wide counters speak only when it is one of them.
    pub tables: NetidSet,
}

impl Window<'_> {
    /// The host-wide counters of `netid` describe the selection: no filter, and the table
    /// is selected.
    pub fn host_wide(&self, netid: Netid) -> bool {
        self.whole_host && self.tables.contains(netid)
    }
    pub fn first(&self) -> Option<&Snapshot> {
        self.snaps.first()
    }
    pub fn last(&self) -> Option<&Snapshot> {
        self.snaps.last()
    }
    /// Seconds from the first snapshot to the last (0 for fewer than two).
    pub fn seconds(&self) -> f64 {
        match (self.first(), self.last()) {
            (Some(a), Some(b)) => b
                .taken_at
                .duration_since(a.taken_at)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            _ => 0.0,
        }
    }
    /// The counters of the last snapshot.
    pub fn counters(&self) -> Option<&KernelCounters> {
        self.last()?.counters.as_ref()
    }
    /// How much a counter rose from the first snapshot to the last; `None` when either is
    /// unknown. A counter that went down (namespace recreated, wrapped) rose by nothing.
    pub fn rise(&self, get: impl Fn(&KernelCounters) -> Option<u64>) -> Option<u64> {
        let a = get(self.first()?.counters.as_ref()?)?;
        let b = get(self.last()?.counters.as_ref()?)?;
        Some(b.saturating_sub(a))
    }
}

/// The rules, in the order they run: each a function of the tallied window.
pub const RULES: [fn(&Scan<'_, '_>, &Thresholds) -> Vec<Finding>; 13] = [
    states::close_wait_leak,
    queues::accept_queue_overflow,
    queues::syn_backlog_pressure,
    states::port_exhaustion,
    states::fin_wait2_pile_up,
    queues::stuck_receiver,
    queues::stuck_sender,
    counters::retransmissions,
    counters::orphans,
    counters::syncookies,
    udp::receive_drops,
    unix::listener_full,
    peers::peer_retransmits,
];

/// Every rule over the window, worst first, then by rule and place. Each snapshot is walked
/// once (into its [`tally::Tally`]); the rules read their groups of it.
pub fn evaluate(window: &Window<'_>, t: &Thresholds) -> Vec<Finding> {
    if window.snaps.len() < 2 {
        return Vec::new();
    }
    evaluate_scan(&Scan::of(window), t)
}

/// [`evaluate`] over a window already tallied.
pub fn evaluate_scan(scan: &Scan<'_, '_>, t: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in RULES {
        out.extend(rule(scan, t));
    }
    sort(&mut out);
    out
}

/// The report's order: worst first, then by rule and place.
pub(crate) fn sort(out: &mut [Finding]) {
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.rule.cmp(&b.rule))
            .then_with(|| a.place.cmp(&b.place))
    });
}

/// The worst severity, if any: what `check`'s exit status reports.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

// ---- Helpers the rules share ---------------------------------------------------------------

/// A socket's identity across snapshots: the kernel cookie when known, else its two ends.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SockKey {
    Cookie(u64),
    Ends(String),
}

pub(crate) fn key_of(s: &Socket) -> SockKey {
    match s.cookie {
        Some(c) => SockKey::Cookie(c),
        None => SockKey::Ends(format!(
            "{} {} {}",
            s.netid.as_str(),
            endpoint(&s.local),
            endpoint(&s.peer)
        )),
    }
}

/// `addr:port` (IPv6 bracketed) or a unix path, escaped for output.
pub(crate) fn endpoint(e: &Endpoint) -> String {
    e.label()
}

/// `("cmd",pid=N)` for the first holder, escaped; empty when no process is known.
pub(crate) fn holder(s: &Socket) -> String {
    match s.processes.first() {
        Some(p) => format!("{} pid {}", crate::text::escape(&p.command), p.pid),
        None => String::new(),
    }
}

/// `what` followed by ` (holder)` when a holder is known.
pub(crate) fn with_holder(what: String, holder: &str) -> String {
    if holder.is_empty() {
        what
    } else {
        format!("{what} ({holder})")
    }
}

/// The most connections [`connections_filter`] lists one by one: past it the filter bar
/// would hold a wall of text.
pub(crate) const MAX_LISTED: usize = 32;

/// An endpoint as a filter operand: `addr:port` (IPv6 bracketed), or a unix path that reads
/// back as itself (no glob, quote, bracket, space or control characters); `None` otherwise.
pub(crate) fn filter_word(e: &Endpoint) -> Option<String> {
    match e {
        Endpoint::Inet { .. } => Some(endpoint(e)),
        Endpoint::Unix { path: Some(p), .. } => {
            let plain = (p.starts_with('/') || p.starts_with('@'))
                && p.chars().all(|c| {
                    c.is_ascii_graphic()
                        && !matches!(c, '*' | '?' | '[' | ']' | '(' | ')' | '"' | '\'' | '\\')
                });
            plain.then(|| p.to_string())
        }
        _ => None,
    }
}

/// An address alone as a filter operand (IPv6 bracketed, so no colon reads as a port).
pub(crate) fn addr_word(a: std::net::IpAddr) -> String {
    match a {
        std::net::IpAddr::V4(a) => a.to_string(),
        std::net::IpAddr::V6(a) => format!("[{a}]"),
    }
}

/// `( src L dst P ) or ( … )` selecting exactly these connections; `None` when there are
/// none, more than [`MAX_LISTED`], or one without inet ends.
pub(crate) fn connections_filter<'a>(
    socks: impl IntoIterator<Item = &'a Socket>,
) -> Option<String> {
    let mut parts = Vec::new();
    for s in socks {
        if parts.len() == MAX_LISTED {
            return None;
        }
        let (Endpoint::Inet { .. }, Endpoint::Inet { .. }) = (&s.local, &s.peer) else {
            return None;
        };
        parts.push(format!(
            "( src {} dst {} )",
            endpoint(&s.local),
            endpoint(&s.peer)
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" or "))
}

/// A filter for a TCP listener's sockets by its local `addr:port` string: its port when it
/// listens on every address (its connections have other local addresses), else the exact
/// address and port.
pub(crate) fn listener_filter(local: &str) -> Option<String> {
    let (addr, port) = local.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    Some(if addr == "0.0.0.0" || addr == "[::]" || addr == "*" {
        format!("sport = :{port}")
    } else {
        format!("src {local}")
    })
}

/// Per-minute rate of a change over `secs`.
pub(crate) fn per_minute(delta: f64, secs: f64) -> f64 {
    if secs > 0.0 { delta * 60.0 / secs } else { 0.0 }
}

/// A sequence as `a → b → c`, at most `max` items (the middle elided).
pub(crate) fn series(values: &[u64], max: usize) -> String {
    let mut out = String::new();
    let n = values.len();
    for (i, v) in values.iter().enumerate() {
        if n > max && i >= max / 2 && i < n - max / 2 {
            if i == max / 2 {
                out.push_str(" → …");
            }
            continue;
        }
        if !out.is_empty() {
            out.push_str(" → ");
        }
        let _ = write!(out, "{v}");
    }
    out
}

/// True when no step goes down.
pub(crate) fn never_decreases(values: &[u64]) -> bool {
    values.windows(2).all(|w| w[1] >= w[0])
}

#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod bench;

#[cfg(test)]
mod every_rule;

#[cfg(test)]
mod filter_tests {
    use super::fixture::tcp;
    use super::*;
    use crate::filter::Filter;
    use crate::model::TcpState;

    fn filter(text: &str) -> Filter {
        let words: Vec<String> = text.split_whitespace().map(String::from).collect();
        Filter::parse(&words).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn the_filters_the_rules_give_select_their_sockets_and_no_others() {
        let a = tcp(
            TcpState::Established,
            ("127.0.0.1", 8080),
            ("127.0.0.1", 40000),
        );
        let b = tcp(TcpState::Established, ("::1", 8080), ("::1", 40001));
        let other = tcp(
            TcpState::Established,
            ("127.0.0.1", 8080),
            ("127.0.0.1", 40002),
        );
        let both = filter(&connections_filter([&a, &b]).unwrap());
        assert!(both.matches(&a) && both.matches(&b) && !both.matches(&other));
        // A wildcard listener: its port (its connections have other local addresses).
        let any = listener_filter("0.0.0.0:8080").unwrap();
        assert_eq!(any, "sport = :8080");
        assert!(filter(&any).matches(&a));
        let v6 = filter(&listener_filter("[::1]:8080").unwrap());
        assert!(v6.matches(&b) && !v6.matches(&a));
        let peer = filter(&format!("dst {}", addr_word("::1".parse().unwrap())));
        assert!(peer.matches(&b) && !peer.matches(&a));
        // States are the query's state set, not the expression's.
        let cw = filter("state close-wait sport = :8080");
        assert_eq!(
            cw.explicit_states(),
            Some(crate::model::StateSet::of(&[TcpState::CloseWait]))
        );
        assert!(cw.matches(&tcp(
            TcpState::CloseWait,
            ("10.0.0.1", 8080),
            ("10.0.0.2", 5)
        )));
    }

    #[test]
    fn too_many_or_odd_sockets_have_no_filter() {
        let many: Vec<Socket> = (0..=MAX_LISTED as u16)
            .map(|p| tcp(TcpState::Established, ("127.0.0.1", 1), ("127.0.0.1", p)))
            .collect();
        assert!(connections_filter(&many).is_none());
        assert!(connections_filter(&many[..MAX_LISTED]).is_some());
        assert!(connections_filter(std::iter::empty()).is_none());
        let unix = |p: &str| Endpoint::Unix {
            path: Some(p.into()),
            inode: 1,
        };
        assert_eq!(
            filter_word(&unix("/run/a.sock")).as_deref(),
            Some("/run/a.sock")
        );
        assert_eq!(filter_word(&unix("/run/a b")), None);
        assert_eq!(filter_word(&unix("/run/a*")), None);
        assert_eq!(filter_word(&unix("/run/\x1b[2J")), None);
    }
}
