//! The host handle: every read of the operating system the collector makes goes through
//! one [`Host`] — the netlink sock_diag socket, /proc/net/*, /proc/sys/net/*, the
//! /proc/PID/fd scan, interface names and /etc/services. Which machine (or namespace) is
//! read is decided once, by the constructor:
//!
//! - [`Host::current`]: this process's network namespace, as every command does today;
//! - [`Host::fake`]: a directory tree standing in for /proc (`net/`, `sys/net/`, `PID/fd/`,
//!   `PID/stat`, and `sys/class/net/NAME/ifindex` for interface names) plus, optionally, a
//!   [`FakeNetlink`] answering dumps from recorded datagrams (tests/fixtures/netlink/*.bin);
//!   without one, opening netlink is refused as a sandbox refuses it;
//! - [`Host::in_netns`]: another network namespace. A dedicated thread enters it (`setns`,
//!   never the main thread) and stays there: netlink sockets are opened on it (a socket
//!   stays tied to the namespace it was made in, whichever thread uses it later), sysctls
//!   and interface names are asked on it, and /proc/net is read as that thread's
//!   `/proc/PID/task/TID/net`. `proc` stays the machine's /proc: socket inodes are unique
//!   machine-wide, so one fd scan serves every namespace. (Without CAP_SYS_ADMIN, the next
//!   step is a host whose `net` is `/proc/PID/net` of a process inside.)
//!
//! Dispatch is per file read or per netlink datagram, never per socket.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::netlink::fake::{FakeLink, FakeNetlink};
use super::netlink::{NetlinkError, NetlinkSource};

/// Which machine (or namespace) the collector reads. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Host {
    /// The machine's /proc: per-process directories (the fd scan, /proc/PID/stat).
    proc: PathBuf,
    /// /proc/net as the namespace read sees it.
    net: PathBuf,
    /// /proc/sys/net as the namespace read sees it.
    sys_net: PathBuf,
    /// Where /etc/services is.
    services: PathBuf,
    /// Interface names from a `sys/class/net` tree (the fake host); `None`: ask the kernel.
    class_net: Option<PathBuf>,
    netlink: Netlink,
}

#[derive(Clone, Debug)]
enum Netlink {
    /// A sock_diag socket opened by the calling thread.
    Kernel,
    /// Answers recorded beforehand.
    Fake(Arc<FakeNetlink>),
    /// socket() fails with this errno (a fake host without netlink).
    Refused(i32),
    /// Opened on the thread that entered a namespace.
    Netns(Arc<netns::NsThread>),
}

impl Default for Host {
    fn default() -> Host {
        Host::current()
    }
}

impl Host {
    /// This process's own host and network namespace.
    pub fn current() -> Host {
        Host {
            proc: PathBuf::from("/proc"),
            net: PathBuf::from("/proc/net"),
            sys_net: PathBuf::from("/proc/sys/net"),
            services: PathBuf::from("/etc/services"),
            class_net: None,
            netlink: Netlink::Kernel,
        }
    }

    /// A host whose /proc is the directory `root` (tests, fixtures). Netlink is refused
    /// (EPERM, as under a sandbox) until [`Host::with_netlink`] gives it recorded answers;
    /// services are read from `root/etc/services` if present.
    pub fn fake(root: impl Into<PathBuf>) -> Host {
        let root = root.into();
        Host {
            net: root.join("net"),
            sys_net: root.join("sys/net"),
            services: root.join("etc/services"),
            class_net: Some(root.join("sys/class/net")),
            proc: root,
            netlink: Netlink::Refused(libc::EPERM),
        }
    }

    /// The network namespace of the namespace file `ns` (`/run/netns/NAME`,
    /// `/proc/PID/ns/net`). Needs CAP_SYS_ADMIN to enter it.
    pub fn in_netns(ns: &Path) -> io::Result<Host> {
        let thread = Arc::new(netns::NsThread::enter(ns)?);
        let net = PathBuf::from(format!(
            "/proc/{}/task/{}/net",
            std::process::id(),
            thread.tid()
        ));
        Ok(Host {
            net,
            netlink: Netlink::Netns(thread),
            ..Host::current()
        })
    }

    /// Another namespace read without entering it: `/proc/PID/net` of a process inside
    /// (`net`). Netlink is refused (its socket would be this process's namespace), so the
    /// collector reads /proc; sysctls stay this namespace's.
    pub fn through_proc_net(net: PathBuf) -> Host {
        Host {
            net,
            netlink: Netlink::Refused(libc::EPERM),
            ..Host::current()
        }
    }

