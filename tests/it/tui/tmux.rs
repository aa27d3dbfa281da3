//! The live view in a real terminal: tmux runs the built binary against sockets this test
//! creates, scoped to this test's port by an ss filter, and reads the screen.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server on a socket inside the test's temporary directory (so nothing is
/// left behind in /tmp/tmux-UID), killed on drop.
pub(super) struct Tmux {
    pub(super) socket: PathBuf,
}

impl Tmux {
    /// A detached session `t` of `cols`x`rows` on a private server in `dir`, running `cmd`.
    pub(super) fn start(dir: &Path, (cols, rows): (u16, u16), cmd: &str) -> Tmux {
        let tmux = Tmux {
            socket: dir.join("tmux.sock"),
        };
        let (x, y) = (cols.to_string(), rows.to_string());
        let out = tmux.cmd(&["new-session", "-d", "-s", "t", "-x", &x, "-y", &y, cmd]);
        assert!(out.status.success(), "tmux: {out:?}");
        tmux
    }

    pub(super) fn cmd(&self, args: &[&str]) -> std::process::Output {
        // The pane's command is sh syntax: don't depend on the account's login shell
        // (nologin for system users, fish for some people).
        Command::new("tmux")
            .env("SHELL", "/bin/sh")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }
    pub(super) fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// The number after `label` on the screen's header (e.g. `TIME-WAIT 3`).
pub(super) fn count_after(screen: &str, label: &str) -> Option<usize> {
    let line = screen.lines().find(|l| l.contains(label))?;
    let rest = &line[line.find(label)? + label.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// Poll the screen until `ok` holds, at most `limit`.
pub(super) fn wait_for(
    tmux: &Tmux,
    limit: Duration,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let s = tmux.screen();
        if ok(&s) {
            return s;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}; screen:\n{s}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A server socket left in CLOSE-WAIT: the client closes, the server never does.
pub(super) fn close_wait(listener: &TcpListener, keep: &mut Vec<TcpStream>) {
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    drop(client);
    keep.push(server);
}

/// A client socket left in TIME-WAIT: the client closes first, then the server.
fn time_wait(listener: &TcpListener) {
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut buf = [0u8; 1];
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(server.read(&mut buf).unwrap(), 0, "EOF from the client");
    drop(server);
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(client.read(&mut buf).unwrap(), 0, "EOF from the server");
    drop(client);
}

pub(super) fn read_rc(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[test]
fn counts_follow_the_socket_table_and_q_exits_zero() {
    if !crate::common::require_tool("tmux", "tmux") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut keep = Vec::new();
    close_wait(&listener, &mut keep);
    close_wait(&listener, &mut keep);
    for _ in 0..3 {
        time_wait(&listener);
    }

    let dir = tempfile::tempdir().unwrap();
    let rc: PathBuf = dir.path().join("rc");
    let bin = env!("CARGO_BIN_EXE_sockeye");
    // Only 127.0.0.1: another test's [::1] socket may have the same port number.
    let cmd = format!(
        "{bin} --no-config tui -tn --interval 0.2 src 127.0.0.1 and '(' sport = :{port} or dport = :{port} ')'; echo $? > {}",
        rc.display()
    );
    let tmux = Tmux::start(dir.path(), (160, 45), &cmd);
    // Keep the pane after the command ends, so the exit status can still be read.
    let _ = tmux.cmd(&["set-option", "-t", "t", "remain-on-exit", "on"]);

    let screen = wait_for(
        &tmux,
        Duration::from_secs(15),
        "CLOSE-WAIT 2, TIME-WAIT 3",
        |s| count_after(s, "CLOSE-WAIT ") == Some(2) && count_after(s, "TIME-WAIT ") == Some(3),
    );
    assert!(screen.contains("States"), "{screen}");
    assert!(screen.contains(&format!("127.0.0.1:{port}")), "{screen}");

    // The table changes: two more CLOSE-WAIT, two more TIME-WAIT.
    close_wait(&listener, &mut keep);
    close_wait(&listener, &mut keep);
    time_wait(&listener);
    time_wait(&listener);
    wait_for(
        &tmux,
        Duration::from_secs(15),
        "CLOSE-WAIT 4, TIME-WAIT 5",
        |s| count_after(s, "CLOSE-WAIT ") == Some(4) && count_after(s, "TIME-WAIT ") == Some(5),
    );

    // The listeners view shows our listener with its CLOSE-WAIT children.
    tmux.cmd(&["send-keys", "-t", "t", "2"]);
    wait_for(&tmux, Duration::from_secs(10), "the listeners view", |s| {
        // The listener's own row carries its accept queue and its CLOSE-WAIT count.
        s.lines()
            .any(|l| l.contains("LISTEN") && l.contains("▕") && l.contains("CLOSE-WAIT 4"))
    });

    tmux.cmd(&["send-keys", "-t", "t", "q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = read_rc(&rc) {
            break s;
        }
        assert!(Instant::now() < deadline, "sockeye did not exit on q");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, "0", "exit status after q");
    drop(keep);
    let _ = std::io::stdout().flush();
}
