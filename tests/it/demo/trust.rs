//! `sockeye attach` talks only to a control socket that is the user's own: directory and
//! socket owned by the user, nothing writable by others, no symlinks, and a listening process
//! running as the user. Otherwise it refuses with one line and exit 1, having sent nothing.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::demo::support::{BIN, eventually};

const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() == 0 }
}

fn attach(runtime_dir: &Path) -> Output {
    Command::new(BIN)
        .arg("attach")
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn attach_socket(socket: &Path) -> Output {
    Command::new(BIN)
        .args(["attach", "--socket"])
        .arg(socket)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Exit 1 with one line saying why, and nobody connected to the listener.
fn assert_refused(out: &Output, needle: &str, listener: Option<&UnixListener>) {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to talk to the demo at"), "{err}");
    assert!(err.contains(needle), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    if let Some(l) = listener {
        l.set_nonblocking(true).unwrap();
        assert!(
            l.accept().is_err(),
            "attach connected to an untrusted socket"
        );
    }
}

#[test]
fn a_directory_owned_by_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: needs root (to create a directory owned by another user)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sockdir = dir.path().join("sockeye");
    std::fs::create_dir(&sockdir).unwrap();
    std::fs::set_permissions(&sockdir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = sockdir.join("demo.sock");
    let listener = UnixListener::bind(&path).unwrap();
    std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
    std::os::unix::fs::chown(&sockdir, Some(NOBODY), Some(NOBODY)).unwrap();
    let out = attach(dir.path());
    assert_refused(&out, "belongs to uid 65534", Some(&listener));

    // The directory ours again, the socket still someone else's.
    std::os::unix::fs::chown(&sockdir, Some(0), Some(0)).unwrap();
    let out = attach(dir.path());
    assert_refused(
        &out,
        "the socket belongs to uid 65534, not to you",
        Some(&listener),
    );
}

#[test]
fn a_symlinked_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("elsewhere");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
    let listener = UnixListener::bind(real.join("demo.sock")).unwrap();
    std::os::unix::fs::symlink(&real, dir.path().join("sockeye")).unwrap();
    let out = attach(dir.path());
    assert_refused(&out, "is a symbolic link", Some(&listener));
}

#[test]
fn a_group_writable_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sockdir = dir.path().join("sockeye");
    std::fs::create_dir(&sockdir).unwrap();
    let listener = UnixListener::bind(sockdir.join("demo.sock")).unwrap();
    std::fs::set_permissions(&sockdir, std::fs::Permissions::from_mode(0o770)).unwrap();
    let out = attach(dir.path());
    assert_refused(&out, "writable by other users (mode 770)", Some(&listener));
}

#[test]
fn a_socket_served_by_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: needs root (to run a demo as another user)");
        return;
    }
    // A real demo running as nobody, whose directory and socket are then handed to us: only
    // the peer's credentials tell it apart.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sockdir = dir.path().join("theirs");
    std::fs::create_dir(&sockdir).unwrap();
    std::fs::set_permissions(&sockdir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&sockdir, Some(NOBODY), Some(NOBODY)).unwrap();
    let path = sockdir.join("demo.sock");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let spawned = Command::new(BIN)
        .args(["--no-config", "demo", "--headless", "echo", "--socket"])
        .arg(&path)
        .env_remove("XDG_RUNTIME_DIR")
        .env("HOME", "/")
        .uid(NOBODY)
        .gid(NOBODY)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let demo = match spawned {
        Ok(child) => std::sync::Mutex::new(Kill(child)),
        Err(e) => {
            eprintln!("skipped: cannot run sockeye as uid {NOBODY}: {e}");
            return;
        }
    };
    eventually(
        10,
        "the other user's demo to listen",
        || {
            let exited = demo.lock().unwrap().0.try_wait().unwrap();
            assert!(
                exited.is_none(),
                "the demo as uid {NOBODY} exited: {exited:?}"
            );
            // Bound and made 0600: from then on the demo leaves the file alone.
            let mode = std::fs::symlink_metadata(&path).ok()?.permissions().mode();
            (mode & 0o777 == 0o600).then_some(())
        },
        || format!("{} missing", path.display()),
    );
    std::os::unix::fs::chown(&sockdir, Some(0), Some(0)).unwrap();
    std::os::unix::fs::chown(&path, Some(0), Some(0)).unwrap();
    let out = attach_socket(&path);
    assert_refused(&out, "served by uid 65534, not by you (uid 0)", None);
}
