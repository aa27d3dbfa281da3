//! Shared helpers for the demo tests: start `sockeye demo --headless` with a private
//! XDG_RUNTIME_DIR, read its banner, talk to its control socket, read `ss`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_sockeye");

pub struct DemoProc {
    pub child: Child,
    pub ports: HashMap<String, u16>,
    pub control: PathBuf,
    pub runtime_dir: tempfile::TempDir,
}

impl DemoProc {
    /// Start the demo headless with `args` (scenario names and flags) and wait for its banner.
    pub fn start(args: &[&str]) -> DemoProc {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(args, dir)
    }

    pub fn start_in(args: &[&str], dir: tempfile::TempDir) -> DemoProc {
        Self::try_start_in(args, dir).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Start, or say why the demo printed no banner (its stderr).
    pub fn try_start_in(args: &[&str], dir: tempfile::TempDir) -> Result<DemoProc, String> {
        let mut child = Command::new(BIN)
            .arg("demo")
            .arg("--headless")
            .args(args)
            .env("XDG_RUNTIME_DIR", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sockeye demo");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut ports = HashMap::new();
        let mut control = None;
        while control.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(l) => l,
                Err(_) => {
                    let _ = child.kill();
                    let out = child.wait_with_output().unwrap();
                    return Err(format!(
                        "demo printed no banner; stderr: {}",
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            };
            let mut words = line.split_whitespace();
            let (Some(name), Some(second)) = (words.next(), words.next()) else {
                continue;
            };
            if name == "control" {
                control = Some(PathBuf::from(second));
            } else if let Some((_, port)) = second.rsplit_once(':') {
                ports.insert(name.to_string(), port.parse().unwrap());
            }
        }
        Ok(DemoProc {
            child,
            ports,
            control: control.unwrap(),
            runtime_dir: dir,
        })
    }

    pub fn port(&self, scenario: &str) -> u16 {
        *self
            .ports
            .get(scenario)
            .unwrap_or_else(|| panic!("no port for {scenario} in {:?}", self.ports))
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Send one raw line on a fresh connection and return the parsed reply.
    pub fn request(&self, line: &str) -> serde_json::Value {
        request(&self.control, line)
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Send a signal and wait (bounded) for the exit status.
    pub fn signal(&mut self, sig: i32) -> ExitStatus {
        unsafe { libc::kill(self.pid(), sig) };
        self.wait(Duration::from_secs(10))
    }

    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("demo did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for DemoProc {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if self.child.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn request(path: &Path, line: &str) -> serde_json::Value {
    let mut s = UnixStream::connect(path).expect("connect to control socket");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(line.as_bytes()).unwrap();
    s.write_all(b"\n").unwrap();
    let mut reply = String::new();
    BufReader::new(&s).read_line(&mut reply).unwrap();
    serde_json::from_str(&reply).unwrap_or_else(|e| panic!("reply {reply:?}: {e}"))
}

/// One row of `ss -tanH`.
#[derive(Debug, Clone)]
pub struct Row {
    pub state: String,
    pub recv_q: u64,
    pub send_q: u64,
    pub local_port: u16,
    pub peer_port: u16,
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(0)
}

/// TCP sockets with `port` on either end, as ss sees them.
pub fn ss(port: u16) -> Vec<Row> {
    let out = Command::new("ss")
        .args(["-tanH", &format!("sport = :{port} or dport = :{port}")])
        .output()
        .expect("run ss");
    assert!(out.status.success(), "ss failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 5 {
                return None;
            }
            Some(Row {
                state: f[0].to_string(),
                recv_q: f[1].parse().ok()?,
                send_q: f[2].parse().ok()?,
                local_port: port_of(f[3]),
                peer_port: port_of(f[4]),
            })
        })
        .collect()
}

/// Poll `check` until it returns Some or `secs` pass; on timeout panic with the last
/// observation `describe` gives.
pub fn eventually<T>(
    secs: u64,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
    describe: impl Fn() -> String,
) -> T {
    // Generous: the machine is shared and busy; a passing check returns at once.
    let deadline = Instant::now() + Duration::from_secs(secs * 3);
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}; last seen:\n{}", describe());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn show(port: u16) -> String {
    ss(port)
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Read a TcpExt counter from /proc/net/netstat.
pub fn tcp_ext(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let head = lines.next()?;
    let vals = lines.next()?;
    let i = head.split_whitespace().position(|h| h == name)?;
    vals.split_whitespace().nth(i)?.parse().ok()
}

/// TCP sockets with `port` on either end, as `sockeye dump --json` sees them.
pub fn dump(port: u16) -> Vec<Row> {
    let out = Command::new(BIN)
        // Filtered here rather than with a filter expression: this checks the snapshot,
        // not the filter language.
        .args(["--no-config", "dump", "-tan", "--json"])
        .output()
        .expect("run sockeye dump");
    assert!(
        out.status.success(),
        "sockeye dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("dump JSON");
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|s| Row {
            state: s["state"].as_str().unwrap().to_string(),
            recv_q: s["recv_q"].as_u64().unwrap(),
            send_q: s["send_q"].as_u64().unwrap(),
            local_port: s["local_port"].as_u64().unwrap() as u16,
            peer_port: s["peer_port"].as_u64().unwrap() as u16,
        })
        .filter(|r| r.local_port == port || r.peer_port == port)
        .collect()
}

/// Poll until `check` holds on what ss shows, then until it holds on what sockeye's own dump
/// shows: both oracles must see the phenomenon.
pub fn eventually_both(secs: u64, what: &str, port: u16, check: impl Fn(&[Row]) -> bool) {
    eventually(
        secs,
        &format!("{what} (ss)"),
        || check(&ss(port)).then_some(()),
        || show(port),
    );
    eventually(
        secs,
        &format!("{what} (sockeye dump)"),
        || check(&dump(port)).then_some(()),
        || format!("{:#?}", dump(port)),
    );
}
