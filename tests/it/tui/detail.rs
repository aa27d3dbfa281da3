//! Details pane findings from QA: what a socket lacks is said, never an empty label.

use crate::tui::common::{inet, snapshot, tcp};
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use sockeye::model::{TcpState, Timer, TimerKind};
use sockeye::tui::state::App;
use sockeye::tui::{QuerySpec, TuiSettings, ui};

fn screen(app: &mut App, w: u16, h: u16) -> Vec<String> {
    let area = Rect::new(0, 0, w, h);
    app.set_page(ui::layout(area, app).page());
    let mut buf = Buffer::empty(area);
    ui::render(area, &mut buf, app);
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect()
}

fn detail_of(timer: Timer) -> Vec<String> {
    let mut s = tcp(
        TcpState::Established,
        inet("127.0.0.1", 7001),
        inet("127.0.0.1", 50000),
        (0, 0),
    );
    s.timer = Some(timer);
    let mut app = App::new(
        TuiSettings {
            numeric: true,
            ..TuiSettings::default()
        },
        QuerySpec::default(),
    );
    app.apply_snapshot(snapshot(vec![s], 0), None);
    let _ = app.handle_key(KeyEvent::new(KeyCode::Char('3'), KeyModifiers::NONE));
    let _ = app.handle_key(KeyEvent::new(KeyCode::Home, KeyModifiers::NONE));
    let _ = app.handle_key(KeyEvent::new(KeyCode::Char('i'), KeyModifiers::NONE));
    assert!(app.detail);
    screen(&mut app, 160, 40)
}

#[test]
fn a_timer_that_is_off_leaves_no_empty_timer_line() {
    // netlink reports "no timer" as kind Off: ss prints nothing, the pane printed a bare
    // "timer" label with no value.
    let lines = detail_of(Timer {
        kind: TimerKind::Off,
        expires_ms: 0,
        retrans: 0,
    });
    assert!(
        lines.iter().any(|l| l.contains("127.0.0.1:7001")),
        "the socket is shown: {lines:#?}"
    );
    for l in &lines {
        let words: Vec<&str> = l.split(['│', ' ']).filter(|w| !w.is_empty()).collect();
        assert!(
            !words.ends_with(&["timer"]),
            "a bare timer label: {l:?}\n{lines:#?}"
        );
    }
}

#[test]
fn a_running_timer_is_shown() {
    let lines = detail_of(Timer {
        kind: TimerKind::Keepalive,
        expires_ms: 7000,
        retrans: 0,
    });
    assert!(
        lines
            .iter()
            .any(|l| l.contains("timer") && l.contains("keepalive")),
        "{lines:#?}"
    );
}
