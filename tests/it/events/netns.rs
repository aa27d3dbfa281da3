//! `dump -E -N NAME` and `dump -E --all-netns`: one subscription per namespace; events of a
//! namespace the test makes arrive with its name. Needs root (ip netns add, setns).

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::follow::Follower;
use crate::common::{require_root, require_tool};
use serde_json::Value;

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A named namespace in which a process opens and closes a connection to port 7 every
/// 50 ms; killed and deleted on drop.
struct Churn {
    name: String,
    child: Option<Child>,
}

impl Churn {
    fn start() -> Churn {
        let mut c = Churn::quiet();
        c.churn();
        c
    }

    /// The namespace alone, nothing closing in it yet.
    fn quiet() -> Churn {
        let name = format!(
            "sockeye-ev-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let ok = Command::new("ip").args(["netns", "add", &name]).status();
        assert!(ok.is_ok_and(|s| s.success()), "ip netns add {name}");
        let c = Churn { name, child: None };
        let up = Command::new("ip")
            .args(["-n", &c.name, "link", "set", "lo", "up"])
            .status();
        assert!(up.is_ok_and(|s| s.success()));
        c
    }

    fn churn(&mut self) {
        let c = self;
        let code = "import socket,time\n\
                    l=socket.socket(); l.bind(('127.0.0.1',7)); l.listen(8)\n\
                    while True:\n \
                    a=socket.create_connection(('127.0.0.1',7)); b,_=l.accept()\n \
                    a.close(); b.close(); time.sleep(0.05)";
        c.child = Some(
            Command::new("ip")
                .args(["netns", "exec", &c.name, "python3", "-c", code])
                .stdout(Stdio::null())
                .spawn()
                .expect("python3 in the namespace"),
        );
    }
}

/// `pid` has a sock_diag socket subscribed to a multicast group (its namespace's
/// /proc/PID/net/netlink: protocol 4, groups not 0).
fn subscribed(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/net/netlink")).is_ok_and(|t| {
        t.lines().skip(1).any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[1] == "4" && f[3] != "00000000"
        })
    })
}

#[test]
fn the_header_and_rows_match_ss_in_a_quiet_namespace() {
    if !available() || !require_tool("ss", "iproute2") || !require_tool("stdbuf", "coreutils") {
        return;
    }
    let mut ns = Churn::quiet();
    let exec = |args: &[&str]| {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &ns.name]).args(args);
        c
    };
    let mut ours = Follower::of(exec(&[
        env!("CARGO_BIN_EXE_sockeye"),
        "--no-config",
        "dump",
        "-E",
        "-tn",
    ]));
    let mut theirs = Follower::of(exec(&["stdbuf", "-oL", "ss", "-E", "-tn"]));
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while !(subscribed(ours.pid()) && subscribed(theirs.pid())) {
        assert!(
            std::time::Instant::now() < end,
            "the followers never subscribed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Both see the same messages from the first on: the same header and rows.
    ns.churn();
    let n = 4;
    let take = |f: &mut Follower| -> Vec<String> {
        let end = std::time::Instant::now() + Duration::from_secs(10);
        while f.seen_lines().len() < n && std::time::Instant::now() < end {
            let _ = f.wait_line(Duration::from_millis(100), |_| false);
        }
        f.seen_lines().into_iter().take(n).collect()
    };
    let a = take(&mut ours);
    let b = take(&mut theirs);
    assert_eq!(a.len(), n, "{a:?}");
    assert_eq!(a[0], b[0], "the header, byte for byte");
    let words = |l: &String| -> Vec<String> {
        l.split_whitespace()
            .filter(|w| !w.starts_with("ended:") && !w.starts_with("lifetime:"))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        a[1..].iter().map(words).collect::<Vec<_>>(),
        b[1..].iter().map(words).collect::<Vec<_>>()
    );
}

impl Drop for Churn {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn available() -> bool {
    require_root("ip netns add, setns")
        && require_tool("ip", "iproute2")
        && require_tool("python3", "python3")
}

#[test]
fn a_named_namespace_is_followed_and_labelled() {
    if !available() {
        return;
    }
    let ns = Churn::start();
    let mut f = Follower::spawn(
        &[],
        &["--no-config", "dump", "-E", "-N", &ns.name, "-tn", "--json"],
    );
    let line = f
        .wait_line(Duration::from_secs(10), |l| {
            serde_json::from_str::<Value>(l).is_ok_and(|v| v["local_port"] == 7)
        })
        .unwrap_or_else(|| panic!("no event from {}: {}", ns.name, f.stderr()));
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["netns"]["name"], ns.name.as_str(), "{v}");
    assert_eq!(v["ended"], "orderly", "{v}");
    // Only that namespace: nothing from this one (whose port 7 is not in use).
    for l in &f.seen_lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["netns"]["name"], ns.name.as_str(), "{l}");
    }
}

#[test]
fn every_namespace_with_a_netns_column() {
    if !available() {
        return;
    }
    let ns = Churn::start();
    let mut f = Follower::spawn(
        &[],
        &[
            "--no-config",
            "dump",
            "-E",
            "--all-netns",
            "-tn",
            "sport",
            "=",
            ":7",
        ],
    );
    let row = f
        .wait_line(Duration::from_secs(15), |l| l.starts_with(&ns.name))
        .unwrap_or_else(|| panic!("no row from {}: {}", ns.name, f.stderr()));
    assert!(row.contains("127.0.0.1:7 "), "{row}");
    let header = f.seen_lines().first().cloned().unwrap_or_default();
    assert!(header.starts_with("Netns "), "{header}");
}

/// Wait up to `within` for a batch from the live view's events thread holding a close on
/// port 7 tagged with namespace `name`.
fn closed_in(
    rx: &std::sync::mpsc::Receiver<sockeye::tui::events::ClosedReport>,
    name: &str,
    within: Duration,
) -> bool {
    use sockeye::model::Endpoint;
    use sockeye::tui::events::ClosedReport;
    let end = std::time::Instant::now() + within;
    while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(ClosedReport::Batch { events, .. }) => {
                let ours = events.iter().any(|(_, d)| {
                    let on7 = |e: &Endpoint| matches!(e, Endpoint::Inet { port: 7, .. });
                    d.socket.netns.as_ref().is_some_and(|t| t.label == name)
                        && (on7(&d.socket.local) || on7(&d.socket.peer))
                });
                if ours {
                    return true;
                }
            }
            Ok(ClosedReport::Namespaces { .. }) => {}
            Ok(ClosedReport::Unavailable(why)) => panic!("events unavailable: {why}"),
            Err(_) => return false,
        }
    }
    false
}

#[test]
fn the_live_views_events_thread_follows_every_namespace_and_new_ones() {
    if !available() {
        return;
    }
    // A namespace there when the thread starts, and one made after it started (picked up
    // at the next look for namespaces, every 5 s).
    let first = Churn::start();
    let (tx, rx) = std::sync::mpsc::channel();
    sockeye::tui::events::spawn(tx, |r| r, true);
    assert!(
        closed_in(&rx, &first.name, Duration::from_secs(10)),
        "no close from namespace {} reached the Closed view's events",
        first.name
    );
    let later = Churn::start();
    assert!(
        closed_in(&rx, &later.name, Duration::from_secs(20)),
        "namespace {} made after the start was never followed",
        later.name
    );
}
