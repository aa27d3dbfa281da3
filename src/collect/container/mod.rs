//! Which container a process belongs to, from its /proc/PID/cgroup: the runtime's scope
//! (`docker-ID.scope`, `cri-containerd-ID.scope`, `crio-ID.scope`, `libpod-ID.scope`, or
//! cgroupfs paths `/docker/ID`, `/kubepods/.../pod<UID>/ID`), and where readable a name from
//! the runtime's state on disk (docker's `config.v2.json`, an OCI bundle's `config.json`
//! annotations). LXC (`lxc.payload.NAME`, `/lxc/NAME`) and systemd-nspawn
//! (`systemd-nspawn@NAME.service`, `machine.slice/machine-NAME.scope`) are named by their
//! cgroup too. A container whose cgroup says nothing (an OCI runtime run by hand, with
//! cgroups disabled or shared) is found through the runtime's own state: crun's
//! `/run/crun/ID/status` and runc's `/run/runc/ID/state.json` name the container's init pid,
//! and a container whose init process is in the namespace is that namespace's.
//! Everything read here is untrusted text: callers escape it for terminals.

use std::path::Path;

use std::sync::Arc;

use rustc_hash::FxHashMap;

pub use crate::model::Container;
use crate::model::{NetnsTag, PodMember, Socket};

/// The container of the process whose cgroup file is at `/proc/PID/cgroup`, with names
/// from the runtime's state where readable.
pub fn of_pid(pid: u32) -> Option<Container> {
    of_pid_at(Path::new("/"), pid)
}

/// [`of_pid`] with the machine's files under `root`.
pub fn of_pid_at(root: &Path, pid: u32) -> Option<Container> {
    let text = std::fs::read_to_string(root.join(format!("proc/{pid}/cgroup"))).ok()?;
    let mut c = parse_cgroup(&text)?;
    add_names(&mut c, root);
    Some(c)
}

/// The container (or pod) owning a namespace whose processes are `pids`, from their cgroups
/// under `root`. Several containers in one namespace are a pod: the one returned names the
/// pod (from the first container that knows it) and lists every container, in pid order.
pub fn of_pids_at(root: &Path, pids: &[u32]) -> Option<Container> {
    // (container, is the pod's pause/sandbox container)
    let mut found: Vec<(Container, bool)> = Vec::new();
    for &p in pids {
        // A process that exited meanwhile says nothing.
        let Ok(text) = std::fs::read_to_string(root.join(format!("proc/{p}/cgroup"))) else {
            continue;
        };
        // A process outside every container: the namespace is the host's (host-network
        // containers share it; their sockets are attributed per process instead).
        let mut c = parse_cgroup(&text)?;
        if !found.iter().any(|(f, _)| f.id == c.id) {
            let pause = add_names_of(&mut c, root);
            found.push((c, pause));
        }
    }
    pod_of_found(&found)
}

/// One namespace's containers `found` (each with whether it is the pod's pause/sandbox
/// container), in pid order, as the one container or pod that owns the namespace.
fn pod_of_found(found: &[(Container, bool)]) -> Option<Container> {
    // The pause container only holds the pod's namespaces: it names the pod (its
    // annotations carry the sandbox's name) but is none of the pod's containers. A pod
    // whose only process left is its pause container is still that pod.
    let pod_of = |found: &[(Container, bool)]| {
        let with_pod = found.iter().map(|(c, _)| c).find(|c| c.pod.is_some());
        (
            with_pod.and_then(|c| c.pod.clone()),
            with_pod.and_then(|c| c.pod_namespace.clone()),
            found.iter().find_map(|(c, _)| c.pod_uid.clone()),
        )
    };
    let (pod, pod_namespace, pod_uid) = pod_of(found);
    let several = found.len() > 1;
    let members: Vec<Container> = found
        .iter()
        .filter(|(_, pause)| !pause)
        .map(|(c, _)| c.clone())
        .collect();
    let mut first = members
        .first()
        .cloned()
        .or_else(|| found.first().map(|(c, _)| c.clone()))?;
    if several {
        if pod.is_some() {
            first.pod = pod;
            first.pod_namespace = pod_namespace;
        }
        if first.pod_uid.is_none() {
            first.pod_uid = pod_uid;
        }
        first.containers = members
            .into_iter()
            .map(|c| PodMember {
                id: c.id,
                name: c.name,
            })
            .collect();
    }
    Some(first)
}

