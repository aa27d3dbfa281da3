//! One selection: the select flags (`-t -u -x -4 -6 -l -a -n --source -F`), the ss filter and
//! the configuration file, resolved into what to collect — by the same code for every front
//! end (dump, the live view, attach, export; record, events and kill to come). What differs
//! between front ends is a named field of [`Options`], never a copy of the rules.
//!
//! Two steps: [`Request::from_args`] reads the command line and the `-F` file once;
//! [`Request::resolve`] (the command line's filter) or [`Request::resolve_words`] (the live
//! view's filter bar, every time it changes) parses a filter and derives the [`Query`].

use std::path::Path;
use std::sync::Arc;

use crate::cli::{SelectArgs, SourceArg};
use crate::collect::{Query, SourcePref};
use crate::config::Config;
use crate::error::UsageError;
use crate::filter::{FamilyOnly, Filter, Operands, ParseOptions};
use crate::model::{FamilyClass, Netid, NetidSet, StateSet, TcpState};
use crate::tables::SsFamily;

/// The states shown when neither the filter nor `-l`/`-a` names any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultStates {
    /// ss's default: connected sockets (and, for a UDP-only dump, connected UDP only).
    Connected,
    /// Every state, as if `-a` were given (`-l` still means listeners only): the live view
    /// and the exporter watch TIME-WAIT and SYN-RECV build up.
    Every,
}

/// What `-F -` means to a front end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdinFilter {
    /// Read the filter from standard input.
    Read,
    /// Refused with this reason (the live view reads its keys from standard input).
    Refused(&'static str),
}

/// How a front end resolves a selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub default_states: DefaultStates,
    pub stdin_filter: StdinFilter,
    /// `dump -s`: count every TCP state; no other table, no filter expression.
    pub summary: bool,
}

impl Options {
    /// `sockeye dump`: exactly ss.
    pub const DUMP: Options = Options {
        default_states: DefaultStates::Connected,
        stdin_filter: StdinFilter::Read,
        summary: false,
    };
    /// `sockeye dump -s`.
    pub const SUMMARY: Options = Options {
        summary: true,
        ..Options::DUMP
    };
    /// `sockeye dump -E`: dump's rules, every state by default (destroyed sockets are
    /// reported in the state they were freed in).
    pub const EVENTS: Options = Options {
        default_states: DefaultStates::Every,
        ..Options::DUMP
    };
    /// The live view (`sockeye`, `tui`, `demo`, `attach`).
    pub const LIVE: Options = Options {
        default_states: DefaultStates::Every,
        stdin_filter: StdinFilter::Refused(
            "the live view reads keys from standard input: give -F a file, not '-'",
        ),
        summary: false,
    };
    /// `sockeye export`: every socket, as the live view.
    pub const EXPORT: Options = Options {
        stdin_filter: StdinFilter::Refused("the exporter takes no filter"),
        ..Options::LIVE
    };
}

/// The command line's selection, read once (the `-F` file included).
#[derive(Clone, Debug)]
pub struct Request {
    /// Tables the flags ask for (every one when none is given).
    pub tables: NetidSet,
    /// ss tables the flags ask for that sockeye does not read yet (ss Netids).
    pub unread: Vec<&'static str>,
    /// A table or family was named on the command line.
    pub named: bool,
    /// The families named (a bit per [`SsFamily`]), whose default states ss adds.
    pub named_families: u16,
    pub ipv4: bool,
    pub ipv6: bool,
    pub listening: bool,
    pub all: bool,
    /// `-x` (or `-f unix`) last among the families: ss reads every address and port operand
    /// as a unix path pattern.
    pub unix_operands: bool,
    /// How bare `src`/`dst` operands read: packet or netlink ones after `-0`/`-f link` or
    /// `-f netlink` (ss's preferred family).
    pub operands: Operands,
    pub source: SourcePref,
    /// `-n`, or the configuration file's `numeric`.
    pub numeric: bool,
    /// The filter words of the command line.
    pub words: Vec<String>,
    /// The text of the `-F` file, read after the words (states may stay on the command line).
    pub file_text: Option<String>,
    pub options: Options,
}

impl Default for Request {
    /// Every table, both families, every state: the live view without flags.
    fn default() -> Request {
        Request::of_flags(&SelectArgs::default(), Options::LIVE)
    }
}

impl Request {
    /// The command line over the configuration file (`config` is the default when
    /// `--no-config` is given). Reads the `-F` file; its problems are usage errors.
    pub fn from_args(
        sel: &SelectArgs,
        config: &Config,
        options: Options,
    ) -> Result<Request, UsageError> {
        let mut r = Request::of_flags(sel, options);
        r.numeric |= config.view.numeric.unwrap_or(false);
        if let Some(path) = &sel.filter_file {
            r.file_text = Some(read_filter_file(path, options.stdin_filter)?);
        }
        Ok(r)
    }

