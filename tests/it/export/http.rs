//! `sockeye export` over HTTP, on sockets this test creates on loopback: values must match ss.
//! Ends with a real Prometheus scraping the exporter and answering a query about our listener.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::FromRawFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::export::common::{Exposition, parse};

const STARTUP: Duration = Duration::from_secs(20);

/// A child process killed (and reaped) however the test ends.
pub(crate) struct Proc(pub(crate) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `sockeye export`, with the address it printed.
pub(crate) struct Exporter {
    pub(crate) proc: Proc,
    pub(crate) addr: SocketAddr,
    pub(crate) stderr: mpsc::Receiver<String>,
}

fn start_exporter(extra: &[&str]) -> Exporter {
    // A roomy scrape deadline: a debug build collecting with process attribution on a
    // loaded machine can take seconds, and these tests check values, not the deadline
    // (the deadline has its own tests in src/export/cache.rs).
    let mut args = vec!["--timeout", "30"];
    args.extend_from_slice(extra);
    spawn_exporter(&args, None)
}

/// `sockeye export --listen 127.0.0.1:0 ARGS`, with RLIMIT_NOFILE set to `nofile` if given;
/// returns once it has printed the address it serves.
pub(crate) fn spawn_exporter(args: &[&str], nofile: Option<u64>) -> Exporter {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sockeye"));
    cmd.args(["export", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(n) = nofile {
        let lim = libc::rlimit {
            rlim_cur: n,
            rlim_max: n,
        };
        // SAFETY: setrlimit is async-signal-safe and touches only the child being started.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    }
    let mut child = cmd.spawn().expect("spawn sockeye export");
    let stderr = child.stderr.take().expect("stderr is piped");
    let proc = Proc(child);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + STARTUP;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.strip_prefix("sockeye: serving http://") {
                    let addr = rest
                        .strip_suffix("/metrics")
                        .and_then(|a| a.parse().ok())
                        .unwrap_or_else(|| panic!("unreadable address line {line:?}"));
                    return Exporter {
                        proc,
                        addr,
                        stderr: rx,
                    };
                }
                seen.push(line);
            }
            Err(_) => panic!("sockeye export did not print its address; stderr: {seen:?}"),
        }
    }
}

struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 client: one request per connection, bounded by timeouts.
fn http(addr: SocketAddr, method: &str, path: &str) -> HttpResponse {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let raw = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("header/body separator");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v): &(String, String)| {
        k.eq_ignore_ascii_case("Transfer-Encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    HttpResponse {
        status,
        headers,
        body,
    }
}

/// Decode a chunked body (in case a response is ever sent chunked).
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, tail) = rest.split_once("\r\n").expect("chunk size line");
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16)
            .expect("hex chunk size");
        if size == 0 {
            return out;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].strip_prefix("\r\n").expect("CRLF after chunk");
    }
}

pub(crate) fn scrape(addr: SocketAddr) -> Exposition {
    let r = http(addr, "GET", "/metrics");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("Content-Type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text")),
        "{:?}",
        r.headers
    );
    parse(&r.body).unwrap_or_else(|e| panic!("{e}\n{}", r.body))
}

/// A TCP listener on 127.0.0.1 with an explicit backlog (std always asks for a large one).
fn listen_with_backlog(backlog: i32) -> TcpListener {
    // SAFETY: plain socket syscalls on a descriptor this function owns until it is wrapped.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let listener = TcpListener::from_raw_fd(fd);
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        sa.sin_port = 0;
        let rc = libc::bind(
            fd,
            &sa as *const libc::sockaddr_in as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
        assert_eq!(
            libc::listen(fd, backlog),
            0,
            "listen: {}",
            std::io::Error::last_os_error()
        );
        listener
    }
}

