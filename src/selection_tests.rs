//! The resolver, tested once for every front end.

use super::*;
use crate::filter::state::{default_set, listening_set};

fn sel(f: impl FnOnce(&mut SelectArgs)) -> SelectArgs {
    let mut s = SelectArgs::default();
    f(&mut s);
    s
}

fn words(w: &str) -> Vec<String> {
    w.split_whitespace().map(str::to_string).collect()
}

fn resolve(s: &SelectArgs, options: Options) -> Result<Selection, UsageError> {
    Request::from_args(s, &Config::default(), options)?.resolve()
}

fn dump(f: impl FnOnce(&mut SelectArgs)) -> Query {
    resolve(&sel(f), Options::DUMP).unwrap().query
}

fn live(f: impl FnOnce(&mut SelectArgs)) -> Query {
    resolve(&sel(f), Options::LIVE).unwrap().query
}

fn err(s: &SelectArgs, options: Options) -> String {
    match resolve(s, options) {
        Ok(_) => panic!("resolved"),
        Err(e) => e.0,
    }
}

const INET: [Netid; 6] = [
    Netid::Tcp,
    Netid::Udp,
    Netid::Raw,
    Netid::Mptcp,
    Netid::Dccp,
    Netid::Sctp,
];
const UNIX: [Netid; 3] = [Netid::UnixStream, Netid::UnixDgram, Netid::UnixSeqpacket];

#[test]
fn no_flags_mean_every_table_and_both_families() {
    assert_eq!(
        tables(&sel(|_| {})),
        (NetidSet::of_kinds(Netid::in_ss_default), true, true)
    );
    let q = dump(|_| {});
    assert_eq!(
        (q.netids, q.ipv4, q.ipv6),
        (NetidSet::of_kinds(Netid::in_ss_default), true, true)
    );
    assert_eq!(q.states, default_set());
    assert_eq!(q.source, SourcePref::Auto);
    assert!(q.keep.is_none() && q.bytecode.is_none());
}

#[test]
fn a_family_flag_alone_means_inet_tables_of_that_family() {
    let inet = NetidSet::of(&INET);
    assert_eq!(tables(&sel(|s| s.ipv4 = true)), (inet, true, false));
    assert_eq!(tables(&sel(|s| s.ipv6 = true)), (inet, false, true));
    let both = sel(|s| {
        s.ipv4 = true;
        s.ipv6 = true;
    });
    assert_eq!(tables(&both), (inet, true, true));
}

#[test]
fn table_flags_combine() {
    let q = dump(|s| {
        s.tcp = true;
        s.unix = true;
        s.ipv6 = true;
    });
    assert!(q.netids.contains(Netid::Tcp) && q.netids.contains(Netid::UnixDgram));
    assert!(!q.netids.contains(Netid::Udp));
    assert_eq!((q.ipv4, q.ipv6), (false, true));
    assert_eq!(dump(|s| s.udp = true).netids, NetidSet::of(&[Netid::Udp]));
    assert_eq!(dump(|s| s.unix = true).netids, NetidSet::of(&UNIX));
    let tu = dump(|s| {
        s.tcp = true;
        s.udp = true;
    });
    assert_eq!(tu.netids, NetidSet::of(&[Netid::Tcp, Netid::Udp]));
}

#[test]
fn listening_and_all_as_ss() {
    assert_eq!(dump(|s| s.listening = true).states, listening_set());
    assert_eq!(dump(|s| s.all = true).states, StateSet::ALL);
    let la = dump(|s| {
        s.listening = true;
        s.all = true;
    });
    assert_eq!(la.states, StateSet::ALL);
}

#[test]
fn a_udp_only_dump_defaults_to_connected_udp() {
    let est = StateSet::of(&[TcpState::Established]);
    assert_eq!(dump(|s| s.udp = true).states, est);
    // Not with -l/-a, an explicit state, another table, or in the live view.
    assert_eq!(
        dump(|s| {
            s.udp = true;
            s.all = true
        })
        .states,
        StateSet::ALL
    );
    assert_eq!(
        dump(|s| {
            s.udp = true;
            s.filter = words("state listening");
        })
        .states,
        StateSet::of(&[TcpState::Listen])
    );
    let tu = dump(|s| {
        s.udp = true;
        s.tcp = true;
    });
    assert_eq!(tu.states, default_set());
    assert_eq!(live(|s| s.udp = true).states, StateSet::ALL);
}

