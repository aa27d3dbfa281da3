//! The live view must never panic, whatever the terminal size: users shrink windows to a
//! sliver and tmux panes can be 1x1. Every view, with help, details and the filter bar open,
//! is drawn at every size up to 40x14 (and a few wide-but-flat ones).

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use sockeye::tui::state::App;
use sockeye::tui::{TuiSettings, ui};

fn key(app: &mut App, code: KeyCode) {
    let _ = app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn draw(app: &mut App, w: u16, h: u16) -> String {
    let area = Rect::new(0, 0, w, h);
    app.set_page(ui::layout(area, app).page());
    // Straight into a buffer: TestBackend itself cannot be 0 wide, a real terminal can.
    let mut buf = Buffer::empty(area);
    ui::render(area, &mut buf, app);
    buf.content().iter().map(|c| c.symbol()).collect()
}

/// Apps in every screen mode the keys can reach.
fn modes() -> Vec<(&'static str, App)> {
    let settings = || TuiSettings {
        numeric: true,
        ..TuiSettings::default()
    };
    let mut out = Vec::new();
    for (name, keys) in [
        ("states", vec![KeyCode::Char('1')]),
        ("listeners", vec![KeyCode::Char('2')]),
        ("sockets", vec![KeyCode::Char('3')]),
        ("help", vec![KeyCode::Char('?')]),
        (
            "detail",
            vec![KeyCode::Char('3'), KeyCode::Home, KeyCode::Char('i')],
        ),
        ("filter", vec![KeyCode::Char('/'), KeyCode::Char('x')]),
        (
            "filter-error",
            vec![
                KeyCode::Char('/'),
                KeyCode::Char('x'),
                KeyCode::Enter,
                KeyCode::Char('/'),
            ],
        ),
    ] {
        let mut app = crate::tui::common::app(settings());
        for k in keys {
            key(&mut app, k);
        }
        out.push((name, app));
    }
    out
}

#[test]
fn no_size_panics() {
    let mut drawn = 0;
    for (name, mut app) in modes() {
        let sizes = (0..=40u16)
            .flat_map(|w| (0..=14u16).map(move |h| (w, h)))
            .chain([(160, 1), (160, 2), (160, 3), (1, 45), (2, 45)]);
        for (w, h) in sizes {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                draw(&mut app, w, h);
            }));
            assert!(r.is_ok(), "mode {name}: drawing at {w}x{h} panicked");
            drawn += 1;
        }
        // Still usable once the window is big again.
        let screen = draw(&mut app, 80, 24);
        assert!(screen.contains("sockeye"), "mode {name}: header lost");
    }
    assert!(drawn > 7 * 41 * 15);
}
