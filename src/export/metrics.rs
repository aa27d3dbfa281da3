//! Snapshot → metric families, encoded in the OpenMetrics text format by prometheus-client.
//!
//! A fresh registry is built for every scrape from one snapshot, so a series exists exactly as
//! long as what it describes: a listener that closed disappears at the next scrape instead of
//! lingering with its last value. What the source could not know is left out, never sent as 0.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use super::closed::ClosedTotals;
use crate::model::{Endpoint, Netid, NetnsTag, Snapshot, Socket, TcpState};

/// Metric name prefix.
pub const PREFIX: &str = "sockeye";

/// The label value that collects every port outside the top N.
pub const OTHER_PORT: &str = "other";

/// The `netns` (and `container`) label value that collects every namespace outside the
/// busiest N (`--all-netns`).
pub const OTHER_NETNS: &str = "other";

/// Namespaces labelled by default (`--top-netns`); the rest sum into `netns="other"`.
pub const DEFAULT_TOP_NETNS: usize = 20;

/// The labels a series carries for its namespace: none for one namespace, `netns` and
/// `container` when the snapshot spans several. Appended after a family's own labels.
type Scope = Vec<(&'static str, String)>;

/// The sockets (and kernel counters) of one label scope: one namespace, the `other` ones,
/// or everything when the snapshot has one namespace.
struct Group<'a> {
    scope: Scope,
    sockets: Vec<&'a Socket>,
    counters: Option<&'a crate::model::KernelCounters>,
}

/// The snapshot split by namespace: the `top` namespaces with most sockets get their own
/// labels, the rest share `netns="other"` (their kernel counters are left out: a sum of
/// several namespaces' counters would read as one namespace's). A host-network container's
/// sockets (tagged with the container of their owning process, see
/// [`crate::collect::container::attribute_host_network`]) are a scope of their own: the
/// namespace's label with that container's, ranked like a namespace, without counters (the
/// namespace's are the host's, under its own scope).
fn groups(snap: &Snapshot, top: usize) -> Vec<Group<'_>> {
    let Some(reads) = &snap.netns else {
        return vec![Group {
            scope: Scope::new(),
            sockets: snap.sockets.iter().collect(),
            counters: snap.counters.as_ref(),
        }];
    };
    let own: HashMap<u64, Option<&str>> = reads
        .read
        .iter()
        .map(|r| (r.tag.inode, r.tag.container.as_ref().map(|c| c.id.as_str())))
        .collect();
    // Host-network containers: (namespace, container id) → (its tag, sockets).
    let mut guests: HashMap<ScopeKey<'_>, (&NetnsTag, usize)> = HashMap::new();
    let mut moved: HashMap<u64, usize> = HashMap::new();
    for s in &snap.sockets {
        if let Some((inode, Some(id))) = scope_key(s, &own)
            && let Some(t) = &s.netns
        {
            guests.entry((inode, Some(id))).or_insert((t, 0)).1 += 1;
            *moved.entry(inode).or_insert(0) += 1;
        }
    }
    // (key, tag, sockets, counters), busiest first.
    let mut ranked: Vec<(
        ScopeKey<'_>,
        &NetnsTag,
        usize,
        Option<&crate::model::KernelCounters>,
    )> = reads
        .read
        .iter()
        .map(|r| {
            let n = r
                .sockets
                .saturating_sub(moved.get(&r.tag.inode).copied().unwrap_or(0));
            ((r.tag.inode, None), &*r.tag, n, r.counters.as_ref())
        })
        .chain(guests.iter().map(|(k, (t, n))| (*k, *t, *n, None)))
        .collect();
    ranked.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then_with(|| a.1.label.cmp(&b.1.label))
            .then_with(|| a.0.1.cmp(&b.0.1))
    });
    let mut index: HashMap<ScopeKey<'_>, usize> = HashMap::new();
    let mut out: Vec<Group<'_>> = Vec::new();
    for (key, tag, n, counters) in ranked.iter().take(top) {
        index.insert(*key, out.len());
        let container = tag.container.as_ref().map_or_else(String::new, |c| {
            format!("{}:{}", c.runtime, c.name.as_deref().unwrap_or(&c.id))
        });
        out.push(Group {
            scope: vec![("netns", tag.label.clone()), ("container", container)],
            sockets: Vec::with_capacity(*n),
            counters: *counters,
        });
    }
    let other = out.len();
    if ranked.len() > top {
        out.push(Group {
            scope: vec![
                ("netns", OTHER_NETNS.to_string()),
                ("container", OTHER_NETNS.to_string()),
            ],
            sockets: Vec::new(),
            counters: None,
        });
    }
    for s in &snap.sockets {
        let i = scope_key(s, &own)
            .and_then(|k| index.get(&k).copied())
            .unwrap_or(other);
        if let Some(g) = out.get_mut(i) {
            g.sockets.push(s);
        }
    }
    out
}

