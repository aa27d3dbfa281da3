//! `sockeye dump` from the outside: flags, state filters and groups, the JSON schema, exit
//! codes, the closed pipe, `-H`, `-s`. Tests look only at their own loopback sockets.

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};

use crate::common::*;
use serde_json::Value;

fn sockeye(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(args)
        .output()
        .expect("run sockeye")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_in(args: &[&str], ports: &[u16]) -> Vec<Value> {
    let words = crate::common::port_filter(ports);
    let mut a: Vec<&str> = args.to_vec();
    a.extend(words.iter().map(String::as_str));
    json(&a)
}

fn json(args: &[&str]) -> Vec<Value> {
    let mut a = vec!["dump", "--json"];
    a.extend_from_slice(args);
    let o = sockeye(&a);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    v.as_array().expect("array").clone()
}

/// This test's own IPv4 loopback socket(s): local port and peer port (0: no peer). Port
/// numbers alone are not enough on a shared machine (another test may use the same number on
/// ::1, or as a peer).
fn mine(rows: &[Value], local: u16, peer: u16) -> Vec<&Value> {
    rows.iter()
        .filter(|v| {
            v["local_addr"] == "127.0.0.1" && v["local_port"] == local && v["peer_port"] == peer
        })
        .collect()
}

#[test]
fn header_netid_and_state_columns_follow_ss() {
    let o = sockeye(&["dump", "-tn", "sport", "=", ":1"]);
    assert!(o.status.success());
    let head = stdout(&o);
    let first = head.lines().next().expect("a header line");
    // One table: no Netid; several states: State shown.
    assert!(first.starts_with("State "), "{first}");
    assert!(first.contains("Recv-Q Send-Q"), "{first}");
    assert!(first.contains("Local Address:Port"), "{first}");

    let all = stdout(&sockeye(&["dump", "-n", "sport", "=", ":1"]));
    assert!(all.starts_with("Netid State "), "{all}");

    let tw = stdout(&sockeye(&[
        "dump",
        "-tn",
        "state",
        "time-wait",
        "sport",
        "=",
        ":1",
    ]));
    assert!(tw.starts_with("Recv-Q "), "one state hides State: {tw}");

    // UDP alone defaults to connected sockets only: one state, no State column.
    let u = stdout(&sockeye(&["dump", "-un", "sport", "=", ":1"]));
    assert!(u.starts_with("Recv-Q "), "{u}");

    let h = stdout(&sockeye(&["dump", "-tnH", "state", "listening"]));
    assert!(!h.contains("Local Address"), "-H: {h}");
}

#[test]
fn table_rows_match_ss_spelling() {
    let l = tcp_listener(SocketAddr::new(LO4, 0), 7, None);
    let port = l.local_addr().expect("addr").port();
    let filter = format!(":{port}");
    let out = stdout(&sockeye(&["dump", "-tlnH"]));
    let row = out
        .lines()
        .find(|r| r.contains(&format!("127.0.0.1:{port} ")))
        .unwrap_or_else(|| panic!("listener row missing:\n{out}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[..3], ["LISTEN", "0", "7"], "{row}");
    assert_eq!(cols[4], "0.0.0.0:*", "{row}");
    let ss_row = ss(&["-tlnH", "sport", "=", &filter]);
    assert_eq!(
        ss_row[0].split_whitespace().collect::<Vec<_>>(),
        cols,
        "same words as ss"
    );
}

#[test]
fn state_filters_and_groups() {
    let listener = tcp_listener(SocketAddr::new(LO4, 0), 4, None);
    let lport = listener.local_addr().expect("addr").port();
    let tw = time_wait(LO4);

    let states = |args: &[&str], (local, peer): (u16, u16)| -> Vec<String> {
        mine(&json_in(args, &[local]), local, peer)
            .iter()
            .map(|v| v["state"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let lk = (lport, 0);
    let twk = (tw.client_port, tw.port);
    assert_eq!(states(&["-tn", "state", "listening"], lk), ["LISTEN"]);
    assert_eq!(states(&["-tn", "state", "LISTENING"], lk), ["LISTEN"]);
    assert_eq!(states(&["-tln"], lk), ["LISTEN"]);
    // Default: connected minus time-wait and syn-recv.
    assert!(states(&["-tn"], twk).is_empty());
    assert!(states(&["-tn"], lk).is_empty());
    assert_eq!(states(&["-tn", "state", "time-wait"], twk), ["TIME-WAIT"]);
    assert_eq!(states(&["-tn", "state", "bucket"], twk), ["TIME-WAIT"]);
    assert!(states(&["-tn", "state", "big"], twk).is_empty());
    assert_eq!(states(&["-tn", "state", "big"], lk), ["LISTEN"]);
    assert!(states(&["-tn", "state", "connected"], lk).is_empty());
    assert_eq!(states(&["-tn", "state", "connected"], twk), ["TIME-WAIT"]);
    assert!(states(&["-tn", "state", "synchronized"], lk).is_empty());
    // Repeated states are a union; exclude starts from all.
    let both = [
        states(&["-tn", "state", "listening", "state", "time-wait"], lk),
        states(&["-tn", "state", "listening", "state", "time-wait"], twk),
    ];
    assert_eq!(
        both,
        [vec!["LISTEN".to_string()], vec!["TIME-WAIT".to_string()]]
    );
    assert!(states(&["-tn", "exclude", "time-wait"], twk).is_empty());
    assert_eq!(states(&["-tn", "exclude", "time-wait"], lk), ["LISTEN"]);
    assert_eq!(states(&["-tan"], lk), ["LISTEN"]);
    drop(listener);
}

#[test]
fn json_schema_every_key_and_type() {
    let pair = estab_unread(LO4, 3);
    let rows = json_in(&["-tanpoim"], &[pair.port]);
    let server = *mine(&rows, pair.port, pair.client_port)
        .first()
        .expect("server side");
    let obj = server.as_object().expect("object");
    for key in [
        "netid",
        "state",
        "recv_q",
        "send_q",
        "local_addr",
        "local_port",
        "peer_addr",
        "peer_port",
        "inode",
        "uid",
        "cookie",
        "source",
        "timer",
        "processes",
        "tcp_info",
        "memory",
    ] {
        assert!(obj.contains_key(key), "missing {key}: {server}");
    }
    assert_eq!(server["netid"], "tcp");
    assert_eq!(server["state"], "ESTAB");
    assert_eq!(server["recv_q"], 3);
    assert!(server["send_q"].is_u64());
    assert_eq!(server["local_addr"], "127.0.0.1");
    assert!(server["inode"].as_u64().is_some_and(|i| i > 0));
    assert!(server["uid"].is_u64() && server["cookie"].is_u64());
    assert!(matches!(
        server["source"].as_str(),
        Some("netlink" | "proc")
    ));
    let procs = server["processes"].as_array().expect("processes array");
    let me = std::process::id();
    assert!(
        procs
            .iter()
            .any(|p| p["pid"] == me && p["fd"].is_u64() && p["command"].is_string()),
        "{procs:?}"
    );
    assert!(
        server["tcp_info"]["rtt_us"].is_u64(),
        "{}",
        server["tcp_info"]
    );
    assert!(server["memory"]["rcvbuf"].is_u64(), "{}", server["memory"]);
    // The listener's peer: no peer is port 0 and the wildcard address.
    let l = *mine(&rows, pair.port, 0).first().expect("listener");
    assert_eq!(l["peer_port"], 0);
    assert_eq!(l["peer_addr"], "0.0.0.0");

    // Optional keys only when asked.
    let plain = json_in(&["-tn"], &[pair.port]);
    let s = mine(&plain, pair.client_port, pair.port)[0]
        .as_object()
        .expect("object")
        .clone();
    for key in ["timer", "processes", "tcp_info", "memory"] {
        assert!(!s.contains_key(key), "{key} present without its flag");
    }

    // Unix objects carry path and peer_inode.
    let dir = tempfile::tempdir().expect("tempdir");
    let ux = unix_streams(dir.path());
    let rows = json(&["-xa"]);
    let want = ux.path.to_string_lossy();
    let listener = rows
        .iter()
        .find(|v| v["path"] == want.as_ref() && v["state"] == "LISTEN")
        .expect("unix listener");
    assert_eq!(listener["netid"], "u_str");
    assert!(listener.get("peer_inode").is_some());
    assert!(listener["local_addr"].is_null() && listener["local_port"].is_null());
}

#[test]
fn usage_errors_exit_2_runtime_errors_exit_1() {
    for args in [
        vec!["dump", "state", "nosuchstate"],
        vec!["dump", "--no-such-flag"],
        vec!["dump", "-F", "/nonexistent/sockeye-filter"],
        vec!["dump", "state"],
    ] {
        let o = sockeye(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?}: an error message");
    }
    // A write error other than a closed pipe is a runtime failure: one line, exit 1.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["dump", "-t", "sport", "=", ":1"])
        .stdout(full)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("sockeye: "));
}

#[test]
fn closed_pipe_ends_quietly() {
    // The reader is gone before sockeye writes anything.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["dump", "-a"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let status = child.wait().expect("wait");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read stderr");
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "stderr: {err}");

    // Like `sockeye dump -a | head -1`.
    let o = Command::new("bash")
        .args([
            "-c",
            &format!(
                "set -o pipefail; {} dump -a | head -1 >/dev/null",
                env!("CARGO_BIN_EXE_sockeye")
            ),
        ])
        .output()
        .expect("bash");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn summary_text_and_json() {
    let tw = time_wait(LO4);
    let o = sockeye(&["dump", "-s"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("Total: "), "{text}");
    assert!(
        text.contains("\nTransport Total     IP        IPv6\n"),
        "{text}"
    );
    for state in [
        "ESTAB",
        "SYN-SENT",
        "SYN-RECV",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "TIME-WAIT",
        "UNCONN",
        "CLOSE-WAIT",
        "LAST-ACK",
        "LISTEN",
        "CLOSING",
    ] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(state)),
            "no {state} count in:\n{text}"
        );
    }
    assert!(text.contains("Listen queue: overflows "), "{text}");
    assert!(text.contains("(tcp_max_tw_buckets)"), "{text}");
    assert!(text.contains("\nSource: "), "{text}");

    let o = sockeye(&["dump", "-s", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("summary JSON");
    assert!(
        v["tcp_states"]["TIME-WAIT"]
            .as_u64()
            .is_some_and(|n| n >= 1)
    );
    assert!(v["source"].is_string());
    assert!(v.get("fallback_reason").is_some());
    let _ = tw;
}

#[test]
fn proc_source_shows_unknowns_as_dashes() {
    let l = tcp_listener(SocketAddr::new(LO4, 0), 5, None);
    let port = l.local_addr().expect("addr").port();
    let o = sockeye(&[
        "dump",
        "-tlnH",
        "--source",
        "proc",
        "sport",
        "=",
        &format!(":{port}"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let row = out
        .lines()
        .find(|r| r.contains(&format!(":{port} ")))
        .expect("listener row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cols[..3],
        ["LISTEN", "0", "-"],
        "backlog limit unknown from /proc"
    );
}

#[test]
fn explain_exits_zero() {
    let o = sockeye(&["dump", "--explain", "-t", "state", "time-wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("time-wait"), "{}", stdout(&o));
}

#[test]
fn expressions_and_filter_files() {
    let pair = tcp_pair(SocketAddr::new(LO4, 0), None, None);
    let port = pair.port;
    let expr = format!(":{port}");
    let rows = json(&["-tn4", "dport", "=", &expr]);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|v| v["peer_port"] == port), "{rows:?}");
    assert!(rows.iter().any(|v| v["local_port"] == pair.client_port));

    let both = json(&[
        "-tan", "(", "sport", "=", &expr, "or", "dport", "=", &expr, ")",
    ]);
    let states: Vec<&str> = both.iter().filter_map(|v| v["state"].as_str()).collect();
    assert_eq!(states.len(), 3, "listener, server and client: {both:?}");
    // The /proc source selects the same sockets.
    let via_proc = json(&[
        "-tan4", "--source", "proc", "(", "sport", "=", &expr, "or", "dport", "=", &expr, ")",
    ]);
    assert_eq!(via_proc.len(), 3, "{via_proc:?}");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("filter");
    std::fs::write(&file, format!("# a comment\ndport = {expr}\n")).expect("write");
    let from_file = json(&["-tn4", "-F", &file.to_string_lossy()]);
    assert_eq!(from_file.len(), rows.len(), "{from_file:?}");

    let bad = sockeye(&["dump", "-tn", "dport", "=", ":80", "foo"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains('^'),
        "points at the bad word: {}",
        stderr(&bad)
    );
}

/// With -x, ss reads address operands as unix path patterns even when they do not look like
/// paths; sockeye must too (and select the same socket).
#[test]
fn unix_flag_reads_operands_as_path_patterns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sockeye-x-pattern.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let pattern = "*sockeye-x-pattern.sock";
    let ours = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains(path.to_str().unwrap()))
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect()
    };
    // `sport = PATTERN` is only valid because of -x: without it, the operand is a bad port.
    for expr in [["src", "", pattern], ["sport", "=", pattern]] {
        let words: Vec<&str> = expr.iter().copied().filter(|w| !w.is_empty()).collect();
        let mut args = vec!["dump", "-xaH"];
        args.extend(&words);
        let out = sockeye(&args);
        assert_eq!(out.status.code(), Some(0), "{words:?}: {}", stderr(&out));
        let ss = std::process::Command::new("ss")
            .arg("-xaH")
            .args(&words)
            .output()
            .unwrap();
        let got = ours(&stdout(&out));
        assert_eq!(got, vec!["u_str LISTEN".to_string()], "{words:?}");
        assert_eq!(got, ours(&String::from_utf8_lossy(&ss.stdout)), "{words:?}");
    }
}

/// OS errors reach the user as one plain line, without Rust's "(os error N)" suffix.
#[test]
fn unreadable_filter_file_is_one_plain_line() {
    let out = sockeye(&["dump", "-F", "/nonexistent/sockeye-filter"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "sockeye: cannot read filter file /nonexistent/sockeye-filter: No such file or directory\n"
    );
}
