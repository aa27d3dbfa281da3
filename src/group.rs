//! Grouping of a snapshot's sockets, independent of any front end: by state (lifecycle order),
//! by listener (each listening socket with the connections it accepted or is accepting, and
//! outbound connections by remote endpoint), accept-queue fill, per-state counts and history
//! rings for sparklines. The TUI and the exporter both read these.
//!
//! Everything works on indices into `Snapshot::sockets`, so grouping never copies a socket.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use crate::model::{Endpoint, Netid, Socket, TcpState};

/// A small, fast, non-cryptographic hasher (FxHash's mixing) for maps keyed by socket
/// cookies, ports and addresses: 100,000 lookups per refresh, no attacker-chosen keys.
#[derive(Clone, Copy, Default)]
pub struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.add(v.into());
    }
    fn write_u16(&mut self, v: u16) {
        self.add(v.into());
    }
    fn write_u32(&mut self, v: u32) {
        self.add(v.into());
    }
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A HashMap with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A group of the "by state" view: one per TCP state, then UDP and unix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateGroupKey {
    Tcp(TcpState),
    Udp,
    Unix,
}

impl StateGroupKey {
    pub fn of(s: &Socket) -> StateGroupKey {
        match s.netid {
            Netid::Tcp => StateGroupKey::Tcp(s.state),
            Netid::Udp => StateGroupKey::Udp,
            Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => StateGroupKey::Unix,
        }
    }

    /// Display label: the ss state name for TCP, the protocol otherwise.
    pub fn label(self) -> &'static str {
        match self {
            StateGroupKey::Tcp(TcpState::Close) => "CLOSE",
            StateGroupKey::Tcp(st) => st.ss_name(),
            StateGroupKey::Udp => "UDP",
            StateGroupKey::Unix => "UNIX",
        }
    }

    /// Position in lifecycle order (TCP states as a connection lives through them).
    fn rank(self) -> usize {
        match self {
            StateGroupKey::Tcp(st) => TcpState::LIFECYCLE
                .iter()
                .position(|s| *s == st)
                .unwrap_or(TcpState::LIFECYCLE.len()),
            StateGroupKey::Udp => 20,
            StateGroupKey::Unix => 21,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateGroup {
    pub key: StateGroupKey,
    /// Indices into the snapshot's sockets, in snapshot order.
    pub members: Vec<usize>,
}

/// Sockets grouped by state in lifecycle order (LISTEN, SYN-SENT, SYN-RECV, ESTAB, FIN-WAIT-1,
/// FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, CLOSING, TIME-WAIT, CLOSE), then UDP, then unix. Empty
/// groups are left out.
pub fn by_state(sockets: &[Socket]) -> Vec<StateGroup> {
    let mut tally = StateTally::default();
    for (i, s) in sockets.iter().enumerate() {
        tally.add(i, s);
    }
    tally.finish().1
}

/// [`by_state`] and [`StateCounts::of`] fed one socket at a time, so a caller walking the
/// table for other reasons too (the live view, at 100,000 sockets a second) walks it once.
#[derive(Default)]
pub struct StateTally {
    counts: StateCounts,
    /// Members per slot: the 12 TCP states by kernel number, then UDP, then unix.
    slots: [Vec<usize>; 14],
    keys: [Option<StateGroupKey>; 14],
}

impl StateTally {
    pub fn add(&mut self, i: usize, s: &Socket) {
        self.counts.add(s);
        let slot = match s.netid {
            Netid::Tcp => s.state as usize,
            Netid::Udp => 12,
            Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => 13,
        };
        if self.keys[slot].is_none() {
            self.keys[slot] = Some(StateGroupKey::of(s));
        }
        self.slots[slot].push(i);
    }

    /// The counts, and the non-empty groups in lifecycle order.
    pub fn finish(self) -> (StateCounts, Vec<StateGroup>) {
        let mut groups: Vec<StateGroup> = self
            .keys
            .into_iter()
            .zip(self.slots)
            .filter_map(|(key, members)| Some(StateGroup { key: key?, members }))
            .collect();
        groups.sort_by_key(|g| g.key.rank());
        (self.counts, groups)
    }
}

/// Number of TCP sockets per state (indexed by the kernel's state number) plus UDP and unix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    tcp: [usize; 12],
    pub udp: usize,
    pub unix: usize,
}

impl StateCounts {
    pub fn of(sockets: &[Socket]) -> StateCounts {
        let mut c = StateCounts::default();
        for s in sockets {
            c.add(s);
        }
        c
    }
    pub fn add(&mut self, s: &Socket) {
        match s.netid {
            Netid::Tcp => self.tcp[s.state as usize] += 1,
            Netid::Udp => self.udp += 1,
            Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => self.unix += 1,
        }
    }
    pub fn tcp(&self, st: TcpState) -> usize {
        self.tcp[st as usize]
    }
    pub fn tcp_total(&self) -> usize {
        self.tcp.iter().sum()
    }
    pub fn total(&self) -> usize {
        self.tcp_total() + self.udp + self.unix
    }
}

/// A listener's accept queue: current length (Recv-Q) against the limit (Send-Q).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptQueue {
    pub len: Option<u32>,
    /// Unknown from /proc: the backlog limit is not in /proc/net/tcp.
    pub limit: Option<u32>,
}

