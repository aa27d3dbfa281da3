//! The guided tour: `do tour next` walks one connection pair through every TCP transition;
//! after each step ss shows both ends in the states the reply names.

use std::time::{Duration, Instant};

use crate::demo::support::{DemoProc, eventually, ss};

/// `next`, retried while the step waits on the kernel (a SYN retransmission, an accept).
fn next(demo: &DemoProc) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = demo.request(r#"{"cmd":"do","scenario":"tour","action":"next"}"#);
        if reply["ok"] == true {
            return reply;
        }
        let err = reply["error"].as_str().unwrap_or_default().to_string();
        assert!(err.contains("press n again"), "{reply}");
        assert!(Instant::now() < deadline, "step never ready: {reply}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_tour_walks_one_pair_through_every_transition() {
    let demo = DemoProc::start(&["tour"]);
    let p = demo.port("tour");
    let mut seen: Vec<String> = Vec::new();
    let mut client_port = None;
    for _ in 0..10 {
        let reply = next(&demo);
        let st = demo.request(r#"{"cmd":"status"}"#);
        let focus = &st["scenarios"][0]["focus"];
        let want_client = focus["client_state"].as_str().unwrap().to_string();
        let want_server = focus["server_state"].as_str().unwrap().to_string();
        if let Some(c) = focus["client_port"].as_u64() {
            client_port = Some(c as u16);
        }
        let c = client_port.expect("a client port once the client exists");
        eventually(
            20,
            &format!("client {want_client}, server {want_server} ({reply})"),
            || {
                let rows = ss(p);
                let state = |local: u16, peer: u16| {
                    rows.iter()
                        .find(|r| r.local_port == local && r.peer_port == peer)
                        .map_or("CLOSED".to_string(), |r| r.state.clone())
                };
                let server = if want_server == "LISTEN" {
                    state(p, 0)
                } else {
                    state(p, c)
                };
                (state(c, p) == want_client && server == want_server).then_some(())
            },
            || format!("{:?}", ss(p)),
        );
        seen.push(want_client);
        seen.push(want_server);
    }
    for state in [
        "SYN-SENT",
        "SYN-RECV",
        "ESTAB",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "CLOSE-WAIT",
        "LAST-ACK",
        "TIME-WAIT",
        "CLOSING",
        "CLOSED",
    ] {
        assert!(
            seen.iter().any(|s| s == state),
            "{state} never shown: {seen:?}"
        );
    }
    // After the last step it starts over at LISTEN.
    let reply = next(&demo);
    assert!(
        reply["message"].as_str().unwrap().starts_with("step 1/11"),
        "{reply}"
    );
}
