//! Unit tests for the filter language: parser, evaluation, bytecode, errors.

use std::net::IpAddr;

use super::bytecode::{self, Entry};
use super::parse::{PortOp, Side};
use super::*;
use crate::model::{Netid, TcpState};

fn w(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_string).collect()
}

fn f(s: &str) -> Filter {
    match Filter::parse(&w(s)) {
        Ok(f) => f,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn text(s: &str) -> String {
    f(s).expr_text().unwrap_or_default()
}

fn err(s: &str) -> String {
    match Filter::parse(&w(s)) {
        Ok(_) => panic!("{s}: accepted"),
        Err(e) => e.to_string(),
    }
}

fn tcp(state: TcpState, l: &str, lp: u16, r: &str, rp: u16) -> Socket {
    let ep = |a: &str, port| Endpoint::Inet {
        addr: a.parse::<IpAddr>().unwrap(),
        port,
    };
    Socket {
        recv_q: Some(0),
        send_q: Some(0),
        inode: 1,
        uid: Some(0),
        ..Socket::new(Netid::Tcp, state, ep(l, lp), ep(r, rp))
    }
}

fn unix(path: Option<&str>, inode: u64, peer: u64) -> Socket {
    let local = Endpoint::Unix {
        path: path.map(Into::into),
        inode,
    };
    let peer = Endpoint::Unix {
        path: None,
        inode: peer,
    };
    Socket {
        recv_q: Some(0),
        send_q: Some(0),
        inode,
        uid: Some(0),
        ..Socket::new(Netid::UnixStream, TcpState::Established, local, peer)
    }
}

// ---- parsing ----

#[test]
fn empty_filter() {
    let f = Filter::parse(&[]).unwrap();
    assert!(f.expr().is_none());
    assert!(f.bytecode().is_none());
    assert!(f.predicate().is_none());
    assert_eq!(f.states(false, false), state::default_set());
}

#[test]
fn every_operator_spelling() {
    for (spellings, op) in [
        (&["=", "==", "eq"][..], PortOp::Eq),
        (&["!=", "ne", "neq"][..], PortOp::Ne),
        (&[">", "gt"][..], PortOp::Gt),
        (&["<", "lt"][..], PortOp::Lt),
        (&[">=", "ge", "geq"][..], PortOp::Ge),
        (&["<=", "le", "leq"][..], PortOp::Le),
    ] {
        for s in spellings {
            for (kw, side) in [("sport", Side::Src), ("dport", Side::Dst)] {
                let fl = f(&format!("{kw} {s} :80"));
                assert_eq!(
                    fl.expr(),
                    Some(&Expr::Cond(Cond::Port {
                        side,
                        op,
                        port: Some(80)
                    })),
                    "{kw} {s}"
                );
            }
        }
    }
    // The operator is optional for equality, as in ss.
    assert_eq!(text("dport :80"), "(dport = :80)");
    assert_eq!(text("sport 22"), "(sport = :22)");
    assert_eq!(text("sport = *"), "(sport = *)");
    assert_eq!(text("dport = :0x50"), "(dport = :80)");
}

#[test]
fn boolean_spellings() {
    for and in ["and", "&&", "&"] {
        assert_eq!(
            text(&format!("sport = :1 {and} dport = :2")),
            "((sport = :1) and (dport = :2))"
        );
    }
    for or in ["or", "||", "|"] {
        assert_eq!(
            text(&format!("sport = :1 {or} dport = :2")),
            "((sport = :1) or (dport = :2))"
        );
    }
    for not in ["not", "!"] {
        assert_eq!(text(&format!("{not} sport = :1")), "(not (sport = :1))");
    }
}

#[test]
fn grouping_is_left_to_right_like_ss() {
    // ss's grammar gives and/or the same precedence: (a or b) and c.
    assert_eq!(
        text("sport = :1 or sport = :2 and sport = :3"),
        "(((sport = :1) or (sport = :2)) and (sport = :3))"
    );
    assert_eq!(
        text("sport = :1 and sport = :2 or sport = :3"),
        "(((sport = :1) and (sport = :2)) or (sport = :3))"
    );
    assert_eq!(
        text("not sport = :1 and sport = :2"),
        "((not (sport = :1)) and (sport = :2))"
    );
    assert_eq!(
        text("sport = :1 or ( sport = :2 and sport = :3 )"),
        "((sport = :1) or ((sport = :2) and (sport = :3)))"
    );
    assert_eq!(text("not not sport = :1"), "(not (not (sport = :1)))");
    assert_eq!(
        text("! ( sport = :1 | sport = :2 )"),
        "(not ((sport = :1) or (sport = :2)))"
    );
}

#[test]
fn adjacency_means_and() {
    assert_eq!(
        text("sport = :1 dport = :2"),
        "((sport = :1) and (dport = :2))"
    );
    assert_eq!(
        text("src 127.0.0.1 dst 127.0.0.1 or sport = :3"),
        "(((src 127.0.0.1) and (dst 127.0.0.1)) or (sport = :3))"
    );
    assert_eq!(
        text("sport = :1 not dport = :2"),
        "((sport = :1) and (not (dport = :2)))"
    );
}

#[test]
fn host_spellings() {
    assert_eq!(text("src 127.0.0.1"), "(src 127.0.0.1)");
    assert_eq!(text("src = 127.0.0.1"), "(src 127.0.0.1)");
    assert_eq!(text("src == 127.0.0.1"), "(src 127.0.0.1)");
    assert_eq!(text("dst eq 10.0.0.0/8:443"), "(dst 10.0.0.0/8:443)");
    assert_eq!(text("dst [::1]:22"), "(dst [::1]:22)");
    assert_eq!(text("dst *"), "(dst *)");
}

#[test]
fn single_word_and_file() {
    let a =
        Filter::parse(&["state established ( dport = :443 or dport = :80 )".to_string()]).unwrap();
    let b = f("state established ( dport = :443 or dport = :80 )");
    assert_eq!(a.expr(), b.expr());
    assert_eq!(a.states(false, false), b.states(false, false));
    let c =
        Filter::parse_text("# web\nstate established\n( dport = :443\n# tls\nor dport = :80 )\n")
            .unwrap();
    assert_eq!(c.expr(), b.expr());
    assert_eq!(c.explicit_states(), b.explicit_states());
}

#[test]
fn parse_file_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    std::fs::write(&p, "# comment\nsport = :22\n").unwrap();
    let fl = Filter::parse_file(&p).unwrap();
    assert_eq!(fl.expr_text().unwrap(), "(sport = :22)");
    let e = Filter::parse_file(&dir.path().join("missing")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "filter: cannot read the filter file '{}': No such file or directory",
            dir.path().join("missing").display()
        )
    );
}

