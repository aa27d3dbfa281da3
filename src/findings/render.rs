//! Findings as text blocks (one per finding, worst first) and as JSON for scripts.

use std::io::{self, Write};

use super::Finding;

/// The network namespace a finding was made in (`--all-netns`, `-N`): its label
/// (`/run/netns` name or `net:[INODE]`) and the container inside, both already escaped.
#[derive(Clone, Debug, PartialEq)]
pub struct InNetns {
    pub label: String,
    pub inode: u64,
    pub container: Option<String>,
}

/// A finding and, when checking other namespaces than one's own, where it was made.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    pub finding: Finding,
    pub netns: Option<InNetns>,
}

impl From<Finding> for Located {
    fn from(finding: Finding) -> Located {
        Located {
            finding,
            netns: None,
        }
    }
}

/// Worst first, then by rule, namespace and place.
pub fn sort(found: &mut [Located]) {
    found.sort_by(|a, b| {
        b.finding
            .severity
            .cmp(&a.finding.severity)
            .then(a.finding.rule.cmp(&b.finding.rule))
            .then_with(|| {
                let ns = |l: &Located| l.netns.as_ref().map(|n| n.label.clone());
                ns(a).cmp(&ns(b))
            })
            .then_with(|| a.finding.place.cmp(&b.finding.place))
    });
}

/// One block per finding; "no findings" and the window when there are none.
pub fn write_text(
    w: &mut impl Write,
    findings: &[Located],
    sockets: usize,
    secs: f64,
) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(
            w,
            "OK: no findings ({sockets} sockets watched for {secs:.1} s)"
        );
    }
    for (i, l) in findings.iter().enumerate() {
        let f = &l.finding;
        if i > 0 {
            writeln!(w)?;
        }
        let inside = match &l.netns {
            Some(InNetns {
                container: Some(c),
                label,
                ..
            }) => format!("  [netns {label}, container {c}]"),
            Some(n) => format!("  [netns {}]", n.label),
            None => String::new(),
        };
        writeln!(
            w,
            "{} {}  {}{inside}",
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

/// `{"window_seconds":..,"sockets":..,"findings":[{rule,severity,where,evidence,why,do,threshold,filter}]}`.
/// With namespaces, each finding also has `netns` ({name, inode}) and `container` (a name
/// or null).
pub fn to_json(findings: &[Located], sockets: usize, secs: f64) -> serde_json::Value {
    let list: Vec<serde_json::Value> = findings
        .iter()
        .map(|l| {
            let f = &l.finding;
            let mut v = serde_json::json!({
                "rule": f.rule.name(),
                "severity": f.severity.as_str(),
                "where": f.place,
                "evidence": f.evidence,
                "why": f.why,
                "do": f.action,
                "threshold": f.threshold,
                "filter": f.sockets,
            });
            if let (Some(n), Some(obj)) = (&l.netns, v.as_object_mut()) {
                obj.insert(
                    "netns".into(),
                    serde_json::json!({"name": n.label, "inode": n.inode}),
                );
                obj.insert("container".into(), serde_json::json!(n.container));
            }
            v
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
            sockets: None,
        }
    }

    #[test]
    fn text_blocks_and_json() {
        let mut out = Vec::new();
        write_text(&mut out, &[finding().into()], 10, 3.0).unwrap();
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
        let j = to_json(&[finding().into()], 10, 3.04);
        assert_eq!(j["findings"][0]["rule"], "stuck-receiver");
        assert_eq!(j["findings"][0]["where"], "app pid 3");
        assert_eq!(j["window_seconds"], 3.0);
        assert!(j["findings"][0].get("netns").is_none());
        assert!(j["findings"][0]["filter"].is_null());
    }

    #[test]
    fn a_finding_names_its_namespace_and_container() {
        let l = Located {
            finding: finding(),
            netns: Some(InNetns {
                label: "web".into(),
                inode: 4026532281,
                container: Some("shop".into()),
            }),
        };
        let mut out = Vec::new();
        write_text(&mut out, std::slice::from_ref(&l), 10, 3.0).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("WARNING stuck-receiver  app pid 3  [netns web, container shop]\n"),
            "{text}"
        );
        let j = to_json(&[l], 10, 3.0);
        assert_eq!(j["findings"][0]["netns"]["name"], "web");
        assert_eq!(j["findings"][0]["netns"]["inode"], 4026532281u64);
        assert_eq!(j["findings"][0]["container"], "shop");
    }
}
