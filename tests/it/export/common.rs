//! Shared by the export tests: a strict OpenMetrics text parser (the subset sockeye emits:
//! counters and gauges, no timestamps or exemplars), so "parses as Prometheus text" is
//! checked, not assumed.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone)]
pub struct MetricFamily {
    pub name: String,
    pub kind: String,
    pub help: Option<String>,
    pub unit: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, Default)]
pub struct Exposition {
    pub families: Vec<MetricFamily>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// Every sample of one metric name.
    pub fn series(&self, name: &str) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.name == name).collect()
    }

    /// The value of the one sample with this name and exactly these labels.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == want)
            .map(|s| s.value)
    }

    /// Samples of `name` whose labels include all of `labels`.
    pub fn matching(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    pub fn family(&self, name: &str) -> Option<&MetricFamily> {
        self.families.iter().find(|f| f.name == name)
    }
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Unescape an OpenMetrics escaped string (`\\`, `\"`, `\n`); a raw `"` or newline, or any
/// other escape, is an error.
fn unescape(s: &str, allow_raw_quote: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('n') => out.push('\n'),
                other => return Err(format!("bad escape \\{other:?} in {s:?}")),
            },
            '"' if !allow_raw_quote => return Err(format!("raw quote in {s:?}")),
            '\n' => return Err(format!("raw newline in {s:?}")),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ if s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) && !s.is_empty() => s
            .parse::<f64>()
            .map_err(|e| format!("bad value {s:?}: {e}")),
        _ => Err(format!("bad value {s:?}")),
    }
}

/// Parse `{a="x",b="y"}` starting at the `{`; returns the labels and the rest after `}`.
fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = &s[1..];
    if let Some(r) = rest.strip_prefix('}') {
        return Ok((labels, r));
    }
    loop {
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !is_label_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("label value not quoted")?;
        // Find the closing quote, skipping escaped characters.
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        if i >= bytes.len() {
            return Err("unterminated label value".into());
        }
        let value = unescape(&rest[..i], false)?;
        if labels.insert(name.to_string(), value).is_some() {
            return Err(format!("label {name} repeated"));
        }
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('}') {
            return Ok((labels, r));
        } else {
            return Err(format!("expected , or }} at {rest:?}"));
        }
    }
}

/// Parse a whole exposition strictly; any deviation is an error naming the line.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let body = text
        .strip_suffix("# EOF\n")
        .ok_or("exposition does not end with '# EOF\\n'")?;
    let mut exp = Exposition::default();
    let mut seen_families = HashSet::new();
    let mut seen_series = HashSet::new();
    let mut current: Option<MetricFamily> = None;
    let mut current_has_samples = false;

    for (n, line) in body.lines().enumerate() {
        let err = |m: String| format!("line {}: {m}: {line:?}", n + 1);
        if line.is_empty() {
            return Err(err("empty line".into()));
        }
        if let Some(meta) = line.strip_prefix("# ") {
            let (kw, rest) = meta
                .split_once(' ')
                .ok_or_else(|| err("bad comment".into()))?;
            let (name, arg) = rest.split_once(' ').unwrap_or((rest, ""));
            if !is_metric_name(name) {
                return Err(err(format!("bad family name {name:?}")));
            }
            let switching = current.as_ref().is_none_or(|f| f.name != name);
            if switching {
                if let Some(f) = current.take() {
                    exp.families.push(f);
                }
                if !seen_families.insert(name.to_string()) {
                    return Err(err(format!("family {name} appears twice")));
                }
                current = Some(MetricFamily {
                    name: name.to_string(),
                    kind: "unknown".into(),
                    help: None,
                    unit: None,
                });
                current_has_samples = false;
            }
            if current_has_samples {
                return Err(err("metadata after samples".into()));
            }
            let fam = current.as_mut().ok_or_else(|| err("no family".into()))?;
            match kw {
                "HELP" => {
                    if fam
                        .help
                        .replace(unescape(arg, false).map_err(&err)?)
                        .is_some()
                    {
                        return Err(err("HELP twice".into()));
                    }
                }
                "TYPE" => {
                    if ![
                        "counter",
                        "gauge",
                        "info",
                        "stateset",
                        "histogram",
                        "summary",
                        "unknown",
                    ]
                    .contains(&arg)
                    {
                        return Err(err(format!("bad type {arg:?}")));
                    }
                    fam.kind = arg.to_string();
                }
                "UNIT" => {
                    if !name.ends_with(&format!("_{arg}")) {
                        return Err(err("family name does not end with its unit".into()));
                    }
                    fam.unit = Some(arg.to_string());
                }
                _ => return Err(err(format!("unknown keyword {kw:?}"))),
            }
            continue;
        }
        if line.starts_with('#') {
            return Err(err("stray comment".into()));
        }
        let name_end = line
            .find(['{', ' '])
            .ok_or_else(|| err("sample without value".into()))?;
        let name = &line[..name_end];
        if !is_metric_name(name) {
            return Err(err(format!("bad metric name {name:?}")));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(&err)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let value_str = rest
            .strip_prefix(' ')
            .ok_or_else(|| err("no space before value".into()))?;
        if value_str.contains(' ') {
            return Err(err("timestamps or exemplars are not expected".into()));
        }
        let value = parse_value(value_str).map_err(&err)?;
        let fam = current
            .as_ref()
            .ok_or_else(|| err("sample before any TYPE".into()))?;
        let ok_name = match fam.kind.as_str() {
            "counter" => {
                name == format!("{}_total", fam.name) || name == format!("{}_created", fam.name)
            }
            "info" => name == format!("{}_info", fam.name),
            _ => name == fam.name,
        };
        if !ok_name {
            return Err(err(format!(
                "sample {name} does not belong to family {}",
                fam.name
            )));
        }
        if fam.kind == "counter" && (value.is_nan() || value < 0.0) {
            return Err(err("counter below zero".into()));
        }
        let key = format!("{name}{labels:?}");
        if !seen_series.insert(key) {
            return Err(err("duplicate series".into()));
        }
        current_has_samples = true;
        exp.samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    if let Some(f) = current.take() {
        exp.families.push(f);
    }
    Ok(exp)
}

#[test]
fn the_parser_rejects_what_it_should() {
    let good =
        "# HELP a_total x.\n# TYPE a counter\na_total 1\n# TYPE g gauge\ng{l=\"v\\\"\"} 2\n# EOF\n";
    let exp = parse(good).unwrap();
    assert_eq!(exp.value("g", &[("l", "v\"")]), Some(2.0));
    for bad in [
        "# TYPE g gauge\ng 1\n",                                             // no EOF
        "# TYPE g gauge\ng 1\ng 1\n# EOF\n",                                 // duplicate
        "# TYPE g gauge\nh 1\n# EOF\n",                                      // wrong family
        "# TYPE g gauge\ng{l=v} 1\n# EOF\n",                                 // unquoted
        "# TYPE g gauge\ng{l=\"a\"b\"} 1\n# EOF\n",                          // raw quote
        "# TYPE g gauge\ng one\n# EOF\n",                                    // bad value
        "# TYPE g gauge\ng 1\n# TYPE h gauge\nh 1\n# TYPE g gauge\n# EOF\n", // interleaved
        "# TYPE c counter\nc 1\n# EOF\n", // counter without _total
        "# TYPE g_bytes gauge\n# UNIT g_bytes seconds\ng_bytes 1\n# EOF\n",
        "# HELP g a \"quoted\" help\n# TYPE g gauge\ng 1\n# EOF\n",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}