    /// The same host with netlink answered by `kernel`.
    pub fn with_netlink(mut self, kernel: Arc<FakeNetlink>) -> Host {
        self.netlink = Netlink::Fake(kernel);
        self
    }

    /// The directory holding one directory per process (`/proc` on the real host).
    pub fn proc_root(&self) -> &Path {
        &self.proc
    }

    /// The path of a /proc/net file, for messages.
    pub fn net_path(&self, name: &str) -> PathBuf {
        self.net.join(name)
    }

    /// The /proc/net directory exists (a fake host pointed at a wrong tree does not).
    pub fn check_net(&self) -> io::Result<()> {
        std::fs::metadata(&self.net).map(|_| ())
    }

    /// Read /proc/net/`name` into `buf` (cleared first).
    pub fn read_net(&self, name: &str, buf: &mut Vec<u8>) -> io::Result<()> {
        read_into(&self.net.join(name), buf)
    }

    /// Read /proc/sys/net/`rel` (e.g. "core/somaxconn") into `buf` (cleared first).
    pub fn read_sysctl(&self, rel: &str, buf: &mut Vec<u8>) -> io::Result<()> {
        let path = self.sys_net.join(rel);
        match &self.netlink {
            // /proc/sys/net follows the reading thread's namespace, not a path.
            Netlink::Netns(t) => t
                .run(move || {
                    let mut b = Vec::new();
                    read_into(&path, &mut b).map(|()| b)
                })?
                .map(|b| *buf = b),
            _ => read_into(&path, buf),
        }
    }

    /// At most `max` bytes of /proc/`pid`/`name` (e.g. "cmdline") into `buf` (cleared
    /// first). A process may exit meanwhile: ENOENT and ESRCH are normal.
    pub fn read_pid_file(
        &self,
        pid: u32,
        name: &str,
        max: u64,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        buf.clear();
        let file = std::fs::File::open(self.proc.join(pid.to_string()).join(name))?;
        file.take(max).read_to_end(buf).map(|_| ())
    }

