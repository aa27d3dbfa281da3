//! The one walk over each snapshot: its sockets sorted into the groups the rules look at,
//! so [`super::evaluate`] reads every socket of the table once and each rule then reads
//! only its own group (a few listeners, the closing states, the connections).

use rustc_hash::FxHashMap;

use super::Window;
use crate::model::{Netid, Snapshot, Socket, TcpState};

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
}

impl<'a> Tally<'a> {
    pub fn of(snap: &'a Snapshot) -> Tally<'a> {
        let mut t = Tally::default();
        for s in &snap.sockets {
            t.add(s);
        }
        t
    }

    fn add(&mut self, s: &'a Socket) {
        match s.netid {
            Netid::Tcp => match s.state {
                TcpState::Listen => {
                    if let Some(p) = s.local_port() {
                        self.listeners.entry(p).or_insert(s);
                    }
                    self.tcp_listen.push(s);
                }
                TcpState::TimeWait => self.time_wait.push(s),
                state => {
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
