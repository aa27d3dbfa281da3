//! Output that spans namespaces: totals over every namespace, processes' pids inside their
//! own pid namespace, the `netns` filter keyword. Needs root; skips with a line otherwise.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Stdio};

use super::dump::{TestNs, available, sockeye, stdout};
use crate::common::require_tool;

/// Killed (with its children: `unshare --kill-child`) even if an assertion fails.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = stdout(&sockeye(args));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn summary_totals_every_namespace() {
    if !available() {
        return;
    }
    let a = TestNs::with_listener();
    let b = TestNs::with_listener();
    let v = json(&["--all-netns", "-s", "--json"]);
    let parts = v["namespaces"].as_array().unwrap();
    for ns in [&a, &b] {
        let part = parts
            .iter()
            .find(|p| p["netns"]["inode"] == ns.inode())
            .unwrap_or_else(|| panic!("{} in {v}", ns.name));
        assert_eq!(part["netns"]["name"], ns.name.as_str());
        assert_eq!(part["summary"]["tcp_states"]["LISTEN"], 1, "{part}");
    }
    let sum = |key: &str| -> u64 {
        parts
            .iter()
            .map(|p| p["summary"][key].as_u64().unwrap())
            .sum()
    };
    assert_eq!(v["total"]["tcp_sockets"].as_u64(), Some(sum("tcp_sockets")));
    assert_eq!(v["total"]["time_wait"].as_u64(), Some(sum("time_wait")));
    let listen: u64 = parts
        .iter()
        .map(|p| p["summary"]["tcp_states"]["LISTEN"].as_u64().unwrap())
        .sum();
    assert_eq!(v["total"]["tcp_states"]["LISTEN"].as_u64(), Some(listen));
    // A per-namespace limit has no total.
    assert!(v["total"]["tcp_max_tw_buckets"].is_null());

    let text = stdout(&sockeye(&["--all-netns", "-s"]));
    // Other tests make and remove namespaces meanwhile: the count is at least ours.
    let counted = text
        .lines()
        .find_map(|l| l.strip_prefix("All ")?.strip_suffix(" network namespaces:"))
        .and_then(|n| n.parse::<usize>().ok());
    assert!(counted.is_some_and(|n| n >= 2), "{text}");
    assert!(text.contains(&format!("Netns {} (net:[{}]):", a.name, a.inode())));
}

/// A process in its own pid and network namespace (`unshare -n -p -f`): its socket is found
/// in that namespace, attributed by the one process scan, with the pid it has inside (1).
#[test]
fn processes_carry_their_pid_inside_their_pid_namespace() {
    if !available() || !require_tool("unshare", "util-linux") {
        return;
    }
    let code = "import socket,sys\n\
                s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(2)\n\
                print(s.getsockname()[1], flush=True); sys.stdin.read()";
    let mut child = Command::new("unshare")
        .args(["-n", "-p", "-f", "--kill-child", "python3", "-c", code])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _holder = Kill(child);
    let port: u16 = line.trim().parse().expect("the holder prints its port");
    let v = json(&["--all-netns", "-tlnp", "--json"]);
    let s = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local_port"] == port)
        .unwrap_or_else(|| panic!("port {port}: {v}"));
    let p = &s["processes"][0];
    assert_eq!(p["command"], "python3", "{s}");
    assert_eq!(p["nspid"], 1, "{s}");
    let pid = p["pid"].as_u64().unwrap();
    assert_ne!(pid, 1);
    let inode = std::fs::metadata(format!("/proc/{pid}/ns/net"))
        .unwrap()
        .ino();
    assert_eq!(s["netns"]["inode"], inode);
    // A process in the host's pid namespace has no nspid key.
    let here = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let here_port = here.local_addr().unwrap().port();
    let v = json(&["--all-netns", "-tlnp", "--json"]);
    let mine = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local_port"] == here_port)
        .unwrap_or_else(|| panic!("port {here_port}: {v}"));
    assert_eq!(mine["processes"][0]["pid"], std::process::id());
    assert!(mine["processes"][0].get("nspid").is_none(), "{mine}");
}

#[test]
fn the_netns_keyword_selects_namespaces_by_name_and_glob() {
    if !available() {
        return;
    }
    let a = TestNs::with_listener();
    let b = TestNs::with_listener();
    let ports = |v: &serde_json::Value| -> Vec<(u64, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let name = s["netns"]["name"].as_str().unwrap_or("").to_string();
                (s["local_port"].as_u64().unwrap(), name)
            })
            .collect()
    };
    let only_a = ports(&json(&[
        "--all-netns",
        "-tln",
        "--json",
        "netns",
        "=",
        &a.name,
    ]));
    assert_eq!(only_a, vec![(u64::from(a.port), a.name.clone())]);
    // A glob over both names (they share the test's prefix).
    let prefix = format!("{}*", &a.name[..a.name.rfind('-').unwrap()]);
    let both = ports(&json(&[
        "--all-netns",
        "-tln",
        "--json",
        "netns",
        "=",
        &prefix,
    ]));
    assert!(
        both.contains(&(u64::from(a.port), a.name.clone())),
        "{both:?}"
    );
    assert!(
        both.contains(&(u64::from(b.port), b.name.clone())),
        "{both:?}"
    );
    // != keeps everything else, the host's own listeners included.
    let here = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let here_port = u64::from(here.local_addr().unwrap().port());
    let not_a = ports(&json(&[
        "--all-netns",
        "-tln",
        "--json",
        "netns",
        "!=",
        &a.name,
    ]));
    assert!(!not_a.iter().any(|(_, n)| *n == a.name), "{not_a:?}");
    assert!(not_a.iter().any(|(p, _)| *p == here_port), "{not_a:?}");
    // With -N the one namespace carries its name too; the table has no Netns column.
    let one = stdout(&sockeye(&["-N", &b.name, "-tln", "netns", "=", &b.name]));
    assert!(one.contains(&format!("127.0.0.1:{}", b.port)), "{one}");
    let none = stdout(&sockeye(&["-N", &b.name, "-tln", "netns", "=", &a.name]));
    assert_eq!(none.lines().count(), 1, "header only: {none}");
    // --explain says it is a userspace-only extension.
    let ex = stdout(&sockeye(&[
        "--all-netns",
        "-tln",
        "--explain",
        "netns",
        "=",
        "x",
    ]));
    assert!(ex.contains("sockeye extension"), "{ex}");
}

/// What cannot span namespaces yet is refused, not silently read from this one (`-E` can:
/// tests/it/events/netns.rs).
#[test]
fn kill_and_recordings_refuse_namespaces() {
    for args in [
        &["-N", "pid:1", "-K", "--dry-run", "sport", "=", ":1"][..],
        &["--all-netns", "--from", "/nonexistent"],
    ] {
        let o = sockeye(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("not supported yet"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
