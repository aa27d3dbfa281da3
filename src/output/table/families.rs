//! The reports of the tables this kernel has no diag module for, as iproute2 6.1's ss
//! prints them: an AF_XDP socket's rings, umem and counters under `-e` (`xdp_show_ring`,
//! `xdp_show_umem`, `xdp_show_stats`) and a TIPC socket's `--tipcinfo` (`tipc_show_sock`).

use crate::model::{TipcInfo, XdpRings};
use std::fmt::Write as _;

/// `rx(entries:N)`, `tx(...)`, `umem(id:..,...,refs:..)` with the umem's `fr(...)` and
/// `cr(...)`, then `stats(rx dropped:..,...)`: each on its own line, or on the row with
/// `-O`.
pub(super) fn push_xdp_rings(out: &mut String, r: &XdpRings, oneline: bool) {
    let sep = if oneline { " " } else { "\n\t" };
    let ring = |out: &mut String, name: &str, entries: Option<u32>| {
        if let Some(n) = entries {
            let _ = write!(out, "{sep}{name}(entries:{n})");
        }
    };
    ring(out, "rx", r.rx);
    ring(out, "tx", r.tx);
    if let Some(u) = &r.umem {
        // ss 6.1 spells the one-line form ` tumem(` (a typo there, kept: same bytes).
        out.push_str(if oneline { " tumem(" } else { "\n\tumem(" });
        let _ = write!(
            out,
            "id:{},size:{},num_pages:{},chunk_size:{},headroom:{},ifindex:{},qid:{},zc:{},refs:{})",
            u.id,
            u.size,
            u.num_pages,
            u.chunk_size,
            u.headroom,
            u.ifindex,
            u.queue_id,
            u.flags & 1,
            u.refs
        );
        // ss prints the fill and completion rings with the umem they belong to only.
        ring(out, "fr", r.fill);
        ring(out, "cr", r.completion);
    }
    if let Some(st) = &r.stats {
        let _ = write!(
            out,
            "{sep}stats(rx dropped:{},rx invalid:{},rx queue full:{},rx fill ring empty:{},\
             tx invalid:{},tx ring empty:{})",
            st.rx_dropped,
            st.rx_invalid,
            st.rx_full,
            st.fill_ring_empty,
            st.tx_invalid,
            st.tx_ring_empty
        );
    }
}

/// `--tipcinfo`: `\n type:STREAM cong:none  drop:0  publ via {T,I} ` — a newline and a
/// space (not a tab), and the spaces ss leaves after `cong:`, `drop:` and `via`.
pub(super) fn push_tipc_info(out: &mut String, t: &TipcInfo, oneline: bool) {
    // ss's stype_nameg; the decoder keeps only these four types.
    let kind = match t.sock_type as i32 {
        libc::SOCK_STREAM => "STREAM",
        libc::SOCK_DGRAM => "DGRAM",
        libc::SOCK_RDM => "RDM",
        libc::SOCK_SEQPACKET => "SEQPACKET",
        _ => "UNKNOWN",
    };
    out.push_str(if oneline { " type:" } else { "\n type:" });
    out.push_str(kind);
    out.push_str(if t.link_cong {
        " cong:link "
    } else if t.conn_cong {
        " cong:conn "
    } else {
        " cong:none "
    });
    // ss's %d; a kernel always sends the count (no number when it did not).
    if let Some(d) = t.drops {
        let _ = write!(out, " drop:{} ", d as i32);
    }
    if t.published {
        out.push_str(" publ");
    }
    if let Some((ty, inst)) = t.via {
        let _ = write!(out, " via {{{ty},{inst}}} ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tipcinfo_without_a_drop_count_prints_no_number() {
        let t = TipcInfo {
            sock_type: libc::SOCK_DGRAM as u32,
            conn_cong: true,
            ..TipcInfo::default()
        };
        let mut out = String::new();
        push_tipc_info(&mut out, &t, false);
        assert_eq!(out, "\n type:DGRAM cong:conn ");
        out.clear();
        let t = TipcInfo {
            sock_type: libc::SOCK_SEQPACKET as u32,
            drops: Some(u32::MAX),
            published: true,
            ..TipcInfo::default()
        };
        push_tipc_info(&mut out, &t, true);
        // ss's %d.
        assert_eq!(out, " type:SEQPACKET cong:none  drop:-1  publ");
    }

    #[test]
    fn xdp_fill_and_completion_rings_print_only_with_their_umem() {
        let r = XdpRings {
            tx: Some(8),
            fill: Some(16),
            completion: Some(32),
            ..XdpRings::default()
        };
        let mut out = String::new();
        push_xdp_rings(&mut out, &r, false);
        assert_eq!(out, "\n\ttx(entries:8)");
    }
}
