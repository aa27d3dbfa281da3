//! Shared by the filter tests: a fixed set of loopback sockets in known states (listeners on
//! 127.0.0.1, ::1, 0.0.0.0 and dual-stack ::, established pairs including a v4-mapped peer
//! and a client bound to 127.0.0.2, TIME-WAIT, CLOSE-WAIT/FIN-WAIT-2, UDP), `ss` as the
//! oracle, and sockeye's selection through the library, both restricted to those sockets.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket,
};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockeye::collect::{Collector, NetidSet, Query, SourcePref};
use sockeye::filter::Filter;
use sockeye::model::{Endpoint, Netid, Snapshot, Socket, StateSet, TcpState};

/// (netid, local addr, local port, peer addr, peer port): how ss and sockeye rows compare.
pub type Key = (String, String, u16, String, u16);

/// A TCP listener; `v6only: Some(false)` makes a dual-stack one.
fn listener(addr: SocketAddr, v6only: Option<bool>) -> TcpListener {
    crate::common::tcp_listener(addr, 64, v6only)
}

fn port_of(l: &TcpListener) -> u16 {
    l.local_addr().map(|a| a.port()).unwrap_or(0)
}

pub const LO4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
pub const LO4B: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
pub const LO6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// The sockets, kept alive while the world lives, and their ports by name.
pub struct World {
    _listeners: Vec<TcpListener>,
    _streams: Vec<TcpStream>,
    _udp: Vec<UdpSocket>,
    pub ports: BTreeMap<&'static str, u16>,
    pub ours: HashSet<u16>,
}

impl World {
    pub fn port(&self, name: &str) -> u16 {
        self.ports[name]
    }

    /// Replace `{NAME}` with the named port.
    pub fn subst(&self, expr: &str) -> String {
        let mut s = expr.to_string();
        for (k, v) in &self.ports {
            s = s.replace(&format!("{{{k}}}"), &v.to_string());
        }
        s
    }

    fn is_ours(&self, lport: u16, pport: u16) -> bool {
        self.ours.contains(&lport) && (pport == 0 || self.ours.contains(&pport))
    }
}

fn accept_one(l: &TcpListener) -> TcpStream {
    match l.accept() {
        Ok((s, _)) => s,
        Err(e) => panic!("accept: {e}"),
    }
}

