//! Cell text of the live view. Socket cells come from the one column model
//! ([`crate::output::columns`]), so the live view and `sockeye dump` read the same.

use std::net::IpAddr;

use crate::model::{Socket, TcpState};
use crate::output::columns::{CellCtx, Column};

/// One cell of the one column model ([`crate::output::columns`]), as `sockeye dump` prints it
/// (escaped).
pub fn text(col: Column, s: &Socket, ctx: &CellCtx) -> String {
    let mut out = String::new();
    col.write(s, ctx, &mut out);
    out
}

/// One cell in the live view's compact spelling ([`Column::write_compact`], escaped).
pub fn compact(col: Column, s: &Socket, ctx: &CellCtx) -> String {
    let mut out = String::new();
    col.write_compact(s, ctx, &mut out);
    out
}

/// A remote endpoint as a group label: `1.2.3.4:443`, `[::1]:80`.
pub fn remote(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
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
    fn units_and_labels() {
        assert_eq!(remote("::1".parse().unwrap(), 80), "[::1]:80");
        assert_eq!(remote("10.0.0.1".parse().unwrap(), 443), "10.0.0.1:443");
        assert_eq!(bytes(1536.0), "1.5K");
        assert_eq!(bytes(12.0), "12B");
        assert_eq!(duration_ms(59_000), "59sec");
        assert_eq!(duration_ms(150_000), "2min30sec");
    }
}
