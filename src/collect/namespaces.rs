//! Which network namespaces to read: one named by `-N` (a name under /run/netns as ss takes
//! it, a path to a namespace file, or `pid:PID`), or every namespace on the machine
//! (`--all-netns`): /run/netns/*, /run/docker/netns/*, and those held by any process or
//! thread (/proc/*/ns/net, /proc/*/task/*/ns/net), deduplicated by the namespace's device
//! and inode. The host's own namespace is one of them.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::host::Host;

/// Where `ip netns` keeps its names.
pub const NETNS_RUN_DIR: &str = "/run/netns";
/// Where docker keeps its namespaces (not listed by `ip netns`).
pub const DOCKER_NETNS_DIR: &str = "/run/docker/netns";

/// One network namespace: a file that holds it, its identity, and what names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Netns {
    /// A file holding the namespace (`/run/netns/web`, `/proc/PID/ns/net`).
    pub path: PathBuf,
    /// The nsfs device and inode: the namespace's identity (`net:[INODE]`).
    pub dev: u64,
    pub inode: u64,
    /// Its name under /run/netns, if it has one.
    pub name: Option<String>,
    /// Processes seen inside it (for container identity and the unprivileged /proc/PID/net
    /// route), in /proc order; a few are enough.
    pub pids: Vec<u32>,
    /// This process's own namespace.
    pub own: bool,
}

impl Netns {
    /// `web`, or `net:[4026532281]` for an unnamed namespace.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("net:[{}]", self.inode),
        }
    }

    /// A host reading this namespace: this process's own directly, another through a thread
    /// that entered it (CAP_SYS_ADMIN) or, when entering is refused, through /proc/PID/net
    /// of a process inside it (the /proc source; the user's own processes only).
    pub fn host(&self) -> io::Result<Host> {
        if self.own {
            return Ok(Host::current());
        }
        let mut refused = None;
        let mut last = None;
        for path in self.holders() {
            match Host::in_netns(&path) {
                Ok(h) => return Ok(h),
                Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                    refused = Some(e);
                    break;
                }
                // That holder went away (a thread or process that exited): try the next.
                Err(e) => last = Some(e),
            }
        }
        if let Some(e) = refused {
            for &pid in &self.pids {
                let net = PathBuf::from(format!("/proc/{pid}/net"));
                // /proc/PID/net of another user's process lists nothing useful.
                if std::fs::File::open(net.join("tcp")).is_ok() {
                    return Ok(Host::through_proc_net(net));
                }
            }
            return Err(e);
        }
        Err(last.unwrap_or_else(|| io::Error::from(io::ErrorKind::NotFound)))
    }

    /// The namespace still exists (a file that held it still holds the same namespace).
    pub fn still_there(&self) -> bool {
        self.holders().next().is_some()
    }

    /// The files that still hold this namespace: the one it was found by, then its
    /// processes'. The first may be a thread of a process that has since exited (another
    /// sockeye's reader sits in the namespaces it reads), while the namespace lives on.
    fn holders(&self) -> impl Iterator<Item = PathBuf> + '_ {
        std::iter::once(self.path.clone())
            .chain(
                self.pids
                    .iter()
                    .map(|p| PathBuf::from(format!("/proc/{p}/ns/net"))),
            )
            .filter(|p| {
                std::fs::metadata(p).is_ok_and(|m| m.dev() == self.dev && m.ino() == self.inode)
            })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("-N {arg}: not a pid (pid:PID)")]
    BadPid { arg: String },
    #[error("-N {arg}: cannot open {path}: {source}")]
    Open {
        arg: String,
        path: String,
        source: io::Error,
    },
    #[error("-N {arg}: {path} is not a network namespace ({why})")]
    NotNetns {
        arg: String,
        path: String,
        why: &'static str,
    },
}

impl NetnsError {
    /// What the user typed is wrong (exit 2), rather than a namespace that cannot be read.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            NetnsError::BadPid { .. } | NetnsError::NotNetns { .. }
        )
    }
}

