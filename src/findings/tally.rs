//! The one walk over each snapshot: its sockets sorted into the groups the rules look at,
//! so [`super::evaluate`] reads every socket of the table once and each rule then reads
//! only its own group (a few listeners, the closing states, the connections).

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::Window;
use crate::model::{Endpoint, Netid, Snapshot, Socket, TcpState, TimerKind};

/// One snapshot's sockets by what the rules ask of them, each group in table order.
#[derive(Default)]
pub struct Tally<'a> {
    /// TCP listeners by local port (the first of a port): which listener a server-side
    /// connection belongs to.
    pub listeners: FxHashMap<u16, &'a Socket>,
    /// TCP listeners, all of them.
    pub tcp_listen: Vec<&'a Socket>,
    pub close_wait: Vec<&'a Socket>,
    pub fin_wait2: Vec<&'a Socket>,
    pub syn_recv: Vec<&'a Socket>,
    pub time_wait: Vec<&'a Socket>,
    /// FIN-WAIT-1, LAST-ACK and CLOSING: where orphans are.
    pub closing: Vec<&'a Socket>,
    /// TCP sockets neither listening nor in TIME-WAIT: the connections (every state of
    /// the groups above but LISTEN and TIME-WAIT is in here too).
    pub conns: Vec<&'a Socket>,
    /// ESTAB sockets with anything in a queue.
    pub queued: Vec<&'a Socket>,
    pub udp: Vec<&'a Socket>,
    /// Unix stream and seqpacket listeners.
    pub unix_listen: Vec<&'a Socket>,
    /// Connections whose retransmit timer runs (the per-peer rule without tcp_info).
    pub retransmitting: Vec<&'a Socket>,
    /// Connections with tcp_info.
    pub with_info: usize,
    /// Connections and TIME-WAIT sockets from ephemeral ports, by destination bucket.
    pub ephemeral: EphemeralSketch,
    /// What [`super::history::distill`] keeps of this snapshot, in table order.
    pub kept: Vec<&'a Socket>,
}

/// Connections from an ephemeral port (of `ip_local_port_range`) counted by a hash of
/// (local address, destination address, destination port) into a fixed array of buckets.
/// A destination's count is at most its bucket's, so the port-exhaustion rule builds its
/// exact per-destination map only for sockets in a bucket that could cross the threshold:
/// at 100,000 connections that map is most of the rule's cost, and usually not needed.
#[derive(Default)]
pub struct EphemeralSketch {
    /// The range, when the snapshot's counters know it.
    pub range: Option<(u16, u16)>,
    /// Sockets from an ephemeral port toward a known port, all destinations together.
    pub total: u64,
    buckets: Vec<u32>,
}

const SKETCH_BUCKETS: usize = 4096;

impl EphemeralSketch {
    fn new(snap: &Snapshot) -> EphemeralSketch {
        EphemeralSketch {
            range: snap
                .counters
                .as_ref()
                .and_then(|c| c.ip_local_port_range)
                .filter(|(lo, hi)| lo <= hi),
            ..EphemeralSketch::default()
        }
    }

    /// The destination of `s` when it counts: both ends inet, a known peer port, the local
    /// port in the ephemeral range.
    pub fn destination(&self, s: &Socket) -> Option<(IpAddr, IpAddr, u16)> {
        let (low, high) = self.range?;
        match (&s.local, &s.peer) {
            (Endpoint::Inet { addr: l, port: lp }, Endpoint::Inet { addr: p, port: pp })
                if *pp != 0 && (low..=high).contains(lp) =>
            {
                Some((*l, *p, *pp))
            }
            _ => None,
        }
    }

    fn bucket(dest: &(IpAddr, IpAddr, u16)) -> usize {
        let mut h = rustc_hash::FxHasher::default();
        dest.hash(&mut h);
        (h.finish() as usize) % SKETCH_BUCKETS
    }

    fn add(&mut self, s: &Socket) {
        let Some(dest) = self.destination(s) else {
            return;
        };
        if self.buckets.is_empty() {
            self.buckets = vec![0; SKETCH_BUCKETS];
        }
        self.total += 1;
        let b = &mut self.buckets[Self::bucket(&dest)];
        *b = b.saturating_add(1);
    }

    /// At least as many as the sockets toward `dest` (exactly that many when no other
    /// destination shares its bucket).
    pub fn bound(&self, dest: &(IpAddr, IpAddr, u16)) -> u64 {
        self.buckets
            .get(Self::bucket(dest))
            .map_or(0, |&n| u64::from(n))
    }
}

impl<'a> Tally<'a> {
    pub fn of(snap: &'a Snapshot) -> Tally<'a> {
        let mut t = Tally {
            ephemeral: EphemeralSketch::new(snap),
            ..Tally::default()
        };
        for s in &snap.sockets {
            t.add(s);
        }
        t
    }

    fn add(&mut self, s: &'a Socket) {
        if super::history::kept(s, true) {
            self.kept.push(s);
        }
        match s.netid {
            Netid::Tcp => match s.state {
                TcpState::Listen => {
                    if let Some(p) = s.local_port() {
                        self.listeners.entry(p).or_insert(s);
                    }
                    self.tcp_listen.push(s);
                }
                TcpState::TimeWait => {
                    self.ephemeral.add(s);
                    self.time_wait.push(s)
                }
                state => {
                    self.ephemeral.add(s);
                    if s.tcp_info.is_some() {
                        self.with_info += 1;
                    }
                    if s.timer.is_some_and(|t| t.kind == TimerKind::Retransmit) {
                        self.retransmitting.push(s);
                    }
                    match state {
                        TcpState::CloseWait => self.close_wait.push(s),
                        TcpState::FinWait2 => self.fin_wait2.push(s),
                        TcpState::SynRecv => self.syn_recv.push(s),
                        TcpState::FinWait1 | TcpState::LastAck | TcpState::Closing => {
                            self.closing.push(s)
                        }
                        TcpState::Established
                            if s.recv_q.is_some_and(|q| q > 0)
                                || s.send_q.is_some_and(|q| q > 0) =>
                        {
                            self.queued.push(s)
                        }
                        _ => {}
                    }
                    self.conns.push(s);
                }
            },
            Netid::Udp => self.udp.push(s),
            Netid::UnixStream | Netid::UnixSeqpacket if s.state == TcpState::Listen => {
                self.unix_listen.push(s)
            }
            _ => {}
        }
    }
}

/// A window with every snapshot tallied: what the rules run over.
pub struct Scan<'w, 'a> {
    pub window: &'w Window<'a>,
    /// One per snapshot, oldest first.
    pub tallies: Vec<Tally<'a>>,
}

impl<'w, 'a> Scan<'w, 'a> {
    pub fn of(window: &'w Window<'a>) -> Scan<'w, 'a> {
        Scan {
            window,
            tallies: window.snaps.iter().map(Tally::of).collect(),
        }
    }
    pub fn first(&self) -> Option<&Tally<'a>> {
        self.tallies.first()
    }
    pub fn last(&self) -> Option<&Tally<'a>> {
        self.tallies.last()
    }
}
