//! What the destroy-event followers share (`dump -E --all-netns` and the live view's Closed
//! view under `--all-netns`): the kernel delivers a namespace's destroy events only to
//! subscribers inside it, so each namespace gets its own subscription, opened by entering it,
//! waited on together with the others, and the set follows namespaces as they come and go.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::collect::host::Host;
use crate::collect::namespaces::{self, Netns};

/// How often a follower of every namespace looks for namespaces that appeared (and forgets
/// those gone).
pub const RESCAN_NAMESPACES: Duration = Duration::from_secs(5);

/// A host inside `ns` that can open netlink sockets there: events cannot be read through
/// /proc/PID/net, so entering the namespace (CAP_SYS_ADMIN) is required for any but our own.
pub fn entered(ns: &Netns) -> io::Result<Host> {
    if ns.own {
        Ok(Host::current())
    } else {
        Host::in_netns(&ns.path)
    }
}

/// The namespaces on the machine now that are not among `known` (nsfs device, inode).
pub fn unknown(known: &[(u64, u64)]) -> Vec<Netns> {
    namespaces::enumerate()
        .into_iter()
        .filter(|ns| !known.contains(&(ns.dev, ns.inode)))
        .collect()
}

/// Wait up to `timeout` for any of `fds` to have something queued; the indexes of those
/// that do go to `ready`. An interrupted wait returns with none ready.
pub fn wait_any(fds: &[RawFd], timeout: Duration, ready: &mut Vec<usize>) -> io::Result<()> {
    ready.clear();
    let mut polls: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: a valid array of pollfds and its length.
    let rc = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(())
        } else {
            Err(e)
        };
    }
    ready.extend(
        polls
            .iter()
            .enumerate()
            .filter(|(_, p)| p.revents != 0)
            .map(|(i, _)| i),
    );
    Ok(())
}
