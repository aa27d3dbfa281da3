//! netlink sock_diag source: one dump per table (inet family × protocol, and one unix dump),
//! decoded straight from a reused receive buffer into [`Socket`]s.
//!
//! TCP over both families is asked with one legacy TCPDIAG_GETSOCK request: the kernel then
//! walks its TCP hash tables once for both families, where a request per family walks them
//! twice (the family is checked per socket, inside the walk). The answer interleaves the
//! families; IPv4 sockets are decoded as they come and IPv6 ones are held back until the end,
//! so the order is that of two per-family dumps (ss's). A kernel that refuses the request is
//! asked per family from then on.
//!
//! The dump loop checks sequence numbers, reads NLMSG_DONE's error code, treats NLMSG_ERROR as
//! a failed table (never the whole dump), and skips undecodable messages by their header
//! length, counting them. A recv that fails with ENOBUFS (answers dropped under pressure)
//! asks the dump again; one that fails with EPERM/EACCES (a sandbox) is a refusal, as a
//! refused socket() is.
//!
//! Files: `table` (what is asked), `dump` (the request/answer loop), `datagram` (one answer
//! datagram into sockets), `inet`/`unix` (one message), `wire` (the bytes), `fixture`
//! (recorded answers), `fake` (the fake host's kernel).

mod datagram;
pub mod destroy;
pub mod diagfile;
mod dump;
pub mod events;
pub mod fake;
pub mod fixture;
mod inet;
mod mptcp;
mod nlsock;
mod packet;
pub mod probe;
mod sctp;
mod table;
mod tipc;
mod ulp;
mod unix;
mod vsock;
mod wire;
mod xdp;

#[cfg(test)]
mod tests;

use std::io;
use std::os::fd::AsRawFd;

use netlink_sys::Socket as NlSocket;
use netlink_sys::protocols::NETLINK_SOCK_DIAG;

use crate::collect::Query;
use crate::model::Socket;
#[cfg(test)]
pub(crate) use datagram::{Held, Progress, process_datagram};
pub use dump::OVERRUN_RETRIES;
pub(crate) use dump::{DumpState, Transport, dump_with};
pub use table::{Table, describe_requests};
pub use unix::shown_name as unix_shown_name;

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("cannot open a netlink sock_diag socket: {0}")]
    Open(std::io::Error),
    #[error("the kernel refused the {table} dump: {source}")]
    Refused {
        table: &'static str,
        source: std::io::Error,
    },
    /// The kernel dropped answers (ENOBUFS) on every attempt.
    #[error(
        "the {table} dump was overrun by the kernel (ENOBUFS: answers dropped) {attempts} times"
    )]
    Overrun {
        table: &'static str,
        attempts: usize,
    },
    #[error("netlink I/O error: {0}")]
    Io(std::io::Error),
}

impl NetlinkError {
    /// Errors that mean "netlink is not available here" (auto mode falls back to /proc).
    pub fn is_unavailable(&self) -> bool {
        match self {
            NetlinkError::Open(_) => true,
            NetlinkError::Refused { source, .. } => matches!(
                source.raw_os_error(),
                Some(libc::EPERM | libc::EACCES | libc::EPROTONOSUPPORT | libc::ENOENT)
            ),
            NetlinkError::Overrun { .. } | NetlinkError::Io(_) => false,
        }
    }
}

/// How long one recv may block before the dump is declared broken (the kernel always
/// answers a dump; this only guards against a hang).
const RECV_TIMEOUT_SECS: libc::time_t = 5;

/// A recorded datagram (for fixtures): table name, request sequence number, raw bytes.
#[doc(hidden)]
pub type Recorded = (&'static str, u32, Vec<u8>);

/// The socket a source talks over: the kernel's, or the fake host's. One match per send or
/// recv (a datagram holds many sockets), none per socket.
enum Link {
    Kernel(NlSocket),
    Fake(fake::FakeLink),
}

impl Transport for Link {
    fn send(&mut self, request: &[u8]) -> io::Result<()> {
        match self {
            Link::Kernel(s) => s.send(request, 0).map(|_| ()),
            Link::Fake(f) => f.send(request),
        }
    }
    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        match self {
            Link::Kernel(s) => s.recv(buf, libc::MSG_TRUNC),
            Link::Fake(f) => f.recv(buf),
        }
    }
}

pub struct NetlinkSource {
    link: Link,
    state: DumpState,
}

impl NetlinkSource {
    /// A sock_diag socket in the calling thread's network namespace (a socket stays tied to
    /// the namespace it was opened in, whichever thread uses it later).
    pub fn open() -> Result<NetlinkSource, NetlinkError> {
        // Not connected: an unconnected netlink socket sends to the kernel anyway, and so
        // it lists in `-f netlink` as ss's own (unconnected) one does.
        let sock = NlSocket::new(NETLINK_SOCK_DIAG).map_err(NetlinkError::Open)?;
        let tv = libc::timeval {
            tv_sec: RECV_TIMEOUT_SECS,
            tv_usec: 0,
        };
        // SAFETY: a valid fd we own, and a pointer/length pair describing `tv`.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(NetlinkError::Open(io::Error::last_os_error()));
        }
        Ok(NetlinkSource {
            link: Link::Kernel(sock),
            state: DumpState::new(),
        })
    }

    /// A source answered by a fake kernel (the fake host).
    pub(crate) fn fake(link: fake::FakeLink) -> NetlinkSource {
        NetlinkSource {
            link: Link::Fake(link),
            state: DumpState::new(),
        }
    }

    /// Start (or stop) keeping a copy of every datagram received, for fixtures. Fixtures hold
    /// one table each, so while recording TCP is dumped per family.
    #[doc(hidden)]
    pub fn set_recording(&mut self, on: bool) {
        self.state.recording = on.then(Vec::new);
    }

    /// Ask TCP over both families in one walk (the default) or once per family. The source
    /// turns it off by itself when the kernel refuses the one-walk request; tests compare
    /// both ways.
    #[doc(hidden)]
    pub fn set_one_walk(&mut self, on: bool) {
        self.state.one_walk = on;
    }

    /// Whether TCP over both families is still asked in one walk.
    #[doc(hidden)]
    pub fn one_walk(&self) -> bool {
        self.state.one_walk
    }

    /// The tables of the last dump that the kernel has no diag module for and that are read
    /// from /proc/net instead (raw sockets here): (kind, IPv6).
    pub fn take_proc_tables(&mut self) -> Vec<(crate::model::Netid, bool)> {
        std::mem::take(&mut self.state.proc_tables)
    }

    /// The datagrams recorded since recording started.
    #[doc(hidden)]
    pub fn take_recording(&mut self) -> Vec<Recorded> {
        self.state
            .recording
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Append every socket of the tables in `query` to `out`.
    ///
    /// A table the kernel lacks (ENOENT, EINVAL) is skipped with a warning. The dump is
    /// refused (so auto mode falls back to /proc) when an inet table answers EPERM, EACCES
    /// or EPROTONOSUPPORT, when every inet table answers ENOENT, or when a recv fails with
    /// EPERM or EACCES. A refused one-walk TCP request is not an error: TCP is asked per
    /// family instead, now and from then on. A dump overrun (ENOBUFS) is asked again, up to
    /// [`OVERRUN_RETRIES`] times.
    pub fn dump(
        &mut self,
        query: &Query,
        out: &mut Vec<Socket>,
        warnings: &mut Vec<String>,
        skipped: &mut usize,
    ) -> Result<(), NetlinkError> {
        dump_with(
            &mut self.link,
            &mut self.state,
            query,
            out,
            warnings,
            skipped,
        )
    }
}
