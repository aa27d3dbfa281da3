//! `-s`: what `ss -s` prints, in its layout, then what ss leaves out: a count for each of the
//! eleven TCP states, the listen-queue overflow and drop counters, TIME-WAIT against
//! `tcp_max_tw_buckets`, and where the data came from. Missing counters print as `-`.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{KernelCounters, Netid, Snapshot, TcpState};

/// TCP sockets per state (indexed by the kernel's state number).
#[derive(Debug, Clone, Default)]
pub struct StateCounts(pub [u64; 12]);

impl StateCounts {
    pub fn add(&mut self, s: &crate::model::Socket) {
        if s.netid == Netid::Tcp {
            let n = &mut self.0[s.state as usize];
            *n = n.saturating_add(1);
        }
    }
}

/// Everything the summary shows, computed once from a snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub source: &'static str,
    pub fallback_reason: Option<String>,
    /// TCP sockets seen in the snapshot, per state (ss spelling), lifecycle order.
    pub tcp_states: Vec<(&'static str, u64)>,
    pub tcp_sockets: u64,
    pub time_wait: u64,
    pub tcp_max_tw_buckets: Option<u64>,
    pub listen_overflows: Option<u64>,
    pub listen_drops: Option<u64>,
    pub counters: KernelCountersView,
}

/// The /proc/net/sockstat and snmp numbers ss -s prints.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KernelCountersView {
    pub sockets_used: Option<u64>,
    pub tcp_total: Option<u64>,
    pub tcp_estab: Option<u64>,
    pub tcp_closed: Option<u64>,
    pub tcp_orphaned: Option<u64>,
    pub tcp_timewait: Option<u64>,
    pub raw4: Option<u64>,
    pub raw6: Option<u64>,
    pub udp4: Option<u64>,
    pub udp6: Option<u64>,
    pub tcp4: Option<u64>,
    pub tcp6: Option<u64>,
    pub frag4: Option<u64>,
    pub frag6: Option<u64>,
}

/// The sum of two kernel counters, unknown when either is or when it does not fit: a
/// kernel reporting absurd values must never make the summary print a wrapped number (a
/// saturated u64::MAX would look like a real count too).
fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    a?.checked_add(b?)
}

impl Summary {
    /// From a snapshot holding its TCP sockets.
    pub fn new(snap: &Snapshot) -> Summary {
        let mut counts = StateCounts::default();
        for s in &snap.sockets {
            counts.add(s);
        }
        Summary::with_counts(snap, &counts)
    }

    /// From a snapshot whose sockets were counted as they were decoded (and not kept).
    pub fn with_counts(snap: &Snapshot, counts: &StateCounts) -> Summary {
        let tcp_states = TcpState::LIFECYCLE
            .iter()
            .map(|st| (st.ss_name(), counts.0[*st as usize]))
            .collect();
        let k = snap.counters.clone().unwrap_or_default();
        Summary {
            source: snap.source.as_str(),
            fallback_reason: snap.fallback_reason.clone(),
            tcp_states,
            tcp_sockets: counts.0.iter().fold(0u64, |a, b| a.saturating_add(*b)),
            time_wait: counts.0[TcpState::TimeWait as usize],
            tcp_max_tw_buckets: k.tcp_max_tw_buckets,
            listen_overflows: k.listen_overflows,
            listen_drops: k.listen_drops,
            counters: view(&k),
        }
    }

    /// The summary of one namespace of a snapshot spanning several: its own source and
    /// counters, and the TCP states of its sockets.
    pub fn of_netns(read: &crate::model::NetnsRead, sockets: &[crate::model::Socket]) -> Summary {
        let mut counts = StateCounts::default();
        for s in sockets {
            counts.add(s);
        }
        let mut snap = Snapshot::new(
            std::time::SystemTime::now(),
            read.source,
            Vec::new(),
            read.counters.clone(),
        );
        snap.fallback_reason.clone_from(&read.fallback_reason);
        Summary::with_counts(&snap, &counts)
    }

