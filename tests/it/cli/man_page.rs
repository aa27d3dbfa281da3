//! The committed man/sockeye.1 must be what `sockeye::man::render()` produces from the current
//! CLI. Regenerate with: SOCKEYE_UPDATE_MAN=1 cargo test --test it cli::man_page

use std::path::PathBuf;
use std::process::Command;

use clap::CommandFactory;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man/sockeye.1")
}

fn page() -> String {
    String::from_utf8(sockeye::man::render()).expect("the page is UTF-8")
}

#[test]
fn committed_man_page_is_up_to_date() {
    let generated = sockeye::man::render();
    let path = committed_path();
    if std::env::var_os("SOCKEYE_UPDATE_MAN").is_some() {
        std::fs::write(&path, &generated).expect("write man/sockeye.1");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "man/sockeye.1 is out of date with the CLI definitions (src/cli.rs) or src/man/.\n\
         It is a generated file: regenerate it and commit the result with\n\
         \n    SOCKEYE_UPDATE_MAN=1 cargo test --test it cli::man_page\n"
    );
}

#[test]
fn every_subcommand_and_long_flag_is_in_the_page() {
    let page = page();
    let cmd = sockeye::cli::Cli::command();
    for sub in cmd.get_subcommands() {
        let heading = format!(".SS \"sockeye {}\"", sub.get_name());
        assert!(page.contains(&heading), "no section for {}", sub.get_name());
        for arg in sub.get_arguments() {
            if let Some(long) = arg.get_long() {
                // roff writes '-' as '\-'.
                let flag = format!("\\-\\-{}", long.replace('-', "\\-"));
                assert!(
                    page.contains(&flag),
                    "--{long} of {} is not in the page",
                    sub.get_name()
                );
            }
        }
    }
}

#[test]
fn hand_written_sections_are_present() {
    let page = page();
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "COMMANDS",
        "\"LIVE VIEW\"",
        "FILTERS",
        "\"TCP STATES\"",
        "QUEUES",
        "\"DEMO SCENARIOS\"",
        "CONFIGURATION",
        "FILES",
        "ENVIRONMENT",
        "\"EXIT STATUS\"",
        "\"SEE ALSO\"",
    ] {
        assert!(
            page.contains(&format!("\n.SH {section}\n")),
            "section {section} missing"
        );
    }
    for needle in [
        "NO_COLOR",
        "XDG_CONFIG_HOME",
        "XDG_RUNTIME_DIR",
        "CLOSE\\-WAIT",
    ] {
        assert!(page.contains(needle), "{needle} not mentioned");
    }
}

#[test]
fn groff_renders_the_page_without_warnings() {
    if !crate::common::require_tool("groff", "groff-base") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sockeye.1");
    std::fs::write(&file, sockeye::man::render()).expect("write page");
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-rLL=100n"])
        .arg(&file)
        .output()
        .expect("run groff");
    assert!(out.status.success(), "groff failed");
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(warnings.trim().is_empty(), "groff warnings:\n{warnings}");
    let text = without_overstrike(&String::from_utf8_lossy(&out.stdout));
    assert!(
        text.contains("sockeye dump"),
        "rendered text lacks the commands"
    );
    assert!(text.contains("EXIT STATUS"));
}

/// groff's terminal output makes bold by overstriking (`X\x08X`); keep the plain text.
fn without_overstrike(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\x08' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out
}
