//! `sockeye config` and the configuration file as the user meets them: path, sample, errors
//! naming file, line and key with exit 2, --no-config.

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

/// sockeye with a private XDG_CONFIG_HOME (and HOME), so the user's real file never matters.
fn sockeye(config_home: &Path) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("sockeye");
    cmd.env("XDG_CONFIG_HOME", config_home)
        .env("HOME", config_home.join("home"));
    cmd
}

fn write_config(config_home: &Path, text: &str) -> std::path::PathBuf {
    let dir = config_home.join("sockeye");
    std::fs::create_dir_all(&dir).expect("config dir");
    let file = dir.join("config.toml");
    std::fs::write(&file, text).expect("write config");
    file
}

#[test]
fn path_follows_xdg_config_home_then_home() {
    let dir = tempfile::tempdir().unwrap();
    let expected = dir.path().join("sockeye/config.toml");
    sockeye(dir.path())
        .args(["config", "--path"])
        .assert()
        .success()
        .stdout(format!("{}\n", expected.display()));

    let home = dir.path().join("home");
    cargo_bin_cmd!("sockeye")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", &home)
        .args(["config", "--path"])
        .assert()
        .success()
        .stdout(format!(
            "{}\n",
            home.join(".config/sockeye/config.toml").display()
        ));
}

#[test]
fn print_default_is_the_sample_and_parses() {
    let dir = tempfile::tempdir().unwrap();
    let out = sockeye(dir.path())
        .args(["config", "--print-default"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, sockeye::config::DEFAULT_CONFIG);
    assert!(
        text.lines().filter(|l| l.starts_with('#')).count() > 10,
        "it is commented"
    );

    // Written where sockeye looks, it is accepted and changes nothing.
    write_config(dir.path(), &text);
    sockeye(dir.path())
        .arg("config")
        .assert()
        .success()
        .stdout(predicate::str::contains("interval = 1.0"));
}

#[test]
fn config_shows_the_settings_in_effect() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(
        dir.path(),
        "[view]\ninterval = 2.5\ndefault = \"listeners\"\n",
    );
    sockeye(dir.path()).arg("config").assert().success().stdout(
        predicate::str::contains(file.display().to_string())
            .and(predicate::str::contains("interval = 2.5"))
            .and(predicate::str::contains("default = \"listeners\"")),
    );
    // --no-config: the file is not read.
    sockeye(dir.path())
        .args(["--no-config", "config"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("--no-config").and(predicate::str::contains("interval = 1.0")),
        );
}

#[test]
fn tui_read_only_is_a_setting_and_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    sockeye(dir.path())
        .arg("config")
        .assert()
        .success()
        .stdout(predicate::str::contains("[tui]\nread_only = false"));
    write_config(dir.path(), "[tui]\nread_only = true\n");
    sockeye(dir.path())
        .arg("config")
        .assert()
        .success()
        .stdout(predicate::str::contains("read_only = true"));
    write_config(dir.path(), "[tui]\nread_only = 1\n");
    sockeye(dir.path())
        .arg("config")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 2, key 'tui.read_only'"));
    // The flag is accepted (without a terminal the live view then refuses to start).
    sockeye(dir.path())
        .args(["--no-config", "tui", "--read-only", "-t"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("needs a terminal")
                .and(predicate::str::contains("--read-only").not()),
        );
    sockeye(dir.path())
        .args(["tui", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--read-only"));
}

#[test]
fn a_missing_file_means_defaults() {
    let dir = tempfile::tempdir().unwrap();
    sockeye(dir.path())
        .arg("config")
        .assert()
        .success()
        .stdout(predicate::str::contains("does not exist"));
}

/// Every bad fixture fails with exit 2 and one message naming file, line and key.
#[test]
fn bad_files_fail_naming_file_line_and_key() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("bad-") {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        // The fixture's first line says what is expected: `# expect: LINE KEY`.
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{name}: first line must be `# expect: LINE KEY`"));
        let (line, key) = expect.split_once(' ').unwrap();

        let dir = tempfile::tempdir().unwrap();
        let file = write_config(dir.path(), &text);
        let out = sockeye(dir.path()).arg("config").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: printed settings anyway");
        assert!(
            stderr.starts_with(&format!(
                "sockeye: config: {}, line {line}, key '{key}'",
                file.display()
            )),
            "{name}: {stderr}"
        );
    }
    assert!(seen >= 8, "only {seen} bad fixtures");
}

#[test]
fn good_fixtures_are_accepted() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config");
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("good-") {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        write_config(dir.path(), &std::fs::read_to_string(&path).unwrap());
        sockeye(dir.path()).arg("config").assert().success();
    }
}

#[test]
fn an_unreadable_file_is_an_error_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be cannot be read, whoever runs the test.
    std::fs::create_dir_all(dir.path().join("sockeye/config.toml")).unwrap();
    sockeye(dir.path())
        .arg("config")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read"));
}

#[test]
fn print_default_and_path_conflict() {
    let dir = tempfile::tempdir().unwrap();
    sockeye(dir.path())
        .args(["config", "--print-default", "--path"])
        .assert()
        .code(2);
}

#[test]
fn attach_reads_the_same_file_and_honours_no_config() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(dir.path(), "[view]\nbogus = 1\n");
    // A private runtime dir: no demo runs there, whatever runs on the machine.
    let runtime = dir.path().join("run");
    std::fs::create_dir_all(&runtime).unwrap();

    let out = sockeye(dir.path())
        .env("XDG_RUNTIME_DIR", &runtime)
        .arg("attach")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!("sockeye: config: {}", file.display())),
        "{stderr}"
    );

    // Without the file, attach gets as far as looking for the demo.
    let out = sockeye(dir.path())
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["--no-config", "attach"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no demo is running"), "{stderr}");
}

/// A huge value is quoted as a short window with a caret, not echoed whole.
#[test]
fn a_huge_value_gives_a_short_message() {
    let dir = tempfile::tempdir().unwrap();
    // Under the reader's size cap (crate::input::CONFIG_LIMIT), so the parser sees it.
    let huge = "y".repeat(512 << 10);
    write_config(dir.path(), &format!("[theme]\nwarn = \"{huge}\"\n"));
    let out = sockeye(dir.path()).arg("config").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.len() < 1024, "{} bytes of stderr", stderr.len());
    assert!(
        stderr.contains("theme.warn") && stderr.contains('^'),
        "{stderr}"
    );
}

/// The default file under a path that cannot be looked at (here a file where a directory
/// should be; another user's HOME under sudo is the usual case) warns once and goes on with
/// the defaults.
#[test]
fn an_unreachable_default_path_warns_and_uses_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let out = sockeye(&not_a_dir).arg("config").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("warning") && stderr.contains("defaults"),
        "{stderr}"
    );
    assert!(!out.stdout.is_empty(), "the settings in effect are printed");
}
