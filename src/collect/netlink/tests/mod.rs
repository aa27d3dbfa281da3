//! Decoding tests on hand-built bytes and on datagrams recorded from a real kernel
//! (tests/fixtures/netlink/, written by `tests/it/netlink/record.rs`).

use std::collections::VecDeque;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use super::wire::*;
use super::*;
use crate::collect::{NetidSet, Query};
use crate::model::{Endpoint, Netid, StateSet, TcpState, Timer, TimerKind};

// ---------------------------------------------------------------- builders

pub(crate) fn nlmsg(kind: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(&0x2u16.to_ne_bytes()); // NLM_F_MULTI
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&1234u32.to_ne_bytes());
    v.extend_from_slice(payload);
    v.resize(align4(v.len()), 0);
    v
}

fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    v.extend_from_slice(&kind.to_ne_bytes());
    v.extend_from_slice(value);
    v.resize(align4(v.len()), 0);
    v
}

fn done(seq: u32, errno: i32) -> Vec<u8> {
    nlmsg(NLMSG_DONE, seq, &(-errno).to_ne_bytes())
}

fn error(seq: u32, errno: i32) -> Vec<u8> {
    let mut p = (-errno).to_ne_bytes().to_vec();
    p.extend_from_slice(&[0u8; 16]); // the offending request's header
    nlmsg(NLMSG_ERROR, seq, &p)
}

#[derive(Clone)]
struct Inet {
    family: u8,
    state: u8,
    timer: u8,
    retrans: u8,
    sport: u16,
    dport: u16,
    src: IpAddr,
    dst: IpAddr,
    ifindex: u32,
    cookie: [u32; 2],
    expires: u32,
    rq: u32,
    wq: u32,
    uid: u32,
    inode: u32,
    attrs: Vec<u8>,
}

impl Inet {
    fn v4(state: u8, sport: u16, dport: u16) -> Inet {
        Inet {
            family: AF_INET,
            state,
            timer: 0,
            retrans: 0,
            sport,
            dport,
            src: "127.0.0.1".parse().unwrap(),
            dst: "127.0.0.1".parse().unwrap(),
            ifindex: 0,
            cookie: [7, 1],
            expires: 0,
            rq: 0,
            wq: 0,
            uid: 1000,
            inode: 4242,
            attrs: Vec::new(),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut v = vec![self.family, self.state, self.timer, self.retrans];
        v.extend_from_slice(&self.sport.to_be_bytes());
        v.extend_from_slice(&self.dport.to_be_bytes());
        for a in [self.src, self.dst] {
            let mut raw = [0u8; 16];
            match a {
                IpAddr::V4(a) => raw[..4].copy_from_slice(&a.octets()),
                IpAddr::V6(a) => raw = a.octets(),
            }
            v.extend_from_slice(&raw);
        }
        for x in [
            self.ifindex,
            self.cookie[0],
            self.cookie[1],
            self.expires,
            self.rq,
            self.wq,
            self.uid,
            self.inode,
        ] {
            v.extend_from_slice(&x.to_ne_bytes());
        }
        assert_eq!(v.len(), 72);
        v.extend_from_slice(&self.attrs);
        v
    }

    fn v6(state: u8, sport: u16, dport: u16) -> Inet {
        Inet {
            family: AF_INET6,
            src: "::1".parse().unwrap(),
            dst: "::1".parse().unwrap(),
            ..Inet::v4(state, sport, dport)
        }
    }

    fn msg(&self, seq: u32) -> Vec<u8> {
        nlmsg(SOCK_DIAG_BY_FAMILY, seq, &self.bytes())
    }

    /// As the answer to a one-walk (TCPDIAG_GETSOCK) request: same body, the request's type.
    fn compat_msg(&self, seq: u32) -> Vec<u8> {
        nlmsg(TCPDIAG_GETSOCK, seq, &self.bytes())
    }
}

fn unix_msg(seq: u32, sock_type: u8, state: u8, inode: u32, attrs: &[u8]) -> Vec<u8> {
    let mut p = vec![AF_UNIX, sock_type, state, 0];
    p.extend_from_slice(&inode.to_ne_bytes());
    p.extend_from_slice(&3u32.to_ne_bytes());
    p.extend_from_slice(&0u32.to_ne_bytes());
    p.extend_from_slice(attrs);
    nlmsg(SOCK_DIAG_BY_FAMILY, seq, &p)
}

/// TCP, UDP and unix: what these tests' scripted kernels answer (the other kinds have
/// their own decoder tests).
fn all() -> Query {
    Query {
        netids: crate::model::NetidSet::of(&[
            crate::model::Netid::Tcp,
            crate::model::Netid::Udp,
            crate::model::Netid::UnixStream,
            crate::model::Netid::UnixDgram,
            crate::model::Netid::UnixSeqpacket,
        ]),
        ..Query::default()
    }
}

fn run(data: &[u8], seq: u32, table: Table, q: &Query) -> (Progress, Vec<Socket>, usize) {
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut held = Held::default();
    let p = process_datagram(data, seq, table, q, &mut out, &mut skipped, &mut held);
    (p, out, skipped)
}

mod dccp;
mod decode;
mod dump;
mod extras;
mod one_walk;
mod sctp;
mod tipc;
mod vsock;
mod xdp;

/// A decoded table as `sockeye dump` prints it from netlink (the families' "prints as ss"
/// tests compare this with what ss's print code gives).
fn render(sockets: &[Socket], opts: crate::output::table::TableOptions) -> String {
    let ctx = crate::output::columns::CellCtx::new(true, crate::model::Source::Netlink);
    let mut out = Vec::new();
    crate::output::table::write_table(&mut out, sockets, &ctx, &opts).expect("write to a Vec");
    String::from_utf8(out).expect("utf8")
}
