//! The expression grammar, exactly as ss's ssfilter.y:
//!
//! ```text
//! exprlist := expr | exprlist '|' expr | exprlist '&' expr | exprlist expr
//! expr     := '(' exprlist ')' | '!' expr | src [=] HOST | dst [=] HOST
//!           | sport|dport (= | != | < | <= | > | >=) PORT | dev (=|!=) DEV | autobound
//! ```
//!
//! Note what this means: `and` and `or` have the *same* precedence and group left to right
//! (`a or b and c` is `(a or b) and c`), `not` binds tightest, and adjacency is `and`.
//! Operator words are case-sensitive, as in ss; state names are not.

use super::error::{FilterError, did_you_mean, shown};
use super::hostcond::{self, Family, HostCond, OperandError};
use super::lexer::{Input, Token};
use super::state;
use crate::model::StateSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Src,
    Dst,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl PortOp {
    pub fn as_str(self) -> &'static str {
        match self {
            PortOp::Eq => "=",
            PortOp::Ne => "!=",
            PortOp::Lt => "<",
            PortOp::Le => "<=",
            PortOp::Gt => ">",
            PortOp::Ge => ">=",
        }
    }
}

/// One condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// `src|dst [=] HOST`.
    Host {
        side: Side,
        host: HostCond,
        text: String,
    },
    /// `sport|dport OP PORT`; `None` is `*` (any port, only with = and !=).
    Port {
        side: Side,
        op: PortOp,
        port: Option<u16>,
    },
    /// `sport|dport OP WORD` under `-x`, where ss reads WORD as a path pattern: `=` matches
    /// the pattern against the path like `src`, the orderings compare the inode with -1.
    UnixPort {
        side: Side,
        op: PortOp,
        pattern: String,
    },
    /// `dev = NAME` (the interface a socket is bound to).
    Dev { ifindex: u32, name: String },
    /// `autobound`: the local port was picked by the kernel.
    AutoBound,
    /// `netns = PATTERN` (a sockeye extension, userspace only): the socket's network
    /// namespace or container name matches the shell glob.
    Netns { pattern: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cond(Cond),
}

impl Expr {
    /// Fully parenthesized, canonical spelling.
    pub fn to_text(&self) -> String {
        match self {
            Expr::Or(a, b) => format!("({} or {})", a.to_text(), b.to_text()),
            Expr::And(a, b) => format!("({} and {})", a.to_text(), b.to_text()),
            Expr::Not(a) => format!("(not {})", a.to_text()),
            Expr::Cond(c) => format!("({})", cond_text(c)),
        }
    }

    pub fn any_cond(&self, f: &dyn Fn(&Cond) -> bool) -> bool {
        match self {
            Expr::Or(a, b) | Expr::And(a, b) => a.any_cond(f) || b.any_cond(f),
            Expr::Not(a) => a.any_cond(f),
            Expr::Cond(c) => f(c),
        }
    }
}

fn side_kw(side: Side, port: bool) -> &'static str {
    match (side, port) {
        (Side::Src, false) => "src",
        (Side::Dst, false) => "dst",
        (Side::Src, true) => "sport",
        (Side::Dst, true) => "dport",
    }
}

pub fn cond_text(c: &Cond) -> String {
    match c {
        Cond::Host { side, host, text } => {
            let mut s = format!("{} {}", side_kw(*side, false), text);
            if let hostcond::AddrCond::Inet(list) = &host.addr {
                let shown: Vec<String> = list.iter().map(|p| p.to_string()).collect();
                let first = text.split(['[', ']']).find(|x| !x.is_empty()).unwrap_or("");
                // Show what a host name resolved to.
                if !shown.iter().any(|x| first.starts_with(x.as_str())) {
                    s.push_str(&format!(" [= {}]", shown.join(", ")));
                }
            }
            s
        }
        Cond::Port { side, op, port } => format!(
            "{} {} {}",
            side_kw(*side, true),
            op.as_str(),
            match port {
                Some(p) => format!(":{p}"),
                None => "*".to_string(),
            }
        ),
        Cond::UnixPort { side, op, pattern } => {
            format!("{} {} unix:{pattern}", side_kw(*side, true), op.as_str())
        }
        Cond::Dev { name, ifindex } => format!("dev = {name} [ifindex {ifindex}]"),
        Cond::AutoBound => "autobound".to_string(),
        Cond::Netns { pattern } => format!("netns = {pattern}"),
    }
}

