//! The fake host's kernel: answers sock_diag requests from recorded datagrams (the fixture
//! format of [`super::fixture`]), and fails a chosen recv with a chosen errno, so that whole
//! collections (and failures mid-dump) run in tests without a kernel.

use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Transport;
use super::fixture;
use super::table::Table;
use super::wire::{
    AF_INET, AF_INET6, AF_UNIX, IPPROTO_TCP, IPPROTO_UDP, NLMSG_DONE, NLMSG_HDRLEN,
    TCPDIAG_GETSOCK, align4,
};

/// Recorded answers per table, and the failures still to inject.
#[derive(Debug, Default)]
pub struct FakeNetlink {
    /// Table name ("tcp/ipv4", ..., "unix") -> the datagrams of its recorded dump.
    answers: Vec<(&'static str, Vec<Vec<u8>>)>,
    /// (recv number, errno): that recv fails. Recvs are counted over the fake's life, from 1.
    failures: Mutex<Vec<(usize, i32)>>,
    recvs: AtomicUsize,
}

/// Per-table tables a fake can hold (the one-walk request is answered from two of them).
const TABLES: [Table; 5] = [
    Table::TCP4,
    Table::TCP6,
    Table::UDP4,
    Table::UDP6,
    Table::Unix,
];

impl FakeNetlink {
    /// A kernel with empty tables.
    pub fn new() -> FakeNetlink {
        FakeNetlink::default()
    }

    /// Answer dumps of `table` (a name as [`Table::name`]: "tcp/ipv4", "unix", ...) with a
    /// recorded fixture file's datagrams. `None` when the name or the bytes are not valid.
    pub fn with_table(mut self, table: &str, recorded: &[u8]) -> Option<FakeNetlink> {
        let t = TABLES.into_iter().find(|t| t.name() == table)?;
        let (_, datagrams) = fixture::decode(recorded)?;
        let datagrams = datagrams.into_iter().map(<[u8]>::to_vec).collect();
        self.answers.retain(|(n, _)| *n != t.name());
        self.answers.push((t.name(), datagrams));
        Some(self)
    }

    /// Every table recorded in `dir`, one file per table named like `tcp_ipv4.bin`
    /// (tests/fixtures/netlink/). A table without a file is empty.
    pub fn load_dir(dir: &Path) -> io::Result<FakeNetlink> {
        let mut fake = FakeNetlink::new();
        for t in TABLES {
            let path = dir.join(format!("{}.bin", t.name().replace('/', "_")));
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            fake = fake.with_table(t.name(), &bytes).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: not a recorded netlink answer", path.display()),
                )
            })?;
        }
        Ok(fake)
    }

    /// Make the `n`th recv from now (1 = the next) fail with `errno`.
    pub fn fail_recv(&self, n: usize, errno: i32) {
        let at = self.recvs.load(Ordering::Relaxed) + n;
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((at, errno));
    }

    /// Recvs answered (or failed) so far.
    pub fn recvs(&self) -> usize {
        self.recvs.load(Ordering::Relaxed)
    }

    fn answer(&self, table: &str) -> &[Vec<u8>] {
        self.answers
            .iter()
            .find(|(n, _)| *n == table)
            .map_or(&[][..], |(_, d)| d.as_slice())
    }
}

/// One fake socket: the answer to its last request, datagram by datagram.
#[derive(Debug)]
pub struct FakeLink {
    kernel: std::sync::Arc<FakeNetlink>,
    queue: VecDeque<Vec<u8>>,
}

impl FakeLink {
    pub(crate) fn new(kernel: std::sync::Arc<FakeNetlink>) -> FakeLink {
        FakeLink {
            kernel,
            queue: VecDeque::new(),
        }
    }
}