// ---- states ----

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

// ---- evaluation ----

#[test]
fn port_conditions() {
    let s = tcp(TcpState::Established, "127.0.0.1", 5000, "127.0.0.1", 80);
    assert!(f("dport = :80").matches(&s));
    assert!(f("dport = :http").matches(&s) || hostcond::parse_port("http").is_err());
    assert!(!f("dport != :80").matches(&s));
    assert!(f("sport > :4999").matches(&s));
    assert!(!f("sport > :5000").matches(&s));
    assert!(f("sport >= :5000").matches(&s));
    assert!(f("sport < :5001").matches(&s));
    assert!(!f("sport < :5000").matches(&s));
    assert!(f("sport <= :5000").matches(&s));
    assert!(f("sport = *").matches(&s));
    assert!(!f("sport != *").matches(&s));
    assert!(f("dport = :80 or sport = :1").matches(&s));
    assert!(!f("dport = :80 and sport = :1").matches(&s));
    assert!(f("not ( dport = :81 )").matches(&s));
}

#[test]
fn address_conditions() {
    let s = tcp(TcpState::Established, "127.0.0.1", 5000, "10.1.2.3", 443);
    assert!(f("src 127.0.0.1").matches(&s));
    assert!(f("src 127.0.0.0/8").matches(&s));
    assert!(f("src 127.0.0.1:5000").matches(&s));
    assert!(!f("src 127.0.0.1:5001").matches(&s));
    assert!(f("dst 10.0.0.0/255.0.0.0:443").matches(&s));
    assert!(f("dst *:443").matches(&s));
    assert!(f("dst *").matches(&s));
    assert!(f("src :5000").matches(&s));
    assert!(!f("src [::1]").matches(&s));
    assert!(!f("src 0.0.0.0").matches(&s));
}

