//! `--json`: one JSON array of socket objects, streamed one object per line (no document is
//! built in memory). The schema is documented in README ("JSON schema"); unknown values are
//! `null`, never 0. Keys and values come from the column model ([`Column::JSON`]); only the
//! nested `tcp_info` and `memory` objects are spelled here.

mod extras;

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use super::columns::{Column, JsonValue, JsonWhen};
use crate::model::{
    CcInfo, Container, INET_SOCKOPTS, MemInfo, NetnsTag, ProcessRef, Socket, Source, TcpInfo,
    ThreadRef, Timer, TimerKind, tcpi_opt,
};

/// Which optional keys to add (they follow the ss flags that ask for them).
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonOptions {
    /// `timer` (`-o`, `-e`)
    pub timers: bool,
    /// `processes` (`-p`)
    pub processes: bool,
    /// `tcp_info` (`-i`)
    pub info: bool,
    /// `memory` (`-m`)
    pub memory: bool,
    /// `details` (`-e`, `--tos`, `--cgroup`, `--inet-sockopt`)
    pub details: bool,
    /// `threads` (`-T`)
    pub threads: bool,
    /// `tipc_info` on TIPC sockets (`--tipcinfo`)
    pub tipcinfo: bool,
}

/// Write `sockets` as a JSON array to `w`.
pub fn write_json<'a, W: Write>(
    w: &mut W,
    sockets: impl IntoIterator<Item = &'a Socket>,
    source: Source,
    opts: &JsonOptions,
) -> io::Result<()> {
    w.write_all(b"[")?;
    for (i, s) in sockets.into_iter().enumerate() {
        w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *w, &SocketJson { s, source, opts }).map_err(io::Error::from)?;
    }
    w.write_all(b"\n]\n")
}

/// One socket as a JSON object.
pub struct SocketJson<'a> {
    pub s: &'a Socket,
    pub source: Source,
    pub opts: &'a JsonOptions,
}

impl Serialize for SocketJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = self.s;
        let mut m = ser.serialize_map(None)?;
        for col in Column::JSON {
            let Some(key) = col.spec().json else { continue };
            let wanted = match key.when {
                JsonWhen::Always => true,
                JsonWhen::Timers => self.opts.timers,
                JsonWhen::Processes => self.opts.processes,
            };
            if !wanted {
                continue;
            }
            match col.json(s, self.source) {
                JsonValue::Absent => {}
                JsonValue::Null => m.serialize_entry(key.key, &())?,
                JsonValue::Str(v) => m.serialize_entry(key.key, v)?,
                JsonValue::Addr(a) => m.serialize_entry(key.key, &Display(&a))?,
                JsonValue::U64(v) => m.serialize_entry(key.key, &v)?,
                JsonValue::I64(v) => m.serialize_entry(key.key, &v)?,
                JsonValue::Timer(t) => {
                    m.serialize_entry(key.key, &t.map(|t| TimerJson(t, s.netid)))?
                }
                JsonValue::Processes(p) => m.serialize_entry(key.key, &ProcessesJson(p))?,
                JsonValue::Netns(t) => m.serialize_entry(key.key, &NetnsJson(t))?,
                JsonValue::Container(c) => m.serialize_entry(key.key, &c.map(ContainerJson))?,
            }
        }
        use crate::model::Endpoint;
        if let (Endpoint::Vsock { cid: l, .. }, Endpoint::Vsock { cid: p, .. }) =
            (&s.local, &s.peer)
        {
            // A vsock end's context id (VMADDR_CID_ANY is 4294967295); the ports are in
            // `local_port` / `peer_port`.
            m.serialize_entry("local_cid", l)?;
            m.serialize_entry("peer_cid", p)?;
        }
        if s.netid.class() == crate::tables::FamilyClass::Tipc {
            // A TIPC end's node address; the ports are in `local_port` / `peer_port`, and
            // an unconnected socket's peer is null.
            let node = |e: &Endpoint| match e {
                Endpoint::Tipc { node, .. } => Some(*node),
                _ => None,
            };
            m.serialize_entry("local_node", &node(&s.local))?;
            m.serialize_entry("peer_node", &node(&s.peer))?;
            if self.opts.tipcinfo {
                m.serialize_entry("tipc_info", &extras::tipc_info(s))?;
            }
        }
        if s.netid == crate::model::Netid::Netlink
            && let Some(c) = s.details.as_deref().and_then(|d| d.netlink_ctx.as_deref())
        {
            // -Z/-z: the context ss prints as proc_ctx= (of the port id's process).
            m.serialize_entry("proc_ctx", c)?;
        }
        if s.netid == crate::model::Netid::Xdp {
            // XDP_DIAG_INFO's binding; null for a socket not bound yet.
            let (ifindex, queue) = match s.local {
                Endpoint::Xdp { ifindex, queue } => (Some(ifindex), Some(queue)),
                _ => (None, None),
            };
            m.serialize_entry("ifindex", &ifindex)?;
            m.serialize_entry("queue_id", &queue)?;
        }
        if s.netid == crate::model::Netid::Sctp {
            // An association (its state in `state`, SCTP's spelling) or its endpoint; and
            // every address of each end, when -i or -m asked.
            let d = s.details.as_deref();
            m.serialize_entry(
                "sctp_association",
                &d.is_some_and(|d| d.sctp_assoc.is_some()),
            )?;
            if self.opts.info || self.opts.memory {
                let none: &[std::net::IpAddr] = &[];
                let locals = d.map_or(none, |d| &d.sctp_locals[..]);
                let peers = d.map_or(none, |d| &d.sctp_peers[..]);
                m.serialize_entry(
                    "sctp_locals",
                    &locals.iter().map(Display).collect::<Vec<_>>(),
                )?;
                m.serialize_entry("sctp_peers", &peers.iter().map(Display).collect::<Vec<_>>())?;
            }
            if self.opts.info {
                let info = d.and_then(|d| d.sctp_info.as_deref()).map(SctpInfoJson);
                m.serialize_entry("sctp_info", &info)?;
            }
        }
        if self.opts.info {
            m.serialize_entry("tcp_info", &s.tcp_info.as_deref().map(TcpInfoJson))?;
            m.serialize_entry("mptcp_info", &extras::mptcp_info(s))?;
            m.serialize_entry("ulp", &extras::ulp(s))?;
            m.serialize_entry("md5keys", &extras::md5keys(s))?;
        }
        if self.opts.memory {
            m.serialize_entry("memory", &s.memory.as_deref().map(MemJson))?;
        }
        if self.opts.details {
            m.serialize_entry("details", &DetailsJson(s))?;
        }
        if self.opts.threads {
            let threads = s.details.as_deref().map_or(&[][..], |d| &d.threads[..]);
            m.serialize_entry("threads", &ThreadsJson(threads))?;
        }
        m.end()
    }
}

