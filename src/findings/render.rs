//! Findings as text blocks (one per finding, worst first) and as JSON for scripts.

use std::io::{self, Write};

use super::Finding;

/// One block per finding; "no findings" and the window when there are none.
pub fn write_text(
    w: &mut impl Write,
    findings: &[Finding],
    sockets: usize,
    secs: f64,
) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(
            w,
            "OK: no findings ({sockets} sockets watched for {secs:.1} s)"
        );
    }
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        writeln!(
            w,
            "{} {}  {}",
            f.severity.as_str().to_uppercase(),
            f.rule.name(),
            f.place
        )?;
        for (j, e) in f.evidence.iter().enumerate() {
            writeln!(w, "  {:<11}{e}", if j == 0 { "evidence:" } else { "" })?;
        }
        writeln!(w, "  {:<11}{}", "why:", f.why)?;
        writeln!(w, "  {:<11}{}", "do:", f.action)?;
        writeln!(w, "  {:<11}{}", "threshold:", f.threshold)?;
    }
    Ok(())
}

/// `{"window_seconds":..,"sockets":..,"findings":[{rule,severity,where,evidence,why,do,threshold}]}`.
pub fn to_json(findings: &[Finding], sockets: usize, secs: f64) -> serde_json::Value {
    let list: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "rule": f.rule.name(),
                "severity": f.severity.as_str(),
                "where": f.place,
                "evidence": f.evidence,
                "why": f.why,
                "do": f.action,
                "threshold": f.threshold,
            })
        })
        .collect();
    serde_json::json!({
        "window_seconds": (secs * 10.0).round() / 10.0,
        "sockets": sockets,
        "findings": list,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Rule, Severity};
    use super::*;

    fn finding() -> Finding {
        Finding {
            rule: Rule::StuckReceiver,
            severity: Severity::Warning,
            place: "app pid 3".into(),
            evidence: vec!["a".into(), "b".into()],
            why: "w".into(),
            action: "d".into(),
            threshold: "recv_q_min = 1".into(),
        }
    }

    #[test]
    fn text_blocks_and_json() {
        let mut out = Vec::new();
        write_text(&mut out, &[finding()], 10, 3.0).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "WARNING stuck-receiver  app pid 3\n  evidence:  a\n             b\n  why:       w\n  \
             do:        d\n  threshold: recv_q_min = 1\n"
        );
        let mut out = Vec::new();
        write_text(&mut out, &[], 10, 3.0).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .starts_with("OK: no findings")
        );
        let j = to_json(&[finding()], 10, 3.04);
        assert_eq!(j["findings"][0]["rule"], "stuck-receiver");
        assert_eq!(j["findings"][0]["where"], "app pid 3");
        assert_eq!(j["window_seconds"], 3.0);
    }
}