impl Transport for FakeLink {
    /// Queue the answer to `request`: the recorded datagrams of the tables it asks for, with
    /// the request's sequence number, and one NLMSG_DONE at the end (the one-walk TCP request
    /// gets both families' sockets in one answer, as the kernel does).
    fn send(&mut self, request: &[u8]) -> io::Result<()> {
        let invalid = || io::Error::from_raw_os_error(libc::EINVAL);
        let kind = u16::from_ne_bytes(
            request
                .get(4..6)
                .ok_or_else(invalid)?
                .try_into()
                .map_err(|_| invalid())?,
        );
        let seq = u32::from_ne_bytes(
            request
                .get(8..12)
                .ok_or_else(invalid)?
                .try_into()
                .map_err(|_| invalid())?,
        );
        let family = request.get(16).copied();
        // A protocol above 255 (MPTCP) comes as INET_DIAG_REQ_PROTOCOL after the 56-byte
        // request: no fixture records it, so it reads as none.
        let wide = request
            .get(16 + 56..)
            .is_some_and(|attrs| super::wire::Attrs::new(attrs).any(|(k, _)| k == 3));
        let protocol = if wide { None } else { request.get(17).copied() };
        let tables: &[&str] = if kind == TCPDIAG_GETSOCK {
            &["tcp/ipv4", "tcp/ipv6"]
        } else {
            match (family, protocol) {
                (Some(AF_UNIX), _) => &["unix"],
                (Some(AF_INET), Some(IPPROTO_TCP)) => &["tcp/ipv4"],
                (Some(AF_INET6), Some(IPPROTO_TCP)) => &["tcp/ipv6"],
                (Some(AF_INET), Some(IPPROTO_UDP)) => &["udp/ipv4"],
                (Some(AF_INET6), Some(IPPROTO_UDP)) => &["udp/ipv6"],
                // Tables fixtures do not record (raw, MPTCP, packet, netlink): empty.
                (Some(_), _) => &[],
                (None, _) => return Err(invalid()),
            }
        };
        self.queue.clear();
        for table in tables {
            for d in self.kernel.answer(table) {
                let d = rewrite(d, seq);
                if !d.is_empty() {
                    self.queue.push_back(d);
                }
            }
        }
        self.queue.push_back(done(seq));
        Ok(())
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let n = self.kernel.recvs.fetch_add(1, Ordering::Relaxed) + 1;
        let failure = {
            let mut f = self
                .kernel
                .failures
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            f.iter().position(|&(at, _)| at == n).map(|i| f.remove(i).1)
        };
        if let Some(errno) = failure {
            return Err(io::Error::from_raw_os_error(errno));
        }
        // An answer never sent is what a blocked recv would time out on.
        let d = self
            .queue
            .pop_front()
            .ok_or_else(|| io::Error::from(io::ErrorKind::WouldBlock))?;
        buf.extend_from_slice(&d);
        Ok(d.len())
    }
}

/// A datagram's messages with sequence number `seq`, without its NLMSG_DONE (the fake adds
/// one at the end of the whole answer). A broken tail is dropped.
fn rewrite(datagram: &[u8], seq: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(datagram.len());
    let mut off = 0;
    while let Some(header) = datagram.get(off..off + NLMSG_HDRLEN) {
        let len = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = u16::from_ne_bytes([header[4], header[5]]);
        let Some(msg) = datagram.get(off..off + len).filter(|_| len >= NLMSG_HDRLEN) else {
            break;
        };
        if kind != NLMSG_DONE {
            let start = out.len();
            out.extend_from_slice(msg);
            out[start + 8..start + 12].copy_from_slice(&seq.to_ne_bytes());
            out.resize(start + align4(len), 0);
        }
        off += align4(len);
    }
    out
}