/// `struct sctp_info`'s fields that ss prints, by their kernel names.
struct SctpInfoJson<'a>(&'a crate::model::SctpInfo);

impl Serialize for SctpInfoJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let i = self.0;
        let mut m = ser.serialize_map(None)?;
        let state = u8::try_from(i.state)
            .ok()
            .and_then(crate::model::SctpState::from_kernel)
            .map(|s| s.ss_name());
        m.serialize_entry("tag", &i.tag)?;
        m.serialize_entry("state", &state)?;
        m.serialize_entry("rwnd", &i.rwnd)?;
        m.serialize_entry("unackdata", &i.unackdata)?;
        m.serialize_entry("penddata", &i.penddata)?;
        m.serialize_entry("instrms", &i.instrms)?;
        m.serialize_entry("outstrms", &i.outstrms)?;
        m.serialize_entry("inqueue", &i.inqueue)?;
        m.serialize_entry("outqueue", &i.outqueue)?;
        m.serialize_entry("overall_error", &i.overall_error)?;
        m.serialize_entry("max_burst", &i.max_burst)?;
        m.serialize_entry("maxseg", &i.maxseg)?;
        m.serialize_entry("peer_rwnd", &i.peer_rwnd)?;
        m.serialize_entry("peer_tag", &i.peer_tag)?;
        m.serialize_entry("peer_capable", &i.peer_capable)?;
        m.serialize_entry("peer_sack", &i.peer_sack)?;
        m.serialize_entry("autoclose", &i.autoclose)?;
        m.serialize_entry("adaptation_ind", &i.adaptation_ind)?;
        m.serialize_entry("pd_point", &i.pd_point)?;
        m.serialize_entry("nodelay", &i.nodelay)?;
        m.serialize_entry("disable_fragments", &i.disable_fragments)?;
        m.serialize_entry("v4mapped", &i.v4mapped)?;
        m.serialize_entry("frag_interleave", &i.frag_interleave)?;
        m.end()
    }
}

/// Serialize through `Display` without an intermediate String.
struct Display<'a, T>(&'a T);

