//! `sockeye dump -E`: the test's own loopback connections, closed while a follower runs,
//! arrive as rows or JSON lines read through a pipe while the process still runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

/// A running follower; killed on drop, even when the test fails.
pub(super) struct Follower {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

/// `sockeye ARGS`, run through `prefix` (e.g. setpriv) when given.
fn sockeye_cmd(prefix: &[&str], args: &[&str]) -> Command {
    let mut cmd = match prefix.split_first() {
        Some((p, rest)) => {
            let mut c = Command::new(p);
            c.args(rest).arg(env!("CARGO_BIN_EXE_sockeye"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_sockeye")),
    };
    cmd.args(args);
    cmd
}

impl Follower {
    pub(super) fn spawn(prefix: &[&str], args: &[&str]) -> Follower {
        Follower::of(sockeye_cmd(prefix, args))
    }

    pub(super) fn of(mut cmd: Command) -> Follower {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn follower");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Follower {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Lines seen so far that satisfy `f`, after reading until `n` of them came (or
    /// `timeout` passed) and a short while more for any extra.
    fn collect(&mut self, n: usize, timeout: Duration, f: impl Fn(&str) -> bool) -> Vec<String> {
        let end = Instant::now() + timeout;
        while self.seen.iter().filter(|l| f(l)).count() < n {
            let Some(left) = end.checked_duration_since(Instant::now()) else {
                break;
            };
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => break,
            }
        }
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(300)) {
            self.seen.push(l);
        }
        self.seen.iter().filter(|l| f(l)).cloned().collect()
    }

    /// Read lines until one satisfies `f` or `timeout` passes.
    pub(super) fn wait_line(
        &mut self,
        timeout: Duration,
        f: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let end = Instant::now() + timeout;
        if let Some(l) = self.seen.iter().find(|l| f(l)) {
            return Some(l.clone());
        }
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if f(&l) {
                        return Some(l);
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every line read so far.
    pub(super) fn seen_lines(&self) -> Vec<String> {
        self.seen.clone()
    }

    pub(super) fn stderr(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut s = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One connection to `listener` that carries `up` bytes to the server and `down` back, then
/// closes on both ends. Returns the client's port.
fn one_connection(listener: &TcpListener, up: usize, down: usize) -> u16 {
    let to = listener.local_addr().expect("addr");
    let mut c = TcpStream::connect_timeout(&to, Duration::from_secs(2)).expect("connect");
    let (mut s, _) = listener.accept().expect("accept");
    c.write_all(&vec![b'u'; up]).expect("write");
    let mut buf = vec![0u8; up];
    s.read_exact(&mut buf).expect("read");
    s.write_all(&vec![b'd'; down]).expect("write");
    let mut buf = vec![0u8; down];
    c.read_exact(&mut buf).expect("read");
    let port = c.local_addr().expect("addr").port();
    drop(c);
    drop(s);
    port
}

/// Close connections until the follower reports one (its subscription is then in place).
/// Returns the client port of the connection seen.
fn until_ready(f: &mut Follower, listener: &TcpListener, mentions: fn(&str, u16) -> bool) -> u16 {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        let port = one_connection(listener, 1, 1);
        if f.wait_line(Duration::from_millis(300), |l| mentions(l, port))
            .is_some()
        {
            return port;
        }
    }
    panic!(
        "the follower never reported a destroyed connection: {:?}",
        f.stderr()
    );
}

fn json_mentions(line: &str, port: u16) -> bool {
    serde_json::from_str::<Value>(line)
        .is_ok_and(|v| v["local_port"] == port || v["peer_port"] == port)
}

fn text_mentions(line: &str, port: u16) -> bool {
    line.split_whitespace().any(|w| {
        w.rsplit_once(':')
            .is_some_and(|(_, p)| p == port.to_string())
    })
}

fn listener() -> TcpListener {
    tcp_listener(SocketAddr::new(LO4, 0), 16, None)
}

fn port_words(port: u16) -> Vec<String> {
    [
        "(",
        "sport",
        "=",
        &format!(":{port}"),
        "or",
        "dport",
        "=",
        &format!(":{port}"),
        ")",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// JSON lines with `event`, `time` and tcp_info at destruction; the filter keeps only the
/// test's port (a closed connection to another port before it never shows).
fn json_events_as(prefix: &[&str]) {
    let l = listener();
    let other = listener();
    let port = l.local_addr().unwrap().port();
    let words = port_words(port);
    let mut args = vec!["--no-config", "dump", "-E", "-tni", "--json"];
    args.extend(words.iter().map(String::as_str));
    let mut f = Follower::spawn(prefix, &args);
    until_ready(&mut f, &l, json_mentions);
    let stray = one_connection(&other, 1, 1);
    let client = one_connection(&l, 1000, 3000);
    let server_side = f
        .wait_line(Duration::from_secs(3), |line| {
            serde_json::from_str::<Value>(line)
                .is_ok_and(|v| v["local_port"] == port && v["peer_port"] == client)
        })
        .unwrap_or_else(|| panic!("no event for the server side: {:?}", f.seen));
    let v: Value = serde_json::from_str(&server_side).unwrap();
    assert_eq!(v["event"], "destroy");
    assert_eq!(v["netid"], "tcp");
    let time = v["time"].as_str().expect("time");
    assert!(time.ends_with('Z') && time.len() == 24, "{time}");
    // Counters at destruction: the data plus the peer's FIN.
    assert_eq!(v["tcp_info"]["bytes_sent"], 3000, "{v}");
    assert_eq!(v["tcp_info"]["bytes_received"], 1001, "{v}");
    assert_eq!(v["ended"], "orderly", "{v}");
    assert!(v.get("lifetime").is_some(), "{v}");
    for line in &f.seen {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["local_port"] == port || v["peer_port"] == port, "{line}");
        assert!(
            v["local_port"] != stray && v["peer_port"] != stray,
            "filter: {line}"
        );
    }
}

#[test]
fn json_lines_carry_event_time_and_tcp_info_and_obey_the_filter() {
    json_events_as(&[]);
}

#[test]
fn an_unprivileged_user_receives_events_too() {
    if !require_root("drops to user nobody with setpriv") || !require_tool("setpriv", "util-linux")
    {
        return;
    }
    json_events_as(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]);
}

#[test]
fn rows_match_ss_dash_e_for_the_same_close() {
    if !require_tool("ss", "iproute2") || !require_tool("stdbuf", "coreutils") {
        return;
    }
    let l = listener();
    let port = l.local_addr().unwrap().port();
    let words = port_words(port);
    let mut ours_args = vec!["--no-config", "dump", "-E", "-tn"];
    ours_args.extend(words.iter().map(String::as_str));
    let mut ours = Follower::spawn(&[], &ours_args);
    let mut ss_args = vec!["-oL", "ss", "-E", "-tn"];
    ss_args.extend(words.iter().map(String::as_str));
    let mut theirs = {
        let mut c = Command::new("stdbuf");
        c.args(&ss_args);
        Follower::of(c)
    };
    until_ready(&mut ours, &l, text_mentions);
    // ss's subscription: wait until it too reports a close.
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let p = one_connection(&l, 1, 1);
        if theirs
            .wait_line(Duration::from_millis(300), |line| text_mentions(line, p))
            .is_some()
        {
            break;
        }
        assert!(Instant::now() < end, "ss -E never reported");
    }
    let client = one_connection(&l, 5, 5);
    // The client's socket and the server's accepted one.
    let rows = |f: &mut Follower| -> Vec<Vec<String>> {
        f.collect(2, Duration::from_secs(3), |line| {
            text_mentions(line, client)
        })
        .iter()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
    };
    // sockeye adds how each connection ended (and its lifetime, when a scan saw it).
    let ours_rows: Vec<Vec<String>> = rows(&mut ours)
        .into_iter()
        .map(|r| {
            assert!(
                r.iter().any(|w| w == "ended:orderly"),
                "both ends closed in order: {r:?}"
            );
            r.into_iter()
                .filter(|w| !w.starts_with("ended:") && !w.starts_with("lifetime:"))
                .collect()
        })
        .collect();
    let b = rows(&mut theirs);
    assert!(!ours_rows.is_empty(), "no rows from sockeye");
    assert_eq!(ours_rows, b, "sockeye -E rows differ from ss -E");
    // The header's padding depends on the first message each received, which differs on a
    // busy machine; netns.rs compares it in a quiet namespace.
    let header = ours.seen.first().cloned().unwrap_or_default();
    assert!(header.starts_with("State"), "{header}");
}

#[test]
fn sigterm_and_a_closed_pipe_end_it_with_status_0() {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["--no-config", "dump", "-E", "-tn", "sport", "=", ":1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // The reader goes away before anything was written (the header comes with the first
    // event, and none ever comes for port 1): the quiet stream must still end.
    drop(c.stdout.take());
    let status = wait_exit(&mut c, Duration::from_secs(5)).expect("ends on a closed pipe");
    assert!(status.success(), "{status}");

    let mut c = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["--no-config", "dump", "-E", "-tn", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(200)); // let it install its handlers
    // SAFETY: signalling our own child by pid.
    unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    let status = wait_exit(&mut c, Duration::from_secs(5)).expect("ends on SIGTERM");
    assert!(status.success(), "{status}");
}

fn wait_exit(c: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if let Ok(Some(s)) = c.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    let _ = c.wait();
    None
}

#[test]
fn unix_only_and_incompatible_flags_are_refused_in_one_line() {
    let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["--no-config", "dump", "-E", "-x"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("only for TCP and UDP"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for bad in [
        &["-E", "-s"][..],
        &["-E", "-p"],
        &["-E", "-K"],
        &["-E", "--source", "proc"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["--no-config", "dump"])
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn a_full_receive_queue_is_reported_with_the_count_lost() {
    // A tiny receive buffer and a stopped reader: the kernel must drop events.
    let l = listener();
    let port = l.local_addr().unwrap().port();
    let words = port_words(port);
    let mut args = vec!["--no-config", "dump", "-E", "-tn", "--json"];
    args.extend(words.iter().map(String::as_str));
    let mut cmd = sockeye_cmd(&[], &args);
    cmd.env("SOCKEYE_EVENTS_RCVBUF", "1");
    let mut f = Follower::of(cmd);
    until_ready(&mut f, &l, json_mentions);
    let before = f.seen.len();
    // SAFETY: signalling our own child by pid.
    unsafe { libc::kill(f.child.id() as i32, libc::SIGSTOP) };
    // The stop is delivered asynchronously: a follower still reading while the burst runs
    // would receive it all and prove nothing.
    assert!(
        wait_stopped(f.child.id()),
        "the follower did not stop within 5 s"
    );
    const N: usize = 200;
    let mut clients = Vec::new();
    for _ in 0..N {
        clients.push(one_connection(&l, 1, 1));
    }
    // SAFETY: as above.
    unsafe { libc::kill(f.child.id() as i32, libc::SIGCONT) };
    let is_ours = |l: &str| clients.iter().any(|c| json_mentions(l, *c));
    let tally = |seen: &[String]| -> (u64, u64) {
        let ours = seen.iter().filter(|l| is_ours(l)).count() as u64;
        let lost = seen
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["event"] == "lost")
            .filter_map(|v| v["count"].as_u64())
            .sum();
        (ours, lost)
    };
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        let (ours, lost) = tally(&f.seen[before..]);
        if ours + lost >= 2 * N as u64 {
            break;
        }
        let _ = f.wait_line(Duration::from_millis(200), |_| false);
    }
    let (ours, count) = tally(&f.seen[before..]);
    // Two events per connection (client and server side); what was not received must be
    // counted as lost (the count also includes other sockets' events dropped meanwhile).
    assert!(
        count > 0,
        "received {ours} of {} and no loss reported",
        2 * N
    );
    assert!(
        ours + count >= 2 * N as u64,
        "received {ours} + lost {count} < {}",
        2 * N
    );
    assert!(
        ours < 2 * N as u64,
        "nothing was dropped: the test proves nothing"
    );
}

/// The JSON event of the socket `local` → `peer`, within a few seconds.
fn event_of(f: &mut Follower, local: u16, peer: u16) -> Value {
    let line = f
        .wait_line(Duration::from_secs(5), |line| {
            serde_json::from_str::<Value>(line)
                .is_ok_and(|v| v["local_port"] == local && v["peer_port"] == peer)
        })
        .unwrap_or_else(|| panic!("no event for :{local} → :{peer}: {:?}", f.seen));
    serde_json::from_str(&line).unwrap()
}

#[test]
fn each_event_says_how_the_connection_ended_and_how_long_it_lived() {
    let l = listener();
    let port = l.local_addr().unwrap().port();
    let words = port_words(port);
    let mut args = vec!["--no-config", "dump", "-E", "-tn", "--json"];
    args.extend(words.iter().map(String::as_str));
    let mut f = Follower::spawn(&[], &args);
    until_ready(&mut f, &l, json_mentions);
    let to = l.local_addr().unwrap();

    // The server closes with data it never read: the kernel answers with a RST.
    let mut c = TcpStream::connect(to).unwrap();
    let (s, _) = l.accept().unwrap();
    c.write_all(b"unread").unwrap();
    let client = c.local_addr().unwrap().port();
    std::thread::sleep(Duration::from_millis(50)); // the data must arrive before the close
    drop(s);
    assert_eq!(event_of(&mut f, port, client)["ended"], "reset");
    drop(c);
    assert_eq!(event_of(&mut f, client, port)["ended"], "reset");

    // SO_LINGER 0: the client aborts; the kernel disconnects it before freeing it.
    let c = socket2::Socket::from(TcpStream::connect(to).unwrap());
    let (s, _) = l.accept().unwrap();
    let client = c.local_addr().unwrap().as_socket().unwrap().port();
    c.set_linger(Some(Duration::ZERO)).unwrap();
    drop(c);
    std::thread::sleep(Duration::from_millis(50)); // the RST must arrive before the close
    drop(s);
    assert_eq!(event_of(&mut f, port, client)["ended"], "reset");

    // A connection held across scans: its lifetime is bounded by them.
    let c = TcpStream::connect(to).unwrap();
    let (s, _) = l.accept().unwrap();
    let client = c.local_addr().unwrap().port();
    std::thread::sleep(Duration::from_millis(2500));
    drop(c);
    drop(s);
    let v = event_of(&mut f, client, port);
    assert_eq!(v["ended"], "orderly", "{v}");
    let min = v["lifetime"]["min_ms"].as_u64().expect("a lifetime");
    let max = v["lifetime"]["max_ms"]
        .as_u64()
        .expect("born after sockeye started");
    assert!((1000..=2600).contains(&min), "{v}");
    assert!((2400..=4000).contains(&max) && max >= min, "{v}");
}

#[test]
fn a_state_selection_is_ignored_with_a_note() {
    let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["--no-config", "dump", "-E", "-tn", "state", "established"])
        .args(["sport", "=", ":1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut child = o;
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("state selection is ignored"), "{line}");
}

/// Whether process `pid` reached the stopped state (`T` in /proc/PID/stat) within 5 s.
fn wait_stopped(pid: u32) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The state follows the command name's closing parenthesis.
        if stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('T'))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}
