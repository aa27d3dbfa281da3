//! Reading /proc for process attribution: the pid list, fd links and /proc/PID/stat.

use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirEntryExt;
use std::path::Path;
use std::sync::Arc;

use super::IntSet;

/// Numeric entries of the proc root: (pid, inode of its directory).
pub(super) fn list_pids(proc_root: &Path) -> std::io::Result<Vec<(u32, u64)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(proc_root)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        if let Some(pid) = parse_pid(name.as_bytes()) {
            out.push((pid, entry.ino()));
        }
    }
    Ok(out)
}

pub(super) fn parse_pid(name: &[u8]) -> Option<u32> {
    if name.is_empty() || name.len() > 10 || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// A process's last fd list and the inodes of the current snapshot.
pub(super) type Previous<'a> = (&'a [(u32, u64)], Trust<'a>);

/// Which links a rescan of a known process may take from its last reading.
#[derive(Clone, Copy)]
pub(super) enum Read<'a> {
    /// None: read every link.
    All,
    /// Fds that held a socket still in the snapshot (these inodes).
    Present(&'a IntSet<u64>),
    /// Fds that held a socket: the check for closed fds, which needs only the numbers.
    Sockets,
}

/// [`Read`] without `All`.
#[derive(Clone, Copy)]
pub(super) enum Trust<'a> {
    Present(&'a IntSet<u64>),
    Sockets,
}

/// Every fd of a process as (fd, socket inode or 0), sorted by fd.
///
/// One `readlinkat` per fd relative to the open fd directory, into a stack buffer: no path
/// walk and no allocation per fd (std's `read_link` takes a full path and allocates).
/// With `previous` (the last result for this same process, and the inodes of the current
/// snapshot), an fd is taken from `previous` without reading its link when it held a socket
/// that is still in the snapshot: new fd numbers, fds whose socket is gone (a closed number
/// now reused) and fds that were no socket are read. The last matter: a number that held a
/// file or a directory a moment ago (the collector's own, when it watches itself) is often
/// the next socket accepted. A socket behind a number whose old socket lives on elsewhere is
/// missed here and found by a full read.
pub(super) fn scan_fds(
    fd_dir: &Path,
    previous: Option<Previous<'_>>,
    links_read: &mut usize,
) -> std::io::Result<Vec<(u32, u64)>> {
    let mut dir = FdDir::open(fd_dir)?;
    let mut out = Vec::with_capacity(previous.map_or(16, |(p, _)| p.len() + 16));
    let mut link = [0u8; 64];
    while let Some(fd) = dir.next_fd() {
        if let Some((prev, trust)) = previous
            && let Ok(i) = prev.binary_search_by_key(&fd, |&(fd, _)| fd)
            && prev[i].1 != 0
            && match trust {
                Trust::Present(present) => present.contains(&prev[i].1),
                Trust::Sockets => true,
            }
        {
            out.push(prev[i]);
            continue;
        }
        *links_read += 1;
        // The fd may close between listing and reading the link: then it is skipped.
        if let Some(target) = dir.read_link(fd, &mut link) {
            out.push((fd, socket_inode(target).unwrap_or(0)));
        }
    }
    out.sort_unstable_by_key(|&(fd, _)| fd);
    Ok(out)
}

/// An open directory stream (libc `DIR`), closed on drop.
struct FdDir(std::ptr::NonNull<libc::DIR>);

impl FdDir {
    fn open(path: &Path) -> std::io::Result<FdDir> {
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(ErrorKind::InvalidInput))?;
        // SAFETY: `c` is a valid NUL-terminated string; the result is checked.
        let dir = unsafe { libc::opendir(c.as_ptr()) };
        std::ptr::NonNull::new(dir)
            .map(FdDir)
            .ok_or_else(std::io::Error::last_os_error)
    }

    /// The next entry that names an fd; `None` at the end or on a read error (the process
    /// exited). The entry readdir returns is only valid until the next readdir on this
    /// stream, so it is parsed here and nothing borrowed from it leaves this call.
    fn next_fd(&mut self) -> Option<u32> {
        loop {
            // SAFETY: the stream is open (closed only on drop), and `&mut self` keeps any
            // other readdir on it from running while the entry is read.
            let fd = unsafe {
                let ent = libc::readdir(self.0.as_ptr());
                if ent.is_null() {
                    return None;
                }
                parse_pid(std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()).to_bytes())
            };
            if fd.is_some() {
                return fd;
            }
        }
    }

    /// The link target of entry `fd`, if it fits in `buf` (socket links always do).
    fn read_link<'b>(&self, fd: u32, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        // The entry's name, rebuilt from the number: decimal digits and a NUL.
        let mut name = [0u8; 12];
        let mut digits = [0u8; 10];
        let mut n = fd;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for (i, d) in digits[..len].iter().rev().enumerate() {
            name[i] = *d;
        }
        // SAFETY: the stream is open, `name` is NUL-terminated (at most 10 digits in 12
        // bytes) and `buf` is writable for its length; readlinkat writes at most that many
        // bytes and returns the count.
        let n = unsafe {
            libc::readlinkat(
                libc::dirfd(self.0.as_ptr()),
                name.as_ptr().cast(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        let n = usize::try_from(n).ok()?;
        (n < buf.len()).then(|| &buf[..n])
    }
}

impl Drop for FdDir {
    fn drop(&mut self) {
        // SAFETY: the stream was opened by opendir and is closed exactly once.
        unsafe {
            libc::closedir(self.0.as_ptr());
        }
    }
}

/// `socket:[12345]` -> 12345.
pub(super) fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Command name (comm, as ss shows it) and parent pid, from /proc/PID/stat.
/// The pid as its own (innermost) pid namespace sees it, when that differs from `pid`: the
/// last number of /proc/PID/status's `NSpid:` line.
pub(super) fn read_nspid(pid_dir: &Path, pid: u32) -> Option<u32> {
    parse_nspid(&std::fs::read(pid_dir.join("status")).ok()?, pid)
}

pub(super) fn parse_nspid(status: &[u8], pid: u32) -> Option<u32> {
    let text = std::str::from_utf8(status).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    let inner: u32 = line.split_ascii_whitespace().last()?.parse().ok()?;
    (inner != pid).then_some(inner)
}

pub(super) fn read_stat(pid_dir: &Path) -> Option<(Arc<str>, u32)> {
    parse_stat(&std::fs::read(pid_dir.join("stat")).ok()?)
}

/// [`read_stat`] on the bytes of a stat file: "PID (COMM) S PPID ...". Parsed by hand: the
/// procfs crate's parser panics on malformed input (found by fuzzing), and only two fields
/// are needed. COMM may hold spaces and parentheses, so it runs from the first '(' to the
/// last ')'.
pub(super) fn parse_stat(bytes: &[u8]) -> Option<(Arc<str>, u32)> {
    let open = bytes.iter().position(|&b| b == b'(')?;
    let close = bytes.iter().rposition(|&b| b == b')')?;
    if open == 0 || open >= close {
        return None;
    }
    let pid = std::str::from_utf8(&bytes[..open]).ok()?.trim();
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let comm = String::from_utf8_lossy(&bytes[open + 1..close]);
    let mut rest = std::str::from_utf8(&bytes[close + 1..])
        .ok()?
        .split_ascii_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse::<u32>().ok()?;
    Some((Arc::from(comm.as_ref()), ppid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nspid_is_the_innermost_pid_when_it_differs() {
        let status = b"Name:\tpython3\nPid:\t4242\nNSpid:\t4242\t17\t1\nNSpgid:\t4242\n";
        assert_eq!(parse_nspid(status, 4242), Some(1));
        assert_eq!(parse_nspid(b"NSpid:\t99\n", 99), None);
        assert_eq!(parse_nspid(b"Pid:\t99\n", 99), None);
        assert_eq!(parse_nspid(b"NSpid:\tx\n", 99), None);
        assert_eq!(parse_nspid(b"NSpid:\n", 99), None);
        assert_eq!(parse_nspid(&[0xff, 0xfe], 99), None);
    }

    #[test]
    fn a_stat_with_its_parentheses_out_of_order_is_refused_not_a_panic() {
        assert_eq!(parse_stat(b"))(\0\0\0"), None);
        assert_eq!(parse_stat(b")("), None);
        assert_eq!(parse_stat(b"(x) S 1"), None);
        assert_eq!(parse_stat(b"1 (x)"), None);
        assert_eq!(parse_stat(b"1 (x) S -1"), None);
        let (comm, ppid) = parse_stat(b"12 (a) (b)) S 7 12 12 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n").unwrap();
        assert_eq!((&*comm, ppid), ("a) (b)", 7));
    }

    #[test]
    fn link_and_name_parsing() {
        assert_eq!(socket_inode(b"socket:[123]"), Some(123));
        assert_eq!(socket_inode(b"socket:[]"), None);
        assert_eq!(socket_inode(b"pipe:[123]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
        assert_eq!(parse_pid(b"4000"), Some(4000));
        assert_eq!(parse_pid(b"self"), None);
        assert_eq!(parse_pid(b""), None);
    }

    /// Every fd of this process is listed and its link read by number.
    #[test]
    fn fd_dir_lists_and_reads_own_fds() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&l) as u32;
        let mut dir = FdDir::open(Path::new("/proc/self/fd")).unwrap();
        let mut fds = Vec::new();
        while let Some(n) = dir.next_fd() {
            fds.push(n);
        }
        assert!(fds.contains(&fd), "{fds:?}");
        let mut buf = [0u8; 64];
        let target = dir.read_link(fd, &mut buf).unwrap();
        assert!(socket_inode(target).is_some_and(|i| i > 0));
        assert!(dir.read_link(4_000_000_000, &mut buf).is_none());
    }
}
