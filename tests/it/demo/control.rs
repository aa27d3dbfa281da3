//! The control socket: status, every action, and bad requests that must get an error reply
//! while the demo keeps running.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::demo::support::{DemoProc, eventually, show, ss};

fn ok(v: &serde_json::Value) -> bool {
    v["ok"] == true
}

#[test]
fn status_lists_scenarios_ports_and_counts() {
    let demo = DemoProc::start(&["unread", "echo"]);
    let st = demo.request(r#"{"cmd":"status"}"#);
    assert!(ok(&st), "{st}");
    assert_eq!(st["pid"], demo.child.id());
    assert_eq!(st["bind"], "127.0.0.1");
    let names: Vec<&str> = st["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["unread", "echo"]);
    assert_eq!(st["scenarios"][0]["port"], demo.port("unread"));
    assert_eq!(st["scenarios"][1]["port"], demo.port("echo"));
    assert_eq!(st["scenarios"][0]["accepting"], true);
    assert!(st["scenarios"][0]["clients"].as_u64().is_some());
}

#[test]
fn control_socket_is_private() {
    let demo = DemoProc::start(&["echo"]);
    let mode = std::fs::metadata(&demo.control)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir = demo.control.parent().unwrap();
    let mode = std::fs::metadata(dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    assert!(demo.control.starts_with(demo.runtime_dir.path()));
}

#[test]
fn actions_change_what_the_kernel_shows() {
    let demo = DemoProc::start(&["unread", "time-wait", "echo", "--rate", "2"]);
    let p = demo.port("unread");
    let server_estab = |n: usize| {
        move || {
            (ss(p)
                .iter()
                .filter(|r| r.state == "ESTAB" && r.local_port == p)
                .count()
                == n)
                .then_some(())
        }
    };
    eventually(10, "1 server socket", server_estab(1), || show(p));

    // add
    let r = demo.request(r#"{"cmd":"add","scenario":"unread","count":2}"#);
    assert!(ok(&r), "{r}");
    eventually(10, "3 server sockets", server_estab(3), || show(p));

    // close
    let r = demo.request(r#"{"cmd":"close","scenario":"unread","count":1}"#);
    assert!(ok(&r), "{r}");
    eventually(10, "2 server sockets", server_estab(2), || show(p));

    // pause: a new client stays in the accept queue (listener Recv-Q 1)
    let r = demo.request(r#"{"cmd":"pause","scenario":"unread"}"#);
    assert!(ok(&r), "{r}");
    let r = demo.request(r#"{"cmd":"add","scenario":"unread"}"#);
    assert!(ok(&r), "{r}");
    eventually(
        10,
        "listener Recv-Q 1",
        || {
            ss(p)
                .iter()
                .any(|r| r.state == "LISTEN" && r.recv_q == 1)
                .then_some(())
        },
        || show(p),
    );
    let st = demo.request(r#"{"cmd":"status"}"#);
    assert_eq!(st["scenarios"][0]["accepting"], false, "{st}");
    // resume: accepted
    let r = demo.request(r#"{"cmd":"resume","scenario":"unread"}"#);
    assert!(ok(&r), "{r}");
    eventually(
        10,
        "listener Recv-Q 0",
        || {
            ss(p)
                .iter()
                .any(|r| r.state == "LISTEN" && r.recv_q == 0)
                .then_some(())
        },
        || show(p),
    );

    // send with explicit data
    let r = demo.request(r#"{"cmd":"send","scenario":"unread","data":"abc"}"#);
    assert!(ok(&r), "{r}");
    eventually(
        10,
        "Recv-Q 11 (8 + 3)",
        || {
            ss(p)
                .iter()
                .any(|r| r.local_port == p && r.recv_q == 11)
                .then_some(())
        },
        || show(p),
    );

    // rate
    let r = demo.request(r#"{"cmd":"rate","scenario":"time-wait","per_sec":5}"#);
    assert!(ok(&r), "{r}");
    let st = demo.request(r#"{"cmd":"status"}"#);
    assert_eq!(st["scenarios"][1]["rate"], 5.0, "{st}");

    // reset one, then all
    let r = demo.request(r#"{"cmd":"reset","scenario":"unread"}"#);
    assert!(ok(&r), "{r}");
    eventually(10, "back to 1 server socket", server_estab(1), || show(p));
    let r = demo.request(r#"{"cmd":"reset"}"#);
    assert!(ok(&r), "{r}");
    let st = demo.request(r#"{"cmd":"status"}"#);
    // Back to the rate the demo was started with.
    assert_eq!(st["scenarios"][1]["rate"], 2.0, "{st}");
}

#[test]
fn bad_requests_get_error_replies_and_the_demo_keeps_running() {
    let mut demo = DemoProc::start(&["unread", "echo"]);
    for (line, needle) in [
        ("this is not json", "bad request"),
        (r#"{"cmd":"explode"}"#, "unknown variant"),
        (r#"{"scenario":"echo"}"#, "missing"),
        (r#"{"cmd":"add","scenario":"nope"}"#, "unknown variant"),
        (
            r#"{"cmd":"add","scenario":"echo","count":"two"}"#,
            "invalid type",
        ),
        (
            r#"{"cmd":"add","scenario":"echo","count":-1}"#,
            "invalid value",
        ),
        (r#"{"cmd":"add","scenario":"echo","count":100000}"#, "count"),
        (
            r#"{"cmd":"add","scenario":"echo","bogus":1}"#,
            "unknown field",
        ),
        (
            r#"{"cmd":"rate","scenario":"time-wait","per_sec":1}"#,
            "not running",
        ),
        (
            r#"{"cmd":"rate","scenario":"unread","per_sec":1}"#,
            "no churn rate",
        ),
        (
            r#"{"cmd":"rate","scenario":"echo","per_sec":1e9}"#,
            "between",
        ),
        (r#"{"cmd":"send","scenario":"unread","data":""}"#, "bytes"),
        (r#"[]"#, "cmd"),
    ] {
        let r = demo.request(line);
        assert_eq!(r["ok"], false, "{line} -> {r}");
        let err = r["error"].as_str().unwrap();
        assert!(err.contains(needle), "{line} -> {err}");
    }
    assert!(demo.is_running());
    let st = demo.request(r#"{"cmd":"status"}"#);
    assert!(ok(&st));
}

#[test]
fn a_vanishing_churn_rate_neither_panics_nor_stops_the_scenario() {
    // `--rate 1e-300` is more than 0, so accepted, and so is `per_sec` 5e-324 on the control
    // socket; 1/rate seconds overflowed Duration and the time-wait thread panicked.
    let mut demo = DemoProc::start(&["time-wait", "--rate", "1e-300"]);
    let r = demo.request(r#"{"cmd":"rate","scenario":"time-wait","per_sec":5e-324}"#);
    assert!(ok(&r), "{r}");
    let r = demo.request(r#"{"cmd":"status"}"#);
    assert!(ok(&r), "{r}");
    assert!(demo.is_running());
    assert!(demo.signal(libc::SIGTERM).success());
    let mut err = String::new();
    if let Some(mut e) = demo.child.stderr.take() {
        e.read_to_string(&mut err).unwrap();
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn oversized_and_many_requests_on_one_connection() {
    let mut demo = DemoProc::start(&["echo"]);
    let mut s = UnixStream::connect(&demo.control).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    // Several requests on one connection, one reply each, in order.
    for _ in 0..3 {
        s.write_all(b"{\"cmd\":\"status\"}\n").unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["ok"], true);
    }
    // An oversized line gets an error and the connection is closed.
    let big = format!(
        "{{\"cmd\":\"status\",\"pad\":\"{}\"}}\n",
        "x".repeat(10_000)
    );
    let _ = s.write_all(big.as_bytes());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["error"].as_str().unwrap().contains("too large"));
    // The demo is fine.
    assert!(demo.is_running());
    assert_eq!(demo.request(r#"{"cmd":"status"}"#)["ok"], true);
}

#[test]
fn a_second_demo_on_the_same_socket_is_refused() {
    let demo = DemoProc::start(&["echo"]);
    let out = std::process::Command::new(crate::demo::support::BIN)
        .args(["demo", "--headless", "echo"])
        .env("XDG_RUNTIME_DIR", demo.runtime_dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "a demo is already running (pid {})",
            demo.child.id()
        )),
        "{err}"
    );
}

#[test]
fn a_stale_socket_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let sockdir = dir.path().join("sockeye");
    std::fs::create_dir(&sockdir).unwrap();
    std::fs::set_permissions(&sockdir, std::fs::Permissions::from_mode(0o700)).unwrap();
    // A socket file nobody listens on: what a killed demo leaves behind.
    let stale = sockdir.join("demo.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let demo = DemoProc::start_in(&["echo"], dir);
    assert_eq!(demo.control, stale);
    assert_eq!(demo.request(r#"{"cmd":"status"}"#)["ok"], true);
}

#[test]
fn non_loopback_bind_needs_the_extra_flag() {
    let out = std::process::Command::new(crate::demo::support::BIN)
        .args(["demo", "--headless", "--bind", "0.0.0.0", "echo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-non-loopback"));
    let out = std::process::Command::new(crate::demo::support::BIN)
        .args(["demo", "--headless", "--rate", "1000", "time-wait"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_loose_socket_directory_is_made_private() {
    let dir = tempfile::tempdir().unwrap();
    let sockdir = dir.path().join("sockeye");
    std::fs::create_dir(&sockdir).unwrap();
    std::fs::set_permissions(&sockdir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let demo = DemoProc::start_in(&["echo"], dir);
    let mode = std::fs::metadata(demo.control.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn a_socket_directory_owned_by_someone_else_is_refused() {
    if !crate::common::require_root("to create a directory owned by another user") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sockdir = dir.path().join("sockeye");
    std::fs::create_dir(&sockdir).unwrap();
    std::os::unix::fs::chown(&sockdir, Some(65534), Some(65534)).unwrap();
    let out = std::process::Command::new(crate::demo::support::BIN)
        .args(["demo", "--headless", "echo"])
        .env("XDG_RUNTIME_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a directory owned by you"), "{err}");
    assert!(!sockdir.join("demo.sock").exists());
}
