//! `K` in the live view: the confirmation names what will be closed, only `y` closes, the
//! result line says what happened. The real close runs on the test's own CLOSE-WAIT socket
//! (root: SOCK_DESTROY needs CAP_NET_ADMIN).

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sockeye::collect::{Collector, Query};
use sockeye::model::Endpoint;
use sockeye::tui::settings::View;
use sockeye::tui::state::App;
use sockeye::tui::{QuerySpec, TuiSettings};

use crate::common::require_root;

fn key(app: &mut App, c: char) {
    let _ = app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

fn on_port(port: u16) -> impl Fn(&Endpoint) -> bool {
    move |e| matches!(e, Endpoint::Inet { port: p, .. } if *p == port)
}

#[test]
fn k_asks_names_the_socket_and_only_y_closes_it() {
    if !require_root("SOCK_DESTROY needs CAP_NET_ADMIN") {
        return;
    }
    // The server end of a connection the client closed: CLOSE-WAIT, held by this test.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (mut server, _) = l.accept().unwrap();
    drop(c);
    std::thread::sleep(Duration::from_millis(100));
    let mut snap = Collector::new(Query::default()).snapshot().unwrap();
    let here = on_port(port);
    snap.sockets
        .retain(|s| here(&s.local) && !matches!(s.peer, Endpoint::Inet { port: 0, .. }));
    assert_eq!(snap.sockets.len(), 1, "{:?}", snap.sockets);

    let mut app = App::new(TuiSettings::default(), QuerySpec::default());
    app.apply_snapshot(snap, None);
    key(&mut app, '3');
    assert_eq!(app.view, View::Sockets);
    key(&mut app, 'K');
    let what = app.confirm.as_ref().expect("a confirmation").what.clone();
    assert!(
        what.contains("CLOSE-WAIT") && what.contains(&format!(":{port}")),
        "{what}"
    );
    key(&mut app, 'n');
    assert!(app.confirm.is_none());
    assert_eq!(app.notice.as_deref(), Some("nothing closed"));

    key(&mut app, 'K');
    key(&mut app, 'y');
    assert_eq!(app.notice.as_deref(), Some("closed 1 socket(s)"));
    // The kernel no longer has it in CLOSE-WAIT, and its owner cannot write any more.
    let after = Collector::new(Query::default()).snapshot().unwrap();
    assert!(
        !after
            .sockets
            .iter()
            .any(|s| here(&s.local) && s.state == sockeye::model::TcpState::CloseWait),
        "still in CLOSE-WAIT"
    );
    let err = std::io::Write::write(&mut server, b"x").expect_err("the socket was closed");
    assert!(
        matches!(err.raw_os_error(), Some(libc::ECONNABORTED | libc::EPIPE)),
        "{err}"
    );
    let _ = server.read(&mut [0u8; 8]);

    // A closed connection cannot be closed again; a listener is left alone.
    key(&mut app, '5');
    key(&mut app, 'K');
    assert!(app.confirm.is_none());
}

#[test]
fn k_in_a_read_only_view_says_it_is_disabled_and_why() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let _c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (_server, _) = l.accept().unwrap();
    let mut snap = Collector::new(Query::default()).snapshot().unwrap();
    let here = on_port(port);
    snap.sockets
        .retain(|s| here(&s.local) && !matches!(s.peer, Endpoint::Inet { port: 0, .. }));
    assert_eq!(snap.sockets.len(), 1, "{:?}", snap.sockets);
    let settings = TuiSettings {
        read_only: true,
        ..TuiSettings::default()
    };
    let mut app = App::new(settings, QuerySpec::default());
    app.apply_snapshot(snap.clone(), None);
    key(&mut app, '3');
    key(&mut app, 'K');
    assert!(app.confirm.is_none(), "no confirmation in a read-only view");
    let notice = app.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("disabled") && notice.contains("--read-only") && notice.contains("[tui]"),
        "{notice}"
    );
    // The same view without read-only asks (as root; the test answers no), or without
    // CAP_NET_ADMIN says that is what is missing.
    let mut app = App::new(TuiSettings::default(), QuerySpec::default());
    app.apply_snapshot(snap, None);
    key(&mut app, '3');
    key(&mut app, 'K');
    let notice = app.notice.clone().unwrap_or_default();
    assert!(
        app.confirm.is_some() || notice.contains("CAP_NET_ADMIN"),
        "{notice}"
    );
    key(&mut app, 'n');
}