impl<T: std::fmt::Display> Serialize for Display<'_, T> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_str(self.0)
    }
}

struct TimerJson<'a>(&'a Timer, crate::model::Netid);

impl Serialize for TimerJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        if self.0.kind == TimerKind::Off {
            return ser.serialize_none();
        }
        let mut m = ser.serialize_map(Some(3))?;
        m.serialize_entry("kind", self.0.ss_name(self.1))?;
        m.serialize_entry("expires_ms", &self.0.expires_ms)?;
        m.serialize_entry("retrans", &self.0.retrans)?;
        m.end()
    }
}

struct ProcessesJson<'a>(&'a [ProcessRef]);

impl Serialize for ProcessesJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(Some(self.0.len()))?;
        for p in self.0 {
            seq.serialize_element(&ProcessJson(p))?;
        }
        seq.end()
    }
}

struct ProcessJson<'a>(&'a ProcessRef);

impl Serialize for ProcessJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("command", &*self.0.command)?;
        m.serialize_entry("pid", &self.0.pid)?;
        m.serialize_entry("fd", &self.0.fd)?;
        // Only where it differs (a process in a container's pid namespace).
        if let Some(n) = self.0.nspid {
            m.serialize_entry("nspid", &n)?;
        }
        // Only with -Z / -z (ss's names; "unavailable" when unreadable, as ss).
        if let Some(c) = &self.0.proc_ctx {
            m.serialize_entry("proc_ctx", &**c)?;
        }
        if let Some(c) = &self.0.sock_ctx {
            m.serialize_entry("sock_ctx", &**c)?;
        }
        m.end()
    }
}

/// `"netns": {"inode": N, "name": "web" | null}`
pub struct NetnsJson<'a>(pub &'a NetnsTag);

impl Serialize for NetnsJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(Some(2))?;
        m.serialize_entry("inode", &self.0.inode)?;
        m.serialize_entry("name", &self.0.name)?;
        m.end()
    }
}

/// `"container": {"runtime", "id", "name", "pod", "pod_namespace"}`, unknown fields null;
/// plus `"containers": [{"id", "name"}]` when several containers share the namespace (a pod).
pub struct ContainerJson<'a>(pub &'a Container);

impl Serialize for ContainerJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("runtime", c.runtime)?;
        m.serialize_entry("id", &c.id)?;
        m.serialize_entry("name", &c.name)?;
        m.serialize_entry("pod", &c.pod)?;
        m.serialize_entry("pod_namespace", &c.pod_namespace)?;
        if c.containers.len() > 1 {
            let members: Vec<_> = c
                .containers
                .iter()
                .map(|p| serde_json::json!({"id": p.id, "name": p.name}))
                .collect();
            m.serialize_entry("containers", &members)?;
        }
        m.end()
    }
}

struct MemJson<'a>(&'a MemInfo);

impl Serialize for MemJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        let mut m = ser.serialize_map(Some(9))?;
        m.serialize_entry("rmem_alloc", &x.rmem_alloc)?;
        m.serialize_entry("rcvbuf", &x.rcvbuf)?;
        m.serialize_entry("wmem_alloc", &x.wmem_alloc)?;
        m.serialize_entry("sndbuf", &x.sndbuf)?;
        m.serialize_entry("fwd_alloc", &x.fwd_alloc)?;
        m.serialize_entry("wmem_queued", &x.wmem_queued)?;
        m.serialize_entry("optmem", &x.optmem)?;
        m.serialize_entry("backlog", &x.backlog)?;
        m.serialize_entry("drops", &x.drops)?;
        m.end()
    }
}

struct TcpInfoJson<'a>(&'a TcpInfo);

