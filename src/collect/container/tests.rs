//! Container attribution on fake cgroup, proc and runtime-state trees.

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
fn lxc_and_systemd_nspawn_are_named_by_their_cgroup() {
    let c = parse_cgroup("0::/lxc.payload.web1/system.slice/nginx.service\n").unwrap();
    assert_eq!((c.runtime, c.id.as_str()), ("lxc", "web1"));
    assert_eq!(c.label(), "web1");
    let c = parse_cgroup("4:memory:/lxc/db\n").unwrap();
    assert_eq!((c.runtime, c.name.as_deref()), ("lxc", Some("db")));
    let c = parse_cgroup(
        "0::/machine.slice/systemd-nspawn@build\\x2dbox.service/payload/system.slice\n",
    )
    .unwrap();
    assert_eq!((c.runtime, c.id.as_str()), ("nspawn", "build-box"));
    let c = parse_cgroup("0::/machine.slice/machine-debian12.scope/payload\n").unwrap();
    assert_eq!((c.runtime, c.id.as_str()), ("nspawn", "debian12"));
    // The LXC monitor and a libvirt VM are not containers' processes.
    assert_eq!(parse_cgroup("0::/lxc.monitor.web1\n"), None);
    assert_eq!(
        parse_cgroup("0::/machine.slice/machine-qemu\\x2d1\\x2dvm.scope\n"),
        None
    );
    assert_eq!(parse_cgroup("0::/lxc.payload.\n"), None);
}

/// A fake /proc/PID/ns/net under `r` for `pid`, and the (device, inode) that names it.
fn fake_netns(r: &Path, pid: u32) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    std::fs::create_dir_all(r.join(format!("proc/{pid}/ns"))).unwrap();
    std::fs::write(r.join(format!("proc/{pid}/ns/net")), "").unwrap();
    let m = std::fs::metadata(r.join(format!("proc/{pid}/ns/net"))).unwrap();
    (m.dev(), m.ino())
}

#[test]
fn an_oci_runtime_container_is_found_by_its_init_process_namespace() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    // The init process's namespace file stands in for /proc/PID/ns/net.
    let id = fake_netns(r, 4242);
    let bundle = r.join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("config.json"),
        r#"{"annotations":{"io.kubernetes.pod.name":"shop-7d9","io.kubernetes.pod.namespace":"prod"}}"#,
    )
    .unwrap();
    std::fs::create_dir_all(r.join("run/crun/other")).unwrap();
    std::fs::write(r.join("run/crun/other/status"), r#"{"pid": 1}"#).unwrap();
    std::fs::create_dir_all(r.join("run/crun/web")).unwrap();
    std::fs::write(
        r.join("run/crun/web/status"),
        format!(r#"{{"pid": 4242, "bundle": "{}"}}"#, bundle.display()),
    )
    .unwrap();
    let c = of_runtime_state(r, id).unwrap();
    assert_eq!((c.runtime, c.id.as_str()), ("crun", "web"));
    assert_eq!(c.pod.as_deref(), Some("shop-7d9"));
    assert_eq!(c.pod_namespace.as_deref(), Some("prod"));
    assert_eq!(c.name.as_deref(), Some("web"));
    // runc's state names the bundle in its labels.
    std::fs::remove_dir_all(r.join("run/crun")).unwrap();
    std::fs::create_dir_all(r.join("run/runc/api")).unwrap();
    std::fs::write(
        r.join("run/runc/api/state.json"),
        format!(
            r#"{{"init_process_pid": 4242, "config": {{"labels": ["bundle={}"]}}}}"#,
            bundle.display()
        ),
    )
    .unwrap();
    let c = of_runtime_state(r, id).unwrap();
    assert_eq!((c.runtime, c.id.as_str()), ("runc", "api"));
    assert_eq!(of_runtime_state(r, (id.0, id.1 + 1)), None);
    // A container sharing pid 1's namespace (host networking) does not own it.
    std::fs::create_dir_all(r.join("proc/1/ns")).unwrap();
    std::fs::hard_link(r.join("proc/4242/ns/net"), r.join("proc/1/ns/net")).unwrap();
    assert_eq!(of_runtime_state(r, id), None);
    std::fs::remove_dir_all(r.join("proc/1")).unwrap();
    assert!(of_runtime_state(r, id).is_some());
    // kthreadd's namespace is the machine's too.
    std::fs::create_dir_all(r.join("proc/2/ns")).unwrap();
    std::fs::write(r.join("proc/2/comm"), "kthreadd\n").unwrap();
    std::fs::hard_link(r.join("proc/4242/ns/net"), r.join("proc/2/ns/net")).unwrap();
    assert_eq!(of_runtime_state(r, id), None);
}

const ID2: &str = "aa4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f";

/// A fake /proc/PID/cgroup under `root`.
fn proc_cgroup(root: &Path, pid: u32, text: &str) {
    let d = root.join(format!("proc/{pid}"));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("cgroup"), text).unwrap();
}

