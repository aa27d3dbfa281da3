//! Benchmark (not a test): the live view's per-refresh cost on a synthetic 100,000-socket
//! snapshot. Run with
//! `cargo test --release --test it tui::perf -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use crate::tui::common::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use sockeye::model::{Socket, TcpState};
use sockeye::tui::prepare::{Preparer, prepare};
use sockeye::tui::state::App;
use sockeye::tui::{QuerySpec, TuiSettings, ui};

/// 20 listeners with 2,500 connections each, 40,000 outbound connections to 200 remote
/// endpoints, 10,000 TIME-WAIT: 100,020 TCP sockets.
fn big(round: u64) -> Vec<Socket> {
    let mut v = Vec::with_capacity(100_020);
    let mut cookie = 1u64;
    let mut next = || {
        cookie += 1;
        cookie
    };
    for l in 0..20u16 {
        let port = 8000 + l;
        v.push(with_cookie(
            owned(
                tcp(
                    TcpState::Listen,
                    inet("0.0.0.0", port),
                    inet("0.0.0.0", 0),
                    (0, 4096),
                ),
                "server",
                1000 + u32::from(l),
                3,
            ),
            next(),
        ));
        for c in 0..2500u32 {
            let peer = inet(
                &format!("10.{}.{}.{}", l, c / 250, c % 250),
                40000 + (c % 20000) as u16,
            );
            // A few queues move every round, so change marks have work to do.
            let rq = if c % 100 == 0 { (round % 7) as u32 } else { 0 };
            v.push(with_cookie(
                owned(
                    tcp(TcpState::Established, inet("10.0.0.1", port), peer, (rq, 0)),
                    "server",
                    1000 + u32::from(l),
                    10 + c,
                ),
                next(),
            ));
        }
    }
    for c in 0..40_000u32 {
        let remote = inet(&format!("172.16.{}.{}", (c % 200) / 100, c % 200), 443);
        v.push(with_cookie(
            owned(
                tcp(
                    TcpState::Established,
                    inet("10.0.0.1", 20000 + (c % 40000) as u16),
                    remote,
                    (0, 0),
                ),
                "client",
                2000 + c % 8,
                10 + c,
            ),
            next(),
        ));
    }
    for c in 0..10_000u32 {
        // TIME-WAIT churns: a tenth is new each round.
        let p = 30000 + ((c as u64 + round * 1000) % 30000) as u16;
        let mut s = tcp(
            TcpState::TimeWait,
            inet("10.0.0.1", p),
            inet("172.16.9.9", 80),
            (0, 0),
        );
        s.inode = 0;
        v.push(with_cookie(s, 1_000_000 + c as u64 + round * 1000));
    }
    v
}

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[test]
#[ignore = "benchmark; run with --release --ignored --nocapture"]
fn refresh_and_key_cost_at_100k_sockets() {
    let (w, h) = (160, 45);
    let mut app = App::new(
        TuiSettings {
            numeric: true,
            ..TuiSettings::default()
        },
        QuerySpec::default(),
    );
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    app.set_page(ui::layout(Rect::new(0, 0, w, h), &app).page());
    let mut tracker = Preparer::default();
    let mut prep = Vec::new();
    let mut refresh = Vec::new();
    let mut render = Vec::new();
    for round in 0..6 {
        let snap = snapshot(big(round), round);
        let t0 = Instant::now();
        let p = prepare(&mut tracker, snap, app.sort);
        let t1 = Instant::now();
        app.apply_prepared(p, None);
        let t2 = Instant::now();
        term.draw(|f| ui::draw(f, &app)).unwrap();
        let t3 = Instant::now();
        if round > 0 {
            prep.push(t1 - t0);
            refresh.push(t2 - t1);
            render.push(t3 - t2);
        }
    }
    assert_eq!(app.snapshot.as_ref().unwrap().sockets.len(), 100_020);
    // Where prepare's time goes.
    {
        let snap = snapshot(big(9), 9);
        let socks = &snap.sockets;
        let t = Instant::now();
        let _ = sockeye::group::StateCounts::of(socks);
        let counts = t.elapsed();
        let t = Instant::now();
        let changes = tracker.tracker.update(&snap);
        let deltas = t.elapsed();
        let t = Instant::now();
        let _ = sockeye::group::by_state(socks);
        let states = t.elapsed();
        let t = Instant::now();
        let _ = sockeye::group::by_listener(socks);
        let listeners = t.elapsed();
        // Best of ten: the sort is the largest step, and this machine is shared.
        let best = |f: &dyn Fn()| {
            (0..10)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .min()
                .unwrap()
        };
        let sort = best(&|| {
            let _ = sockeye::tui::sort::sorted_order(socks, app.sort);
        });
        let hinted = best(&|| {
            let _ =
                sockeye::tui::sort::ascending_order(socks, app.sort.column, Some(&changes.ranks));
        });
        println!(
            "  prepare breakdown: counts {:.1} ms, deltas {:.1} ms, by state {:.1} ms, by listener {:.1} ms, sort {:.1} ms from scratch, {:.1} ms with the previous order as hint",
            ms(counts),
            ms(deltas),
            ms(states),
            ms(listeners),
            ms(sort),
            ms(hinted)
        );
    }
    let mut keys = Vec::new();
    for (i, code) in [
        KeyCode::Down,
        KeyCode::PageDown,
        KeyCode::Char('2'),
        KeyCode::End,
        KeyCode::Char('3'),
        KeyCode::Home,
    ]
    .into_iter()
    .cycle()
    .take(60)
    .enumerate()
    {
        let _ = i;
        let t0 = Instant::now();
        let _ = app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
        term.draw(|f| ui::draw(f, &app)).unwrap();
        keys.push(t0.elapsed());
    }
    // The most expensive keys: a new sort rebuilds every view; Enter on a big group.
    let t0 = Instant::now();
    let _ = app.handle_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE));
    term.draw(|f| ui::draw(f, &app)).unwrap();
    let sort_key = t0.elapsed();
    let max = |v: &[Duration]| v.iter().copied().max().unwrap_or_default();
    let avg = |v: &[Duration]| v.iter().sum::<Duration>() / v.len().max(1) as u32;
    println!("100,020 sockets, {w}x{h}:");
    println!(
        "  prepare, collector thread (counts, deltas, grouping, sort): avg {:.1} ms, max {:.1} ms",
        ms(avg(&prep)),
        ms(max(&prep))
    );
    println!(
        "  apply, UI thread (rows, selection): avg {:.1} ms, max {:.1} ms",
        ms(avg(&refresh)),
        ms(max(&refresh))
    );
    println!(
        "  render: avg {:.2} ms, max {:.2} ms",
        ms(avg(&render)),
        ms(max(&render))
    );
    println!(
        "  key -> frame (move, page, switch view): avg {:.2} ms, max {:.2} ms",
        ms(avg(&keys)),
        ms(max(&keys))
    );
    println!(
        "  key -> frame (change sort: rebuild all views): {:.1} ms",
        ms(sort_key)
    );
    if let Some(kib) = rss_kib() {
        println!(
            "  RSS of the benchmark process: {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
}
