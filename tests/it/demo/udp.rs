//! The `udp` scenario: a server that does not read; ss shows its Recv-Q at the receive
//! buffer, /proc/net/snmp shows Udp RcvbufErrors and InErrors rising; resume drains it.

use std::process::Command;

use crate::demo::support::{DemoProc, eventually};

/// The server socket's Recv-Q as `ss -uan` shows it.
fn udp_recv_q(port: u16) -> Option<u64> {
    let out = Command::new("ss")
        .args(["-uanH", &format!("sport = :{port}")])
        .output()
        .expect("run ss");
    assert!(out.status.success(), "ss failed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // The demo's own socket only: another test's [::1] socket may have the same port number.
    let local = format!("127.0.0.1:{port}");
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(3) == Some(&local.as_str()))
        .and_then(|f| f.get(1)?.parse().ok())
}

/// A counter of the `Udp:` lines of /proc/net/snmp.
fn udp_counter(name: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/net/snmp").unwrap();
    let mut lines = text.lines().filter(|l| l.starts_with("Udp:"));
    let head = lines.next().unwrap();
    let vals = lines.next().unwrap();
    let i = head.split_whitespace().position(|h| h == name).unwrap();
    vals.split_whitespace().nth(i).unwrap().parse().unwrap()
}

#[test]
fn udp_server_that_stops_reading_fills_recv_q_then_drops_and_resume_drains() {
    let rcvbuf_before = udp_counter("RcvbufErrors");
    let in_errors_before = udp_counter("InErrors");
    let demo = DemoProc::start(&["udp"]);
    let p = demo.port("udp");
    // Full: Recv-Q well above one datagram's memory and steady, while drops are counted.
    eventually(
        15,
        "UDP Recv-Q to climb",
        || (udp_recv_q(p)? >= 4096).then_some(()),
        || format!("Recv-Q {:?}", udp_recv_q(p)),
    );
    eventually(
        15,
        "Udp RcvbufErrors and InErrors to rise",
        || {
            (udp_counter("RcvbufErrors") > rcvbuf_before
                && udp_counter("InErrors") > in_errors_before)
                .then_some(())
        },
        || {
            format!(
                "RcvbufErrors {} -> {}, InErrors {} -> {}",
                rcvbuf_before,
                udp_counter("RcvbufErrors"),
                in_errors_before,
                udp_counter("InErrors")
            )
        },
    );
    // Dropping: the queue is at the buffer and stays there while more datagrams are dropped.
    let full = udp_recv_q(p).unwrap();
    let drops = udp_counter("RcvbufErrors");
    eventually(
        15,
        "more drops",
        || (udp_counter("RcvbufErrors") > drops).then_some(()),
        || format!("RcvbufErrors {drops}"),
    );
    let later = udp_recv_q(p).unwrap();
    assert_eq!(later, full, "Recv-Q {full} then {later} while dropping");
    let reply = demo.request(r#"{"cmd":"resume","scenario":"udp"}"#);
    assert_eq!(reply["ok"], true, "{reply}");
    eventually(
        15,
        "Recv-Q to drain after resume",
        || (udp_recv_q(p)? == 0).then_some(()),
        || format!("Recv-Q {:?}", udp_recv_q(p)),
    );
    let st = demo.request(r#"{"cmd":"status"}"#);
    assert!(
        st["scenarios"][0]["accepted_total"].as_u64().unwrap() > 0,
        "{st}"
    );
    // Pause again: it fills up again.
    let reply = demo.request(r#"{"cmd":"pause","scenario":"udp"}"#);
    assert_eq!(reply["ok"], true, "{reply}");
    eventually(
        15,
        "UDP Recv-Q to fill again",
        || (udp_recv_q(p)? >= 4096).then_some(()),
        || format!("Recv-Q {:?}", udp_recv_q(p)),
    );
}