impl Serialize for TcpInfoJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let i = self.0;
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("congestion", &i.congestion.as_deref())?;
        m.serialize_entry("rtt_us", &i.rtt_us)?;
        m.serialize_entry("rttvar_us", &i.rttvar_us)?;
        m.serialize_entry("min_rtt_us", &i.min_rtt_us)?;
        m.serialize_entry("rto_us", &i.rto_us)?;
        m.serialize_entry("ato_us", &i.ato_us)?;
        m.serialize_entry("snd_mss", &i.snd_mss)?;
        m.serialize_entry("rcv_mss", &i.rcv_mss)?;
        m.serialize_entry("advmss", &i.advmss)?;
        m.serialize_entry("pmtu", &i.pmtu)?;
        m.serialize_entry("snd_cwnd", &i.snd_cwnd)?;
        m.serialize_entry("snd_ssthresh", &i.snd_ssthresh)?;
        m.serialize_entry("snd_wscale", &i.snd_wscale)?;
        m.serialize_entry("rcv_wscale", &i.rcv_wscale)?;
        m.serialize_entry("unacked", &i.unacked)?;
        m.serialize_entry("sacked", &i.sacked)?;
        m.serialize_entry("lost", &i.lost)?;
        m.serialize_entry("retrans", &i.retrans)?;
        m.serialize_entry("total_retrans", &i.total_retrans)?;
        m.serialize_entry("retransmits", &i.retransmits)?;
        m.serialize_entry("probes", &i.probes)?;
        m.serialize_entry("backoff", &i.backoff)?;
        m.serialize_entry("bytes_acked", &i.bytes_acked)?;
        m.serialize_entry("bytes_received", &i.bytes_received)?;
        m.serialize_entry("bytes_sent", &i.bytes_sent)?;
        m.serialize_entry("bytes_retrans", &i.bytes_retrans)?;
        m.serialize_entry("segs_out", &i.segs_out)?;
        m.serialize_entry("segs_in", &i.segs_in)?;
        m.serialize_entry("data_segs_out", &i.data_segs_out)?;
        m.serialize_entry("data_segs_in", &i.data_segs_in)?;
        m.serialize_entry("delivery_rate", &i.delivery_rate)?;
        m.serialize_entry("pacing_rate", &i.pacing_rate)?;
        m.serialize_entry("delivered", &i.delivered)?;
        m.serialize_entry("app_limited", &i.app_limited)?;
        m.serialize_entry("busy_time_us", &i.busy_time_us)?;
        m.serialize_entry("last_data_sent_ms", &i.last_data_sent_ms)?;
        m.serialize_entry("last_data_recv_ms", &i.last_data_recv_ms)?;
        m.serialize_entry("last_ack_recv_ms", &i.last_ack_recv_ms)?;
        m.serialize_entry("rcv_space", &i.rcv_space)?;
        m.serialize_entry("rcv_ssthresh", &i.rcv_ssthresh)?;
        m.serialize_entry("snd_wnd", &i.snd_wnd)?;
        let names = [
            (tcpi_opt::TIMESTAMPS, "ts"),
            (tcpi_opt::SACK, "sack"),
            (tcpi_opt::WSCALE, "wscale"),
            (tcpi_opt::ECN, "ecn"),
            (tcpi_opt::ECN_SEEN, "ecnseen"),
            (tcpi_opt::SYN_DATA, "fastopen"),
        ];
        let options: Vec<&str> = names
            .iter()
            .filter(|(b, _)| i.options & b != 0)
            .map(|(_, n)| *n)
            .collect();
        m.serialize_entry("options", &options)?;
        m.serialize_entry("ca_state", &i.ca_state)?;
        m.serialize_entry("fackets", &i.fackets)?;
        m.serialize_entry("reordering", &i.reordering)?;
        m.serialize_entry("rcv_rtt_us", &i.rcv_rtt_us)?;
        m.serialize_entry("max_pacing_rate", &i.max_pacing_rate)?;
        m.serialize_entry("notsent_bytes", &i.notsent_bytes)?;
        m.serialize_entry("rwnd_limited_us", &i.rwnd_limited_us)?;
        m.serialize_entry("sndbuf_limited_us", &i.sndbuf_limited_us)?;
        m.serialize_entry("delivered_ce", &i.delivered_ce)?;
        m.serialize_entry("dsack_dups", &i.dsack_dups)?;
        m.serialize_entry("reord_seen", &i.reord_seen)?;
        m.serialize_entry("rcv_ooopack", &i.rcv_ooopack)?;
        m.serialize_entry("rcv_wnd", &i.rcv_wnd)?;
        m.serialize_entry("rehash", &i.rehash)?;
        m.serialize_entry("total_rto", &i.total_rto)?;
        m.serialize_entry("total_rto_recoveries", &i.total_rto_recoveries)?;
        m.serialize_entry("total_rto_time_ms", &i.total_rto_time_ms)?;
        m.serialize_entry("cc_info", &i.cc_info.as_ref().map(CcJson))?;
        m.end()
    }
}

struct CcJson<'a>(&'a CcInfo);

