//! The live view's state and update logic, without a terminal.

use std::time::Duration;

use crate::tui::common::*;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use sockeye::group::StateGroupKey;
use sockeye::model::TcpState;
use sockeye::output::columns::Column;
use sockeye::tui::settings::View;
use sockeye::tui::state::{App, GroupId, Row};
use sockeye::tui::worker::Command;
use sockeye::tui::{TuiSettings, delta};

fn settings() -> TuiSettings {
    TuiSettings {
        numeric: true,
        ..TuiSettings::default()
    }
}

fn key(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn selected_row(app: &App) -> Row {
    let vs = app.view_state();
    vs.rows[vs.selected]
}

#[test]
fn states_rows_follow_lifecycle_with_default_collapsed_groups() {
    let app = app(settings());
    let headers: Vec<StateGroupKey> = app.views[0]
        .rows
        .iter()
        .filter_map(|r| match r {
            Row::StateGroup(k) => Some(*k),
            _ => None,
        })
        .collect();
    assert_eq!(
        headers,
        vec![
            StateGroupKey::Tcp(TcpState::Listen),
            StateGroupKey::Tcp(TcpState::SynSent),
            StateGroupKey::Tcp(TcpState::SynRecv),
            StateGroupKey::Tcp(TcpState::Established),
            StateGroupKey::Tcp(TcpState::FinWait2),
            StateGroupKey::Tcp(TcpState::CloseWait),
            StateGroupKey::Tcp(TcpState::TimeWait),
            StateGroupKey::Udp,
            StateGroupKey::Unix,
        ]
    );
    // TIME-WAIT and unix start collapsed: their sockets are not rows.
    let snap = app.snapshot.as_ref().unwrap();
    assert!(app.views[0].rows.iter().all(|r| match r {
        Row::Socket { idx, .. } => snap.sockets[*idx].state != TcpState::TimeWait,
        _ => true,
    }));
    assert_eq!(app.counts.tcp(TcpState::CloseWait), 4);
    assert_eq!(app.counts.tcp(TcpState::TimeWait), 4);
}

#[test]
fn selection_moves_and_clamps() {
    let mut app = app(settings());
    app.set_page(5);
    let n = app.view_state().rows.len();
    key(&mut app, KeyCode::Up);
    assert_eq!(app.view_state().selected, 0);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char('j'));
    assert_eq!(app.view_state().selected, 2);
    key(&mut app, KeyCode::Char('k'));
    assert_eq!(app.view_state().selected, 1);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.view_state().selected, 6);
    assert!(app.view_state().offset <= 6 && app.view_state().offset + 5 > 6);
    key(&mut app, KeyCode::End);
    assert_eq!(app.view_state().selected, n - 1);
    assert_eq!(app.view_state().offset, n - 5);
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.view_state().selected, n - 6);
    key(&mut app, KeyCode::Home);
    assert_eq!((app.view_state().selected, app.view_state().offset), (0, 0));
    app.handle_mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 0,
        row: 0,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(app.view_state().selected, 3);
}

#[test]
fn views_switch_with_tab_and_digits_and_keep_their_selection() {
    let mut app = app(settings());
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.view, View::Listeners);
    assert_eq!(app.view_state().selected, 0);
    key(&mut app, KeyCode::Char('3'));
    assert_eq!(app.view, View::Sockets);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.view, View::Listeners);
    key(&mut app, KeyCode::Char('1'));
    assert_eq!(app.view_state().selected, 1);
}

#[test]
fn enter_and_arrows_collapse_and_expand_groups() {
    let mut app = app(settings());
    let before = app.view_state().rows.len();
    // Row 0 is the LISTEN group with two listeners.
    key(&mut app, KeyCode::Enter);
    assert!(
        app.collapsed
            .contains(&GroupId::State(StateGroupKey::Tcp(TcpState::Listen)))
    );
    assert_eq!(app.view_state().rows.len(), before - 2);
    key(&mut app, KeyCode::Right);
    assert_eq!(app.view_state().rows.len(), before);
    // Left on a socket goes to its group header, Left again collapses.
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Left);
    assert_eq!(app.view_state().selected, 0);
    key(&mut app, KeyCode::Left);
    assert_eq!(app.view_state().rows.len(), before - 2);
}

