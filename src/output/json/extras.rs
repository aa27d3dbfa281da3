//! JSON of the rare reports (see README's schema): `mptcp_info`, `ulp` and `md5keys` with
//! `-i`, a packet socket's rings and fanout and an XDP socket's rings, umem and stats in
//! `details`, a TIPC socket's `tipc_info`. Built as `serde_json::Value`s: few sockets carry
//! them.

use crate::model::{InfoExtras, Md5Key, PacketRing, PacketRings, Socket, XdpRings};
use serde_json::{Value, json};

fn extras(s: &Socket) -> Option<&InfoExtras> {
    s.details.as_deref()?.info_extras.as_deref()
}

/// `mptcp_info`: null unless the socket is MPTCP and the kernel sent it.
pub(super) fn mptcp_info(s: &Socket) -> Value {
    let Some(m) = extras(s).and_then(|x| x.mptcp) else {
        return Value::Null;
    };
    json!({
        "subflows": m.subflows,
        "add_addr_signal": m.add_addr_signal,
        "add_addr_accepted": m.add_addr_accepted,
        "subflows_max": m.subflows_max,
        "add_addr_signal_max": m.add_addr_signal_max,
        "add_addr_accepted_max": m.add_addr_accepted_max,
        "fallback": m.flags & 1 != 0,
        "remote_key": m.flags & 2 != 0,
        "token": m.token,
        "write_seq": m.write_seq,
        "snd_una": m.snd_una,
        "rcv_nxt": m.rcv_nxt,
    })
}

/// `ulp`: the upper-layer protocol on a TCP socket, null when it has none.
pub(super) fn ulp(s: &Socket) -> Value {
    let Some(u) = extras(s).and_then(|x| x.ulp.as_ref()) else {
        return Value::Null;
    };
    let tls = u.tls.map(|t| {
        json!({
            "version": t.version,
            "cipher": t.cipher,
            "rxconf": t.rxconf,
            "txconf": t.txconf,
        })
    });
    let subflow = u.subflow.map(|f| {
        json!({
            "flags": f.flags,
            "token_rem": f.token_rem,
            "token_loc": f.token_loc,
            "id_rem": f.id_rem,
            "id_loc": f.id_loc,
            "map_seq": f.map_seq,
            "map_sfseq": f.map_sfseq,
            "ssn_offset": f.ssn_offset,
            "map_datalen": f.map_datalen,
        })
    });
    json!({ "name": u.name.as_deref(), "tls": tls, "mptcp_subflow": subflow })
}

/// `md5keys`: `[{"addr", "prefixlen", "key"}]` (the key as bytes), null when none were sent.
pub(super) fn md5keys(s: &Socket) -> Value {
    match extras(s).map(|x| &x.md5keys[..]) {
        None | Some([]) => Value::Null,
        Some(keys) => keys.iter().map(md5).collect(),
    }
}

fn md5(k: &Md5Key) -> Value {
    json!({ "addr": k.addr.to_string(), "prefixlen": k.prefixlen, "key": &*k.key })
}

fn ring(r: &PacketRing) -> Value {
    json!({
        "block_size": r.block_size,
        "block_nr": r.block_nr,
        "frame_size": r.frame_size,
        "frame_nr": r.frame_nr,
        "retire_tmo": r.retire_tmo,
        "sizeof_priv": r.sizeof_priv,
        "features": r.features,
    })
}

/// `details.packet_rx_ring`, `packet_tx_ring`, `packet_fanout` (`{"id", "type"}`).
pub(super) fn packet(s: &Socket) -> [(&'static str, Value); 3] {
    let r = s
        .details
        .as_deref()
        .and_then(|d| d.packet.as_deref())
        .copied()
        .unwrap_or(PacketRings::default());
    let fanout = r.fanout.map(|f| {
        let kind = match (f >> 16) & 0xffff {
            0 => "hash".to_string(),
            1 => "lb".into(),
            2 => "cpu".into(),
            3 => "roll".into(),
            4 => "random".into(),
            5 => "qm".into(),
            t => format!("0x{t:x}"),
        };
        json!({ "id": f & 0xffff, "type": kind })
    });
    [
        ("packet_rx_ring", r.rx.as_ref().map_or(Value::Null, ring)),
        ("packet_tx_ring", r.tx.as_ref().map_or(Value::Null, ring)),
        ("packet_fanout", fanout.unwrap_or(Value::Null)),
    ]
}

/// `tipc_info` (`--tipcinfo`): `{"type", "congestion", "drops", "published", "via"}`, null
/// when the kernel sent nothing.
pub(super) fn tipc_info(s: &Socket) -> Value {
    let Some(t) = s.details.as_deref().and_then(|d| d.tipc.as_deref()) else {
        return Value::Null;
    };
    let kind = match t.sock_type as i32 {
        libc::SOCK_STREAM => Some("STREAM"),
        libc::SOCK_DGRAM => Some("DGRAM"),
        libc::SOCK_RDM => Some("RDM"),
        libc::SOCK_SEQPACKET => Some("SEQPACKET"),
        _ => None,
    };
    let congestion = if t.link_cong {
        "link"
    } else if t.conn_cong {
        "conn"
    } else {
        "none"
    };
    let via = t
        .via
        .map(|(ty, inst)| json!({ "type": ty, "instance": inst }));
    json!({
        "type": kind,
        "congestion": congestion,
        "drops": t.drops,
        "published": t.published,
        "via": via,
    })
}

/// `details.xdp_rx_ring`, `xdp_tx_ring`, `xdp_fill_ring`, `xdp_completion_ring` (entries),
/// `xdp_umem` and `xdp_stats`: null when the kernel did not send them.
pub(super) fn xdp(s: &Socket) -> [(&'static str, Value); 6] {
    let r = s
        .details
        .as_deref()
        .and_then(|d| d.xdp.as_deref())
        .copied()
        .unwrap_or(XdpRings::default());
    let umem = r.umem.map(|u| {
        json!({
            "id": u.id,
            "size": u.size,
            "num_pages": u.num_pages,
            "chunk_size": u.chunk_size,
            "headroom": u.headroom,
            "ifindex": u.ifindex,
            "queue_id": u.queue_id,
            "zerocopy": u.flags & 1 != 0,
            "refs": u.refs,
        })
    });
    let stats = r.stats.map(|t| {
        json!({
            "rx_dropped": t.rx_dropped,
            "rx_invalid": t.rx_invalid,
            "rx_full": t.rx_full,
            "fill_ring_empty": t.fill_ring_empty,
            "tx_invalid": t.tx_invalid,
            "tx_ring_empty": t.tx_ring_empty,
        })
    });
    [
        ("xdp_rx_ring", r.rx.into()),
        ("xdp_tx_ring", r.tx.into()),
        ("xdp_fill_ring", r.fill.into()),
        ("xdp_completion_ring", r.completion.into()),
        ("xdp_umem", umem.unwrap_or(Value::Null)),
        ("xdp_stats", stats.unwrap_or(Value::Null)),
    ]
}
