//! Errors that would echo megabytes: a huge filter on the command line or in a -F file is
//! quoted as a short window with the caret, and is still a usage error (exit 2).

use std::io::Write;
use std::process::{Command, Output};

fn sockeye(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .arg("--no-config")
        .args(args)
        .output()
        .expect("run sockeye")
}

fn assert_short_usage_error(what: &str, o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert!(
        o.stderr.len() < 1024,
        "{what}: {} bytes of stderr",
        o.stderr.len()
    );
    assert!(err.starts_with("sockeye: filter: "), "{what}: {err}");
    assert!(err.contains('^'), "{what}: a caret: {err}");
}

#[test]
fn ten_thousand_parentheses_give_a_short_error() {
    let word = "(".repeat(10_000);
    assert_short_usage_error("one word", &sockeye(&["dump", &word]));
    let spaced = "( ".repeat(10_000);
    assert_short_usage_error("separate words", &sockeye(&["dump", &spaced]));
    let nested = format!("{}sport = :22{}", "( ".repeat(300), " )".repeat(300));
    assert_short_usage_error("too deep", &sockeye(&["dump", &nested]));
}

#[test]
fn a_fifty_megabyte_filter_file_gives_a_short_error() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("one line", "( ".repeat(25 * 1024 * 1024)),
        ("one word", "x".repeat(50 * 1024 * 1024)),
        (
            "many lines",
            "sport = :22 or\n".repeat(50 * 1024 * 1024 / 15),
        ),
    ];
    for (what, text) in cases {
        let path = dir.path().join("filter");
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .unwrap();
        let o = sockeye(&["dump", "-F", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(o.stderr.len() < 1024, "{what}: {} bytes", o.stderr.len());
        assert_ne!(o.status.code(), Some(101), "{what}: {err}");
    }
}