#[test]
fn enter_on_socket_opens_details_and_asks_for_tcp_info() {
    let mut app = app(settings());
    key(&mut app, KeyCode::Down);
    assert!(matches!(selected_row(&app), Row::Socket { .. }));
    let cmds = key(&mut app, KeyCode::Enter);
    assert!(app.detail);
    match cmds.as_slice() {
        [Command::SetQuery(q)] => assert!(q.tcp_info && q.memory && q.counters),
        _ => panic!("expected one query change"),
    }
    let cmds = key(&mut app, KeyCode::Esc);
    assert!(!app.detail && !app.quit);
    assert!(matches!(cmds.as_slice(), [Command::SetQuery(q)] if !q.tcp_info));
    key(&mut app, KeyCode::Esc);
    assert!(app.quit);
}

#[test]
fn selection_follows_its_socket_across_refreshes() {
    let mut app = app(settings());
    key(&mut app, KeyCode::Char('3'));
    // Select the curl connection (cookie 20) in the flat table.
    let snap = app.snapshot.as_ref().unwrap();
    let pos = app
        .view_state()
        .rows
        .iter()
        .position(|r| matches!(r, Row::Socket { idx, .. } if snap.sockets[*idx].cookie == Some(20)))
        .unwrap();
    for _ in 0..pos {
        key(&mut app, KeyCode::Down);
    }
    // A new refresh with a socket that sorts before it (local 0.0.0.0...).
    let mut socks = sockets();
    socks.insert(
        0,
        with_cookie(
            tcp(
                TcpState::Established,
                inet("1.0.0.1", 1),
                inet("1.0.0.2", 2),
                (0, 0),
            ),
            99,
        ),
    );
    app.apply_snapshot(snapshot(socks, 2), None);
    let snap = app.snapshot.as_ref().unwrap();
    match selected_row(&app) {
        Row::Socket { idx, .. } => assert_eq!(snap.sockets[idx].cookie, Some(20)),
        r => panic!("selection lost: {r:?}"),
    }
    assert_eq!(app.view_state().selected, pos + 1);
}

#[test]
fn sort_cycles_columns_and_reverses() {
    let mut app = app(settings());
    assert_eq!(app.sort.column, Column::Local);
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Char('s'));
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.sort.column, Column::RecvQ);
    key(&mut app, KeyCode::Char('S'));
    assert!(app.sort.descending);
    let snap = app.snapshot.as_ref().unwrap();
    let q: Vec<Option<u32>> = app.views[2]
        .rows
        .iter()
        .map(|r| match r {
            Row::Socket { idx, .. } => snap.sockets[*idx].recv_q,
            _ => None,
        })
        .collect();
    let mut sorted = q.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(q, sorted);
    assert_eq!(q[0], Some(16));
    // Grouped views sort within groups too: the ESTAB group leads with the unread one.
    key(&mut app, KeyCode::Char('1'));
    let first_estab = app.views[0]
        .rows
        .iter()
        .skip_while(|r| **r != Row::StateGroup(StateGroupKey::Tcp(TcpState::Established)))
        .nth(1)
        .copied();
    match first_estab {
        Some(Row::Socket { idx, .. }) => {
            assert_eq!(app.snapshot.as_ref().unwrap().sockets[idx].recv_q, Some(16))
        }
        r => panic!("unexpected {r:?}"),
    }
}

#[test]
fn filter_bar_error_keeps_the_last_good_filter() {
    let mut app = app(settings());
    key(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "state close-wait");
    let cmds = key(&mut app, KeyCode::Enter);
    assert!(
        matches!(cmds.as_slice(), [Command::SetQuery(q)] if q.states.single() == Some(TcpState::CloseWait))
    );
    assert_eq!(app.filter.applied, "state close-wait");
    assert!(app.filter.input.is_none());

    key(&mut app, KeyCode::Char('/'));
    assert_eq!(app.filter.input.as_deref(), Some("state close-wait"));
    key(&mut app, KeyCode::Backspace);
    type_text(&mut app, "x-nonsense");
    // 'q' typed into the bar is text, not quit.
    type_text(&mut app, "q");
    assert!(!app.quit);
    let cmds = key(&mut app, KeyCode::Enter);
    assert!(
        cmds.is_empty(),
        "a bad filter sends nothing to the collector"
    );
    assert!(app.filter.error.is_some());
    assert!(app.filter.input.is_some(), "the bar stays open to fix it");
    assert_eq!(app.filter.applied, "state close-wait");
    key(&mut app, KeyCode::Esc);
    assert!(app.filter.input.is_none() && app.filter.error.is_none());
    assert_eq!(app.filter.applied, "state close-wait");
    assert!(!app.quit);
}

