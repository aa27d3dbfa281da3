//! `export --all-netns` with a real host-network container (crun, as tests/it/netns): its
//! listener is in the host's namespace, and its series carry the container's label through
//! the owning process, while the test's own host listener keeps the empty one.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use super::http::{scrape, spawn_exporter};
use crate::common::{require, require_root, require_tool};
use crate::netns::container::Crun;

#[test]
fn a_host_network_containers_listener_carries_its_container_label() {
    if !require_root("crun, and reading every process's fds")
        || !require_tool("crun", "crun")
        || !require_tool("python3", "python3")
    {
        return;
    }
    let ctr = match Crun::start_with(true) {
        Ok(c) => c,
        Err(why) => {
            require(false, &format!("crun cannot run a container here: {why}"));
            return;
        }
    };
    let _pid = ctr.pid();
    let ours = TcpListener::bind("127.0.0.1:0").unwrap();
    let our_port = ours.local_addr().unwrap().port().to_string();
    let exp = spawn_exporter(
        &["--timeout", "30", "--all-netns", "--top-netns", "1000"],
        None,
    );
    let port = ctr.port.to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = scrape(exp.addr);
        let theirs = m.matching("sockeye_listen_queue_limit", &[("port", &port)]);
        let mine = m.matching("sockeye_listen_queue_limit", &[("port", &our_port)]);
        if let (Some(t), Some(o)) = (theirs.first(), mine.first()) {
            let container = t.labels.get("container").cloned().unwrap_or_default();
            assert!(
                container.starts_with("crun:"),
                "the container's listener: {:?}",
                t.labels
            );
            assert_eq!(
                o.labels.get("container").map(String::as_str),
                Some(""),
                "our own host listener: {:?}",
                o.labels
            );
            // Same namespace, two scopes.
            assert_eq!(t.labels.get("netns"), o.labels.get("netns"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no listener series for ports {port} and {our_port}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