impl AcceptQueue {
    pub fn of(s: &Socket) -> AcceptQueue {
        AcceptQueue {
            len: s.recv_q,
            limit: s.send_q,
        }
    }
    /// The kernel drops the next SYN only when length > limit (listen(1) holds 2).
    pub fn is_full(&self) -> bool {
        matches!((self.len, self.limit), (Some(l), Some(m)) if l > m)
    }
    /// Fill in 0.0..=1.0 (capped), when both are known; a limit of 0 counts as 1.
    pub fn ratio(&self) -> Option<f64> {
        let (l, m) = (self.len?, self.limit?);
        Some((f64::from(l) / f64::from(m.max(1))).min(1.0))
    }
    /// `len/limit`, `?` for what the source cannot know.
    pub fn label(&self) -> String {
        let f = |v: Option<u32>| v.map_or_else(|| "?".to_string(), |v| v.to_string());
        format!("{}/{}", f(self.len), f(self.limit))
    }
}

/// One listening socket and the connections on its local endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListenerGroup {
    /// Index of the listening socket.
    pub listener: usize,
    /// SYN-RECV children (handshake not complete).
    pub syn_recv: Vec<usize>,
    /// Every other child except TIME-WAIT (ESTAB, CLOSE-WAIT, FIN-WAIT...), snapshot order.
    pub connections: Vec<usize>,
    pub time_wait: usize,
    pub close_wait: usize,
}

impl ListenerGroup {
    /// Sockets listed under the listener (TIME-WAIT is only counted).
    pub fn children(&self) -> impl Iterator<Item = usize> + '_ {
        self.syn_recv.iter().chain(self.connections.iter()).copied()
    }
}

/// Outbound TCP connections sharing one remote endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteGroup {
    pub addr: IpAddr,
    pub port: u16,
    /// Every member except TIME-WAIT, snapshot order.
    pub members: Vec<usize>,
    pub time_wait: usize,
    pub close_wait: usize,
}

impl RemoteGroup {
    pub fn total(&self) -> usize {
        self.members.len() + self.time_wait
    }
}

/// The "by listener" grouping of a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListenerTree {
    /// TCP and unix-stream listeners, ordered by port (unix last, by path).
    pub listeners: Vec<ListenerGroup>,
    /// Outbound TCP connections by remote endpoint, largest group first.
    pub outbound: Vec<RemoteGroup>,
}

/// Canonical IPv4 form of a v4-mapped IPv6 address, so `::ffff:127.0.0.1` equals `127.0.0.1`.
pub fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    }
}

