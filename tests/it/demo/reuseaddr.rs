//! The `reuseaddr` scenario: TIME-WAIT on the server's own port, a plain bind() refused with
//! EADDRINUSE, a SO_REUSEADDR bind accepted; ss is the oracle for the sockets.

use crate::demo::support::{DemoProc, eventually, eventually_both, show, ss};

#[test]
fn reuseaddr_restart_fails_without_so_reuseaddr_and_succeeds_with_it() {
    let demo = DemoProc::start(&["reuseaddr"]);
    let p = demo.port("reuseaddr");
    eventually_both(15, "server-side TIME-WAIT on the port", p, |rows| {
        rows.iter()
            .any(|r| r.state == "TIME-WAIT" && r.local_port == p)
    });
    let reply = demo.request(r#"{"cmd":"do","scenario":"reuseaddr","action":"restart"}"#);
    assert_eq!(reply["ok"], true, "{reply}");
    let msg = reply["message"].as_str().unwrap();
    assert!(
        msg.contains("without SO_REUSEADDR: EADDRINUSE"),
        "plain bind not refused: {msg}"
    );
    assert!(msg.contains("with SO_REUSEADDR: bound"), "{msg}");
    // Listening again on the same port, beside the TIME-WAIT sockets, and serving.
    eventually(
        15,
        "LISTEN again, with TIME-WAIT on the port",
        || {
            let rows = ss(p);
            let listen = rows
                .iter()
                .any(|r| r.state == "LISTEN" && r.local_port == p);
            let tw = rows
                .iter()
                .any(|r| r.state == "TIME-WAIT" && r.local_port == p);
            (listen && tw).then_some(())
        },
        || show(p),
    );
    let before = demo.request(r#"{"cmd":"status"}"#)["scenarios"][0]["accepted_total"]
        .as_u64()
        .unwrap();
    eventually(
        15,
        "connections accepted after the restart",
        || {
            let now =
                demo.request(r#"{"cmd":"status"}"#)["scenarios"][0]["accepted_total"].as_u64()?;
            (now > before).then_some(())
        },
        || show(p),
    );
}
