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

/// A closed connection for the Closed view: `local` → `peer` ports, closed `secs` after
/// 2026-12-02T00:00:00Z.
fn closed(
    local: u16,
    peer: u16,
    secs: u64,
    ending: sockeye::closed::Ending,
) -> (
    std::time::SystemTime,
    sockeye::collect::netlink::events::Destroyed,
) {
    use sockeye::model::{Endpoint, Netid, Socket, TcpInfo, TcpState};
    let mut s = Socket::new(
        Netid::Tcp,
        TcpState::Close,
        Endpoint::Inet {
            addr: [10, 0, 0, 1].into(),
            port: local,
        },
        Endpoint::Inet {
            addr: [192, 0, 2, 7].into(),
            port: peer,
        },
    );
    s.cookie = Some(u64::from(local));
    s.tcp_info = Some(Box::new(TcpInfo {
        bytes_sent: 1500 * u64::from(local % 7 + 1),
        bytes_received: 320,
        total_retrans: u32::from(local % 3),
        ..TcpInfo::default()
    }));
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_169_600 + secs);
    (
        at,
        sockeye::collect::netlink::events::Destroyed {
            socket: s,
            ending: Some(ending),
        },
    )
}

#[test]
fn closed_view_newest_first_filtered_with_final_details() {
    use sockeye::closed::Ending;
    let mut app = crate::tui::common::app(settings());
    app.closed.push_events(vec![
        closed(41000, 443, 1, Ending::Orderly),
        closed(41001, 443, 2, Ending::Reset),
        closed(41002, 5432, 3, Ending::Timeout),
    ]);
    app.refresh_closed();
    key(&mut app, KeyCode::Char('5'));
    assert_eq!(app.view, View::Closed);
    let s = screen(&mut app, 140, 16);
    // Newest first; the header says where closes come from.
    let reset = s.find("41001").expect("a row");
    assert!(s.find("41002").expect("a row") < reset, "{s}");
    assert!(reset < s.find("41000").expect("a row"), "{s}");
    assert!(
        s.contains("from destroy events") && s.contains("newest first"),
        "{s}"
    );
    insta::assert_snapshot!("closed_140x16", s);
    // The filter applies to closed connections too.
    key(&mut app, KeyCode::Char('/'));
    for c in "dport = :443".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 120, 16);
    assert!(!s.contains("41002") && s.contains("41001"), "{s}");
    // Enter: the details, with how and when it ended and the final tcp_info.
    key(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 120, 30);
    assert!(s.contains("ended reset"), "{s}");
    insta::assert_snapshot!("closed_detail_120x30", s);
}

