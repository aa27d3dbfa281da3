//! The writer's own CPU on a synthetic recording like benches/record.sh's: ~99,600 idle
//! established TCP sockets with cookies, TIME-WAIT churn of 50 a second (each lives 60 s,
//! its timer counting down), a few queues changing each frame. Prints the thread CPU time
//! of `Writer::push` per frame (full and delta apart) and a digest of what was written (frame
//! kinds, upsert and vanish counts, every moment read back) so two builds can be compared.
//!
//! `cargo test --release --lib record::bench -- --ignored --nocapture`
//! (`SOCKEYE_BENCH_FRAMES=N` for fewer frames, e.g. under callgrind; `SOCKEYE_BENCH_SHUFFLE=1`
//! lists the sockets in a new order each frame, the worst case for the writer's matching).

use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use super::frame::{Body, Collected, Header};
use super::reader::Recording;
use super::writer::{SyncPolicy, Writer};
use crate::model::{
    Endpoint, KernelCounters, Netid, Snapshot, Socket, Source, TcpState, Timer, TimerKind,
};

const ESTABLISHED: u32 = 99_600;
const CHURN: u32 = 50;
const TIME_WAIT_MS: u64 = 60_000;

fn inet(a: u32, port: u16) -> Endpoint {
    Endpoint::Inet {
        addr: IpAddr::V4(Ipv4Addr::from(a)),
        port,
    }
}

fn established(i: u32) -> Socket {
    let mut s = Socket::new(
        Netid::Tcp,
        TcpState::Established,
        inet(0x0a00_0001, 10_000 + (i % 6) as u16),
        inet(0x0a00_0002 + i / 50_000, 1024 + (i % 50_000) as u16),
    );
    s.cookie = Some(1 + u64::from(i));
    s.inode = 1_000_000 + u64::from(i);
    s.uid = Some(1000);
    s.recv_q = Some(0);
    s.send_q = Some(0);
    s.timer = Some(Timer {
        kind: TimerKind::Off,
        expires_ms: 0,
        retrans: 0,
    });
    s
}

fn time_wait(n: u32, remaining_ms: u64) -> Socket {
    let mut s = Socket::new(
        Netid::Tcp,
        TcpState::TimeWait,
        inet(0x7f00_0001, 40_000 + (n % 20_000) as u16),
        inet(0x7f00_0001, 8080),
    );
    s.cookie = Some(1 << 40 | u64::from(n));
    s.recv_q = Some(0);
    s.send_q = Some(0);
    s.timer = Some(Timer {
        kind: TimerKind::TimeWait,
        expires_ms: remaining_ms,
        retrans: 0,
    });
    s
}

/// A cheap deterministic generator (xorshift), so every build sees the same sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The snapshot of second `t`: the idle table, 20 queues changed, the TIME-WAIT sockets
/// born in the last minute with their timers as of now (plus a few ms of dump jitter).
fn moment(t: u32, rng: &mut Rng) -> Snapshot {
    let mut v: Vec<Socket> = Vec::with_capacity((ESTABLISHED + 61 * CHURN) as usize);
    v.extend((0..ESTABLISHED).map(established));
    for _ in 0..20 {
        let i = (rng.next() % u64::from(ESTABLISHED)) as usize;
        v[i].send_q = Some((rng.next() % 5000) as u32);
    }
    // TIME-WAIT socket n was born n / CHURN seconds after a point 60 s before the start.
    let now_ms = u64::from(t + 60) * 1000;
    for n in t * CHURN..(t + 60) * CHURN {
        let age = now_ms - u64::from(n) * 1000 / u64::from(CHURN);
        if age < TIME_WAIT_MS {
            v.push(time_wait(n, TIME_WAIT_MS - age + rng.next() % 20));
        }
    }
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + u64::from(t));
    let counters = KernelCounters {
        in_segs: Some(u64::from(t) * 977),
        tcp_tw: Some(3000),
        ..KernelCounters::default()
    };
    Snapshot::new(at, Source::Netlink, v, Some(counters))
}