/// Sockets of a namespace no container owns (the host's) whose owning process runs in a
/// container's cgroup belong to a host-network container: give each such socket a tag of its
/// namespace carrying that container (the namespace's label is kept, so grouping by
/// namespace is unchanged). Needs process attribution to have run; `root` is `/` on the
/// real machine. One cgroup read per distinct owning pid.
pub fn attribute_host_network(root: &Path, sockets: &mut [Socket]) {
    let mut by_pid: FxHashMap<u32, Option<Container>> = FxHashMap::default();
    // Containers an OCI runtime runs by hand (cgroups disabled or shared say nothing) are
    // known by their pid namespace: their init's, when it is not this process's own.
    let mut by_pidns: Option<Vec<((u64, u64), Container)>> = None;
    let mut of_pid = |pid: u32| {
        of_pid_at(root, pid).or_else(|| {
            let states = by_pidns.get_or_insert_with(|| {
                let own = ns_id(root, std::process::id(), "pid");
                runtime_states(root)
                    .into_iter()
                    .filter_map(|(c, init, _)| {
                        let id = ns_id(root, init, "pid")?;
                        (Some(id) != own).then_some((id, c))
                    })
                    .collect()
            });
            if states.is_empty() {
                return None;
            }
            let id = ns_id(root, pid, "pid")?;
            states
                .iter()
                .find(|(p, _)| *p == id)
                .map(|(_, c)| c.clone())
        })
    };
    // (namespace inode, container id) -> the shared tag.
    let mut tags: FxHashMap<(u64, String), Arc<NetnsTag>> = FxHashMap::default();
    for s in sockets {
        let Some(tag) = &s.netns else { continue };
        if tag.container.is_some() {
            continue;
        }
        let Some(pid) = s.processes.first().map(|p| p.pid) else {
            continue;
        };
        let Some(c) = by_pid.entry(pid).or_insert_with(|| of_pid(pid)).clone() else {
            continue;
        };
        let t = tags
            .entry((tag.inode, c.id.clone()))
            .or_insert_with(|| {
                Arc::new(NetnsTag {
                    inode: tag.inode,
                    name: tag.name.clone(),
                    container: Some(c),
                    label: tag.label.clone(),
                })
            })
            .clone();
        s.netns = Some(t);
    }
}

/// The container named by a /proc/PID/cgroup text: the first line (in file order) whose path
/// names one. The `0::` line and the v1 controllers name the same one.
pub fn parse_cgroup(text: &str) -> Option<Container> {
    text.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        parse_path(path)
    })
}

/// LXC and systemd-nspawn: named containers (no 64-hex id) in their own cgroup.
fn named_container(path: &str) -> Option<Container> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let named = |runtime: &'static str, name: &str| {
        (!name.is_empty()).then(|| Container {
            runtime,
            id: name.to_string(),
            name: Some(name.to_string()),
            ..Container::default()
        })
    };
    for (i, seg) in segs.iter().enumerate() {
        if let Some(name) = seg.strip_prefix("lxc.payload.") {
            return named("lxc", name);
        }
        // cgroup v1 and older LXC: /lxc/NAME/...
        if *seg == "lxc" && i == 0 {
            return named("lxc", segs.get(1)?);
        }
        if let Some(rest) = seg.strip_prefix("systemd-nspawn@") {
            return named("nspawn", &unescape_unit(rest.strip_suffix(".service")?));
        }
        if i > 0
            && segs[i - 1] == "machine.slice"
            && let Some(rest) = seg.strip_prefix("machine-")
            && let Some(name) = rest.strip_suffix(".scope")
            // libpod and libvirt use machine.slice too, with their own prefixes.
            && !name.starts_with("libpod")
            && !name.starts_with("qemu")
        {
            return named("nspawn", &unescape_unit(name));
        }
    }
    None
}

