//! Where the control socket lives and whether to trust it. The demo makes its directory
//! private (0700, its own); `attach` talks to a control socket only when the directory and the
//! socket are the user's own and the process listening on it runs as the same user, so
//! another user cannot pre-create the directory and impersonate a demo.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Why a control socket is not trusted.
#[derive(Debug, thiserror::Error)]
#[error("refusing to talk to the demo at {path}: {reason}")]
pub struct Untrusted {
    pub path: String,
    pub reason: String,
}

fn untrusted(path: &Path, reason: String) -> Untrusted {
    Untrusted {
        path: crate::text::escape(&path.display().to_string()).into_owned(),
        reason,
    }
}

pub fn own_uid() -> u32 {
    // SAFETY: getuid(2) cannot fail.
    unsafe { libc::getuid() }
}

/// `$XDG_RUNTIME_DIR/sockeye/demo.sock`, else `/tmp/sockeye-$UID/demo.sock`.
pub fn default_socket_path() -> PathBuf {
    socket_dir().join("demo.sock")
}

pub fn socket_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir.join("sockeye"),
        _ => PathBuf::from(format!("/tmp/sockeye-{}", own_uid())),
    }
}

/// Create the private directory (0700), refusing one that belongs to someone else.
pub fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
    }
    let meta =
        fs::symlink_metadata(dir).with_context(|| format!("cannot inspect {}", dir.display()))?;
    if !meta.is_dir() || meta.uid() != own_uid() {
        bail!(
            "{} is not a directory owned by you; remove it or use --socket",
            dir.display()
        );
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make {} private", dir.display()))?;
    }
    Ok(())
}

/// Check, before connecting, that `path` is a socket of ours in a directory nobody else can
/// change: not a symlink (lstat), owned by us; the directory not a symlink either, owned by
/// us (or root), and writable by nobody else — unless it is sticky like /tmp, where others
/// cannot remove or rename our socket. A missing socket is not an error here: the connect
/// says "no demo is running".
pub fn check_path(path: &Path) -> Result<(), Untrusted> {
    let uid = own_uid();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match fs::symlink_metadata(&dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(untrusted(
                path,
                format!("cannot inspect its directory: {e}"),
            ));
        }
        Ok(meta) => {
            let d = crate::text::escape(&dir.display().to_string()).into_owned();
            if meta.file_type().is_symlink() {
                return Err(untrusted(path, format!("{d} is a symbolic link")));
            }
            if !meta.is_dir() {
                return Err(untrusted(path, format!("{d} is not a directory")));
            }
            if meta.uid() != uid && meta.uid() != 0 {
                return Err(untrusted(
                    path,
                    format!("{d} belongs to uid {}, not to you (uid {uid})", meta.uid()),
                ));
            }
            let sticky = meta.mode() & 0o1000 != 0;
            if meta.mode() & 0o022 != 0 && !sticky {
                return Err(untrusted(
                    path,
                    format!(
                        "{d} is writable by other users (mode {:o})",
                        meta.mode() & 0o7777
                    ),
                ));
            }
        }
    }
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(untrusted(path, format!("cannot inspect it: {e}"))),
        Ok(meta) if meta.file_type().is_symlink() => {
            Err(untrusted(path, "it is a symbolic link".into()))
        }
        Ok(meta) if !meta.file_type().is_socket() => {
            Err(untrusted(path, "it is not a socket".into()))
        }
        Ok(meta) if meta.uid() != uid => Err(untrusted(
            path,
            format!(
                "the socket belongs to uid {}, not to you (uid {uid})",
                meta.uid()
            ),
        )),
        Ok(_) => Ok(()),
    }
}

/// The uid of the process on the other end of a connected unix socket (SO_PEERCRED).
pub fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt(2) on a valid fd, writing at most `len` bytes into `cred`, which
    // outlives the call; `len` is updated to what was written.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast::<libc::c_void>(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    if len as usize != std::mem::size_of::<libc::ucred>() {
        return Err(io::Error::other("short SO_PEERCRED answer"));
    }
    Ok(cred.uid)
}

/// After connecting: the listening process must run as us.
pub fn check_peer(path: &Path, stream: &UnixStream) -> Result<(), Untrusted> {
    let uid = own_uid();
    match peer_uid(stream) {
        Ok(peer) if peer == uid => Ok(()),
        Ok(peer) => Err(untrusted(
            path,
            format!("it is served by uid {peer}, not by you (uid {uid})"),
        )),
        Err(e) => Err(untrusted(path, format!("cannot read its credentials: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn own_socket_in_a_private_directory_is_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.sock");
        let _l = UnixListener::bind(&path).unwrap();
        check_path(&path).unwrap();
        let s = UnixStream::connect(&path).unwrap();
        assert_eq!(peer_uid(&s).unwrap(), own_uid());
        check_peer(&path, &s).unwrap();
        // Nothing there yet is left to the connect to report.
        check_path(&dir.path().join("none.sock")).unwrap();
    }

    #[test]
    fn loose_or_linked_places_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::create_dir(&real).unwrap();
        let path = real.join("demo.sock");
        let _l = UnixListener::bind(&path).unwrap();

        fs::set_permissions(&real, fs::Permissions::from_mode(0o770)).unwrap();
        let e = check_path(&path).unwrap_err().to_string();
        assert!(e.contains("writable by other users (mode 770)"), "{e}");
        // Sticky, like /tmp: others cannot replace our socket.
        fs::set_permissions(&real, fs::Permissions::from_mode(0o1777)).unwrap();
        check_path(&path).unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o700)).unwrap();

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = check_path(&link.join("demo.sock")).unwrap_err().to_string();
        assert!(e.contains("is a symbolic link"), "{e}");

        let sock_link = real.join("other.sock");
        std::os::unix::fs::symlink(&path, &sock_link).unwrap();
        let e = check_path(&sock_link).unwrap_err().to_string();
        assert!(e.contains("it is a symbolic link"), "{e}");

        let file = real.join("file.sock");
        fs::write(&file, b"").unwrap();
        assert!(
            check_path(&file)
                .unwrap_err()
                .to_string()
                .contains("not a socket")
        );
    }
}
