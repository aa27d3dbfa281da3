//! `sockeye attach` (and `sockeye demo` on a terminal) in a real terminal: tmux.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::demo::support::{BIN, DemoProc, eventually, show, ss};

/// A private tmux server per test, killed on drop.
struct Tmux {
    socket: String,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

impl Tmux {
    /// None (test skipped) when tmux is not installed; a failure under CI.
    fn start(command: &str) -> Option<Tmux> {
        if !crate::common::require_tool("tmux", "tmux") {
            return None;
        }
        let socket = format!(
            "sockeye-demo-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        // Keep the pane after the command ends so its exit status can be read.
        let script = format!("{command}; echo EXIT=$?; sleep 60");
        // The script is sh syntax; an account whose login shell is nologin (or fish) would
        // otherwise run it with that shell and the pane would die at once.
        let st = Command::new("tmux")
            .env("SHELL", "/bin/sh")
            .args(["-L", &socket, "new-session", "-d", "-x", "160", "-y", "45"])
            .arg(script)
            .status()
            .expect("run tmux");
        assert!(st.success());
        Some(Tmux { socket })
    }

    fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let st = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(st.success());
    }

    fn wait_for(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        self.wait_secs(15, what, check)
    }

    /// Generous deadlines for the busy machine: the screen is polled, never slept on.
    fn wait_secs(&self, secs: u64, what: &str, check: impl Fn(&str) -> bool) -> String {
        eventually(
            secs,
            what,
            || {
                let screen = self.capture();
                check(&screen).then_some(screen)
            },
            || self.capture(),
        )
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn attach_shows_scenarios_drives_the_demo_and_quits_leaving_it_running() {
    let mut demo = DemoProc::start(&["--rate", "2"]);
    let cmd = format!(
        "XDG_RUNTIME_DIR={} {} attach",
        shell_quote(&demo.runtime_dir.path().display().to_string()),
        shell_quote(BIN)
    );
    let Some(tmux) = Tmux::start(&cmd) else {
        return;
    };
    let names = [
        "backlog",
        "unread",
        "close-wait",
        "time-wait",
        "send-q",
        "echo",
    ];
    let screen = tmux.wait_for("every scenario with its port", |s| {
        names
            .iter()
            .all(|n| s.contains(&format!("{n:<11}:{}", demo.port(n))))
    });
    assert!(
        screen.contains(&format!("(pid {})", demo.child.id())),
        "{screen}"
    );
    // The backlog explanation, once the kernel shows the full queue.
    tmux.wait_for("the backlog explanation", |s| {
        s.contains("Recv-Q 2 on a listener with backlog 1")
    });

    // Keys drive the demo: select unread, send hello!\r\n again: Recv-Q 16.
    let p = demo.port("unread");
    tmux.keys(&["]"]);
    tmux.wait_for("unread selected", |s| s.contains("▶ unread"));
    tmux.keys(&["w"]);
    eventually(
        10,
        "Recv-Q 16 on unread's server socket",
        || {
            ss(p)
                .iter()
                .any(|r| r.local_port == p && r.recv_q == 16)
                .then_some(())
        },
        || show(p),
    );
    tmux.wait_for("the action's reply", |s| s.contains("unread: sent 8 bytes"));

    // a: pause accepting, seen in the demo's status.
    tmux.keys(&["a"]);
    eventually(
        10,
        "unread not accepting",
        || {
            let st = demo.request(r#"{"cmd":"status"}"#);
            (st["scenarios"][1]["accepting"] == false).then_some(())
        },
        || demo.request(r#"{"cmd":"status"}"#).to_string(),
    );

    tmux.keys(&["q"]);
    tmux.wait_for("attach to exit 0", |s| s.contains("EXIT=0"));
    assert!(demo.is_running(), "quitting attach stopped the demo");
    assert_eq!(demo.request(r#"{"cmd":"status"}"#)["ok"], true);
}

#[test]
fn attach_shows_unix_udp_threads_and_walks_the_tour_with_n() {
    let demo = DemoProc::start(&["tour", "unix", "udp", "threads"]);
    let cmd = format!(
        "XDG_RUNTIME_DIR={} {} attach",
        shell_quote(&demo.runtime_dir.path().display().to_string()),
        shell_quote(BIN)
    );
    let Some(tmux) = Tmux::start(&cmd) else {
        return;
    };
    // unix: found by its files, its listener's queue in the panel; its three sockets (and
    // not the control socket) in the view's scope.
    tmux.wait_secs(60, "the unix line and its sockets", |s| {
        s.contains("unix       files   u_str LISTEN 2/1") && s.contains("UNIX 3")
    });
    // udp: the drop counters' growth since attach.
    tmux.wait_secs(60, "udp's RcvbufErrors growth", |s| {
        s.contains("Udp RcvbufErrors +") && !s.contains("Udp RcvbufErrors +0 ")
    });
    // threads: the single-threaded server's queue.
    tmux.wait_secs(60, "threads' single-threaded queue", |s| {
        s.lines().any(|l| {
            l.contains("threads") && l.contains("single LISTEN") && !l.contains("single LISTEN 0/")
        })
    });
    // n: the tour's next step; the panel follows it, both ends are marked in the view.
    let p = demo.port("tour");
    tmux.keys(&["n"]);
    let screen = tmux.wait_secs(60, "tour step 2 with its pair marked", |s| {
        s.contains("step 2/11: client SYN-SENT · server LISTEN")
            && s.lines().any(|l| l.contains('◆') && l.contains("SYN-SENT"))
    });
    assert!(screen.contains("▶ tour"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains('◆') && l.contains(&format!("127.0.0.1:{p}"))),
        "{screen}"
    );
    // 6: the Lifecycle view marks the tour's client state on the diagram.
    tmux.keys(&["6"]);
    tmux.wait_secs(60, "the lifecycle diagram with the tour marked", |s| {
        s.contains("◆[SYN-SENT") && s.contains("connect()")
    });
    tmux.keys(&["q"]);
    tmux.wait_secs(60, "attach to exit 0", |s| s.contains("EXIT=0"));
}

#[test]
fn attach_without_a_demo_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("attach")
        .env("XDG_RUNTIME_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no demo is running; start one with `sockeye demo`"),
        "{err}"
    );
    // An explicit socket path that does not exist: the same message.
    let out = Command::new(BIN)
        .args(["attach", "--socket"])
        .arg(dir.path().join("nope.sock"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no demo is running"));
}

#[test]
fn attach_pid_scopes_the_view_to_a_process() {
    let demo = DemoProc::start(&["unread", "--rate", "2"]);
    let cmd = format!("{} attach --pid {}", shell_quote(BIN), demo.child.id());
    let Some(tmux) = Tmux::start(&cmd) else {
        return;
    };
    let port = demo.port("unread");
    let screen = tmux.wait_for("the demo's listener", |s| {
        s.contains(&format!("127.0.0.1:{port}"))
    });
    assert!(
        screen.contains(&format!("pid {}", demo.child.id())),
        "{screen}"
    );
    assert!(
        !screen.contains("— scenarios"),
        "no scenario panel with --pid"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("exit 0", |s| s.contains("EXIT=0"));
}

#[test]
fn demo_on_a_terminal_opens_the_view_and_q_stops_everything() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!(
        "XDG_RUNTIME_DIR={} {} demo unread backlog --rate 2",
        shell_quote(&dir.path().display().to_string()),
        shell_quote(BIN)
    );
    let Some(tmux) = Tmux::start(&cmd) else {
        return;
    };
    tmux.wait_for("the scenario panel", |s| {
        s.contains("unread") && s.contains("backlog") && s.contains("— scenarios")
    });
    let control = dir.path().join("sockeye").join("demo.sock");
    assert!(control.exists());
    tmux.keys(&["q"]);
    tmux.wait_for("exit 0", |s| s.contains("EXIT=0"));
    assert!(
        crate::common::wait_until(Duration::from_secs(5), || !control.exists()),
        "control socket left behind"
    );
}
