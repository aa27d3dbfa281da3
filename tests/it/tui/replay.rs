//! `sockeye replay` in the live view: a recording of the fixture's sockets drives the app
//! through the replay source as the worker would; snapshots show the timeline.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use sockeye::collect::Query;
use sockeye::record::{Collected, Header, Recording, Writer};
use sockeye::tui::replay::{ReplaySource, ReplayView};
use sockeye::tui::state::App;
use sockeye::tui::worker::{Command, SnapshotSource};
use sockeye::tui::{QuerySpec, TuiSettings, ui};

use super::common::{inet, snapshot, sockets, tcp};
use sockeye::model::TcpState;

/// 130 frames a second apart, CLOSE-WAIT growing by one every 10 s; then the recorder
/// stops for 10 minutes and records 20 more frames (a second file, a gap between).
fn recording(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("r.rec");
    let header = |t: u64| {
        Header::new(
            Duration::from_secs(1),
            Collected::default(),
            std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + t),
        )
    };
    let frame = |t: u64| {
        let mut v = sockets();
        for k in 0..t / 10 {
            v.push(tcp(
                TcpState::CloseWait,
                inet("127.0.0.1", 8080),
                inet("127.0.0.1", 40000 + k as u16),
                (0, 0),
            ));
        }
        snapshot(v, t)
    };
    let mut w = Writer::create(&path, header(0), 1 << 30).unwrap();
    for t in 0..130 {
        w.push(&frame(t)).unwrap();
    }
    drop(w);
    let mut w = Writer::create(&path, header(730), 1 << 30).unwrap();
    for t in 730..750 {
        w.push(&frame(t)).unwrap();
    }
    path
}

/// Snapshots named as the other TUI snapshots are (`it__tui__snapshots__NAME`).
macro_rules! snap {
    ($name:literal, $screen:expr) => {
        insta::with_settings!({ prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(concat!("it__tui__snapshots__", $name), $screen);
        })
    };
}

struct Replay {
    app: App,
    source: ReplaySource,
}

impl Replay {
    fn open(dir: &std::path::Path) -> Replay {
        let rec = Recording::open(&recording(dir)).unwrap();
        let settings = TuiSettings {
            numeric: true,
            ..TuiSettings::default()
        };
        let mut app = App::new(settings, QuerySpec::default());
        app.hostname = "r.rec".into();
        app.replay = Some(ReplayView {
            label: "(2 files)".into(),
            speed: 1,
            ..ReplayView::default()
        });
        let history = app.settings.history;
        let source = ReplaySource::new(rec, app.query().unwrap(), 0, history);
        let mut r = Replay { app, source };
        r.refresh();
        r
    }

    /// What the worker does on each report: a snapshot, its position.
    fn refresh(&mut self) {
        let snap = self.source.snapshot().unwrap();
        self.app
            .apply_snapshot(snap, Some(Duration::from_millis(3)));
        let p = self.source.position().unwrap();
        self.app.apply_position(p);
    }

    fn key(&mut self, code: KeyCode) {
        let cmds = self.app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
        let mut moved = false;
        for c in cmds {
            match c {
                Command::Replay(o) => {
                    self.source.control(o);
                    moved = true;
                }
                Command::SetQuery(q) => {
                    self.source.set_query(q);
                    moved = true;
                }
                _ => {}
            }
        }
        if moved {
            self.refresh();
        }
    }

    fn keys(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn index(&self) -> usize {
        self.app
            .replay
            .as_ref()
            .unwrap()
            .position
            .as_ref()
            .unwrap()
            .index
    }

    fn screen(&mut self, w: u16, h: u16) -> String {
        self.app
            .set_page(ui::layout(Rect::new(0, 0, w, h), &self.app).page());
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| ui::draw(f, &self.app)).unwrap();
        t.backend().to_string()
    }

    fn close_wait(&self) -> usize {
        self.app.counts.tcp(TcpState::CloseWait)
    }
}

