//! Scoping the view to one program (`--pid`, `--process`, attach) or to a set of local ports
//! (a demo's scenarios): its own sockets plus the connections to its listeners, including the
//! ones no process owns yet (not yet accepted, TIME-WAIT).

use std::collections::HashSet;
use std::net::IpAddr;

use crate::group;
use crate::model::{Endpoint, Socket, TcpState};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Keep sockets owned by these processes.
    pub pids: Vec<u32>,
    /// Keep sockets owned by processes with this command name (comm, as ss shows it).
    pub process_names: Vec<String>,
    /// Keep inet sockets whose local or peer port is one of these.
    pub ports: Vec<u16>,
    /// Keep unix sockets bound to one of these paths, and their peers (a demo's files).
    pub unix_paths: Vec<String>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty()
            && self.process_names.is_empty()
            && self.ports.is_empty()
            && self.unix_paths.is_empty()
    }

    /// Scoping by process needs process attribution.
    pub fn needs_processes(&self) -> bool {
        !self.pids.is_empty() || !self.process_names.is_empty()
    }

    fn owns(&self, s: &Socket) -> bool {
        s.processes.iter().any(|p| {
            self.pids.contains(&p.pid) || self.process_names.iter().any(|n| *n == *p.command)
        })
    }

    /// One line for the header, e.g. `pid 42` or `ports 7000,7001`.
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.pids.is_empty() {
            let p: Vec<String> = self.pids.iter().map(|p| p.to_string()).collect();
            parts.push(format!("pid {}", p.join(",")));
        }
        if !self.process_names.is_empty() {
            parts.push(format!("process {}", self.process_names.join(",")));
        }
        if !self.ports.is_empty() {
            let p: Vec<String> = self.ports.iter().map(|p| p.to_string()).collect();
            parts.push(format!("ports {}", p.join(",")));
        }
        if !self.unix_paths.is_empty() {
            parts.push(format!("{} unix paths", self.unix_paths.len()));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// Keep the sockets in scope, in their order.
    pub fn apply(&self, sockets: Vec<Socket>) -> Vec<Socket> {
        if self.is_empty() {
            return sockets;
        }
        let port_hit = |s: &Socket| {
            !self.ports.is_empty()
                && (s.local_port().is_some_and(|p| self.ports.contains(&p))
                    || s.peer_port().is_some_and(|p| self.ports.contains(&p)))
        };
        // Listeners owned by the scoped processes: (addr, port) of each, plus unix paths.
        let mut inet_listeners: Vec<(IpAddr, u16, Option<bool>)> = Vec::new();
        let mut unix_paths: HashSet<Box<str>> = HashSet::new();
        if self.needs_processes() {
            for s in sockets
                .iter()
                .filter(|s| s.state == TcpState::Listen && self.owns(s))
            {
                match &s.local {
                    Endpoint::Inet { addr, port } => inet_listeners.push((*addr, *port, s.v6only)),
                    Endpoint::Unix { path: Some(p), .. } => {
                        unix_paths.insert(p.clone());
                    }
                    _ => {}
                }
            }
        }
        let to_listener = |s: &Socket| match (&s.local, &s.peer) {
            (
                Endpoint::Inet { addr, port },
                Endpoint::Inet {
                    addr: paddr,
                    port: pport,
                },
            ) => {
                inet_listeners.iter().any(|&(la, lp, v6only)| {
                    // Server side: our local endpoint is the listener's.
                    (lp == *port && group::covers(la, v6only, *addr))
                        // Client side on this host: the peer is the listener (loopback or
                        // the listener's own address).
                        || (lp == *pport
                            && (group::same_addr(la, *paddr)
                                || (la.is_unspecified() && group::canonical(*paddr).is_loopback())))
                })
            }
            (Endpoint::Unix { path: Some(p), .. }, _) => unix_paths.contains(p),
            _ => false,
        };
        // Sockets bound to a scoped path, and (by inode) their peers.
        let mut on_paths: HashSet<u64> = HashSet::new();
        if !self.unix_paths.is_empty() {
            for s in &sockets {
                if let Endpoint::Unix {
                    path: Some(p),
                    inode,
                } = &s.local
                    && self.unix_paths.iter().any(|want| **want == **p)
                {
                    on_paths.insert(*inode);
                }
            }
        }
        let path_hit = |s: &Socket| match (&s.local, &s.peer) {
            (Endpoint::Unix { inode, .. }, Endpoint::Unix { inode: peer, .. }) => {
                on_paths.contains(inode) || (*peer != 0 && on_paths.contains(peer))
            }
            _ => false,
        };
        sockets
            .into_iter()
            .filter(|s| port_hit(s) || self.owns(s) || to_listener(s) || path_hit(s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Netid, ProcessRef};
    use std::sync::Arc;

    fn sock(state: TcpState, local: (&str, u16), peer: (&str, u16), pid: Option<u32>) -> Socket {
        let ep = |(a, port): (&str, u16)| Endpoint::Inet {
            addr: a.parse().unwrap(),
            port,
        };
        Socket {
            recv_q: Some(0),
            send_q: Some(0),
            processes: pid
                .map(|pid| ProcessRef {
                    command: Arc::from("srv"),
                    pid,
                    fd: 3,
                    nspid: None,
                    proc_ctx: None,
                    sock_ctx: None,
                })
                .into_iter()
                .collect(),
            ..Socket::new(Netid::Tcp, state, ep(local), ep(peer))
        }
    }

    #[test]
    fn pid_scope_keeps_its_sockets_and_connections_to_its_listeners() {
        let socks = vec![
            sock(TcpState::Listen, ("0.0.0.0", 80), ("0.0.0.0", 0), Some(7)),
            // not accepted yet: no owner, local endpoint is the listener's
            sock(
                TcpState::Established,
                ("127.0.0.1", 80),
                ("127.0.0.1", 5000),
                None,
            ),
            // the client end, in TIME-WAIT
            sock(
                TcpState::TimeWait,
                ("127.0.0.1", 5001),
                ("127.0.0.1", 80),
                None,
            ),
            // somebody else's outbound connection to a remote port 80
            sock(
                TcpState::Established,
                ("10.0.0.1", 5002),
                ("1.1.1.1", 80),
                Some(9),
            ),
            // unrelated
            sock(TcpState::Listen, ("0.0.0.0", 22), ("0.0.0.0", 0), Some(9)),
        ];
        let scope = Scope {
            pids: vec![7],
            ..Scope::default()
        };
        assert!(scope.needs_processes());
        let kept = scope.apply(socks.clone());
        assert_eq!(kept.len(), 3);
        assert!(kept.iter().all(|s| s.local_port() != Some(22)));
        let by_name = Scope {
            process_names: vec!["srv".into()],
            ..Scope::default()
        };
        assert_eq!(by_name.apply(socks.clone()).len(), 5);
        let by_port = Scope {
            ports: vec![22],
            ..Scope::default()
        };
        assert_eq!(by_port.apply(socks.clone()).len(), 1);
        assert_eq!(by_port.describe().as_deref(), Some("ports 22"));
        assert_eq!(Scope::default().apply(socks).len(), 5);
    }

    #[test]
    fn unix_path_scope_keeps_sockets_on_its_paths_and_their_peers() {
        let ux = |path: Option<&str>, inode: u64, peer: u64| {
            Socket::new(
                Netid::UnixStream,
                TcpState::Established,
                Endpoint::Unix {
                    path: path.map(Into::into),
                    inode,
                },
                Endpoint::Unix {
                    path: None,
                    inode: peer,
                },
            )
        };
        let socks = vec![
            ux(Some("/d/unix-stream.sock"), 10, 0),
            // the accepted end (the listener's path) and its unnamed client
            ux(Some("/d/unix-stream.sock"), 11, 12),
            ux(None, 12, 11),
            // someone else's
            ux(Some("/run/other.sock"), 20, 0),
            ux(None, 21, 22),
            sock(TcpState::Listen, ("0.0.0.0", 0), ("0.0.0.0", 0), None),
        ];
        let scope = Scope {
            unix_paths: vec!["/d/unix-stream.sock".into()],
            ..Scope::default()
        };
        assert!(!scope.is_empty() && !scope.needs_processes());
        let kept: Vec<u64> = scope
            .apply(socks)
            .iter()
            .map(|s| match s.local {
                Endpoint::Unix { inode, .. } => inode,
                _ => 0,
            })
            .collect();
        assert_eq!(kept, vec![10, 11, 12]);
    }
}
