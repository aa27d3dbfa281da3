//! Conformance against ss: the test builds the classic socket situations on loopback, then
//! compares `sockeye dump --json` with `ss -tuxanoeH` on exactly those sockets, field by
//! field, for both sources. With `--source proc` what /proc cannot know (a listener's
//! backlog limit, unix queues and peers, cookies) must be null — never 0.
//!
//! As root the test runs in a private network namespace, so the table is its alone (and the
//! dual-stack listener on `::` is reachable from nowhere). Otherwise it works on the shared
//! loopback, looks only at its own ports and paths, and skips the dual-stack case.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

use crate::common::*;
use serde_json::Value;

fn sockeye_json(source: &str, args: &[String]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["dump", "--json", "-q", "--source", source])
        .args(args)
        .output()
        .expect("run sockeye");
    assert!(
        out.status.success(),
        "sockeye --source {source} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("sockeye prints valid JSON");
    v.as_array().expect("a JSON array").clone()
}

/// Our inet sockets (by port) and every unix socket, read in two dumps so a machine full of
/// other sockets does not make the test slow.
fn sockeye_ours(source: &str, ports: &HashSet<u64>) -> Vec<Value> {
    let mut words = vec!["-tuaoe".to_string()];
    words.extend(crate::common::port_filter(ports));
    let mut v = sockeye_json(source, &words);
    v.extend(sockeye_json(source, &["-xaoe".to_string()]));
    v
}

/// The identity of a socket: inet by its 4-tuple, unix by its inode.
fn ss_key(r: &SsRow) -> String {
    if r.netid.starts_with("u_") {
        format!("{} {}", r.netid, r.local_port)
    } else {
        let norm = |a: &str| {
            if a == "*" {
                "::".to_string()
            } else {
                a.to_string()
            }
        };
        format!(
            "{} {}:{} {}:{}",
            r.netid,
            norm(&r.local_addr),
            r.local_port,
            norm(&r.peer_addr),
            r.peer_port
        )
    }
}

