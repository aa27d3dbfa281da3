//! Turning the command line's selection and the filter bar's text into a collector
//! [`Query`].

use std::sync::Arc;

use crate::collect::Query;
use crate::model::StateSet;

/// What to collect: the base query (tables, families, source, procfs root) and the ss filter
/// words. The live view always collects kernel counters; it asks for tcp_info and memory only
/// while the detail pane is open, and for processes while they are shown or a scope needs them.
#[derive(Clone, Debug, Default)]
pub struct QuerySpec {
    pub base: Query,
    /// The ss filter, as words (`state`, `time-wait`, `dport`, `=`, `:443`...).
    pub filter: Vec<String>,
    /// `-l`: listening sockets only (when the filter names no state).
    pub listening: bool,
}

/// What the view currently needs from the collector besides the filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub processes: bool,
    /// tcp_info and memory, for the detail pane and byte rates.
    pub details: bool,
}

/// Build the query for `words`, or the filter's error message (possibly several lines).
/// Without a state in the filter the live view shows every state (TIME-WAIT and SYN-RECV
/// included), or only listeners with `-l`.
pub fn compose(spec: &QuerySpec, words: &[String], needs: Needs) -> Result<Query, String> {
    let mut q = spec.base.clone();
    let all = !spec.listening;
    let filter = crate::filter::Filter::parse(words).map_err(|e| e.to_string())?;
    q.states = filter.states(spec.listening, all);
    if q.states.is_empty() {
        q.states = StateSet::ALL;
    }
    q.bytecode = filter.bytecode().map(Arc::new);
    q.keep = filter.predicate();
    q.processes = needs.processes;
    q.tcp_info = needs.details;
    q.memory = needs.details;
    q.counters = true;
    Ok(q)
}

/// Split the filter bar's text into words: whitespace separates, single and double quotes
/// group, and parentheses stand alone (`(dport = :80)` works as ss's `'(' dport = :80 ')'`).
pub fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, c) if c.is_whitespace() => flush(&mut cur, &mut words),
            (None, '(' | ')') => {
                flush(&mut cur, &mut words);
                words.push(c.to_string());
            }
            (None, c) => cur.push(c),
        }
    }
    flush(&mut cur, &mut words);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_words_handles_quotes_and_parens() {
        assert_eq!(
            split_words("state established '(' dport = :443 or(dport = :80)"),
            vec![
                "state",
                "established",
                "(",
                "dport",
                "=",
                ":443",
                "or",
                "(",
                "dport",
                "=",
                ":80",
                ")"
            ]
        );
        assert!(split_words("   ").is_empty());
    }
}
