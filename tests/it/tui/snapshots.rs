//! Screen snapshots of the live view (TestBackend + insta), fed from fixture snapshots.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Color;
use sockeye::tui::settings::View;
use sockeye::tui::state::App;
use sockeye::tui::{TuiSettings, ui};

fn settings() -> TuiSettings {
    TuiSettings {
        numeric: true, // no /etc/services lookups: the same on every machine
        ..TuiSettings::default()
    }
}

fn key(app: &mut App, code: KeyCode) {
    let _ = app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn draw(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    app.set_page(ui::layout(Rect::new(0, 0, w, h), app).page());
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    t
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    draw(app, w, h).backend().to_string()
}

#[test]
fn states_view() {
    let mut app = crate::tui::common::app(settings());
    insta::assert_snapshot!("states_100x30", screen(&mut app, 100, 30));
    insta::assert_snapshot!("states_80x24", screen(&mut app, 80, 24));
}

#[test]
fn states_view_expanded_time_wait_and_small_terminal() {
    let mut app = crate::tui::common::app(settings());
    // Move to the TIME-WAIT group header and expand it.
    key(&mut app, KeyCode::End);
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("states_time_wait_expanded_80x24", screen(&mut app, 80, 24));
    insta::assert_snapshot!("states_60x12", screen(&mut app, 60, 12));
}

#[test]
fn listeners_view() {
    let mut app = crate::tui::common::app(settings());
    key(&mut app, KeyCode::Char('2'));
    assert_eq!(app.view, View::Listeners);
    insta::assert_snapshot!("listeners_100x30", screen(&mut app, 100, 30));
    insta::assert_snapshot!("listeners_80x24", screen(&mut app, 80, 24));
}

#[test]
fn sockets_view_sorted_by_send_q_descending() {
    let mut app = crate::tui::common::app(settings());
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('S'));
    insta::assert_snapshot!("sockets_sendq_desc_100x30", screen(&mut app, 100, 30));
    insta::assert_snapshot!("sockets_sendq_desc_80x24", screen(&mut app, 80, 24));
}

#[test]
fn help_overlay() {
    let mut app = crate::tui::common::app(settings());
    key(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!("help_100x30", screen(&mut app, 100, 30));
}

#[test]
fn detail_pane_below_and_beside() {
    let mut app = crate::tui::common::app(settings());
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Char('i'));
    assert!(app.detail);
    insta::assert_snapshot!("detail_listener_100x30", screen(&mut app, 100, 30));
    key(&mut app, KeyCode::Char('1'));
    // The CLOSE-WAIT group's first socket.
    for _ in 0..16 {
        key(&mut app, KeyCode::Down);
    }
    insta::assert_snapshot!("detail_close_wait_160x40", screen(&mut app, 160, 40));
}

#[test]
fn filter_bar_error_is_inline() {
    let mut app = crate::tui::common::app(settings());
    key(&mut app, KeyCode::Char('/'));
    for c in "state bogus".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("filter_error_80x24", screen(&mut app, 80, 24));
}

#[test]
fn no_color_uses_no_colors() {
    let mut colored = crate::tui::common::app(settings());
    let t = draw(&mut colored, 100, 30);
    let has_color = |t: &Terminal<TestBackend>| {
        t.backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg != Color::Reset || c.bg != Color::Reset)
    };
    assert!(has_color(&t), "the default theme colors something");
    let mut mono = crate::tui::common::app(TuiSettings {
        no_color: true,
        ..settings()
    });
    for view in ['1', '2', '3'] {
        key(&mut mono, KeyCode::Char(view));
        let t = draw(&mut mono, 100, 30);
        assert!(!has_color(&t), "NO_COLOR: no colors in view {view}");
    }
    key(&mut mono, KeyCode::Char('?'));
    let t = draw(&mut mono, 100, 30);
    assert!(!has_color(&t));
    // Same text either way.
    assert_eq!(screen(&mut mono, 100, 30), {
        key(&mut colored, KeyCode::Char('3'));
        key(&mut colored, KeyCode::Char('?'));
        screen(&mut colored, 100, 30)
    });
}

