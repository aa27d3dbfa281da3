//! `sockeye export` against hostile and broken HTTP clients. Throughout each abuse a normal
//! scrape on a fresh connection must be answered (200, whole) within a second, and the
//! exporter's thread count (/proc/PID/status) must stay small.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::http::{Exporter, spawn_exporter};

/// A normal scrape must be answered within this.
const PROMPT: Duration = Duration::from_secs(1);
/// How long each abuse is probed.
const WINDOW: Duration = Duration::from_millis(1500);
/// The exporter's threads: main, collector, the HTTP thread and its few workers.
const MAX_THREADS: usize = 16;
/// The server's connection cap (src/export/server.rs MAX_CONNECTIONS).
const MAX_CONNECTIONS: usize = 64;
/// The server's head timeout (src/export/server.rs HEAD_TIMEOUT).
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// An exporter that answers from a snapshot at most 2 s old and never waits long for one,
/// so what is measured is the HTTP side.
fn start() -> Exporter {
    start_limited(None)
}

fn start_limited(nofile: Option<u64>) -> Exporter {
    let exp = spawn_exporter(
        &["--interval", "2", "--timeout", "0.5", "--no-processes"],
        nofile,
    );
    // The first collection may take a while on a busy machine; abuse starts after it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Err(e) = probe_once(exp.addr) {
        assert!(Instant::now() < deadline, "no first scrape: {e}");
        thread::sleep(Duration::from_millis(100));
    }
    exp
}

/// One normal scrape on a fresh connection: its duration, or what went wrong.
fn probe_once(addr: SocketAddr) -> Result<Duration, String> {
    let started = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, PROMPT).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(PROMPT))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(PROMPT))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: sockeye\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("read after {:?}: {e}", started.elapsed()))?;
    let text = String::from_utf8_lossy(&raw);
    if !text.starts_with("HTTP/1.1 200 ") {
        return Err(format!("answer {:?}", text.lines().next().unwrap_or("")));
    }
    if !text.ends_with("# EOF\n") {
        return Err(format!("truncated answer of {} bytes", raw.len()));
    }
    Ok(started.elapsed())
}

fn status_field(pid: u32, field: &str) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// Scrape every 50 ms for `window` (at least three times), asserting each answer is prompt
/// and the thread count small. Returns the slowest answer.
fn probe_throughout(exp: &Exporter, what: &str, window: Duration) -> Duration {
    let pid = exp.proc.0.id();
    let end = Instant::now() + window;
    let (mut n, mut worst) = (0, Duration::ZERO);
    loop {
        let took =
            probe_once(exp.addr).unwrap_or_else(|e| panic!("{what}: a normal scrape failed: {e}"));
        assert!(took < PROMPT, "{what}: a normal scrape took {took:?}");
        worst = worst.max(took);
        let threads = status_field(pid, "Threads:");
        assert!(
            threads <= MAX_THREADS,
            "{what}: the exporter runs {threads} threads"
        );
        n += 1;
        if n >= 3 && Instant::now() >= end {
            eprintln!("{what}: {n} scrapes, slowest {worst:?}, {threads} threads");
            return worst;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Abusing threads that run until dropped (their sockets have timeouts, so they stop).
struct Abusers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Abusers {
    fn spawn(n: usize, f: impl Fn(&AtomicBool) + Send + Sync + 'static) -> Abusers {
        let stop = Arc::new(AtomicBool::new(false));
        let f = Arc::new(f);
        let threads = (0..n)
            .map(|_| {
                let (stop, f) = (Arc::clone(&stop), Arc::clone(&f));
                thread::spawn(move || f(&stop))
            })
            .collect();
        Abusers { stop, threads }
    }
}

impl Drop for Abusers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn connect(addr: SocketAddr) -> Option<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    Some(s)
}

/// True once the server has closed `s` (EOF, reset, or an answer followed by EOF).
fn closed_by_server(mut s: &TcpStream) -> bool {
    if s.set_nonblocking(true).is_err() {
        return true;
    }
    let mut buf = [0u8; 4096];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break false,
            Err(_) => break true,
        }
    };
    let _ = s.set_nonblocking(false);
    closed
}

/// Send raw bytes, read until the server closes: the status code of the answer.
fn exchange(addr: SocketAddr, raw: &[u8]) -> Result<u16, String> {
    let mut s = connect(addr).ok_or("connect failed")?;
    s.set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    s.write_all(raw).map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    // Ends only when the server closes: a read timeout means it kept the connection open.
    s.read_to_end(&mut answer)
        .map_err(|e| format!("not closed after the answer: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line in {:?}", text.lines().next()))
}