/// `f_type` of the namespace filesystem (nsfs), which /proc/PID/ns/* and bind mounts of
/// them (/run/netns/NAME) are on.
const NSFS_MAGIC: i64 = 0x6e73_6673;
/// `ioctl(NS_GET_NSTYPE)`: the kind of namespace a nsfs file is (Linux 4.11).
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// Why `path` cannot be a network namespace, if it cannot: checked before entering it, so a
/// FIFO is not opened (that blocks until a writer comes) and an ordinary file is not called
/// a namespace the kernel refused.
fn not_a_netns(path: &Path, meta: &std::fs::Metadata) -> Option<&'static str> {
    if !meta.file_type().is_file() {
        return Some(if meta.is_dir() {
            "a directory"
        } else {
            "not a namespace file"
        });
    }
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: a NUL-terminated path and a statfs struct to fill.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c_path.as_ptr(), &mut fs) } == 0 && fs.f_type as i64 != NSFS_MAGIC {
        return Some("not a namespace file");
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .ok()?;
    // SAFETY: an open fd; NS_GET_NSTYPE takes no argument. Kernels without it say ENOTTY:
    // then nothing is known here and entering the namespace will tell.
    let kind = unsafe { libc::ioctl(file.as_raw_fd(), NS_GET_NSTYPE) };
    (kind >= 0 && kind != libc::CLONE_NEWNET).then_some("another kind of namespace")
}

/// Resolve a `-N`/`--net` argument: `pid:PID`, a path (anything with a `/`), or a name under
/// /run/netns.
pub fn resolve(arg: &str) -> Result<Netns, NetnsError> {
    let shown = crate::text::escape(arg).into_owned();
    let (path, name, pids) = if let Some(pid) = arg.strip_prefix("pid:") {
        let pid: u32 = pid
            .parse()
            .map_err(|_| NetnsError::BadPid { arg: shown.clone() })?;
        (
            PathBuf::from(format!("/proc/{pid}/ns/net")),
            None,
            vec![pid],
        )
    } else if arg.contains('/') {
        let pids = pid_of_proc_path(Path::new(arg)).into_iter().collect();
        (PathBuf::from(arg), None, pids)
    } else {
        (
            Path::new(NETNS_RUN_DIR).join(arg),
            Some(arg.to_string()),
            Vec::new(),
        )
    };
    let meta = std::fs::metadata(&path).map_err(|source| NetnsError::Open {
        arg: shown.clone(),
        path: crate::text::escape(&path.to_string_lossy()).into_owned(),
        source,
    })?;
    if let Some(why) = not_a_netns(&path, &meta) {
        return Err(NetnsError::NotNetns {
            arg: shown,
            path: crate::text::escape(&path.to_string_lossy()).into_owned(),
            why,
        });
    }
    let mut ns = Netns {
        dev: meta.dev(),
        inode: meta.ino(),
        name,
        pids,
        own: false,
        path,
    };
    ns.own = own_id() == Some((ns.dev, ns.inode));
    if ns.name.is_none() {
        ns.name = run_netns_names()
            .into_iter()
            .find_map(|(id, n)| (id == (ns.dev, ns.inode)).then_some(n));
    }
    if ns.pids.is_empty() {
        ns.pids = scan_processes()
            .into_iter()
            .filter(|(id, _, _)| *id == (ns.dev, ns.inode))
            .map(|(_, pid, _)| pid)
            .take(MAX_PIDS)
            .collect();
    }
    Ok(ns)
}

/// Pids kept per namespace: container identity needs one per container of a pod, the /proc
/// route one readable.
const MAX_PIDS: usize = 32;

/// Every network namespace on the machine, this process's own first, then in the order
/// /run/netns, /run/docker/netns, processes. Files that vanish while being looked at are
/// skipped.
pub fn enumerate() -> Vec<Netns> {
    let own = own_id();
    let mut found: Vec<Netns> = Vec::new();
    let mut add = |path: PathBuf, id: (u64, u64), name: Option<String>, pid: Option<u32>| {
        if let Some(ns) = found.iter_mut().find(|n| (n.dev, n.inode) == id) {
            if ns.name.is_none() {
                ns.name = name;
            }
            if let Some(p) = pid
                && ns.pids.len() < MAX_PIDS
                && !ns.pids.contains(&p)
            {
                ns.pids.push(p);
            }
            return;
        }
        found.push(Netns {
            path,
            dev: id.0,
            inode: id.1,
            name,
            pids: pid.into_iter().collect(),
            own: own == Some(id),
        });
    };
    if let Some(id) = own {
        add(PathBuf::from("/proc/self/ns/net"), id, None, None);
    }
    for (id, name) in run_netns_names() {
        add(Path::new(NETNS_RUN_DIR).join(&name), id, Some(name), None);
    }
    for (id, path) in dir_entries(Path::new(DOCKER_NETNS_DIR)) {
        add(path, id, None, None);
    }
    // This process's own threads are left out: they sit in the namespaces they read, and
    // would keep a deleted namespace listed (and alive) forever. Its own namespace is first.
    let me = std::process::id();
    for (id, pid, path) in scan_processes() {
        if pid != me {
            add(path, id, None, Some(pid));
        }
    }
    found
}

