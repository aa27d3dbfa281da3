//! The new rules on real sockets the test makes: a UDP socket nobody reads, a unix listener
//! with backlog 1; a private network namespace that is healthy; the same finding read back
//! from a recording; a finding inside another namespace named by `--all-netns`.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::{require_root, require_tool};
use crate::demo::support::BIN;

fn sockeye(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--no-config")
        .args(args)
        .output()
        .unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {} / {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn findings_of<'a>(j: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn a_healthy_private_namespace_exits_0_with_no_findings() {
    if !(require_root("unshare -n") && require_tool("unshare", "util-linux")) {
        return;
    }
    let o = Command::new("unshare")
        .args(["-n", BIN, "--no-config", "check", "--json", "--window", "1"])
        .output()
        .unwrap();
    let j = json(&o);
    assert_eq!(j["findings"], serde_json::json!([]), "{j:#}");
    assert_eq!(o.status.code(), Some(0));
    // The text form says so too.
    let o = Command::new("unshare")
        .args(["-n", BIN, "--no-config", "check", "--window", "0.5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("OK: no findings"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// A UDP socket with a small buffer that nobody reads, and a thread sending to it until
/// dropped.
struct Flood {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    _sink: UdpSocket,
}

impl Flood {
    fn start() -> Flood {
        let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sock = socket2::SockRef::from(&sink);
        sock.set_recv_buffer_size(4096).unwrap();
        let port = sink.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            let data = [7u8; 512];
            while !flag.load(Ordering::Relaxed) {
                let _ = tx.send_to(&data, ("127.0.0.1", port));
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Flood {
            port,
            stop,
            thread: Some(thread),
            _sink: sink,
        }
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_udp_socket_nobody_reads_is_udp_receive_drops() {
    // RcvbufErrors is per namespace, and other tests watch the host's: as root, drop
    // datagrams in a namespace of this test's own.
    if crate::common::is_root() {
        assert!(crate::common::enter_private_netns(), "private namespace");
    }
    let flood = Flood::start();
    let filter = format!("sport = :{}", flood.port);
    let o = sockeye(&["check", "-u", "--json", "--window", "1", &filter]);
    let j = json(&o);
    let f = findings_of(&j, "udp-receive-drops");
    assert_eq!(f.len(), 1, "{j:#}");
    assert_eq!(f[0]["severity"], "critical", "{:#}", f[0]);
    assert!(
        f[0]["where"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{}", flood.port)),
        "{:#}",
        f[0]
    );
    assert!(
        f[0]["evidence"][1]
            .as_str()
            .unwrap()
            .starts_with("drops: +")
    );
    assert!(
        f[0]["threshold"]
            .as_str()
            .unwrap()
            .contains("udp_drops_min = 1")
    );
    assert_eq!(o.status.code(), Some(2));
}

/// A unix stream listener with backlog 1 and two connections it never accepts (the kernel
/// queues up to backlog + 1).
fn full_unix_listener(
    dir: &std::path::Path,
) -> (std::path::PathBuf, socket2::Socket, Vec<UnixStream>) {
    let path = dir.join("full.sock");
    let l = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
    l.bind(&socket2::SockAddr::unix(&path).unwrap()).unwrap();
    l.listen(1).unwrap();
    let clients = (0..2)
        .map(|_| UnixStream::connect(&path).unwrap())
        .collect();
    (path, l, clients)
}

#[test]
fn a_unix_listener_with_backlog_1_and_two_waiting_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _l, _clients) = full_unix_listener(dir.path());
    let o = sockeye(&["check", "-x", "--json", "--window", "0.5"]);
    let j = json(&o);
    let shown = path.to_str().unwrap();
    let f: Vec<_> = findings_of(&j, "unix-listener-full")
        .into_iter()
        .filter(|f| f["where"].as_str().unwrap().contains(shown))
        .collect();
    assert_eq!(f.len(), 1, "{j:#}");
    assert_eq!(f[0]["severity"], "critical");
    let evidence = f[0]["evidence"][0].as_str().unwrap();
    assert!(evidence.ends_with("2 of backlog 1"), "{evidence}");
    assert_ne!(o.status.code(), Some(0));
}

#[test]
fn check_from_a_recording_finds_what_was_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (path, l, clients) = full_unix_listener(dir.path());
    let rec = dir.path().join("r.rec");
    let o = sockeye(&[
        "record",
        "-x",
        "-q",
        "--interval",
        "0.1",
        "--duration",
        "800ms",
        "-o",
        rec.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    drop((l, clients));
    let o = sockeye(&["check", "--json", "--from", rec.to_str().unwrap()]);
    let j = json(&o);
    let shown = path.to_str().unwrap();
    assert!(
        findings_of(&j, "unix-listener-full")
            .iter()
            .any(|f| f["where"].as_str().unwrap().contains(shown)),
        "{j:#}"
    );
    assert_eq!(o.status.code(), Some(2));
    // --between over the same frames, and a window of one frame is a usage error (3).
    let o = sockeye(&[
        "check",
        "--json",
        "--from",
        rec.to_str().unwrap(),
        "--between",
        "+0s",
        "+10s",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = sockeye(&[
        "check",
        "--from",
        rec.to_str().unwrap(),
        "--window",
        "0.5",
        "--at",
        "+0s",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("one frame"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = sockeye(&["check", "--from", dir.path().join("nope").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
}

/// A named namespace holding a TCP listener with backlog 1 and three connections it never
/// accepts; killed and deleted on drop.
struct FullNs {
    name: String,
    child: Option<Child>,
}

impl Drop for FullNs {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

#[test]
fn all_netns_names_the_namespace_of_each_finding() {
    if !(require_root("ip netns add, setns")
        && require_tool("ip", "iproute2")
        && require_tool("python3", "python3"))
    {
        return;
    }
    let name = format!("sockeye-check-{}", std::process::id());
    let ok = Command::new("ip").args(["netns", "add", &name]).status();
    assert!(ok.is_ok_and(|s| s.success()));
    let mut ns = FullNs {
        name: name.clone(),
        child: None,
    };
    let up = Command::new("ip")
        .args(["-n", &name, "link", "set", "lo", "up"])
        .status();
    assert!(up.is_ok_and(|s| s.success()));
    let code = "import socket,sys\n\
                s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1)\n\
                a=s.getsockname(); cs=[]\n\
                for i in range(4):\n  c=socket.socket(); c.setblocking(False); c.connect_ex(a); cs.append(c)\n\
                print(a[1], flush=True); sys.stdin.read()";
    let mut child = Command::new("ip")
        .args(["netns", "exec", &name, "python3", "-c", code])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    ns.child = Some(child);
    let port: u16 = line.trim().parse().expect("the holder prints its port");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = sockeye(&["check", "--all-netns", "-t", "--json", "--window", "0.5"]);
        let j = json(&o);
        let hit = findings_of(&j, "accept-queue-overflow")
            .into_iter()
            .find(|f| {
                f["netns"]["name"] == name.as_str()
                    && f["where"].as_str().unwrap().contains(&format!(":{port}"))
            });
        if let Some(f) = hit {
            assert_eq!(f["severity"], "critical", "{f:#}");
            assert!(f["netns"]["inode"].as_u64().unwrap() > 0);
            break;
        }
        assert!(Instant::now() < deadline, "no finding in {name}: {j:#}");
    }
    // -N checks that namespace alone.
    let o = sockeye(&["check", "-N", &name, "-t", "--json", "--window", "0.5"]);
    let j = json(&o);
    let f = findings_of(&j, "accept-queue-overflow");
    assert_eq!(f.len(), 1, "{j:#}");
    assert_eq!(f[0]["netns"]["name"], name.as_str());
    assert_eq!(o.status.code(), Some(2));
    drop(ns);
}

/// A client whose SYN a full listener keeps dropping retransmits it with the timer doubling:
/// peer-retransmits for 127.0.0.1 once the timer has fired retrans_backoff_min times.
#[test]
fn a_syn_retransmitted_to_a_full_listener_is_a_peer_backing_off() {
    let overflow = crate::common::backlog_overflow("127.0.0.1".parse().unwrap());
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("sockeye")).unwrap();
    std::fs::write(
        home.path().join("sockeye/config.toml"),
        "[findings]\nretrans_backoff_min = 2\n",
    )
    .unwrap();
    let filter = format!("dport = :{}", overflow.port);
    // The SYN is sent again after 1 s, then 2 s: two retransmits within about 3 s.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = Command::new(BIN)
            .args(["check", "-t", "--json", "--window", "0.5", &filter])
            .env("XDG_CONFIG_HOME", home.path())
            .output()
            .unwrap();
        let j = json(&o);
        if let Some(f) = findings_of(&j, "peer-retransmits").first() {
            assert_eq!(f["where"], "peer 127.0.0.1", "{f:#}");
            assert!(
                f["evidence"][1]
                    .as_str()
                    .unwrap()
                    .contains(&format!(":{}: ", overflow.port)),
                "{f:#}"
            );
            assert!(
                f["threshold"]
                    .as_str()
                    .unwrap()
                    .contains("retrans_backoff_min = 2")
            );
            break;
        }
        assert!(Instant::now() < deadline, "no peer-retransmits: {j:#}");
        std::thread::sleep(Duration::from_millis(300));
    }
    drop(overflow);
}

/// With net.ipv4.tcp_syncookies = 2 every SYN is answered with a cookie: connections made
/// during the window make SyncookiesSent rise (in a private namespace, so the host-wide
/// counters are the test's own).
#[test]
fn syn_cookies_sent_in_a_private_namespace_are_a_syncookies_finding() {
    if !(require_root("unshare -n, sysctl") && require_tool("ip", "iproute2")) {
        return;
    }
    assert!(crate::common::enter_private_netns(), "private namespace");
    std::fs::write("/proc/sys/net/ipv4/tcp_syncookies", "2").unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Threads made now share this thread's namespace. Connections are accepted and closed,
    // so the accept queue never fills (a full one drops SYNs before any cookie is sent).
    let clients = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            let c = std::net::TcpStream::connect(addr);
            while let Ok((s, _)) = listener.accept() {
                drop(s);
            }
            drop(c);
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let o = sockeye(&["check", "-t", "--json", "--window", "1"]);
    stop.store(true, Ordering::Relaxed);
    let _ = clients.join();
    let j = json(&o);
    let f = findings_of(&j, "syncookies");
    assert_eq!(f.len(), 1, "{j:#}");
    assert_eq!(f[0]["where"], "host");
    assert!(
        f[0]["evidence"][0]
            .as_str()
            .unwrap()
            .starts_with("SyncookiesSent +"),
        "{:#}",
        f[0]
    );
    assert!(
        f[0]["evidence"][1]
            .as_str()
            .unwrap()
            .contains("net.ipv4.tcp_syncookies 2"),
        "{:#}",
        f[0]
    );
}