#[test]
fn concurrent_scrapes() {
    let exp = start();
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (o, f, addr) = (Arc::clone(&ok), Arc::clone(&failed), exp.addr);
    let scrapers = Abusers::spawn(6, move |stop| {
        while !stop.load(Ordering::SeqCst) {
            // Slow is allowed here; failing is not.
            let counter = match probe_once(addr) {
                Ok(_) => &o,
                Err(_) => &f,
            };
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    probe_throughout(&exp, "concurrent scrapes", WINDOW);
    drop(scrapers);
    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "a concurrent scrape failed"
    );
    assert!(ok.load(Ordering::SeqCst) >= 6, "the scrapers got answers");
}

#[test]
fn held_idle_connections_are_bounded_and_shed() {
    let exp = start();
    let pid = exp.proc.0.id();
    let before = open_fds(pid);
    let held: Vec<TcpStream> = (0..300).filter_map(|_| connect(exp.addr)).collect();
    assert!(held.len() >= 250, "only {} connections opened", held.len());
    probe_throughout(&exp, "300 held idle connections", WINDOW);
    let fds = open_fds(pid);
    assert!(
        fds <= before + MAX_CONNECTIONS + 2,
        "the exporter holds {fds} descriptors (from {before}) for 300 connections"
    );
    // Beyond the cap the oldest idle ones were closed by the server, not kept.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let closed = held.iter().filter(|s| closed_by_server(s)).count();
        if closed + MAX_CONNECTIONS >= held.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{closed} of {} held connections shed",
            held.len()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_connection_flood() {
    let exp = start();
    let addr = exp.addr;
    // Silent connections opened as fast as they go, each held a little: 800 in all, fewer
    // than the listen backlog, so what is tested is the server keeping up (SYNs dropped on
    // a full kernel queue would cost any server a second), and the machine's ephemeral
    // ports are left to the other tests.
    let flood = Abusers::spawn(4, move |stop| {
        let mut ring = std::collections::VecDeque::new();
        for _ in 0..200 {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            if let Some(s) = connect(addr) {
                ring.push_back(s);
            }
            if ring.len() > 30 {
                ring.pop_front();
            }
        }
        while !stop.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(20));
        }
    });
    probe_throughout(&exp, "a connection flood", WINDOW);
    drop(flood);
}

#[test]
fn an_endless_header_line_is_cut_off_with_431() {
    let exp = start();
    let pid = exp.proc.0.id();
    let rss_before = status_field(pid, "VmRSS:");
    let mut head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Endless: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 20 * 1024));
    assert_eq!(exchange(exp.addr, &head), Ok(431));

    let addr = exp.addr;
    let writers = Abusers::spawn(4, move |stop| {
        let chunk = vec![b'a'; 64 * 1024];
        while !stop.load(Ordering::SeqCst) {
            let Some(mut s) = connect(addr) else { continue };
            let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nX-Endless: ");
            while !stop.load(Ordering::SeqCst) && s.write_all(&chunk).is_ok() {}
        }
    });
    probe_throughout(&exp, "endless header lines", WINDOW);
    drop(writers);
    let rss_after = status_field(pid, "VmRSS:");
    assert!(
        rss_after < rss_before + 32 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
}

#[test]
fn pipelined_requests_are_answered_in_order_and_non_readers_block_nobody() {
    let exp = start();
    // A client that reads: five pipelined requests, five answers, the last one closing.
    let mut s = connect(exp.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut burst = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2);
    burst.extend_from_slice(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
    burst.extend_from_slice(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    burst.extend_from_slice(b"GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n");
    s.write_all(&burst).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let statuses: Vec<&str> = text
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &text[i + 9..i + 12])
        .collect();
    assert_eq!(statuses, ["200", "200", "404", "200", "200"], "{text:.300}");
    assert_eq!(text.matches("# EOF\n").count(), 3, "HEAD has no body");

    // Clients that never read: each sends 1000 requests with a small receive buffer, so
    // the server's writes to them stall; nobody else may notice.
    let addr = exp.addr;
    let _pipeliners = Abusers::spawn(6, move |stop| {
        let Ok(sock) = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        else {
            return;
        };
        let _ = sock.set_recv_buffer_size(4096);
        let _ = sock.set_write_timeout(Some(Duration::from_secs(2)));
        if sock
            .connect_timeout(&addr.into(), Duration::from_secs(2))
            .is_err()
        {
            return;
        }
        let mut s: TcpStream = sock.into();
        let requests = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1000);
        let _ = s.write_all(&requests);
        while !stop.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(50));
        }
    });
    probe_throughout(&exp, "clients pipelining without reading", WINDOW);
}

