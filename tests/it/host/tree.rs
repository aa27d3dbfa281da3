//! Building fake hosts: a copy of a /proc fixture tree with fake processes, and the recorded
//! netlink answers of tests/fixtures/netlink.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sockeye::collect::Host;
use sockeye::collect::netlink::fake::FakeNetlink;

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A temporary copy of the /proc fixture tree `name` (tests/fixtures/proc/NAME).
pub fn proc_tree(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("proc").join(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A fake /proc/PID: `stat` naming `comm` and `ppid`, fds linking to sockets or files.
pub fn fake_process(root: &Path, pid: u32, comm: &str, ppid: u32, fds: &[(u32, &str)]) {
    let dir = root.join(pid.to_string());
    fs::create_dir_all(dir.join("fd")).unwrap();
    fs::write(
        dir.join("stat"),
        format!(
            "{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 84361 \
             3133440 383 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 1 1 1 1 1 1 1 0\n"
        ),
    )
    .unwrap();
    for (fd, target) in fds {
        symlink(target, dir.join(format!("fd/{fd}"))).unwrap();
    }
}

/// The kernel answers recorded under tests/fixtures/netlink.
pub fn recorded_netlink() -> Arc<FakeNetlink> {
    Arc::new(FakeNetlink::load_dir(&fixtures().join("netlink")).unwrap())
}

/// A fake host: /proc from `root`, netlink from the recorded answers.
pub fn host(root: &Path) -> Host {
    Host::fake(root).with_netlink(recorded_netlink())
}