    /// The total over several namespaces' summaries: counts and counters add up (unknown if
    /// any is unknown); the per-namespace limit `tcp_max_tw_buckets` has no total. The source
    /// is the one they share, else `mixed`.
    pub fn total(parts: &[Summary]) -> Summary {
        let first = parts.first();
        let source = match first {
            Some(f) if parts.iter().all(|p| p.source == f.source) => f.source,
            Some(_) => "mixed",
            None => "netlink",
        };
        let sum = |f: fn(&Summary) -> Option<u64>| {
            parts.iter().try_fold(0u64, |acc, p| acc.checked_add(f(p)?))
        };
        let c = |f: fn(&KernelCountersView) -> Option<u64>| {
            parts
                .iter()
                .try_fold(0u64, |acc, p| acc.checked_add(f(&p.counters)?))
        };
        let tcp_states = TcpState::LIFECYCLE
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let n = parts
                    .iter()
                    .fold(0u64, |a, p| a.saturating_add(p.tcp_states[i].1));
                (st.ss_name(), n)
            })
            .collect();
        Summary {
            source,
            fallback_reason: None,
            tcp_states,
            tcp_sockets: parts.iter().fold(0, |a, p| a.saturating_add(p.tcp_sockets)),
            time_wait: parts.iter().fold(0, |a, p| a.saturating_add(p.time_wait)),
            tcp_max_tw_buckets: None,
            listen_overflows: sum(|p| p.listen_overflows),
            listen_drops: sum(|p| p.listen_drops),
            counters: KernelCountersView {
                sockets_used: c(|k| k.sockets_used),
                tcp_total: c(|k| k.tcp_total),
                tcp_estab: c(|k| k.tcp_estab),
                tcp_closed: c(|k| k.tcp_closed),
                tcp_orphaned: c(|k| k.tcp_orphaned),
                tcp_timewait: c(|k| k.tcp_timewait),
                raw4: c(|k| k.raw4),
                raw6: c(|k| k.raw6),
                udp4: c(|k| k.udp4),
                udp6: c(|k| k.udp6),
                tcp4: c(|k| k.tcp4),
                tcp6: c(|k| k.tcp6),
                frag4: c(|k| k.frag4),
                frag6: c(|k| k.frag6),
            },
        }
    }

    /// The text form.
    pub fn write_text<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let c = &self.counters;
        let n = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |x| x.to_string());
        writeln!(w, "Total: {}", n(c.sockets_used))?;
        writeln!(
            w,
            "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})",
            n(c.tcp_total),
            n(c.tcp_estab),
            n(c.tcp_closed),
            n(c.tcp_orphaned),
            n(c.tcp_timewait)
        )?;
        writeln!(w)?;
        writeln!(w, "Transport Total     IP        IPv6")?;
        let rows = [
            ("RAW", c.raw4, c.raw6),
            ("UDP", c.udp4, c.udp6),
            ("TCP", c.tcp4, c.tcp6),
            (
                "INET",
                add(add(c.raw4, c.udp4), c.tcp4),
                add(add(c.raw6, c.udp6), c.tcp6),
            ),
            ("FRAG", c.frag4, c.frag6),
        ];
        for (name, v4, v6) in rows {
            writeln!(
                w,
                "{name}\t  {:<9} {:<9} {:<9}",
                n(add(v4, v6)),
                n(v4),
                n(v6)
            )?;
        }
        writeln!(w)?;
        writeln!(w, "TCP states ({} sockets):", self.tcp_sockets)?;
        for (name, count) in &self.tcp_states {
            writeln!(w, "  {name:<11} {count}")?;
        }
        writeln!(w)?;
        writeln!(
            w,
            "Listen queue: overflows {}, drops {}",
            n(self.listen_overflows),
            n(self.listen_drops)
        )?;
        match self.tcp_max_tw_buckets {
            Some(max) if max > 0 => writeln!(
                w,
                "TIME-WAIT: {} of {} (tcp_max_tw_buckets), {:.1}%",
                self.time_wait,
                max,
                self.time_wait as f64 * 100.0 / max as f64
            )?,
            _ => writeln!(w, "TIME-WAIT: {} of - (tcp_max_tw_buckets)", self.time_wait)?,
        }
        match &self.fallback_reason {
            Some(reason) if self.source == "proc" => {
                writeln!(w, "Source: proc (fallback: {reason})")?
            }
            _ => writeln!(w, "Source: {}", self.source)?,
        }
        Ok(())
    }

    /// The JSON form (`-s --json`): one object.
    pub fn write_json<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let states: serde_json::Map<String, serde_json::Value> = self
            .tcp_states
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).into()))
            .collect();
        let obj = serde_json::json!({
            "source": self.source,
            "fallback_reason": self.fallback_reason,
            "tcp_sockets": self.tcp_sockets,
            "tcp_states": states,
            "time_wait": self.time_wait,
            "tcp_max_tw_buckets": self.tcp_max_tw_buckets,
            "listen_overflows": self.listen_overflows,
            "listen_drops": self.listen_drops,
            "kernel": self.counters,
        });
        serde_json::to_writer_pretty(&mut *w, &obj).map_err(io::Error::from)?;
        w.write_all(b"\n")
    }
}