impl Serialize for CcJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        match *self.0 {
            CcInfo::Bbr {
                bw,
                min_rtt_us,
                pacing_gain,
                cwnd_gain,
            } => {
                m.serialize_entry("kind", "bbr")?;
                m.serialize_entry("bw", &bw)?;
                m.serialize_entry("min_rtt_us", &min_rtt_us)?;
                m.serialize_entry("pacing_gain", &pacing_gain)?;
                m.serialize_entry("cwnd_gain", &cwnd_gain)?;
            }
            CcInfo::Dctcp {
                enabled,
                ce_state,
                alpha,
                ab_ecn,
                ab_tot,
            } => {
                m.serialize_entry("kind", "dctcp")?;
                m.serialize_entry("enabled", &enabled)?;
                m.serialize_entry("ce_state", &ce_state)?;
                m.serialize_entry("alpha", &alpha)?;
                m.serialize_entry("ab_ecn", &ab_ecn)?;
                m.serialize_entry("ab_tot", &ab_tot)?;
            }
            CcInfo::Vegas {
                enabled,
                rttcnt,
                rtt_us,
                min_rtt_us,
            } => {
                m.serialize_entry("kind", "vegas")?;
                m.serialize_entry("enabled", &(enabled != 0))?;
                m.serialize_entry("rttcnt", &rttcnt)?;
                m.serialize_entry("rtt_us", &rtt_us)?;
                m.serialize_entry("min_rtt_us", &min_rtt_us)?;
            }
        }
        m.end()
    }
}

/// `details`: what -e, --tos, --cgroup and --inet-sockopt show; null where the kernel
/// sent nothing.
struct DetailsJson<'a>(&'a Socket);

impl Serialize for DetailsJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let s = self.0;
        let d = s.details.as_deref();
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("v6only", &s.v6only)?;
        let shutdown = d.and_then(|d| d.shutdown);
        m.serialize_entry("shutdown_recv", &shutdown.map(|x| x & 1 != 0))?;
        m.serialize_entry("shutdown_send", &shutdown.map(|x| x & 2 != 0))?;
        m.serialize_entry("fwmark", &d.and_then(|d| d.mark))?;
        m.serialize_entry("cgroup_id", &d.and_then(|d| d.cgroup_id))?;
        m.serialize_entry("cgroup", &d.and_then(|d| d.cgroup_path.as_deref()))?;
        m.serialize_entry("tos", &d.and_then(|d| d.tos))?;
        m.serialize_entry("tclass", &d.and_then(|d| d.tclass))?;
        m.serialize_entry("class_id", &d.and_then(|d| d.class_id))?;
        let sockopt = d.and_then(|d| d.sockopt).map(|bits| {
            INET_SOCKOPTS
                .iter()
                .filter(|(b, _)| bits & b != 0)
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
        });
        m.serialize_entry("inet_sockopt", &sockopt)?;
        let vfs = d.and_then(|d| d.vfs);
        m.serialize_entry("vfs_inode", &vfs.map(|v| v.0))?;
        m.serialize_entry(
            "vfs_dev",
            &vfs.map(|(_, dev)| {
                let (major, minor) = ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
                format!("{major}/{minor}")
            }),
        )?;
        m.serialize_entry("pending_peers", &d.and_then(|d| d.icons.as_deref()))?;
        for (key, v) in extras::packet(s) {
            m.serialize_entry(key, &v)?;
        }
        if s.netid == crate::model::Netid::Xdp {
            for (key, v) in extras::xdp(s) {
                m.serialize_entry(key, &v)?;
            }
        }
        m.end()
    }
}

struct ThreadsJson<'a>(&'a [ThreadRef]);