/// A fake containerd bundle with Kubernetes annotations.
fn k8s_bundle(root: &Path, id: &str, container: &str, pod: &str) {
    let b = root.join(format!(
        "run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}"
    ));
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(
        b.join("config.json"),
        format!(
            r#"{{"annotations":{{"io.kubernetes.cri.container-name":"{container}",
               "io.kubernetes.cri.sandbox-name":"{pod}","io.kubernetes.cri.sandbox-namespace":"prod"}}}}"#
        ),
    )
    .unwrap();
}

#[test]
fn containers_sharing_a_namespace_are_one_pod_listing_them() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let pod = "/kubepods/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901";
    proc_cgroup(r, 10, &format!("0::{pod}/{ID}\n"));
    proc_cgroup(r, 11, &format!("0::{pod}/{ID}\n"));
    proc_cgroup(r, 12, &format!("0::{pod}/{ID2}\n"));
    k8s_bundle(r, ID, "app", "shop-7d9");
    k8s_bundle(r, ID2, "sidecar", "shop-7d9");
    // pid 13 exited: skipped, not taken for a host process.
    let c = of_pids_at(r, &[10, 13, 11, 12]).unwrap();
    assert_eq!(c.pod.as_deref(), Some("shop-7d9"));
    assert_eq!(c.label(), "shop-7d9");
    let members: Vec<_> = c
        .containers
        .iter()
        .map(|m| (m.id.as_str(), m.name.as_deref()))
        .collect();
    assert_eq!(members, [(ID, Some("app")), (ID2, Some("sidecar"))]);
    let tag = NetnsTag::new(7, None, Some(c.clone()));
    assert_eq!(tag.label, "shop-7d9");
    let json = serde_json::to_value(crate::output::json::ContainerJson(&c)).unwrap();
    assert_eq!(json["pod"], "shop-7d9");
    assert_eq!(
        json["containers"],
        serde_json::json!([{"id": ID, "name": "app"}, {"id": ID2, "name": "sidecar"}])
    );

    // A pod whose name is nowhere on disk (podman's, cgroupfs): its first container's
    // short id and how many others share it.
    proc_cgroup(r, 20, &format!("0::/machine.slice/libpod-{ID}.scope\n"));
    proc_cgroup(r, 21, &format!("0::/machine.slice/libpod-{ID2}.scope\n"));
    let c = of_pids_at(r, &[20, 21]).unwrap();
    assert_eq!(c.containers.len(), 2);
    assert_eq!(c.label(), format!("{}+1", &ID[..12]));

    // One container alone lists nobody.
    let c = of_pids_at(r, &[10, 11]).unwrap();
    assert!(c.containers.is_empty());
    let json = serde_json::to_value(crate::output::json::ContainerJson(&c)).unwrap();
    assert!(json.get("containers").is_none(), "{json}");
    assert_eq!(c.label(), "shop-7d9");
}

#[test]
fn a_namespace_with_a_host_process_belongs_to_no_container() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    proc_cgroup(r, 1, "0::/init.scope\n");
    proc_cgroup(r, 50, &format!("0::/system.slice/docker-{ID}.scope\n"));
    // A host-network container's process sits in the host namespace.
    assert_eq!(of_pids_at(r, &[1, 50]), None);
    assert_eq!(of_pids_at(r, &[50, 1]), None);
    assert_eq!(of_pids_at(r, &[]), None);
}

