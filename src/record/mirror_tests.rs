//! The writer's table: what counts as changed, vanished and shared, checked directly and
//! against a plain map (what the writer did before) over random snapshots.

use std::net::{IpAddr, Ipv4Addr};

use rustc_hash::FxHashMap;

use super::frame::Key;
use super::mirror::{Matched, Mirror, TIMER_SLACK_MS};
use crate::model::{Endpoint, Netid, Socket, TcpState, Timer, TimerKind};

fn inet(a: u8, port: u16) -> Endpoint {
    Endpoint::Inet {
        addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, a)),
        port,
    }
}

fn sock(i: u16) -> Socket {
    let mut s = Socket::new(
        Netid::Tcp,
        TcpState::Established,
        inet(1, 80),
        inet(2, 1000 + i),
    );
    s.cookie = Some(u64::from(i) + 1);
    s.recv_q = Some(0);
    s.send_q = Some(0);
    s.timer = Some(Timer {
        kind: TimerKind::Off,
        expires_ms: 0,
        retrans: 0,
    });
    s
}

/// A socket as /proc gives it: no cookie, known by its ends and inode.
fn proc_sock(i: u16) -> Socket {
    let mut s = sock(i);
    s.cookie = None;
    s.inode = 500 + u64::from(i);
    s
}

fn with_timer(mut s: Socket, kind: TimerKind, expires_ms: u64) -> Socket {
    s.timer = Some(Timer {
        kind,
        expires_ms,
        retrans: 0,
    });
    s
}

/// One frame: update then sweep, the vanished keys sorted (their order is the table's).
fn frame(m: &mut Mirror, sockets: &[Socket], now: i64) -> (Matched, Vec<Key>) {
    let mut out = Matched::default();
    m.update(sockets, now, &mut out);
    let mut vanished = Vec::new();
    m.sweep(Some(&mut vanished));
    vanished.sort_by_key(|k| format!("{k:?}"));
    (out, vanished)
}

#[test]
fn the_first_frame_is_all_new_and_an_unchanged_one_is_empty() {
    let mut m = Mirror::default();
    let v: Vec<Socket> = (0..5).map(sock).collect();
    let (out, gone) = frame(&mut m, &v, 1000);
    assert_eq!(out.changed, vec![0, 1, 2, 3, 4]);
    assert!(out.unique);
    assert!(gone.is_empty());
    assert_eq!(m.len(), 5);
    let (out, gone) = frame(&mut m, &v, 2000);
    assert!(out.changed.is_empty());
    assert!(gone.is_empty());
    // Unchanged sockets keep the time they were written.
    assert_eq!(m.get(&Key::of(&v[3])).map(|(_, at)| at), Some(1000));
}

#[test]
fn a_socket_not_seen_in_a_frame_vanishes_once_and_its_slot_is_reused() {
    let mut m = Mirror::default();
    let v: Vec<Socket> = (0..6).map(sock).collect();
    frame(&mut m, &v, 0);
    let without: Vec<Socket> = [0, 2, 3, 5].iter().map(|&i| v[i].clone()).collect();
    let (out, gone) = frame(&mut m, &without, 1000);
    assert!(out.changed.is_empty());
    assert_eq!(gone, vec![Key::of(&v[1]), Key::of(&v[4])]);
    assert_eq!(m.len(), 4);
    assert!(m.get(&Key::of(&v[1])).is_none());
    // Gone means gone: the next frame does not report them again.
    let (_, gone) = frame(&mut m, &without, 2000);
    assert!(gone.is_empty());
    // A newcomer takes a freed slot and is stored as it is, not as the old occupant was.
    let mut late = sock(40);
    late.send_q = Some(77);
    let mut next = without.clone();
    next.insert(1, late.clone());
    let (out, gone) = frame(&mut m, &next, 3000);
    assert_eq!(out.changed, vec![1]);
    assert!(gone.is_empty());
    assert_eq!(m.len(), 5);
    assert_eq!(m.get(&Key::of(&late)), Some((&late, 3000)));
    // One that vanished and comes back is new again.
    next.push(v[4].clone());
    let (out, _) = frame(&mut m, &next, 4000);
    assert_eq!(out.changed, vec![5]);
}