#[test]
fn drip_clients_do_not_hold_slots() {
    let exp = start();
    let head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Drip: ";
    let mut drips: Vec<(TcpStream, bool)> = (0..MAX_CONNECTIONS + 6)
        .filter_map(|_| connect(exp.addr))
        .map(|s| (s, false))
        .collect();
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let dripper = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            // One byte per connection every 100 ms, for ever: only a whole-request deadline
            // ends this.
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let byte = head.get(i).copied().unwrap_or(b'a');
                for (s, closed) in drips.iter_mut().filter(|(_, c)| !*c) {
                    *closed = s.write_all(&[byte]).is_err() || closed_by_server(s);
                }
                if drips.iter().all(|(_, c)| *c) {
                    return started.elapsed();
                }
                i += 1;
                thread::sleep(Duration::from_millis(100));
            }
            Duration::MAX
        })
    };
    probe_throughout(&exp, "drip clients", WINDOW);
    let deadline = Instant::now() + HEAD_TIMEOUT + Duration::from_secs(5);
    while !dripper.is_finished() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    let took = dripper.join().unwrap();
    assert!(
        took <= HEAD_TIMEOUT + Duration::from_secs(3),
        "drip connections still open after {:?}",
        started.elapsed()
    );
}

#[test]
fn out_of_range_scrape_timeout_headers_are_harmless() {
    let exp = start();
    for value in [
        "1e309",
        "1e300",
        "99999999999999999999999999",
        "18446744073709551616",
        "-1",
        "0",
        "NaN",
        "inf",
        "1e-300",
        "",
        "ten",
    ] {
        // More than the worker pool, so a worker lost to one of these would show.
        for _ in 0..6 {
            let raw = format!(
                "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: \
                 {value}\r\nConnection: close\r\n\r\n"
            );
            let started = Instant::now();
            assert_eq!(exchange(exp.addr, raw.as_bytes()), Ok(200), "{value:?}");
            assert!(
                started.elapsed() < PROMPT,
                "{value:?}: {:?}",
                started.elapsed()
            );
        }
    }
    probe_throughout(
        &exp,
        "after odd scrape timeouts",
        Duration::from_millis(300),
    );
}

#[test]
fn unknown_versions_and_malformed_requests_get_an_answer_and_a_close() {
    let exp = start();
    let long_target = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(9000));
    let mut many_headers = String::from("GET /metrics HTTP/1.1\r\n");
    for i in 0..100 {
        many_headers.push_str(&format!("X-{i}: y\r\n"));
    }
    many_headers.push_str("\r\n");
    let cases: [(&[u8], u16); 10] = [
        (b"GET /metrics HTTP/2.0\r\n\r\n", 505),
        (b"GET /metrics HTTP/1.2\r\nHost: x\r\n\r\n", 505),
        (b"GET /metrics HTTP/3\r\nHost: x\r\n\r\n", 505),
        (b"GET /metrics\r\n\r\n", 400),
        (b"GET /metrics FTP/1.0\r\n\r\n", 400),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400),
        (b"GET /metrics HTTP/1.1\r\nNo colon\r\n\r\n", 400),
        (long_target.as_bytes(), 414),
        (many_headers.as_bytes(), 431),
        (
            b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
            405,
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(
            exchange(exp.addr, raw),
            Ok(want),
            "{:.60?}",
            String::from_utf8_lossy(raw)
        );
    }
    probe_throughout(&exp, "after malformed requests", Duration::from_millis(300));
}

#[test]
fn descriptor_exhaustion_under_a_low_rlimit() {
    // 40 leaves the exporter a small connection cap; 12 is below what its own descriptors
    // and that cap need, so accept(2) fails with EMFILE and the server must shed and go on.
    for nofile in [40, 12] {
        let exp = start_limited(Some(nofile));
        let what = format!("RLIMIT_NOFILE {nofile}, 150 connections held");
        let held: Vec<TcpStream> = (0..150).filter_map(|_| connect(exp.addr)).collect();
        assert!(held.len() >= 100, "{what}: only {} connected", held.len());
        probe_throughout(&exp, &what, WINDOW);
        drop(held);
        probe_throughout(
            &exp,
            &format!("{what}, released"),
            Duration::from_millis(300),
        );
        if nofile == 12 {
            let said: Vec<String> = exp.stderr.try_iter().collect();
            assert!(
                said.iter()
                    .any(|l| l.contains("accepting a connection failed")),
                "EMFILE never reached: {said:?}"
            );
        }
    }
}