#[test]
fn host_network_container_sockets_are_attributed_through_their_processes() {
    use crate::model::{Endpoint, Netid, ProcessRef, TcpState};
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    proc_cgroup(r, 1, "0::/init.scope\n");
    proc_cgroup(r, 50, &format!("0::/system.slice/docker-{ID}.scope\n"));
    let d = r.join(format!("var/lib/docker/containers/{ID}"));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("config.v2.json"), r#"{"Name":"/hostnet-web"}"#).unwrap();
    let host = Arc::new(NetnsTag::new(4026531840, None, None));
    let owned = |pid: u32| -> Socket {
        let ep = Endpoint::Inet {
            addr: std::net::Ipv4Addr::LOCALHOST.into(),
            port: 80,
        };
        let mut s = Socket::new(Netid::Tcp, TcpState::Listen, ep.clone(), ep);
        s.netns = Some(Arc::clone(&host));
        if pid != 0 {
            s.processes = vec![ProcessRef {
                command: Arc::from("x"),
                pid,
                fd: 3,
                nspid: None,
                proc_ctx: None,
                sock_ctx: None,
            }]
            .into();
        }
        s
    };
    let mut socks = vec![owned(50), owned(1), owned(0), owned(50), owned(99)];
    // A socket of a container's own namespace keeps its namespace's container.
    let mut pod = owned(1);
    let shop = Container {
        runtime: "crio",
        id: ID2.into(),
        ..Container::default()
    };
    pod.netns = Some(Arc::new(NetnsTag::new(9, None, Some(shop.clone()))));
    socks.push(pod);
    attribute_host_network(r, &mut socks);
    let c = |s: &Socket| s.netns.as_ref().unwrap().container.clone();
    let web = c(&socks[0]).unwrap();
    assert_eq!(
        (web.runtime, web.name.as_deref()),
        ("docker", Some("hostnet-web"))
    );
    // The namespace's label and identity stay the host's.
    let t = socks[0].netns.as_ref().unwrap();
    assert_eq!(
        (t.inode, t.label.as_str()),
        (host.inode, host.label.as_str())
    );
    assert!(
        Arc::ptr_eq(t, socks[3].netns.as_ref().unwrap()),
        "one tag per container"
    );
    assert_eq!(c(&socks[1]), None, "a host process");
    assert_eq!(c(&socks[2]), None, "no owner known");
    assert_eq!(c(&socks[4]), None, "an exited process");
    assert_eq!(c(&socks[5]), Some(shop));
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

const PAUSE: &str = "bb4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f";

/// A fake containerd bundle of a pod's sandbox (the pause container).
fn k8s_sandbox(root: &Path, id: &str, pod: &str) {
    let b = root.join(format!(
        "run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}"
    ));
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(
        b.join("config.json"),
        format!(
            r#"{{"annotations":{{"io.kubernetes.cri.container-type":"sandbox",
               "io.kubernetes.cri.sandbox-name":"{pod}","io.kubernetes.cri.sandbox-namespace":"prod"}}}}"#
        ),
    )
    .unwrap();
}

#[test]
fn a_pods_pause_container_names_the_pod_but_is_not_one_of_its_containers() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let pod = "/kubepods/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901";
    proc_cgroup(r, 9, &format!("0::{pod}/{PAUSE}\n"));
    proc_cgroup(r, 10, &format!("0::{pod}/{ID}\n"));
    proc_cgroup(r, 12, &format!("0::{pod}/{ID2}\n"));
    k8s_sandbox(r, PAUSE, "shop-7d9");
    k8s_bundle(r, ID, "app", "shop-7d9");
    k8s_bundle(r, ID2, "sidecar", "shop-7d9");
    // The pause process has the lowest pid: it comes first, and still is not listed.
    let c = of_pids_at(r, &[9, 10, 12]).unwrap();
    assert_eq!(c.id, ID);
    assert_eq!(c.pod.as_deref(), Some("shop-7d9"));
    let members: Vec<_> = c.containers.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(members, [ID, ID2]);
    // A pod of one container besides its pause: the pod, listing that one.
    let c = of_pids_at(r, &[9, 10]).unwrap();
    assert_eq!((c.id.as_str(), c.label()), (ID, "shop-7d9".to_string()));
    let members: Vec<_> = c.containers.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(members, [ID]);
    // Only the pause left: still the pod, with no containers listed.
    let c = of_pids_at(r, &[9]).unwrap();
    assert_eq!(c.label(), "shop-7d9");
    assert!(c.containers.is_empty());
}

