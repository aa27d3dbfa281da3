//! One datagram of a dump answer, decoded into sockets.

use super::inet::{self, Decoded};
use super::table::Table;
use super::wire::{
    self, AF_INET6, Messages, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, Next,
    SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK,
};
use super::{nlsock, packet, tipc, unix, vsock, xdp};
use crate::collect::Query;
use crate::model::{Netid, Socket};

/// What a datagram said about the table being dumped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Keep reading.
    More,
    /// NLMSG_DONE without error.
    Done,
    /// NLMSG_ERROR, or NLMSG_DONE carrying an error: the positive errno.
    Failed(i32),
}

/// Capacity of the held-back IPv6 buffer kept between dumps (some 15,000 sockets).
const HELD_KEEP: usize = 2 << 20;

/// The IPv6 answers of a one-walk dump, held back until it ends so that every IPv4 socket
/// comes first (they pass through the query's `keep` hook, which may stream them out).
#[derive(Debug, Default)]
pub(crate) struct Held {
    /// `inet_diag_msg` payloads, each preceded by its length (u32, native endian).
    v6: Vec<u8>,
    /// Socket messages of the current dump received so far (kept, filtered or not).
    pub(super) messages: usize,
}

impl Held {
    pub(super) fn reset(&mut self) {
        self.v6.clear();
        self.messages = 0;
    }

    fn hold(&mut self, payload: &[u8]) {
        // A payload comes from one datagram of at most 64 KiB: its length fits.
        self.v6
            .extend_from_slice(&(payload.len() as u32).to_ne_bytes());
        self.v6.extend_from_slice(payload);
    }

    /// Decode what was held, in arrival order, and forget it.
    fn release(&mut self, netid: Netid, query: &Query, out: &mut Vec<Socket>, skipped: &mut usize) {
        let mut rest = self.v6.as_slice();
        while let Some((len, tail)) = rest.split_first_chunk::<4>() {
            let len = u32::from_ne_bytes(*len) as usize;
            let Some(payload) = tail.get(..len) else {
                break; // cannot happen: written by `hold`
            };
            if inet::decode_into(payload, netid, query, out) == inet::Outcome::Bad {
                *skipped += 1;
            }
            rest = &tail[len..];
        }
        self.v6.clear();
        if self.v6.capacity() > HELD_KEEP {
            // A huge IPv6 table once: do not keep its buffer for every later dump.
            self.v6 = Vec::new();
        }
    }
}

/// Decode every message of one datagram of the dump of `table` whose request had sequence
/// number `seq`. Messages of another sequence (a previous, abandoned dump) are ignored; an
/// undecodable message is skipped and counted; a datagram whose message lengths do not add up
/// is counted once and its rest dropped. For a one-walk table, IPv6 answers go to `held` and
/// are decoded at NLMSG_DONE.
pub(crate) fn process_datagram(
    data: &[u8],
    seq: u32,
    table: Table,
    query: &Query,
    out: &mut Vec<Socket>,
    skipped: &mut usize,
    held: &mut Held,
) -> Progress {
    let compat = table.is_compat();
    for next in Messages::new(data) {
        let (header, payload) = match next {
            Next::Msg(h, p) => (h, p),
            Next::Broken => {
                *skipped += 1;
                break;
            }
        };
        if header.seq != seq {
            continue;
        }
        match header.kind {
            kind if kind == SOCK_DIAG_BY_FAMILY || (compat && kind == TCPDIAG_GETSOCK) => {
                held.messages += 1;
                if compat && payload.first() == Some(&AF_INET6) {
                    held.hold(payload);
                    continue;
                }
                let decoded = match table {
                    Table::Inet { netid, .. } => {
                        if inet::decode_into(payload, netid, query, out) == inet::Outcome::Bad {
                            *skipped += 1;
                        }
                        continue;
                    }
                    Table::Unix => unix::decode(payload, query),
                    Table::Packet => packet::decode(payload, query),
                    Table::Netlink => nlsock::decode(payload, query),
                    Table::Vsock => vsock::decode(payload, query),
                    Table::Xdp => xdp::decode(payload, query),
                    Table::Tipc => tipc::decode(payload, query),
                };
                match decoded {
                    Decoded::Keep(s) => out.push(s),
                    Decoded::Filtered => {}
                    Decoded::Bad => *skipped += 1,
                }
            }
            NLMSG_DONE => {
                return match wire::error_code(payload) {
                    0 => {
                        if let Table::Inet { netid, .. } = table {
                            held.release(netid, query, out, skipped);
                        }
                        Progress::Done
                    }
                    e => Progress::Failed(e),
                };
            }
            NLMSG_ERROR => match wire::error_code(payload) {
                // An acknowledgement, not an error.
                0 => {}
                e => return Progress::Failed(e),
            },
            NLMSG_NOOP | NLMSG_OVERRUN => {}
            _ => *skipped += 1,
        }
    }
    Progress::More
}