#[test]
fn closed_view_across_namespaces_names_each_close_s_namespace() {
    use sockeye::closed::Ending;
    use sockeye::model::NetnsTag;
    use std::sync::Arc;
    let mut app = crate::tui::common::app(settings());
    app.closed.all_netns = true;
    app.closed.namespaces = Some((
        2,
        vec![("net:[4026532999]".into(), "permission denied".into())],
    ));
    let web = Arc::new(NetnsTag::new(4026532281, Some("web".into()), None));
    let host = Arc::new(NetnsTag::new(4026531840, None, None));
    let mut a = closed(41000, 443, 1, Ending::Orderly);
    a.1.socket.netns = Some(web);
    let mut b = closed(41001, 443, 2, Ending::Reset);
    b.1.socket.netns = Some(host);
    app.closed.push_events(vec![a, b]);
    app.refresh_closed();
    key(&mut app, KeyCode::Char('5'));
    let s = screen(&mut app, 140, 12);
    let line = |port: &str| {
        s.lines()
            .find(|l| l.contains(port))
            .unwrap_or_default()
            .to_string()
    };
    assert!(s.contains("Netns"), "{s}");
    assert!(line("41000").contains("web"), "{s}");
    assert!(line("41001").contains("net:[4026531840]"), "{s}");
    assert!(
        s.contains("destroy events in 2 namespaces") && s.contains("not entered: net:[4026532999]"),
        "{s}"
    );
    insta::assert_snapshot!("closed_netns_140x12", s);
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

/// With destroy events, connections that opened and closed between two refreshes (no
/// snapshot saw them) are counted; without, the note says nothing of them.
#[test]
fn lifecycle_counts_connections_only_destroy_events_saw() {
    use crate::tui::common::{snapshot, sockets};
    use sockeye::closed::Ending;
    let mut app = App::new(settings(), sockeye::tui::QuerySpec::default());
    app.apply_snapshot(snapshot(sockets(), 0), None);
    // Two freed between the refreshes at 0 s and 2 s, one after the second.
    let at =
        |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000 + secs);
    let mut batch = vec![
        closed(42000, 443, 0, Ending::Orderly),
        closed(42001, 443, 0, Ending::Reset),
        closed(42002, 443, 0, Ending::Orderly),
    ];
    batch[0].0 = at(1);
    batch[1].0 = at(2);
    batch[2].0 = at(3);
    app.closed.push_events(batch);
    app.apply_snapshot(snapshot(sockets(), 2), None);
    assert_eq!(app.moves.unseen_closes, Some(2));
    key(&mut app, KeyCode::Char('6'));
    let s = screen(&mut app, 120, 45);
    assert!(
        s.contains("2 connections opened and closed between refreshes (destroy events)"),
        "{s}"
    );
    // The third counts in the next interval, once.
    app.apply_snapshot(snapshot(sockets(), 4), None);
    assert_eq!(app.moves.unseen_closes, Some(1));
    app.closed.without_events("refused".into());
    app.apply_snapshot(snapshot(sockets(), 6), None);
    assert_eq!(app.moves.unseen_closes, None);
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

fn finding() -> sockeye::findings::Finding {
    sockeye::findings::Finding {
        rule: sockeye::findings::Rule::UnixListenerFull,
        severity: sockeye::findings::Severity::Critical,
        place: "unix listener /run/app.sock (app pid 5)".into(),
        evidence: vec!["connections waiting for accept() (Recv-Q): 2 → 2 → 2 of backlog 1".into()],
        why: "The queue is past the listen() backlog: a new client's connect() blocks, or \
              fails with EAGAIN on a non-blocking socket, until the server accepts."
            .into(),
        action: "See why the server does not accept; give listen() a larger backlog.".into(),
        threshold: "queue above the backlog is critical".into(),
        sockets: Some("src /run/app.sock".into()),
    }
}

fn host_finding() -> sockeye::findings::Finding {
    sockeye::findings::Finding {
        rule: sockeye::findings::Rule::Retransmissions,
        severity: sockeye::findings::Severity::Warning,
        place: "host".into(),
        evidence: vec!["RetransSegs +40 of OutSegs +1000 (4.0%)".into()],
        why: "Segments are lost and sent again.".into(),
        action: "Look for loss on the path.".into(),
        threshold: "retrans_ratio = 0.01".into(),
        sockets: None,
    }
}

fn stuck_finding() -> sockeye::findings::Finding {
    sockeye::findings::Finding {
        rule: sockeye::findings::Rule::StuckReceiver,
        severity: sockeye::findings::Severity::Warning,
        place: "listener 127.0.0.1:8080 (app pid 5)".into(),
        evidence: vec!["1 connection(s), 4096 bytes unread (Recv-Q) in all".into()],
        why: "The application does not read these sockets.".into(),
        action: "See what the process is doing instead of reading.".into(),
        threshold: "recv_q_min = 1024 bytes in every snapshot, never decreasing".into(),
        sockets: Some("( src 127.0.0.1:8080 dst 127.0.0.1:40000 )".into()),
    }
}

#[test]
fn a_selected_finding_becomes_the_filter_and_the_view() {
    let mut app = crate::tui::common::app(settings());
    app.findings = vec![finding(), stuck_finding(), host_finding()];
    key(&mut app, KeyCode::Char('f'));
    key(&mut app, KeyCode::Down);
    assert_eq!(app.findings_selected, 1);
    insta::assert_snapshot!("findings_panel_selected_100x40", screen(&mut app, 100, 40));
    // A host-wide counter names no sockets: the panel stays, a notice says so.
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.findings_selected, 2, "the selection stops at the last");
    key(&mut app, KeyCode::Enter);
    assert!(app.show_findings);
    assert!(app.filter.applied.is_empty(), "{}", app.filter.applied);
    assert!(
        screen(&mut app, 100, 40).contains("host-wide counter, it names no sockets"),
        "no notice"
    );
    // A connection's finding: its filter, in the flat table.
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Enter);
    assert!(!app.show_findings, "the panel closes");
    assert_eq!(
        app.filter.applied,
        "( src 127.0.0.1:8080 dst 127.0.0.1:40000 )"
    );
    assert_eq!(app.view, View::Sockets);
    let shown = screen(&mut app, 100, 40);
    assert!(shown.contains("stuck-receiver: its sockets"), "{shown}");
    // A listener's: its filter, in Listeners; Up/Down move the view's rows again.
    key(&mut app, KeyCode::Char('f'));
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.filter.applied, "src /run/app.sock");
    assert_eq!(app.view, View::Listeners);
    // Esc closes the panel rather than quitting.
    key(&mut app, KeyCode::Char('f'));
    key(&mut app, KeyCode::Esc);
    assert!(!app.show_findings && !app.quit);
}

#[test]
fn findings_in_the_header_and_the_f_panel() {
    let mut app = crate::tui::common::app(settings());
    app.findings = vec![finding()];
    let closed = screen(&mut app, 100, 30);
    assert!(closed.contains("1 critical (f)"), "{closed}");
    key(&mut app, KeyCode::Char('f'));
    assert!(app.show_findings);
    insta::assert_snapshot!("findings_panel_100x30", screen(&mut app, 100, 30));
    key(&mut app, KeyCode::Char('f'));
    assert!(!app.show_findings);
    // None: the header says nothing, the panel says why it is empty.
    app.findings.clear();
    key(&mut app, KeyCode::Char('f'));
    let empty = screen(&mut app, 100, 30);
    assert!(!empty.contains("critical"), "{empty}");
    assert!(empty.contains("no findings"), "{empty}");
}

/// `--pid`/`attach --pid` on a program that exited: the header says so instead of showing an
/// idle program with no sockets.
#[test]
fn a_scoped_pid_that_exited_is_named_in_the_header() {
    let mut app = crate::tui::common::app(settings());
    app.scope_label = Some("pid 42".into());
    let live = screen(&mut app, 120, 10);
    assert!(
        live.contains("pid 42") && !live.contains("exited"),
        "{live}"
    );
    app.scope_exited = vec![42];
    let gone = screen(&mut app, 120, 10);
    let header = gone.lines().next().unwrap_or_default();
    assert!(header.contains("pid 42 (42 exited)"), "{gone}");
}