/// `ss -Htn` lines for a filter, as whitespace-split fields.
fn ss(args: &[&str]) -> Vec<Vec<String>> {
    let out = Command::new("ss").args(args).output().expect("run ss");
    assert!(out.status.success(), "ss {args:?} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .filter(|f: &Vec<String>| !f.is_empty())
        .collect()
}

/// Poll (bounded) until `f` is true.
fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// The test's own listener with two un-accepted connections: ss shows `LISTEN 2 3`.
struct Backlogged {
    listener: TcpListener,
    port: u16,
    _clients: Vec<TcpStream>,
}

fn backlogged() -> Backlogged {
    let listener = listen_with_backlog(3);
    let port = listener.local_addr().unwrap().port();
    let clients = (0..2)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect to own listener"))
        .collect();
    let filter = format!("sport = :{port}");
    wait_until(
        "two connections in the accept queue",
        Duration::from_secs(5),
        || ss(&["-Hltn", &filter]).first().is_some_and(|f| f[1] == "2"),
    );
    Backlogged {
        listener,
        port,
        _clients: clients,
    }
}

fn self_comm() -> String {
    std::fs::read_to_string("/proc/self/comm")
        .unwrap()
        .trim_end()
        .to_string()
}

#[test]
fn listener_queue_matches_ss() {
    let b = backlogged();
    let filter = format!("sport = :{}", b.port);
    let row = ss(&["-Hltn", &filter]);
    assert_eq!(row.len(), 1, "{row:?}");
    let (recv_q, send_q): (f64, f64) = (row[0][1].parse().unwrap(), row[0][2].parse().unwrap());
    assert_eq!((recv_q, send_q), (2.0, 3.0), "ss sees the queue we built");
    let port = b.port.to_string();
    let lab = [("address", "127.0.0.1"), ("port", port.as_str())];

    for source in ["netlink", "proc"] {
        let exp = start_exporter(&["--interval", "0", "--source", source]);
        let m = scrape(exp.addr);
        assert_eq!(
            m.value("sockeye_source_info", &[("source", source)]),
            Some(1.0)
        );
        let len = m.matching("sockeye_listen_queue_length", &lab);
        assert_eq!(
            len.len(),
            1,
            "{source}: one series for our listener: {len:?}"
        );
        assert_eq!(len[0].value, recv_q, "{source}");
        // The listener belongs to this test process.
        assert_eq!(len[0].labels["process"], self_comm(), "{source}");
        let limit = m.matching("sockeye_listen_queue_limit", &lab);
        if source == "netlink" {
            assert_eq!(limit.len(), 1);
            assert_eq!(limit[0].value, send_q);
        } else {
            // /proc cannot know the limit: no series rather than a wrong 0.
            assert!(limit.is_empty(), "{limit:?}");
        }
        let syn = m.matching("sockeye_listen_syn_recv", &lab);
        assert_eq!(syn.len(), 1, "{source}");
        assert_eq!(syn[0].value, 0.0);
        // Our four ESTAB sockets (two clients, two queued server ends) are among those counted.
        let estab = m.value(
            "sockeye_sockets",
            &[("protocol", "tcp"), ("state", "ESTAB")],
        );
        assert!(estab.is_some_and(|n| n >= 4.0), "{source}: {estab:?}");
    }
    drop(b.listener);
}

#[test]
fn close_wait_by_port_matches_ss() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut kept = Vec::new();
    for _ in 0..3 {
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        drop(client); // the peer closes; our side never does → CLOSE-WAIT
        kept.push(server_side);
    }
    let filter = format!("sport = :{port}");
    wait_until("three CLOSE-WAIT sockets", Duration::from_secs(5), || {
        ss(&["-Htn", "state", "close-wait", &filter]).len() == 3
    });
    // Every port gets its own series, so ours is there whatever else the machine runs.
    let exp = start_exporter(&["--interval", "0", "--top-ports", "100000"]);
    let m = scrape(exp.addr);
    let p = port.to_string();
    assert_eq!(
        m.value(
            "sockeye_tcp_port_sockets",
            &[("state", "CLOSE-WAIT"), ("port", p.as_str())]
        ),
        Some(3.0)
    );
    drop(kept);
}

#[test]
fn listen_overflows_counter_follows_the_kernel() {
    let exp = start_exporter(&["--interval", "0", "--no-processes"]);
    let counter = |m: &Exposition, name: &str| {
        m.value(name, &[])
            .unwrap_or_else(|| panic!("{name} missing: /proc/net/netstat unreadable?"))
    };
    let before = scrape(exp.addr);
    // listen(1) holds two un-accepted connections; the third SYN overflows the queue.
    let b = listen_with_backlog(1);
    let port = b.local_addr().unwrap().port();
    let _held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let filter = format!("sport = :{port}");
    wait_until("a full accept queue", Duration::from_secs(5), || {
        ss(&["-Hltn", &filter]).first().is_some_and(|f| f[1] == "2")
    });
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let third = TcpStream::connect_timeout(&addr, Duration::from_millis(300));
    assert!(
        third.is_err(),
        "the third connection should wait in SYN-SENT"
    );
    let after = scrape(exp.addr);
    // Other processes on the machine may overflow too: the counter only has to grow by ours.
    for name in [
        "sockeye_tcp_listen_overflows_total",
        "sockeye_tcp_listen_drops_total",
    ] {
        assert!(
            counter(&after, name) >= counter(&before, name) + 1.0,
            "{name}: {} then {}",
            counter(&before, name),
            counter(&after, name)
        );
    }
    let port = port.to_string();
    let len = after.matching("sockeye_listen_queue_length", &[("port", port.as_str())]);
    assert_eq!(len.first().map(|s| s.value), Some(2.0));
}