/// This thread's CPU time so far (user + system), as the collector's trace reads it.
fn thread_cpu() -> Duration {
    crate::collect::thread_cpu().map_or(Duration::ZERO, |(user, sys)| user + sys)
}

/// Minor page faults of this thread so far (fresh memory the kernel had to map: sys time).
fn faults() -> i64 {
    // SAFETY: a zeroed rusage is a valid value for getrusage to fill.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid rusage to fill; RUSAGE_THREAD exists on Linux.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
    u.ru_minflt
}

#[test]
#[ignore = "benchmark: 100,000 synthetic sockets, run in release"]
fn push_cost_at_100k_sockets() {
    let frames: u32 = std::env::var("SOCKEYE_BENCH_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(62);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.rec");
    let header = Header::new(
        Duration::from_secs(1),
        Collected::default(),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    );
    let mut w = Writer::create(&path, header, 1 << 34).unwrap();
    w.set_sync(SyncPolicy::Never);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut first, mut full, mut delta) = (Duration::ZERO, Vec::new(), Vec::new());
    let mut digest = rustc_hash::FxHasher::default();
    let shuffle = std::env::var_os("SOCKEYE_BENCH_SHUFFLE").is_some();
    let mut sockets = 0;
    let mut delta_faults = 0;
    for t in 0..frames {
        let mut snap = moment(t, &mut rng);
        if shuffle {
            for i in (1..snap.sockets.len()).rev() {
                let j = (rng.next() % (i as u64 + 1)) as usize;
                snap.sockets.swap(i, j);
            }
        }
        sockets = snap.sockets.len();
        let (c0, f0) = (thread_cpu(), faults());
        let written = w.push(&snap).unwrap();
        let spent = thread_cpu() - c0;
        if !written.full {
            delta_faults += faults() - f0;
        }
        (written.full, written.uncompressed).hash(&mut digest);
        if t == 0 {
            first = spent;
        } else if written.full {
            full.push(spent);
        } else {
            delta.push(spent);
        }
    }
    drop(w);
    // What a reader gets: every frame's counts and every moment, sorted.
    let rec = Recording::open(&path).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.len(), frames as usize);
    let mut upserts = 0;
    for i in 0..rec.len() {
        match rec.frame(i).unwrap().body {
            Body::Full(s) => s.len().hash(&mut digest),
            Body::Delta { vanished, upserted } => {
                upserts += upserted.len();
                (vanished.len(), upserted.len()).hash(&mut digest);
            }
        }
        if i % 7 == 3 || i + 1 == rec.len() {
            let mut m: Vec<String> = rec
                .moment(i)
                .unwrap()
                .sockets
                .iter()
                .map(|s| format!("{s:?}"))
                .collect();
            m.sort_unstable();
            m.hash(&mut digest);
        }
    }
    let ms = |v: &[Duration]| {
        let total: Duration = v.iter().sum();
        total.as_secs_f64() * 1000.0 / v.len().max(1) as f64
    };
    let mut sorted = delta.clone();
    sorted.sort_unstable();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    println!(
        "{frames} frames of {sockets} sockets: push {:.2} ms a frame on average \
         (first {:.2} ms, later full {:.2} ms x{}, delta {:.2} ms x{}, delta median {:.2} ms); \
         {} page faults a delta frame; {upserts} upserts; file {} bytes; digest {:016x}",
        ms(&[&[first][..], full.as_slice(), delta.as_slice()].concat()),
        first.as_secs_f64() * 1000.0,
        ms(&full),
        full.len(),
        ms(&delta),
        delta.len(),
        median.as_secs_f64() * 1000.0,
        delta_faults / delta.len().max(1) as i64,
        std::fs::metadata(&path).unwrap().len(),
        digest.finish(),
    );
}
