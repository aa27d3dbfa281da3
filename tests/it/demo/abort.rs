//! The `abort` scenario: tcp_abort_on_overflow tried in two private namespaces as root (the
//! host's sysctl untouched); as another user it is refused by name and listed unavailable.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::demo::support::{BIN, DemoProc};

fn host_sysctl() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_abort_on_overflow").unwrap_or_default()
}

#[test]
fn abort_on_overflow_resets_at_1_and_drops_at_0_inside_private_namespaces() {
    if !crate::common::require_root("unshare and a per-namespace sysctl") {
        return;
    }
    let before = host_sysctl();
    let demo = DemoProc::start(&["abort"]);
    let st = demo.request(r#"{"cmd":"status"}"#);
    let paths = st["scenarios"][0]["paths"].to_string();
    assert!(paths.contains("/ns/net"), "{st}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let result = loop {
        let reply = demo.request(r#"{"cmd":"do","scenario":"abort","action":"result"}"#);
        assert_eq!(reply["ok"], true, "{reply}");
        let msg = reply["message"].as_str().unwrap().to_string();
        if !msg.contains("trial running") {
            break msg;
        }
        assert!(Instant::now() < deadline, "{msg}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut lines = result.lines();
    let one = lines.next().unwrap_or_default();
    let zero = lines.next().unwrap_or_default();
    assert!(
        one.starts_with("tcp_abort_on_overflow=1:") && one.contains("ECONNRESET"),
        "{result}"
    );
    assert!(
        zero.starts_with("tcp_abort_on_overflow=0:") && zero.contains("still ESTAB"),
        "{result}"
    );
    assert_eq!(host_sysctl(), before, "the host's sysctl changed");
    // Again, on request.
    let reply = demo.request(r#"{"cmd":"do","scenario":"abort","action":"try"}"#);
    assert_eq!(reply["ok"], true, "{reply}");
}

#[test]
fn abort_is_refused_by_name_and_listed_unavailable_for_another_user() {
    let run_as_user = |args: &[&str]| {
        let mut c = if crate::common::is_root() {
            if !crate::common::require_tool("setpriv", "util-linux") {
                return None;
            }
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(BIN);
            c
        } else {
            Command::new(BIN)
        };
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("d").join("demo.sock");
        std::fs::create_dir(dir.path().join("d")).unwrap();
        // The user the demo runs as owns its directory.
        let _ = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(dir.path())
            .status();
        c.args(["--no-config", "demo", "--headless", "--socket"])
            .arg(&sock)
            .args(args);
        // The directory lives as long as the command's caller keeps it.
        Some((c, dir))
    };
    let Some((mut named, _dir)) = run_as_user(&["abort"]) else {
        return;
    };
    let out = named.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("scenario abort cannot run here: needs root"),
        "{err}"
    );
    // By default: listed with the reason, the rest runs.
    let Some((mut all, _dir)) = run_as_user(&[]) else {
        return;
    };
    let mut child = all
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut banner = Vec::new();
    while !banner.iter().any(|l: &String| l.starts_with("control")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => banner.push(l),
            Err(_) => break,
        }
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    let text = banner.join("\n");
    assert!(
        banner
            .iter()
            .any(|l| l.starts_with("abort") && l.contains("unavailable: needs root")),
        "{text}"
    );
    assert!(banner.iter().any(|l| l.starts_with("echo")), "{text}");
}
