//! `-Z`/`-z`: the SELinux contexts ss adds to each process holding a socket, read through the
//! host after attribution (the cache itself stays context-free: `-p` pays nothing for them).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::collect::Host;
use crate::model::{Endpoint, Holders, Socket};

/// What ss prints for a context it could not read.
pub const UNAVAILABLE: &str = "unavailable";

/// Which contexts to attach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contexts {
    /// `-Z`: `proc_ctx` (the process's).
    Process,
    /// `-z`: `proc_ctx` and `sock_ctx` (the socket's, through the fd).
    ProcessAndSocket,
}

/// Fill `proc_ctx` (and, for [`Contexts::ProcessAndSocket`], `sock_ctx`) of every holder of
/// every socket, and a netlink socket's own context ([`crate::model::Details::netlink_ctx`]). Each
/// process's context is read once.
pub fn attach(host: &Host, sockets: &mut [Socket], which: Contexts) {
    let mut procs: FxHashMap<u32, Arc<str>> = FxHashMap::default();
    let unavailable: Arc<str> = Arc::from(UNAVAILABLE);
    let text = |t: Option<String>| t.map_or_else(|| Arc::clone(&unavailable), Arc::from);
    let mut kernel: Option<Arc<str>> = None;
    for s in sockets.iter_mut() {
        // ss's netlink_show_one: port id 0 is the kernel (its initial context), a positive
        // one is taken for a pid (getpidcon), any other is `unavailable`.
        let Endpoint::Netlink { portid, .. } = s.local else {
            continue;
        };
        let ctx = match u32::try_from(portid) {
            Ok(0) => Arc::clone(kernel.get_or_insert_with(|| text(host.kernel_context()))),
            Ok(pid) => Arc::clone(
                procs
                    .entry(pid)
                    .or_insert_with(|| text(host.pid_context(pid))),
            ),
            Err(_) => Arc::clone(&unavailable),
        };
        s.details.get_or_insert_with(Default::default).netlink_ctx = Some(ctx);
    }
    for s in sockets {
        if s.processes.is_empty() {
            continue;
        }
        let holders: Holders = s
            .processes
            .iter()
            .map(|p| {
                let mut p = p.clone();
                let ctx = procs
                    .entry(p.pid)
                    .or_insert_with(|| text(host.pid_context(p.pid)));
                p.proc_ctx = Some(Arc::clone(ctx));
                if which == Contexts::ProcessAndSocket {
                    p.sock_ctx = Some(text(host.fd_context(p.pid, p.fd)));
                }
                p
            })
            .collect();
        s.processes = holders;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Netid, ProcessRef, TcpState};

    fn socket(pid: u32, fd: u32) -> Socket {
        let any = Endpoint::Inet {
            addr: std::net::Ipv4Addr::UNSPECIFIED.into(),
            port: 22,
        };
        let mut s = Socket::new(Netid::Tcp, TcpState::Listen, any.clone(), any);
        s.inode = 77;
        s.processes = vec![ProcessRef {
            command: Arc::from("sshd"),
            pid,
            fd,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        }]
        .into();
        s
    }

    fn fake() -> (tempfile::TempDir, Host) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("42/attr")).unwrap();
        std::fs::create_dir_all(dir.path().join("42/fd_ctx")).unwrap();
        std::fs::write(
            dir.path().join("42/attr/current"),
            "system_u:system_r:sshd_t:s0\0",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("42/fd_ctx/3"),
            "system_u:system_r:sshd_t:s0-s0:c0.c1023",
        )
        .unwrap();
        let h = Host::fake(dir.path());
        (dir, h)
    }

    #[test]
    fn dash_big_z_attaches_the_process_context_only() {
        let (_dir, h) = fake();
        let mut socks = vec![socket(42, 3), socket(43, 5)];
        attach(&h, &mut socks, Contexts::Process);
        let p = &socks[0].processes[0];
        assert_eq!(p.proc_ctx.as_deref(), Some("system_u:system_r:sshd_t:s0"));
        assert_eq!(p.sock_ctx, None);
        // An unreadable process: ss's word for it.
        assert_eq!(socks[1].processes[0].proc_ctx.as_deref(), Some(UNAVAILABLE));
    }

    #[test]
    fn dash_z_attaches_the_socket_context_too() {
        let (_dir, h) = fake();
        let mut socks = vec![socket(42, 3), socket(42, 4)];
        attach(&h, &mut socks, Contexts::ProcessAndSocket);
        let p = &socks[0].processes[0];
        assert_eq!(p.proc_ctx.as_deref(), Some("system_u:system_r:sshd_t:s0"));
        assert_eq!(
            p.sock_ctx.as_deref(),
            Some("system_u:system_r:sshd_t:s0-s0:c0.c1023")
        );
        assert_eq!(socks[1].processes[0].sock_ctx.as_deref(), Some(UNAVAILABLE));
    }

    #[test]
    fn netlink_sockets_get_the_context_of_their_port_id() {
        let (dir, h) = fake();
        std::fs::create_dir_all(dir.path().join("sys/fs/selinux/initial_contexts")).unwrap();
        std::fs::write(
            dir.path().join("sys/fs/selinux/initial_contexts/kernel"),
            "system_u:system_r:kernel_t:s0\0",
        )
        .unwrap();
        let nl = |portid| {
            let local = Endpoint::Netlink {
                protocol: 0,
                portid,
                groups: 0,
            };
            Socket::new(Netid::Netlink, TcpState::Close, local, Endpoint::Nothing)
        };
        // The kernel, a pid with a context, a pid without one, a number no pid can be.
        let mut socks = vec![nl(0), nl(42), nl(43), nl(-4099), socket(42, 3)];
        attach(&h, &mut socks, Contexts::Process);
        let ctx: Vec<Option<&str>> = socks[..4]
            .iter()
            .map(|s| s.details.as_deref().and_then(|d| d.netlink_ctx.as_deref()))
            .collect();
        assert_eq!(
            ctx,
            [
                Some("system_u:system_r:kernel_t:s0"),
                Some("system_u:system_r:sshd_t:s0"),
                Some(UNAVAILABLE),
                Some(UNAVAILABLE),
            ]
        );
        assert!(socks[4].details.is_none(), "only netlink sockets get one");
        // No selinuxfs initial context: ss prints `unavailable` for the kernel too.
        let (_d2, bare) = fake();
        let mut k = vec![nl(0)];
        attach(&bare, &mut k, Contexts::ProcessAndSocket);
        assert_eq!(
            k[0].details
                .as_deref()
                .and_then(|d| d.netlink_ctx.as_deref()),
            Some(UNAVAILABLE)
        );
    }

    /// The whole path: a fake /proc whose process holds a listener, read by the collector.
    #[test]
    fn the_collector_attaches_contexts_only_when_asked() {
        use crate::collect::{Collector, NetidSet, Query, SourcePref};
        let (dir, h) = fake();
        let root = dir.path();
        std::fs::create_dir_all(root.join("net")).unwrap();
        std::fs::write(
            root.join("net/tcp"),
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("42/fd")).unwrap();
        std::os::unix::fs::symlink("socket:[77]", root.join("42/fd/3")).unwrap();
        std::fs::write(root.join("42/stat"), "42 (sshd) S 1 42 42 0 -1 0\n").unwrap();
        let query = |selinux| Query {
            netids: NetidSet::of(&[Netid::Tcp]),
            ipv6: false,
            source: SourcePref::Proc,
            processes: true,
            selinux,
            ..Query::default()
        };
        let holder = |q| {
            let snap = Collector::on_host(q, h.clone()).snapshot().unwrap();
            assert_eq!(snap.sockets.len(), 1);
            snap.sockets[0].processes[0].clone()
        };
        let plain = holder(query(None));
        assert_eq!((&*plain.command, plain.pid, plain.fd), ("sshd", 42, 3));
        assert_eq!((plain.proc_ctx, plain.sock_ctx), (None, None));
        let both = holder(query(Some(Contexts::ProcessAndSocket)));
        assert_eq!(
            both.proc_ctx.as_deref(),
            Some("system_u:system_r:sshd_t:s0")
        );
        assert_eq!(
            both.sock_ctx.as_deref(),
            Some("system_u:system_r:sshd_t:s0-s0:c0.c1023")
        );
    }

    /// The collector's path for netlink: a fake /proc/net/netlink, `-Z` asked or not.
    #[test]
    fn the_collector_gives_netlink_sockets_a_context_only_under_z() {
        use crate::collect::{Collector, NetidSet, Query, SourcePref};
        let (dir, h) = fake();
        let root = dir.path();
        std::fs::create_dir_all(root.join("net")).unwrap();
        std::fs::write(
            root.join("net/netlink"),
            "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n\
             ffff888100000000 0   0          00000000 0        0        0     2        0        7\n\
             ffff888100000800 0   42         00000001 0        0        0     2        0        8\n",
        )
        .unwrap();
        let query = |selinux| Query {
            netids: NetidSet::of(&[Netid::Netlink]),
            source: SourcePref::Proc,
            processes: true,
            selinux,
            ..Query::default()
        };
        let ctxs = |q| {
            let snap = Collector::on_host(q, h.clone()).snapshot().unwrap();
            let mut v: Vec<(u64, Option<String>)> = snap
                .sockets
                .iter()
                .map(|s| {
                    let c = s.details.as_deref().and_then(|d| d.netlink_ctx.as_deref());
                    (s.inode, c.map(str::to_string))
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(ctxs(query(None)), [(7, None), (8, None)]);
        // No selinuxfs initial context in this fake root: the kernel's is unavailable.
        assert_eq!(
            ctxs(query(Some(Contexts::Process))),
            [
                (7, Some(UNAVAILABLE.to_string())),
                (8, Some("system_u:system_r:sshd_t:s0".to_string())),
            ]
        );
    }
}
