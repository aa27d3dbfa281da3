//! The "by listener" grouping: listeners with their children, outbound connections by
//! remote endpoint, and accept-queue fill.

use std::net::IpAddr;

use super::FastMap;
use super::addr::{canonical, match_rank};
use crate::model::{Endpoint, Netid, Socket, TcpState};

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
            _ => None,
        },
        Netid::UnixStream | Netid::UnixSeqpacket => match &s.local {
            Endpoint::Unix { path: Some(p), .. } => Some(ListenKey::Path(p)),
            _ => None,
        },
        // MPTCP listeners are not grouped: each has a TCP subflow listener on the same port,
        // which is.
        Netid::Udp
        | Netid::UnixDgram
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
        | Netid::TipcSeqpacket => None,
    }
}

/// Group sockets by listener. A connection belongs to the listener on its local port whose
/// address covers it best (exact address, then the family's wildcard, then a dual-stack `::`
/// listener); TCP connections that belong to no listener are outbound and grouped by peer.
pub fn by_listener(sockets: &[Socket]) -> ListenerTree {
    let mut tree = ListenerTree::default();
    // (namespace, port) -> indices into tree.listeners (TCP); (namespace, path) -> index
    // (unix stream). A connection only ever belongs to a listener of its own namespace.
    let mut by_port: FastMap<(u64, u16), Vec<usize>> = FastMap::default();
    let mut by_path: FastMap<(u64, &str), usize> = FastMap::default();
    let ns = |s: &Socket| s.netns.as_ref().map_or(0, |t| t.inode);
    // One bit per port with a listener (any namespace): most connections' local port has
    // none (the client side, TIME-WAIT), and the bit spares them the map lookup.
    let mut listening = vec![0u64; 1024];
    let has_listener =
        |bits: &[u64], port: u16| bits[usize::from(port / 64)] & (1 << (port % 64)) != 0;
    for (i, s) in sockets.iter().enumerate() {
        if s.state != TcpState::Listen {
            continue;
        }
        match listen_key(s) {
            Some(ListenKey::Port { port, .. }) => {
                listening[usize::from(port / 64)] |= 1 << (port % 64);
                by_port
                    .entry((ns(s), port))
                    .or_default()
                    .push(tree.listeners.len());
            }
            Some(ListenKey::Path(p)) => {
                by_path.entry((ns(s), p)).or_insert(tree.listeners.len());
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
            Some(ListenKey::Port { port, .. }) if !has_listener(&listening, port) => None,
            Some(ListenKey::Port { addr, port }) => by_port.get(&(ns(s), port)).and_then(|cands| {
                cands
                    .iter()
                    .filter_map(|&g| {
                        let l = &sockets[tree.listeners[g].listener];
                        match l.local {
                            Endpoint::Inet { addr: la, .. } => {
                                match_rank(la, l.v6only, addr).map(|r| (r, g))
                            }
                            _ => None,
                        }
                    })
                    // Highest rank wins; among equals (SO_REUSEPORT twins) the first.
                    .min_by_key(|&(r, g)| (std::cmp::Reverse(r), g))
                    .map(|(_, g)| g)
            }),
            Some(ListenKey::Path(p)) => by_path.get(&(ns(s), p)).copied(),
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
        _ => (2, 0, None, None),
    }
}