#[test]
fn replay_steps_jumps_and_goes_to_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Replay::open(dir.path());
    assert_eq!(r.index(), 0);
    let base = r.close_wait();
    snap!("replay_start_120x30", r.screen(120, 30));

    r.keys("...");
    assert_eq!(r.index(), 3);
    r.key(KeyCode::Char(','));
    assert_eq!(r.index(), 2);
    // A minute on: 60 frames; CLOSE-WAIT has grown by six.
    r.key(KeyCode::Char('>'));
    assert_eq!(r.index(), 62);
    assert_eq!(r.close_wait(), base + 6);
    // The sparkline is the recording's history up to here, not the keys' path.
    let h = r.app.history.get(TcpState::CloseWait);
    assert_eq!(h.len(), 63);
    assert_eq!(h.last(), Some((base + 6) as u64));
    r.key(KeyCode::Char('<'));
    assert_eq!(r.index(), 2);

    // g with the --at syntax.
    r.key(KeyCode::Char('g'));
    r.keys("+2m");
    snap!("replay_goto_prompt_120x30", r.screen(120, 30));
    r.key(KeyCode::Enter);
    assert_eq!(r.index(), 120);
    assert_eq!(r.close_wait(), base + 12);

    // A bad time keeps the prompt open with the reason; Esc closes it.
    r.key(KeyCode::Char('g'));
    r.keys("soon");
    r.key(KeyCode::Enter);
    let msg = r.app.replay.as_ref().unwrap().message.clone().unwrap();
    assert!(msg.contains("bad time"), "{msg}");
    r.key(KeyCode::Esc);
    assert!(r.app.replay.as_ref().unwrap().goto.is_none());
    assert!(!r.app.quit, "Esc closed the prompt, not the view");

    // A minute on falls in the gap: the last moment before it; one more is the first
    // frame of the second file, which says what was missed.
    r.key(KeyCode::Char('>'));
    assert_eq!(r.index(), 129);
    r.key(KeyCode::Char('>'));
    assert_eq!(r.index(), 130);
    snap!("replay_after_gap_120x30", r.screen(120, 30));

    // Past the end: the last moment, and a note.
    r.key(KeyCode::Char('>'));
    r.key(KeyCode::Char('.'));
    assert_eq!(r.index(), 149);
    let p = r.source.position().unwrap();
    assert_eq!(p.note.as_deref(), Some("the end of the recording"));
}

#[test]
fn replay_filters_sorts_and_refuses_live_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Replay::open(dir.path());
    r.key(KeyCode::Char('g'));
    r.keys("+100s");
    r.key(KeyCode::Enter);
    // The filter bar works on the recording, the counts and history follow it.
    r.key(KeyCode::Char('/'));
    r.keys("state close-wait");
    r.key(KeyCode::Enter);
    assert_eq!(r.app.counts.total(), r.close_wait());
    let h = r.app.history.get(TcpState::Established);
    assert_eq!(
        h.last(),
        Some(0),
        "history counts only what the filter lets through"
    );
    r.key(KeyCode::Char('3'));
    snap!("replay_filtered_sockets_100x24", r.screen(100, 24));

    // The refresh interval is the recording's; killing and the demo's keys say why not.
    r.key(KeyCode::Char('+'));
    let msg = r.app.replay.as_ref().unwrap().message.clone().unwrap();
    assert!(msg.contains("play speed"), "{msg}");
    r.key(KeyCode::Char('K'));
    let msg = r.app.replay.as_ref().unwrap().message.clone().unwrap();
    assert!(msg.contains("closing sockets needs live sockets"), "{msg}");

    // Speed steps 1x → 2x → 5x and back; space plays.
    r.keys("]]");
    assert_eq!(r.source.position().unwrap().speed, 5);
    r.key(KeyCode::Char('['));
    assert_eq!(r.source.position().unwrap().speed, 2);
    r.key(KeyCode::Char(' '));
    assert!(r.source.position().unwrap().playing);
    let before = r.index();
    // At 2x a frame a second apart comes every 0.5 s: wait for the source to advance.
    let t0 = std::time::Instant::now();
    while r.index() == before && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
        r.refresh();
    }
    assert!(r.index() > before, "playing moves on");
    r.key(KeyCode::Char(' '));
    assert!(!r.source.position().unwrap().playing);

    // The help lists the replay keys and not the interval keys.
    r.key(KeyCode::Char('?'));
    let screen = r.screen(100, 40);
    assert!(screen.contains("go to a time"), "{screen}");
    assert!(!screen.contains("refresh less/more often"), "{screen}");
    // Space plays here, and the overlay's lines are whole (it was cut at "(th").
    assert!(screen.contains("play/pause the replay"), "{screen}");
    assert!(!screen.contains("pause/resume refreshing"), "{screen}");
    assert!(
        screen.contains("no demo keys (not live)"),
        "the replay note fits the overlay: {screen}"
    );
}