    /// The flags alone (no file read, no configuration).
    pub fn of_flags(sel: &SelectArgs, options: Options) -> Request {
        let ss::SsTables {
            netids: tables,
            ipv4,
            ipv6,
            unread,
            named,
            named_families,
        } = ss::resolve(sel);
        Request {
            tables,
            unread,
            named,
            named_families,
            ipv4,
            ipv6,
            listening: sel.listening,
            all: sel.all,
            // ss reads operands in its preferred family, the last one given: `-x -4 src
            // 127.0.0.1` is an inet condition, `-4 -x src /run/*` a unix one.
            // (Arguments built in code have no order: -x alone then.)
            unix_operands: sel
                .order
                .preferred
                .map_or(sel.unix, |f| f == SsFamily::Unix),
            operands: match sel.order.preferred {
                Some(SsFamily::Link) => Operands::Link,
                Some(SsFamily::Netlink) => Operands::Netlink,
                _ => Operands::Inet,
            },
            source: source_pref(sel.source),
            numeric: sel.numeric,
            words: sel.filter.clone(),
            file_text: None,
            options,
        }
    }

    /// Only these tables, both families, everything else default (the demo watches TCP).
    pub fn of_tables(tables: NetidSet, options: Options) -> Request {
        Request {
            tables,
            unread: Vec::new(),
            named: true,
            ..Request::of_flags(&SelectArgs::default(), options)
        }
    }

    /// The whole filter as words: the command line's, then the file's lines (comments
    /// dropped). What the live view shows in its filter bar.
    pub fn filter_words(&self) -> Vec<String> {
        let mut words = self.words.clone();
        if let Some(text) = &self.file_text {
            for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                words.extend(split_words(line));
            }
        }
        words
    }

    /// The selection of the command line's filter (words, then the `-F` file).
    pub fn resolve(&self) -> Result<Selection, UsageError> {
        let opts = self.parse_options();
        let filter = match &self.file_text {
            None => Filter::parse_with(&self.words, opts),
            Some(text) => {
                Filter::parse_text_with(&format!("{}\n{text}", self.words.join(" ")), opts)
            }
        }
        .map_err(|e| UsageError(e.to_string()))?;
        self.finish(filter)
    }

    /// The selection of other filter words (the live view's filter bar) with these flags.
    pub fn resolve_words(&self, words: &[String]) -> Result<Selection, UsageError> {
        let filter = Filter::parse_with(words, self.parse_options())
            .map_err(|e| UsageError(e.to_string()))?;
        self.finish(filter)
    }

    fn parse_options(&self) -> ParseOptions {
        ParseOptions {
            unix: self.unix_operands,
            operands: self.operands,
        }
    }

    /// `-l`/`-a` as the state default sees them.
    fn listening_all(&self) -> (bool, bool) {
        match self.options.default_states {
            DefaultStates::Connected => (self.listening, self.all),
            // Without -l (or with -la) every state.
            DefaultStates::Every if self.listening && !self.all => (true, false),
            DefaultStates::Every => (false, true),
        }
    }

    fn finish(&self, filter: Filter) -> Result<Selection, UsageError> {
        let (mut netids, mut ipv4, mut ipv6) = (self.tables, self.ipv4, self.ipv6);
        let inet = NetidSet::of_class(FamilyClass::Inet);
        // ss lists only one family when a filter operand names it (`inet6:`, a unix path).
        match filter.family_only() {
            Some(FamilyOnly::V4) => {
                ipv6 = false;
                netids = netids.intersect(inet);
            }
            Some(FamilyOnly::V6) => {
                ipv4 = false;
                netids = netids.intersect(inet);
            }
            Some(FamilyOnly::Unix) => {
                netids = netids.intersect(NetidSet::of_class(FamilyClass::Unix))
            }
            Some(FamilyOnly::Link) => {
                netids = netids.intersect(NetidSet::of_class(FamilyClass::Link))
            }
            Some(FamilyOnly::Netlink) => {
                netids = netids.intersect(NetidSet::of_class(FamilyClass::Netlink))
            }
            None => {}
        }
        if !ipv4 && !ipv6 {
            return Err(UsageError("no families to show with such filter".into()));
        }
        // Tables sockeye does not decode yet, alone: an empty table, as ss prints it where the
        // kernel lacks them (dump asks the kernel, and says so).
        if netids.is_empty() && (self.unread.is_empty() || !self.tables.is_empty()) {
            return Err(UsageError(
                "no socket tables to show with such filter".into(),
            ));
        }

        let (listening, all) = self.listening_all();
        let mut states = filter.states(listening, all);
        // ss without any state selection: the union of each table's default states (UDP and
        // raw show connected sockets only, packet and netlink their only state, UNCONN).
        if filter.explicit_states().is_none()
            && !listening
            && !all
            && self.named
            && !netids.is_empty()
        {
            let closed = StateSet::of(&[TcpState::Close]);
            let of_tables = netids.iter().fold(StateSet::EMPTY, |acc, n| {
                acc.union(match n.kind().default_states {
                    crate::tables::DefaultStates::Connected => states,
                    crate::tables::DefaultStates::Established => {
                        StateSet::of(&[TcpState::Established])
                    }
                    crate::tables::DefaultStates::Closed => closed,
                })
            });
            // ss's default_afs: packet, netlink and XDP families add UNCONN, the others the
            // connected states.
            states = SsFamily::ALL
                .into_iter()
                .filter(|f| self.named_families & f.bit() != 0)
                .fold(of_tables, |acc, f| {
                    acc.union(match f {
                        SsFamily::Link | SsFamily::Netlink | SsFamily::Xdp => closed,
                        SsFamily::Inet
                        | SsFamily::Inet6
                        | SsFamily::Unix
                        | SsFamily::Vsock
                        | SsFamily::Tipc => states,
                    })
                });
        }
        let summary = self.options.summary;
        if summary {
            netids = NetidSet::of(&[Netid::Tcp]);
            states = StateSet::ALL;
        }
        if states.is_empty() {
            return Err(UsageError(
                "no socket states to show with such filter".into(),
            ));
        }
        let query = Query {
            netids,
            ipv4,
            ipv6,
            states,
            bytecode: if summary {
                None
            } else {
                filter.bytecode().map(Arc::new)
            },
            keep: if summary { None } else { filter.predicate() },
            source: self.source,
            ..Query::default()
        };
        Ok(Selection {
            query,
            numeric: self.numeric,
            explain_states: (listening, all),
            filter,
        })
    }
}

