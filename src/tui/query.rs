//! Turning the command line's selection and the filter bar's text into a collector
//! [`Query`], by the one resolver every front end uses ([`crate::selection`]).

use crate::collect::Query;
use crate::model::NetidSet;
use crate::selection::{Options, Request};

pub use crate::selection::split_words;

/// What to collect: the command line's selection (tables, families, source, -l/-a, -x) and
/// the ss filter words the view starts with. The live view always collects kernel counters;
/// it asks for tcp_info and memory only while the detail pane is open, and for processes while
/// they are shown or a scope needs them.
#[derive(Clone, Debug, Default)]
pub struct QuerySpec {
    pub request: Request,
    /// The ss filter, as words (`state`, `time-wait`, `dport`, `=`, `:443`...).
    pub filter: Vec<String>,
}

impl QuerySpec {
    /// The filter words of the command line (and its `-F` file) over `request`.
    pub fn new(request: Request) -> QuerySpec {
        QuerySpec {
            filter: request.filter_words(),
            request,
        }
    }

    /// Only these tables, every state, no filter (the demo watches TCP).
    pub fn of_tables(tables: NetidSet) -> QuerySpec {
        QuerySpec::new(Request::of_tables(tables, Options::LIVE))
    }
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
    let mut q = spec.request.resolve_words(words).map_err(|e| e.0)?.query;
    q.processes = needs.processes;
    q.tcp_info = needs.details;
    q.memory = needs.details;
    q.counters = true;
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Netid, StateSet, TcpState};

    fn w(text: &str) -> Vec<String> {
        split_words(text)
    }

    #[test]
    fn compose_adds_what_the_view_needs() {
        let spec = QuerySpec::of_tables(NetidSet::of(&[Netid::Tcp]));
        let needs = Needs {
            processes: true,
            details: false,
        };
        let q = compose(&spec, &w("state close-wait"), needs).unwrap();
        assert_eq!(q.netids, NetidSet::of(&[Netid::Tcp]));
        assert_eq!(q.states, StateSet::of(&[TcpState::CloseWait]));
        assert!(q.processes && q.counters && !q.tcp_info && !q.memory);
        assert_eq!(compose(&spec, &[], needs).unwrap().states, StateSet::ALL);
        let e = compose(&spec, &w("exclude all"), needs).unwrap_err();
        assert_eq!(e, "no socket states to show with such filter");
        assert!(compose(&spec, &w("dport = :80 foo"), needs).is_err());
    }
}
