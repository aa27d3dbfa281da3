//! Each scenario, started alone with `sockeye demo --headless`, shows its phenomenon in ss.

use crate::demo::support::{DemoProc, eventually, eventually_both, show, ss, tcp_ext};

#[test]
fn backlog_fills_the_accept_queue_and_leaves_one_client_in_syn_sent() {
    let before = tcp_ext("ListenOverflows");
    let demo = DemoProc::start(&["backlog"]);
    let p = demo.port("backlog");
    eventually_both(
        15,
        "LISTEN 2 1, one SYN-SENT client, 3 server-side ESTAB",
        p,
        |rows| {
            let Some(listener) = rows.iter().find(|r| r.state == "LISTEN") else {
                return false;
            };
            let syn_sent = rows
                .iter()
                .filter(|r| r.state == "SYN-SENT" && r.peer_port == p)
                .count();
            let server_estab = rows
                .iter()
                .filter(|r| r.state == "ESTAB" && r.local_port == p)
                .count();
            let client_estab = rows
                .iter()
                .filter(|r| r.state == "ESTAB" && r.peer_port == p)
                .count();
            listener.recv_q == 2
                && listener.send_q == 1
                && syn_sent == 1
                && server_estab == 3
                && client_estab == 3
        },
    );
    // The kernel drops the SYN-SENT client's SYNs (first retransmit after 1 s).
    if let Some(before) = before {
        eventually(
            10,
            "ListenOverflows to rise",
            || (tcp_ext("ListenOverflows")? > before).then_some(()),
            || format!("{:?}", tcp_ext("ListenOverflows")),
        );
    }
    // The seed's step 5: a queued client says hello!\r\n; an un-accepted socket holds it.
    let reply = demo.request(r#"{"cmd":"send","scenario":"backlog"}"#);
    assert_eq!(reply["ok"], true, "{reply}");
    eventually_both(10, "Recv-Q 8 on a server-side socket", p, |rows| {
        rows.iter()
            .any(|r| r.state == "ESTAB" && r.local_port == p && r.recv_q == 8)
    });
}

#[test]
fn unread_shows_recv_q_8() {
    let demo = DemoProc::start(&["unread"]);
    let p = demo.port("unread");
    eventually_both(10, "server ESTAB with Recv-Q 8", p, |rows| {
        rows.iter()
            .any(|r| r.state == "ESTAB" && r.local_port == p && r.recv_q == 8)
    });
    // A second hello doubles it.
    let reply = demo.request(r#"{"cmd":"send","scenario":"unread"}"#);
    assert_eq!(reply["ok"], true, "{reply}");
    eventually(
        10,
        "Recv-Q 16 after a second hello",
        || {
            ss(p)
                .iter()
                .any(|r| r.state == "ESTAB" && r.local_port == p && r.recv_q == 16)
                .then_some(())
        },
        || show(p),
    );
}

#[test]
fn close_wait_leaks_server_sockets_and_clients_wait_in_fin_wait_2() {
    let demo = DemoProc::start(&["close-wait"]);
    let p = demo.port("close-wait");
    eventually_both(
        15,
        "2 CLOSE-WAIT on the server, FIN-WAIT-2 on the clients",
        p,
        |rows| {
            let cw = rows
                .iter()
                .filter(|r| r.state == "CLOSE-WAIT" && r.local_port == p)
                .count();
            let fw2 = rows
                .iter()
                .filter(|r| r.state == "FIN-WAIT-2" && r.peer_port == p)
                .count();
            cw >= 2 && fw2 >= 1
        },
    );
    // Faster trickle: the leak grows.
    let reply = demo.request(r#"{"cmd":"rate","scenario":"close-wait","per_sec":2}"#);
    assert_eq!(reply["ok"], true, "{reply}");
    eventually(
        15,
        "at least 5 CLOSE-WAIT",
        || {
            (ss(p)
                .iter()
                .filter(|r| r.state == "CLOSE-WAIT" && r.local_port == p)
                .count()
                >= 5)
                .then_some(())
        },
        || show(p),
    );
}

#[test]
fn time_wait_climbs_at_the_configured_rate() {
    // Few sockets on purpose: TIME-WAIT outlives the test by 60 s on a shared machine.
    let started = std::time::Instant::now();
    let demo = DemoProc::start(&["time-wait", "--rate", "20"]);
    let p = demo.port("time-wait");
    let tw = |rows: &[crate::demo::support::Row]| {
        rows.iter()
            .filter(|r| r.state == "TIME-WAIT" && r.peer_port == p)
            .count()
    };
    let n = eventually(
        15,
        "at least 15 client-side TIME-WAIT",
        || {
            let n = tw(&ss(p));
            (n >= 15).then_some(n)
        },
        || show(p),
    );
    // Stop the churn: what is there stays for 60 s.
    let r = demo.request(r#"{"cmd":"rate","scenario":"time-wait","per_sec":0}"#);
    assert_eq!(r["ok"], true, "{r}");
    // Bounded: at 20/s the count cannot exceed what the elapsed time allows (plus slack).
    let max = (started.elapsed().as_secs_f64() + 1.0) * 20.0 * 1.2;
    assert!(
        (n as f64) <= max,
        "{n} TIME-WAIT after {:?}",
        started.elapsed()
    );
    eventually_both(10, "at least 15 client-side TIME-WAIT", p, |rows| {
        tw(rows) >= 15
    });
    // No TIME-WAIT on the server side: the clients close first.
    assert!(
        !ss(p)
            .iter()
            .any(|r| r.state == "TIME-WAIT" && r.local_port == p),
        "{}",
        show(p)
    );
    // With the rate at 0 the count no longer grows.
    let settled = tw(&ss(p));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(tw(&ss(p)) <= settled, "{}", show(p));
}

#[test]
fn send_q_builds_up_on_the_server_and_recv_q_on_the_client() {
    let demo = DemoProc::start(&["send-q"]);
    let p = demo.port("send-q");
    eventually_both(
        15,
        "server Send-Q > 64 KiB and client Recv-Q > 32 KiB",
        p,
        |rows| {
            let server = rows
                .iter()
                .find(|r| r.state == "ESTAB" && r.local_port == p);
            let client = rows.iter().find(|r| r.state == "ESTAB" && r.peer_port == p);
            matches!((server, client), (Some(s), Some(c)) if s.send_q > 64 * 1024 && c.recv_q > 32 * 1024)
        },
    );
}

#[test]
fn echo_is_a_healthy_baseline() {
    let demo = DemoProc::start(&["echo"]);
    let p = demo.port("echo");
    eventually_both(
        10,
        "3 client ESTAB, 3 server ESTAB, listener 0/128",
        p,
        |rows| {
            let client = rows
                .iter()
                .filter(|r| r.state == "ESTAB" && r.peer_port == p)
                .count();
            let server = rows
                .iter()
                .filter(|r| r.state == "ESTAB" && r.local_port == p)
                .count();
            let listener = rows
                .iter()
                .any(|r| r.state == "LISTEN" && r.recv_q == 0 && r.send_q == 128);
            client == 3 && server == 3 && listener
        },
    );
    // Clients come and go: a replacement leaves a client-side TIME-WAIT within a few seconds.
    eventually(
        10,
        "a client-side TIME-WAIT from churn",
        || {
            ss(p)
                .iter()
                .any(|r| r.state == "TIME-WAIT" && r.peer_port == p)
                .then_some(())
        },
        || show(p),
    );
}

#[test]
fn port_base_gives_consecutive_ports() {
    // A block below the ephemeral range (32768+ here), where other tests' client sockets do
    // not land; checked free just before, and retried elsewhere if someone takes it meanwhile.
    let pid = std::process::id();
    for attempt in 0..10u32 {
        let base = 20000 + ((pid.wrapping_mul(7919) + attempt * 997) % 10000) as u16;
        let free = (0..2).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
        if !free {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        match DemoProc::try_start_in(&["unread", "echo", "--port", &base.to_string()], dir) {
            Ok(demo) => {
                assert_eq!(demo.port("unread"), base);
                assert_eq!(demo.port("echo"), base + 1);
                return;
            }
            Err(e) if e.contains("cannot start scenario") => continue,
            Err(e) => panic!("{e}"),
        }
    }
    panic!("no free block of two ports in 10 attempts");
}

#[test]
fn ipv6_loopback_works_too() {
    if !crate::common::require(
        std::net::TcpListener::bind("[::1]:0").is_ok(),
        "no IPv6 loopback",
    ) {
        return;
    }
    let demo = DemoProc::start(&["unread", "--bind", "::1"]);
    let p = demo.port("unread");
    eventually_both(10, "server ESTAB with Recv-Q 8 on ::1", p, |rows| {
        rows.iter()
            .any(|r| r.state == "ESTAB" && r.local_port == p && r.recv_q == 8)
    });
}