/// Token classes, spelled as ss's yylex (case-sensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Not,
    And,
    Or,
    LParen,
    RParen,
    Src,
    Dst,
    Sport,
    Dport,
    Dev,
    Fwmark,
    Cgroup,
    AutoBound,
    Netns,
    Ge,
    Le,
    Ne,
    Eq,
    Gt,
    Lt,
    State,
    Word,
}

fn classify(t: &str) -> Kind {
    match t {
        "!" | "not" => Kind::Not,
        "&" | "&&" | "and" => Kind::And,
        "|" | "||" | "or" => Kind::Or,
        "(" => Kind::LParen,
        ")" => Kind::RParen,
        "dst" => Kind::Dst,
        "src" => Kind::Src,
        "dport" => Kind::Dport,
        "sport" => Kind::Sport,
        "dev" => Kind::Dev,
        "fwmark" => Kind::Fwmark,
        "cgroup" => Kind::Cgroup,
        ">=" | "ge" | "geq" => Kind::Ge,
        "<=" | "le" | "leq" => Kind::Le,
        "!=" | "ne" | "neq" => Kind::Ne,
        "=" | "==" | "eq" => Kind::Eq,
        ">" | "gt" => Kind::Gt,
        "<" | "lt" => Kind::Lt,
        "autobound" => Kind::AutoBound,
        "netns" => Kind::Netns,
        "state" | "exclude" | "excl" => Kind::State,
        _ => Kind::Word,
    }
}

const KEYWORDS: &[&str] = &[
    "src",
    "dst",
    "sport",
    "dport",
    "dev",
    "autobound",
    "netns",
    "state",
    "exclude",
    "and",
    "or",
    "not",
];

/// The result of parsing: explicit states (if any), the expression (if any), and the family
/// restriction that `inet:`/`inet6:`/unix operands impose on the whole listing.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub states: Option<StateSet>,
    pub expr: Option<Expr>,
    pub family_only: Option<FamilyOnly>,
}

/// ss lists only this family when an operand names one (see parse_hostcond's `out:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyOnly {
    V4,
    V6,
    Unix,
    /// A `link:` operand: packet sockets only.
    Link,
    /// A `netlink:` operand: netlink sockets only.
    Netlink,
}

/// How ss reads operands, which depends on the command-line flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// `-x` was given: ss then reads every src/dst/sport/dport operand as a unix path pattern
    /// and lists only unix sockets when the expression has one.
    pub unix: bool,
    /// How bare `src`/`dst` operands are read: ss's preferred family (`-0`, `-f link`,
    /// `-f netlink` last) makes them packet or netlink conditions.
    pub operands: hostcond::Operands,
}

struct Parser<'a> {
    input: &'a Input,
    opts: ParseOptions,
    pos: usize,
    family_only: Option<FamilyOnly>,
}

type R<T> = Result<T, FilterError>;

pub(crate) fn parse(input: &Input, opts: ParseOptions) -> R<Parsed> {
    if let Some(t) = input.tokens.get(MAX_TOKENS) {
        return Err(FilterError::at(
            format!("the filter is too long (more than {MAX_TOKENS} words)"),
            input.span(t),
        ));
    }
    let mut p = Parser {
        input,
        opts,
        pos: 0,
        family_only: None,
    };
    let states = p.states()?;
    let expr = if p.peek().is_some() {
        let e = p.exprlist(0)?;
        if let Some(t) = p.peek() {
            // exprlist stops only at ')' or the end.
            return Err(p.err(t, "')' has no matching '('".to_string()));
        }
        Some(e)
    } else {
        None
    };
    Ok(Parsed {
        states,
        expr,
        family_only: p.family_only,
    })
}

