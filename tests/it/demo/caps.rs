//! The demo's caps hold whatever requests arrive: a flood of `add` requests cannot push a
//! scenario past its connection rate, and a client that drips bytes cannot keep a control
//! connection slot.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::demo::support::{DemoProc, eventually, ss};

/// The documented cap of the time-wait scenario, connections per second.
const TIME_WAIT_CAP: f64 = 200.0;
/// Connections a scenario may open at once (its client cap) before the rate applies.
const TIME_WAIT_BURST: f64 = 64.0;
/// Scenarios without a churn rate.
const OTHER_CAP: f64 = 10.0;
const UNREAD_BURST: f64 = 32.0;

/// One request on a fresh connection; None when the demo hung up without a reply.
fn try_request(path: &std::path::Path, line: &str) -> Option<serde_json::Value> {
    let mut s = UnixStream::connect(path).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    // A refused connection may be closed before the request is even written.
    let _ = s.write_all(format!("{line}\n").as_bytes());
    let mut reply = String::new();
    BufReader::new(&s).read_line(&mut reply).ok()?;
    serde_json::from_str(&reply).ok()
}

fn accepted(demo: &DemoProc, index: usize) -> u64 {
    let st = demo.request(r#"{"cmd":"status"}"#);
    st["scenarios"][index]["accepted_total"]
        .as_u64()
        .unwrap_or_else(|| panic!("no accepted_total in {st}"))
}

/// Send `lines` in a loop on one connection until `stop`, counting the ok replies.
fn hammer(path: std::path::PathBuf, lines: Vec<String>, stop: Arc<AtomicBool>) -> usize {
    let mut s = UnixStream::connect(path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut ok = 0;
    while !stop.load(Ordering::SeqCst) {
        for line in &lines {
            if s.write_all(line.as_bytes()).is_err() || s.write_all(b"\n").is_err() {
                return ok;
            }
            let mut reply = String::new();
            if reader.read_line(&mut reply).unwrap_or(0) == 0 {
                return ok;
            }
            ok += reply.contains("\"ok\":true") as usize;
        }
    }
    ok
}

#[test]
fn a_flood_of_add_requests_keeps_every_connection_rate_under_its_cap() {
    let demo = DemoProc::start(&["time-wait", "unread", "--rate", "2"]);
    let tw = demo.port("time-wait");
    // The window starts before the first count and ends after the last one.
    let t0 = Instant::now();
    let tw0 = accepted(&demo, 0);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for i in 0..4 {
        let lines = if i % 2 == 0 {
            vec![
                r#"{"cmd":"add","scenario":"time-wait","count":64}"#.to_string(),
                r#"{"cmd":"rate","scenario":"time-wait","per_sec":200}"#.to_string(),
            ]
        } else {
            vec![
                r#"{"cmd":"add","scenario":"unread","count":64}"#.to_string(),
                r#"{"cmd":"close","scenario":"unread","count":64}"#.to_string(),
            ]
        };
        let (path, stop) = (demo.control.clone(), Arc::clone(&stop));
        threads.push(std::thread::spawn(move || hammer(path, lines, stop)));
    }
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::SeqCst);
    let replies: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(replies > 20, "the flood got only {replies} ok replies");

    // Connections the server accepted over the flood (rate 200 set by the flood itself).
    let tw_accepted = accepted(&demo, 0) - tw0;
    let secs = t0.elapsed().as_secs_f64();
    let tw_bound = TIME_WAIT_CAP * secs * 1.1 + TIME_WAIT_BURST + 10.0;
    assert!(
        (tw_accepted as f64) <= tw_bound,
        "time-wait accepted {tw_accepted} connections in {secs:.1} s (cap {TIME_WAIT_CAP}/s)"
    );
    // Every one of them ends in TIME-WAIT on the client side: no more than that either.
    let time_wait = ss(tw)
        .iter()
        .filter(|r| r.state == "TIME-WAIT" && r.peer_port == tw)
        .count();
    assert!(
        (time_wait as f64) <= tw_bound,
        "{time_wait} TIME-WAIT after {secs:.1} s"
    );
    let unread_accepted = accepted(&demo, 1);
    eprintln!(
        "flood of {replies} ok replies over {secs:.1} s: time-wait accepted {tw_accepted}, \
         {time_wait} TIME-WAIT; unread accepted {unread_accepted}"
    );
    let unread_bound = OTHER_CAP * secs * 1.1 + UNREAD_BURST + 5.0;
    assert!(
        (unread_accepted as f64) <= unread_bound,
        "unread accepted {unread_accepted} connections in {secs:.1} s (cap {OTHER_CAP}/s)"
    );
    // The flood was real: the caps, not a slow demo, held the numbers.
    assert!(tw_accepted >= 50, "time-wait accepted only {tw_accepted}");
}

#[test]
fn a_dripping_control_client_loses_its_slot_at_the_request_deadline() {
    let demo = DemoProc::start(&["echo"]);
    // Fill every slot with a client that sends one byte of a request every 200 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let cut = Arc::new(AtomicUsize::new(0));
    let mut drips = Vec::new();
    for _ in 0..8 {
        let mut s = UnixStream::connect(&demo.control).unwrap();
        let (stop, cut) = (Arc::clone(&stop), Arc::clone(&cut));
        drips.push(std::thread::spawn(move || {
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut buf = [0u8; 64];
            let mut bytes = b"{\"cmd\":\"status\"".iter().cycle();
            while !stop.load(Ordering::SeqCst) {
                let byte = *bytes.next().unwrap();
                if s.write_all(&[byte]).is_err() {
                    break;
                }
                // The read doubles as the 200 ms pause; EOF means the demo hung up.
                match s.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(_) => {}
                }
            }
            if !stop.load(Ordering::SeqCst) {
                cut.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let t0 = Instant::now();
    // While they hold the slots, a normal client is turned away...
    eventually(
        5,
        "the drips to hold every slot",
        || {
            let r = try_request(&demo.control, r#"{"cmd":"status"}"#)?;
            (r["ok"] == false && r["error"] == "too many control connections").then_some(())
        },
        || "a normal client was still served".into(),
    );
    // ...until their requests run out of time (3 s from the first byte): then it is served.
    eventually(
        10,
        "a normal client to be served again",
        || (try_request(&demo.control, r#"{"cmd":"status"}"#)?["ok"] == true).then_some(()),
        || format!("{} drips cut so far", cut.load(Ordering::SeqCst)),
    );
    let waited = t0.elapsed();
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    eventually(
        5,
        "every drip cut",
        || (cut.load(Ordering::SeqCst) == 8).then_some(()),
        || format!("{} drips cut", cut.load(Ordering::SeqCst)),
    );
    stop.store(true, Ordering::SeqCst);
    for d in drips {
        d.join().unwrap();
    }
}