/// Equal addresses, a v4-mapped IPv6 address being equal to its IPv4 form.
pub fn same_addr(a: IpAddr, b: IpAddr) -> bool {
    canonical(a) == canonical(b)
}

/// Whether a listener bound to `laddr` (with IPV6_V6ONLY `v6only`) accepts connections whose
/// local address is `caddr`: the same address, the wildcard of its family, or `::` without
/// v6only for IPv4 (dual stack).
pub fn covers(laddr: IpAddr, v6only: Option<bool>, caddr: IpAddr) -> bool {
    match_rank(laddr, v6only, caddr).is_some()
}

/// How well a listener's local address covers a connection's local address: 3 exact, 2 the
/// wildcard of the same family, 1 a dual-stack `::` listener catching IPv4; `None` no match.
fn match_rank(laddr: IpAddr, v6only: Option<bool>, caddr: IpAddr) -> Option<u8> {
    if canonical(laddr) == canonical(caddr) {
        return Some(3);
    }
    if !laddr.is_unspecified() {
        return None;
    }
    let c = canonical(caddr);
    match (laddr, c) {
        (IpAddr::V4(_), IpAddr::V4(_)) => Some(2),
        (IpAddr::V6(_), IpAddr::V6(_)) => Some(2),
        (IpAddr::V6(_), IpAddr::V4(_)) if v6only != Some(true) => Some(1),
        _ => None,
    }
}

/// What a socket is filed under when grouping by listener: a TCP port, or the path of a unix
/// stream or seqpacket socket. The other kinds never listen.
enum ListenKey<'a> {
    Port { addr: IpAddr, port: u16 },
    Path(&'a str),
}

fn listen_key(s: &Socket) -> Option<ListenKey<'_>> {
    match s.netid {
        Netid::Tcp => match s.local {
            Endpoint::Inet { addr, port } => Some(ListenKey::Port { addr, port }),
            Endpoint::Unix { .. } => None,
        },
        Netid::UnixStream | Netid::UnixSeqpacket => match &s.local {
            Endpoint::Unix { path: Some(p), .. } => Some(ListenKey::Path(p)),
            Endpoint::Unix { path: None, .. } | Endpoint::Inet { .. } => None,
        },
        Netid::Udp | Netid::UnixDgram => None,
    }
}

