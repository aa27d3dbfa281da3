//! What `--help` and `--version` say: every subcommand's help ends with examples, and the
//! version carries the git revision (or "unknown" outside a git checkout).

use assert_cmd::cargo::cargo_bin_cmd;
use clap::CommandFactory;

#[test]
fn every_subcommand_help_ends_with_examples() {
    let cmd = sockeye::cli::Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    assert!(names.len() >= 7, "subcommands: {names:?}");
    for name in names {
        let out = cargo_bin_cmd!("sockeye")
            .args([name.as_str(), "--help"])
            .output()
            .expect("run sockeye");
        assert!(out.status.success(), "{name} --help failed");
        let help = String::from_utf8(out.stdout).expect("UTF-8 help");
        let (_, examples) = help
            .split_once("\nExamples:\n")
            .unwrap_or_else(|| panic!("`sockeye {name} --help` has no Examples: section"));
        // The examples come last, and at least one runs this very subcommand.
        let lines: Vec<&str> = examples.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(!lines.is_empty(), "{name}: empty Examples section");
        assert!(
            lines.iter().all(|l| l.starts_with("  ")),
            "{name}: something follows the examples: {lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.trim_start().starts_with(&format!("sockeye {name}"))),
            "{name}: no example runs `sockeye {name}`"
        );
    }
}

#[test]
fn version_names_the_git_revision() {
    let out = cargo_bin_cmd!("sockeye").arg("--version").output().unwrap();
    assert!(out.status.success());
    let version = String::from_utf8(out.stdout).unwrap();
    let expected_prefix = format!("sockeye {} (git ", env!("CARGO_PKG_VERSION"));
    assert!(version.starts_with(&expected_prefix), "{version:?}");
    let revision = version
        .trim_end()
        .strip_prefix(&expected_prefix)
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_default();
    assert!(
        revision == "unknown"
            || (revision.len() >= 7 && revision.chars().all(|c| c.is_ascii_hexdigit())),
        "revision {revision:?}"
    );
}
