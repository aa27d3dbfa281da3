//! `K` in a real terminal: tmux runs the built binary scoped to this test's port, where a
//! server leaks CLOSE-WAIT. The confirmation names the listener and the count, a "no" closes
//! nothing (ss still shows them), `y` closes them as root; an ordinary user is told why it
//! cannot; `--read-only` says K is disabled.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use super::tmux::{Tmux, close_wait, count_after, wait_for};
use crate::common::{is_root, require_tool};

const WAIT: Duration = Duration::from_secs(15);

/// CLOSE-WAIT sockets on `port` as ss counts them.
fn ss_close_wait(port: u16) -> usize {
    let out = std::process::Command::new("ss")
        .args(["-Htn", "state", "close-wait", &format!("sport = :{port}")])
        .output()
        .expect("run ss");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

fn start(dir: &Path, port: u16, extra: &str) -> Tmux {
    let bin = env!("CARGO_BIN_EXE_sockeye");
    let cmd = format!("{bin} --no-config tui {extra} -tn --interval 0.2 'sport = :{port}'");
    Tmux::start(dir, (160, 45), &cmd)
}

fn keys(tmux: &Tmux, k: &str) {
    tmux.cmd(&["send-keys", "-t", "t", k]);
}

/// The listeners view with the test's listener selected and its three CLOSE-WAIT children.
fn on_the_listener(tmux: &Tmux) {
    wait_for(tmux, WAIT, "CLOSE-WAIT 3", |s| {
        count_after(s, "CLOSE-WAIT ") == Some(3)
    });
    keys(tmux, "2");
    wait_for(tmux, WAIT, "the listeners view", |s| {
        s.lines()
            .any(|l| l.contains("LISTEN") && l.contains("CLOSE-WAIT 3"))
    });
}

#[test]
fn k_confirms_the_listeners_close_wait_and_only_y_closes_them() {
    if !require_tool("tmux", "tmux") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut keep: Vec<TcpStream> = Vec::new();
    for _ in 0..3 {
        close_wait(&listener, &mut keep);
    }
    let dir = tempfile::tempdir().unwrap();
    let tmux = start(dir.path(), port, "");
    on_the_listener(&tmux);

    keys(&tmux, "K");
    if !is_root() {
        let s = wait_for(&tmux, WAIT, "why K cannot close", |s| {
            s.contains("CAP_NET_ADMIN")
        });
        assert!(!s.contains("y closes"), "no confirmation: {s}");
        assert_eq!(ss_close_wait(port), 3, "nothing closed");
        return;
    }
    let want = format!("Close 3 socket(s) connected to listener 127.0.0.1:{port} (CLOSE-WAIT 3)?");
    wait_for(&tmux, WAIT, &want, |s| s.contains(&want));
    keys(&tmux, "n");
    wait_for(&tmux, WAIT, "nothing closed", |s| {
        s.contains("nothing closed")
    });
    assert_eq!(ss_close_wait(port), 3, "a no closes nothing");

    // Esc cancels as well.
    keys(&tmux, "K");
    wait_for(&tmux, WAIT, &want, |s| s.contains(&want));
    keys(&tmux, "Escape");
    wait_for(&tmux, WAIT, "the prompt gone", |s| !s.contains(&want));
    assert_eq!(ss_close_wait(port), 3, "Esc closes nothing");

    keys(&tmux, "K");
    wait_for(&tmux, WAIT, &want, |s| s.contains(&want));
    keys(&tmux, "y");
    wait_for(&tmux, WAIT, "closed 3", |s| {
        s.contains("closed 3 socket(s)")
    });
    assert_eq!(ss_close_wait(port), 0, "ss still shows CLOSE-WAIT");
    keys(&tmux, "q");
}

#[test]
fn k_in_read_only_says_it_is_disabled() {
    if !require_tool("tmux", "tmux") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut keep: Vec<TcpStream> = Vec::new();
    for _ in 0..3 {
        close_wait(&listener, &mut keep);
    }
    let dir = tempfile::tempdir().unwrap();
    let tmux = start(dir.path(), port, "--read-only");
    on_the_listener(&tmux);
    keys(&tmux, "K");
    let s = wait_for(&tmux, WAIT, "K is disabled", |s| {
        s.contains("K is disabled")
    });
    assert!(!s.contains("y closes"), "no confirmation: {s}");
    assert_eq!(ss_close_wait(port), 3, "nothing closed");
    keys(&tmux, "q");
}