/// Group sockets by listener. A connection belongs to the listener on its local port whose
/// address covers it best (exact address, then the family's wildcard, then a dual-stack `::`
/// listener); TCP connections that belong to no listener are outbound and grouped by peer.
pub fn by_listener(sockets: &[Socket]) -> ListenerTree {
    let mut tree = ListenerTree::default();
    // port -> indices into tree.listeners (TCP); path -> index (unix stream).
    let mut by_port: FastMap<u16, Vec<usize>> = FastMap::default();
    let mut by_path: FastMap<&str, usize> = FastMap::default();
    for (i, s) in sockets.iter().enumerate() {
        if s.state != TcpState::Listen {
            continue;
        }
        match listen_key(s) {
            Some(ListenKey::Port { port, .. }) => {
                by_port.entry(port).or_default().push(tree.listeners.len());
            }
            Some(ListenKey::Path(p)) => {
                by_path.entry(p).or_insert(tree.listeners.len());
            }
            None => continue,
        }
        tree.listeners.push(ListenerGroup {
            listener: i,
            ..ListenerGroup::default()
        });
    }

    let mut outbound: FastMap<(IpAddr, u16), usize> = FastMap::default();
    for (i, s) in sockets.iter().enumerate() {
        if s.state == TcpState::Listen {
            continue;
        }
        let owner = match listen_key(s) {
            Some(ListenKey::Port { addr, port }) => by_port.get(&port).and_then(|cands| {
                cands
                    .iter()
                    .filter_map(|&g| {
                        let l = &sockets[tree.listeners[g].listener];
                        match l.local {
                            Endpoint::Inet { addr: la, .. } => {
                                match_rank(la, l.v6only, addr).map(|r| (r, g))
                            }
                            Endpoint::Unix { .. } => None,
                        }
                    })
                    // Highest rank wins; among equals (SO_REUSEPORT twins) the first.
                    .min_by_key(|&(r, g)| (std::cmp::Reverse(r), g))
                    .map(|(_, g)| g)
            }),
            Some(ListenKey::Path(p)) => by_path.get(p).copied(),
            None => None,
        };
        if let Some(g) = owner {
            let grp = &mut tree.listeners[g];
            match s.state {
                TcpState::SynRecv => grp.syn_recv.push(i),
                TcpState::TimeWait => grp.time_wait += 1,
                st => {
                    if st == TcpState::CloseWait {
                        grp.close_wait += 1;
                    }
                    grp.connections.push(i);
                }
            }
            continue;
        }
        if s.netid != Netid::Tcp {
            continue;
        }
        let Endpoint::Inet { addr, port } = s.peer else {
            continue;
        };
        let g = *outbound.entry((canonical(addr), port)).or_insert_with(|| {
            tree.outbound.push(RemoteGroup {
                addr: canonical(addr),
                port,
                members: Vec::new(),
                time_wait: 0,
                close_wait: 0,
            });
            tree.outbound.len() - 1
        });
        let grp = &mut tree.outbound[g];
        match s.state {
            TcpState::TimeWait => grp.time_wait += 1,
            st => {
                if st == TcpState::CloseWait {
                    grp.close_wait += 1;
                }
                grp.members.push(i);
            }
        }
    }

    tree.listeners.sort_by(|a, b| {
        listener_order(&sockets[a.listener]).cmp(&listener_order(&sockets[b.listener]))
    });
    tree.outbound.sort_by(|a, b| {
        b.total()
            .cmp(&a.total())
            .then(a.port.cmp(&b.port))
            .then(a.addr.cmp(&b.addr))
    });
    tree
}

/// Sort key of a listener: inet by port then address, unix after, by path.
fn listener_order(s: &Socket) -> (u8, u16, Option<IpAddr>, Option<&str>) {
    match &s.local {
        Endpoint::Inet { addr, port } => (0, *port, Some(*addr), None),
        Endpoint::Unix { path, .. } => (1, 0, None, path.as_deref()),
    }
}

/// A fixed-capacity ring of samples, oldest first, for sparklines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRing {
    samples: VecDeque<u64>,
    capacity: usize,
}

impl HistoryRing {
    pub fn new(capacity: usize) -> HistoryRing {
        HistoryRing {
            samples: VecDeque::with_capacity(capacity.max(1)),
            capacity: capacity.max(1),
        }
    }
    pub fn push(&mut self, v: u64) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(v);
    }
    pub fn len(&self) -> usize {
        self.samples.len()
    }
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    pub fn last(&self) -> Option<u64> {
        self.samples.back().copied()
    }
    pub fn max(&self) -> u64 {
        self.samples.iter().copied().max().unwrap_or(0)
    }
    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.samples.iter().copied()
    }
    /// The newest `n` samples, oldest first.
    pub fn tail(&self, n: usize) -> impl Iterator<Item = u64> + '_ {
        self.samples
            .iter()
            .skip(self.len().saturating_sub(n))
            .copied()
    }
}

/// Per-state history of counts: one ring per TCP state.
#[derive(Clone, Debug)]
pub struct StateHistory {
    rings: Vec<HistoryRing>,
}

impl StateHistory {
    pub fn new(capacity: usize) -> StateHistory {
        StateHistory {
            rings: (0..12).map(|_| HistoryRing::new(capacity)).collect(),
        }
    }
    pub fn push(&mut self, counts: &StateCounts) {
        for st in TcpState::ALL {
            self.rings[st as usize].push(counts.tcp(st) as u64);
        }
    }
    pub fn get(&self, st: TcpState) -> &HistoryRing {
        &self.rings[st as usize]
    }
}

