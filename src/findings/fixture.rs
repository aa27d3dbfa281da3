//! Synthetic snapshot sequences for the rules' tests.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::Window;
use crate::model::{
    Endpoint, KernelCounters, Netid, ProcessRef, Snapshot, Socket, Source, TcpState, Timer,
    TimerKind,
};

fn inet(ip: &str, port: u16) -> Endpoint {
    Endpoint::Inet {
        addr: ip.parse().unwrap(),
        port,
    }
}

pub fn tcp(state: TcpState, local: (&str, u16), peer: (&str, u16)) -> Socket {
    Socket::new(
        Netid::Tcp,
        state,
        inet(local.0, local.1),
        inet(peer.0, peer.1),
    )
}

pub trait Build {
    fn cookie(self, c: u64) -> Socket;
    fn owned(self, cmd: &str, pid: u32) -> Socket;
    fn queues(self, recv: u32, send: u32) -> Socket;
    fn persist(self, probes: u32) -> Socket;
}

impl Build for Socket {
    fn cookie(mut self, c: u64) -> Socket {
        self.cookie = Some(c);
        self
    }
    fn owned(mut self, cmd: &str, pid: u32) -> Socket {
        self.processes = vec![ProcessRef {
            command: Arc::from(cmd),
            pid,
            fd: 3,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        }]
        .into();
        self
    }
    fn queues(mut self, recv: u32, send: u32) -> Socket {
        self.recv_q = Some(recv);
        self.send_q = Some(send);
        self
    }
    fn persist(mut self, probes: u32) -> Socket {
        self.timer = Some(Timer {
            kind: TimerKind::Probe,
            expires_ms: 1000,
            retrans: probes,
        });
        self
    }
}

pub fn counters(f: impl FnOnce(&mut KernelCounters)) -> KernelCounters {
    let mut c = KernelCounters::default();
    f(&mut c);
    c
}

fn snap(i: usize, sockets: Vec<Socket>, counters: Option<KernelCounters>) -> Snapshot {
    Snapshot::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1000 + i as u64),
        Source::Netlink,
        sockets,
        counters,
    )
}

/// Snapshots one second apart, each with the same counters.
pub fn window_of(rounds: Vec<Vec<Socket>>, c: Option<KernelCounters>) -> Vec<Snapshot> {
    rounds
        .into_iter()
        .enumerate()
        .map(|(i, s)| snap(i, s, c.clone()))
        .collect()
}

/// Snapshots one second apart, with these counters each.
pub fn counted(rounds: Vec<(Vec<Socket>, KernelCounters)>) -> Vec<Snapshot> {
    rounds
        .into_iter()
        .enumerate()
        .map(|(i, (s, c))| snap(i, s, Some(c)))
        .collect()
}

pub fn win(snaps: &[Snapshot]) -> Window<'_> {
    Window {
        snaps,
        whole_host: true,
        tables: crate::tables::NetidSet::ALL,
    }
}

pub fn udp(local: (&str, u16)) -> Socket {
    Socket::new(
        Netid::Udp,
        TcpState::Close,
        inet(local.0, local.1),
        inet("0.0.0.0", 0),
    )
}

pub fn unix_listener(path: &str, inode: u64, queue: u32, backlog: u32) -> Socket {
    let mut s = Socket::new(
        Netid::UnixStream,
        TcpState::Listen,
        Endpoint::Unix {
            path: Some(path.into()),
            inode,
        },
        Endpoint::Unix {
            path: None,
            inode: 0,
        },
    );
    s.inode = inode;
    s.queues(queue, backlog)
}

pub trait Mem {
    fn mem(self, rmem_alloc: u32, rcvbuf: u32, drops: u32) -> Socket;
    fn retrans_timer(self, retrans: u32) -> Socket;
    fn segs(self, out: u32, total_retrans: u32) -> Socket;
    fn bytes(self, acked: u64, received: u64) -> Socket;
}

impl Mem for Socket {
    fn mem(mut self, rmem_alloc: u32, rcvbuf: u32, drops: u32) -> Socket {
        self.memory = Some(Box::new(crate::model::MemInfo {
            rmem_alloc,
            rcvbuf,
            drops,
            ..Default::default()
        }));
        self
    }
    fn retrans_timer(mut self, retrans: u32) -> Socket {
        self.timer = Some(Timer {
            kind: TimerKind::Retransmit,
            expires_ms: 1000,
            retrans,
        });
        self
    }
    fn segs(mut self, out: u32, total_retrans: u32) -> Socket {
        self.tcp_info = Some(Box::new(crate::model::TcpInfo {
            segs_out: out,
            total_retrans,
            ..Default::default()
        }));
        self
    }
    fn bytes(mut self, acked: u64, received: u64) -> Socket {
        self.tcp_info = Some(Box::new(crate::model::TcpInfo {
            bytes_acked: acked,
            bytes_received: received,
            ..Default::default()
        }));
        self
    }
}

/// The window tallied, as the rules take it.
pub fn scan<'w, 'a>(w: &'w Window<'a>) -> super::Scan<'w, 'a> {
    super::Scan::of(w)
}
