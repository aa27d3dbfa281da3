//! The live view's configurable columns and its escaping of hostile names: the body draws
//! the configured columns with their headers, `s` cycles through them, and no control
//! character from a process name or a socket path reaches the terminal buffer.

use crate::tui::common::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sockeye::model::{Endpoint, Netid, TcpState};
use sockeye::output::columns::Column;
use sockeye::tui::settings::View;
use sockeye::tui::state::App;
use sockeye::tui::{TuiSettings, ui};

fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect()
}

fn sockets_view(columns: Vec<Column>) -> App {
    let mut app = app(TuiSettings {
        numeric: true,
        view: View::Sockets,
        columns,
        ..TuiSettings::default()
    });
    app.show(View::Sockets);
    app
}

#[test]
fn the_body_draws_the_configured_columns() {
    let app = sockets_view(vec![
        Column::Local,
        Column::Uid,
        Column::Inode,
        Column::Netid,
    ]);
    let lines = screen(&app, 140, 30);
    let header = lines
        .iter()
        .find(|l| l.contains("Local Address:Port"))
        .expect("a column header");
    assert!(
        header.contains("UID") && header.contains("Inode"),
        "{header}"
    );
    assert!(
        header.find("Inode") < header.find("Netid"),
        "config order: {header}"
    );
    assert!(!header.contains("Peer Address:Port"), "{header}");
    assert!(!header.contains("Process"), "{header}");
}

#[test]
fn sort_cycles_through_the_configured_columns() {
    let mut app = sockets_view(vec![Column::Netid, Column::Local, Column::Uid]);
    assert_eq!(app.sort.column, Column::Local);
    let mut seen = Vec::new();
    for _ in 0..3 {
        app.handle_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE));
        seen.push(app.sort.column);
    }
    assert_eq!(seen, [Column::Netid, Column::Uid, Column::Local]);
}

#[test]
fn hostile_names_are_escaped_on_screen() {
    let mut socks = sockets();
    let mut u = tcp(
        TcpState::Listen,
        inet("127.0.0.1", 1),
        inet("0.0.0.0", 0),
        (0, 0),
    );
    u.netid = Netid::UnixStream;
    u.local = Endpoint::Unix {
        path: Some("/x\n\x1b]0;t\x07".into()),
        inode: 1,
    };
    u.peer = Endpoint::Unix {
        path: None,
        inode: 0,
    };
    socks.push(owned(u, "e\x1b[2J\u{9b}", 4242, 3));
    let mut app = App::new(
        TuiSettings {
            numeric: true,
            view: View::Sockets,
            ..TuiSettings::default()
        },
        sockeye::tui::QuerySpec::default(),
    );
    app.apply_snapshot(snapshot(socks, 0), None);
    app.show(View::Sockets);
    let lines = screen(&app, 200, 60);
    let row = lines
        .iter()
        .find(|l| l.contains("(4242)"))
        .expect("the hostile socket's row");
    assert!(row.contains("/x\\n\\x1b]0;t\\x07"), "{row}");
    assert!(row.contains("e\\x1b[2J\\u{009b}(4242)"), "{row}");
    for l in &lines {
        assert!(!l.chars().any(char::is_control), "{l:?}");
    }
}

/// `columns = [...]` in the config file: names checked by the column model, an unknown one
/// an error naming file, line and key (exit 2); a good list is in the settings in effect.
#[test]
fn config_columns_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sockeye/config.toml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let run = |text: &str| {
        std::fs::write(&file, text).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .arg("config")
            .env("XDG_CONFIG_HOME", dir.path())
            .env("HOME", dir.path().join("home"))
            .output()
            .unwrap()
    };
    let o = run("[view]\nhistory = 120\ncolumns = [\"netid\", \"bogus\"]\n");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let first = err.lines().next().unwrap_or_default();
    assert!(first.contains(&file.display().to_string()), "{err}");
    assert!(
        first.contains("line 3") && first.contains("view.columns"),
        "{err}"
    );
    assert!(first.contains("'bogus' is not a column"), "{err}");

    let o = run("[view]\ncolumns = [\"uid\", \"Local\"]\n");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("columns = [\"uid\", \"local\"]"), "{out}");
}
