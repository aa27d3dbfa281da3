//! The Namespaces view: one group per network namespace (or the container that owns it),
//! with its TCP state counts, and under it its listeners with their accept-queue gauges.
//! Enter opens the namespace's sockets under its listeners. Without `--all-netns` every
//! socket is in this process's namespace, which is then the one group.

use std::collections::HashSet;
use std::sync::Arc;

use crate::group::ListenerTree;
use crate::model::{NetnsTag, Socket, TcpState};

use super::state::{GroupId, Row};

/// One namespace of the snapshot.
#[derive(Clone, Debug)]
pub struct NsGroup {
    /// `None`: the sockets carry no namespace (the live view runs without `--all-netns`).
    pub tag: Option<Arc<NetnsTag>>,
    /// TCP sockets per state (indexed by the kernel's number), as the header counts them.
    pub tcp: [u64; 12],
    /// Every socket of the namespace.
    pub sockets: usize,
    /// Its listeners: indices into the listener tree.
    pub listeners: Vec<usize>,
    /// Its sockets in sort order (indices into the snapshot).
    pub members: Vec<usize>,
}

impl NsGroup {
    /// The identity used for collapsing and opening (the nsfs inode; 0 untagged).
    pub fn key(&self) -> u64 {
        self.tag.as_ref().map_or(0, |t| t.inode)
    }

    /// The name shown: container or pod, else /run/netns name, else `net:[INODE]`.
    pub fn label(&self) -> &str {
        self.tag
            .as_ref()
            .map_or("this namespace", |t| t.label.as_str())
    }

    pub fn tcp(&self, s: TcpState) -> u64 {
        self.tcp[s as usize]
    }
}

fn key_of(s: &Socket) -> u64 {
    s.netns.as_ref().map_or(0, |t| t.inode)
}

/// Group the snapshot by namespace, busiest first (then by name), with each namespace's
/// listeners (in tree order) and members (in `order`).
pub fn groups(sockets: &[Socket], order: &[usize], tree: &ListenerTree) -> Vec<NsGroup> {
    let mut out: Vec<NsGroup> = Vec::new();
    let mut index: rustc_hash::FxHashMap<u64, usize> = Default::default();
    let mut slot = |s: &Socket, out: &mut Vec<NsGroup>| -> usize {
        *index.entry(key_of(s)).or_insert_with(|| {
            out.push(NsGroup {
                tag: s.netns.clone(),
                tcp: [0; 12],
                sockets: 0,
                listeners: Vec::new(),
                members: Vec::new(),
            });
            out.len() - 1
        })
    };
    // Neighbours in sort order are mostly of one namespace (without `--all-netns`, all of
    // them): the last one's group is tried before the hash.
    let mut last: Option<(u64, usize)> = None;
    for &i in order {
        let Some(s) = sockets.get(i) else { continue };
        let g = match last {
            Some((k, g)) if k == key_of(s) => g,
            _ => {
                let g = slot(s, &mut out);
                last = Some((key_of(s), g));
                g
            }
        };
        let grp = &mut out[g];
        grp.sockets += 1;
        grp.members.push(i);
        if s.netid == crate::model::Netid::Tcp {
            grp.tcp[s.state as usize] += 1;
        }
    }
    for (li, lg) in tree.listeners.iter().enumerate() {
        if let Some(s) = sockets.get(lg.listener) {
            let g = slot(s, &mut out);
            out[g].listeners.push(li);
        }
    }
    out.sort_by(|a, b| {
        b.sockets
            .cmp(&a.sockets)
            .then_with(|| a.label().cmp(b.label()))
    });
    out
}

/// The rows: each namespace, then (unless collapsed) its listeners, then (when opened) its
/// sockets.
pub fn rows(
    groups: &[NsGroup],
    collapsed: &HashSet<GroupId>,
    open: &HashSet<u64>,
    rows: &mut Vec<Row>,
) {
    for (ni, g) in groups.iter().enumerate() {
        rows.push(Row::Netns(ni));
        if collapsed.contains(&GroupId::Netns(g.key())) {
            continue;
        }
        rows.extend(g.listeners.iter().map(|&li| Row::NetnsListener(li)));
        if open.contains(&g.key()) {
            rows.extend(g.members.iter().map(|&idx| Row::Socket { idx, depth: 1 }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Netid};
    use std::net::{IpAddr, Ipv4Addr};

    fn tcp(state: TcpState, ns: Option<&Arc<NetnsTag>>) -> Socket {
        let ep = Endpoint::Inet {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 1,
        };
        let mut s = Socket::new(Netid::Tcp, state, ep.clone(), ep);
        s.netns = ns.cloned();
        s
    }

    #[test]
    fn interleaved_namespaces_each_count_their_own_sockets() {
        let a = Arc::new(NetnsTag::new(11, Some("a".into()), None));
        let b = Arc::new(NetnsTag::new(22, Some("b".into()), None));
        // Runs of one namespace, then back to an earlier one: the last-group shortcut must
        // not put a socket in its neighbour's group.
        let sockets = vec![
            tcp(TcpState::Established, Some(&a)),
            tcp(TcpState::Established, Some(&a)),
            tcp(TcpState::TimeWait, Some(&b)),
            tcp(TcpState::Established, Some(&a)),
            tcp(TcpState::CloseWait, None),
            tcp(TcpState::TimeWait, Some(&b)),
        ];
        let order: Vec<usize> = (0..sockets.len()).collect();
        let g = groups(&sockets, &order, &ListenerTree::default());
        let got: Vec<(u64, usize, Vec<usize>)> = g
            .iter()
            .map(|g| (g.key(), g.sockets, g.members.clone()))
            .collect();
        assert_eq!(
            got,
            vec![(11, 3, vec![0, 1, 3]), (22, 2, vec![2, 5]), (0, 1, vec![4])]
        );
        assert_eq!(g[0].tcp(TcpState::Established), 3);
        assert_eq!(g[1].tcp(TcpState::TimeWait), 2);
        assert_eq!(g[2].tcp(TcpState::CloseWait), 1);
    }
}
