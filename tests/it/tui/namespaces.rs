//! The Namespaces view (key 4): one group per namespace or container with its state counts
//! and listeners, Enter opening its sockets; the header counts the namespaces watched.

use std::sync::Arc;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use sockeye::model::{Container, NetnsRead, NetnsReads, NetnsTag, Snapshot, Source, TcpState};
use sockeye::tui::settings::View;
use sockeye::tui::state::{App, Row};
use sockeye::tui::{QuerySpec, TuiSettings, ui};

use crate::tui::common::{inet, snapshot, tcp, with_cookie};

fn key(app: &mut App, code: KeyCode) {
    let _ = app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    app.set_page(ui::layout(Rect::new(0, 0, w, h), app).page());
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    t.backend().to_string()
}

fn tag(inode: u64, name: Option<&str>, container: Option<&str>) -> Arc<NetnsTag> {
    let container = container.map(|n| Container {
        runtime: "docker",
        id: "3f4e5a6b7c8d".repeat(5) + "3f4e",
        name: Some(n.to_string()),
        ..Container::default()
    });
    Arc::new(NetnsTag::new(inode, name.map(str::to_string), container))
}

/// Two namespaces with a listener on the same address and port (each its own), a container
/// with a full accept queue, CLOSE-WAIT and TIME-WAIT, and the host's own.
fn spanning(extra: bool) -> Snapshot {
    let web = tag(4026532281, Some("web"), None);
    let shop = tag(4026532999, None, Some("shop-db\x1b[2J"));
    let host = tag(4026531833, None, None);
    let mut v = Vec::new();
    let mut put = |t: &Arc<NetnsTag>, mut s: sockeye::model::Socket, c: u64| {
        s.netns = Some(Arc::clone(t));
        v.push(with_cookie(s, c));
    };
    let lst = |q| tcp(TcpState::Listen, inet("0.0.0.0", 80), inet("0.0.0.0", 0), q);
    put(&web, lst((0, 128)), 1);
    put(&shop, lst((5, 5)), 2);
    put(
        &host,
        tcp(
            TcpState::Listen,
            inet("0.0.0.0", 22),
            inet("0.0.0.0", 0),
            (0, 128),
        ),
        3,
    );
    for i in 0..3 {
        let peer = inet("10.0.0.9", 40000 + i);
        put(
            &shop,
            tcp(
                TcpState::Established,
                inet("10.0.0.2", 80),
                peer.clone(),
                (0, 0),
            ),
            10 + u64::from(i),
        );
        put(
            &shop,
            tcp(
                TcpState::CloseWait,
                inet("10.0.0.2", 80),
                inet("10.0.0.8", 41000 + i),
                (1, 0),
            ),
            20 + u64::from(i),
        );
        put(
            &web,
            tcp(TcpState::TimeWait, inet("10.0.1.2", 80), peer, (0, 0)),
            30 + u64::from(i),
        );
    }
    if extra {
        let new = tag(4026533333, Some("late"), None);
        put(
            &new,
            tcp(
                TcpState::Listen,
                inet("127.0.0.1", 9000),
                inet("0.0.0.0", 0),
                (0, 10),
            ),
            40,
        );
    }
    let mut snap = snapshot(v, 0);
    let mut reads: Vec<NetnsRead> = Vec::new();
    for t in [&web, &shop, &host] {
        reads.push(NetnsRead {
            tag: Arc::clone(t),
            source: Source::Netlink,
            fallback_reason: None,
            counters: None,
            sockets: 0,
        });
    }
    if extra {
        reads.push(reads[0].clone());
    }
    snap.netns = Some(Arc::new(NetnsReads {
        read: reads,
        unreadable: vec![("net:[1]".into(), "denied".into())],
    }));
    snap
}