#[test]
fn a_named_family_adds_its_default_states() {
    let est = StateSet::of(&[TcpState::Established]);
    // ss's filter_af_set: -4 (inet) adds the connected states to UDP's ESTAB...
    let u4 = dump(|s| {
        s.udp = true;
        s.ipv4 = true;
    });
    assert_eq!(u4.states, default_set().union(est));
    // ...-0 (link) adds UNCONN...
    let u0 = dump(|s| {
        s.udp = true;
        s.packet = true;
    });
    assert_eq!(u0.states, est.union(StateSet::of(&[TcpState::Close])));
    // ...and -A leaves ss's connected states alone.
    let a4 = dump(|s| {
        s.query = vec!["udp".into()];
        s.ipv4 = true;
    });
    assert_eq!(a4.states, default_set());
}

#[test]
fn state_sets_from_the_filter() {
    let q = dump(|s| s.filter = words("state time-wait state syn-sent"));
    assert_eq!(
        q.states,
        StateSet::of(&[TcpState::TimeWait, TcpState::SynSent])
    );
    // An explicit set wins over -l.
    let q = dump(|s| {
        s.listening = true;
        s.filter = words("state established");
    });
    assert_eq!(q.states, StateSet::of(&[TcpState::Established]));
    // Excluding everything is an error in every front end (the live view used to show all).
    for options in [Options::DUMP, Options::LIVE] {
        let s = sel(|s| s.filter = words("exclude all"));
        assert_eq!(
            err(&s, options),
            "no socket states to show with such filter"
        );
    }
}

#[test]
fn the_live_view_shows_every_state_unless_listening() {
    assert_eq!(live(|_| {}).states, StateSet::ALL);
    assert_eq!(live(|s| s.listening = true).states, listening_set());
    let la = live(|s| {
        s.listening = true;
        s.all = true;
    });
    assert_eq!(la.states, StateSet::ALL);
    let q = live(|s| s.filter = words("state close-wait"));
    assert_eq!(q.states, StateSet::of(&[TcpState::CloseWait]));
    // The export is the live view's selection without flags.
    let e = resolve(&SelectArgs::default(), Options::EXPORT)
        .unwrap()
        .query;
    assert_eq!(
        (e.netids, e.states),
        (NetidSet::of_kinds(Netid::in_ss_default), StateSet::ALL)
    );
}

#[test]
fn filter_operands_narrow_families_and_tables() {
    let q = dump(|s| s.filter = words("src inet6:[::1]"));
    assert_eq!(
        (q.netids, q.ipv4, q.ipv6),
        (NetidSet::of(&INET), false, true)
    );
    assert!(q.keep.is_some());
    let q = dump(|s| s.filter = words("dst inet:127.0.0.1"));
    assert_eq!(
        (q.netids, q.ipv4, q.ipv6),
        (NetidSet::of(&INET), true, false)
    );
    let q = dump(|s| s.filter = words("src unix:/run/*"));
    assert_eq!(q.netids, NetidSet::of(&UNIX));
    // The same rules in the live view.
    let q = live(|s| s.filter = words("src inet6:[::1]"));
    assert_eq!((q.ipv4, q.ipv6), (false, true));
    // Nothing left: usage errors.
    let s = sel(|s| {
        s.ipv4 = true;
        s.filter = words("src inet6:[::1]");
    });
    assert_eq!(
        err(&s, Options::DUMP),
        "no families to show with such filter"
    );
    let s = sel(|s| {
        s.tcp = true;
        s.filter = words("src unix:/x");
    });
    assert_eq!(
        err(&s, Options::LIVE),
        "no socket tables to show with such filter"
    );
}

#[test]
fn dash_x_reads_operands_as_unix_paths() {
    // `sport = NAME` is a bad port without -x, a path pattern with it.
    let s = sel(|s| s.filter = words("sport = *web.sock"));
    assert!(resolve(&s, Options::DUMP).is_err());
    let x = sel(|s| {
        s.unix = true;
        s.filter = words("sport = *web.sock");
    });
    assert!(resolve(&x, Options::DUMP).unwrap().query.keep.is_some());
    // The filter bar of a live view started with -x reads them so too.
    let r = Request::from_args(&x, &Config::default(), Options::LIVE).unwrap();
    assert!(r.resolve_words(&words("src *.sock")).is_ok());
}

