//! `K` in the live view: close the selected socket, or the connections of the selected
//! group, with SOCK_DESTROY (as `dump -K`). Nothing happens before a confirmation that names
//! what will be closed and how many; listeners, TIME-WAIT and unix sockets are left (and
//! said so); without CAP_NET_ADMIN the key says it is unavailable and why. The result line
//! counts what was closed and gives the first failure's reason.

use crate::collect::host::Host;
use crate::collect::netlink::destroy::destroy;
use crate::commands::kill::describe;
use crate::model::{Socket, TcpState};

use super::state::{App, Row};

/// What `K` would close, shown in the confirmation.
#[derive(Clone, Debug)]
pub struct KillPlan {
    /// `3 sockets under listener 127.0.0.1:8080 (CLOSE-WAIT 3)`.
    pub what: String,
    pub targets: Vec<Socket>,
}

/// CAP_NET_ADMIN in the effective set (bit 12 of CapEff): SOCK_DESTROY needs it.
fn has_net_admin() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let hex = s
                .lines()
                .find_map(|l| l.strip_prefix("CapEff:"))?
                .trim()
                .to_string();
            u64::from_str_radix(&hex, 16).ok()
        })
        .is_some_and(|caps| caps & (1 << 12) != 0)
}

/// The plan for the selection, or why there is none.
pub fn plan(app: &App) -> Result<KillPlan, String> {
    if !has_net_admin() {
        return Err("K is unavailable: closing sockets needs CAP_NET_ADMIN (run as root)".into());
    }
    let snap = app.snapshot.as_ref().ok_or("nothing to close yet")?;
    let vs = app.view_state();
    let (label, members): (String, Vec<usize>) = match vs.rows.get(vs.selected) {
        None => return Err("nothing selected".into()),
        Some(Row::Closed(_)) => return Err("that connection is closed already".into()),
        Some(Row::Socket { idx, .. }) => (String::new(), vec![*idx]),
        Some(Row::StateGroup(key)) => {
            let g = app
                .groups
                .iter()
                .find(|g| g.key == *key)
                .ok_or("no such group")?;
            (format!(" in group {}", key.label()), g.members.clone())
        }
        Some(Row::Netns(n)) => {
            let g = app.netns.get(*n).ok_or("no such namespace")?;
            (
                format!(" in namespace {}", crate::text::escape(g.label())),
                g.members.clone(),
            )
        }
        Some(Row::Listener(g) | Row::NetnsListener(g)) => {
            let lg = app.tree.listeners.get(*g).ok_or("no such listener")?;
            let l = snap.sockets.get(lg.listener).ok_or("no such listener")?;
            (
                format!(" connected to listener {}", endpoint(l)),
                lg.children().collect(),
            )
        }
        Some(Row::Remote(r)) => {
            let rg = app.tree.outbound.get(*r).ok_or("no such endpoint")?;
            (
                format!(" to {}", super::cells::remote(rg.addr, rg.port)),
                rg.members.clone(),
            )
        }
        Some(Row::OutboundHeader) => (
            " of every outbound connection".into(),
            app.tree
                .outbound
                .iter()
                .flat_map(|r| r.members.iter().copied())
                .collect(),
        ),
    };
    let mut targets = Vec::new();
    let mut kept = 0usize;
    for s in members.iter().filter_map(|&i| snap.sockets.get(i)) {
        if s.state == TcpState::Listen || s.state == TcpState::TimeWait || !s.netid.is_inet() {
            kept += 1;
        } else {
            targets.push(s.clone());
        }
    }
    if targets.is_empty() {
        return Err(if kept > 0 {
            "nothing to close: listeners, TIME-WAIT and unix sockets are left alone".into()
        } else {
            "nothing to close here".into()
        });
    }
    let what = if let ([one], true) = (targets.as_slice(), label.is_empty()) {
        crate::text::escape(&describe(one)).into_owned()
    } else {
        let mut by_state: Vec<(TcpState, usize)> = Vec::new();
        for s in &targets {
            match by_state.iter_mut().find(|(st, _)| *st == s.state) {
                Some((_, n)) => *n += 1,
                None => by_state.push((s.state, 1)),
            }
        }
        let states: Vec<String> = by_state
            .iter()
            .map(|(st, n)| format!("{} {n}", st.ss_name()))
            .collect();
        format!(
            "{} socket(s){} ({}){}",
            targets.len(),
            crate::text::escape(&label),
            states.join(", "),
            if kept > 0 {
                format!("; {kept} listener/TIME-WAIT/unix left alone")
            } else {
                String::new()
            }
        )
    };
    Ok(KillPlan { what, targets })
}

/// Close the plan's sockets; the result line.
pub fn execute(plan: &KillPlan) -> String {
    let sock = match Host::current().open_diag_socket() {
        Ok(s) => s,
        Err(e) => return format!("nothing closed: cannot open a sock_diag socket: {e}"),
    };
    let mut closed = 0usize;
    let mut failures: Vec<String> = Vec::new();
    for (seq, s) in (1u32..).zip(&plan.targets) {
        match destroy(&sock, s, seq) {
            Ok(()) => closed += 1,
            Err(r) => failures.push(format!("{}: {}", describe(s), r.reason())),
        }
    }
    let line = match failures.first() {
        None => format!("closed {closed} socket(s)"),
        Some(first) => format!(
            "closed {closed} of {}; {} not closed, e.g. {first}",
            plan.targets.len(),
            failures.len()
        ),
    };
    crate::text::escape(&line).into_owned()
}

fn endpoint(s: &Socket) -> String {
    match &s.local {
        crate::model::Endpoint::Inet { addr, port } => super::cells::remote(*addr, *port),
        crate::model::Endpoint::Unix { .. } => "unix".into(),
        // Only TCP sockets are ever closed; the others are named by kind.
        crate::model::Endpoint::Link { .. } => "packet".into(),
        crate::model::Endpoint::Netlink { .. } | crate::model::Endpoint::NetlinkPeer { .. } => {
            "netlink".into()
        }
        crate::model::Endpoint::Vsock { .. } => "vsock".into(),
        crate::model::Endpoint::Xdp { .. } => "xdp".into(),
        crate::model::Endpoint::Tipc { .. } => "tipc".into(),
        crate::model::Endpoint::Nothing => "*".into(),
    }
}
