//! Found by using the product as its users do (QA): each test is one such finding.

use std::process::Command;

fn sockeye(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .args(args)
        .output()
        .expect("run sockeye")
}

#[test]
fn options_may_follow_the_filter_as_with_ss() {
    // `ss -t sport = :22 -n` works (getopt permutes); so must sockeye's.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let p = format!(":{port}");
    let o = sockeye(&["dump", "-t", "sport", "=", &p, "-l", "-n", "-H"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert!(
        rows[0].contains(&format!("127.0.0.1:{port} ")),
        "-n applied: {out}"
    );
}

#[test]
fn an_unknown_option_is_called_an_option() {
    for args in [
        &["dump", "--bogus"][..],
        // -Z is ss's (SELinux contexts) now; -Y is nobody's.
        &["dump", "-t", "sport", "=", ":22", "-Y"],
    ] {
        let o = sockeye(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("unexpected argument") && !err.contains("filter keyword"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn live_view_options_work_without_the_tui_subcommand() {
    // `sockeye` is `sockeye tui`, so `sockeye -N` was "unexpected argument '-N'". The bad
    // interval proves the options reached the live view (which then stops before any drawing).
    let o = sockeye(&["--no-config", "-N", "-t", "--interval", "0.1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("interval must be between 0.2 and 60"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // A mistyped subcommand is still named as one.
    let o = sockeye(&["dmup"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("'dump'"));
}
