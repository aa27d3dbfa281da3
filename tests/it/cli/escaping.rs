//! Terminal injection: names other users choose (unix socket paths, process names) reach
//! `sockeye dump` tables escaped (no control byte, no forged row), and JSON exactly.

use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output};
use std::time::Duration;

use crate::common::*;
use serde_json::Value;

/// A unix socket name with a newline (would forge a row), an OSC title sequence and a
/// right-to-left override (would print the rest reversed).
const PATH_NAME: &str = "a\nb\x1b]0;x\x07\u{202e}.sock";
const PATH_ESCAPED: &str = "a\\nb\\x1b]0;x\\x07\\u{202e}.sock";
/// A process name (comm, at most 15 bytes) with a CSI clear-screen, a newline and a
/// zero-width space (would pass for another name).
const COMM: &str = "z\x1b[2J\nq\u{200b}";
const COMM_ESCAPED: &str = "z\\x1b[2J\\nq\\u{200b}";

fn sockeye(args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(args)
        .output()
        .expect("run sockeye");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Killed and reaped even when an assertion fails.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `sleep`, run through a symlink named [`COMM`] (the kernel takes comm from the name
/// executed), holding `fds` as 3, 4, ...: a process with a hostile name that owns sockets.
fn hostile_process(dir: &std::path::Path, fds: &[i32]) -> Reaped {
    let sleep = ["/bin/sleep", "/usr/bin/sleep"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("sleep(1)");
    let link = dir.join(COMM);
    std::os::unix::fs::symlink(sleep, &link).expect("symlink");
    let fds = fds.to_vec();
    let mut cmd = Command::new(&link);
    cmd.arg("60");
    // SAFETY: only dup2 (async-signal-safe) runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // First out of the way (a source fd may itself be 3 or 4 in a busy test binary),
            // then onto 3, 4, ...
            for (i, fd) in fds.iter().enumerate() {
                if libc::dup2(*fd, 200 + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for i in 0..fds.len() as i32 {
                if libc::dup2(200 + i, 3 + i) < 0 || libc::close(200 + i) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = Reaped(cmd.spawn().expect("spawn the hostile process"));
    let comm = format!("/proc/{}/comm", child.0.id());
    assert!(
        wait_until(Duration::from_secs(10), || {
            std::fs::read(&comm).is_ok_and(|c| c == format!("{COMM}\n").as_bytes())
        }),
        "the child never took the name {COMM:?}"
    );
    child
}

/// No byte that could steer a terminal: only printable text and line ends.
fn assert_no_control_bytes(out: &[u8], what: &str) {
    if let Some(b) = out.iter().find(|&&b| (b < 0x20 && b != b'\n') || b == 0x7f) {
        panic!("{what}: raw control byte {b:#04x} in the output");
    }
    let text = String::from_utf8_lossy(out);
    assert!(
        !text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)),
        "{what}: C1 control in the output"
    );
}

#[test]
fn hostile_paths_and_process_names_are_escaped_in_tables_and_exact_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(PATH_NAME);
    let unix = UnixListener::bind(&path).expect("bind a unix socket with a hostile name");
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port();
    let child = hostile_process(dir.path(), &[unix.as_raw_fd(), tcp.as_raw_fd()]);
    let pid = child.0.id();
    let escaped_path = format!("{}/{PATH_ESCAPED}", dir.path().display());

    // Unix table: the path and the process name escaped, on one row.
    let o = sockeye(&["dump", "-xlp"]);
    assert_no_control_bytes(&o.stdout, "dump -xlp");
    let text = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(&escaped_path)).collect();
    assert_eq!(rows.len(), 1, "one row for the socket:\n{text}");
    assert!(
        rows[0].contains(&format!("(\"{COMM_ESCAPED}\",pid={pid},fd=3)")),
        "{}",
        rows[0]
    );

    // TCP table: the process name escaped.
    let words = port_filter([port]);
    let mut args = vec!["dump", "-tlnp"];
    args.extend(words.iter().map(String::as_str));
    let o = sockeye(&args);
    assert_no_control_bytes(&o.stdout, "dump -tlnp");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!("(\"{COMM_ESCAPED}\",pid={pid},fd=4)")),
        "{text}"
    );

    // JSON: exact strings (JSON escapes them by itself).
    let o = sockeye(&["dump", "-xlp", "--json"]);
    let rows: Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let want_path = path.to_str().unwrap();
    let mine: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["path"] == want_path)
        .collect();
    assert_eq!(mine.len(), 1, "the socket, by its exact path");
    let owners = mine[0]["processes"].as_array().unwrap();
    assert!(
        owners
            .iter()
            .any(|p| p["command"] == COMM && p["pid"] == pid),
        "{owners:?}"
    );
}

#[test]
fn abstract_names_show_nul_as_at_like_ss() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("sockeye-test-{}\0x", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let _l = UnixListener::bind_addr(&addr).expect("bind an abstract name");
    let shown = format!("@sockeye-test-{}@x ", std::process::id());
    for source in ["netlink", "proc"] {
        let o = sockeye(&["dump", "-xl", "--source", source]);
        assert_no_control_bytes(&o.stdout, source);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains(&shown), "{source}: {text}");
    }
}
