//! Needs root (ip netns add, setns); skips with a line otherwise.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::common::{require_root, require_tool};

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A named namespace with loopback up and, optionally, a listener held by a process inside;
/// the process is killed and the namespace deleted on drop, whatever the test did.
pub(super) struct TestNs {
    pub(super) name: String,
    pub(super) holder: Option<Child>,
    pub(super) port: u16,
}

impl TestNs {
    pub(super) fn add() -> TestNs {
        let name = format!(
            "sockeye-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let ok = Command::new("ip").args(["netns", "add", &name]).status();
        assert!(ok.is_ok_and(|s| s.success()), "ip netns add {name}");
        let ns = TestNs {
            name,
            holder: None,
            port: 0,
        };
        let up = Command::new("ip")
            .args(["-n", &ns.name, "link", "set", "lo", "up"])
            .status();
        assert!(up.is_ok_and(|s| s.success()));
        ns
    }

    /// Add a namespace with a TCP listener on 127.0.0.1 (ephemeral port) inside.
    pub(super) fn with_listener() -> TestNs {
        let mut ns = TestNs::add();
        let code = "import socket,sys\n\
                    s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(7)\n\
                    print(s.getsockname()[1], flush=True); sys.stdin.read()";
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "python3", "-c", code])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        ns.holder = Some(child);
        ns.port = line.trim().parse().expect("the holder prints its port");
        ns
    }

    pub(super) fn inode(&self) -> u64 {
        std::fs::metadata(format!("/run/netns/{}", self.name))
            .unwrap()
            .ino()
    }

    pub(super) fn pid(&self) -> u32 {
        self.holder.as_ref().unwrap().id()
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        if let Some(mut c) = self.holder.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

pub(super) fn available() -> bool {
    require_root("ip netns add, setns")
        && require_tool("ip", "iproute2")
        && require_tool("python3", "python3")
}

pub(super) fn sockeye(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(["--no-config", "dump"])
        .args(args)
        .output()
        .unwrap()
}

pub(super) fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "sockeye failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub(super) fn ss_n(name: &str, args: &[&str]) -> String {
    let o = Command::new("ss")
        .args(["-N", name])
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn dump_in_a_named_namespace_matches_ss() {
    if !available() || !require_tool("ss", "iproute2") {
        return;
    }
    let ns = TestNs::with_listener();
    for args in [
        &["-tln"][..],
        &["-tan"],
        &["-tlnp"],
        &["-tln", "sport", ">", ":1024"],
    ] {
        let ours = stdout(&sockeye(&[&["-N", &ns.name][..], args].concat()));
        let theirs = ss_n(&ns.name, args);
        assert_eq!(ours, theirs, "dump -N {} {args:?}", ns.name);
    }
    let ours = stdout(&sockeye(&["-N", &ns.name, "-tln"]));
    assert!(ours.contains(&format!("127.0.0.1:{}", ns.port)), "{ours}");
    // The same namespace by its holder's pid and by path.
    let by_pid = stdout(&sockeye(&["-N", &format!("pid:{}", ns.pid()), "-tln"]));
    let by_path = stdout(&sockeye(&[
        "-N",
        &format!("/run/netns/{}", ns.name),
        "-tln",
    ]));
    assert_eq!(by_pid, ours);
    assert_eq!(by_path, ours);
}

#[test]
fn json_in_a_namespace_names_it() {
    if !available() {
        return;
    }
    let ns = TestNs::with_listener();
    let out = stdout(&sockeye(&["-N", &ns.name, "-tln", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let socks = v.as_array().unwrap();
    assert_eq!(socks.len(), 1, "{out}");
    assert_eq!(socks[0]["local_port"], ns.port);
    assert_eq!(socks[0]["netns"]["inode"], ns.inode());
    assert_eq!(socks[0]["netns"]["name"], ns.name.as_str());
    assert!(socks[0]["container"].is_null());
    // Without -N, no netns key: the schema stays as it was.
    let plain = stdout(&sockeye(&["-tln", "--json"]));
    assert!(!plain.contains("\"netns\""));
}

#[test]
fn all_netns_lists_every_namespace_with_the_hosts_own() {
    if !available() {
        return;
    }
    let a = TestNs::with_listener();
    let b = TestNs::with_listener();
    let here = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let here_port = here.local_addr().unwrap().port();
    let own = std::fs::metadata("/proc/self/ns/net").unwrap().ino();

    let out = stdout(&sockeye(&["--all-netns", "-tln", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let find = |port: u16, inode: u64| {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|s| s["local_port"] == port && s["netns"]["inode"] == inode)
            .count()
    };
    assert_eq!(find(a.port, a.inode()), 1, "{out}");
    assert_eq!(find(b.port, b.inode()), 1, "{out}");
    assert_eq!(find(here_port, own), 1, "the host's own sockets: {out}");
    let named = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local_port"] == a.port && s["netns"]["inode"] == a.inode())
        .unwrap();
    assert_eq!(named["netns"]["name"], a.name.as_str());

    // The table: a Netns column naming the namespace.
    let table = stdout(&sockeye(&["--all-netns", "-tln"]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("Netns "), "{table}");
    let row = lines
        .iter()
        .find(|l| l.contains(&format!("127.0.0.1:{}", a.port)))
        .unwrap();
    assert!(row.starts_with(&a.name), "{row}");
    // Without --all-netns (and with -N) there is no such column, as in ss.
    let one = stdout(&sockeye(&["-N", &a.name, "-tln"]));
    assert!(one.starts_with("State "), "{one}");

    // -s: one summary per namespace.
    let s = stdout(&sockeye(&["--all-netns", "-s"]));
    assert!(
        s.contains(&format!("Netns {} (net:[{}]):", a.name, a.inode())),
        "{s}"
    );
}

#[test]
fn namespaces_vanishing_while_read_are_dropped_quietly() {
    if !available() {
        return;
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|sc| {
        sc.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                drop(TestNs::add());
                // An unnamed namespace held only by a short-lived process.
                let _ = Command::new("unshare")
                    .args(["-n", "sleep", "0.02"])
                    .status();
            }
        });
        // Stops the churn even when an assertion fails (the scope would wait forever).
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = Stop(&stop);
        for _ in 0..8 {
            let o = sockeye(&["--all-netns", "-tan"]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(
                o.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    });
}

#[test]
fn a_namespace_that_is_gone_is_one_clear_error() {
    if !available() {
        return;
    }
    let ns = TestNs::add();
    let name = ns.name.clone();
    drop(ns);
    let o = sockeye(&["-N", &name, "-tln"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("/run/netns/{name}")), "{err}");
    let o = sockeye(&["-N", "pid:nope", "-tln"]);
    assert!(!o.status.success());
}

/// Run as root, the test drops to `nobody` for sockeye: one namespace holds a listener of a
/// `nobody` process (readable through its /proc/PID/net), another only root's (not readable).
#[test]
fn unprivileged_reads_its_own_processes_namespaces_and_names_the_rest_once() {
    if !available() || !require_tool("setpriv", "util-linux") {
        return;
    }
    let drop_to_nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    let mut mine = TestNs::add();
    let code = "import socket,sys\n\
                s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(3)\n\
                print(s.getsockname()[1], flush=True); sys.stdin.read()";
    let mut child = Command::new("ip")
        .args(["netns", "exec", &mine.name, "setpriv"])
        .args(drop_to_nobody)
        .args(["/usr/bin/python3", "-c", code])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    mine.holder = Some(child);
    mine.port = line.trim().parse().expect("the holder prints its port");
    let theirs = TestNs::with_listener();

    let o = Command::new("setpriv")
        .args(drop_to_nobody)
        .args([
            env!("CARGO_BIN_EXE_sockeye"),
            "--no-config",
            "dump",
            "--all-netns",
            "-tln",
        ])
        .output()
        .unwrap();
    let out = stdout(&o);
    let row = out
        .lines()
        .find(|l| l.contains(&format!("127.0.0.1:{}", mine.port)))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.starts_with(&mine.name), "{row}");
    assert!(!out.contains(&format!(":{} ", theirs.port)), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("could not be read"), "{err}");
    assert!(lines[0].contains(&theirs.name), "{err}");
    assert!(!lines[0].contains(&mine.name), "{err}");
}

/// An unnamed namespace (`unshare -n`) held only by a process: found through /proc, named
/// null in JSON and `net:[INODE]` in the table.
#[test]
fn all_netns_finds_a_namespace_only_a_process_holds() {
    if !available() || !require_tool("unshare", "util-linux") {
        return;
    }
    let code = "import socket,sys\n\
                s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(2)\n\
                print(s.getsockname()[1], flush=True); sys.stdin.read()";
    let mut child = Command::new("unshare")
        .args(["-n", "python3", "-c", code])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Killed even if an assertion fails.
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let holder = Kill(child);
    let port: u16 = line.trim().parse().expect("the holder prints its port");
    // unshare execs python3: the holder's pid is the process inside.
    let inode = std::fs::metadata(format!("/proc/{}/ns/net", holder.0.id()))
        .unwrap()
        .ino();
    let out = stdout(&sockeye(&["--all-netns", "-tln", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local_port"] == port && s["netns"]["inode"] == inode)
        .unwrap_or_else(|| panic!("port {port} in net:[{inode}]: {out}"));
    assert!(s["netns"]["name"].is_null());
    assert!(s["container"].is_null());
    let o = sockeye(&["--all-netns", "-tln"]);
    let table = stdout(&o);
    let row = table
        .lines()
        .find(|l| l.contains(&format!("127.0.0.1:{port} ")))
        .unwrap_or_else(|| panic!("{table}{}", String::from_utf8_lossy(&o.stderr)));
    assert!(row.starts_with(&format!("net:[{inode}] ")), "{row}");
}