#[test]
fn a_change_in_any_field_counts_and_is_stored() {
    let base = sock(1);
    let mut changes: Vec<Socket> = Vec::new();
    let mut s = base.clone();
    s.state = TcpState::CloseWait;
    changes.push(s);
    let mut s = base.clone();
    s.recv_q = Some(9);
    changes.push(s);
    let mut s = base.clone();
    s.uid = Some(33);
    changes.push(s);
    let mut s = base.clone();
    s.local = inet(3, 80);
    changes.push(s);
    // An idle timer does not count down: any change to it is a change.
    changes.push(with_timer(base.clone(), TimerKind::Off, 5));
    changes.push(with_timer(base.clone(), TimerKind::Keepalive, 0));
    let mut s = base.clone();
    s.timer = None;
    changes.push(s);
    for (n, changed) in changes.iter().enumerate() {
        let mut m = Mirror::default();
        frame(&mut m, std::slice::from_ref(&base), 0);
        let (out, gone) = frame(&mut m, std::slice::from_ref(changed), 1000);
        assert_eq!(out.changed, vec![0], "change {n}: {changed:?}");
        assert!(gone.is_empty(), "change {n}");
        assert_eq!(m.get(&Key::of(&base)), Some((changed, 1000)), "change {n}");
    }
}

#[test]
fn a_timer_that_only_runs_down_is_unchanged_within_the_slack() {
    let tw = |ms| {
        let mut s = with_timer(sock(2), TimerKind::TimeWait, ms);
        s.state = TcpState::TimeWait;
        s
    };
    let mut m = Mirror::default();
    frame(&mut m, &[tw(60_000)], 0);
    // A second later, read a little early or late: unchanged, the old copy and time kept.
    let slack = TIMER_SLACK_MS as u64;
    for (now, ms) in [(1000, 59_000 + slack), (2000, 58_000 - slack)] {
        let (out, _) = frame(&mut m, &[tw(ms)], now);
        assert!(out.changed.is_empty(), "at {now}: {ms}");
        assert_eq!(m.get(&Key::of(&tw(0))), Some((&tw(60_000), 0)));
    }
    // Further off than the slack: re-armed (or a jump), written again from now.
    let (out, _) = frame(&mut m, &[tw(57_000 - slack - 1)], 3000);
    assert_eq!(out.changed, vec![0]);
    assert_eq!(
        m.get(&Key::of(&tw(0))),
        Some((&tw(57_000 - slack - 1), 3000))
    );
    // A retransmit count that moved is a change even when the expiry fits.
    let mut r = tw(56_000 - slack - 1);
    if let Some(t) = r.timer.as_mut() {
        t.retrans = 1;
    }
    let (out, _) = frame(&mut m, &[r], 4000);
    assert_eq!(out.changed, vec![0]);
}

#[test]
fn sockets_sharing_a_key_are_reported_and_the_last_is_kept() {
    let mut m = Mirror::default();
    let a = proc_sock(1);
    let mut twin = a.clone();
    twin.state = TcpState::CloseWait;
    let (out, _) = frame(&mut m, &[a.clone(), sock(2), twin.clone()], 0);
    assert!(!out.unique);
    assert_eq!(m.len(), 2);
    assert_eq!(m.get(&Key::of(&a)).map(|(s, _)| s.state), Some(twin.state));
    // Twins with cookies too.
    let (out, gone) = frame(&mut m, &[sock(2), sock(2)], 1000);
    assert!(!out.unique);
    assert_eq!(gone, vec![Key::of(&a)]);
    let (out, gone) = frame(&mut m, &[sock(2)], 2000);
    assert!(out.unique);
    assert!(gone.is_empty());
    assert_eq!(m.len(), 1);
}

#[test]
fn sockets_without_a_cookie_are_matched_by_their_ends() {
    let mut m = Mirror::default();
    let v: Vec<Socket> = (0..4).map(proc_sock).collect();
    frame(&mut m, &v, 0);
    let mut moved = v[2].clone();
    moved.inode = 999; // another socket on the same ends: the old one vanished
    let next = vec![v[0].clone(), v[1].clone(), moved.clone(), v[3].clone()];
    let (out, gone) = frame(&mut m, &next, 1000);
    assert_eq!(out.changed, vec![2]);
    assert_eq!(gone, vec![Key::of(&v[2])]);
    assert!(matches!(gone[0], Key::Ends(..)));
    assert_eq!(m.get(&Key::of(&moved)), Some((&moved, 1000)));
}

#[test]
fn a_full_frame_rewrites_every_timer_as_of_now() {
    let mut m = Mirror::default();
    let a = with_timer(sock(1), TimerKind::Keepalive, 10_000);
    frame(&mut m, std::slice::from_ref(&a), 0);
    let later = with_timer(sock(1), TimerKind::Keepalive, 9_100);
    let (out, _) = frame(&mut m, std::slice::from_ref(&later), 1000);
    assert!(out.changed.is_empty());
    m.rewrite_timers(std::slice::from_ref(&later), 1000);
    assert_eq!(m.get(&Key::of(&a)), Some((&later, 1000)));
}

/// A cheap deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What the writer did before the one-pass table: a map by key, every frame.
#[derive(Default)]
struct Plain(FxHashMap<Key, (Socket, i64)>);

