//! Command line over file over defaults, through the same functions `sockeye tui` uses, and
//! the live view refusing to start on a bad file.

use std::path::Path;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use sockeye::cli::TuiArgs;
use sockeye::commands::tui::options;
use sockeye::tui::{TuiSettings, View};

fn file_settings(text: &str) -> TuiSettings {
    let mut settings = TuiSettings::default();
    sockeye::config::parse(text)
        .expect("valid config")
        .apply_to(&mut settings);
    settings
}

#[test]
fn command_line_wins_over_file_which_wins_over_defaults() {
    let file = file_settings("[view]\ndefault = \"sockets\"\ninterval = 2.5\nprocesses = false\n");

    // Nothing on the command line: the file's values.
    let o = options(&TuiArgs::default(), file.clone()).unwrap();
    assert_eq!(o.settings.view, View::Sockets);
    assert_eq!(o.settings.interval, Duration::from_millis(2500));
    assert!(!o.settings.processes);
    // What neither sets: the default.
    assert_eq!(o.settings.queue_alert, TuiSettings::default().queue_alert);

    // The command line over the file.
    let args = TuiArgs {
        interval: Some(0.5),
        view: Some(View::Listeners),
        ..TuiArgs::default()
    };
    let o = options(&args, file).unwrap();
    assert_eq!(o.settings.view, View::Listeners);
    assert_eq!(o.settings.interval, Duration::from_millis(500));
    assert!(
        !o.settings.processes,
        "the file's value stays where the CLI says nothing"
    );
}

fn sockeye_with_config(config_home: &Path, text: &str) -> assert_cmd::Command {
    let dir = config_home.join("sockeye");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), text).unwrap();
    let mut cmd = cargo_bin_cmd!("sockeye");
    cmd.env("XDG_CONFIG_HOME", config_home)
        .env("HOME", config_home)
        .timeout(Duration::from_secs(20));
    cmd
}

#[test]
fn the_live_view_stops_on_a_bad_file_and_no_config_skips_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "[view]\ninterval = 600\n";
    sockeye_with_config(dir.path(), bad)
        .args(["tui", "-t"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("config.toml, line 2, key 'view.interval'")
                .and(predicate::str::contains("interval = 600")),
        );

    // --no-config: the file is not read, so the error (if any: no terminal here) is another.
    sockeye_with_config(dir.path(), bad)
        .args(["--no-config", "tui", "-t"])
        .assert()
        .stderr(predicate::str::contains("config").not());
}

#[test]
fn attach_reads_the_configuration_too() {
    let dir = tempfile::tempdir().unwrap();
    // A bad file stops attach before it looks for a demo: the file is read.
    sockeye_with_config(dir.path(), "[theme]\nwarn = \"blurple\"\n")
        .args(["attach", "--socket"])
        .arg(dir.path().join("no-demo.sock"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("key 'theme.warn'"));
}