fn done(seq: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(20);
    v.extend_from_slice(&20u32.to_ne_bytes());
    v.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    v.extend_from_slice(&2u16.to_ne_bytes()); // NLM_F_MULTI
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(&0i32.to_ne_bytes());
    v
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::collect::netlink::{DumpState, NetlinkError, OVERRUN_RETRIES, dump_with};
    use crate::collect::{NetidSet, Query};
    use crate::model::{Netid, Socket};

    fn recorded() -> FakeNetlink {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/netlink");
        FakeNetlink::load_dir(&dir).unwrap()
    }

    struct Dumped {
        result: Result<(), NetlinkError>,
        sockets: Vec<Socket>,
        warnings: Vec<String>,
    }

    fn dump(kernel: &Arc<FakeNetlink>, q: &Query) -> Dumped {
        let mut link = FakeLink::new(Arc::clone(kernel));
        let mut st = DumpState::new();
        let (mut sockets, mut warnings, mut skipped) = (Vec::new(), Vec::new(), 0);
        let result = dump_with(
            &mut link,
            &mut st,
            q,
            &mut sockets,
            &mut warnings,
            &mut skipped,
        );
        assert_eq!(skipped, 0);
        Dumped {
            result,
            sockets,
            warnings,
        }
    }

    fn key(s: &Socket) -> (Netid, u64, Option<u16>, Option<u16>) {
        (s.netid, s.inode, s.local_port(), s.peer_port())
    }

    #[test]
    fn recorded_tables_answer_one_walk_and_per_family() {
        let kernel = Arc::new(recorded());
        let d = dump(&kernel, &Query::default());
        d.result.unwrap();
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        for netid in [Netid::Tcp, Netid::Udp, Netid::UnixStream] {
            assert!(d.sockets.iter().any(|s| s.netid == netid), "{netid:?}");
        }
        // One walk for TCP: IPv4 first, then IPv6, as per family.
        let tcp: Vec<bool> = d
            .sockets
            .iter()
            .filter(|s| s.netid == Netid::Tcp)
            .map(|s| matches!(s.local, crate::model::Endpoint::Inet { addr, .. } if addr.is_ipv6()))
            .collect();
        assert!(tcp.windows(2).all(|w| w[0] <= w[1]), "{tcp:?}");
        assert!(tcp.contains(&true) && tcp.contains(&false));
    }

    #[test]
    fn enobufs_mid_dump_asks_again_and_gets_the_same_sockets() {
        let kernel = Arc::new(recorded());
        let clean = dump(&kernel, &Query::default());
        let restarts = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&restarts);
        let q = Query {
            on_restart: Some(Arc::new(move || {
                seen.fetch_add(1, Ordering::Relaxed);
            })),
            ..Query::default()
        };
        // The third recv of the dump: after the first tables answered.
        kernel.fail_recv(3, libc::ENOBUFS);
        let d = dump(&kernel, &q);
        d.result.unwrap();
        assert_eq!(restarts.load(Ordering::Relaxed), 1);
        let keys = |v: &[Socket]| v.iter().map(key).collect::<Vec<_>>();
        assert_eq!(keys(&d.sockets), keys(&clean.sockets));
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert!(d.warnings[0].contains("ENOBUFS"), "{:?}", d.warnings);
    }

    #[test]
    fn enobufs_every_time_gives_up_without_falling_back() {
        let kernel = Arc::new(recorded());
        for n in 1..=OVERRUN_RETRIES + 1 {
            kernel.fail_recv(n, libc::ENOBUFS);
        }
        let q = Query {
            netids: NetidSet::of(&[Netid::Udp]),
            ..Query::default()
        };
        let d = dump(&kernel, &q);
        let e = d.result.unwrap_err();
        assert!(
            matches!(e, NetlinkError::Overrun { attempts, .. } if attempts == OVERRUN_RETRIES + 1),
            "{e}"
        );
        assert!(!e.is_unavailable());
        assert!(d.sockets.is_empty());
        // Then the kernel answers again.
        dump(&kernel, &q).result.unwrap();
    }

    #[test]
    fn eperm_or_eacces_mid_dump_is_a_refusal() {
        for errno in [libc::EPERM, libc::EACCES] {
            for table in [Netid::Tcp, Netid::UnixStream] {
                let kernel = Arc::new(recorded());
                kernel.fail_recv(2, errno);
                let q = Query {
                    netids: NetidSet::of(&[table]),
                    ..Query::default()
                };
                let e = dump(&kernel, &q).result.unwrap_err();
                assert!(matches!(e, NetlinkError::Refused { .. }), "{e}");
                assert!(e.is_unavailable(), "{e}");
            }
        }
    }

    #[test]
    fn other_recv_errors_stay_io_errors() {
        let kernel = Arc::new(recorded());
        kernel.fail_recv(1, libc::EIO);
        let e = dump(&kernel, &Query::default()).result.unwrap_err();
        assert!(
            matches!(e, NetlinkError::Io(_)) && !e.is_unavailable(),
            "{e}"
        );
    }
}
