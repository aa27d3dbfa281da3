//! Seek times on a big recording (benches/record.sh makes one): opening it (the index
//! scan), rebuilding moments, a replay's jump (moment + history counts), against what the
//! 1.0 reader did (decode every frame on open). Prints figures for README; asserts only
//! that both ways give the same moment.
//!
//! `SOCKEYE_BENCH_REC=FILE cargo test --release --test it record::bench -- --ignored --nocapture`

use std::time::{Duration, Instant};

use sockeye::collect::Query;
use sockeye::record::Recording;
use sockeye::record::table::Table;
use sockeye::tui::replay::{Order, ReplaySource};
use sockeye::tui::worker::SnapshotSource;

#[test]
#[ignore = "benchmark; needs SOCKEYE_BENCH_REC (benches/record.sh)"]
fn seek_with_and_without_the_index() {
    let Some(path) = std::env::var_os("SOCKEYE_BENCH_REC") else {
        println!("SOCKEYE_BENCH_REC is not set");
        return;
    };
    let t0 = Instant::now();
    let rec = Recording::open(std::path::Path::new(&path)).unwrap();
    let open = t0.elapsed();
    let n = rec.len();
    println!("open (index of {n} frames): {open:?}");
    let mut worst = Duration::ZERO;
    for i in [n / 10, n / 2, n - 1, 59, 61] {
        let t = Instant::now();
        let m = rec.moment(i.min(n - 1)).unwrap();
        let d = t.elapsed();
        worst = worst.max(d);
        println!("seek to frame {i}: {d:?} ({} sockets)", m.sockets.len());
    }
    println!("seek worst: {worst:?}");

    // What the 1.0 reader did: every frame decoded, then the moment rebuilt.
    let t = Instant::now();
    let frames: Vec<_> = (0..n).map(|i| rec.frame(i).unwrap()).collect();
    let mut table = Table::default();
    let from = rec.full_before(n / 2);
    for f in &frames[from..=n / 2] {
        table.apply(&f.body);
    }
    let d = t.elapsed();
    println!("decode every frame and rebuild the middle (1.0 reader): {d:?}");
    assert_eq!(table.sockets(), rec.moment(n / 2).unwrap().sockets);
    drop(frames);

    // A replay jump: the moment and 120 frames of history counts.
    let mut src = ReplaySource::new(rec, Query::default(), 0, 120);
    let _ = src.snapshot().unwrap();
    for target in [n / 2, 10, n - 1] {
        let at = rec_time(&src, target);
        let t = Instant::now();
        src.control(Order::GoTo(at));
        let s = src.snapshot().unwrap();
        println!(
            "replay go to frame {target}: {:?} ({} sockets, history included)",
            t.elapsed(),
            s.sockets.len()
        );
    }
    let t = Instant::now();
    src.control(Order::Step(-1));
    let _ = src.snapshot().unwrap();
    println!("replay step back: {:?}", t.elapsed());
    let t = Instant::now();
    src.control(Order::Step(1));
    let _ = src.snapshot().unwrap();
    println!("replay step forward: {:?}", t.elapsed());
}

fn rec_time(src: &ReplaySource, i: usize) -> std::time::SystemTime {
    let p = src.position().unwrap();
    let span = p.end.duration_since(p.start).unwrap_or_default();
    p.start + span.mul_f64(i as f64 / p.frames.max(1) as f64)
}
