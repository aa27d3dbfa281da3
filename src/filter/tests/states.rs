//! State clauses.

use super::*;

#[test]
fn state_clauses() {
    use TcpState::*;
    let s = f("state established state time-wait");
    assert_eq!(
        s.explicit_states(),
        Some(StateSet::of(&[Established, TimeWait]))
    );
    // Explicit states override -l and -a.
    assert_eq!(s.states(true, true), StateSet::of(&[Established, TimeWait]));
    let e = f("exclude listening");
    assert_eq!(e.explicit_states().unwrap().len(), 10);
    let e = f("excl bucket");
    assert!(!e.explicit_states().unwrap().contains(TimeWait));
    // Order matters, as in ss: state after exclude adds back.
    let e = f("exclude all state closed");
    assert_eq!(e.explicit_states(), Some(StateSet::of(&[Close])));
    let e = f("state all exclude established");
    assert_eq!(e.explicit_states().unwrap().len(), 10);
    assert_eq!(
        f("state CONNECTED").explicit_states(),
        state::lookup("connected")
    );
    let ex = f("state established sport = :22");
    assert!(ex.expr().is_some());
    assert_eq!(f("").states(true, false), StateSet::of(&[Listen, Close]));
    assert_eq!(f("").states(false, true), StateSet::ALL);
}