#[test]
fn other_paths_methods_and_concurrent_scrapes() {
    let exp = start_exporter(&["--interval", "1"]);
    assert_eq!(http(exp.addr, "GET", "/").status, 404);
    assert_eq!(http(exp.addr, "GET", "/metrics/x").status, 404);
    let post = http(exp.addr, "POST", "/metrics");
    assert_eq!(post.status, 405);
    assert_eq!(post.header("Allow"), Some("GET, HEAD"));
    assert_eq!(http(exp.addr, "GET", "/metrics?x=1").status, 200);
    // The absolute form (RFC 9112 3.2.2: a server must accept it) names the same resource.
    let absolute = format!("http://{}/metrics", exp.addr);
    assert_eq!(http(exp.addr, "GET", &absolute).status, 200);
    let head = http(exp.addr, "HEAD", "/metrics");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD has no body");

    let addr = exp.addr;
    let handles: Vec<_> = (0..8)
        .map(|_| {
            thread::spawn(move || {
                for _ in 0..3 {
                    let m = scrape(addr);
                    assert!(m.value("sockeye_snapshot_stale", &[]).is_some());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a concurrent scrape failed");
    }
}

#[test]
fn stops_cleanly_on_sigterm_and_sigint() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut exp = start_exporter(&[]);
        let _ = scrape(exp.addr);
        let pid = exp.proc.0.id() as libc::pid_t;
        // SAFETY: signalling our own child.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = exp.proc.0.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "no exit after signal {sig}");
            thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "signal {sig}: {status:?}");
        let said: Vec<String> = exp.stderr.try_iter().collect();
        assert!(said.iter().any(|l| l.contains("stopping")), "{said:?}");
        assert!(TcpStream::connect_timeout(&exp.addr, Duration::from_secs(1)).is_err());
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        &["--listen", "nonsense"][..],
        &["--listen", "127.0.0.1:99999"],
        &["--interval=-1"],
        &["--timeout", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .arg("export")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("sockeye: invalid"), "{args:?}: {err}");
    }
}

// ---- end to end with a real Prometheus ----

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn find_in_path(bin: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(bin))
        .find(|p| p.is_file())
}

