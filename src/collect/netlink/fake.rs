//! The fake host's kernel: answers sock_diag requests from recorded datagrams (the fixture
//! format of [`super::fixture`]), and fails a chosen recv with a chosen errno, so that whole
//! collections (and failures mid-dump) run in tests without a kernel.

use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

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

    /// Queue the answer to `request`: the recorded datagrams of the tables it asks for, with
    /// the request's sequence number, and one NLMSG_DONE at the end (the one-walk TCP request
    /// gets both families' sockets in one answer, as the kernel does).
    pub(crate) fn send(&mut self, request: &[u8]) -> io::Result<()> {
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
        let protocol = request.get(17).copied();
        let tables: &[&str] = if kind == TCPDIAG_GETSOCK {
            &["tcp/ipv4", "tcp/ipv6"]
        } else {
            match (family, protocol) {
                (Some(AF_UNIX), _) => &["unix"],
                (Some(AF_INET), Some(IPPROTO_TCP)) => &["tcp/ipv4"],
                (Some(AF_INET6), Some(IPPROTO_TCP)) => &["tcp/ipv6"],
                (Some(AF_INET), Some(IPPROTO_UDP)) => &["udp/ipv4"],
                (Some(AF_INET6), Some(IPPROTO_UDP)) => &["udp/ipv6"],
                _ => return Err(invalid()),
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

    pub(crate) fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
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
