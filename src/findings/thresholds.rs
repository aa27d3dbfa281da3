//! The thresholds the rules use, with their defaults, and the configuration file's
//! `[findings]` table that overrides them (every key optional, checked on load).

use serde::{Deserialize, Serialize};

/// Thresholds in effect.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// CLOSE-WAIT sockets of one owner, never decreasing over the window, from which they
    /// are a leak (warning).
    pub close_wait_min: u64,
    /// ... and from which the leak is critical.
    pub close_wait_critical: u64,
    /// Accept-queue fill (Recv-Q / backlog) held over the whole window that warns; a full
    /// queue (Recv-Q above the backlog: SYNs are dropped) is critical.
    pub accept_queue_ratio: f64,
    /// SYN-RECV sockets on one listener that warn.
    pub syn_recv_min: u64,
    /// Sockets toward one destination as a fraction of the ephemeral port range, or
    /// TIME-WAIT as a fraction of tcp_max_tw_buckets, that warn ...
    pub port_pressure_warn: f64,
    /// ... and that are critical.
    pub port_pressure_critical: f64,
    /// FIN-WAIT-2 sockets toward one destination, never decreasing, that warn.
    pub fin_wait2_min: u64,
    /// Recv-Q bytes that, never draining over the window, make a stuck receiver.
    pub recv_q_min: u64,
    /// Send-Q bytes that, never draining over the window, make a stuck sender.
    pub send_q_min: u64,
    /// Host-wide retransmitted / sent segments over the window that warn ...
    pub retrans_ratio: f64,
    /// ... once at least this many segments were sent (a quiet host's ratio means nothing).
    pub retrans_min_segs: u64,
    /// Orphaned TCP sockets as a fraction of net.ipv4.tcp_max_orphans that warn ...
    pub orphans_warn: f64,
    /// ... and that are critical.
    pub orphans_critical: f64,
    /// Datagrams dropped (a socket's drop count, or host-wide RcvbufErrors) over the window
    /// that report UDP receive-buffer drops.
    pub udp_drops_min: u64,
    /// A UDP socket's queued bytes as a fraction of its receive buffer that warn.
    pub udp_rcvbuf_ratio: f64,
    /// SYN cookies sent or failed, or SYNs dropped, over the window that report.
    pub syncookies_min: u64,
    /// Retransmits of one segment (the retransmit timer backing off) that warn ...
    pub retrans_backoff_min: u64,
    /// ... and that are critical.
    pub retrans_backoff_critical: u64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            close_wait_min: 5,
            close_wait_critical: 100,
            accept_queue_ratio: 0.9,
            syn_recv_min: 128,
            port_pressure_warn: 0.5,
            port_pressure_critical: 0.9,
            fin_wait2_min: 100,
            recv_q_min: 1,
            send_q_min: 1,
            retrans_ratio: 0.02,
            retrans_min_segs: 1000,
            orphans_warn: 0.5,
            orphans_critical: 0.9,
            udp_drops_min: 1,
            udp_rcvbuf_ratio: 0.9,
            syncookies_min: 1,
            retrans_backoff_min: 3,
            retrans_backoff_critical: 8,
        }
    }
}

/// The `[findings]` table: each key overrides the threshold of the same name.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FindingsSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_wait_min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_wait_critical: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_queue_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syn_recv_min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_pressure_warn: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_pressure_critical: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fin_wait2_min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recv_q_min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_q_min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrans_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrans_min_segs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orphans_warn: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orphans_critical: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp_drops_min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp_rcvbuf_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syncookies_min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrans_backoff_min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrans_backoff_critical: Option<u64>,
}

macro_rules! each_key {
    ($m:ident) => {
        $m!(
            close_wait_min,
            close_wait_critical,
            accept_queue_ratio,
            syn_recv_min,
            port_pressure_warn,
            port_pressure_critical,
            fin_wait2_min,
            recv_q_min,
            send_q_min,
            retrans_ratio,
            retrans_min_segs,
            orphans_warn,
            orphans_critical,
            udp_drops_min,
            udp_rcvbuf_ratio,
            syncookies_min,
            retrans_backoff_min,
            retrans_backoff_critical
        )
    };
}

impl FindingsSection {
    /// The defaults with the keys the file sets laid over them.
    pub fn thresholds(&self) -> Thresholds {
        let mut t = Thresholds::default();
        macro_rules! apply {
            ($($k:ident),*) => { $( if let Some(v) = self.$k { t.$k = v; } )* };
        }
        each_key!(apply);
        t
    }

    /// Every key, read from `t`.
    pub fn from_thresholds(t: &Thresholds) -> FindingsSection {
        macro_rules! all {
            ($($k:ident),*) => { FindingsSection { $( $k: Some(t.$k), )* } };
        }
        each_key!(all)
    }