impl Serialize for ThreadsJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(Some(self.0.len()))?;
        for t in self.0 {
            let mut m = std::collections::BTreeMap::new();
            m.insert("command", serde_json::Value::from(&*t.command));
            m.insert("pid", t.pid.into());
            m.insert("tid", t.tid.into());
            m.insert("fd", t.fd.into());
            seq.serialize_element(&m)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Netid, TcpState};
    use crate::output::columns::tests::inet;
    use serde_json::Value;

    fn parse(sockets: &[Socket], source: Source, opts: JsonOptions) -> Vec<Value> {
        let mut out = Vec::new();
        write_json(&mut out, sockets, source, &opts).expect("write");
        let v: Value = serde_json::from_slice(&out).expect("valid JSON");
        v.as_array().expect("array").clone()
    }

    #[test]
    fn empty_is_an_empty_array() {
        assert!(parse(&[], Source::Netlink, JsonOptions::default()).is_empty());
    }

    #[test]
    fn inet_keys_and_plain_addresses() {
        let mut s = inet(
            Netid::Tcp,
            TcpState::Established,
            "[::ffff:127.0.0.1]:8080",
            "[::1]:40000",
        );
        s.send_q = None;
        let v = &parse(&[s], Source::Proc, JsonOptions::default())[0];
        assert_eq!(v["netid"], "tcp");
        assert_eq!(v["state"], "ESTAB");
        assert_eq!(v["local_addr"], "::ffff:127.0.0.1");
        assert_eq!(v["local_port"], 8080);
        assert_eq!(v["peer_addr"], "::1");
        assert_eq!(v["peer_port"], 40000);
        assert_eq!(v["recv_q"], 0);
        assert!(v["send_q"].is_null());
        assert_eq!(v["source"], "proc");
        assert!(v.get("timer").is_none());
        assert!(v.get("path").is_none());
    }

    #[test]
    fn optional_keys_when_asked() {
        let mut s = inet(Netid::Tcp, TcpState::TimeWait, "1.2.3.4:5", "6.7.8.9:10");
        s.timer = Some(Timer {
            kind: TimerKind::TimeWait,
            expires_ms: 59_000,
            retrans: 0,
        });
        s.processes = vec![ProcessRef {
            command: "a\"b".into(),
            pid: 7,
            fd: 3,
            nspid: None,
            proc_ctx: None,
            sock_ctx: None,
        }]
        .into();
        let opts = JsonOptions {
            timers: true,
            processes: true,
            info: true,
            memory: true,
            ..JsonOptions::default()
        };
        let v = &parse(&[s], Source::Netlink, opts)[0];
        assert_eq!(v["timer"]["kind"], "timewait");
        assert_eq!(v["timer"]["expires_ms"], 59_000);
        assert_eq!(v["processes"][0]["command"], "a\"b");
        assert_eq!(v["processes"][0]["pid"], 7);
        assert!(v["processes"][0].get("proc_ctx").is_none());
        assert!(v["tcp_info"].is_null());
        assert!(v["memory"].is_null());
    }

    #[test]
    fn selinux_contexts_on_each_process_when_asked() {
        let mut s = inet(Netid::Tcp, TcpState::Listen, "1.2.3.4:5", "0.0.0.0:0");
        s.processes = vec![ProcessRef {
            command: "sshd".into(),
            pid: 7,
            fd: 3,
            nspid: None,
            proc_ctx: Some("system_u:system_r:sshd_t:s0".into()),
            sock_ctx: Some("unavailable".into()),
        }]
        .into();
        let opts = JsonOptions {
            processes: true,
            ..JsonOptions::default()
        };
        let v = &parse(&[s], Source::Netlink, opts)[0];
        assert_eq!(v["processes"][0]["proc_ctx"], "system_u:system_r:sshd_t:s0");
        assert_eq!(v["processes"][0]["sock_ctx"], "unavailable");
    }

    #[test]
    fn unix_carries_path_and_peer_inode() {
        let mut s = inet(
            Netid::UnixStream,
            TcpState::Listen,
            "1.1.1.1:1",
            "1.1.1.1:1",
        );
        s.local = Endpoint::Unix {
            path: Some("@abstract".into()),
            inode: 0,
        };
        s.peer = Endpoint::Unix {
            path: None,
            inode: 0,
        };
        let nl = &parse(
            std::slice::from_ref(&s),
            Source::Netlink,
            JsonOptions::default(),
        )[0];
        assert_eq!(nl["netid"], "u_str");
        assert_eq!(nl["path"], "@abstract");
        assert_eq!(nl["peer_inode"], 0);
        assert!(nl["local_addr"].is_null());
        let pr = &parse(&[s], Source::Proc, JsonOptions::default())[0];
        assert!(pr["peer_inode"].is_null());
    }

    #[test]
    fn a_netlink_socket_carries_its_proc_ctx_when_attached() {
        let local = Endpoint::Netlink {
            protocol: 0,
            portid: 77,
            groups: 0,
        };
        let mut s = Socket::new(Netid::Netlink, TcpState::Close, local, Endpoint::Nothing);
        let plain = &parse(
            std::slice::from_ref(&s),
            Source::Netlink,
            JsonOptions::default(),
        )[0];
        assert!(plain.get("proc_ctx").is_none(), "only under -Z/-z");
        s.details = Some(Box::new(crate::model::Details {
            netlink_ctx: Some("unavailable".into()),
            ..Default::default()
        }));
        let z = &parse(&[s], Source::Netlink, JsonOptions::default())[0];
        assert_eq!(z["proc_ctx"], "unavailable");
    }
}
