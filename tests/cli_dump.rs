//! `sockeye dump` from the outside: flags, state filters and groups, the JSON schema, exit
//! codes, the closed pipe, `-H`, `-s`. Tests look only at their own loopback sockets.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};

use common::*;
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

fn json(args: &[&str]) -> Vec<Value> {
    let mut a = vec!["dump", "--json"];
    a.extend_from_slice(args);
    let o = sockeye(&a);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    v.as_array().expect("array").clone()
}

fn mine(rows: &[Value], port: u16) -> Vec<&Value> {
    rows.iter()
        .filter(|v| v["local_port"] == port || v["peer_port"] == port)
        .collect()
}

#[test]
fn header_netid_and_state_columns_follow_ss() {
    let o = sockeye(&["dump", "-tn"]);
    assert!(o.status.success());
    let head = stdout(&o);
    let first = head.lines().next().expect("a header line");
    // One table: no Netid; several states: State shown.
    assert!(first.starts_with("State "), "{first}");
    assert!(first.contains("Recv-Q Send-Q"), "{first}");
    assert!(first.contains("Local Address:Port"), "{first}");

    let all = stdout(&sockeye(&["dump", "-n"]));
    assert!(all.starts_with("Netid State "), "{all}");

    let tw = stdout(&sockeye(&["dump", "-tn", "state", "time-wait"]));
    assert!(tw.starts_with("Recv-Q "), "one state hides State: {tw}");

    // UDP alone defaults to connected sockets only: one state, no State column.
    let u = stdout(&sockeye(&["dump", "-un"]));
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

    // Ask only for this test's sockets (the kernel filters them): with 100k sockets on the
    // machine a full dump per call made this test outlive its TIME-WAIT socket.
    let only_mine = format!(
        "( sport = :{lport} or ( sport = :{} and dport = :{} ) )",
        tw.client_port, tw.port
    );
    let json = |args: &[&str]| -> Vec<Value> {
        let mut a = args.to_vec();
        a.push(&only_mine);
        json(&a)
    };
    let states = |args: &[&str], port: u16| -> Vec<String> {
        mine(&json(args), port)
            .iter()
            .map(|v| v["state"].as_str().unwrap_or("").to_string())
            .collect()
    };
    // The TIME-WAIT socket by its whole port pair: on a busy machine the kernel hands the
    // same ephemeral port to connections towards other listeners, so other tests' and
    // demos' TIME-WAIT sockets share `client_port` (seen: five of them).
    let tw_states = |args: &[&str]| -> Vec<String> {
        json(args)
            .iter()
            .filter(|v| v["local_port"] == tw.client_port && v["peer_port"] == tw.port)
            .map(|v| v["state"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(states(&["-tn", "state", "listening"], lport), ["LISTEN"]);
    assert_eq!(states(&["-tn", "state", "LISTENING"], lport), ["LISTEN"]);
    assert_eq!(states(&["-tln"], lport), ["LISTEN"]);
    // Default: connected minus time-wait and syn-recv.
    assert!(tw_states(&["-tn"]).is_empty());
    assert!(states(&["-tn"], lport).is_empty());
    assert_eq!(tw_states(&["-tn", "state", "time-wait"]), ["TIME-WAIT"]);
    assert_eq!(tw_states(&["-tn", "state", "bucket"]), ["TIME-WAIT"]);
    assert!(tw_states(&["-tn", "state", "big"]).is_empty());
    assert_eq!(states(&["-tn", "state", "big"], lport), ["LISTEN"]);
    assert!(states(&["-tn", "state", "connected"], lport).is_empty());
    assert_eq!(tw_states(&["-tn", "state", "connected"]), ["TIME-WAIT"]);
    assert!(states(&["-tn", "state", "synchronized"], lport).is_empty());
    // Repeated states are a union; exclude starts from all.
    let both = [
        states(&["-tn", "state", "listening", "state", "time-wait"], lport),
        tw_states(&["-tn", "state", "listening", "state", "time-wait"]),
    ];
    assert_eq!(
        both,
        [vec!["LISTEN".to_string()], vec!["TIME-WAIT".to_string()]]
    );
    assert!(tw_states(&["-tn", "exclude", "time-wait"]).is_empty());
    assert_eq!(states(&["-tn", "exclude", "time-wait"], lport), ["LISTEN"]);
    assert_eq!(states(&["-tan"], lport), ["LISTEN"]);
    drop(listener);
}

#[test]
fn json_schema_every_key_and_type() {
    let pair = estab_unread(LO4, 3);
    let rows = json(&["-tanpoim"]);
    let server = mine(&rows, pair.client_port)
        .into_iter()
        .find(|v| v["local_port"] == pair.port)
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
    let l = mine(&rows, pair.port)
        .into_iter()
        .find(|v| v["state"] == "LISTEN")
        .expect("listener");
    assert_eq!(l["peer_port"], 0);
    assert_eq!(l["peer_addr"], "0.0.0.0");

    // Optional keys only when asked.
    let plain = json(&["-tn"]);
    let s = mine(&plain, pair.client_port)[0]
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
        .args(["dump", "-a"])
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
    let o = sockeye(&["dump", "-tlnH", "--source", "proc"]);
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
    let rows = json(&["-tn", "dport", "=", &expr]);
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
        "-tan", "--source", "proc", "(", "sport", "=", &expr, "or", "dport", "=", &expr, ")",
    ]);
    assert_eq!(via_proc.len(), 3, "{via_proc:?}");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("filter");
    std::fs::write(&file, format!("# a comment\ndport = {expr}\n")).expect("write");
    let from_file = json(&["-tn", "-F", &file.to_string_lossy()]);
    assert_eq!(from_file.len(), rows.len(), "{from_file:?}");

    let bad = sockeye(&["dump", "-tn", "dport", "=", ":80", "foo"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains('^'),
        "points at the bad word: {}",
        stderr(&bad)
    );
}