impl Plain {
    fn frame(&mut self, sockets: &[Socket], now: i64) -> (Vec<usize>, Vec<Key>) {
        let mut last = FxHashMap::default();
        for (i, s) in sockets.iter().enumerate() {
            last.insert(Key::of(s), i);
        }
        let mut gone: Vec<Key> = self
            .0
            .keys()
            .filter(|k| !last.contains_key(*k))
            .cloned()
            .collect();
        gone.sort_by_key(|k| format!("{k:?}"));
        self.0.retain(|k, _| last.contains_key(k));
        let mut changed = Vec::new();
        for (i, s) in sockets.iter().enumerate() {
            let k = Key::of(s);
            if last[&k] != i {
                continue;
            }
            match self.0.get_mut(&k) {
                Some((p, at)) => {
                    let mut q = p.clone();
                    let ran_down = match (p.timer, s.timer) {
                        (Some(a), Some(b)) if a.kind != TimerKind::Off => {
                            let (ea, eb) = (*at + a.expires_ms as i64, now + b.expires_ms as i64);
                            q.timer = s.timer;
                            a.kind == b.kind
                                && a.retrans == b.retrans
                                && ea.abs_diff(eb) <= TIMER_SLACK_MS as u64
                        }
                        _ => true,
                    };
                    if !(ran_down && q == *s) {
                        *p = s.clone();
                        *at = now;
                        changed.push(i);
                    }
                }
                None => {
                    self.0.insert(k, (s.clone(), now));
                    changed.push(i);
                }
            }
        }
        (changed, gone)
    }

    /// What the writer does after a full frame: every timer as the frame has it, from now.
    fn rewrite(&mut self, sockets: &[Socket], now: i64) {
        for s in sockets {
            if let Some((p, at)) = self.0.get_mut(&Key::of(s)) {
                p.timer = s.timer;
                if p.timer.is_some() {
                    *at = now;
                }
            }
        }
    }
}

/// A socket as stored, with its time where it counts (a running timer counts down from it).
fn stored(s: &Socket, at: i64) -> (Socket, i64) {
    let running = s.timer.is_some_and(|t| t.kind != TimerKind::Off);
    (s.clone(), if running { at } else { 0 })
}

/// Random churn, changes, timers running down, reordering and /proc-style keys: the table
/// reports what a plain map does, frame after frame, and holds the same sockets.
#[test]
fn random_frames_match_a_plain_map() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut m = Mirror::default();
    let mut plain = Plain::default();
    let mut live: Vec<Socket> = (0..200).map(sock).collect();
    let mut next_id = 200u16;
    for t in 0..300i64 {
        let now = t * 1000;
        for _ in 0..rng.below(6) {
            if !live.is_empty() {
                let i = rng.below(live.len() as u64) as usize;
                live.remove(i);
            }
        }
        for _ in 0..rng.below(6) {
            let mut s = if rng.below(4) == 0 {
                proc_sock(next_id)
            } else {
                sock(next_id)
            };
            if rng.below(3) == 0 {
                s = with_timer(s, TimerKind::TimeWait, 60_000);
            }
            next_id += 1;
            let at = rng.below(live.len() as u64 + 1) as usize;
            live.insert(at, s);
        }
        for s in live.iter_mut() {
            // Running timers run down, read up to ~300 ms off either way.
            if let Some(tm) = s.timer.as_mut().filter(|tm| tm.kind != TimerKind::Off) {
                tm.expires_ms = (tm.expires_ms + rng.below(600)).saturating_sub(1300);
            }
            if rng.below(50) == 0 {
                s.send_q = Some(rng.below(3) as u32);
            }
        }
        match rng.below(10) {
            0 => live.reverse(),
            1 if live.len() > 1 => {
                let (a, b) = (rng.below(live.len() as u64), rng.below(live.len() as u64));
                live.swap(a as usize, b as usize);
            }
            _ => {}
        }
        let mut snap = live.clone();
        if rng.below(20) == 0 && !live.is_empty() {
            // A duplicate, as /proc can list one socket twice.
            let i = rng.below(live.len() as u64) as usize;
            snap.push(live[i].clone());
        }
        let (out, gone) = frame(&mut m, &snap, now);
        let (changed, plain_gone) = plain.frame(&snap, now);
        assert_eq!(gone, plain_gone, "vanished at {t}");
        if out.unique {
            assert_eq!(out.changed, changed, "changed at {t}");
        } else {
            // The frame is full; which duplicate's time is kept no longer matters after.
            m.rewrite_timers(&snap, now);
            plain.rewrite(&snap, now);
        }
        assert_eq!(m.len(), plain.0.len(), "at {t}");
        for (k, (s, at)) in &plain.0 {
            let got = m.get(k).map(|(s, at)| stored(s, at));
            assert_eq!(got, Some(stored(s, *at)), "at {t}: {k:?}");
        }
    }
}
