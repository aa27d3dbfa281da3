//! Record real loopback sockets through three phases; `dump --from --at` at each phase prints
//! what the live `dump` printed then (table and JSON), and `--between` sees what vanished.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use crate::common::*;
use serde_json::Value;
use sockeye::record::Recording;
use sockeye::record::when::format_rfc3339;

fn sockeye(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .arg("--no-config")
        .args(args)
        .output()
        .expect("run sockeye")
}

/// The recorder, stopped (SIGKILL) if the test fails before it stops it itself.
struct Recorder(Child);

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Table lines with the header first and the rows sorted (a recorded moment lists a table's
/// sockets in the order they were first seen, not the kernel's hash order).
fn sorted_table(o: &Output) -> Vec<String> {
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.len() > 1 {
        lines[1..].sort();
    }
    lines
}

fn sorted_json(o: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let mut a = v.as_array().expect("array").clone();
    a.sort_by_key(|x| x.to_string());
    a
}

/// Waits until the recording holds two frames taken after `after`; returns a time that
/// selects the first of them (or the second), while the sockets have not changed since.
fn moment_after(path: &Path, after: SystemTime) -> String {
    let mut pick = None;
    let ok = wait_until(Duration::from_secs(10), || {
        let Ok(rec) = Recording::open(path) else {
            return false;
        };
        let later: Vec<_> = rec.entries().iter().filter(|f| f.at > after).collect();
        if later.len() >= 2 {
            // Millisecond precision truncates: the second frame's time is past the first.
            pick = Some(format_rfc3339(later[1].at));
            true
        } else {
            false
        }
    });
    assert!(ok, "the recording never got two frames past the live dump");
    pick.expect("picked")
}

struct Phase {
    at: String,
    table: Vec<String>,
    json: Vec<Value>,
}

fn live_phase(path: &Path, filter: &[String]) -> Phase {
    let mut t = words(&["dump", "-tan"]);
    t.extend_from_slice(filter);
    let mut j = words(&["dump", "-tan", "--json"]);
    j.extend_from_slice(filter);
    let table = sockeye(&t);
    let json = sockeye(&j);
    assert!(table.status.success() && json.status.success());
    let done = SystemTime::now();
    Phase {
        at: moment_after(path, done),
        table: sorted_table(&table),
        json: sorted_json(&json),
    }
}

fn from_at(path: &Path, at: &str, json: bool, filter: &[String]) -> Output {
    let mut a = words(&["dump", "-tan"]);
    if json {
        a.push("--json".into());
    }
    a.extend(["--from".into(), path.to_string_lossy().into_owned()]);
    a.extend(["--at".into(), at.to_string()]);
    a.extend_from_slice(filter);
    let o = sockeye(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

#[test]
fn dump_from_at_equals_what_was_live() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("s.rec");
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let pair = estab_unread(ip, 100);
    let filter = port_filter([pair.port]);
    let mut rec_args = words(&["record", "-t", "--interval", "0.1", "-o"]);
    rec_args.push(path.to_string_lossy().into_owned());
    rec_args.extend_from_slice(&filter);
    let child = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .arg("--no-config")
        .args(&rec_args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn record");
    let mut recorder = Recorder(child);

    // A: listener, the two ends, 100 unread bytes on the server end.
    let a = live_phase(&path, &filter);
    assert_eq!(a.json.len(), 3, "{:?}", a.json);
    // B: the client closed: CLOSE-WAIT and FIN-WAIT-2.
    let client_port = pair.client_port;
    drop(pair.client);
    assert!(
        wait_until(Duration::from_secs(3), || tcp_state_of(client_port)
            .iter()
            .any(|s| s == "FIN-WAIT-2")),
        "no FIN-WAIT-2"
    );
    let b = live_phase(&path, &filter);
    // C: the listener closed.
    drop(pair.listener);
    let c = live_phase(&path, &filter);
    assert_eq!(c.json.len(), 2, "{:?}", c.json);

    for p in [&a, &b, &c] {
        assert_eq!(
            sorted_table(&from_at(&path, &p.at, false, &filter)),
            p.table
        );
        assert_eq!(sorted_json(&from_at(&path, &p.at, true, &filter)), p.json);
    }
    assert_ne!(a.json, b.json);

    // --between A and C: the listener vanished; nothing appeared.
    let mut args = words(&["dump", "-ta", "--from"]);
    args.push(path.to_string_lossy().into_owned());
    args.extend([
        "--between".into(),
        a.at.clone(),
        c.at.clone(),
        "--json".into(),
    ]);
    let o = sockeye(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let vanished = v["vanished"].as_array().unwrap();
    assert!(
        vanished.iter().any(|e| e["socket"]["state"] == "LISTEN"
            && e["socket"]["local_port"] == u64::from(pair.port)),
        "{v}"
    );
    assert!(v["appeared"].as_array().unwrap().is_empty(), "{v}");

    // SIGTERM ends the recording cleanly: exit 0, every frame whole.
    let pid = recorder.0.id() as i32;
    // SAFETY: kill has no memory preconditions; pid is our child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let mut status = None;
    assert!(wait_until(Duration::from_secs(5), || {
        status = recorder.0.try_wait().unwrap();
        status.is_some()
    }));
    assert!(status.unwrap().success());
    let rec = Recording::open(&path).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    drop(pair.server);
}

/// `dump --from -i -O` prints each socket on one line, as live (-O was ignored: tcp_info
/// went on a continuation line).
#[test]
fn dump_from_takes_oneline() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("s.rec");
    let pair = estab_unread(IpAddr::V4(Ipv4Addr::LOCALHOST), 10);
    let filter = port_filter([pair.port]);
    let mut rec_args = words(&["record", "-q", "-t", "-i", "--duration", "0", "-o"]);
    rec_args.push(path.to_string_lossy().into_owned());
    rec_args.extend_from_slice(&filter);
    let o = sockeye(&rec_args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dump = |flags: &[&str]| {
        let mut a = words(&["dump", "--from", path.to_str().unwrap()]);
        a.extend(words(flags));
        a.extend_from_slice(&filter);
        let o = sockeye(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let two = dump(&["-tni"]);
    assert!(two.lines().any(|l| l.starts_with('\t')), "{two}");
    let one = dump(&["-tniO"]);
    assert!(!one.lines().any(|l| l.starts_with('\t')), "{one}");
    // The header and the two ends (no -a: not the listener), tcp_info on each row.
    assert_eq!(one.lines().count(), 3, "{one}");
    assert!(one.lines().skip(1).all(|l| l.contains(" cwnd:")), "{one}");
    drop(pair);
}