fn json_key(v: &Value) -> String {
    let netid = v["netid"].as_str().unwrap_or("?");
    if netid.starts_with("u_") {
        format!("{netid} {}", v["inode"])
    } else {
        format!(
            "{netid} {}:{} {}:{}",
            v["local_addr"].as_str().unwrap_or("?"),
            v["local_port"],
            v["peer_addr"].as_str().unwrap_or("?"),
            v["peer_port"]
        )
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
}

#[test]
fn dump_json_matches_ss_for_both_sources() {
    let private = enter_private_netns();
    // Not root: compare on the shared loopback by port, without the dual-stack case.
    crate::common::require(private, "the dual-stack case needs root (a private netns)");
    let dir = tempfile::tempdir().expect("tempdir");

    let backlog = backlog_overflow(LO4);
    let unread = estab_unread(LO4, 8);
    let cw_empty = close_wait(LO4, 0);
    let cw_data = close_wait(LO4, 5);
    let sendq = send_q_buildup(LO4);
    let tw = time_wait(LO4);
    let v6 = tcp_pair(SocketAddr::new(LO6, 0), None, Some(true));
    let dual = private.then(dual_stack);
    let udp = udp(LO4);
    let ux = unix_streams(dir.path());
    let (_dg_path, dgram) = unix_dgram(dir.path());

    // Let queues settle (Send-Q build-up, FINs) before the two readings: until two ss
    // readings in a row agree.
    let mut args = vec!["-tanH".to_string()];
    args.extend(crate::common::port_filter([
        sendq.port,
        cw_empty.port,
        cw_data.port,
        tw.port,
        unread.port,
    ]));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut last = Vec::new();
    let settled = crate::common::wait_until(Duration::from_secs(5), || {
        let now = crate::common::ss(&args);
        std::mem::replace(&mut last, now) == last
    });
    assert!(
        settled,
        "the socket table never settled:\n{}",
        last.join("\n")
    );

    let mut ports: HashSet<u64> = [
        backlog.port,
        backlog.syn_sent_port,
        unread.port,
        unread.client_port,
        cw_empty.port,
        cw_empty.client_port,
        cw_data.port,
        cw_data.client_port,
        sendq.port,
        sendq.client_port,
        tw.port,
        tw.client_port,
        v6.port,
        v6.client_port,
        udp.bound_port,
        udp.connected_port,
    ]
    .into_iter()
    .map(u64::from)
    .collect();
    if let Some(d) = &dual {
        ports.insert(d.port.into());
        ports.insert(d.client_port.into());
    }
    let dir_str = dir.path().to_string_lossy().to_string();
    let my_unix: HashSet<u64> = [
        ux.listener.as_raw_fd(),
        ux.accepted.as_raw_fd(),
        ux.accepted_client.as_raw_fd(),
        ux.pending_client.as_raw_fd(),
        dgram.as_raw_fd(),
    ]
    .into_iter()
    .map(inode_of)
    .collect();

    let rows = parse_ss(&ss(&["-tuxanoeH"]));
    let mine: Vec<&SsRow> = rows
        .iter()
        .filter(|r| {
            if r.netid.starts_with("u_") {
                r.local_addr.starts_with(&dir_str)
                    || my_unix.contains(&r.local_port)
                    || my_unix.contains(&r.peer_port)
            } else {
                ports.contains(&r.local_port) || ports.contains(&r.peer_port)
            }
        })
        .collect();

    // The situations are really there (ss's view).
    let has = |state: &str, pred: &dyn Fn(&SsRow) -> bool| {
        mine.iter().any(|r| r.state == state && pred(r))
    };
    assert!(has("LISTEN", &|r| r.local_port == u64::from(backlog.port)
        && r.recv_q == 2
        && r.send_q == 1));
    assert!(has("SYN-SENT", &|r| r.local_port
        == u64::from(backlog.syn_sent_port)));
    assert!(has("ESTAB", &|r| r.peer_port
        == u64::from(unread.client_port)
        && r.recv_q == 8));
    assert!(has("CLOSE-WAIT", &|r| r.peer_port
        == u64::from(cw_empty.client_port)
        && r.recv_q == 1));
    assert!(has("CLOSE-WAIT", &|r| r.peer_port
        == u64::from(cw_data.client_port)
        && r.recv_q == 6));
    assert!(has("FIN-WAIT-2", &|r| r.local_port
        == u64::from(cw_empty.client_port)));
    assert!(has("ESTAB", &|r| r.peer_port
        == u64::from(sendq.client_port)
        && r.send_q > 0));
    assert!(has("TIME-WAIT", &|r| r.local_port == u64::from(tw.client_port)));
    assert!(has("ESTAB", &|r| r.local_addr == "::1"));
    if let Some(d) = &dual {
        assert!(has("LISTEN", &|r| r.local_port == u64::from(d.port)
            && r.local_addr == "*"));
        assert!(has("ESTAB", &|r| r.local_port == u64::from(d.port)
            && r.local_addr == "::ffff:127.0.0.1"));
    }
    assert!(has("UNCONN", &|r| r.netid == "udp"
        && r.local_port == u64::from(udp.bound_port)));
    assert!(has("ESTAB", &|r| r.netid == "udp"
        && r.local_port == u64::from(udp.connected_port)));
    assert!(has("LISTEN", &|r| r.netid == "u_str"
        && r.local_addr.ends_with("stream.sock")));
    assert!(has("UNCONN", &|r| r.netid == "u_dgr"));

    for source in ["netlink", "proc"] {
        let json = sockeye_ours(source, &ports);
        let by_key: HashMap<String, &Value> = json.iter().map(|v| (json_key(v), v)).collect();
        for r in &mine {
            let key = ss_key(r);
            let v = by_key
                .get(&key)
                .unwrap_or_else(|| panic!("--source {source}: sockeye lacks {key} ({r:?})"));
            compare(source, r, v);
        }
        // And nothing of ours that ss does not show.
        let ss_keys: HashSet<String> = mine.iter().map(|r| ss_key(r)).collect();
        for v in &json {
            let netid = v["netid"].as_str().unwrap_or("");
            let ours = if netid.starts_with("u_") {
                v["path"].as_str().is_some_and(|p| p.starts_with(&dir_str))
                    || v["inode"].as_u64().is_some_and(|i| my_unix.contains(&i))
            } else {
                v["local_port"].as_u64().is_some_and(|p| ports.contains(&p))
                    || v["peer_port"].as_u64().is_some_and(|p| ports.contains(&p))
            };
            // /proc/net/unix also lists connections still waiting in a listener's queue
            // (inode 0), which the netlink dump — and so ss — does not.
            let embryo = source == "proc" && netid.starts_with("u_") && v["inode"] == 0;
            if ours && !embryo {
                assert!(
                    ss_keys.contains(&json_key(v)),
                    "--source {source}: sockeye shows {} that ss does not",
                    json_key(v)
                );
            }
        }
    }
    drop((
        backlog, unread, cw_empty, cw_data, sendq, v6, dual, udp, ux, dgram,
    ));
}

fn compare(source: &str, r: &SsRow, v: &Value) {
    let ctx = format!("--source {source}, {}", ss_key(r));
    let proc_src = source == "proc";
    let unix = r.netid.starts_with("u_");
    assert_eq!(v["state"], r.state.as_str(), "{ctx}: state");
    assert_eq!(v["source"], source, "{ctx}: source");

    // Queues: /proc cannot know a listener's backlog limit nor any unix queue.
    let unknown_send = proc_src && (unix || r.state == "LISTEN");
    let unknown_recv = proc_src && unix;
    if unknown_recv {
        assert!(
            v["recv_q"].is_null(),
            "{ctx}: recv_q must be null, got {}",
            v["recv_q"]
        );
    } else {
        assert_eq!(as_u64(&v["recv_q"]), Some(r.recv_q), "{ctx}: recv_q");
    }
    if unknown_send {
        assert!(
            v["send_q"].is_null(),
            "{ctx}: send_q must be null, got {}",
            v["send_q"]
        );
    } else {
        assert_eq!(as_u64(&v["send_q"]), Some(r.send_q), "{ctx}: send_q");
    }

    if unix {
        assert_eq!(as_u64(&v["inode"]), Some(r.local_port), "{ctx}: inode");
        let path = if r.local_addr == "*" {
            Value::Null
        } else {
            Value::from(r.local_addr.as_str())
        };
        assert_eq!(v["path"], path, "{ctx}: path");
        if proc_src {
            assert!(v["peer_inode"].is_null(), "{ctx}: peer_inode must be null");
        } else {
            assert_eq!(
                as_u64(&v["peer_inode"]),
                Some(r.peer_port),
                "{ctx}: peer_inode"
            );
        }
        assert!(
            v["local_addr"].is_null() && v["local_port"].is_null(),
            "{ctx}"
        );
    } else {
        assert_eq!(as_u64(&v["inode"]), r.inode, "{ctx}: inode");
        // ss prints uid only when it is not 0.
        assert_eq!(as_u64(&v["uid"]), Some(r.uid.unwrap_or(0)), "{ctx}: uid");
        match (proc_src, r.cookie) {
            (false, Some(c)) => assert_eq!(as_u64(&v["cookie"]), Some(c), "{ctx}: cookie"),
            (true, _) => assert!(
                v["cookie"].is_null() || as_u64(&v["cookie"]) == r.cookie,
                "{ctx}: cookie"
            ),
            _ => {}
        }
        match &r.timer {
            Some(kind) if kind != "off" => {
                assert_eq!(v["timer"]["kind"], kind.as_str(), "{ctx}: timer kind")
            }
            _ => assert!(
                v["timer"].is_null(),
                "{ctx}: no timer expected, got {}",
                v["timer"]
            ),
        }
        if r.peer_port == 0 {
            assert_eq!(as_u64(&v["peer_port"]), Some(0), "{ctx}: no peer is port 0");
        }
        let addr: Option<IpAddr> = v["local_addr"].as_str().and_then(|a| a.parse().ok());
        assert!(addr.is_some(), "{ctx}: local_addr is a plain address");
    }
}