/// systemd's unit-name escaping: `\x2d` is `-`, and so on.
fn unescape_unit(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && b.get(i + 1) == Some(&b'x')
            && let Some(hex) = s.get(i + 2..i + 4)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(char::from(v));
            i += 4;
            continue;
        }
        out.push(char::from(b[i]));
        i += 1;
    }
    out
}

/// The container owning the namespace `id` (nsfs device and inode) whose processes are
/// `pids`: from a process's cgroup first, else from an OCI runtime's state. Names come from
/// the runtime's state where readable.
pub fn of_netns(pids: &[u32], id: (u64, u64)) -> Option<Container> {
    of_pids_at(Path::new("/"), pids).or_else(|| of_runtime_state(Path::new("/"), id))
}

/// An OCI runtime's container whose init process is in the namespace `id`: crun
/// (`run/crun/ID/status`) and runc (`run/runc/ID/state.json`) under `root`.
/// The machine's own namespace is never a container's: a container run without a network
/// namespace of its own shares it (host networking).
pub fn of_runtime_state(root: &Path, id: (u64, u64)) -> Option<Container> {
    if is_machine_netns(root, id) {
        return None;
    }
    // Containers of one pod share its namespace; the pause container among them names the
    // pod but is none of its containers, as when they are found through cgroups.
    let mut found: Vec<(Container, u32, bool)> = runtime_states(root)
        .into_iter()
        .filter(|(_, pid, _)| ns_id(root, *pid, "net") == Some(id))
        .collect();
    found.sort_by_key(|(_, pid, _)| *pid);
    let found: Vec<(Container, bool)> = found.into_iter().map(|(c, _, p)| (c, p)).collect();
    pod_of_found(&found)
}

/// The namespace is the machine's own: pid 1's, or kthreadd's (pid 2: kernel threads always
/// live in the initial namespace, and pid 1 may refuse to be looked at).
fn is_machine_netns(root: &Path, id: (u64, u64)) -> bool {
    let kthreadd = std::fs::read_to_string(root.join("proc/2/comm"))
        .is_ok_and(|c| c.trim_end() == "kthreadd")
        && ns_id(root, 2, "net") == Some(id);
    kthreadd || ns_id(root, 1, "net") == Some(id)
}

/// The identity (device, inode) of namespace `kind` of process `pid` under `root`.
fn ns_id(root: &Path, pid: u32, kind: &str) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(root.join(format!("proc/{pid}/ns/{kind}"))).ok()?;
    Some((m.dev(), m.ino()))
}

/// Every container an OCI runtime (crun, runc) keeps state for under `root`, with its init
/// pid, names and pod from its bundle's annotations, and whether it is a pod's pause/sandbox
/// container.
fn runtime_states(root: &Path) -> Vec<(Container, u32, bool)> {
    let mut out = Vec::new();
    for (runtime, dir, file, pid_key) in [
        ("crun", "run/crun", "status", "pid"),
        ("runc", "run/runc", "state.json", "init_process_pid"),
    ] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let Some(v) = read_json(&e.path().join(file)) else {
                continue;
            };
            let Some(pid) = v[pid_key].as_u64().and_then(|p| u32::try_from(p).ok()) else {
                continue;
            };
            let cid = e.file_name().to_string_lossy().into_owned();
            let mut c = Container {
                runtime,
                name: Some(cid.clone()),
                id: cid,
                ..Container::default()
            };
            let bundle = v["bundle"].as_str().map(str::to_string).or_else(|| {
                // runc: "config": {"labels": ["bundle=/path", ...]}
                v["config"]["labels"]
                    .as_array()?
                    .iter()
                    .find_map(|l| Some(l.as_str()?.strip_prefix("bundle=")?.to_string()))
            });
            let mut pause = false;
            if let Some(b) = bundle
                && let Some(cfg) = read_json(&Path::new(&b).join("config.json"))
            {
                annotations(&mut c, &cfg);
                pause = is_pause_config(&cfg);
            }
            out.push((c, pid, pause));
        }
    }
    out
}

