//! Which container a process belongs to, from its /proc/PID/cgroup: the runtime's scope
//! (`docker-ID.scope`, `cri-containerd-ID.scope`, `crio-ID.scope`, `libpod-ID.scope`, or
//! cgroupfs paths `/docker/ID`, `/kubepods/.../pod<UID>/ID`), and where readable a name from
//! the runtime's state on disk (docker's `config.v2.json`, an OCI bundle's `config.json`
//! annotations). Everything read here is untrusted text: callers escape it for terminals.

use std::path::Path;

pub use crate::model::Container;

/// The container of the process whose cgroup file is at `/proc/PID/cgroup`, with names
/// from the runtime's state where readable.
pub fn of_pid(pid: u32) -> Option<Container> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let mut c = parse_cgroup(&text)?;
    add_names(&mut c, Path::new("/"));
    Some(c)
}

/// The container named by a /proc/PID/cgroup text: the first line (in file order) whose path
/// names one. The `0::` line and the v1 controllers name the same one.
pub fn parse_cgroup(text: &str) -> Option<Container> {
    text.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        parse_path(path)
    })
}

fn parse_path(path: &str) -> Option<Container> {
    let pod_uid = path.split('/').find_map(pod_uid_of);
    let kube = path.contains("kubepods");
    for seg in path.split('/').rev() {
        let (runtime, id) = if let Some(rest) = seg.strip_suffix(".scope") {
            let Some((prefix, id)) = rest.rsplit_once('-') else {
                continue;
            };
            let runtime = match prefix {
                "docker" => "docker",
                "cri-containerd" => "containerd",
                "crio" => "crio",
                "libpod" => "podman",
                _ => continue,
            };
            (runtime, id)
        } else if is_id(seg) {
            // cgroupfs driver: /docker/ID, /kubepods/burstable/podUID/ID.
            let runtime = if kube {
                "containerd"
            } else if path.contains("/docker/") {
                "docker"
            } else if path.contains("/libpod") || path.contains("machine.slice") {
                "podman"
            } else {
                continue;
            };
            (runtime, seg)
        } else {
            continue;
        };
        if !is_id(id) {
            continue;
        }
        return Some(Container {
            runtime,
            id: id.to_string(),
            pod_uid: pod_uid.clone(),
            ..Container::default()
        });
    }
    None
}

/// `pod<UID>` or `kubepods-besteffort-pod<UID>.slice` (dashes in the UID are underscores
/// there) gives the UID.
fn pod_uid_of(seg: &str) -> Option<String> {
    let s = seg.strip_suffix(".slice").unwrap_or(seg);
    let at = s.rfind("pod")?;
    let uid = &s[at + 3..];
    (uid.len() >= 32
        && uid
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '-' || c == '_'))
    .then(|| uid.replace('_', "-"))
}

/// A container id: 64 hex digits.
fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Names from the runtime's state under `root` (`/` on the real machine).
pub fn add_names(c: &mut Container, root: &Path) {
    match c.runtime {
        "docker" => {
            let p = root.join(format!("var/lib/docker/containers/{}/config.v2.json", c.id));
            if let Some(v) = read_json(&p) {
                c.name = v["Name"]
                    .as_str()
                    .map(|n| n.trim_start_matches('/').to_string());
            }
        }
        "containerd" | "crio" => {
            let bundles = [
                format!(
                    "run/containerd/io.containerd.runtime.v2.task/k8s.io/{}/config.json",
                    c.id
                ),
                format!(
                    "run/containerd/io.containerd.runtime.v2.task/moby/{}/config.json",
                    c.id
                ),
                format!(
                    "run/containers/storage/overlay-containers/{}/userdata/config.json",
                    c.id
                ),
            ];
            if let Some(v) = bundles.iter().find_map(|b| read_json(&root.join(b))) {
                let a = &v["annotations"];
                let get = |k: &str| a[k].as_str().map(str::to_string);
                c.name = get("io.kubernetes.cri.container-name")
                    .or_else(|| get("io.kubernetes.container.name"));
                c.pod =
                    get("io.kubernetes.cri.sandbox-name").or_else(|| get("io.kubernetes.pod.name"));
                c.pod_namespace = get("io.kubernetes.cri.sandbox-namespace")
                    .or_else(|| get("io.kubernetes.pod.namespace"));
            }
        }
        _ => {}
    }
}

