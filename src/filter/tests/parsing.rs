//! Parsing: operator and boolean spellings, grouping, hosts, filter files.

use super::*;

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