/// Unicode sparkline of the given samples, scaled to their maximum (a flat zero line is
/// drawn with the lowest block).
pub fn sparkline(samples: impl IntoIterator<Item = u64>) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let samples: Vec<u64> = samples.into_iter().collect();
    let max = samples.iter().copied().max().unwrap_or(0);
    samples
        .into_iter()
        .map(|v| {
            if max == 0 {
                BARS[0]
            } else {
                BARS[((v as f64 / max as f64) * 7.0).round() as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn inet(a: &str, port: u16) -> Endpoint {
        Endpoint::Inet {
            addr: a.parse().unwrap(),
            port,
        }
    }

    fn tcp(state: TcpState, local: Endpoint, peer: Endpoint) -> Socket {
        Socket {
            recv_q: Some(0),
            send_q: Some(0),
            inode: 1,
            uid: Some(0),
            ..Socket::new(Netid::Tcp, state, local, peer)
        }
    }

    fn any4() -> Endpoint {
        inet("0.0.0.0", 0)
    }

    #[test]
    fn by_state_follows_lifecycle_and_puts_udp_unix_last() {
        let mut u = tcp(TcpState::Close, inet("0.0.0.0", 53), any4());
        u.netid = Netid::Udp;
        let mut x = tcp(
            TcpState::Established,
            Endpoint::Unix {
                path: None,
                inode: 5,
            },
            Endpoint::Unix {
                path: None,
                inode: 6,
            },
        );
        x.netid = Netid::UnixStream;
        let socks = vec![
            x,
            tcp(TcpState::TimeWait, inet("1.1.1.1", 1), inet("2.2.2.2", 2)),
            u,
            tcp(
                TcpState::Established,
                inet("1.1.1.1", 3),
                inet("2.2.2.2", 2),
            ),
            tcp(TcpState::Listen, inet("0.0.0.0", 80), any4()),
            tcp(TcpState::CloseWait, inet("1.1.1.1", 4), inet("2.2.2.2", 2)),
            tcp(
                TcpState::Established,
                inet("1.1.1.1", 5),
                inet("2.2.2.2", 2),
            ),
        ];
        let g = by_state(&socks);
        let keys: Vec<_> = g.iter().map(|g| g.key).collect();
        assert_eq!(
            keys,
            vec![
                StateGroupKey::Tcp(TcpState::Listen),
                StateGroupKey::Tcp(TcpState::Established),
                StateGroupKey::Tcp(TcpState::CloseWait),
                StateGroupKey::Tcp(TcpState::TimeWait),
                StateGroupKey::Udp,
                StateGroupKey::Unix,
            ]
        );
        assert_eq!(g[1].members, vec![3, 6]);
        let c = StateCounts::of(&socks);
        assert_eq!(c.tcp(TcpState::Established), 2);
        assert_eq!((c.udp, c.unix, c.total()), (1, 1, 7));
    }

    #[test]
    fn accept_queue_full_only_above_limit() {
        let mut l = tcp(TcpState::Listen, inet("0.0.0.0", 80), any4());
        l.recv_q = Some(1);
        l.send_q = Some(1);
        assert!(!AcceptQueue::of(&l).is_full());
        l.recv_q = Some(2);
        assert!(AcceptQueue::of(&l).is_full());
        assert_eq!(AcceptQueue::of(&l).label(), "2/1");
        l.send_q = None;
        assert!(!AcceptQueue::of(&l).is_full());
        assert_eq!(AcceptQueue::of(&l).label(), "2/?");
        assert_eq!(AcceptQueue::of(&l).ratio(), None);
    }

    #[test]
    fn listener_children_wildcard_dual_stack_and_outbound() {
        let socks = vec![
            // 0: v4 wildcard on 80
            tcp(TcpState::Listen, inet("0.0.0.0", 80), any4()),
            // 1: dual-stack :: on 8080
            tcp(TcpState::Listen, inet("::", 8080), inet("::", 0)),
            // 2: specific 127.0.0.1:80 beats the wildcard for loopback children
            tcp(TcpState::Listen, inet("127.0.0.1", 80), any4()),
            // 3: child of 2
            tcp(
                TcpState::Established,
                inet("127.0.0.1", 80),
                inet("127.0.0.1", 40000),
            ),
            // 4: child of 0
            tcp(
                TcpState::SynRecv,
                inet("10.0.0.1", 80),
                inet("10.0.0.2", 40001),
            ),
            // 5: v4-mapped child of the dual-stack listener
            tcp(
                TcpState::CloseWait,
                inet("::ffff:127.0.0.1", 8080),
                inet("::ffff:127.0.0.1", 40002),
            ),
            // 6: TIME-WAIT of listener 1
            tcp(TcpState::TimeWait, inet("::1", 8080), inet("::1", 40003)),
            // 7, 8: outbound to 127.0.0.1:80 (the client ends of loopback connections)
            tcp(
                TcpState::Established,
                inet("127.0.0.1", 40000),
                inet("127.0.0.1", 80),
            ),
            tcp(
                TcpState::TimeWait,
                inet("127.0.0.1", 40009),
                inet("127.0.0.1", 80),
            ),
            // 9: outbound to 1.1.1.1:443
            tcp(
                TcpState::FinWait2,
                inet("10.0.0.1", 50000),
                inet("1.1.1.1", 443),
            ),
        ];
        let t = by_listener(&socks);
        assert_eq!(t.listeners.len(), 3);
        // Ordered by port then address: 0.0.0.0:80, 127.0.0.1:80, :::8080.
        assert_eq!(t.listeners[0].listener, 0);
        assert_eq!(t.listeners[0].syn_recv, vec![4]);
        assert!(t.listeners[0].connections.is_empty());
        assert_eq!(t.listeners[1].listener, 2);
        assert_eq!(t.listeners[1].connections, vec![3]);
        assert_eq!(t.listeners[2].listener, 1);
        assert_eq!(t.listeners[2].connections, vec![5]);
        assert_eq!(t.listeners[2].close_wait, 1);
        assert_eq!(t.listeners[2].time_wait, 1);
        assert_eq!(t.outbound.len(), 2);
        assert_eq!(t.outbound[0].addr, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(t.outbound[0].port, 80);
        assert_eq!(t.outbound[0].members, vec![7]);
        assert_eq!(t.outbound[0].time_wait, 1);
        assert_eq!(t.outbound[1].port, 443);
    }

    #[test]
    fn v6only_listener_does_not_take_ipv4() {
        let mut l6 = tcp(TcpState::Listen, inet("::", 80), inet("::", 0));
        l6.v6only = Some(true);
        let socks = vec![
            l6,
            tcp(
                TcpState::Established,
                inet("::ffff:10.0.0.1", 80),
                inet("::ffff:10.0.0.2", 1234),
            ),
        ];
        let t = by_listener(&socks);
        assert!(t.listeners[0].connections.is_empty());
        assert_eq!(t.outbound.len(), 1);
        assert_eq!(
            canonical(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
    }

    #[test]
    fn history_ring_keeps_newest() {
        let mut r = HistoryRing::new(3);
        assert!(r.is_empty());
        for v in 1..=5 {
            r.push(v);
        }
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(r.tail(2).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!((r.len(), r.max(), r.last()), (3, 5, Some(5)));
        assert_eq!(sparkline(r.iter()), "▅▇█");
        assert_eq!(sparkline([0u64, 0]), "▁▁");
        let mut h = StateHistory::new(2);
        let socks = vec![tcp(TcpState::TimeWait, inet("1.1.1.1", 1), any4())];
        h.push(&StateCounts::of(&socks));
        h.push(&StateCounts::of(&[]));
        assert_eq!(
            h.get(TcpState::TimeWait).iter().collect::<Vec<_>>(),
            vec![1, 0]
        );
    }
}