#[test]
fn v4_mapped_and_ipv6() {
    let m = tcp(
        TcpState::Established,
        "::ffff:127.0.0.1",
        8080,
        "::ffff:127.0.0.1",
        40000,
    );
    // An IPv4 condition selects the v4-mapped address (userspace and kernel agree).
    assert!(f("src 127.0.0.1").matches(&m));
    assert!(f("src 127.0.0.0/8").matches(&m));
    assert!(f("src [::ffff:127.0.0.1]").matches(&m));
    // A v4-mapped condition does not select a plain IPv4 socket.
    let v4 = tcp(TcpState::Established, "127.0.0.1", 8080, "127.0.0.1", 40000);
    assert!(!f("src [::ffff:127.0.0.1]").matches(&v4));
    let v6 = tcp(TcpState::Listen, "::1", 8080, "::", 0);
    assert!(f("src [::1]").matches(&v6));
    assert!(f("src [::1]:8080").matches(&v6));
    assert!(f("src ::1/128").matches(&v6));
    assert!(!f("src 127.0.0.1").matches(&v6));
    // 0.0.0.0/0: userspace says "any", the kernel "any IPv4 (or v4-mapped)".
    assert!(!f("src 0.0.0.0/0").matches(&v6));
    assert!(f("src 0.0.0.0/0").matches(&v4));
    assert!(f("src 0.0.0.0/0").matches(&m));
}

#[test]
fn wildcard_listeners() {
    let l = tcp(TcpState::Listen, "0.0.0.0", 22, "0.0.0.0", 0);
    assert!(f("sport = :22").matches(&l));
    assert!(f("dport = :0").matches(&l));
    assert!(f("src 0.0.0.0").matches(&l));
    assert!(!f("src 127.0.0.1").matches(&l));
    assert!(f("dst *").matches(&l));
    let d = tcp(TcpState::Listen, "::", 22, "::", 0);
    assert!(f("sport = :22").matches(&d));
    assert!(!f("src 0.0.0.0").matches(&d));
    assert!(f("src [::]").matches(&d));
}

#[test]
fn unix_sockets() {
    let a = unix(Some("/run/app.sock"), 1000, 2000);
    let b = unix(None, 3000, 0);
    assert!(f("src /run/*").matches(&a));
    assert!(f("src unix:/run/app.sock").matches(&a));
    assert!(!f("src /tmp/*").matches(&a));
    assert!(!f("src /run/*").matches(&b));
    assert!(f("src *").matches(&b));
    // ss does not know the peer's name when filtering: only patterns matching "" match.
    assert!(!f("dst /run/*").matches(&a));
    assert!(f("dst *").matches(&a));
    // Ports are inodes on unix sockets.
    assert!(f("sport = :1000").matches(&a));
    assert!(f("dport = :2000").matches(&a));
    assert!(f("sport > :999").matches(&a));
    // An inet address never matches a unix socket.
    assert!(!f("src 127.0.0.1").matches(&a));
    assert!(f("not src 127.0.0.1").matches(&a));
    // A unix pattern restricts the listing to unix sockets, as ss does.
    let t = tcp(TcpState::Established, "127.0.0.1", 1, "127.0.0.1", 2);
    assert!(!f("not src /run/*").matches(&t));
    assert!(f("src /run/*").bytecode().is_none());
    let auto = unix(Some("@0a1b2"), 5, 0);
    assert!(f("autobound").matches(&auto));
    assert!(f("autobound").matches(&b));
    assert!(!f("autobound").matches(&a));
}

#[test]
fn predicate_agrees_with_matches() {
    let fl = f("dport = :80");
    let p = fl.predicate().unwrap();
    let s = tcp(TcpState::Established, "127.0.0.1", 5000, "127.0.0.1", 80);
    assert!(p(&s));
    let s2 = tcp(TcpState::Established, "127.0.0.1", 5000, "127.0.0.1", 81);
    assert!(!p(&s2));
}

