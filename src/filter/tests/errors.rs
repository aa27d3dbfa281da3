//! Error messages and refused inputs.

use super::*;

#[test]
fn error_unknown_keyword() {
    assert_eq!(
        err("sprot = :22"),
        "filter: 'sprot' is not a filter keyword (did you mean 'sport'?)\n  sprot = :22\n  ^^^^^"
    );
    assert_eq!(
        err("sport = :22 or dprt = :80"),
        "filter: 'dprt' is not a filter keyword (did you mean 'dport'?)\n  \
         sport = :22 or dprt = :80\n                 ^^^^"
    );
    assert_eq!(
        err(":22"),
        "filter: ':22' is not a filter keyword (an address or port needs src, dst, sport or \
         dport before it)\n  :22\n  ^^^"
    );
    assert!(err("SPORT = :22").contains("did you mean 'sport'?"));
}

#[test]
fn error_states() {
    assert_eq!(
        err("state establised"),
        "filter: 'establised' is not a state name (did you mean 'established'?)\n  \
         state establised\n        ^^^^^^^^^^"
    );
    assert_eq!(
        err("state"),
        "filter: 'state' needs a state name after it\n  state\n  ^^^^^"
    );
    assert_eq!(
        err("sport = :22 state established"),
        "filter: 'state' must come before the expression (ss reads state clauses first)\n  \
         sport = :22 state established\n              ^^^^^"
    );
}

#[test]
fn error_ports() {
    assert_eq!(
        err("dport = :70000"),
        "filter: port 70000 is out of range (0 to 65535)\n  dport = :70000\n          ^^^^^^"
    );
    assert_eq!(
        err("dport = :nosuchsvc"),
        "filter: 'nosuchsvc' is not a port number or a service name from /etc/services\n  \
         dport = :nosuchsvc\n          ^^^^^^^^^^"
    );
    assert_eq!(
        err("dport = :-1"),
        "filter: port -1 is out of range (0 to 65535)\n  dport = :-1\n          ^^^"
    );
    assert!(err("sport = 127.0.0.1:22").contains("sport and dport take a port only"));
    assert_eq!(
        err("sport >"),
        "filter: '>' needs a port after it\n  sport >\n        ^"
    );
    assert!(err("sport > *").contains("needs a port number"));
    assert!(err("src 1.2.3.4:99999").contains("out of range"));
}

#[test]
fn error_addresses() {
    assert_eq!(
        err("src 1.2.3.4.5"),
        "filter: '1.2.3.4.5' is not an address\n  src 1.2.3.4.5\n      ^^^^^^^^^"
    );
    assert_eq!(
        err("dst 10.0.0.0/33"),
        "filter: '/33' is not a prefix length for IPv4 (0 to 32)\n  dst 10.0.0.0/33\n      ^^^^^^^^^^^"
    );
    assert!(err("src ::1").contains("brackets"));
    assert!(err("src [::1").contains("without a closing ']'"));
    assert_eq!(
        err("src"),
        "filter: 'src' needs an address after it\n  src\n  ^^^"
    );
    assert!(err("src != 1.2.3.4").contains("takes only '='"));
    assert!(err("src and").contains("needs an address after it, not 'and'"));
}

#[test]
fn error_structure() {
    assert_eq!(
        err("( sport = :22"),
        "filter: '(' is never closed\n  ( sport = :22\n  ^"
    );
    assert_eq!(
        err("sport = :22 )"),
        "filter: ')' has no matching '('\n  sport = :22 )\n              ^"
    );
    assert_eq!(
        err("sport = :22 and"),
        "filter: 'and' needs a condition after it\n  sport = :22 and\n              ^^^"
    );
    assert_eq!(
        err("or sport = :22"),
        "filter: 'or' needs a condition before it\n  or sport = :22\n  ^^"
    );
    assert_eq!(
        err("not"),
        "filter: 'not' needs a condition after it\n  not\n  ^^^"
    );
    assert!(err("( )").contains("followed by nothing"));
    assert!(err("sport = :1 or or sport = :2").contains("'or' needs a condition after it"));
    assert!(err("= :22").contains("needs a keyword before it"));
    assert!(err("fwmark = 1").contains("does not support"));
}

#[test]
fn error_in_file_points_at_its_line() {
    let e = Filter::parse_text("# x\nsport = :22\nor dprot = :1\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "filter: 'dprot' is not a filter keyword (did you mean 'dport'?)\n  or dprot = :1\n     ^^^^^"
    );
}

#[test]
fn deep_nesting_is_refused_not_a_crash() {
    let s = format!("{} sport = :1 {}", "( ".repeat(5000), ") ".repeat(5000));
    assert!(Filter::parse(&[s]).is_err());
    let s = format!("{} sport = :1", "not ".repeat(5000));
    assert!(Filter::parse(&[s]).is_err());
}

#[test]
fn very_long_filters_are_refused_not_a_crash() {
    let s = vec!["sport = :1 or".to_string(); 3000];
    let e = Filter::parse(&s).unwrap_err();
    assert!(e.message().contains("too long"));
    // Long but acceptable: a left-deep chain evaluates and compiles without trouble.
    let mut v = vec!["sport = :1".to_string()];
    v.extend(std::iter::repeat_n("or sport = :2".to_string(), 1000));
    let fl = Filter::parse(&v).unwrap();
    let s = tcp(TcpState::Established, "127.0.0.1", 2, "127.0.0.1", 3);
    assert!(fl.matches(&s));
    assert!(fl.bytecode().is_some_and(|b| bytecode::audit(&b)));
}

#[test]
fn attached_parentheses_are_explained() {
    assert_eq!(
        err("(dport = :80 )"),
        "filter: '(dport': parentheses must be separate words, as in ss ('( dport = :80 )')\n  \
         (dport = :80 )\n  ^^^^^^"
    );
}

#[test]
fn netns_needs_a_name() {
    let e = err("netns");
    assert!(
        e.contains("'netns' needs a namespace or container name"),
        "{e}"
    );
    let e = err("netns =");
    assert!(e.contains("needs a namespace"), "{e}");
    let e = err("netsn = web");
    assert!(e.contains("netns"), "did you mean: {e}");
}
