//! Rules over host-wide kernel counters alone: retransmissions.

use super::{Finding, Rule, Severity, Thresholds, Window};

/// RetransSegs over OutSegs across the window, for the whole host only (with a filter the
/// counters say nothing about the sockets asked for).
pub fn retransmissions(w: &Window<'_>, t: &Thresholds) -> Vec<Finding> {
    if !w.whole_host {
        return vec![];
    }
    let (Some(retrans), Some(out)) = (w.rise(|c| c.retrans_segs), w.rise(|c| c.out_segs)) else {
        return vec![];
    };
    if out < t.retrans_min_segs {
        return vec![];
    }
    let ratio = retrans as f64 / out as f64;
    if ratio < t.retrans_ratio {
        return vec![];
    }
    vec![Finding {
        rule: Rule::Retransmissions,
        severity: if ratio >= 5.0 * t.retrans_ratio {
            Severity::Critical
        } else {
            Severity::Warning
        },
        place: "host".into(),
        evidence: vec![format!(
            "RetransSegs +{retrans} of OutSegs +{out} in {:.1} s ({:.1}%)",
            w.seconds(),
            ratio * 100.0
        )],
        why: "Segments are being sent again: packet loss or congestion on some path, or \
              peers that stopped answering."
            .into(),
        action: "Find the peers: sockeye dump -ti shows retrans per connection; check the \
                 interfaces for errors and drops (ip -s link) and the path (mtr)."
            .into(),
        threshold: format!(
            "retrans_ratio = {} (critical at 5x) once retrans_min_segs = {} were sent",
            t.retrans_ratio, t.retrans_min_segs
        ),
    }]
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::*;

    fn seg(out: u64, retrans: u64) -> crate::model::KernelCounters {
        counters(|c| {
            c.out_segs = Some(out);
            c.retrans_segs = Some(retrans);
        })
    }

    #[test]
    fn a_rising_retransmit_ratio_warns_and_a_quiet_host_does_not() {
        let snaps = counted(vec![(vec![], seg(10_000, 100)), (vec![], seg(20_000, 400))]);
        let f = retransmissions(&win(&snaps), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(
            f[0].evidence[0].contains("+300 of OutSegs +10000"),
            "{:?}",
            f[0].evidence
        );
        let snaps = counted(vec![(vec![], seg(10_000, 100)), (vec![], seg(10_100, 150))]);
        assert!(retransmissions(&win(&snaps), &Thresholds::default()).is_empty());
        let snaps = counted(vec![
            (vec![], seg(10_000, 100)),
            (vec![], seg(20_000, 5000)),
        ]);
        assert_eq!(
            retransmissions(&win(&snaps), &Thresholds::default())[0].severity,
            Severity::Critical
        );
        let filtered = Window {
            snaps: &snaps,
            whole_host: false,
        };
        assert!(retransmissions(&filtered, &Thresholds::default()).is_empty());
    }
}