    /// The name of user `uid` in the system's user database (getpwuid_r, so NSS sources
    /// count, as for netstat); a fake host reads its `etc/passwd`. `None` when unknown.
    pub fn user_name(&self, uid: u32) -> Option<String> {
        if self.class_net.is_some() {
            let text = std::fs::read_to_string(self.proc.join("etc/passwd")).ok()?;
            return text.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
            });
        }
        passwd_name(uid)
    }

    /// The text of /etc/services, if readable.
    pub fn services_text(&self) -> Option<String> {
        std::fs::read_to_string(&self.services).ok()
    }

    /// The text of /etc/protocols (beside /etc/services), if readable: raw sockets' protocol
    /// names, as getprotobynumber gives them to ss.
    pub fn protocols_text(&self) -> Option<String> {
        std::fs::read_to_string(self.services.with_file_name("protocols")).ok()
    }

    /// The command name of process `pid` (the `comm` field of /proc/PID/stat), as ss names a
    /// netlink socket's port id; `None` when no such process is readable.
    pub fn process_comm(&self, pid: u32) -> Option<String> {
        let text = std::fs::read(self.proc_root().join(pid.to_string()).join("stat")).ok()?;
        // `PID (COMM) ...`: COMM may hold spaces and parentheses; ss's scanf stops at the
        // first ')' and so does this.
        let open = text.iter().position(|b| *b == b'(')?;
        let rest = &text[open + 1..];
        let close = rest.iter().position(|b| *b == b')')?;
        Some(String::from_utf8_lossy(&rest[..close]).into_owned())
    }

    /// A sock_diag source for this host's namespace.
    pub fn open_netlink(&self) -> Result<NetlinkSource, NetlinkError> {
        match &self.netlink {
            Netlink::Kernel => NetlinkSource::open(),
            Netlink::Fake(k) => Ok(NetlinkSource::fake(FakeLink::new(Arc::clone(k)))),
            Netlink::Refused(errno) => {
                Err(NetlinkError::Open(io::Error::from_raw_os_error(*errno)))
            }
            Netlink::Netns(t) => t.run(NetlinkSource::open).map_err(NetlinkError::Open)?,
        }
    }

    /// A bare NETLINK_SOCK_DIAG socket in this host's namespace, for destroy events and
    /// SOCK_DESTROY (not for dumps). The fake host has none.
    pub fn open_diag_socket(&self) -> io::Result<netlink_sys::Socket> {
        let open = || netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_SOCK_DIAG);
        match &self.netlink {
            Netlink::Kernel => open(),
            Netlink::Netns(t) => t.run(open)?,
            Netlink::Fake(_) => Err(io::Error::other(
                "a recorded host has no live sock_diag socket",
            )),
            Netlink::Refused(errno) => Err(io::Error::from_raw_os_error(*errno)),
        }
    }

    /// Every directory of the cgroup v2 hierarchy as (cgroup id, path from its root): the id
    /// the kernel reports (INET_DIAG_CGROUP_ID) is the directory's inode number on cgroup2.
    /// The fake host's hierarchy is `sys/fs/cgroup` under its root. Empty when there is no
    /// cgroup2 mount; unreadable directories are skipped (their sockets show as ss shows
    /// them, `unreachable:ID`).
    pub fn cgroup_dirs(&self) -> Vec<(u64, String)> {
        let root = if self.class_net.is_some() {
            Some(self.proc.join("sys/fs/cgroup"))
        } else {
            cgroup2_mount(&self.proc)
        };
        let mut out = Vec::new();
        if let Some(root) = root {
            walk_cgroups(&root, "", &mut out);
        }
        out
    }

    /// SELinux is enabled, as libselinux's is_selinux_enabled() decides for ss: selinuxfs
    /// is mounted (at /sys/fs/selinux, or wherever /proc/self/mounts says) with a readable
    /// `enforce`. The fake host's selinuxfs is `sys/fs/selinux` under its root.
    pub fn selinux_enabled(&self) -> bool {
        let readable = |dir: &Path| std::fs::File::open(dir.join("enforce")).is_ok();
        if self.class_net.is_some() {
            return readable(&self.proc.join("sys/fs/selinux"));
        }
        readable(Path::new("/sys/fs/selinux"))
            || selinuxfs_mount(&self.proc).is_some_and(|at| readable(&at))
    }

    /// The kernel's initial SELinux context (libselinux's
    /// `security_get_initial_context("kernel")`: selinuxfs's `initial_contexts/kernel`),
    /// which ss prints for a netlink socket of port id 0. `None` when unreadable.
    pub fn kernel_context(&self) -> Option<String> {
        let read = |dir: &Path| {
            let f = std::fs::File::open(dir.join("initial_contexts/kernel")).ok()?;
            let mut buf = Vec::new();
            f.take(4096).read_to_end(&mut buf).ok()?;
            context_text(&buf)
        };
        if self.class_net.is_some() {
            return read(&self.proc.join("sys/fs/selinux"));
        }
        read(Path::new("/sys/fs/selinux"))
            .or_else(|| selinuxfs_mount(&self.proc).and_then(|at| read(&at)))
    }

    /// Process `pid`'s SELinux context (getpidcon: /proc/PID/attr/current), without the
    /// trailing NUL or newline; `None` when unreadable (ss prints `unavailable`).
    pub fn pid_context(&self, pid: u32) -> Option<String> {
        let mut buf = Vec::new();
        self.read_pid_file(pid, "attr/current", 4096, &mut buf)
            .ok()?;
        context_text(&buf)
    }

    /// The SELinux context of what fd `fd` of process `pid` is (getfilecon of /proc/PID/fd/N:
    /// the `security.selinux` attribute of the link's target, for a socket the socket's).
    /// The fake host reads `PID/fd_ctx/N` (its fd links lead nowhere). `None` when
    /// unreadable.
    pub fn fd_context(&self, pid: u32, fd: u32) -> Option<String> {
        if self.class_net.is_some() {
            let mut buf = Vec::new();
            self.read_pid_file(pid, &format!("fd_ctx/{fd}"), 4096, &mut buf)
                .ok()?;
            return context_text(&buf);
        }
        let path = self.proc.join(format!("{pid}/fd/{fd}"));
        let c = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()))
            .ok()?;
        let mut buf = vec![0u8; 256];
        loop {
            // SAFETY: `c` and the attribute name are NUL-terminated; `buf` is writable for
            // its length and getxattr writes at most that many bytes, returning the count.
            let n = unsafe {
                libc::getxattr(
                    c.as_ptr(),
                    c"security.selinux".as_ptr(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::ERANGE) && buf.len() < 1 << 16 {
                    let len = buf.len() * 4;
                    buf.resize(len, 0);
                    continue;
                }
                return None;
            }
            buf.truncate(usize::try_from(n).ok()?);
            return context_text(&buf);
        }
    }

    /// The name of interface `index` in this host's namespace.
    pub fn interface_name(&self, index: u32) -> Option<String> {
        if let Netlink::Netns(t) = &self.netlink {
            return t.run(move || kernel_interface_name(index)).ok()?;
        }
        match &self.class_net {
            None => kernel_interface_name(index),
            Some(dir) => std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
                let text = std::fs::read_to_string(e.path().join("ifindex")).ok()?;
                (text.trim().parse::<u32>().ok()? == index)
                    .then(|| e.file_name().to_string_lossy().into_owned())
            }),
        }
    }
}