/// A label scope: a namespace (by inode), and the container when it is not the namespace's
/// own (a host-network container's socket).
type ScopeKey<'a> = (u64, Option<&'a str>);

fn scope_key<'a>(s: &'a Socket, own: &HashMap<u64, Option<&str>>) -> Option<ScopeKey<'a>> {
    let t = s.netns.as_ref()?;
    let ns_own = own.get(&t.inode).copied().flatten();
    let id = t
        .container
        .as_ref()
        .map(|c| c.id.as_str())
        .filter(|id| Some(*id) != ns_own);
    Some((t.inode, id))
}

/// Content type of what [`render`] produces.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Facts about the scrape itself, not about the sockets.
#[derive(Clone, Debug, Default)]
pub struct ScrapeInfo {
    /// How long collecting the served snapshot took.
    pub collect_duration: Duration,
    /// Age of the served snapshot when the scrape was answered.
    pub snapshot_age: Duration,
    /// True when the deadline passed and an older snapshot is served instead of a fresh one.
    pub stale: bool,
    /// Collections that failed since the exporter started.
    pub collect_errors: u64,
    /// Time from the request's arrival to having a snapshot to encode.
    pub scrape_duration: Duration,
    /// Connections closed since the start (`None`: not counted, e.g. a fixture).
    pub closed: Option<ClosedTotals>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProtoStateLabels {
    protocol: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabels {
    address: String,
    port: u16,
    process: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PortLabels {
    state: &'static str,
    port: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClosedLabels {
    port: String,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpenedLabels {
    port: String,
}

type IntGauges<L> = Family<L, Gauge>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// Encode one snapshot (and facts about the scrape) as an OpenMetrics text exposition.
/// `top_ports` bounds the port label of the CLOSE-WAIT/TIME-WAIT families: the N busiest
/// ports per state get their own series, every other port is summed into `port="other"`.
/// Writing into a String cannot fail; should the encoder ever report an error anyway, this
/// returns an empty exposition (the server uses [`try_render`] and answers 500 instead).
pub fn render(snap: &Snapshot, info: &ScrapeInfo, top_ports: usize) -> String {
    try_render(snap, info, top_ports, DEFAULT_TOP_NETNS).unwrap_or_else(|_| "# EOF\n".to_string())
}

/// [`render`], reporting an encoder failure. `top_netns` bounds the `netns` label of a
/// snapshot spanning namespaces as `top_ports` bounds the port label.
pub fn try_render(
    snap: &Snapshot,
    info: &ScrapeInfo,
    top_ports: usize,
    top_netns: usize,
) -> Result<String, std::fmt::Error> {
    try_render_with(snap, &[], info, top_ports, top_netns)
}

/// [`try_render`], with the findings over the window ending with `snap` as
/// `sockeye_finding` gauges (see [`super::findings`]).
pub fn try_render_with(
    snap: &Snapshot,
    findings: &[crate::findings::Finding],
    info: &ScrapeInfo,
    top_ports: usize,
    top_netns: usize,
) -> Result<String, std::fmt::Error> {
    let mut registry = build(snap, info, top_ports, top_netns);
    super::findings::register(&mut registry, findings);
    let mut out = String::with_capacity(16 * 1024);
    encode(&mut out, &registry)?;
    Ok(out)
}

fn build(snap: &Snapshot, info: &ScrapeInfo, top_ports: usize, top_netns: usize) -> Registry {
    let mut reg = Registry::with_prefix(PREFIX);
    let groups = groups(snap, top_netns);

    let sockets = IntGauges::<(ProtoStateLabels, Scope)>::default();
    for g in &groups {
        let mut counts: HashMap<ProtoStateLabels, i64> = HashMap::new();
        for s in TcpState::ALL {
            // Every TCP state is always present, so "none" reads as 0 rather than as absent.
            counts.insert(
                ProtoStateLabels {
                    protocol: Netid::Tcp.as_str(),
                    state: s.ss_name(),
                },
                0,
            );
        }
        for sock in &g.sockets {
            *counts
                .entry(ProtoStateLabels {
                    protocol: sock.netid.as_str(),
                    state: sock.state.ss_name(),
                })
                .or_default() += 1;
        }
        for (labels, n) in counts {
            sockets.get_or_create(&(labels, g.scope.clone())).set(n);
        }
    }
    reg.register(
        "sockets",
        "Sockets by protocol (ss netid) and state (ss spelling)",
        sockets,
    );

    register_listeners(&mut reg, &groups);
    register_ports(&mut reg, &groups, top_ports);
    register_queue_bytes(&mut reg, &groups);
    register_counters(&mut reg, &groups);

    if let Some(c) = &info.closed {
        register_closed(&mut reg, c);
    }

    let source = IntGauges::<SourceLabels>::default();
    source
        .get_or_create(&SourceLabels {
            source: snap.source.as_str(),
        })
        .set(1);
    reg.register(
        "source_info",
        "Where socket state was read from (netlink sock_diag or /proc/net); always 1",
        source,
    );

    let seconds = |name: &str, help: &str, d: Duration, reg: &mut Registry| {
        let g = FloatGauge::default();
        g.set(d.as_secs_f64());
        reg.register_with_unit(name, help, Unit::Seconds, g);
    };
    seconds(
        "scrape_duration",
        "Time from the scrape request to a snapshot ready to encode",
        info.scrape_duration,
        &mut reg,
    );
    seconds(
        "collect_duration",
        "Time the served snapshot took to collect",
        info.collect_duration,
        &mut reg,
    );
    seconds(
        "snapshot_age",
        "Age of the served snapshot",
        info.snapshot_age,
        &mut reg,
    );
    let stale = Gauge::<i64>::default();
    stale.set(i64::from(info.stale));
    reg.register(
        "snapshot_stale",
        "1 when collection missed the scrape deadline and an older snapshot is served",
        stale,
    );
    let errors = Counter::<u64>::default();
    errors.inc_by(info.collect_errors);
    reg.register(
        "collect_errors",
        "Collections that failed since the exporter started",
        errors,
    );
    reg
}

/// TCP connections closed since the start, by service port and how they ended, and where
/// that comes from (see [`super::closed`]).
fn register_closed(reg: &mut Registry, c: &ClosedTotals) {
    let closed = Family::<ClosedLabels, Counter<u64>>::default();
    for ((port, reason), n) in &c.counts {
        closed
            .get_or_create(&ClosedLabels {
                port: port.clone(),
                reason: reason.as_str(),
            })
            .inc_by(*n);
    }
    reg.register(
        "tcp_connections_closed",
        "TCP connections closed since the exporter started, by service port (the first \
         --top-ports ports seen, the rest summed as other) and how they ended",
        closed,
    );
    let opened = Family::<OpenedLabels, Counter<u64>>::default();
    for (port, n) in &c.opened {
        opened
            .get_or_create(&OpenedLabels { port: port.clone() })
            .inc_by(*n);
    }
    reg.register(
        "tcp_connections_opened",
        "TCP connections accepted by a listener since the exporter started, by its port (the \
         same port series as tcp_connections_closed). Counted from snapshots compared (new \
         connections under a listener's port); with destroy events, a connection that opened \
         and closed between two snapshots counts at its close",
        opened,
    );
    let lost = Counter::<u64>::default();
    lost.inc_by(c.lost);
    reg.register(
        "events_lost",
        "Destroy events the kernel dropped (closes the counts above miss)",
        lost,
    );
    let source = IntGauges::<SourceLabels>::default();
    source
        .get_or_create(&SourceLabels {
            source: c.source.as_str(),
        })
        .set(1);
    reg.register(
        "closed_source_info",
        "Where closed connections are counted from: destroy events, or snapshots compared \
         (misses connections shorter than the interval, reason unknown); always 1",
        source,
    );
}

/// Per TCP listener: accept-queue length and limit, and the SYN-RECV sockets waiting on it.
fn register_listeners(reg: &mut Registry, groups: &[Group<'_>]) {
    let len = IntGauges::<(ListenerLabels, Scope)>::default();
    let limit = IntGauges::<(ListenerLabels, Scope)>::default();
    let syn_recv = IntGauges::<(ListenerLabels, Scope)>::default();
    let mut any = false;
    for g in groups {
        any |= listeners_of(&g.sockets, &g.scope, [&len, &limit, &syn_recv]);
    }
    if !any {
        return;
    }
    reg.register(
        "listen_queue_length",
        "Connections waiting in a TCP listener's accept queue (ss Recv-Q of LISTEN)",
        len,
    );
    reg.register(
        "listen_queue_limit",
        "Accept-queue limit of a TCP listener, min(backlog, somaxconn) (ss Send-Q of LISTEN); \
         absent when the source cannot know it",
        limit,
    );
    reg.register(
        "listen_syn_recv",
        "Half-open connections (SYN-RECV) addressed to a TCP listener",
        syn_recv,
    );
}

/// The listeners of one scope into the three listener families; false when it has none.
fn listeners_of(
    sockets: &[&Socket],
    scope: &Scope,
    [len, limit, syn_recv]: [&IntGauges<(ListenerLabels, Scope)>; 3],
) -> bool {
    struct Agg {
        addr: IpAddr,
        v6only: Option<bool>,
        len: Option<u64>,
        limit: Option<u64>,
        syn_recv: i64,
    }
    let mut index: HashMap<ListenerLabels, usize> = HashMap::new();
    let mut aggs: Vec<(ListenerLabels, Agg)> = Vec::new();
    // Listeners sharing address, port and process (SO_REUSEPORT groups) are summed: their
    // queues together are what that service can hold. One unknown part makes the sum unknown.
    for sock in sockets
        .iter()
        .copied()
        .filter(|s| s.netid == Netid::Tcp && s.is_listener())
    {
        let Endpoint::Inet { addr, port } = sock.local else {
            continue;
        };
        let labels = ListenerLabels {
            address: addr.to_string(),
            port,
            process: process_label(sock),
        };
        let i = *index.entry(labels.clone()).or_insert_with(|| {
            aggs.push((
                labels,
                Agg {
                    addr,
                    v6only: sock.v6only,
                    len: Some(0),
                    limit: Some(0),
                    syn_recv: 0,
                },
            ));
            aggs.len() - 1
        });
        let agg = &mut aggs[i].1;
        agg.len = add(agg.len, sock.recv_q);
        agg.limit = add(agg.limit, sock.send_q);
    }
    if aggs.is_empty() {
        return false;
    }

    let mut by_port: HashMap<u16, Vec<usize>> = HashMap::new();
    for (i, (labels, _)) in aggs.iter().enumerate() {
        by_port.entry(labels.port).or_default().push(i);
    }
    for sock in sockets
        .iter()
        .filter(|s| s.netid == Netid::Tcp && s.state == TcpState::SynRecv)
    {
        let Endpoint::Inet { addr, port } = sock.local else {
            continue;
        };
        let Some(candidates) = by_port.get(&port) else {
            continue;
        };
        // The kernel prefers the listener bound to the exact address over a wildcard one.
        let exact = candidates.iter().find(|&&i| aggs[i].1.addr == addr);
        let chosen = exact.or_else(|| {
            candidates
                .iter()
                .find(|&&i| wildcard_accepts(aggs[i].1.addr, aggs[i].1.v6only, addr))
        });
        if let Some(&i) = chosen {
            aggs[i].1.syn_recv += 1;
        }
    }

    for (labels, agg) in aggs {
        let key = (labels, scope.clone());
        if let Some(v) = agg.len {
            len.get_or_create(&key).set(saturate(v));
        }
        // Unknown from /proc: the series is left out rather than reported as 0.
        if let Some(v) = agg.limit {
            limit.get_or_create(&key).set(saturate(v));
        }
        syn_recv.get_or_create(&key).set(agg.syn_recv);
    }
    true
}

/// CLOSE-WAIT and TIME-WAIT sockets by service port, top N ports per state plus "other".
fn register_ports(reg: &mut Registry, groups: &[Group<'_>], top_ports: usize) {
    let family = IntGauges::<(PortLabels, Scope)>::default();
    for g in groups {
        ports_of(&g.sockets, &g.scope, top_ports, &family);
    }
    reg.register(
        "tcp_port_sockets",
        "TCP sockets in CLOSE-WAIT or TIME-WAIT by service port (the local port when a \
         listener holds it, else the peer's): the busiest ports, the rest summed under the \
         port label other",
        family,
    );
}

fn ports_of(
    sockets: &[&Socket],
    scope: &Scope,
    top_ports: usize,
    family: &IntGauges<(PortLabels, Scope)>,
) {
    // A client's CLOSE-WAIT and TIME-WAIT sockets sit on ephemeral ports, a different one
    // each: counted under the service they talked to, as closed connections are.
    let listeners: rustc_hash::FxHashSet<u16> = sockets
        .iter()
        .filter(|s| s.netid == Netid::Tcp && s.state == TcpState::Listen)
        .filter_map(|s| s.local_port())
        .collect();
    for state in [TcpState::CloseWait, TcpState::TimeWait] {
        let mut counts: HashMap<u16, i64> = HashMap::new();
        for sock in sockets
            .iter()
            .filter(|s| s.netid == Netid::Tcp && s.state == state)
        {
            if let Some(port) = super::closed::service_port(sock, &listeners) {
                *counts.entry(port).or_default() += 1;
            }
        }
        let mut ranked: Vec<(u16, i64)> = counts.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let split = top_ports.min(ranked.len());
        for &(port, n) in &ranked[..split] {
            let labels = PortLabels {
                state: state.ss_name(),
                port: port.to_string(),
            };
            family.get_or_create(&(labels, scope.clone())).set(n);
        }
        let rest: i64 = ranked[split..].iter().map(|&(_, n)| n).sum();
        let labels = PortLabels {
            state: state.ss_name(),
            port: OTHER_PORT.to_string(),
        };
        family.get_or_create(&(labels, scope.clone())).set(rest);
    }
}

/// Recv-Q/Send-Q byte totals over connected TCP sockets. A listener's queue fields count
/// connections, not bytes, and UDP/unix queues are memory, so neither is added in.
fn register_queue_bytes(reg: &mut Registry, groups: &[Group<'_>]) {
    let (mut recv, mut send) = (Vec::new(), Vec::new());
    for g in groups {
        let (mut r, mut s) = (0u64, 0u64);
        for sock in g.sockets.iter().filter(|s| is_connected_tcp(s)) {
            r += u64::from(sock.recv_q.unwrap_or(0));
            s += u64::from(sock.send_q.unwrap_or(0));
        }
        recv.push((&g.scope, Some(r)));
        send.push((&g.scope, Some(s)));
    }
    gauges(
        reg,
        "tcp_recv_queue",
        "Bytes received but not yet read, summed over connected TCP sockets (not listeners)",
        Some(Unit::Bytes),
        &recv,
    );
    gauges(
        reg,
        "tcp_send_queue",
        "Bytes sent but not yet acknowledged, summed over connected TCP sockets (not listeners)",
        Some(Unit::Bytes),
        &send,
    );
}

/// A gauge per scope: a plain gauge for the one scope of a single namespace (no labels), a
/// family labelled by namespace otherwise. Unknown values are left out.
fn gauges(
    reg: &mut Registry,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    values: &[(&Scope, Option<u64>)],
) {
    fn register(
        reg: &mut Registry,
        (name, help, unit): (&str, &str, &Option<Unit>),
        m: impl prometheus_client::registry::Metric,
    ) {
        match unit {
            Some(u) => reg.register_with_unit(name, help, u.clone(), m),
            None => reg.register(name, help, m),
        }
    }
    let what = (name, help, &unit);
    if let [(scope, v)] = values
        && scope.is_empty()
    {
        if let Some(v) = v {
            let g = Gauge::<i64>::default();
            g.set(saturate(*v));
            register(reg, what, g);
        }
        return;
    }
    let family = IntGauges::<Scope>::default();
    for (scope, v) in values {
        if let Some(v) = v {
            family.get_or_create(scope).set(saturate(*v));
        }
    }
    if values.iter().any(|(_, v)| v.is_some()) {
        register(reg, what, family);
    }
}

/// [`gauges`] for counters.
fn counters(reg: &mut Registry, name: &str, help: &str, values: &[(&Scope, Option<u64>)]) {
    if let [(scope, v)] = values
        && scope.is_empty()
    {
        if let Some(v) = v {
            let m = Counter::<u64>::default();
            m.inc_by(*v);
            reg.register(name, help, m);
        }
        return;
    }
    let family = Family::<Scope, Counter<u64>>::default();
    for (scope, v) in values {
        if let Some(v) = v {
            family.get_or_create(scope).inc_by(*v);
        }
    }
    if values.iter().any(|(_, v)| v.is_some()) {
        reg.register(name, help, family);
    }
}

fn register_counters(reg: &mut Registry, groups: &[Group<'_>]) {
    let of = |f: fn(&crate::model::KernelCounters) -> Option<u64>| -> Vec<(&Scope, Option<u64>)> {
        groups
            .iter()
            .filter_map(|g| Some((&g.scope, f(g.counters?))))
            .collect()
    };
    if groups.iter().all(|g| g.counters.is_none()) {
        return;
    }
    let counter = |reg: &mut Registry, name: &str, help: &str, v: Vec<(&Scope, Option<u64>)>| {
        counters(reg, name, help, &v);
    };
    counter(
        reg,
        "tcp_listen_overflows",
        "Times a TCP accept queue was full (TcpExt ListenOverflows)",
        of(|c| c.listen_overflows),
    );
    counter(
        reg,
        "tcp_listen_drops",
        "SYNs dropped at a TCP listener for any reason (TcpExt ListenDrops)",
        of(|c| c.listen_drops),
    );
    counter(
        reg,
        "tcp_retrans_segs",
        "TCP segments retransmitted (Tcp RetransSegs)",
        of(|c| c.retrans_segs),
    );
    let gauge = |reg: &mut Registry, name: &str, help: &str, v: Vec<(&Scope, Option<u64>)>| {
        gauges(reg, name, help, None, &v);
    };
    gauge(
        reg,
        "tcp_max_tw_buckets",
        "Most TIME-WAIT sockets the kernel keeps (net.ipv4.tcp_max_tw_buckets)",
        of(|c| c.tcp_max_tw_buckets),
    );
    gauge(
        reg,
        "somaxconn",
        "Upper bound of any accept-queue limit (net.core.somaxconn)",
        of(|c| c.somaxconn),
    );
    gauge(
        reg,
        "ephemeral_port_range_start",
        "First port of the ephemeral range (net.ipv4.ip_local_port_range)",
        of(|c| c.ip_local_port_range.map(|(l, _)| u64::from(l))),
    );
    gauge(
        reg,
        "ephemeral_port_range_end",
        "Last port of the ephemeral range, inclusive (net.ipv4.ip_local_port_range)",
        of(|c| c.ip_local_port_range.map(|(_, h)| u64::from(h))),
    );
}

/// ss's "connected": every state but LISTEN and CLOSE.
fn is_connected_tcp(s: &Socket) -> bool {
    s.netid == Netid::Tcp && !matches!(s.state, TcpState::Listen | TcpState::Close)
}

/// Does a listener bound to `listener` (a wildcard) take connections addressed to `local`?
fn wildcard_accepts(listener: IpAddr, v6only: Option<bool>, local: IpAddr) -> bool {
    if !listener.is_unspecified() {
        return false;
    }
    match (listener, local) {
        (IpAddr::V4(_), IpAddr::V4(_)) => true,
        (IpAddr::V6(_), IpAddr::V6(l)) => {
            // A dual-stack `::` listener sees IPv4 peers as v4-mapped addresses.
            l.to_ipv4_mapped().is_none() || v6only != Some(true)
        }
        (IpAddr::V6(_), IpAddr::V4(_)) => v6only != Some(true),
        (IpAddr::V4(_), IpAddr::V6(l)) => l.to_ipv4_mapped().is_some(),
    }
}

/// The commands holding a socket, deduplicated (prefork servers share one listener).
fn process_label(s: &Socket) -> String {
    let mut names: Vec<&str> = s.processes.iter().map(|p| &*p.command).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

fn add(a: Option<u64>, b: Option<u32>) -> Option<u64> {
    Some(a? + u64::from(b?))
}

fn saturate(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn wildcard_listeners_take_what_the_kernel_gives_them() {
        let any4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let any6 = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        let lo4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let lo6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let mapped = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());
        assert!(wildcard_accepts(any4, None, lo4));
        assert!(!wildcard_accepts(any4, None, lo6));
        assert!(wildcard_accepts(any6, Some(false), lo6));
        assert!(wildcard_accepts(any6, Some(false), mapped));
        assert!(wildcard_accepts(any6, None, lo4));
        assert!(!wildcard_accepts(any6, Some(true), mapped));
        assert!(!wildcard_accepts(any6, Some(true), lo4));
        assert!(!wildcard_accepts(lo4, None, lo4), "not a wildcard");
    }

    #[test]
    fn unknown_parts_make_a_sum_unknown() {
        assert_eq!(add(Some(1), Some(2)), Some(3));
        assert_eq!(add(Some(1), None), None);
        assert_eq!(add(None, Some(2)), None);
        assert_eq!(saturate(u64::MAX), i64::MAX);
    }
}