    /// The first key whose value (laid over the defaults) is out of range: its name and why.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let t = self.thresholds();
        let ratios = [
            ("accept_queue_ratio", t.accept_queue_ratio),
            ("port_pressure_warn", t.port_pressure_warn),
            ("port_pressure_critical", t.port_pressure_critical),
            ("retrans_ratio", t.retrans_ratio),
            ("orphans_warn", t.orphans_warn),
            ("orphans_critical", t.orphans_critical),
            ("udp_rcvbuf_ratio", t.udp_rcvbuf_ratio),
        ];
        for (name, v) in ratios {
            if !(v > 0.0 && v <= 1.0) {
                return Some((name, format!("{v} is not a fraction above 0 and at most 1")));
            }
        }
        let counts = [
            ("close_wait_min", t.close_wait_min),
            ("close_wait_critical", t.close_wait_critical),
            ("syn_recv_min", t.syn_recv_min),
            ("fin_wait2_min", t.fin_wait2_min),
            ("recv_q_min", t.recv_q_min),
            ("send_q_min", t.send_q_min),
            ("retrans_min_segs", t.retrans_min_segs),
            ("udp_drops_min", t.udp_drops_min),
            ("syncookies_min", t.syncookies_min),
            ("retrans_backoff_min", t.retrans_backoff_min),
            ("retrans_backoff_critical", t.retrans_backoff_critical),
        ];
        for (name, v) in counts {
            if v == 0 {
                return Some((name, "must be at least 1".into()));
            }
        }
        let blame = |a: &'static str, b: &'static str, set_a: bool| if set_a { a } else { b };
        if t.close_wait_min > t.close_wait_critical {
            return Some((
                blame(
                    "close_wait_min",
                    "close_wait_critical",
                    self.close_wait_min.is_some(),
                ),
                format!(
                    "close_wait_min ({}) is above close_wait_critical ({})",
                    t.close_wait_min, t.close_wait_critical
                ),
            ));
        }
        if t.port_pressure_warn > t.port_pressure_critical {
            return Some((
                blame(
                    "port_pressure_warn",
                    "port_pressure_critical",
                    self.port_pressure_warn.is_some(),
                ),
                format!(
                    "port_pressure_warn ({}) is above port_pressure_critical ({})",
                    t.port_pressure_warn, t.port_pressure_critical
                ),
            ));
        }
        if t.orphans_warn > t.orphans_critical {
            return Some((
                blame(
                    "orphans_warn",
                    "orphans_critical",
                    self.orphans_warn.is_some(),
                ),
                format!(
                    "orphans_warn ({}) is above orphans_critical ({})",
                    t.orphans_warn, t.orphans_critical
                ),
            ));
        }
        if t.retrans_backoff_min > t.retrans_backoff_critical {
            return Some((
                blame(
                    "retrans_backoff_min",
                    "retrans_backoff_critical",
                    self.retrans_backoff_min.is_some(),
                ),
                format!(
                    "retrans_backoff_min ({}) is above retrans_backoff_critical ({})",
                    t.retrans_backoff_min, t.retrans_backoff_critical
                ),
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let d = Thresholds::default();
        let s = FindingsSection::from_thresholds(&d);
        assert_eq!(s.thresholds(), d);
        assert_eq!(s.problem(), None);
        assert_eq!(FindingsSection::default().thresholds(), d);
    }

    #[test]
    fn out_of_range_values_are_named() {
        let s = FindingsSection {
            port_pressure_warn: Some(1.5),
            ..Default::default()
        };
        assert_eq!(s.problem().unwrap().0, "port_pressure_warn");
        let s = FindingsSection {
            recv_q_min: Some(0),
            ..Default::default()
        };
        assert_eq!(s.problem().unwrap().0, "recv_q_min");
        let s = FindingsSection {
            close_wait_critical: Some(2),
            ..Default::default()
        };
        let (key, why) = s.problem().unwrap();
        assert_eq!(key, "close_wait_critical");
        assert!(why.contains("above"), "{why}");
        let s = FindingsSection {
            retrans_ratio: Some(f64::NAN),
            ..Default::default()
        };
        assert_eq!(s.problem().unwrap().0, "retrans_ratio");
        let s = FindingsSection {
            orphans_critical: Some(0.3),
            ..Default::default()
        };
        assert_eq!(s.problem().unwrap().0, "orphans_critical");
        let s = FindingsSection {
            retrans_backoff_min: Some(20),
            ..Default::default()
        };
        assert_eq!(s.problem().unwrap().0, "retrans_backoff_min");
        let s = FindingsSection {
            udp_drops_min: Some(0),
            ..Default::default()
        };
        assert_eq!(s.problem().unwrap().0, "udp_drops_min");
    }
}