// ---- bytecode ----

fn ne16(v: u16) -> [u8; 2] {
    v.to_ne_bytes()
}

fn hostcond(code: u8, fam: u8, plen: u8, port: i32, addr: &[u8]) -> Vec<u8> {
    let oplen = 12 + addr.len();
    let mut v = vec![code, oplen as u8];
    v.extend_from_slice(&ne16(oplen as u16 + 4));
    v.extend_from_slice(&[fam, plen, 0, 0]);
    v.extend_from_slice(&port.to_ne_bytes());
    v.extend_from_slice(addr);
    v
}

fn jmp(no: u16) -> Vec<u8> {
    let mut v = vec![bytecode::JMP, 4];
    v.extend_from_slice(&ne16(no));
    v
}

#[test]
fn bytecode_port_equal() {
    let bc = f("dport = :443").bytecode().unwrap();
    assert_eq!(bc, hostcond(bytecode::D_COND, 0, 0, 443, &[0; 4]));
    assert!(bytecode::audit(&bc));
}

#[test]
fn bytecode_port_ranges_and_not() {
    let bc = f("sport >= :1024").bytecode().unwrap();
    let mut want = vec![bytecode::S_GE, 8];
    want.extend_from_slice(&ne16(12));
    want.extend_from_slice(&[0, 0]);
    want.extend_from_slice(&ne16(1024));
    assert_eq!(bc, want);
    // '>' is not '<=': the compare, then JMP {4, 8}.
    let bc = f("dport > :1024").bytecode().unwrap();
    let mut want = vec![bytecode::D_LE, 8];
    want.extend_from_slice(&ne16(12));
    want.extend_from_slice(&[0, 0]);
    want.extend_from_slice(&ne16(1024));
    want.extend(jmp(8));
    assert_eq!(bc, want);
    assert!(bytecode::audit(&bc));
}

#[test]
fn bytecode_and_or() {
    // or: A, JMP {4, len(B)+4}, B.
    let bc = f("dport = :80 or dport = :443").bytecode().unwrap();
    let mut want = hostcond(bytecode::D_COND, 0, 0, 80, &[0; 4]);
    want.extend(jmp(20));
    want.extend(hostcond(bytecode::D_COND, 0, 0, 443, &[0; 4]));
    assert_eq!(bc, want);
    assert!(bytecode::audit(&bc));
    // and: A with its false exit patched past B.
    let bc = f("src 127.0.0.1 and sport = :22").bytecode().unwrap();
    let mut a = hostcond(
        bytecode::S_COND,
        libc::AF_INET as u8,
        32,
        -1,
        &[127, 0, 0, 1],
    );
    a[2..4].copy_from_slice(&ne16(20 + 16));
    a.extend(hostcond(bytecode::S_COND, 0, 0, 22, &[0; 4]));
    assert_eq!(bc, a);
    assert!(bytecode::audit(&bc));
}

#[test]
fn bytecode_ipv6_prefix() {
    let bc = f("dst [fe80::/10]:22").bytecode().unwrap();
    let mut addr = [0u8; 16];
    addr[0] = 0xfe;
    addr[1] = 0x80;
    assert_eq!(
        bc,
        hostcond(bytecode::D_COND, libc::AF_INET6 as u8, 10, 22, &addr)
    );
    assert!(bytecode::audit(&bc));
}

#[test]
fn bytecode_runs_like_userspace() {
    let socks = [
        tcp(TcpState::Established, "127.0.0.1", 5000, "127.0.0.1", 80),
        tcp(TcpState::Listen, "0.0.0.0", 22, "0.0.0.0", 0),
        tcp(TcpState::Listen, "::", 8080, "::", 0),
        tcp(
            TcpState::Established,
            "::ffff:127.0.0.1",
            8080,
            "::ffff:127.0.0.1",
            4444,
        ),
        tcp(TcpState::Established, "::1", 7000, "::1", 7001),
    ];
    for e in [
        "dport = :80",
        "not dport = :80",
        "sport > :1000 and not ( dst 127.0.0.1 or dport < :100 )",
        "src 127.0.0.1 or src [::1] or sport = :22",
        "( sport = :22 or sport = :8080 ) ( dst * )",
        "src [::ffff:127.0.0.1]",
        "dport != :4444 ! src 127.0.0.0/8",
    ] {
        let fl = f(e);
        let bc = fl.bytecode().unwrap();
        assert!(bytecode::audit(&bc), "{e}");
        for s in &socks {
            let entry = Entry::from_socket(s).unwrap();
            assert_eq!(
                bytecode::run(&bc, &entry),
                eval::eval(fl.expr().unwrap(), s),
                "{e} on {s:?}"
            );
        }
    }
}

