//! `sockeye export --all-netns`: every series labelled with its namespace, the busiest
//! `--top-netns` by name and the rest as `other`. Needs root; skips with a line otherwise.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::dump::{TestNs, available};
use crate::export::common::Exposition;
use crate::export::http::{Proc, scrape, spawn_exporter};

/// Two connections into `ns`'s listener, made inside the namespace and held (never
/// accepted): its accept queue holds 2.
fn fill_queue(ns: &TestNs) -> Proc {
    let code = format!(
        "import socket,sys\n\
         c=[socket.create_connection(('127.0.0.1',{})) for _ in range(2)]\n\
         print('ok', flush=True); sys.stdin.read()",
        ns.port
    );
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.name, "python3", "-c", &code])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ok");
    Proc(child)
}

/// The value of the one sample of `name` whose labels include `labels`.
fn val(m: &Exposition, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    match m.matching(name, labels).as_slice() {
        [] => None,
        [one] => Some(one.value),
        many => panic!("{name} {labels:?}: {} samples", many.len()),
    }
}

#[test]
fn every_series_carries_its_namespace_and_the_quiet_ones_sum_into_other() {
    if !available() {
        return;
    }
    let a = TestNs::with_listener();
    let b = TestNs::with_listener();
    let _clients = fill_queue(&a);
    let port_a = a.port.to_string();
    let port_b = b.port.to_string();

    let exp = spawn_exporter(
        &[
            "--timeout",
            "30",
            "--no-processes",
            "--all-netns",
            "--top-netns",
            "500",
        ],
        None,
    );
    let m = scrape(exp.addr);
    let labels = [("port", port_a.as_str()), ("netns", a.name.as_str())];
    assert_eq!(val(&m, "sockeye_listen_queue_length", &labels), Some(2.0));
    assert_eq!(val(&m, "sockeye_listen_queue_limit", &labels), Some(7.0));
    let only_b = [("port", port_b.as_str()), ("netns", b.name.as_str())];
    assert_eq!(val(&m, "sockeye_listen_queue_length", &only_b), Some(0.0));
    // The socket counts and the kernel counters are per namespace too.
    let listen_a = [
        ("protocol", "tcp"),
        ("state", "LISTEN"),
        ("netns", a.name.as_str()),
        ("container", ""),
    ];
    assert_eq!(val(&m, "sockeye_sockets", &listen_a), Some(1.0));
    let estab_a = [("state", "ESTAB"), ("netns", a.name.as_str())];
    let ends = "two clients and their two not yet accepted ends";
    assert_eq!(val(&m, "sockeye_sockets", &estab_a), Some(4.0), "{ends}");
    assert!(val(&m, "sockeye_somaxconn", &[("netns", a.name.as_str())]).is_some());
    for s in m.series("sockeye_sockets") {
        assert!(s.labels.contains_key("netns"), "{s:?}");
        assert!(s.labels.contains_key("container"), "{s:?}");
    }
    drop(exp);

    // One labelled namespace (the busiest: not ours, which hold one listener and two
    // clients at most): ours are summed under netns="other".
    let exp = spawn_exporter(
        &[
            "--timeout",
            "30",
            "--no-processes",
            "--all-netns",
            "--top-netns",
            "1",
        ],
        None,
    );
    let m = scrape(exp.addr);
    let other = [
        ("port", port_a.as_str()),
        ("netns", "other"),
        ("container", "other"),
    ];
    assert_eq!(val(&m, "sockeye_listen_queue_length", &other), Some(2.0));
    let names: std::collections::BTreeSet<&str> = m
        .series("sockeye_sockets")
        .iter()
        .map(|s| s.labels["netns"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "one namespace and other: {names:?}");
    assert!(names.contains("other"));
    // Without --all-netns the series have no namespace labels (unchanged).
    drop(exp);
    let exp = spawn_exporter(&["--timeout", "30"], None);
    let m = scrape(exp.addr);
    assert!(
        m.series("sockeye_sockets")
            .iter()
            .all(|s| !s.labels.contains_key("netns"))
    );
}