/// getpwuid_r's user name for `uid`.
fn passwd_name(uid: u32) -> Option<String> {
    // SAFETY: passwd is plain data; getpwuid_r fills it with pointers into `buf`, which
    // outlives every read of them below.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let mut buf = vec![0 as libc::c_char; 4096];
    loop {
        // SAFETY: every pointer is valid for the lengths given.
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut result) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || result.is_null() || pw.pw_name.is_null() {
            return None;
        }
        // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(pw.pw_name) };
        return Some(name.to_string_lossy().into_owned());
    }
}

/// Where cgroup2 is mounted, from `/proc/self/mounts`.
fn cgroup2_mount(proc: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(proc.join("self/mounts")).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(' ');
        let (_, at, fstype) = (f.next()?, f.next()?, f.next()?);
        (fstype == "cgroup2").then(|| PathBuf::from(unescape_mount(at)))
    })
}

/// Where selinuxfs is mounted, from `/proc/self/mounts`.
fn selinuxfs_mount(proc: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(proc.join("self/mounts")).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(' ');
        let (_, at, fstype) = (f.next()?, f.next()?, f.next()?);
        (fstype == "selinuxfs").then(|| PathBuf::from(unescape_mount(at)))
    })
}

/// A context as the kernel gives it: text, maybe NUL- or newline-terminated. Empty: none.
fn context_text(raw: &[u8]) -> Option<String> {
    let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
    let text = String::from_utf8_lossy(&raw[..end]);
    let text = text.trim_end_matches('\n');
    (!text.is_empty()).then(|| text.to_string())
}

/// /proc/self/mounts writes space, tab, newline and backslash as octal escapes.
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && let Some(oct) = b.get(i + 1..i + 4)
            && let Ok(v) = u8::from_str_radix(&String::from_utf8_lossy(oct), 8)
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Depth-first over one file system (no symlinks, no other mounts), recording inode numbers.
fn walk_cgroups(dir: &Path, rel: &str, out: &mut Vec<(u64, String)>) {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    out.push((
        meta.ino(),
        if rel.is_empty() {
            "/".into()
        } else {
            rel.into()
        },
    ));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if !ft.is_dir() {
            continue;
        }
        let path = e.path();
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.dev() != meta.dev()) {
            continue;
        }
        let child = format!("{rel}/{}", e.file_name().to_string_lossy());
        walk_cgroups(&path, &child, out);
    }
}

mod netns {
    //! The thread that lives in another network namespace and runs what must run there.

    use std::io;
    use std::os::fd::AsRawFd;
    use std::path::Path;
    use std::sync::Mutex;
    use std::sync::mpsc::{Sender, channel};

    type Job = Box<dyn FnOnce() + Send>;

    #[derive(Debug)]
    pub(super) struct NsThread {
        jobs: Mutex<Sender<Job>>,
        tid: i32,
    }