#[test]
fn filter_errors_are_usage_errors_with_a_caret() {
    let s = sel(|s| s.filter = words("dport = :80 foo"));
    let e = err(&s, Options::DUMP);
    assert!(e.contains('^'), "{e}");
}

#[test]
fn the_summary_counts_every_tcp_state() {
    let q = resolve(&sel(|s| s.filter = words("dport = :80")), Options::SUMMARY)
        .unwrap()
        .query;
    assert_eq!(q.netids, NetidSet::of(&[Netid::Tcp]));
    assert_eq!(q.states, StateSet::ALL);
    assert!(q.keep.is_none() && q.bytecode.is_none());
}

#[test]
fn source_flag() {
    let q = dump(|s| s.source = SourceArg::Proc);
    assert_eq!(q.source, SourcePref::Proc);
    assert!(
        resolve(&sel(|s| s.source = SourceArg::Proc), Options::DUMP)
            .unwrap()
            .explain()
            .contains("none: --source proc reads /proc/net")
    );
}

#[test]
fn filter_files_follow_the_command_line_words() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("filter");
    std::fs::write(&file, "# web\n( dport = :443\n# tls\nor dport = :80 )\n").unwrap();
    let s = sel(|s| {
        s.filter = words("state established");
        s.filter_file = Some(file.clone());
    });
    let r = Request::from_args(&s, &Config::default(), Options::DUMP).unwrap();
    let d = r.resolve().unwrap();
    assert_eq!(d.query.states, StateSet::of(&[TcpState::Established]));
    assert_eq!(
        d.filter.expr_text().unwrap(),
        "((dport = :443) or (dport = :80))"
    );
    // The live view's filter bar gets the same filter as words, in the same order.
    let live = Request::from_args(&s, &Config::default(), Options::LIVE).unwrap();
    let w = live.filter_words();
    assert_eq!(
        w.join(" "),
        "state established ( dport = :443 or dport = :80 )"
    );
    let l = live.resolve_words(&w).unwrap();
    assert_eq!(l.filter.expr_text(), d.filter.expr_text());
    assert_eq!(l.query.states, d.query.states);
}

#[test]
fn unreadable_filter_files_are_one_line_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = sel(|s| s.filter_file = Some(dir.path().join("none")));
    for options in [Options::DUMP, Options::LIVE] {
        let e = err(&missing, options);
        assert!(
            e.starts_with("cannot read filter file ") && e.contains("No such file"),
            "{e}"
        );
    }
    let d = sel(|s| s.filter_file = Some(dir.path().to_owned()));
    assert!(err(&d, Options::DUMP).ends_with("it is a directory, not a regular file"));
    let z = sel(|s| s.filter_file = Some("/dev/zero".into()));
    assert!(err(&z, Options::DUMP).ends_with("it is a character device, not a regular file"));
    // `-` is standard input for dump; the live view reads keys there.
    let dash = sel(|s| s.filter_file = Some("-".into()));
    assert!(err(&dash, Options::LIVE).contains("give -F a file, not '-'"));
    assert!(!err(&dash, Options::LIVE).contains('\n'));
}

#[test]
fn the_configuration_sets_numeric_and_the_flag_still_wins() {
    let mut config = Config::default();
    let r = Request::from_args(&SelectArgs::default(), &config, Options::DUMP).unwrap();
    assert!(!r.resolve().unwrap().numeric);
    config.view.numeric = Some(true);
    let r = Request::from_args(&SelectArgs::default(), &config, Options::DUMP).unwrap();
    assert!(r.resolve().unwrap().numeric);
    config.view.numeric = Some(false);
    let r = Request::from_args(&sel(|s| s.numeric = true), &config, Options::DUMP).unwrap();
    assert!(r.numeric);
}

#[test]
fn explain_names_tables_families_and_requests() {
    let s = sel(|s| {
        s.tcp = true;
        s.ipv4 = true;
    });
    let text = resolve(&s, Options::DUMP).unwrap().explain();
    assert!(text.contains("tables:     tcp\n"), "{text}");
    assert!(text.contains("families:   ipv4\n"), "{text}");
    assert!(text.contains("tcp/ipv4"), "{text}");
}

#[test]
fn split_words_handles_quotes_and_parens() {
    assert_eq!(
        split_words("state established '(' dport = :443 or(dport = :80)"),
        words("state established ( dport = :443 or ( dport = :80 )")
    );
    assert_eq!(split_words("src \"a b\""), vec!["src", "a b"]);
    assert!(split_words("   ").is_empty());
}
