//! A real container: crun runs python3 in new network, pid, mount, ipc and uts namespaces,
//! on a root file system built from the host's own /usr (bind-mounted read-only: no image is
//! downloaded). Its listener's accept queue is filled from inside; sockeye must find the
//! namespace, name the container (runtime, id, and the pod from the bundle's annotations),
//! attribute the socket to python3 with its pid inside (1), and agree with ss run inside.
//! Needs root and crun (.ci/run installs it); under CI a runtime that cannot run fails.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use super::dump::{available, sockeye, stdout};
use crate::common::{require, require_tool, wait_until};

/// A running container; killed and deleted on drop, whatever the test did.
pub(crate) struct Crun {
    pub(crate) id: String,
    child: Child,
    _stdin: ChildStdin,
    _bundle: tempfile::TempDir,
    pub(crate) port: u16,
}

impl Drop for Crun {
    fn drop(&mut self) {
        let _ = Command::new("crun")
            .args(["kill", &self.id, "KILL"])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new("crun")
            .args(["delete", "-f", &self.id])
            .status();
    }
}

impl Crun {
    /// Start the container in its own network namespace; `Err` says why crun could not.
    fn start() -> Result<Crun, String> {
        Crun::start_with(false)
    }

    /// Start it; `host_network`: without a network namespace of its own (listening on
    /// loopback only, since that is the machine's).
    pub(crate) fn start_with(host_network: bool) -> Result<Crun, String> {
        let bundle = tempfile::tempdir().map_err(|e| e.to_string())?;
        let b = bundle.path();
        let rootfs = b.join("rootfs");
        for d in ["usr", "proc", "dev", "sys", "tmp"] {
            std::fs::create_dir_all(rootfs.join(d)).map_err(|e| e.to_string())?;
        }
        // Debian's merged /usr: the rest of the tree is symbolic links into it.
        for (link, to) in [
            ("bin", "usr/bin"),
            ("lib", "usr/lib"),
            ("lib64", "usr/lib64"),
        ] {
            std::os::unix::fs::symlink(to, rootfs.join(link)).map_err(|e| e.to_string())?;
        }
        let spec = Command::new("crun")
            .args(["spec"])
            .current_dir(b)
            .output()
            .map_err(|e| e.to_string())?;
        if !spec.status.success() {
            return Err(format!(
                "crun spec: {}",
                String::from_utf8_lossy(&spec.stderr)
            ));
        }
        let path = b.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let mut cfg: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let addr = if host_network { "127.0.0.1" } else { "0.0.0.0" };
        let code = format!(
            "import socket,sys\n\
             s=socket.socket(); s.bind(('{addr}',0)); s.listen(4)\n\
             print(s.getsockname()[1], flush=True); sys.stdin.read()"
        );
        if host_network {
            cfg["linux"]["namespaces"]
                .as_array_mut()
                .ok_or("no namespaces")?
                .retain(|n| n["type"] != "network");
        }
        cfg["process"]["terminal"] = false.into();
        cfg["process"]["args"] = serde_json::json!(["/usr/bin/python3", "-c", code]);
        cfg["process"]["env"] = serde_json::json!(["PATH=/usr/bin", "PYTHONDONTWRITEBYTECODE=1"]);
        cfg["mounts"]
            .as_array_mut()
            .ok_or("no mounts")?
            .push(serde_json::json!({
                "destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]
            }));
        cfg["annotations"] = serde_json::json!({
            "io.kubernetes.pod.name": "shop-7d9",
            "io.kubernetes.pod.namespace": "prod",
        });
        std::fs::write(&path, cfg.to_string()).map_err(|e| e.to_string())?;

        let id = format!(
            "sockeye-test-{}{}",
            std::process::id(),
            if host_network { "-hostnet" } else { "" }
        );
        // The container needs no cgroup of its own (and crun refuses a hybrid cgroup layout
        // whose v2 half has controllers): cgroups off, and the v2 half hidden from crun in
        // a private mount namespace only, so the machine's own mounts stay as they are.
        let script = format!(
            "umount /sys/fs/cgroup/unified 2>/dev/null; \
             exec crun --cgroup-manager=disabled run -b '{}' '{id}'",
            b.display()
        );
        let mut child = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("unshare: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut line = String::new();
        let out = child.stdout.take().ok_or("no stdout")?;
        let _ = BufReader::new(out).read_line(&mut line);
        let port = match line.trim().parse() {
            Ok(p) => p,
            Err(_) => {
                let _ = child.kill();
                let o = child.wait_with_output().map_err(|e| e.to_string())?;
                let _ = Command::new("crun").args(["delete", "-f", &id]).status();
                return Err(format!(
                    "crun run printed no port: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
        };
        Ok(Crun {
            id,
            child,
            _stdin: stdin,
            _bundle: bundle,
            port,
        })
    }

    /// The container's init pid, from crun's state.
    pub(crate) fn pid(&self) -> u32 {
        let o = Command::new("crun")
            .args(["state", &self.id])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["pid"].as_u64().unwrap() as u32
    }
}

#[test]
fn a_host_network_container_is_named_on_its_sockets_through_their_process() {
    if !available() || !require_tool("crun", "crun") || !require_tool("unshare", "util-linux") {
        return;
    }
    let ctr = match Crun::start_with(true) {
        Ok(c) => c,
        Err(why) => {
            require(false, &format!("crun cannot run a container here: {why}"));
            return;
        }
    };
    let pid = ctr.pid();
    let host = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
    assert_eq!(
        std::fs::metadata(format!("/proc/{pid}/ns/net"))
            .unwrap()
            .ino(),
        host,
        "the container shares the host's namespace"
    );
    let find = |args: &[&str]| {
        let out = stdout(&sockeye(args));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .find(|s| s["local_port"] == ctr.port && s["netns"]["inode"] == host)
            .cloned()
            .unwrap_or_else(|| panic!("port {} in net:[{host}]: {out}", ctr.port))
    };
    let s = find(&[
        "--all-netns",
        "-tlnp",
        "--json",
        "sport",
        "=",
        &ctr.port.to_string(),
    ]);
    let c = &s["container"];
    assert_eq!(c["runtime"], "crun", "{s}");
    assert_eq!(c["id"], ctr.id.as_str(), "{s}");
    assert_eq!(c["pod"], "shop-7d9", "{s}");
    assert_eq!(s["processes"][0]["pid"], pid, "{s}");
    // The namespace itself stays the host's: its other sockets name no container.
    let out = stdout(&sockeye(&["--all-netns", "-tlnp", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let others: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["netns"]["inode"] == host && s["local_port"] != ctr.port)
        .filter(|s| s["processes"].as_array().is_none_or(|p| p.is_empty()))
        .collect();
    assert!(
        others.iter().all(|s| s["container"].is_null()),
        "unowned host sockets carry no container: {others:?}"
    );
    // Without -p the owner is unknown: no attribution.
    let s = find(&[
        "--all-netns",
        "-tln",
        "--json",
        "sport",
        "=",
        &ctr.port.to_string(),
    ]);
    assert!(s["container"].is_null(), "{s}");
}

#[test]
fn a_crun_container_is_found_named_and_agrees_with_ss_inside() {
    if !available()
        || !require_tool("crun", "crun")
        || !require_tool("unshare", "util-linux")
        || !require_tool("nsenter", "util-linux")
    {
        return;
    }
    let ctr = match Crun::start() {
        Ok(c) => c,
        Err(why) => {
            require(false, &format!("crun cannot run a container here: {why}"));
            return;
        }
    };
    let pid = ctr.pid();
    let inode = std::fs::metadata(format!("/proc/{pid}/ns/net"))
        .unwrap()
        .ino();
    // Two connections from inside the container, never accepted: the queue holds 2 of 4.
    let connect = format!(
        "import socket,sys\n\
         c=[socket.create_connection(('127.0.0.1',{})) for _ in range(2)]\n\
         print('ok', flush=True); sys.stdin.read()",
        ctr.port
    );
    let pid_s = pid.to_string();
    let mut clients = Command::new("nsenter")
        .args(["-t", &pid_s, "-n", "python3", "-c", &connect])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ok = String::new();
    BufReader::new(clients.stdout.take().unwrap())
        .read_line(&mut ok)
        .unwrap();
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _clients = Kill(clients);
    assert_eq!(
        ok.trim(),
        "ok",
        "the clients connected (lo is up inside? crun brings it up)"
    );

    let out = stdout(&sockeye(&["--all-netns", "-tlnp", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local_port"] == ctr.port && s["netns"]["inode"] == inode)
        .unwrap_or_else(|| panic!("port {} in net:[{inode}]: {out}", ctr.port));
    let c = &s["container"];
    assert_eq!(c["runtime"], "crun", "{s}");
    assert_eq!(c["id"], ctr.id.as_str(), "{s}");
    assert_eq!(
        c["pod"], "shop-7d9",
        "names from the bundle's annotations: {s}"
    );
    assert_eq!(c["pod_namespace"], "prod");
    assert_eq!(s["recv_q"], 2, "the filled accept queue: {s}");
    assert_eq!(s["send_q"], 4);
    let p = &s["processes"][0];
    assert_eq!(p["command"], "python3", "{s}");
    assert_eq!(p["pid"], pid);
    assert_eq!(p["nspid"], 1, "pid 1 inside the container: {s}");

    // The table names the pod; the filter finds it by container id.
    let table = stdout(&sockeye(&["--all-netns", "-tln", "netns", "=", &ctr.id]));
    let row = table
        .lines()
        .find(|l| l.contains(&format!(":{} ", ctr.port)))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.starts_with("shop-7d9 "), "{row}");

    // What sockeye reads in that namespace is what ss run inside it prints.
    let ours = stdout(&sockeye(&["-N", &format!("pid:{pid}"), "-tan"]));
    let ss = Command::new("nsenter")
        .args(["-t", &pid_s, "-n", "ss", "-tan"])
        .output()
        .unwrap();
    assert!(ss.status.success());
    // Connections may still be finishing their handshake: compare once both are settled.
    let settled = wait_until(Duration::from_secs(10), || {
        let a = stdout(&sockeye(&["-N", &format!("pid:{pid}"), "-tan"]));
        let b = Command::new("nsenter")
            .args(["-t", &pid_s, "-n", "ss", "-tan"])
            .output()
            .unwrap();
        a == String::from_utf8_lossy(&b.stdout)
    });
    assert!(
        settled,
        "sockeye -N pid:{pid} -tan:\n{ours}\nss inside:\n{}",
        String::from_utf8_lossy(&ss.stdout)
    );
    let _ = std::io::stdout().flush();
}