#[test]
fn prometheus_scrapes_the_accept_queue_of_our_listener() {
    if !crate::common::require_tool("prometheus", "prometheus") {
        return;
    }
    let Some(prometheus) = find_in_path("prometheus") else {
        return;
    };
    let b = backlogged();
    let exp = start_exporter(&["--interval", "0.5"]);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: sockeye\n    static_configs:\n      \
             - targets: ['{}']\n",
            exp.addr
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let web = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address={web}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawn prometheus");
    let _prometheus = Proc(child);

    let query = format!("sockeye_listen_queue_length{{port=\"{}\"}}", b.port);
    let path = format!("/api/v1/query?query={}", percent_encode(&query));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    let found = loop {
        if Instant::now() > deadline {
            break None;
        }
        thread::sleep(Duration::from_millis(500));
        if TcpStream::connect_timeout(&web, Duration::from_secs(1)).is_err() {
            continue; // not up yet
        }
        let r = http(web, "GET", &path);
        last = r.body.clone();
        if r.status != 200 {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&r.body).expect("Prometheus answers JSON");
        let results = v["data"]["result"].as_array().cloned().unwrap_or_default();
        if let Some(series) = results.first() {
            break Some(series.clone());
        }
    };
    let series = found.unwrap_or_else(|| {
        // Say why: was the target scraped at all, and with what error?
        let targets = http(web, "GET", "/api/v1/targets").body;
        let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
        panic!(
            "Prometheus never had our series; last answer {last}\ntargets: {targets}\n\
             prometheus log:\n{log}"
        )
    });
    assert_eq!(series["metric"]["job"], "sockeye");
    assert_eq!(series["metric"]["address"], "127.0.0.1");
    assert_eq!(series["value"][1], "2", "{series}");
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A unix listener with backlog 1 and two clients it never accepts shows as a
/// `sockeye_finding` from the second collection on (a trend needs two), and is counted.
#[test]
fn a_full_unix_listener_is_a_finding_gauge() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.sock");
    let l = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
    l.bind(&socket2::SockAddr::unix(&path).unwrap()).unwrap();
    l.listen(1).unwrap();
    let _clients: Vec<_> = (0..2)
        .map(|_| std::os::unix::net::UnixStream::connect(&path).unwrap())
        .collect();
    let ex = start_exporter(&["--interval", "0"]);
    let place = format!("unix listener {}", path.display());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let e = scrape(ex.addr);
        let hit = e
            .matching(
                "sockeye_finding",
                &[("rule", "unix-listener-full"), ("severity", "critical")],
            )
            .into_iter()
            .any(|s| {
                s.labels.get("where").is_some_and(|w| w.starts_with(&place)) && s.value == 1.0
            });
        if hit {
            let n = e
                .value(
                    "sockeye_findings",
                    &[("rule", "unix-listener-full"), ("severity", "critical")],
                )
                .unwrap();
            assert!(n >= 1.0);
            assert_eq!(
                e.value(
                    "sockeye_findings",
                    &[("rule", "orphans"), ("severity", "warning")]
                ),
                Some(0.0)
            );
            break;
        }
        assert!(Instant::now() < deadline, "no finding for {place}");
        thread::sleep(Duration::from_millis(100));
    }
    drop(l);
}

#[test]
fn closed_connections_are_counted_by_port_and_how_they_ended() {
    // The listener first: the exporter looks listeners up at most ten times a second, and
    // other tests' closes may have just made it look.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    // Every port its own series: other tests' closes must not push ours into "other".
    let exp = start_exporter(&["--no-processes", "--top-ports", "1000000"]);
    let port = l.local_addr().unwrap().port().to_string();
    const N: usize = 5;
    for _ in 0..N {
        let mut c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut s, _) = l.accept().unwrap();
        c.write_all(b"ping").unwrap();
        let mut b = [0u8; 4];
        s.read_exact(&mut b).unwrap();
        drop(c);
        drop(s);
    }
    // Both ends of each connection, counted under the listener's port.
    let want = (2 * N) as f64;
    let counted = |exp: &Exporter| {
        scrape(exp.addr).value(
            "sockeye_tcp_connections_closed_total",
            &[("port", &port), ("reason", "orderly")],
        )
    };
    wait_until("the closes are counted", Duration::from_secs(10), || {
        counted(&exp) == Some(want)
    });
    let m = scrape(exp.addr);
    assert_eq!(
        m.value("sockeye_closed_source_info", &[("source", "events")]),
        Some(1.0)
    );
    assert_eq!(m.value("sockeye_events_lost_total", &[]), Some(0.0));
}

#[test]
fn opened_connections_are_counted_under_the_listeners_port() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let exp = start_exporter(&["--no-processes", "--top-ports", "1000000"]);
    let port = l.local_addr().unwrap().port().to_string();
    let opened = |exp: &Exporter| {
        scrape(exp.addr)
            .value("sockeye_tcp_connections_opened_total", &[("port", &port)])
            .unwrap_or(0.0)
    };
    // A first scrape: the exporter has seen the listener with nothing accepted yet.
    wait_until("the listener is seen", Duration::from_secs(10), || {
        !scrape(exp.addr)
            .matching("sockeye_listen_queue_length", &[("port", &port)])
            .is_empty()
    });
    let before = opened(&exp);
    const N: usize = 7;
    let mut keep = Vec::new();
    for _ in 0..N {
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        keep.push((c, s));
    }
    wait_until("the opens are counted", Duration::from_secs(10), || {
        opened(&exp) - before == N as f64
    });
    // Closing them does not take the counter back.
    drop(keep);
    let m = scrape(exp.addr);
    assert_eq!(
        m.value("sockeye_tcp_connections_opened_total", &[("port", &port)]),
        Some(before + N as f64)
    );
}