/// Nesting limit: deeper input is refused rather than risking the stack.
const MAX_DEPTH: usize = 200;
/// Length limit: evaluation and compilation recurse over the tree, so its size is bounded.
pub(crate) const MAX_TOKENS: usize = 4096;

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.input.tokens.get(self.pos)
    }
    fn peek_kind(&self) -> Option<Kind> {
        self.peek().map(|t| classify(&t.text))
    }
    fn next(&mut self) -> Option<&'a Token> {
        let t = self.input.tokens.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }
    fn err(&self, t: &Token, msg: String) -> FilterError {
        FilterError::at(msg, self.input.span(t))
    }
    fn err_end(&self, msg: String) -> FilterError {
        FilterError::at(msg, self.input.end_span())
    }

    /// Leading `state NAME` / `exclude NAME` clauses: `state` adds (the first one starts from
    /// nothing), `exclude` removes (a leading one starts from all), as ss's main().
    fn states(&mut self) -> R<Option<StateSet>> {
        let mut set: Option<StateSet> = None;
        while let Some(t) = self.peek() {
            if classify(&t.text) != Kind::State {
                break;
            }
            self.pos += 1;
            let Some(name) = self.next() else {
                return Err(self.err(
                    t,
                    format!("'{}' needs a state name after it", shown(&t.text)),
                ));
            };
            let Some(s) = state::lookup(&name.text) else {
                return Err(self.err(
                    name,
                    format!(
                        "'{}' is not a state name{}",
                        shown(&name.text),
                        did_you_mean(&name.text, state::STATE_WORDS)
                    ),
                ));
            };
            set = Some(if t.text == "state" {
                StateSet(set.unwrap_or(StateSet::EMPTY).0 | s.0)
            } else {
                StateSet(set.unwrap_or(StateSet::ALL).0 & !s.0)
            });
        }
        Ok(set)
    }

    fn exprlist(&mut self, depth: usize) -> R<Expr> {
        let mut left = self.expr(depth)?;
        while let Some(t) = self.peek() {
            match classify(&t.text) {
                Kind::RParen => break,
                k @ (Kind::Or | Kind::And) => {
                    self.pos += 1;
                    match self.peek_kind() {
                        None | Some(Kind::RParen) | Some(Kind::Or) | Some(Kind::And) => {
                            return Err(self.err(
                                t,
                                format!("'{}' needs a condition after it", shown(&t.text)),
                            ));
                        }
                        _ => {}
                    }
                    let right = self.expr(depth)?;
                    left = if k == Kind::Or {
                        Expr::Or(Box::new(left), Box::new(right))
                    } else {
                        Expr::And(Box::new(left), Box::new(right))
                    };
                }
                _ => {
                    let right = self.expr(depth)?;
                    left = Expr::And(Box::new(left), Box::new(right));
                }
            }
        }
        Ok(left)
    }

    fn expr(&mut self, depth: usize) -> R<Expr> {
        let Some(t) = self.next() else {
            return Err(self.err_end("a condition is missing at the end".into()));
        };
        if depth > MAX_DEPTH {
            return Err(self.err(t, "the expression is nested too deeply".into()));
        }
        match classify(&t.text) {
            Kind::LParen => {
                if self.peek_kind() == Some(Kind::RParen) {
                    return Err(self.err(t, "'(' is followed by nothing before ')'".into()));
                }
                if self.peek().is_none() {
                    return Err(self.err(t, "'(' is never closed".into()));
                }
                let e = self.exprlist(depth + 1)?;
                match self.next() {
                    Some(c) if classify(&c.text) == Kind::RParen => Ok(e),
                    _ => Err(self.err(t, "'(' is never closed".into())),
                }
            }
            Kind::Not => {
                match self.peek_kind() {
                    None | Some(Kind::RParen) | Some(Kind::Or) | Some(Kind::And) => {
                        return Err(self.err(
                            t,
                            format!("'{}' needs a condition after it", shown(&t.text)),
                        ));
                    }
                    _ => {}
                }
                Ok(Expr::Not(Box::new(self.expr(depth + 1)?)))
            }
            Kind::RParen => Err(self.err(t, "')' has no matching '('".into())),
            Kind::Or | Kind::And => Err(self.err(
                t,
                format!("'{}' needs a condition before it", shown(&t.text)),
            )),
            Kind::Src | Kind::Dst => self.host(t),
            Kind::Sport | Kind::Dport => self.port(t),
            Kind::Dev => self.dev(t),
            Kind::AutoBound => Ok(Expr::Cond(Cond::AutoBound)),
            Kind::Netns => self.netns(t),
            Kind::Fwmark | Kind::Cgroup => Err(self.err(
                t,
                format!(
                    "'{}' is an ss filter sockeye does not support",
                    shown(&t.text)
                ),
            )),
            Kind::State => Err(self.err(
                t,
                format!(
                    "'{}' must come before the expression (ss reads state clauses first)",
                    shown(&t.text)
                ),
            )),
            Kind::Ge | Kind::Le | Kind::Ne | Kind::Eq | Kind::Gt | Kind::Lt => Err(self.err(
                t,
                format!(
                    "'{}' needs a keyword before it (src, dst, sport or dport)",
                    shown(&t.text)
                ),
            )),
            Kind::Word => Err(self.unknown_word(t)),
        }
    }

    fn unknown_word(&self, t: &Token) -> FilterError {
        let raw = &t.text;
        let w = shown(raw);
        if raw.len() > 1 && (raw.starts_with('(') || raw.ends_with(')')) {
            return self.err(
                t,
                format!("'{w}': parentheses must be separate words, as in ss ('( dport = :80 )')"),
            );
        }
        let hint = did_you_mean(&t.text, KEYWORDS);
        if !hint.is_empty() {
            return self.err(t, format!("'{w}' is not a filter keyword{hint}"));
        }
        let addressy = raw.starts_with([':', '[', '*', '/'])
            || raw.chars().next().is_some_and(|c| c.is_ascii_digit());
        if addressy {
            self.err(
                t,
                format!(
                    "'{w}' is not a filter keyword (an address or port needs src, dst, sport or \
                     dport before it)"
                ),
            )
        } else {
            self.err(
                t,
                format!(
                    "'{w}' is not a filter keyword (expected src, dst, sport, dport, dev, \
                     autobound, netns, not or '('; state and exclude come first)"
                ),
            )
        }
    }

    /// The operand word after a keyword (and its operator).
    fn operand(&mut self, kw: &Token, what: &str) -> R<&'a Token> {
        match self.peek() {
            None => Err(self.err(kw, format!("'{}' needs {what} after it", shown(&kw.text)))),
            Some(o) if classify(&o.text) != Kind::Word => Err(self.err(
                o,
                format!(
                    "'{}' needs {what} after it, not '{}'",
                    shown(&kw.text),
                    shown(&o.text)
                ),
            )),
            Some(o) => {
                self.pos += 1;
                Ok(o)
            }
        }
    }

    fn operand_err(&self, o: &Token, e: OperandError) -> FilterError {
        match e {
            OperandError::Port(m) | OperandError::Address(m) => self.err(o, m),
        }
    }

    fn note_family(&mut self, f: FamilyOnly) {
        self.family_only = Some(f);
    }

    fn host(&mut self, kw: &'a Token) -> R<Expr> {
        let side = if kw.text == "src" {
            Side::Src
        } else {
            Side::Dst
        };
        if let Some(op) = self.peek() {
            match classify(&op.text) {
                Kind::Eq => self.pos += 1,
                Kind::Ne | Kind::Lt | Kind::Le | Kind::Gt | Kind::Ge => {
                    return Err(self.err(
                        op,
                        format!(
                            "'{}' takes only '=' (for the opposite, write 'not {} ADDR')",
                            shown(&kw.text),
                            shown(&kw.text)
                        ),
                    ));
                }
                _ => {}
            }
        }
        let o = self.operand(kw, "an address")?;
        let host = if self.opts.unix {
            let pat = o.text.strip_prefix("unix:").unwrap_or(&o.text);
            HostCond {
                addr: hostcond::AddrCond::Unix(pat.to_string()),
                port: None,
                family_only: None,
            }
        } else {
            hostcond::parse_host_as(&o.text, self.opts.operands)
                .map_err(|e| self.operand_err(o, e))?
        };
        match (&host.addr, host.family_only) {
            (hostcond::AddrCond::Unix(_), _) => self.note_family(FamilyOnly::Unix),
            (hostcond::AddrCond::Link { .. }, _) => self.note_family(FamilyOnly::Link),
            (hostcond::AddrCond::Netlink { .. }, _) => self.note_family(FamilyOnly::Netlink),
            (_, Some(Family::V4)) => self.note_family(FamilyOnly::V4),
            (_, Some(Family::V6)) => self.note_family(FamilyOnly::V6),
            _ => {}
        }
        Ok(Expr::Cond(Cond::Host {
            side,
            host,
            text: o.text.clone(),
        }))
    }

    fn port(&mut self, kw: &'a Token) -> R<Expr> {
        let side = if kw.text == "sport" {
            Side::Src
        } else {
            Side::Dst
        };
        let mut op = PortOp::Eq;
        let mut op_tok = kw;
        if let Some(t) = self.peek() {
            let o = match classify(&t.text) {
                Kind::Eq => Some(PortOp::Eq),
                Kind::Ne => Some(PortOp::Ne),
                Kind::Lt => Some(PortOp::Lt),
                Kind::Le => Some(PortOp::Le),
                Kind::Gt => Some(PortOp::Gt),
                Kind::Ge => Some(PortOp::Ge),
                _ => None,
            };
            if let Some(o) = o {
                op = o;
                op_tok = t;
                self.pos += 1;
            }
        }
        let o = self.operand(op_tok, "a port")?;
        if self.opts.unix {
            // ss -x: the operand is a path pattern, and orderings compare against "no port".
            self.note_family(FamilyOnly::Unix);
            let pat = o.text.strip_prefix("unix:").unwrap_or(&o.text);
            return Ok(Expr::Cond(Cond::UnixPort {
                side,
                op,
                pattern: pat.to_string(),
            }));
        }
        let port = hostcond::parse_port_operand(&o.text).map_err(|e| self.operand_err(o, e))?;
        if port.is_none() && !matches!(op, PortOp::Eq | PortOp::Ne) {
            return Err(self.err(
                o,
                format!(
                    "'{}' needs a port number to compare with, not '*'",
                    shown(&op_tok.text)
                ),
            ));
        }
        Ok(Expr::Cond(Cond::Port { side, op, port }))
    }

    /// `netns [=|!=] PATTERN`, the operators as `dev` takes them.
    fn netns(&mut self, kw: &'a Token) -> R<Expr> {
        let negate = self.eq_or_ne();
        let o = self.operand(kw, "a namespace or container name (globs allowed)")?;
        let c = Expr::Cond(Cond::Netns {
            pattern: o.text.clone(),
        });
        Ok(if negate { Expr::Not(Box::new(c)) } else { c })
    }

    /// An optional `=` or `!=` after a keyword; true for `!=`.
    fn eq_or_ne(&mut self) -> bool {
        let Some(t) = self.peek() else {
            return false;
        };
        match classify(&t.text) {
            Kind::Eq => {
                self.pos += 1;
                false
            }
            Kind::Ne => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn dev(&mut self, kw: &'a Token) -> R<Expr> {
        let mut negate = false;
        if let Some(t) = self.peek() {
            match classify(&t.text) {
                Kind::Eq => self.pos += 1,
                Kind::Ne => {
                    negate = true;
                    self.pos += 1;
                }
                _ => {}
            }
        }
        let o = self.operand(kw, "an interface name")?;
        let ifindex = ifindex(&o.text).ok_or_else(|| {
            self.err(
                o,
                format!("'{}' is not a network interface", shown(&o.text)),
            )
        })?;
        let c = Expr::Cond(Cond::Dev {
            ifindex,
            name: o.text.clone(),
        });
        Ok(if negate { Expr::Not(Box::new(c)) } else { c })
    }
}

/// An interface name or number, as ss's parse_devcond.
fn ifindex(name: &str) -> Option<u32> {
    if let Ok(c) = std::ffi::CString::new(name) {
        // SAFETY: a valid NUL-terminated string; if_nametoindex only reads it.
        let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
        if i != 0 {
            return Some(i);
        }
    }
    hostcond::parse_c_integer(name).and_then(|n| u32::try_from(n).ok())
}