fn own_id() -> Option<(u64, u64)> {
    let m = std::fs::metadata("/proc/self/ns/net").ok()?;
    Some((m.dev(), m.ino()))
}

/// (identity, name) of every namespace under /run/netns.
fn run_netns_names() -> Vec<((u64, u64), String)> {
    dir_entries(Path::new(NETNS_RUN_DIR))
        .into_iter()
        .filter_map(|(id, p)| Some((id, p.file_name()?.to_str()?.to_string())))
        .collect()
}

/// (identity, path) of every namespace file in `dir`; a missing directory is empty.
fn dir_entries(dir: &Path) -> Vec<((u64, u64), PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let m = std::fs::metadata(&p).ok()?;
            // ip netns keeps empty mount points of deleted namespaces: those are regular
            // files on the run directory's own file system, not nsfs.
            (m.dev() != 0 && m.ino() != 0 && m.len() == 0 && is_nsfs(&p))
                .then_some(((m.dev(), m.ino()), p))
        })
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

/// The file is a namespace (nsfs), not a leftover mount point.
fn is_nsfs(p: &Path) -> bool {
    const NSFS_MAGIC: i64 = 0x6e73_6673;
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: statfs on a NUL-terminated path into a zeroed struct we own.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut st) };
    rc == 0 && st.f_type as i64 == NSFS_MAGIC
}

/// (identity, pid, path) for every process's and thread's network namespace that can be
/// looked at (another user's needs ptrace access: skipped).
fn scan_processes() -> Vec<((u64, u64), u32, PathBuf)> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut seen = rustc_hash::FxHashSet::default();
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let dir = e.path();
        let path = dir.join("ns/net");
        if let Ok(m) = std::fs::metadata(&path) {
            let id = (m.dev(), m.ino());
            seen.insert(id);
            out.push((id, pid, path));
        }
        // Threads may have entered other namespaces (as ours do).
        let Ok(tasks) = std::fs::read_dir(dir.join("task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let path = t.path().join("ns/net");
            if let Ok(m) = std::fs::metadata(&path) {
                let id = (m.dev(), m.ino());
                if seen.insert(id) {
                    out.push((id, pid, path));
                }
            }
        }
    }
    out
}

/// The pid of a `/proc/PID/...` path.
fn pid_of_proc_path(p: &Path) -> Option<u32> {
    let mut c = p.components().skip(1);
    (c.next()?.as_os_str() == "proc")
        .then(|| c.next()?.as_os_str().to_str()?.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_namespace_is_found_once_and_first() {
        let all = enumerate();
        assert!(all[0].own);
        assert_eq!(all.iter().filter(|n| n.own).count(), 1);
        let mut ids: Vec<_> = all.iter().map(|n| (n.dev, n.inode)).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "deduplicated by (dev, inode)");
    }

    #[test]
    fn pid_argument_names_that_process_namespace() {
        let me = std::process::id();
        let ns = resolve(&format!("pid:{me}")).unwrap();
        assert!(ns.own);
        assert_eq!(ns.pids, vec![me]);
        assert_eq!(ns.label(), format!("net:[{}]", ns.inode));
        let by_path = resolve("/proc/self/ns/net").unwrap();
        assert_eq!(by_path.inode, ns.inode);
    }

    #[test]
    fn a_namespace_whose_first_holder_exited_is_read_through_its_other_processes() {
        let me = std::process::id();
        let own = resolve(&format!("pid:{me}")).unwrap();
        // Found first through a thread that has exited since; this process still holds it.
        let ns = Netns {
            path: PathBuf::from("/proc/4294967295/task/4294967295/ns/net"),
            own: false,
            ..own
        };
        assert!(ns.still_there());
        // Entering needs CAP_SYS_ADMIN; without it, /proc/PID/net of our own process serves.
        assert!(ns.host().is_ok());
        let gone = Netns {
            pids: Vec::new(),
            ..ns
        };
        assert!(!gone.still_there());
        assert!(gone.host().is_err());
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let e = resolve("pid:x").unwrap_err().to_string();
        assert_eq!(e, "-N pid:x: not a pid (pid:PID)");
        let e = resolve("sockeye-no-such-ns-\x1b").unwrap_err().to_string();
        assert!(e.contains("/run/netns/sockeye-no-such-ns-\\x1b"), "{e}");
        assert!(!e.contains('\x1b'));
    }

    #[test]
    fn proc_paths_give_their_pid() {
        assert_eq!(pid_of_proc_path(Path::new("/proc/42/ns/net")), Some(42));
        assert_eq!(pid_of_proc_path(Path::new("/run/netns/x")), None);
        assert_eq!(pid_of_proc_path(Path::new("/proc/self/ns/net")), None);
    }
}
