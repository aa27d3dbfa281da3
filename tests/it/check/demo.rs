//! Each demo scenario produces its finding in `sockeye check` filtered to its port, and the
//! healthy echo scenario produces none (exit 0).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::port_filter;
use crate::demo::support::{BIN, DemoProc};

/// Run `check --json` over `port`'s sockets with `config` as the configuration file.
fn check(port: u16, config: &str, window: &str) -> (i32, serde_json::Value) {
    check_in("-t", port, config, window)
}

fn check_in(tables: &str, port: u16, config: &str, window: &str) -> (i32, serde_json::Value) {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("sockeye")).unwrap();
    std::fs::write(home.path().join("sockeye/config.toml"), config).unwrap();
    let out = Command::new(BIN)
        .args(["check", tables, "--json", "--window", window])
        .args(port_filter([port]))
        .env("XDG_CONFIG_HOME", home.path())
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

/// Check until `rule` is found on `port` (the demo's phenomenon takes a moment to build
/// up), or fail at the deadline with the last answer.
fn finds(scenario: &str, rule: &str, config: &str) -> (i32, serde_json::Value) {
    finds_in("-t", scenario, rule, config)
}

fn finds_in(tables: &str, scenario: &str, rule: &str, config: &str) -> (i32, serde_json::Value) {
    let demo = DemoProc::start(&[scenario]);
    let port = demo.port(scenario);
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (code, json) = check_in(tables, port, config, "1.5");
        let hit = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .cloned();
        if let Some(f) = hit {
            assert!(
                f["where"].as_str().unwrap().contains(&format!(":{port}")),
                "{f:#}"
            );
            assert!(!f["threshold"].as_str().unwrap().is_empty());
            filter_selects_its_place(&f, tables, port);
            return (code, f);
        }
        assert!(
            Instant::now() < deadline,
            "{scenario}: no {rule} finding; last: {json:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The finding's `filter` (when it has one), handed to `dump` while the scenario runs, lists
/// sockets of the scenario's port: the live view's findings panel applies it on Enter.
fn filter_selects_its_place(f: &serde_json::Value, tables: &str, port: u16) {
    let Some(filter) = f["filter"].as_str() else {
        assert!(f["filter"].is_null(), "{f:#}");
        return;
    };
    let out = Command::new(BIN)
        .args(["dump", tables, "-an"])
        .args(filter.split_whitespace())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{filter}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = format!(":{port} ");
    assert!(
        text.lines().skip(1).any(|l| l.contains(&want)),
        "{filter} selected nothing of port {port}:\n{text}"
    );
}

#[test]
fn close_wait_scenario_is_a_close_wait_leak() {
    let (code, f) = finds(
        "close-wait",
        "close-wait-leak",
        "[findings]\nclose_wait_min = 2\n",
    );
    assert_eq!(code, 1, "{f:#}");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["where"]
            .as_str()
            .unwrap()
            .starts_with("listener 127.0.0.1:")
    );
    assert!(
        f["threshold"]
            .as_str()
            .unwrap()
            .contains("close_wait_min = 2")
    );
}

#[test]
fn close_wait_scenario_clients_pile_up_in_fin_wait_2() {
    let (code, f) = finds(
        "close-wait",
        "fin-wait-2-pile-up",
        "[findings]\nfin_wait2_min = 2\nclose_wait_min = 2\n",
    );
    assert_eq!(code, 1, "{f:#}");
    assert!(
        f["where"]
            .as_str()
            .unwrap()
            .starts_with("toward 127.0.0.1:"),
        "{f:#}"
    );
}

#[test]
fn backlog_scenario_is_a_critical_accept_queue_overflow() {
    let (code, f) = finds("backlog", "accept-queue-overflow", "");
    assert_eq!(code, 2, "{f:#}");
    assert_eq!(f["severity"], "critical");
    let action = f["do"].as_str().unwrap();
    assert!(
        action.contains("listen() backlog (1) is the limit"),
        "{action}"
    );
}

#[test]
fn unread_scenario_is_a_stuck_receiver() {
    let (code, f) = finds("unread", "stuck-receiver", "");
    assert_eq!(code, 1, "{f:#}");
    assert!(
        f["evidence"][0].as_str().unwrap().contains("unread"),
        "{f:#}"
    );
}

#[test]
fn send_q_scenario_is_a_stuck_sender() {
    let (code, f) = finds("send-q", "stuck-sender", "");
    assert_eq!(code, 1, "{f:#}");
    assert!(f["why"].as_str().unwrap().contains("window"), "{f:#}");
}

#[test]
fn time_wait_scenario_is_port_pressure_with_the_threshold_lowered() {
    let (code, f) = finds(
        "time-wait",
        "port-exhaustion",
        "[findings]\nport_pressure_warn = 0.001\n",
    );
    assert_eq!(code, 1, "{f:#}");
    assert!(
        f["evidence"][0].as_str().unwrap().contains("TIME-WAIT"),
        "{f:#}"
    );
    assert!(!f["do"].as_str().unwrap().contains("tcp_tw_recycle=1"));
}

#[test]
fn udp_scenario_is_udp_receive_drops() {
    let (code, f) = finds_in("-u", "udp", "udp-receive-drops", "");
    assert!(code == 1 || code == 2, "{f:#}");
    assert!(
        f["evidence"][0].as_str().unwrap().contains("of buffer"),
        "{f:#}"
    );
}

#[test]
fn the_healthy_echo_scenario_finds_nothing() {
    let demo = DemoProc::start(&["echo"]);
    let port = demo.port("echo");
    let (code, json) = check(port, "", "2");
    assert_eq!(json["findings"], serde_json::json!([]), "{json:#}");
    assert_eq!(code, 0);
    assert!(
        json["sockets"].as_u64().unwrap() >= 1,
        "the listener at least: {json:#}"
    );
}
