//! What the kernel shows on a scenario's port: a pure function of a snapshot, which each
//! scenario's explanation (its `Spec`) reads, so the attach panel only draws.

use crate::model::{Endpoint, Netid, Snapshot, Socket, TcpState};

/// The kernel's view of one scenario's port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortView {
    /// The listener's Recv-Q (accept queue now) and Send-Q (its limit).
    pub listen_q: Option<(Option<u32>, Option<u32>)>,
    /// Server side (local port = the scenario's): by state.
    pub server: StateCounts,
    /// Client side (peer port = the scenario's): by state.
    pub client: StateCounts,
    /// Largest Recv-Q / Send-Q on the server side (connections, not the listener).
    pub server_max_recv_q: u32,
    pub server_max_send_q: u32,
    /// Largest Recv-Q on the client side.
    pub client_max_recv_q: u32,
    /// Unix sockets bound to one of the scenario's paths (listeners, accepted ends, datagram
    /// sockets), in snapshot order.
    pub unix: Vec<UnixSeen>,
    /// (port, Recv-Q, Send-Q) of the listeners on the scenario's extra ports.
    pub extra_listen: Vec<(u16, Option<u32>, Option<u32>)>,
}

/// One unix socket on a scenario's path, as the kernel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnixSeen {
    pub path: String,
    pub netid: Netid,
    pub state: TcpState,
    pub recv_q: Option<u32>,
    pub send_q: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub established: usize,
    pub syn_sent: usize,
    pub close_wait: usize,
    pub fin_wait: usize,
    pub time_wait: usize,
    pub other: usize,
}

impl StateCounts {
    fn add(&mut self, s: TcpState) {
        match s {
            TcpState::Established => self.established += 1,
            TcpState::SynSent => self.syn_sent += 1,
            TcpState::CloseWait => self.close_wait += 1,
            TcpState::FinWait1 | TcpState::FinWait2 => self.fin_wait += 1,
            TcpState::TimeWait => self.time_wait += 1,
            _ => self.other += 1,
        }
    }
}

/// Gather what the snapshot holds about `port` (TCP only).
pub fn port_view(snapshot: &Snapshot, port: u16) -> PortView {
    let mut v = PortView::default();
    for s in snapshot.sockets.iter().filter(|s| s.netid.is_inet()) {
        if !is_tcp(s) {
            continue;
        }
        if s.state == TcpState::Listen {
            if s.local_port() == Some(port) {
                v.listen_q = Some((s.recv_q, s.send_q));
            }
            continue;
        }
        if s.local_port() == Some(port) {
            v.server.add(s.state);
            v.server_max_recv_q = v.server_max_recv_q.max(s.recv_q.unwrap_or(0));
            v.server_max_send_q = v.server_max_send_q.max(s.send_q.unwrap_or(0));
        } else if s.peer_port() == Some(port) {
            v.client.add(s.state);
            v.client_max_recv_q = v.client_max_recv_q.max(s.recv_q.unwrap_or(0));
        }
    }
    v
}

/// `port_view`, plus the listeners on `extra` ports and the unix sockets bound to `paths`.
pub fn scenario_view(snapshot: &Snapshot, port: u16, extra: &[u16], paths: &[String]) -> PortView {
    let mut v = if port == 0 {
        PortView::default()
    } else {
        port_view(snapshot, port)
    };
    for s in snapshot
        .sockets
        .iter()
        .filter(|s| is_tcp(s) && s.state == TcpState::Listen)
    {
        if let Some(p) = s.local_port().filter(|p| extra.contains(p)) {
            v.extra_listen.push((p, s.recv_q, s.send_q));
        }
    }
    if paths.is_empty() {
        return v;
    }
    for s in &snapshot.sockets {
        if let Endpoint::Unix { path: Some(p), .. } = &s.local
            && paths.iter().any(|want| **want == **p)
        {
            v.unix.push(UnixSeen {
                path: p.to_string(),
                netid: s.netid,
                state: s.state,
                recv_q: s.recv_q,
                send_q: s.send_q,
            });
        }
    }
    v
}

fn is_tcp(s: &Socket) -> bool {
    s.netid == Netid::Tcp
}

fn q(v: Option<u32>) -> String {
    v.map_or_else(|| "-".to_string(), |n| n.to_string())
}

/// The listener's queue, `LISTEN Recv-Q/Send-Q`, the way every scenario's line starts.
pub fn listener(v: &PortView) -> String {
    match v.listen_q {
        Some((r, s)) => format!("LISTEN {}/{}", q(r), q(s)),
        None => "no listener".to_string(),
    }
}
