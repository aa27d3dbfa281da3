//! The live view and the real terminal. Job control: Ctrl-Z (and SIGTSTP) give the shell its
//! terminal back — main screen, visible cursor, no mouse reporting — and `fg` brings the view
//! back; SIGQUIT restores the terminal before the process dies of it. A long paste into the
//! filter bar arrives whole. tmux runs an interactive shell that starts the built binary; the
//! tests read tmux's pane flags and screen.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server (socket in the test's directory) running `bash -i`, killed on drop.
struct Shell {
    socket: PathBuf,
    dir: tempfile::TempDir,
}

impl Shell {
    /// None (after saying why) when tmux or bash is missing; under CI that is a failure.
    fn start() -> Option<Shell> {
        for tool in ["tmux", "bash"] {
            if Command::new(tool).arg("--version").output().is_err()
                && Command::new(tool).arg("-V").output().is_err()
            {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{tool} is not installed (required under CI)"
                );
                println!("skipped: {tool} is not installed");
                return None;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let shell = Shell {
            socket: dir.path().join("tmux.sock"),
            dir,
        };
        // In the test's directory, so that nothing (a core file of the SIGQUIT test) lands
        // elsewhere.
        let cwd = shell.dir.path().to_string_lossy().into_owned();
        let out = shell.tmux(&[
            "new-session",
            "-c",
            &cwd,
            "-d",
            "-s",
            "t",
            "-x",
            "120",
            "-y",
            "40",
            "env PS1='ready$ ' bash --norc --noprofile -i",
        ]);
        assert!(out.status.success(), "tmux: {out:?}");
        shell.wait("the prompt", |s| s.screen().contains("ready$"));
        Some(shell)
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    /// A pane format variable, e.g. `alternate_on`.
    fn flag(&self, name: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", "t", &format!("#{{{name}}}")]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    fn wait(&self, what: &str, ok: impl Fn(&Shell) -> bool) {
        // Generous: the whole suite runs in parallel on a busy machine, and a deadline costs
        // nothing when the screen is already right.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ok(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; alternate_on={} screen:\n{}",
                self.flag("alternate_on"),
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Start the live view from the shell, its pid written to a file, and wait for it.
    fn start_view(&self) -> String {
        let pid_file = self.dir.path().join("pid");
        let _ = std::fs::remove_file(&pid_file);
        let bin = env!("CARGO_BIN_EXE_sockeye");
        // `exec` keeps the pid sh wrote; a filter no socket matches keeps the screen quiet.
        let cmd = format!(
            "ulimit -c 0; sh -c 'echo $$ > {}; exec {bin} --no-config tui -tn sport = :1'",
            pid_file.display()
        );
        self.keys(&[&cmd, "Enter"]);
        self.wait("the live view", |s| {
            s.flag("alternate_on") == "1" && s.screen().contains("sockeye")
        });
        std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .to_owned()
    }

    /// The terminal is the shell's again: main screen, cursor shown, no mouse reporting.
    fn assert_restored(&self) {
        self.wait("the main screen", |s| s.flag("alternate_on") == "0");
        assert_eq!(self.flag("cursor_flag"), "1", "cursor visible");
        assert_eq!(self.flag("mouse_any_flag"), "0", "mouse reporting off");
        assert_eq!(self.flag("mouse_standard_flag"), "0", "mouse reporting off");
    }

    /// `fg` brings the view back, and `q` quits it for good.
    fn resume_and_quit(&self) {
        self.keys(&["fg", "Enter"]);
        self.wait("the view back after fg", |s| {
            s.flag("alternate_on") == "1" && s.screen().contains("sockeye")
        });
        self.keys(&["q"]);
        self.assert_restored();
        self.keys(&["echo rc=$?", "Enter"]);
        self.wait("exit status 0", |s| s.screen().contains("rc=0"));
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

#[test]
fn ctrl_z_gives_the_shell_the_terminal_and_fg_brings_the_view_back() {
    let Some(shell) = Shell::start() else { return };
    shell.start_view();
    shell.keys(&["C-z"]);
    shell.assert_restored();
    shell.wait("the shell's job notice", |s| s.screen().contains("Stopped"));
    shell.resume_and_quit();
}

#[test]
fn sigtstp_suspends_like_ctrl_z() {
    let Some(shell) = Shell::start() else { return };
    let pid = shell.start_view();
    assert!(
        Command::new("kill")
            .args(["-TSTP", &pid])
            .status()
            .unwrap()
            .success()
    );
    shell.assert_restored();
    shell.wait("the shell's job notice", |s| s.screen().contains("Stopped"));
    shell.resume_and_quit();
}

#[test]
fn sigquit_restores_the_terminal_before_dying() {
    let Some(shell) = Shell::start() else { return };
    let pid = shell.start_view();
    assert!(
        Command::new("kill")
            .args(["-QUIT", &pid])
            .status()
            .unwrap()
            .success()
    );
    shell.assert_restored();
    // Killed by SIGQUIT: the shell reports 128 + 3.
    shell.keys(&["echo rc=$?", "Enter"]);
    shell.wait("exit status 131", |s| s.screen().contains("rc=131"));
}

/// A paste of several KiB reaches the filter bar at once (bracketed paste), not 1 KiB per
/// later key press.
#[test]
fn a_long_paste_arrives_whole() {
    let Some(shell) = Shell::start() else { return };
    shell.start_view();
    shell.keys(&["/"]);
    shell.wait("the filter bar", |s| s.screen().contains("Enter apply"));
    let text = format!(
        "{}sport = :2 or sport = :54321",
        "sport = :1 or ".repeat(300)
    );
    assert!(text.len() > 4096);
    let file = shell.dir.path().join("paste");
    std::fs::write(&file, &text).unwrap();
    let file = file.to_string_lossy().into_owned();
    assert!(shell.tmux(&["load-buffer", &file]).status.success());
    assert!(
        shell
            .tmux(&["paste-buffer", "-p", "-t", "t"])
            .status
            .success()
    );
    // The bar shows the end of its text: the paste's last words, with no key pressed since.
    shell.wait("the end of the paste in the bar", |s| {
        s.screen().contains("sport = :2 or sport = :54321█")
    });
    shell.keys(&["Escape"]);
    shell.keys(&["q"]);
    shell.assert_restored();
}