#[test]
fn pause_containers_are_known_by_docker_labels_and_by_image() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    // Kubernetes through docker: the sandbox is named POD in its labels.
    for (id, labels) in [
        (
            PAUSE,
            r#"{"io.kubernetes.container.name":"POD","io.kubernetes.pod.name":"shop-7d9",
               "io.kubernetes.pod.namespace":"prod"}"#,
        ),
        (
            ID,
            r#"{"io.kubernetes.container.name":"app","io.kubernetes.pod.name":"shop-7d9",
               "io.kubernetes.pod.namespace":"prod"}"#,
        ),
    ] {
        let d = r.join(format!("var/lib/docker/containers/{id}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("config.v2.json"),
            format!(r#"{{"Name":"/k8s_{id}","Config":{{"Image":"shop:1","Labels":{labels}}}}}"#),
        )
        .unwrap();
    }
    // A plain docker container sharing a namespace with one whose image is pause.
    let d = r.join(format!("var/lib/docker/containers/{ID2}"));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("config.v2.json"),
        r#"{"Name":"/infra","Config":{"Image":"registry.k8s.io/pause:3.9","Labels":{}}}"#,
    )
    .unwrap();
    proc_cgroup(r, 9, &format!("0::/system.slice/docker-{PAUSE}.scope\n"));
    proc_cgroup(r, 10, &format!("0::/system.slice/docker-{ID}.scope\n"));
    proc_cgroup(r, 11, &format!("0::/system.slice/docker-{ID2}.scope\n"));
    let c = of_pids_at(r, &[9, 10]).unwrap();
    assert_eq!(c.id, ID);
    assert_eq!(
        (c.pod.as_deref(), c.pod_namespace.as_deref()),
        (Some("shop-7d9"), Some("prod"))
    );
    let members: Vec<_> = c.containers.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(members, [ID]);
    let c = of_pids_at(r, &[11, 10]).unwrap();
    let members: Vec<_> = c.containers.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(members, [ID]);
    for (image, pause) in [
        ("pause", true),
        ("registry.k8s.io/pause:3.9", true),
        ("k8s.gcr.io/pause@sha256:0123", true),
        ("pauser:1", false),
        ("pause/web:1", false),
    ] {
        assert_eq!(is_pause_image(image), pause, "{image}");
    }
}

#[test]
fn a_pods_pause_container_run_by_crun_names_the_pod_but_is_not_one_of_its_containers() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    // Three crun containers whose init processes share one network namespace (a pod).
    let id = fake_netns(r, 500);
    for pid in [501, 502] {
        std::fs::create_dir_all(r.join(format!("proc/{pid}/ns"))).unwrap();
        std::fs::hard_link(
            r.join("proc/500/ns/net"),
            r.join(format!("proc/{pid}/ns/net")),
        )
        .unwrap();
    }
    let crun = |cid: &str, pid: u32, annotations: &str| {
        let bundle = r.join(format!("bundles/{cid}"));
        std::fs::create_dir_all(&bundle).unwrap();
        std::fs::write(
            bundle.join("config.json"),
            format!(r#"{{"annotations":{{{annotations}}}}}"#),
        )
        .unwrap();
        let dir = r.join(format!("run/crun/{cid}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("status"),
            format!(r#"{{"pid": {pid}, "bundle": "{}"}}"#, bundle.display()),
        )
        .unwrap();
    };
    let pod = r#""io.kubernetes.cri.sandbox-name":"shop-7d9","io.kubernetes.cri.sandbox-namespace":"prod""#;
    // The sandbox by CRI-O's container type; the pause process has the lowest pid.
    crun(
        "sandbox",
        500,
        &format!(r#""io.kubernetes.cri-o.ContainerType":"sandbox",{pod}"#),
    );
    crun(
        "app",
        501,
        &format!(r#""io.kubernetes.cri.container-name":"app",{pod}"#),
    );
    crun(
        "sidecar",
        502,
        &format!(r#""io.kubernetes.cri.container-name":"sidecar",{pod}"#),
    );
    let c = of_runtime_state(r, id).unwrap();
    assert_eq!((c.runtime, c.id.as_str()), ("crun", "app"));
    assert_eq!(c.pod.as_deref(), Some("shop-7d9"));
    assert_eq!(c.pod_namespace.as_deref(), Some("prod"));
    let members: Vec<_> = c.containers.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(members, ["app", "sidecar"]);
    // Known by its pause image instead: still not listed.
    crun(
        "sandbox",
        500,
        &format!(r#""io.kubernetes.cri.image-name":"registry.k8s.io/pause:3.9",{pod}"#),
    );
    let c = of_runtime_state(r, id).unwrap();
    let members: Vec<_> = c.containers.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(members, ["app", "sidecar"]);
    // Only the pause container left: still the pod, with no containers listed.
    std::fs::remove_dir_all(r.join("run/crun/app")).unwrap();
    std::fs::remove_dir_all(r.join("run/crun/sidecar")).unwrap();
    let c = of_runtime_state(r, id).unwrap();
    assert_eq!(c.label(), "shop-7d9");
    assert!(c.containers.is_empty());
}
