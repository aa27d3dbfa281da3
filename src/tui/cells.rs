//! Cell text of the live view's tables. The spelling follows ss (`*:80`, `[::1]:443`,
//! `-` for unknown) so the live view and `sockeye dump` read the same.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::model::{Endpoint, Socket, TcpState};

/// Recv-Q / Send-Q: the number, or `-` when the source could not know.
pub fn queue(v: Option<u32>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// ss's State column.
pub fn state(s: &Socket) -> &'static str {
    s.state.ss_name()
}

pub fn netid(s: &Socket) -> &'static str {
    s.netid.as_str()
}

fn addr_port(addr: IpAddr, port: u16, v6only: Option<bool>, out: &mut String) {
    let p = |out: &mut String| {
        if port == 0 {
            out.push('*');
        } else {
            let _ = write!(out, "{port}");
        }
    };
    match addr {
        IpAddr::V4(a) if a.is_unspecified() => out.push_str("0.0.0.0"),
        IpAddr::V4(a) => {
            let _ = write!(out, "{a}");
        }
        // A dual-stack wildcard is `*`, a v6-only one `[::]` (as ss prints them).
        IpAddr::V6(a) if a.is_unspecified() && v6only != Some(true) => out.push('*'),
        IpAddr::V6(a) => {
            let _ = write!(out, "[{a}]");
        }
    }
    out.push(':');
    p(out);
}

/// `addr:port` as ss prints it; unix: the path (or `*`) and the inode.
pub fn endpoint(e: &Endpoint, v6only: Option<bool>) -> String {
    let mut out = String::new();
    match e {
        Endpoint::Inet { addr, port } => addr_port(*addr, *port, v6only, &mut out),
        Endpoint::Unix { path, inode } => {
            out.push_str(path.as_deref().unwrap_or("*"));
            let _ = write!(out, " {inode}");
        }
    }
    out
}

pub fn local(s: &Socket) -> String {
    endpoint(&s.local, s.v6only)
}

pub fn peer(s: &Socket) -> String {
    // Peers are never dual-stack wildcards; `::` with port 0 means no peer.
    match &s.peer {
        Endpoint::Inet { addr, port: 0 } if addr.is_unspecified() => "*:*".to_string(),
        e => endpoint(e, Some(true)),
    }
}

/// `cmd(pid)` of the first owner, `+N` more; `-` when none is known.
pub fn process(s: &Socket) -> String {
    match s.processes.as_slice() {
        [] => "-".to_string(),
        [p] => format!("{}({})", p.command, p.pid),
        [p, rest @ ..] => format!("{}({}) +{}", p.command, p.pid, rest.len()),
    }
}

/// True for states where Recv-Q/Send-Q are payload bytes (not a listener's accept queue, not
/// UDP/unix memory).
pub fn queues_are_bytes(s: &Socket) -> bool {
    s.netid == crate::model::Netid::Tcp && s.state != TcpState::Listen
}

/// A byte count in human units (`512B`, `1.5K`, `3.2M`).
pub fn bytes(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "K", "M", "G", "T"];
    let mut v = v;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0}{}", UNITS[u])
    } else {
        format!("{v:.1}{}", UNITS[u])
    }
}

/// Milliseconds as ss prints timer values (`59sec`, `200ms`, `2min30sec`).
pub fn duration_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{}sec", ms / 1000)
    } else {
        format!("{}min{}sec", ms / 60_000, (ms % 60_000) / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_as_ss_prints_them() {
        let e = |a: &str, port| Endpoint::Inet {
            addr: a.parse().unwrap(),
            port,
        };
        assert_eq!(endpoint(&e("0.0.0.0", 80), None), "0.0.0.0:80");
        assert_eq!(endpoint(&e("::", 80), None), "*:80");
        assert_eq!(endpoint(&e("::", 80), Some(true)), "[::]:80");
        assert_eq!(endpoint(&e("::1", 0), None), "[::1]:*");
        assert_eq!(
            endpoint(
                &Endpoint::Unix {
                    path: Some("/run/x".into()),
                    inode: 5
                },
                None
            ),
            "/run/x 5"
        );
        assert_eq!(queue(None), "-");
        assert_eq!(bytes(1536.0), "1.5K");
        assert_eq!(duration_ms(59_000), "59sec");
    }
}