/// Names from an OCI config's annotations (Kubernetes' keys), where present.
fn annotations(c: &mut Container, cfg: &serde_json::Value) {
    let a = &cfg["annotations"];
    let get = |k: &str| a[k].as_str().map(str::to_string);
    if let Some(n) =
        get("io.kubernetes.cri.container-name").or_else(|| get("io.kubernetes.container.name"))
    {
        c.name = Some(n);
    }
    c.pod = get("io.kubernetes.cri.sandbox-name").or_else(|| get("io.kubernetes.pod.name"));
    c.pod_namespace =
        get("io.kubernetes.cri.sandbox-namespace").or_else(|| get("io.kubernetes.pod.namespace"));
}

fn parse_path(path: &str) -> Option<Container> {
    if let Some(c) = named_container(path) {
        return Some(c);
    }
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
    add_names_of(c, root);
}

/// [`add_names`]; true when the state says this is a Kubernetes pod's pause (sandbox)
/// container.
fn add_names_of(c: &mut Container, root: &Path) -> bool {
    match c.runtime {
        "docker" => {
            let p = root.join(format!("var/lib/docker/containers/{}/config.v2.json", c.id));
            let Some(v) = read_json(&p) else {
                return false;
            };
            c.name = v["Name"]
                .as_str()
                .map(|n| n.trim_start_matches('/').to_string());
            // Kubernetes through docker (dockershim, cri-dockerd) labels its containers.
            let labels = &v["Config"]["Labels"];
            let label = |k: &str| labels[k].as_str().map(str::to_string);
            if let Some(pod) = label("io.kubernetes.pod.name") {
                c.pod = Some(pod);
                c.pod_namespace = label("io.kubernetes.pod.namespace");
            }
            label("io.kubernetes.container.name").as_deref() == Some("POD")
                || label("io.kubernetes.docker.type").as_deref() == Some("podsandbox")
                || v["Config"]["Image"].as_str().is_some_and(is_pause_image)
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
            let Some(v) = bundles.iter().find_map(|b| read_json(&root.join(b))) else {
                return false;
            };
            let a = &v["annotations"];
            let get = |k: &str| a[k].as_str().map(str::to_string);
            c.name = get("io.kubernetes.cri.container-name")
                .or_else(|| get("io.kubernetes.container.name"));
            c.pod = get("io.kubernetes.cri.sandbox-name").or_else(|| get("io.kubernetes.pod.name"));
            c.pod_namespace = get("io.kubernetes.cri.sandbox-namespace")
                .or_else(|| get("io.kubernetes.pod.namespace"));
            is_pause_config(&v)
        }
        _ => false,
    }
}

/// An OCI config of a pod's sandbox: containerd's and CRI-O's container type, the `POD`
/// name docker's Kubernetes shim gives it, or the `pause` image.
fn is_pause_config(cfg: &serde_json::Value) -> bool {
    let a = &cfg["annotations"];
    let get = |k: &str| a[k].as_str();
    get("io.kubernetes.cri.container-type") == Some("sandbox")
        || get("io.kubernetes.cri-o.ContainerType") == Some("sandbox")
        || get("io.kubernetes.container.name") == Some("POD")
        || [
            "io.kubernetes.cri.image-name",
            "io.kubernetes.cri-o.ImageName",
        ]
        .iter()
        .any(|k| get(k).is_some_and(is_pause_image))
}

/// `pause`, `registry.k8s.io/pause:3.9`, `k8s.gcr.io/pause@sha256:…`.
fn is_pause_image(image: &str) -> bool {
    let last = image.rsplit('/').next().unwrap_or(image);
    let name = last.split([':', '@']).next().unwrap_or(last);
    name == "pause"
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
mod tests;