#[test]
fn pause_interval_and_processes_reach_the_collector() {
    let mut app = app(settings());
    assert!(matches!(
        key(&mut app, KeyCode::Char(' ')).as_slice(),
        [Command::Pause(true)]
    ));
    assert!(app.paused);
    assert!(matches!(
        key(&mut app, KeyCode::Char(' ')).as_slice(),
        [Command::Pause(false)]
    ));
    assert!(
        matches!(key(&mut app, KeyCode::Char('+')).as_slice(), [Command::SetInterval(d)] if *d == Duration::from_secs(2))
    );
    key(&mut app, KeyCode::Char('-'));
    key(&mut app, KeyCode::Char('-'));
    key(&mut app, KeyCode::Char('-'));
    assert_eq!(app.interval, Duration::from_millis(200));
    assert!(
        key(&mut app, KeyCode::Char('-')).is_empty(),
        "0.2 s is the floor"
    );
    let cmds = key(&mut app, KeyCode::Char('p'));
    assert!(!app.show_processes);
    assert!(matches!(cmds.as_slice(), [Command::SetQuery(q)] if !q.processes));
    app.scope_needs_processes = true;
    assert!(
        app.needs().processes,
        "a process scope keeps attribution on"
    );
    assert!(key(&mut app, KeyCode::Char('?')).is_empty());
    assert!(app.help);
    key(&mut app, KeyCode::Esc);
    assert!(!app.help && !app.quit);
    key(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn ctrl_c_quits_even_in_the_filter_bar() {
    let mut app = app(settings());
    key(&mut app, KeyCode::Char('/'));
    app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit);
}

#[test]
fn deltas_mark_new_sockets_and_changed_queues_for_one_refresh() {
    let mut app = app(settings());
    let snap = app.snapshot.as_ref().unwrap();
    let idx_of = |cookie| {
        snap.sockets
            .iter()
            .position(|s| s.cookie == Some(cookie))
            .unwrap()
    };
    assert_eq!(app.changes.marks[idx_of(16)], delta::NEW);
    assert_eq!(app.changes.marks[idx_of(11)], delta::QUEUE_CHANGED);
    assert_eq!(app.changes.marks[idx_of(1)], 0);
    assert_eq!(app.changes.counters.listen_overflows, Some(3));
    assert_eq!(app.changes.counters.retrans_segs, Some(0));
    // A third identical refresh clears the marks.
    let same = app.snapshot.clone().unwrap();
    app.apply_snapshot(snapshot(same.sockets, 2), None);
    assert!(app.changes.marks.iter().all(|m| *m == 0));
    assert_eq!(
        app.history
            .get(TcpState::CloseWait)
            .iter()
            .collect::<Vec<_>>(),
        vec![3, 4, 4]
    );
}

#[test]
fn byte_rates_between_refreshes() {
    let mut app = App::new(settings(), Default::default());
    let mut s = with_cookie(
        tcp(
            TcpState::Established,
            inet("127.0.0.1", 1),
            inet("127.0.0.1", 2),
            (0, 0),
        ),
        5,
    );
    s.tcp_info = Some(Box::default());
    app.apply_snapshot(snapshot(vec![s.clone()], 0), None);
    let info = s.tcp_info.as_mut().unwrap();
    info.bytes_acked = 2000;
    info.bytes_received = 500;
    app.apply_snapshot(snapshot(vec![s], 2), None);
    let r = app.changes.rates[0].unwrap();
    assert_eq!((r.sent, r.received), (1000.0, 250.0));
}

#[test]
fn listeners_view_tree() {
    let mut app = app(settings());
    key(&mut app, KeyCode::Char('2'));
    let rows = &app.view_state().rows;
    assert!(matches!(rows[0], Row::Listener(0)));
    // The full backlog listener: 3 established children + 1 SYN-RECV, then the next listener.
    assert!(matches!(rows[5], Row::Listener(1)));
    assert!(rows.contains(&Row::OutboundHeader));
    let l = &app.tree.listeners[1];
    assert_eq!((l.close_wait, l.time_wait), (4, 1));
    // Collapse the first listener.
    key(&mut app, KeyCode::Enter);
    assert!(matches!(app.view_state().rows[1], Row::Listener(1)));
}

/// The packed-key fast path and the merge with string keys (unix paths, process names) give
/// exactly the order of sorting on the full keys, for every column and direction.
#[test]
fn sorted_order_equals_sorting_on_full_keys() {
    use sockeye::model::{Endpoint, Netid};
    use sockeye::tui::sort::{Sort, sorted_order};
    let mut socks = sockets();
    for i in 0..300u32 {
        let port = (i * 7919 % 50) as u16;
        let mut s = match i % 5 {
            0 => tcp(
                TcpState::Established,
                inet("10.0.0.1", port),
                inet("::1", 80),
                (i % 3, 0),
            ),
            1 => tcp(
                TcpState::TimeWait,
                inet("::ffff:127.0.0.1", port),
                inet("127.0.0.1", 9),
                (0, 0),
            ),
            2 => {
                let mut u = tcp(
                    TcpState::Listen,
                    inet("0.0.0.0", port),
                    inet("0.0.0.0", 0),
                    (0, 5),
                );
                u.netid = Netid::UnixStream;
                u.local = Endpoint::Unix {
                    path: (i % 3 != 0).then(|| format!("/run/s{}", i % 4).into()),
                    inode: u64::from(i),
                };
                u
            }
            3 => {
                let mut u = tcp(
                    TcpState::Established,
                    inet("127.0.0.1", port),
                    inet("127.0.0.1", 1),
                    (0, 0),
                );
                u.recv_q = None;
                u
            }
            _ => tcp(
                TcpState::CloseWait,
                inet("127.0.0.2", port),
                inet("127.0.0.1", 2),
                (1, 1),
            ),
        };
        if i % 4 == 0 {
            s = owned(s, ["b", "a", "c"][(i % 3) as usize], i % 7, 3);
        }
        socks.push(s);
    }
    for column in Column::ALL {
        for descending in [false, true] {
            let c = column;
            let second = if c == sockeye::output::columns::Column::Local {
                sockeye::output::columns::Column::Peer
            } else {
                sockeye::output::columns::Column::Local
            };
            let mut want: Vec<usize> = (0..socks.len()).collect();
            want.sort_by_key(|&i| (c.sort_key(&socks[i]), second.sort_key(&socks[i]), i));
            if descending {
                want.reverse();
            }
            let got = sorted_order(&socks, Sort { column, descending });
            assert_eq!(got, want, "{column:?} descending={descending}");
        }
    }
}

/// A rank hint (the previous refresh's order) changes how fast the sort is, never its
/// result: exact, stale, duplicated, out-of-range and missing ranks all give the same order.
#[test]
fn rank_hint_never_changes_the_order() {
    use sockeye::tui::delta::NO_RANK;
    use sockeye::tui::sort::{Sort, ascending_order, sorted_order};
    let socks: Vec<_> = sockets()
        .into_iter()
        .chain((0..200u16).map(|p| {
            tcp(
                TcpState::Established,
                inet("127.0.0.1", 40000 + p * 37 % 200),
                inet(if p % 3 == 0 { "::1" } else { "127.0.0.9" }, 80),
                (0, 0),
            )
        }))
        .collect();
    let n = socks.len() as u32;
    for column in Column::ALL {
        let want = sorted_order(
            &socks,
            Sort {
                column,
                descending: false,
            },
        );
        let exact: Vec<u32> = {
            let mut r = vec![0; socks.len()];
            for (pos, &i) in want.iter().enumerate() {
                r[i] = pos as u32;
            }
            r
        };
        let hints: Vec<Vec<u32>> = vec![
            exact.clone(),
            exact.iter().map(|r| n - 1 - r).collect(),
            (0..n)
                .map(|i| if i % 4 == 0 { NO_RANK } else { i * 7 % n })
                .collect(),
            (0..n).map(|i| i % 5).collect(),
            (0..n).map(|i| i * 1000).collect(),
            vec![NO_RANK; socks.len()],
        ];
        for (h, hint) in hints.iter().enumerate() {
            assert_eq!(
                ascending_order(&socks, column, Some(hint)),
                want,
                "{column:?}, hint {h}"
            );
        }
        // A hint of the wrong length is ignored.
        assert_eq!(ascending_order(&socks, column, Some(&[1, 2])), want);
    }
}

/// Across refreshes the tracker hands each surviving socket its previous position.
#[test]
fn tracker_reports_previous_ranks() {
    use sockeye::tui::delta::NO_RANK;
    use sockeye::tui::prepare::{Preparer, prepare};
    use sockeye::tui::sort::Sort;
    let mut tracker = Preparer::default();
    let sort = Sort {
        column: Column::Local,
        descending: false,
    };
    let socks = sockets();
    let first = prepare(&mut tracker, snapshot(socks.clone(), 1), sort);
    assert!(first.changes.ranks.iter().all(|&r| r == NO_RANK));
    let mut again = socks.clone();
    let newcomer = tcp(
        TcpState::Established,
        inet("127.0.0.1", 1),
        inet("127.0.0.1", 2),
        (0, 0),
    );
    again.push(newcomer);
    let second = prepare(&mut tracker, snapshot(again, 2), sort);
    for (pos, &i) in first.order.iter().enumerate() {
        assert_eq!(second.changes.ranks[i], pos as u32, "socket {i}");
    }
    assert_eq!(second.changes.ranks[socks.len()], NO_RANK);
    assert_eq!(
        second.order,
        sockeye::tui::sort::sorted_order(&second.snapshot.sockets, sort)
    );
}

/// Applying a snapshot hands back the one it replaces (for the collector to reuse its table).
#[test]
fn apply_returns_the_replaced_snapshot() {
    use sockeye::tui::prepare::{Preparer, prepare};
    let mut app = App::new(settings(), sockeye::tui::QuerySpec::default());
    let mut tracker = Preparer::default();
    let first = prepare(&mut tracker, snapshot(sockets(), 1), app.sort);
    assert!(app.apply_prepared(first, None).is_none());
    let second = prepare(&mut tracker, snapshot(sockets(), 2), app.sort);
    let old = app
        .apply_prepared(second, None)
        .expect("the first snapshot comes back");
    assert_eq!(old.sockets.len(), sockets().len());
    assert_eq!(
        app.snapshot.as_ref().map(|s| s.sockets.len()),
        Some(sockets().len())
    );
}

/// Only the view shown is rebuilt each refresh; a hidden one is rebuilt when shown, from the
/// latest snapshot, with its selection still on the socket it was on.
#[test]
fn a_hidden_view_is_rebuilt_when_shown_and_keeps_its_selection() {
    let mut app = app(settings());
    app.show(View::Sockets);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    let cookie_at = |app: &App| match selected_row(app) {
        Row::Socket { idx, .. } => app.snapshot.as_ref().unwrap().sockets[idx].cookie,
        other => panic!("not a socket row: {other:?}"),
    };
    let picked = cookie_at(&app);
    assert!(picked.is_some());
    app.show(View::States);
    // Two refreshes while hidden: the table reversed, then a socket less at its front.
    let mut socks = app.snapshot.clone().unwrap().sockets;
    socks.reverse();
    app.apply_snapshot(snapshot(socks.clone(), 2), None);
    socks.remove(0);
    let n = socks.len();
    app.apply_snapshot(snapshot(socks, 4), None);
    app.show(View::Sockets);
    assert_eq!(
        app.view_state().rows.len(),
        n,
        "rows of the latest snapshot"
    );
    assert_eq!(cookie_at(&app), picked, "still on the socket it was on");
    // Tab order reaches a hidden view the same way.
    key(&mut app, KeyCode::Tab);
    assert_ne!(app.view, View::Sockets);
    let rows = app.view_state().rows.len();
    assert!(rows > 0, "{:?} has rows", app.view);
}
