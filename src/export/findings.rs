//! The findings as metric families, so alerting needs no rule of its own:
//! `sockeye_finding{rule,severity,where}` is 1 for each finding (the worst [`MAX_SERIES`],
//! `where` cut to [`MAX_WHERE`] characters: labels stay bounded whatever the host holds), and
//! `sockeye_findings{rule,severity}` counts them, every rule and severity always present.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::findings::{Finding, Rule, Severity};

/// Findings with a series of their own, at most (the rest are only counted).
pub const MAX_SERIES: usize = 50;
/// Characters of a finding's place kept in its `where` label.
pub const MAX_WHERE: usize = 128;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    rule: &'static str,
    severity: &'static str,
    r#where: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CountLabels {
    rule: &'static str,
    severity: &'static str,
}

/// Register both families. `findings` come worst first (as [`crate::findings::evaluate`]
/// orders them), so the cap drops the mildest.
pub fn register(reg: &mut Registry, findings: &[Finding]) {
    let counts = Family::<CountLabels, Gauge>::default();
    for rule in Rule::ALL {
        for severity in [Severity::Warning, Severity::Critical] {
            counts
                .get_or_create(&CountLabels {
                    rule: rule.name(),
                    severity: severity.as_str(),
                })
                .set(0);
        }
    }
    let each = Family::<FindingLabels, Gauge>::default();
    for (i, f) in findings.iter().enumerate() {
        counts
            .get_or_create(&CountLabels {
                rule: f.rule.name(),
                severity: f.severity.as_str(),
            })
            .inc();
        if i < MAX_SERIES {
            each.get_or_create(&FindingLabels {
                rule: f.rule.name(),
                severity: f.severity.as_str(),
                r#where: f.place.chars().take(MAX_WHERE).collect(),
            })
            .set(1);
        }
    }
    reg.register(
        "finding",
        "1 for each problem sockeye's rules find (see sockeye check): rule, severity and where",
        each,
    );
    reg.register(
        "findings",
        "Problems found, by rule and severity (every rule always present)",
        counts,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    fn finding(place: String) -> Finding {
        Finding {
            rule: Rule::UdpReceiveDrops,
            severity: Severity::Critical,
            place,
            evidence: vec![],
            why: String::new(),
            action: String::new(),
            threshold: String::new(),
            sockets: None,
        }
    }

    #[test]
    fn one_series_per_finding_bounded_and_counts_for_every_rule() {
        let mut reg = Registry::with_prefix("sockeye");
        let mut many: Vec<Finding> = (0..60)
            .map(|i| finding(format!("udp 127.0.0.1:{i}")))
            .collect();
        many.push(finding("x".repeat(500)));
        register(&mut reg, &many);
        let mut out = String::new();
        encode(&mut out, &reg).unwrap();
        assert!(out.contains(
            "sockeye_finding{rule=\"udp-receive-drops\",severity=\"critical\",where=\"udp 127.0.0.1:0\"} 1"
        ), "{out}");
        let series = out
            .lines()
            .filter(|l| l.starts_with("sockeye_finding{"))
            .count();
        assert_eq!(series, MAX_SERIES);
        assert!(
            out.contains("sockeye_findings{rule=\"udp-receive-drops\",severity=\"critical\"} 61")
        );
        assert!(out.contains("sockeye_findings{rule=\"orphans\",severity=\"warning\"} 0"));
        assert!(!out.contains(&"x".repeat(MAX_WHERE + 1)));
    }
}
