//! The monitoring assets (scrape config, alert rules, Grafana dashboard) only name metrics the
//! exporter really emits, and the alert rules fire when they should (`promtool test rules`).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::SystemTime;

use crate::export::common::parse;
use sockeye::export::metrics::{ScrapeInfo, render};
use sockeye::model::{
    Endpoint, KernelCounters, Netid, ProcessRef, Snapshot, Socket, Source, TcpState,
};

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(assets().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every metric family a full snapshot produces, with the names samples are written under.
fn exported_names() -> BTreeSet<String> {
    let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mk = |state, port| Socket {
        recv_q: Some(1),
        send_q: Some(5),
        inode: 1,
        uid: Some(0),
        processes: vec![ProcessRef {
            command: Arc::from("srv"),
            pid: 1,
            fd: 3,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        }]
        .into(),
        ..Socket::new(
            Netid::Tcp,
            state,
            Endpoint::Inet { addr: lo, port },
            Endpoint::Inet {
                addr: lo,
                port: 40000,
            },
        )
    };
    let snap = Snapshot {
        taken_at: SystemTime::now(),
        source: Source::Netlink,
        fallback_reason: None,
        sockets: vec![
            mk(TcpState::Listen, 80),
            mk(TcpState::SynRecv, 80),
            mk(TcpState::CloseWait, 80),
            mk(TcpState::TimeWait, 80),
        ],
        counters: Some(KernelCounters {
            listen_overflows: Some(1),
            listen_drops: Some(1),
            retrans_segs: Some(1),
            tcp_max_tw_buckets: Some(1),
            somaxconn: Some(1),
            ip_local_port_range: Some((1, 2)),
            ..KernelCounters::default()
        }),
        warnings: Vec::new(),
        skipped_records: 0,
        process_note: None,
        netns: None,
    };
    let exp = parse(&render(&snap, &ScrapeInfo::default(), 5)).unwrap();
    exp.samples.into_iter().map(|s| s.name).collect()
}

/// `sockeye_…` identifiers in a text.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("sockeye_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

#[test]
fn assets_name_only_exported_metrics() {
    let exported = exported_names();
    for name in ["alerts.yml", "grafana-dashboard.json"] {
        let used = referenced(&read(name));
        assert!(used.len() >= 5, "{name} uses few metrics: {used:?}");
        let unknown: Vec<_> = used.difference(&exported).collect();
        assert!(
            unknown.is_empty(),
            "{name} names metrics sockeye does not export: {unknown:?}"
        );
    }
}

#[test]
fn dashboard_is_grafana_json_with_queries() {
    let d: serde_json::Value = serde_json::from_str(&read("grafana-dashboard.json")).unwrap();
    assert!(d["title"].as_str().is_some_and(|t| t.contains("sockeye")));
    let panels = d["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8);
    let mut ids = BTreeSet::new();
    for p in panels {
        assert!(
            ids.insert(p["id"].as_u64().expect("panel id")),
            "duplicate id"
        );
        assert!(p["gridPos"]["w"].as_u64().is_some_and(|w| w <= 24));
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{}", p["title"]);
        for t in targets {
            assert!(t["expr"].as_str().is_some_and(|e| e.contains("sockeye_")));
        }
    }
    let vars: Vec<_> = d["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(vars, ["datasource", "instance"]);
}

/// promtool, or None (skipped; a failure under CI) when it is not installed.
fn promtool() -> Option<PathBuf> {
    if !crate::common::require_tool("promtool", "prometheus") {
        return None;
    }
    crate::common::skip::find_tool("promtool")
}

fn run_promtool(promtool: &Path, args: &[&std::ffi::OsStr]) {
    let out = Command::new(promtool).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_accepts_config_and_rules() {
    let Some(promtool) = promtool() else {
        return;
    };
    let config = assets().join("prometheus.yml");
    let rules = assets().join("alerts.yml");
    run_promtool(
        &promtool,
        &["check".as_ref(), "config".as_ref(), config.as_os_str()],
    );
    run_promtool(
        &promtool,
        &["check".as_ref(), "rules".as_ref(), rules.as_os_str()],
    );
}

#[test]
fn alert_rules_fire_on_the_right_series() {
    let Some(promtool) = promtool() else {
        return;
    };
    let listener = |m: &str, port: &str| {
        format!(
            "'{m}{{job=\"sockeye\",instance=\"h:9977\",address=\"0.0.0.0\",port=\"{port}\",process=\"py\"}}'"
        )
    };
    let cw = |port: &str| {
        format!(
            "'sockeye_tcp_port_sockets{{job=\"sockeye\",instance=\"h:9977\",state=\"CLOSE-WAIT\",port=\"{port}\"}}'"
        )
    };
    let tests = format!(
        r#"rule_files:
  - {rules}
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # 9 of 10: nearly full. 5 of 10: fine. Limit 0 (listen(0)): never divided by.
      - series: {full_len}
        values: '9x10'
      - series: {full_lim}
        values: '10x10'
      - series: {ok_len}
        values: '5x10'
      - series: {ok_lim}
        values: '10x10'
      - series: {zero_len}
        values: '1x10'
      - series: {zero_lim}
        values: '0x10'
    alert_rule_test:
      - eval_time: 30s
        alertname: AcceptQueueNearlyFull
        exp_alerts: []
      - eval_time: 3m
        alertname: AcceptQueueNearlyFull
        exp_alerts:
          - exp_labels:
              severity: warning
              job: sockeye
              instance: h:9977
              address: 0.0.0.0
              port: "8080"
              process: py
            exp_annotations:
              summary: "Accept queue of 0.0.0.0:8080 (py) is 90% full"
              description: "The application is not calling accept() fast enough, or its backlog is too small. New connections will be dropped once the queue is full (see sockeye_tcp_listen_overflows_total)."
  - interval: 1m
    input_series:
      # Port 9000 leaks 2 sockets a minute; port 9001 holds a steady 50.
      - series: {leak}
        values: '10+2x40'
      - series: {steady}
        values: '50x40'
    alert_rule_test:
      - eval_time: 35m
        alertname: CloseWaitGrowing
        exp_alerts:
          - exp_labels:
              severity: warning
              job: sockeye
              instance: h:9977
              state: CLOSE-WAIT
              port: "9000"
            exp_annotations:
              summary: "CLOSE-WAIT sockets of port 9000 keep growing on h:9977"
              description: "The peer closed but the application never did: 80 sockets and rising. Find the owner with: sockeye dump -tnp state close-wait '( sport = :9000 or dport = :9000 )'"
"#,
        rules = assets().join("alerts.yml").display(),
        full_len = listener("sockeye_listen_queue_length", "8080"),
        full_lim = listener("sockeye_listen_queue_limit", "8080"),
        ok_len = listener("sockeye_listen_queue_length", "8081"),
        ok_lim = listener("sockeye_listen_queue_limit", "8081"),
        zero_len = listener("sockeye_listen_queue_length", "8082"),
        zero_lim = listener("sockeye_listen_queue_limit", "8082"),
        leak = cw("9000"),
        steady = cw("9001"),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alerts_test.yml");
    std::fs::write(&file, tests).unwrap();
    run_promtool(
        &promtool,
        &["test".as_ref(), "rules".as_ref(), file.as_os_str()],
    );
}