/// Under a filter the shown TIME-WAIT count is only part of the kernel's; exhaustion against
/// tcp_max_tw_buckets must use the system-wide count (sockstat `tw`).
#[test]
fn time_wait_exhaustion_is_system_wide_under_a_filter() {
    let mut app = App::new(settings(), sockeye::tui::QuerySpec::default());
    let mut snap = crate::tui::common::snapshot(crate::tui::common::sockets(), 0);
    let shown = snap
        .sockets
        .iter()
        .filter(|s| s.state == sockeye::model::TcpState::TimeWait)
        .count();
    let counters = snap.counters.as_mut().unwrap();
    counters.tcp_tw = Some(250_000);
    app.apply_snapshot(snap, None);
    let text = screen(&mut app, 120, 30);
    let line = text
        .lines()
        .find(|l| l.contains("TIME-WAIT"))
        .expect("a TIME-WAIT header line");
    assert!(line.contains(&format!("TIME-WAIT {shown} ")), "{line}");
    assert!(
        line.contains("250000 system-wide of 262144 max (95%)"),
        "{line}"
    );
}

/// A rebound pause key is what the footer and the help overlay show.
#[test]
fn rebound_pause_key_shows_in_footer_and_help() {
    let mut s = settings();
    s.keys.set("pause", 'z');
    let mut app = crate::tui::common::app(s);
    let text = screen(&mut app, 120, 30);
    let footer = text.lines().rev().find(|l| l.contains("quit")).unwrap();
    assert!(footer.contains(" z pause"), "{footer}");
    assert!(!footer.contains("space"), "{footer}");
    key(&mut app, KeyCode::Char('?'));
    let help = screen(&mut app, 120, 40);
    assert!(
        help.lines().any(|l| l
            .split('│')
            .any(|cell| cell.trim_start().starts_with("z ") && cell.contains("pause/resume"))),
        "{help}"
    );
    assert!(
        !help
            .lines()
            .any(|l| l.contains("space") && l.contains("pause/resume")),
        "{help}"
    );
}

/// The fixture, then a refresh in which connections move along the diagram's edges.
fn lifecycle_app() -> App {
    use crate::tui::common::{inet, snapshot, sockets, tcp};
    use sockeye::model::TcpState;
    let mut app = App::new(settings(), sockeye::tui::QuerySpec::default());
    app.hostname = "testhost".into();
    let moving = |a: TcpState, b: TcpState| {
        vec![
            tcp(a, inet("127.0.0.1", 41000), inet("127.0.0.1", 9000), (0, 0)),
            tcp(b, inet("127.0.0.1", 41001), inet("127.0.0.1", 9000), (0, 0)),
        ]
    };
    let mut first = sockets();
    first.extend(moving(TcpState::SynSent, TcpState::FinWait2));
    app.apply_snapshot(
        snapshot(first, 0),
        Some(std::time::Duration::from_millis(7)),
    );
    let mut second = sockets();
    second.extend(moving(TcpState::Established, TcpState::TimeWait));
    app.apply_snapshot(
        snapshot(second, 2),
        Some(std::time::Duration::from_millis(9)),
    );
    app
}

#[test]
fn lifecycle_view_draws_the_state_machine_and_degrades_to_a_list() {
    let mut app = lifecycle_app();
    key(&mut app, KeyCode::Char('6'));
    assert_eq!(app.view, View::Lifecycle);
    let big = screen(&mut app, 100, 40);
    // Edges carry the rates of the moves between the two refreshes (2 s apart).
    assert!(big.contains("SYN-ACK in 0.5/s"), "{big}");
    assert!(big.contains("FIN in 0.5/s"), "{big}");
    insta::assert_snapshot!("lifecycle_100x40", big);
    // Selecting a state (the list's third group) highlights it and lists its sockets.
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    insta::assert_snapshot!("lifecycle_selected_120x45", screen(&mut app, 120, 45));
    // Too small for the diagram: the list alone.
    let small = screen(&mut app, 80, 24);
    assert!(!small.contains("connect()"), "{small}");
    insta::assert_snapshot!("lifecycle_80x24", small);
}