    impl NsThread {
        /// Start a thread, enter the namespace of file `ns` on it, and keep it there until
        /// the last handle is dropped.
        pub(super) fn enter(ns: &Path) -> io::Result<NsThread> {
            let file = std::fs::File::open(ns)?;
            let (jobs, inbox) = channel::<Job>();
            let (ready, entered) = channel::<io::Result<i32>>();
            std::thread::Builder::new()
                .name("sockeye-netns".into())
                .spawn(move || {
                    // SAFETY: setns on a valid namespace fd we own; it changes only this
                    // thread's network namespace. gettid has no preconditions.
                    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                    let entered = if rc == 0 {
                        // SAFETY: gettid has no preconditions and cannot fail.
                        Ok(unsafe { libc::gettid() })
                    } else {
                        Err(io::Error::last_os_error())
                    };
                    let ok = entered.is_ok();
                    drop(file);
                    if ready.send(entered).is_err() || !ok {
                        return;
                    }
                    for job in inbox {
                        job();
                    }
                })?;
            let tid = entered
                .recv()
                .map_err(|_| io::Error::other("the namespace thread ended early"))??;
            Ok(NsThread {
                jobs: Mutex::new(jobs),
                tid,
            })
        }

        pub(super) fn tid(&self) -> i32 {
            self.tid
        }

        /// Run `f` on the namespace's thread and return its result.
        pub(super) fn run<T: Send + 'static>(
            &self,
            f: impl FnOnce() -> T + Send + 'static,
        ) -> io::Result<T> {
            let (tx, rx) = channel();
            let job: Job = Box::new(move || {
                let _ = tx.send(f());
            });
            self.jobs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .send(job)
                .map_err(|_| io::Error::other("the namespace thread is gone"))?;
            rx.recv()
                .map_err(|_| io::Error::other("the namespace thread is gone"))
        }
    }
}

fn read_into(path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    std::fs::File::open(path)?.read_to_end(buf)?;
    Ok(())
}

/// if_indextoname(3): asks the kernel through a socket, in the caller's namespace.
fn kernel_interface_name(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` holds IF_NAMESIZE bytes, as if_indextoname requires; the result is
    // checked for NULL before the buffer is read as a NUL-terminated string.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success if_indextoname wrote a NUL-terminated name into `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_host_reads_its_tree_and_refuses_netlink() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        std::fs::create_dir_all(dir.path().join("sys/net/core")).unwrap();
        std::fs::create_dir_all(dir.path().join("sys/class/net/eth7")).unwrap();
        std::fs::write(dir.path().join("net/unix"), "x").unwrap();
        std::fs::write(dir.path().join("sys/net/core/somaxconn"), "4096\n").unwrap();
        std::fs::write(dir.path().join("sys/class/net/eth7/ifindex"), "7\n").unwrap();
        let h = Host::fake(dir.path());
        let mut buf = Vec::new();
        h.read_net("unix", &mut buf).unwrap();
        assert_eq!(buf, b"x");
        h.read_sysctl("core/somaxconn", &mut buf).unwrap();
        assert_eq!(buf, b"4096\n");
        assert_eq!(h.interface_name(7).as_deref(), Some("eth7"));
        assert_eq!(h.interface_name(8), None);
        assert!(h.check_net().is_ok());
        let e = h.open_netlink().err().unwrap();
        assert!(e.is_unavailable());
        assert_eq!(h.proc_root(), dir.path());
    }

    #[test]
    fn fake_host_says_whether_selinux_is_enabled_and_reads_contexts() {
        let dir = tempfile::tempdir().unwrap();
        let h = Host::fake(dir.path());
        assert!(!h.selinux_enabled());
        std::fs::create_dir_all(dir.path().join("sys/fs/selinux")).unwrap();
        std::fs::write(dir.path().join("sys/fs/selinux/enforce"), "1").unwrap();
        assert!(h.selinux_enabled());
        std::fs::create_dir_all(dir.path().join("42/attr")).unwrap();
        std::fs::create_dir_all(dir.path().join("42/fd_ctx")).unwrap();
        std::fs::write(
            dir.path().join("42/attr/current"),
            "system_u:system_r:sshd_t:s0-s0:c0.c1023\0",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("42/fd_ctx/3"),
            "system_u:system_r:sshd_t:s0\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("42/fd_ctx/4"), "").unwrap();
        assert_eq!(
            h.pid_context(42).as_deref(),
            Some("system_u:system_r:sshd_t:s0-s0:c0.c1023")
        );
        assert_eq!(
            h.fd_context(42, 3).as_deref(),
            Some("system_u:system_r:sshd_t:s0")
        );
        assert_eq!(h.fd_context(42, 4), None);
        assert_eq!(h.fd_context(42, 5), None);
        assert_eq!(h.pid_context(43), None);
    }

    #[test]
    fn current_host_names_loopback() {
        assert_eq!(Host::current().interface_name(1).as_deref(), Some("lo"));
    }
}