#[test]
fn namespaces_view_groups_counts_listeners_and_opens_sockets() {
    let mut app = App::new(
        TuiSettings {
            numeric: true,
            ..TuiSettings::default()
        },
        QuerySpec::default(),
    );
    app.hostname = "testhost".into();
    app.apply_snapshot(spanning(false), Some(Duration::from_millis(7)));
    key(&mut app, KeyCode::Char('4'));
    assert_eq!(app.view, View::Namespaces);
    let labels: Vec<&str> = app.netns.iter().map(|g| g.label()).collect();
    // Busiest first; the container's name is its label.
    assert_eq!(labels, ["shop-db\x1b[2J", "web", "net:[4026531833]"]);
    let shop = &app.netns[0];
    assert_eq!(shop.tcp(TcpState::CloseWait), 3);
    assert_eq!(shop.listeners.len(), 1, "its own :80, not web's");
    assert_eq!(app.netns[1].tcp(TcpState::TimeWait), 3);
    let s = screen(&mut app, 100, 24);
    assert!(s.contains("3 namespaces"), "{s}");
    assert!(s.contains("(1 unreadable)"), "{s}");
    assert!(s.contains("Namespaces"), "the tab: {s}");
    assert!(!s.contains('\x1b'), "names are escaped: {s}");
    assert!(s.contains("shop-db\\x1b[2J"), "{s}");
    assert!(s.contains("CLOSE-WAIT 3"), "{s}");
    assert!(s.contains("TIME-WAIT 3"), "{s}");
    assert!(s.contains("5/5"), "the full accept queue's gauge: {s}");
    insta::assert_snapshot!("namespaces_100x24", s);

    // Enter on the first namespace opens its sockets under its listener.
    let rows_before = app.view_state().rows.len();
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Enter);
    let rows = &app.view_state().rows;
    assert_eq!(rows.len(), rows_before + app.netns[0].sockets);
    assert!(matches!(rows[0], Row::Netns(0)));
    assert!(matches!(rows[1], Row::NetnsListener(_)));
    assert!(matches!(rows[2], Row::Socket { depth: 1, .. }));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view_state().rows.len(), rows_before);
    // Left collapses the namespace to its header.
    key(&mut app, KeyCode::Left);
    assert_eq!(app.view_state().rows.len(), rows_before - 1);

    // A namespace appearing at the next refresh is a new group; the selection stays.
    key(&mut app, KeyCode::Down);
    let selected = app.view_state().selected;
    app.apply_snapshot(spanning(true), Some(Duration::from_millis(7)));
    assert_eq!(app.netns.len(), 4);
    assert_eq!(app.view_state().selected, selected);
    assert!(screen(&mut app, 100, 24).contains("4 namespaces"));
    // And vanishing.
    app.apply_snapshot(spanning(false), Some(Duration::from_millis(7)));
    assert_eq!(app.netns.len(), 3);
}

#[test]
fn without_all_netns_the_view_is_one_group() {
    let mut app = crate::tui::common::app(TuiSettings {
        numeric: true,
        ..TuiSettings::default()
    });
    key(&mut app, KeyCode::Char('4'));
    assert_eq!(app.netns.len(), 1);
    assert_eq!(app.netns[0].label(), "this namespace");
    let s = screen(&mut app, 100, 24);
    assert!(!s.contains("namespaces ·"), "{s}");
}

/// With --all-netns every namespace has its own kernel counters (the merged snapshot's are
/// only the first namespace's): the header's ListenOverflows/ListenDrops/RetransSegs deltas
/// sum every namespace's, and TIME-WAIT exhaustion is the fullest namespace's against its
/// own tcp_max_tw_buckets, never the first namespace's count against all the sockets.
#[test]
fn all_netns_header_counts_every_namespace() {
    use sockeye::model::KernelCounters;
    let at = |overflows: [u64; 3], tw: [u64; 3], secs: u64| {
        let mut snap = spanning(false);
        snap.taken_at += Duration::from_secs(secs);
        let reads = Arc::get_mut(snap.netns.as_mut().unwrap()).unwrap();
        for (i, r) in reads.read.iter_mut().enumerate() {
            r.counters = Some(KernelCounters {
                listen_overflows: Some(overflows[i]),
                listen_drops: Some(overflows[i]),
                retrans_segs: Some(7),
                tcp_tw: Some(tw[i]),
                tcp_max_tw_buckets: Some(1000),
                ..KernelCounters::default()
            });
        }
        snap.counters = reads.read[0].counters.clone();
        snap
    };
    let mut app = App::new(
        TuiSettings {
            numeric: true,
            ..TuiSettings::default()
        },
        QuerySpec::default(),
    );
    app.hostname = "testhost".into();
    app.apply_snapshot(at([100, 5, 0], [3, 0, 0], 0), None);
    // Only the second namespace's listener overflowed, and its TIME-WAIT grew.
    app.apply_snapshot(at([100, 9, 0], [3, 900, 0], 1), None);
    let s = screen(&mut app, 120, 24);
    assert!(
        s.contains("ListenOverflows +4 ListenDrops +4 RetransSegs +0"),
        "{s}"
    );
    let line = s.lines().find(|l| l.contains("TIME-WAIT")).unwrap();
    assert!(
        line.contains("TIME-WAIT 3 ")
            && line.contains("903 in all namespaces, fullest 90% of 1000 max"),
        "{line}"
    );
    assert!(!line.contains("system-wide"), "{line}");
}
