//! `evaluate` over a synthetic table of 100,000 sockets, as the live view runs it (a
//! [`History`] with earlier snapshots distilled). Run with
//! `cargo test --release --lib findings::bench -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use super::fixture::{Build, Mem, counters, tcp, udp};
use super::history::{Coverage, History};
use super::{Thresholds, evaluate};
use crate::model::{Snapshot, Socket, Source, TcpState};
use crate::tables::NetidSet;

/// 100,000 sockets: mostly connections with tcp_info toward a few hundred peers, some
/// TIME-WAIT and CLOSE-WAIT, a few listeners and UDP sockets. `round` moves the counters.
fn table(round: u32) -> Vec<Socket> {
    let mut v = Vec::with_capacity(100_000);
    for p in 0..20u16 {
        v.push(
            tcp(TcpState::Listen, ("0.0.0.0", 8000 + p), ("0.0.0.0", 0))
                .cookie(u64::from(p) + 1)
                .queues(0, 4096),
        );
    }
    for i in 0..99_000u32 {
        let peer = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i % 250 + 1);
        let state = match i % 50 {
            0..=4 => TcpState::TimeWait,
            5 => TcpState::CloseWait,
            6 => TcpState::FinWait2,
            _ => TcpState::Established,
        };
        let s = tcp(
            state,
            ("192.168.0.1", 8000 + (i % 20) as u16),
            (&peer, 40000),
        )
        .cookie(1000 + u64::from(i))
        .queues(0, 0)
        .segs(1000 + round * 10, round);
        v.push(s);
    }
    for i in 0..980u16 {
        v.push(udp(("0.0.0.0", 20000 + i)).cookie(200_000 + u64::from(i)));
    }
    v
}

fn snapshot(round: u32) -> Snapshot {
    let c = counters(|c| {
        c.ip_local_port_range = Some((32768, 60999));
        c.tcp_max_tw_buckets = Some(262_144);
        c.out_segs = Some(u64::from(round) * 1_000_000);
        c.retrans_segs = Some(u64::from(round) * 10);
    });
    Snapshot::new(
        std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1000 + u64::from(round)),
        Source::Netlink,
        table(round),
        Some(c),
    )
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn evaluate_over_100k_sockets() {
    let coverage = Coverage {
        whole_host: true,
        tables: NetidSet::ALL,
    };
    let mut h = History::new(Duration::from_secs(60), coverage, Thresholds::default());
    let snaps: Vec<Snapshot> = (0..8).map(snapshot).collect();
    let mut times = Vec::new();
    for s in snaps {
        let t0 = Instant::now();
        let (found, _) = h.observe(s);
        times.push(t0.elapsed());
        std::hint::black_box(found);
    }
    // The first observations have fewer than two snapshots (nothing runs) or a short window.
    let ms: Vec<String> = times[2..]
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
        .collect();
    println!("observe (distill + evaluate) ms: {}", ms.join(" "));
    // evaluate alone over a whole window: the newest snapshot whole, the rest distilled.
    let mut window: Vec<Snapshot> = (0..5)
        .map(|r| super::history::distill(&snapshot(r)))
        .collect();
    window.push(snapshot(5));
    let w = super::Window {
        snaps: &window,
        whole_host: true,
        tables: NetidSet::ALL,
    };
    let mut ms = Vec::new();
    for _ in 0..10 {
        let t0 = Instant::now();
        std::hint::black_box(evaluate(&w, &Thresholds::default()));
        ms.push(format!("{:.1}", t0.elapsed().as_secs_f64() * 1000.0));
    }
    println!("evaluate ms: {}", ms.join(" "));
}