/// A runtime state file: bounded, since it is read for a name only.
fn read_json(p: &Path) -> Option<serde_json::Value> {
    let meta = std::fs::metadata(p).ok()?;
    if meta.len() > 4 << 20 {
        return None;
    }
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f";

    #[test]
    fn docker_systemd_and_cgroupfs() {
        let c = parse_cgroup(&format!("0::/system.slice/docker-{ID}.scope\n")).unwrap();
        assert_eq!((c.runtime, c.id.as_str()), ("docker", ID));
        let v1 = format!("12:memory:/docker/{ID}\n11:cpu:/docker/{ID}\n0::/\n");
        assert_eq!(parse_cgroup(&v1).unwrap().runtime, "docker");
    }

    #[test]
    fn containerd_and_kubepods_pod_uid() {
        let line = format!(
            "0::/kubepods.slice/kubepods-besteffort.slice/\
             kubepods-besteffort-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/\
             cri-containerd-{ID}.scope\n"
        );
        let c = parse_cgroup(&line).unwrap();
        assert_eq!(c.runtime, "containerd");
        assert_eq!(c.id, ID);
        assert_eq!(
            c.pod_uid.as_deref(),
            Some("1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901")
        );
        let cgroupfs =
            format!("4:pids:/kubepods/burstable/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/{ID}\n");
        let c = parse_cgroup(&cgroupfs).unwrap();
        assert_eq!((c.runtime, c.id.as_str()), ("containerd", ID));
        assert!(c.pod_uid.is_some());
    }

    #[test]
    fn crio_and_podman() {
        let c = parse_cgroup(&format!(
            "0::/kubepods.slice/kubepods-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/crio-{ID}.scope"
        ))
        .unwrap();
        assert_eq!(c.runtime, "crio");
        let c = parse_cgroup(&format!(
            "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope/container"
        ))
        .unwrap();
        assert_eq!((c.runtime, c.id.as_str()), ("podman", ID));
    }

    #[test]
    fn host_processes_have_no_container() {
        for text in [
            "0::/user.slice/user-0.slice/session-3.scope\n",
            "0::/system.slice/sshd.service\n",
            "0::/\n",
            "garbage",
            "",
            // not a 64-hex id
            "0::/system.slice/docker-abc.scope\n",
        ] {
            assert_eq!(parse_cgroup(text), None, "{text:?}");
        }
    }

    #[test]
    fn names_from_runtime_state() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join(format!("var/lib/docker/containers/{ID}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("config.v2.json"), r#"{"Name":"/web\u001b[2J"}"#).unwrap();
        let mut c = parse_cgroup(&format!("0::/system.slice/docker-{ID}.scope")).unwrap();
        add_names(&mut c, root.path());
        assert_eq!(c.name.as_deref(), Some("web\x1b[2J"));
        assert_eq!(c.label(), "web\x1b[2J");

        let b = root.path().join(format!(
            "run/containerd/io.containerd.runtime.v2.task/k8s.io/{ID}"
        ));
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(
            b.join("config.json"),
            r#"{"annotations":{"io.kubernetes.cri.container-name":"app",
               "io.kubernetes.cri.sandbox-name":"shop-7d9","io.kubernetes.cri.sandbox-namespace":"prod"}}"#,
        )
        .unwrap();
        let mut c = parse_cgroup(&format!(
            "0::/kubepods/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/{ID}"
        ))
        .unwrap();
        add_names(&mut c, root.path());
        assert_eq!(c.name.as_deref(), Some("app"));
        assert_eq!(c.pod.as_deref(), Some("shop-7d9"));
        assert_eq!(c.pod_namespace.as_deref(), Some("prod"));
        assert_eq!(c.label(), "shop-7d9");
    }
}
