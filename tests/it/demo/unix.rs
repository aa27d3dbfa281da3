//! The `unix` scenario: a stream listener with backlog 1 nobody accepts from (Recv-Q 2, the
//! next connect() refused with EAGAIN), a datagram socket nobody reads (the sender's Send-Q
//! is the memory of the queued datagrams), both under the demo's control directory; ss and
//! sockeye's own dump are the oracles.

use std::path::Path;
use std::process::Command;

use crate::demo::support::{BIN, DemoProc, eventually};

/// (netid, state, Recv-Q, Send-Q) of the unix socket bound to `path`, as `tool -xaH` shows.
fn unix_rows(tool: &str, path: &Path) -> Vec<(String, String, u64, u64)> {
    let mut cmd = if tool == "ss" {
        Command::new("ss")
    } else {
        let mut c = Command::new(BIN);
        c.arg("dump");
        c
    };
    let out = cmd.args(["-xaH"]).output().expect("run ss/sockeye");
    assert!(out.status.success(), "{tool} failed");
    let want = path.display().to_string();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 5 && f[4] == want).then(|| {
                (
                    f[0].to_string(),
                    f[1].to_string(),
                    f[2].parse().unwrap_or(u64::MAX),
                    f[3].parse().unwrap_or(u64::MAX),
                )
            })
        })
        .collect()
}

fn listener(tool: &str, path: &Path) -> Option<(u64, u64)> {
    unix_rows(tool, path)
        .into_iter()
        .find(|r| r.0 == "u_str" && r.1 == "LISTEN")
        .map(|r| (r.2, r.3))
}

#[test]
fn unix_listener_queues_two_then_refuses_and_unread_datagrams_stay_with_the_sender() {
    let demo = DemoProc::start(&["unix"]);
    let dir = demo.runtime_dir.path().join("sockeye");
    let stream = dir.join("unix-stream.sock");
    let dgram = dir.join("unix-dgram.sock");
    let sender = dir.join("unix-dgram-sender.sock");
    let st = demo.request(r#"{"cmd":"status"}"#);
    let paths = st["scenarios"][0]["paths"].to_string();
    assert!(paths.contains("unix-stream.sock"), "{st}");
    // Backlog 1: two connections queue (Recv-Q 2, Send-Q the limit 1), ss and sockeye agree.
    for tool in ["ss", "sockeye"] {
        eventually(
            15,
            &format!("u_str LISTEN 2/1 ({tool})"),
            || (listener(tool, &stream)? == (2, 1)).then_some(()),
            || format!("{:?}", unix_rows(tool, &stream)),
        );
    }
    // The queue is full: a further connect() is refused at once.
    let reply = demo.request(r#"{"cmd":"add","scenario":"unix","count":1}"#);
    assert_eq!(reply["ok"], false, "{reply}");
    assert!(
        reply["error"].as_str().unwrap().contains("EAGAIN"),
        "{reply}"
    );
    // Nobody reads the datagrams: the receiver's Recv-Q is the next one's size (8), the
    // sender's Send-Q their memory; it grows, then stays put once the queue is full.
    let sender_q = || unix_rows("ss", &sender).first().map(|r| r.3);
    eventually(
        15,
        "receiver Recv-Q 8 and sender Send-Q above 0",
        || {
            let rq = unix_rows("ss", &dgram).first().map(|r| r.2)?;
            (rq == 8 && sender_q()? > 0).then_some(())
        },
        || {
            format!(
                "{:?} {:?}",
                unix_rows("ss", &dgram),
                unix_rows("ss", &sender)
            )
        },
    );
    let mut last = (0u64, std::time::Instant::now());
    let full = eventually(
        30,
        "the sender's Send-Q to stop growing (queue full)",
        || {
            let q = sender_q()?;
            if q != last.0 {
                last = (q, std::time::Instant::now());
                return None;
            }
            // Two seconds is four datagrams at the scenario's 2/s.
            (last.1.elapsed().as_secs_f64() >= 2.0).then_some(q)
        },
        || format!("{:?}", unix_rows("ss", &sender)),
    );
    let qlen: u64 = std::fs::read_to_string("/proc/sys/net/unix/max_dgram_qlen")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(10);
    let reply = demo.request(r#"{"cmd":"do","scenario":"unix","action":"drain"}"#);
    assert_eq!(reply["ok"], true, "{reply}");
    let msg = reply["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("read {} datagram(s)", qlen + 1)),
        "{msg} (max_dgram_qlen {qlen})"
    );
    assert!(!msg.contains("EAGAIN 0 time"), "{msg}");
    eventually(
        15,
        "the sender's Send-Q to fall after drain",
        || (sender_q()? < full).then_some(()),
        || format!("{:?} (full {full})", unix_rows("ss", &sender)),
    );
    // resume: the two queued connections are accepted, the queue empties.
    let reply = demo.request(r#"{"cmd":"resume","scenario":"unix"}"#);
    assert_eq!(reply["ok"], true, "{reply}");
    eventually(
        15,
        "listener Recv-Q 0 and two accepted u_str ESTAB",
        || {
            let rows = unix_rows("ss", &stream);
            let estab = rows.iter().filter(|r| r.1 == "ESTAB").count();
            (listener("ss", &stream)?.0 == 0 && estab == 2).then_some(())
        },
        || format!("{:?}", unix_rows("ss", &stream)),
    );
    // Stopping removes the scenario's files (the directory stays, it is the user's).
    let mut demo = demo;
    assert!(demo.signal(libc::SIGTERM).success());
    for p in [&stream, &dgram, &sender] {
        assert!(!p.exists(), "{} left behind", p.display());
    }
}
