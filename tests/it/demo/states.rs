//! The `states` scenario: every TCP state ss can show, held on the scenario's ports, with ss
//! (and sockeye's own dump) as the oracle; the bound-inactive socket checked by the kernel's
//! refusal to bind its port again.

use std::net::SocketAddr;

use crate::demo::support::{DemoProc, Row, dump, eventually, ss};

const STATES: [&str; 10] = [
    "LISTEN",
    "SYN-SENT",
    "SYN-RECV",
    "ESTAB",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "CLOSE-WAIT",
    "LAST-ACK",
    "CLOSING",
    "TIME-WAIT",
];

/// The scenario's port and its extra ports, from status.
fn ports(demo: &DemoProc) -> (u16, Vec<u16>) {
    let status = demo.request(r#"{"cmd":"status"}"#);
    let s = status["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "states")
        .unwrap_or_else(|| panic!("no states in {status}"));
    let extra = s["extra_ports"]
        .as_array()
        .unwrap_or_else(|| panic!("no extra_ports in {s}"))
        .iter()
        .map(|p| p.as_u64().unwrap() as u16)
        .collect();
    (demo.port("states"), extra)
}

fn rows(listeners: &[u16], read: fn(u16) -> Vec<Row>) -> Vec<Row> {
    listeners.iter().flat_map(|p| read(*p)).collect()
}

fn missing(rows: &[Row]) -> Vec<&'static str> {
    STATES
        .iter()
        .copied()
        .filter(|st| !rows.iter().any(|r| r.state == *st))
        .collect()
}

fn every_state_within(secs: u64, listeners: &[u16], read: fn(u16) -> Vec<Row>, who: &str) {
    eventually(
        secs,
        &format!("every TCP state on the scenario's ports ({who})"),
        || missing(&rows(listeners, read)).is_empty().then_some(()),
        || {
            let r = rows(listeners, read);
            format!("missing {:?} in\n{r:#?}", missing(&r))
        },
    );
}

#[test]
fn states_holds_every_tcp_state_and_a_bound_inactive_socket() {
    let demo = DemoProc::start(&["states"]);
    let (p, extra) = ports(&demo);
    assert_eq!(extra.len(), 3, "{extra:?}");
    let listeners = [p, extra[0], extra[1]];
    every_state_within(15, &listeners, ss, "ss");
    every_state_within(15, &listeners, dump, "sockeye dump");
    // The states are where the recipes put them: the closing states on the server side.
    let r = rows(&[p], ss);
    for st in ["FIN-WAIT-1", "CLOSE-WAIT", "LAST-ACK", "CLOSING"] {
        assert!(
            r.iter().any(|r| r.state == st && r.local_port == p),
            "{st} on the server side: {r:#?}"
        );
    }
    assert!(
        r.iter().any(|r| r.state == "TIME-WAIT" && r.peer_port == p),
        "client-side TIME-WAIT: {r:#?}"
    );
    let sr = ss(extra[0]);
    assert!(
        sr.iter()
            .any(|r| r.state == "SYN-RECV" && r.local_port == extra[0]),
        "{sr:#?}"
    );
    let full = ss(extra[1]);
    assert!(
        full.iter()
            .any(|r| r.state == "LISTEN" && r.recv_q == 2 && r.send_q == 1),
        "full accept queue: {full:#?}"
    );
    // Bound-inactive: ss 6.1 cannot list it; the kernel refuses its port to a plain bind.
    let addr: SocketAddr = ([127, 0, 0, 1], extra[2]).into();
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let err = sock.bind(&addr.into()).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EADDRINUSE), "{err}");

    // Held steadily: still every state a while later.
    std::thread::sleep(std::time::Duration::from_secs(3));
    every_state_within(5, &listeners, ss, "ss, later");

    // Every socket is labelled with its calls.
    let list = demo.request(r#"{"cmd":"do","scenario":"states","action":"list"}"#);
    assert_eq!(list["ok"], true, "{list}");
    let text = list["message"].as_str().unwrap();
    for word in [
        "TCP_DEFER_ACCEPT",
        "SYN-SENT",
        "FIN-WAIT-1",
        "CLOSE-WAIT",
        "LAST-ACK",
        "CLOSING",
        "bound-inactive",
        "shutdown(SHUT_WR)",
    ] {
        assert!(text.contains(word), "{word} not in {text}");
    }

    // A reset tears everything down and puts every state back.
    let reply = demo.request(r#"{"cmd":"reset","scenario":"states"}"#);
    assert_eq!(reply["ok"], true, "{reply}");
    every_state_within(15, &listeners, ss, "ss, after reset");

    // Stopping resets the held connections: nothing is left but TIME-WAIT, which no process
    // owns (no orphan waits in FIN-WAIT-1 or LAST-ACK on a window that never opens).
    let mut demo = demo;
    let status = demo.signal(libc::SIGTERM);
    assert_eq!(status.code(), Some(0), "{status:?}");
    eventually(
        10,
        "only TIME-WAIT left on the scenario's ports",
        || {
            rows(&listeners, ss)
                .iter()
                .all(|r| r.state == "TIME-WAIT")
                .then_some(())
        },
        || format!("{:#?}", rows(&listeners, ss)),
    );
}