pub fn build() -> World {
    let l4 = listener(SocketAddr::new(LO4, 0), None);
    let l6 = listener(SocketAddr::new(LO6, 0), Some(true));
    let ds = listener(
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
        Some(false),
    );
    let w4 = listener(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0), None);
    let (p_l4, p_l6, p_ds, p_w4) = (port_of(&l4), port_of(&l6), port_of(&ds), port_of(&w4));
    let mut ports = BTreeMap::new();
    ports.insert("L4", p_l4);
    ports.insert("L6", p_l6);
    ports.insert("DS", p_ds);
    ports.insert("W4", p_w4);

    let mut streams = Vec::new();
    let mut conn = |name: &'static str, from: IpAddr, to: SocketAddr, l: &TcpListener| {
        let c = crate::common::tcp_connect_from(from, to);
        let s = accept_one(l);
        ports.insert(name, c.local_addr().map(|a| a.port()).unwrap_or(0));
        (c, s)
    };
    let (a, b) = conn("C1", LO4, SocketAddr::new(LO4, p_l4), &l4);
    streams.extend([a, b]);
    let (a, b) = conn("C2", LO4B, SocketAddr::new(LO4, p_l4), &l4);
    streams.extend([a, b]);
    let (a, b) = conn("C3", LO6, SocketAddr::new(LO6, p_l6), &l6);
    streams.extend([a, b]);
    let (a, b) = conn("C4", LO4, SocketAddr::new(LO4, p_ds), &ds);
    streams.extend([a, b]);
    let (a, b) = conn("C5", LO6, SocketAddr::new(LO6, p_ds), &ds);
    streams.extend([a, b]);
    let (a, b) = conn("C6", LO4, SocketAddr::new(LO4, p_w4), &w4);
    streams.extend([a, b]);
    // TIME-WAIT on the client side: the client closes first, then the server.
    let (a, b) = conn("TW", LO4, SocketAddr::new(LO4, p_l4), &l4);
    drop(a);
    drop(b);
    // CLOSE-WAIT on the server, FIN-WAIT-2 on the client (which stays open).
    let (a, b) = conn("CW", LO4, SocketAddr::new(LO4, p_w4), &w4);
    let _ = a.shutdown(Shutdown::Write);
    streams.extend([a, b]);

    let u1 = UdpSocket::bind(SocketAddr::new(LO4, 0)).expect("udp bind");
    let u2 = UdpSocket::bind(SocketAddr::new(LO6, 0)).expect("udp6 bind");
    let u3 = UdpSocket::bind(SocketAddr::new(LO4, 0)).expect("udp bind");
    let pu1 = u1.local_addr().map(|a| a.port()).unwrap_or(0);
    u3.connect(SocketAddr::new(LO4, pu1)).expect("udp connect");
    ports.insert("U1", pu1);
    ports.insert("U2", u2.local_addr().map(|a| a.port()).unwrap_or(0));
    ports.insert("U3", u3.local_addr().map(|a| a.port()).unwrap_or(0));

    let ours = ports.values().copied().collect();
    let world = World {
        _listeners: vec![l4, l6, ds, w4],
        _streams: streams,
        _udp: vec![u1, u2, u3],
        ports,
        ours,
    };
    // The kernel moves the closing sockets along asynchronously: wait (bounded) until the
    // states are the ones the tests expect.
    let want = [
        (world.port("TW"), TcpState::TimeWait),
        (world.port("CW"), TcpState::FinWait2),
    ];
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let snap = collect(&Filter::default(), SourcePref::Netlink, false, true);
        let ok = want.iter().all(|(p, st)| {
            snap.sockets
                .iter()
                .any(|s| s.local_port() == Some(*p) && s.state == *st)
        });
        if ok {
            break;
        }
        if Instant::now() >= deadline {
            let seen: Vec<_> = want
                .iter()
                .map(|(p, st)| {
                    let now: Vec<_> = snap
                        .sockets
                        .iter()
                        .filter(|s| s.local_port() == Some(*p))
                        .map(|s| format!("{:?}", s.state))
                        .collect();
                    format!("port {p}: want {st:?}, seen {now:?}")
                })
                .collect();
            panic!("sockets never reached their states: {}", seen.join("; "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    world
}

fn norm_addr(a: &str) -> String {
    let a = a.trim_start_matches('[').trim_end_matches(']');
    match a {
        "*" => "::".to_string(),
        _ => a
            .parse::<IpAddr>()
            .map(|ip| ip.to_string())
            .unwrap_or(a.to_string()),
    }
}

fn split_endpoint(s: &str) -> Option<(String, u16)> {
    let i = s.rfind(':')?;
    let port = match &s[i + 1..] {
        "*" => 0,
        p => p.parse().ok()?,
    };
    // ss appends %iface to addresses bound to a device.
    let addr = s[..i].split('%').next().unwrap_or("");
    Some((norm_addr(addr), port))
}

/// Run ss with `flags` (e.g. "-tanuH") and the filter words; our sockets only.
pub fn ss_keys(w: &World, flags: &str, words: &[String]) -> Result<BTreeSet<Key>, String> {
    let out = Command::new("ss")
        .arg(flags)
        .args(words)
        .output()
        .map_err(|e| format!("running ss: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ss {flags} {}: {}",
            words.join(" "),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
        ));
    }
    let mut keys = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 {
            continue;
        }
        let (Some((la, lp)), Some((pa, pp))) = (
            split_endpoint(f[f.len() - 2]),
            split_endpoint(f[f.len() - 1]),
        ) else {
            continue;
        };
        if w.is_ours(lp, pp) {
            keys.insert((f[0].to_string(), la, lp, pa, pp));
        }
    }
    Ok(keys)
}

pub fn key_of(s: &Socket) -> Option<Key> {
    let (Endpoint::Inet { addr: la, port: lp }, Endpoint::Inet { addr: pa, port: pp }) =
        (&s.local, &s.peer)
    else {
        return None;
    };
    Some((
        s.netid.as_str().to_string(),
        la.to_string(),
        *lp,
        pa.to_string(),
        *pp,
    ))
}

pub fn query(f: &Filter, source: SourcePref, listening: bool, all: bool) -> Query {
    Query {
        netids: NetidSet::of(&[Netid::Tcp, Netid::Udp]),
        states: f.states(listening, all),
        bytecode: f.bytecode().map(Arc::new),
        keep: f.predicate(),
        source,
        ..Query::default()
    }
}

pub fn collect_query(q: Query) -> Snapshot {
    match Collector::new(q).snapshot() {
        Ok(s) => s,
        Err(e) => panic!("snapshot: {e}"),
    }
}

pub fn collect(f: &Filter, source: SourcePref, listening: bool, all: bool) -> Snapshot {
    collect_query(query(f, source, listening, all))
}

pub fn keys_of(w: &World, socks: &[Socket]) -> BTreeSet<Key> {
    socks
        .iter()
        .filter_map(key_of)
        .filter(|k| w.is_ours(k.2, k.4))
        .collect()
}

/// ss's flags → (listening, all).
pub fn flag_states(flags: &str) -> (bool, bool) {
    (flags.contains('l'), flags.contains('a'))
}

pub fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

pub fn states_of(snap: &Snapshot) -> StateSet {
    StateSet::of(&snap.sockets.iter().map(|s| s.state).collect::<Vec<_>>())
}