fn view(k: &KernelCounters) -> KernelCountersView {
    let tcp_total = add(k.tcp_alloc, k.tcp_tw);
    let hashed = add(k.tcp_inuse, k.tcp6_inuse);
    // ss: closed = alloc - (hashed4 + hashed6 - tw)
    // In i128: any u64 inputs fit, so nothing wraps; a result beyond u64 is unknown.
    let tcp_closed = match (k.tcp_alloc, hashed, k.tcp_tw) {
        (Some(a), Some(h), Some(tw)) => {
            let closed = i128::from(a) - (i128::from(h) - i128::from(tw));
            u64::try_from(closed.max(0)).ok()
        }
        _ => None,
    };
    KernelCountersView {
        sockets_used: k.sockets_used,
        tcp_total,
        tcp_estab: k.curr_estab,
        tcp_closed,
        tcp_orphaned: k.tcp_orphan,
        tcp_timewait: k.tcp_tw,
        raw4: k.raw_inuse,
        raw6: k.raw6_inuse,
        udp4: k.udp_inuse,
        udp6: k.udp6_inuse,
        tcp4: k.tcp_inuse,
        tcp6: k.tcp6_inuse,
        frag4: k.frag_inuse,
        frag6: k.frag6_inuse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;
    use crate::output::columns::tests::inet;
    use std::time::SystemTime;

    fn snap(counters: Option<KernelCounters>) -> Snapshot {
        Snapshot {
            taken_at: SystemTime::now(),
            source: Source::Netlink,
            fallback_reason: None,
            sockets: vec![
                inet(Netid::Tcp, TcpState::Listen, "0.0.0.0:1", "0.0.0.0:0"),
                inet(Netid::Tcp, TcpState::TimeWait, "1.1.1.1:1", "2.2.2.2:2"),
                inet(Netid::Tcp, TcpState::TimeWait, "1.1.1.1:2", "2.2.2.2:2"),
                inet(Netid::Udp, TcpState::Close, "0.0.0.0:1", "0.0.0.0:0"),
            ],
            counters,
            warnings: vec![],
            skipped_records: 0,
            process_note: None,
            netns: None,
        }
    }

    #[test]
    fn ss_layout_then_extras() {
        // The numbers of a recorded `ss -s` (Total 17, TCP 3 ...).
        let k = KernelCounters {
            sockets_used: Some(17),
            tcp_inuse: Some(1),
            tcp_orphan: Some(0),
            tcp_tw: Some(2),
            tcp_alloc: Some(1),
            curr_estab: Some(0),
            udp_inuse: Some(0),
            raw_inuse: Some(0),
            frag_inuse: Some(0),
            tcp6_inuse: Some(0),
            udp6_inuse: Some(0),
            raw6_inuse: Some(0),
            frag6_inuse: Some(0),
            tcp_max_tw_buckets: Some(200),
            listen_overflows: Some(3),
            listen_drops: Some(4),
            ..KernelCounters::default()
        };
        let mut out = Vec::new();
        Summary::new(&snap(Some(k)))
            .write_text(&mut out)
            .expect("write");
        let text = String::from_utf8(out).expect("utf8");
        let want_head = "\
Total: 17
TCP:   3 (estab 0, closed 2, orphaned 0, timewait 2)

Transport Total     IP        IPv6
RAW\t  0         0         0        
UDP\t  0         0         0        
TCP\t  1         1         0        
INET\t  1         1         0        
FRAG\t  0         0         0        

";
        assert!(text.starts_with(want_head), "{text}");
        assert!(text.contains("  TIME-WAIT   2\n"), "{text}");
        assert!(text.contains("  LISTEN      1\n"), "{text}");
        assert!(text.contains("  CLOSE-WAIT  0\n"), "{text}");
        assert!(text.contains("Listen queue: overflows 3, drops 4\n"));
        assert!(text.contains("TIME-WAIT: 2 of 200 (tcp_max_tw_buckets), 1.0%\n"));
        assert!(text.ends_with("Source: netlink\n"));
        assert_eq!(text.matches("\n  ").count(), 11);
    }

    /// Counters near u64::MAX (a kernel reporting absurd values): every sum is unknown or
    /// exact, never wrapped.
    #[test]
    fn totals_add_up_and_unknown_stays_unknown() {
        let k = KernelCounters {
            tcp_inuse: Some(3),
            tcp_tw: Some(1),
            listen_overflows: Some(2),
            tcp_max_tw_buckets: Some(100),
            ..KernelCounters::default()
        };
        let a = Summary::new(&snap(Some(k.clone())));
        let b = Summary::new(&snap(Some(k)));
        let t = Summary::total(&[a.clone(), b]);
        assert_eq!(t.tcp_sockets, 2 * a.tcp_sockets);
        assert_eq!(t.time_wait, 4);
        assert_eq!(t.counters.tcp4, Some(6));
        assert_eq!(t.listen_overflows, Some(4));
        assert_eq!(t.tcp_max_tw_buckets, None);
        assert_eq!(t.source, "netlink");
        // One namespace without counters: its sums are unknown, never a partial number.
        let c = Summary::new(&snap(None));
        let t = Summary::total(&[a, c]);
        assert_eq!(t.counters.tcp4, None);
        assert_eq!(t.listen_overflows, None);
    }

    #[test]
    fn huge_counters_never_wrap() {
        let huge = u64::MAX - 1;
        let k = KernelCounters {
            sockets_used: Some(huge),
            tcp_inuse: Some(huge),
            tcp6_inuse: Some(huge),
            tcp_tw: Some(huge),
            tcp_alloc: Some(huge),
            udp_inuse: Some(huge),
            udp6_inuse: Some(3),
            raw_inuse: Some(0),
            raw6_inuse: Some(0),
            frag_inuse: Some(huge),
            frag6_inuse: Some(huge),
            ..KernelCounters::default()
        };
        let sum = Summary::new(&snap(Some(k)));
        let c = &sum.counters;
        assert_eq!(c.tcp_total, None, "alloc + tw does not fit");
        // alloc - (inuse4 + inuse6 - tw): inuse4 + inuse6 does not fit, so unknown.
        assert_eq!(c.tcp_closed, None);
        let mut out = Vec::new();
        sum.write_text(&mut out).expect("write");
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.contains("TCP:   - (estab -, closed -"), "{text}");
        assert!(
            text.contains(&format!("UDP\t  -         {huge} 3")),
            "{text}"
        );
        assert!(text.contains("FRAG\t  -  "), "{text}");
        // Nothing printed is a wrapped small number or a negative one.
        assert!(!text.contains("18446744073709551615"), "{text}");
        assert!(
            !text.split_whitespace().any(|w| w.starts_with('-')
                && w.len() > 1
                && w[1..].starts_with(|c: char| c.is_ascii_digit())),
            "{text}"
        );

        // Exact where it fits: closed = alloc - (h - tw) with tw > h.
        let k = KernelCounters {
            tcp_inuse: Some(1),
            tcp6_inuse: Some(1),
            tcp_tw: Some(huge),
            tcp_alloc: Some(5),
            ..KernelCounters::default()
        };
        assert_eq!(view(&k).tcp_closed, None, "beyond u64");
        let k = KernelCounters {
            tcp_inuse: Some(huge),
            tcp6_inuse: Some(0),
            tcp_tw: Some(0),
            tcp_alloc: Some(1),
            ..KernelCounters::default()
        };
        assert_eq!(view(&k).tcp_closed, Some(0), "negative is clamped to 0");
    }

    #[test]
    fn missing_counters_are_dashes_and_json_is_null() {
        let mut s = snap(None);
        s.source = Source::Proc;
        s.fallback_reason = Some("netlink refused: EPERM".into());
        let sum = Summary::new(&s);
        let mut out = Vec::new();
        sum.write_text(&mut out).expect("write");
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.starts_with("Total: -\n"));
        assert!(text.ends_with("Source: proc (fallback: netlink refused: EPERM)\n"));
        let mut out = Vec::new();
        sum.write_json(&mut out).expect("write");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["source"], "proc");
        assert_eq!(v["fallback_reason"], "netlink refused: EPERM");
        assert_eq!(v["tcp_states"]["TIME-WAIT"], 2);
        assert!(v["kernel"]["sockets_used"].is_null());
        assert!(v["listen_overflows"].is_null());
    }
}
