//! State names, groups and defaults, as ss's `scan_state` and `main` have them.

use crate::model::{StateSet, TcpState};

/// ss's `SS_CONN`-style groups and every accepted state spelling (case-insensitive).
pub(crate) const STATE_WORDS: &[&str] = &[
    "established",
    "syn-sent",
    "syn-recv",
    "syn-rcv",
    "fin-wait-1",
    "fin-wait-2",
    "time-wait",
    "closed",
    "close",
    "unconnected",
    "close-wait",
    "last-ack",
    "listening",
    "closing",
    "bound-inactive",
    "all",
    "connected",
    "synchronized",
    "bucket",
    "big",
];

fn set(states: &[TcpState]) -> StateSet {
    StateSet::of(states)
}

fn all_but(states: &[TcpState]) -> StateSet {
    StateSet(StateSet::ALL.0 & !set(states).0)
}

/// `connected`: everything but listening and closed.
pub fn connected() -> StateSet {
    all_but(&[TcpState::Close, TcpState::Listen])
}

/// What ss shows when no state is given and neither -l nor -a: connected minus time-wait and
/// syn-recv.
pub fn default_set() -> StateSet {
    all_but(&[
        TcpState::Close,
        TcpState::Listen,
        TcpState::TimeWait,
        TcpState::SynRecv,
    ])
}

/// `-l`: listening plus closed (UNCONN for UDP and unix).
pub fn listening_set() -> StateSet {
    set(&[TcpState::Listen, TcpState::Close])
}

/// One state name or group, case-insensitive, as ss's `scan_state`. `unknown` is ss's name
/// for state 0, which no socket has; it is accepted (and selects nothing) as ss does.
pub fn lookup(word: &str) -> Option<StateSet> {
    use TcpState::*;
    let w = word.to_ascii_lowercase();
    Some(match w.as_str() {
        "close" | "closed" | "unconnected" => set(&[Close]),
        "syn-rcv" | "syn-recv" => set(&[SynRecv]),
        "established" => set(&[Established]),
        "all" => StateSet::ALL,
        "connected" => connected(),
        "synchronized" => all_but(&[Close, Listen, SynSent]),
        "bucket" => set(&[SynRecv, TimeWait]),
        "big" => all_but(&[SynRecv, TimeWait]),
        "syn-sent" => set(&[SynSent]),
        "fin-wait-1" => set(&[FinWait1]),
        "fin-wait-2" => set(&[FinWait2]),
        "time-wait" => set(&[TimeWait]),
        "close-wait" => set(&[CloseWait]),
        "last-ack" => set(&[LastAck]),
        "listening" => set(&[Listen]),
        "closing" => set(&[Closing]),
        // Newer ss's name (iproute2 6.8, kernel 6.7): TCP sockets bound but neither
        // listening nor connected. Not part of `all`, as in ss 6.1.
        "bound-inactive" => StateSet::BOUND_INACTIVE,
        "unknown" => StateSet(1),
        _ => return None,
    })
}

/// The state set ss asks for: explicit clauses win over -l/-a; otherwise -a (all) beats -l.
pub fn effective(explicit: Option<StateSet>, listening: bool, all: bool) -> StateSet {
    match explicit {
        Some(s) => s,
        None if all => StateSet::ALL,
        None if listening => listening_set(),
        None => default_set(),
    }
}

/// State names of a set, in kernel order, as `explain` prints them.
pub fn names(s: StateSet) -> String {
    if s.0 & StateSet::ALL.0 == StateSet::ALL.0 {
        return "all (every state)".to_string();
    }
    let mut v: Vec<&str> = s.iter().map(|t| t.filter_name()).collect();
    if s.bound_inactive() {
        v.push("bound-inactive");
    }
    if v.is_empty() {
        "none (no socket can match)".to_string()
    } else {
        v.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TcpState::*;

    #[test]
    fn groups() {
        assert_eq!(lookup("all"), Some(StateSet::ALL));
        let c = lookup("connected").unwrap();
        assert!(!c.contains(Listen) && !c.contains(Close) && c.contains(TimeWait));
        assert_eq!(c.len(), 9);
        let s = lookup("synchronized").unwrap();
        assert!(!s.contains(SynSent) && s.contains(SynRecv));
        assert_eq!(lookup("bucket"), Some(StateSet::of(&[SynRecv, TimeWait])));
        let b = lookup("big").unwrap();
        assert!(b.contains(Listen) && b.contains(Close) && !b.contains(TimeWait));
        assert_eq!(b.len(), 9);
    }

    #[test]
    fn spellings_are_case_insensitive() {
        assert_eq!(lookup("ESTABLISHED"), Some(StateSet::of(&[Established])));
        assert_eq!(lookup("Time-Wait"), Some(StateSet::of(&[TimeWait])));
        assert_eq!(lookup("syn-rcv"), lookup("syn-recv"));
        assert_eq!(lookup("close"), Some(StateSet::of(&[Close])));
        assert_eq!(lookup("unconnected"), Some(StateSet::of(&[Close])));
        assert_eq!(lookup("estab"), None);
        for t in TcpState::ALL {
            assert_eq!(lookup(t.filter_name()), Some(StateSet::of(&[t])));
        }
        for w in STATE_WORDS {
            assert!(lookup(w).is_some(), "{w}");
        }
    }

    #[test]
    fn defaults() {
        let d = effective(None, false, false);
        assert!(d.contains(Established) && d.contains(CloseWait) && d.contains(SynSent));
        assert!(!d.contains(TimeWait) && !d.contains(SynRecv) && !d.contains(Listen));
        assert_eq!(d.len(), 7);
        assert_eq!(effective(None, true, false), StateSet::of(&[Listen, Close]));
        assert_eq!(effective(None, true, true), StateSet::ALL);
        let e = StateSet::of(&[Established]);
        assert_eq!(effective(Some(e), true, true), e);
    }
}
