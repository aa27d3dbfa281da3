//! SIGINT and SIGTERM end the demo cleanly: exit 0, no socket left on its ports (beyond the
//! kernel's TIME-WAIT, which no process owns), no control file.

use crate::demo::support::{DemoProc, eventually, ss};

fn stops_cleanly(sig: i32) {
    let mut demo = DemoProc::start(&["--rate", "2"]);
    // Every scenario with a port (unix has files; abort runs only as root).
    for name in [
        "backlog",
        "unread",
        "close-wait",
        "time-wait",
        "send-q",
        "echo",
        "states",
        "reuseaddr",
        "udp",
        "threads",
        "tour",
    ] {
        assert!(demo.ports.contains_key(name), "{name}: {:?}", demo.ports);
    }
    // Let every scenario get going.
    let p = demo.port("backlog");
    eventually(
        10,
        "backlog SYN-SENT",
        || ss(p).iter().any(|r| r.state == "SYN-SENT").then_some(()),
        || crate::demo::support::show(p),
    );
    let control = demo.control.clone();
    assert!(control.exists());
    let status = demo.signal(sig);
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(!control.exists(), "control socket left behind");
    for (name, port) in &demo.ports {
        let left: Vec<_> = ss(*port)
            .into_iter()
            .filter(|r| ["LISTEN", "ESTAB", "SYN-SENT", "CLOSE-WAIT"].contains(&r.state.as_str()))
            .collect();
        assert!(left.is_empty(), "{name}: {left:?}");
    }
}

#[test]
fn sigint_exits_zero_and_cleans_up() {
    stops_cleanly(libc::SIGINT);
}

#[test]
fn sigterm_exits_zero_and_cleans_up() {
    stops_cleanly(libc::SIGTERM);
}
