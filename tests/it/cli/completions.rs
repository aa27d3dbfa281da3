//! `sockeye completions SHELL`: every shell gets a script that knows the subcommands and
//! flags; bash's parses.

use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;

fn script(shell: &str) -> String {
    let out = cargo_bin_cmd!("sockeye")
        .args(["completions", shell])
        .output()
        .expect("run sockeye");
    assert!(out.status.success(), "completions {shell} failed");
    assert!(out.stderr.is_empty(), "completions {shell} wrote to stderr");
    String::from_utf8(out.stdout).expect("UTF-8 script")
}

#[test]
fn every_shell_knows_subcommands_and_flags() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let text = script(shell);
        assert!(text.len() > 500, "{shell}: script is suspiciously short");
        // Flags without dashes: fish writes `-l listening`.
        for word in [
            "dump",
            "demo",
            "attach",
            "export",
            "listening",
            "json",
            "no-config",
        ] {
            assert!(text.contains(word), "{shell}: script lacks {word}");
        }
        // Value enums complete their values.
        assert!(
            text.contains("time-wait"),
            "{shell}: scenario values missing"
        );
    }
}

#[test]
fn bash_script_is_valid_syntax() {
    let text = script("bash");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sockeye.bash");
    std::fs::write(&file, text).expect("write script");
    let status = Command::new("bash")
        .arg("-n")
        .arg(&file)
        .status()
        .expect("run bash -n");
    assert!(status.success(), "bash -n rejects the completion script");
}

#[test]
fn bash_completes_subcommands() {
    // Load the script and ask the completion function what `sockeye d<TAB>` offers.
    let text = script("bash");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sockeye.bash");
    std::fs::write(&file, text).expect("write script");
    let probe = format!(
        "source {}; COMP_WORDS=(sockeye d); COMP_CWORD=1; COMP_LINE='sockeye d'; \
         COMP_POINT=9; _sockeye sockeye d sockeye; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &probe])
        .output()
        .expect("run bash");
    let offered = String::from_utf8_lossy(&out.stdout);
    assert!(
        offered.lines().any(|l| l == "dump") && offered.lines().any(|l| l == "demo"),
        "bash offered {offered:?} for `sockeye d`"
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    cargo_bin_cmd!("sockeye")
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}
