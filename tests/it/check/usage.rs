//! check's exit statuses for what is not a finding: usage errors and bad thresholds exit 3.

use std::process::Command;

use crate::demo::support::BIN;

fn status(args: &[&str], config: Option<&str>) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    if let Some(text) = config {
        std::fs::create_dir_all(home.path().join("sockeye")).unwrap();
        std::fs::write(home.path().join("sockeye/config.toml"), text).unwrap();
    }
    let out = Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", home.path())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn usage_errors_exit_3_not_2() {
    let (code, _, err) = status(&["check", "--bogus"], None);
    assert_eq!(code, 3, "{err}");
    let (code, _, err) = status(&["check", "state", "nosuch"], None);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("not a state name"), "{err}");
    let (code, _, err) = status(&["check", "--window", "0.1"], None);
    assert_eq!(code, 3);
    assert!(err.contains("--window 0.1 is out of range"), "{err}");
    // The rest of sockeye keeps its table: a usage error is 2.
    assert_eq!(status(&["dump", "--bogus"], None).0, 2);
    let (code, out, _) = status(&["check", "--help"], None);
    assert_eq!(code, 0);
    assert!(out.contains("3 could not check"), "{out}");
}

#[test]
fn a_bad_findings_threshold_is_a_config_error_exit_3() {
    let (code, _, err) = status(
        &["check", "--window", "0.5"],
        Some("[findings]\nport_pressure_warn = 0.95\n"),
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("findings.port_pressure_warn"), "{err}");
    assert!(err.contains("above port_pressure_critical"), "{err}");
    let (code, _, err) = status(
        &["check", "--window", "0.5"],
        Some("[findings]\nnope = 1\n"),
    );
    assert_eq!(code, 3, "{err}");
}

#[test]
fn a_closed_pipe_is_quiet_with_json_too() {
    // `sockeye check --json | true` printed "sockeye: Broken pipe": serde_json's error hid
    // the closed pipe from the check for one; the text output was quiet.
    for json in [true, false] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sockeye"));
        cmd.args([
            "--no-config",
            "check",
            "--window",
            "0.5",
            "-t",
            "sport",
            "=",
            ":1",
        ]);
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run sockeye");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(3), "json {json}");
        assert!(
            out.stderr.is_empty(),
            "json {json}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