/// The live view's help and footer leave the replay keys out.
#[test]
fn the_live_view_has_no_replay_keys() {
    let mut app = App::new(TuiSettings::default(), QuerySpec::default());
    let _ = Query::default();
    let mut t = Terminal::new(TestBackend::new(140, 40)).unwrap();
    let _ = app.handle_key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE));
    t.draw(|f| ui::draw(f, &app)).unwrap();
    let screen = t.backend().to_string();
    assert!(!screen.contains("go to"), "{screen}");
    assert!(screen.contains("refresh less/more often"), "{screen}");
    // and a replay key does nothing live.
    let cmds = app.handle_key(KeyEvent::new(KeyCode::Char('.'), KeyModifiers::NONE));
    assert!(cmds.is_empty());
}

/// A real terminal: record the test's own sockets while CLOSE-WAIT grows, replay the file in
/// tmux, move through it with the keys and quit with status 0.
#[test]
fn replay_in_tmux_moves_through_the_recording() {
    use super::tmux::{Tmux, close_wait, count_after, read_rc, wait_for};
    if !crate::common::require_tool("tmux", "tmux") {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut keep = Vec::new();
    close_wait(&listener, &mut keep);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.rec");
    let bin = env!("CARGO_BIN_EXE_sockeye");
    let filter = format!("( sport = :{port} or dport = :{port} )");
    let mut recorder = std::process::Command::new(bin)
        .args(["--no-config", "record", "-t", "-q", "--interval", "0.1"])
        .arg("-o")
        .arg(&file)
        .args(filter.split(' '))
        .spawn()
        .unwrap();
    let frames = || Recording::open(&file).map_or(0, |r| r.len());
    let wait_frames = |n: usize| {
        let t0 = std::time::Instant::now();
        while frames() < n {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "the recorder is slow"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_frames(3);
    close_wait(&listener, &mut keep);
    close_wait(&listener, &mut keep);
    let n = frames();
    wait_frames(n + 3);
    // SIGTERM ends a recording cleanly.
    let pid = i32::try_from(recorder.id()).unwrap();
    // SAFETY: a signal to the child this test started.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    assert!(recorder.wait().unwrap().success());

    let rc = dir.path().join("rc");
    let cmd = format!(
        "{bin} --no-config replay -n {} ; echo $? > {}",
        file.display(),
        rc.display()
    );
    let tmux = Tmux::start(dir.path(), (140, 40), &cmd);
    let _ = tmux.cmd(&["set-option", "-t", "t", "remain-on-exit", "on"]);
    let first = wait_for(&tmux, Duration::from_secs(15), "the first moment", |s| {
        s.contains("REPLAY") && s.contains("frame 1/") && count_after(s, "CLOSE-WAIT ") == Some(1)
    });
    assert!(first.contains(&format!("127.0.0.1:{port}")), "{first}");
    // A minute on: past the end of this short recording, its last moment.
    tmux.cmd(&["send-keys", "-t", "t", ">"]);
    wait_for(&tmux, Duration::from_secs(10), "the last moment", |s| {
        count_after(s, "CLOSE-WAIT ") == Some(3) && s.contains("of the recording")
    });
    // Back to the start by a typed time, then one step on.
    tmux.cmd(&["send-keys", "-t", "t", "g", "+", "0", "s", "Enter"]);
    wait_for(&tmux, Duration::from_secs(10), "the start again", |s| {
        s.contains("frame 1/") && count_after(s, "CLOSE-WAIT ") == Some(1)
    });
    tmux.cmd(&["send-keys", "-t", "t", "."]);
    wait_for(&tmux, Duration::from_secs(10), "frame 2", |s| {
        s.contains("frame 2/")
    });
    // Playing at 60x reaches the end.
    tmux.cmd(&["send-keys", "-t", "t", "]", "]", "]", "]", "]", "Space"]);
    wait_for(&tmux, Duration::from_secs(15), "the end, played", |s| {
        count_after(s, "CLOSE-WAIT ") == Some(3) && s.contains("60x")
    });
    tmux.cmd(&["send-keys", "-t", "t", "q"]);
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(s) = read_rc(&rc) {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "replay did not exit on q"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, "0");
    drop(keep);
}
