//! Writes that fail: stdout on a full disk (/dev/full) or a closed pipe, stderr on a full
//! disk. Every write is checked; nothing panics (exit 101, "panicked" on stderr).

use std::fs::File;
use std::io::Read;
use std::process::{Command, Output, Stdio};

fn sockeye() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sockeye"))
}

fn dev_full() -> File {
    File::options()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full")
}

fn assert_no_panic(args: &[&str], o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(101), "{args:?} panicked: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

const TO_STDOUT: &[&[&str]] = &[
    &["--help"],
    &["--version"],
    &["dump", "--help"],
    &["help"],
    &["completions", "bash"],
    &["completions", "zsh"],
];

#[test]
fn a_full_stdout_fails_with_one_line() {
    for args in TO_STDOUT {
        let o = sockeye()
            .args(*args)
            .stdout(dev_full())
            .output()
            .expect("run sockeye");
        assert_no_panic(args, &o);
        assert_eq!(o.status.code(), Some(1), "{args:?} must fail");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(
            err.starts_with("sockeye: cannot write") && err.contains("No space left"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_closed_stdout_pipe_is_a_quiet_normal_end() {
    for args in TO_STDOUT {
        let mut child = sockeye()
            .args(*args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sockeye");
        // Close the read end before sockeye writes anything.
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("read stderr");
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: nothing on stderr: {err}");
    }
}

#[test]
fn a_usage_error_with_a_full_stderr_keeps_its_exit_status() {
    let cases: &[&[&str]] = &[
        &["--bogus"],
        &["dump", "--bogus"],
        &["dump", "sprot", "=", ":22"],
        &["export", "--listen", "not-an-address"],
        &["completions", "no-such-shell"],
    ];
    for args in cases {
        let o = sockeye()
            .args(*args)
            .arg("--no-config")
            .stderr(dev_full())
            .output()
            .expect("run sockeye");
        assert_no_panic(args, &o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: documented usage status"
        );
    }
}

#[test]
fn a_usage_error_with_a_closed_stderr_pipe_keeps_its_exit_status() {
    let mut child = sockeye()
        .args(["dump", "--bogus"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn sockeye");
    drop(child.stderr.take());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(2));
}

#[test]
fn the_exporter_serves_and_stops_with_a_full_stderr() {
    // A free port (the exporter says which it bound only on stderr, which is full here).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut child = sockeye()
        .args([
            "--no-config",
            "export",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(dev_full())
        .spawn()
        .expect("spawn sockeye");
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let up = crate::common::wait_until(std::time::Duration::from_secs(10), || {
        std::net::TcpStream::connect(addr).is_ok() || child.try_wait().unwrap().is_some()
    });
    let early = child.try_wait().unwrap();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(
        up && early.is_none(),
        "the exporter died at start: {status:?}"
    );
    assert_ne!(status.code(), Some(101), "panicked");
    assert!(status.success(), "{status:?}");
}