#[test]
fn audit_rejects_bad_programs() {
    assert!(!bytecode::audit(&[]));
    assert!(!bytecode::audit(&[bytecode::JMP, 4, 3, 0]));
    assert!(!bytecode::audit(&[99, 4, 8, 0]));
    let mut bc = f("dport = :80").bytecode().unwrap();
    bc.truncate(12);
    assert!(!bytecode::audit(&bc));
}

#[test]
fn disassembly() {
    let fl = f("dport = :80 or not src 10.0.0.0/8");
    let lines = bytecode::disassemble(&fl.bytecode().unwrap());
    assert_eq!(lines.len(), 4);
    assert!(lines[0].contains("D_COND") && lines[0].contains("port 80"));
    assert!(lines[1].contains("JMP") && lines[1].contains("goto accept"));
    assert!(lines[2].contains("S_COND") && lines[2].contains("10.0.0.0/8"));
    assert!(lines[3].contains("JMP") && lines[3].contains("goto reject"));
}

#[test]
fn explain_text() {
    let x = f("state established dport = :443 or dport = :80").explain(false, false);
    assert!(
        x.starts_with("expression: ((dport = :443) or (dport = :80))\n"),
        "{x}"
    );
    assert!(x.contains("states:     established (from the state/exclude clauses)"));
    assert!(x.contains("bytecode:   36 bytes"));
    assert!(x.contains("D_COND"));
    assert!(x.contains("userspace:"));
    let y = f("").explain(true, false);
    assert!(
        y.contains("listening closed") || y.contains("closed listening"),
        "{y}"
    );
    assert!(y.contains("default for -l"));
    let z = f("src /tmp/*").explain(false, true);
    assert!(z.contains("bytecode:   none"));
}

// ---- errors ----

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
fn unix_mode_reads_operands_as_patterns() {
    let opts = ParseOptions { unix: true };
    let fl = Filter::parse_with(&w("src /run/* or sport = :22"), opts).unwrap();
    assert_eq!(fl.family_only(), Some(FamilyOnly::Unix));
    assert!(fl.bytecode().is_none());
    let a = unix(Some("/run/app.sock"), 1000, 2000);
    assert!(fl.matches(&a));
    let b = unix(Some(":22"), 1001, 0);
    assert!(fl.matches(&b));
    let c = unix(Some("/tmp/x"), 22, 0);
    assert!(!fl.matches(&c));
    // Orderings compare the inode with -1 (ss's "no port").
    let gt = Filter::parse_with(&w("sport gt :99999"), opts).unwrap();
    assert!(gt.matches(&c));
    let lt = Filter::parse_with(&w("sport lt :1"), opts).unwrap();
    assert!(!lt.matches(&c));
    // An address is a pattern too, and never an error.
    let ip = Filter::parse_with(&w("src 127.0.0.1"), opts).unwrap();
    assert!(!ip.matches(&a));
    let t = tcp(TcpState::Established, "127.0.0.1", 1, "127.0.0.1", 2);
    assert!(!ip.matches(&t));
    assert_eq!(ip.expr_text().unwrap(), "(src 127.0.0.1)");
    assert_eq!(
        Filter::parse_with(&w("dport = x"), opts)
            .unwrap()
            .expr_text()
            .unwrap(),
        "(dport = unix:x)"
    );
}

#[test]
fn attached_parentheses_are_explained() {
    assert_eq!(
        err("(dport = :80 )"),
        "filter: '(dport': parentheses must be separate words, as in ss ('( dport = :80 )')\n  \
         (dport = :80 )\n  ^^^^^^"
    );
}