/// A resolved selection: what to collect (the [`Query`]'s tables, families, states, source
/// and filter; the front end adds what it shows: processes, tcp_info, counters...).
pub struct Selection {
    pub query: Query,
    pub numeric: bool,
    pub filter: Filter,
    explain_states: (bool, bool),
}

impl Selection {
    /// What `--explain` prints: the filter as understood, the tables, families and requests.
    pub fn explain(&self) -> String {
        let q = &self.query;
        let requests = if q.source == SourcePref::Proc {
            vec!["none: --source proc reads /proc/net".to_string()]
        } else {
            crate::collect::netlink::describe_requests(q)
        };
        let (listening, all) = self.explain_states;
        format!(
            "{}\ntables:     {}\nfamilies:   {}\nrequests:   {}",
            self.filter.explain(listening, all).trim_end(),
            q.netids
                .iter()
                .map(Netid::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            match (q.ipv4, q.ipv6) {
                (true, true) => "ipv4 ipv6",
                (true, false) => "ipv4",
                _ => "ipv6",
            },
            requests.join("\n            "),
        )
    }
}

/// The tables and families the flags name: no table flag means every table, or the inet ones
/// when `-4`/`-6` is given; `-4` and `-6` together (or neither) mean both families.
/// `-A`/`-f` combine with them as ss combines them (see `selection_ss.rs`).
pub fn tables(sel: &SelectArgs) -> (NetidSet, bool, bool) {
    let t = ss::resolve(sel);
    (t.netids, t.ipv4, t.ipv6)
}

#[path = "selection_ss.rs"]
pub mod ss;

pub fn source_pref(arg: SourceArg) -> SourcePref {
    match arg {
        SourceArg::Auto => SourcePref::Auto,
        SourceArg::Netlink => SourcePref::Netlink,
        SourceArg::Proc => SourcePref::Proc,
    }
}

/// The `-F` file (or standard input for `-`, where the front end allows it), through the one
/// reader of user-named files.
fn read_filter_file(path: &Path, stdin: StdinFilter) -> Result<String, UsageError> {
    let limit = crate::input::FILTER_LIMIT;
    if path.as_os_str() == "-" {
        return match stdin {
            StdinFilter::Read => crate::input::read_text_or_stdin(path, limit)
                .map_err(|e| UsageError(format!("cannot read the filter from stdin: {e}"))),
            StdinFilter::Refused(why) => Err(UsageError(why.to_string())),
        };
    }
    crate::input::read_text(path, limit).map_err(|e| {
        UsageError(format!(
            "cannot read filter file {}: {}",
            crate::text::escape(&path.to_string_lossy()),
            e
        ))
    })
}

/// Split filter text into words: whitespace separates, single and double quotes group, and
/// parentheses stand alone (`(dport = :80)` works as ss's `'(' dport = :80 ')'`).
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
#[path = "selection_tests.rs"]
mod tests;
