//! The `threads` scenario: the same clients against a single-threaded server, a
//! thread-per-connection one and a poll one; ss shows the queue building only at the first.

use crate::demo::support::{DemoProc, eventually, ss};

#[test]
fn a_queue_builds_at_the_single_threaded_server_and_not_at_the_others() {
    let demo = DemoProc::start(&["threads"]);
    let single = demo.port("threads");
    let st = demo.request(r#"{"cmd":"status"}"#);
    let extra: Vec<u16> = st["scenarios"][0]["extra_ports"]
        .as_array()
        .unwrap_or_else(|| panic!("{st}"))
        .iter()
        .map(|p| p.as_u64().unwrap() as u16)
        .collect();
    assert_eq!(extra.len(), 2, "{st}");
    let listen_q = |port: u16| {
        ss(port)
            .into_iter()
            .find(|r| r.state == "LISTEN" && r.local_port == port)
            .map(|r| r.recv_q)
    };
    // Single-threaded: one served, the rest wait in the accept queue.
    eventually(
        20,
        "the single-threaded listener's Recv-Q to reach 2",
        || (listen_q(single)? >= 2).then_some(()),
        || format!("{:?}", ss(single)),
    );
    // Threads and poll serve every client at once: several server-side ESTAB, queue 0.
    for port in extra {
        eventually(
            20,
            "three or more served connections and an empty accept queue",
            || {
                let served = ss(port)
                    .iter()
                    .filter(|r| r.state == "ESTAB" && r.local_port == port)
                    .count();
                (served >= 3 && listen_q(port)? == 0).then_some(())
            },
            || format!("{:?}", ss(port)),
        );
    }
}
