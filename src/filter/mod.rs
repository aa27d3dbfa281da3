//! The ss filter language: a state set plus an expression tree, evaluated in userspace and
//! compiled to inet_diag bytecode where the kernel can evaluate it.
//!
//! ```text
//! [state NAME | exclude NAME]... [EXPRESSION]
//! ```
//!
//! Semantics follow ss (iproute2 6.1) exactly, including its grammar: `and` and `or` have
//! equal precedence and group left to right, `not` binds tightest, adjacent conditions are
//! joined with `and`. What ss shows for an inet socket is what both the kernel (bytecode) and
//! its userspace check accept; [`Filter::matches`] evaluates both, so the netlink and /proc
//! sources select the same sockets.

pub mod bytecode;
mod error;
mod eval;
mod explain;
pub mod hostcond;
mod lexer;
pub mod parse;
pub mod state;

use std::path::Path;

pub use error::{FilterError, Span};
pub use hostcond::Operands;
pub use parse::{Cond, Expr, FamilyOnly, ParseOptions};

use crate::collect::SocketPredicate;
use crate::model::{Endpoint, FamilyClass, Socket, StateSet};

/// A parsed filter: the explicit state set (if any) and the expression (if any).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    states: Option<StateSet>,
    expr: Option<Expr>,
    family_only: Option<FamilyOnly>,
    bytecode: Option<Vec<u8>>,
    /// Whether [`Filter::matches`] can replay the kernel's verdict (it cannot for
    /// `autobound`, which depends on a lock bit userspace never sees).
    kernel_replay: bool,
}

impl Filter {
    /// Words as on ss's command line; a single word holding a whole expression is tokenized
    /// too.
    pub fn parse(words: &[String]) -> Result<Filter, FilterError> {
        Filter::parse_with(words, ParseOptions::default())
    }

    /// [`Filter::parse`] for a command line with flags that change how ss reads operands
    /// (`-x`: every address is a unix path pattern).
    pub fn parse_with(words: &[String], opts: ParseOptions) -> Result<Filter, FilterError> {
        let input = lexer::Input::from_words(words);
        Ok(Filter::from_parsed(parse::parse(&input, opts)?))
    }

    /// Read the filter from a file (`-` is standard input); lines starting with `#` are
    /// comments.
    pub fn parse_file(path: &Path) -> Result<Filter, FilterError> {
        Filter::parse_file_with(path, ParseOptions::default())
    }

    /// [`Filter::parse_file`] with command-line flags (see [`Filter::parse_with`]).
    pub fn parse_file_with(path: &Path, opts: ParseOptions) -> Result<Filter, FilterError> {
        let text = read_filter_file(path)?;
        Filter::parse_text_with(&text, opts)
    }

    /// Parse filter text with newlines (what a `-F` file holds).
    pub fn parse_text(text: &str) -> Result<Filter, FilterError> {
        Filter::parse_text_with(text, ParseOptions::default())
    }

    /// [`Filter::parse_text`] with command-line flags.
    pub fn parse_text_with(text: &str, opts: ParseOptions) -> Result<Filter, FilterError> {
        let input = lexer::Input::from_text(text);
        Ok(Filter::from_parsed(parse::parse(&input, opts)?))
    }

    fn from_parsed(p: parse::Parsed) -> Filter {
        let bytecode = p.expr.as_ref().and_then(bytecode::compile);
        let kernel_replay = bytecode.is_some()
            && !p
                .expr
                .as_ref()
                .is_some_and(|e| e.any_cond(&|c| matches!(c, Cond::AutoBound)));
        Filter {
            states: p.states,
            expr: p.expr,
            family_only: p.family_only,
            bytecode,
            kernel_replay,
        }
    }

    /// The state set to ask for: explicit `state`/`exclude` if given, else ss's default for
    /// -l/-a.
    pub fn states(&self, listening: bool, all: bool) -> StateSet {
        state::effective(self.states, listening, all)
    }

    /// The explicit state set, when the filter has `state`/`exclude` clauses.
    pub fn explicit_states(&self) -> Option<StateSet> {
        self.states
    }

    /// The parsed expression, if any.
    pub fn expr(&self) -> Option<&Expr> {
        self.expr.as_ref()
    }

    /// The expression, fully parenthesized (`None` without one).
    pub fn expr_text(&self) -> Option<String> {
        self.expr.as_ref().map(Expr::to_text)
    }

    /// ss lists only one family when an operand says so (`inet:`, `inet6:`, a unix path):
    /// callers may skip the other tables.
    pub fn family_only(&self) -> Option<FamilyOnly> {
        self.family_only
    }

    /// The expression, in userspace (states are not checked here).
    pub fn matches(&self, s: &Socket) -> bool {
        if let Some(f) = self.family_only {
            let ok = match (&s.local, f) {
                (Endpoint::Inet { addr, .. }, FamilyOnly::V4) => addr.is_ipv4(),
                (Endpoint::Inet { addr, .. }, FamilyOnly::V6) => addr.is_ipv6(),
                (Endpoint::Unix { .. }, FamilyOnly::Unix) => true,
                (_, FamilyOnly::Link) => s.netid.class() == FamilyClass::Link,
                (_, FamilyOnly::Netlink) => s.netid.class() == FamilyClass::Netlink,
                _ => false,
            };
            if !ok {
                return false;
            }
        }
        let Some(e) = &self.expr else {
            return true;
        };
        if !eval::eval(e, s) {
            return false;
        }
        // ss shows an inet socket only if the kernel's bytecode accepted it too; replay it so
        // the /proc source selects what netlink selects.
        if self.kernel_replay
            && s.netid.is_inet()
            && let (Some(bc), Some(entry)) = (&self.bytecode, bytecode::Entry::from_socket(s))
        {
            return bytecode::run(bc, &entry);
        }
        true
    }

    /// The expression as a collector predicate; `None` when there is no expression.
    pub fn predicate(&self) -> Option<SocketPredicate> {
        if self.expr.is_none() && self.family_only.is_none() {
            return None;
        }
        let f = self.clone();
        Some(std::sync::Arc::new(move |s: &Socket| f.matches(s)))
    }

    /// inet_diag bytecode for the TCP and UDP requests; `None` when nothing can be pushed
    /// down.
    pub fn bytecode(&self) -> Option<Vec<u8>> {
        self.bytecode.clone()
    }

    /// What `--explain` prints.
    pub fn explain(&self, listening: bool, all: bool) -> String {
        explain::explain(self, listening, all)
    }
}

fn read_filter_file(path: &Path) -> Result<String, FilterError> {
    // The one reader of user-named files: never blocks on a FIFO, reads regular files only,
    // and at most a few MiB.
    crate::input::read_text_or_stdin(path, crate::input::FILTER_LIMIT).map_err(|e| {
        let what = if path == Path::new("-") {
            "standard input".to_string()
        } else {
            format!("'{}'", crate::text::escape(&path.to_string_lossy()))
        };
        FilterError::plain(format!(
            "cannot read the filter file {what}: {}",
            strip_os_error(&e)
        ))
    })
}

/// "No such file or directory (os error 2)" → "No such file or directory".
fn strip_os_error(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests;
