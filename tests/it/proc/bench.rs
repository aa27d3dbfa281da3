//! Benchmarks of the /proc source and process attribution (not timed tests: they print
//! figures and assert only correctness). Run them in release mode:
//!
//! ```sh
//! cargo test --release --test it proc::bench -- --ignored --nocapture
//! ```

use std::fmt::Write as _;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use sockeye::collect::processes::ProcessCache;
use sockeye::collect::{NetidSet, Query, procfs};
use sockeye::model::{Netid, Socket};

const LINES: usize = 30_000;

/// A /proc/net/tcp of `LINES` sockets laid out as the kernel prints them (lines padded to
/// 149 columns): mostly TIME-WAIT, plus established pairs.
fn synthetic_tcp() -> String {
    let mut t = String::with_capacity(LINES * 151);
    let _ = writeln!(
        t,
        "{:<149}",
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
    );
    for i in 0..LINES {
        let lport = 1024 + (i % 60000);
        let line = if i % 6 == 0 {
            format!(
                "{i:4}: 0100007F:{lport:04X} 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 {} 1 000000000bad{i:04x} 20 4 30 10 -1",
                100_000 + i
            )
        } else {
            format!(
                "{i:4}: 0100007F:{lport:04X} 0100007F:1F90 06 00000000:00000000 03:00001766 00000000     0        0 0 3 000000000bad{i:04x}"
            )
        };
        let _ = writeln!(t, "{line:<149}");
    }
    t
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn bench_parse_30k_tcp_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("net")).unwrap();
    let text = synthetic_tcp();
    std::fs::write(dir.path().join("net/tcp"), &text).unwrap();
    let q = Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        ipv6: false,
        ..Query::default()
    };
    let host = sockeye::collect::Host::fake(dir.path());
    let mut times = Vec::new();
    let mut out: Vec<Socket> = Vec::new();
    for _ in 0..25 {
        out = Vec::new();
        let mut skipped = 0;
        times.push(timed(|| {
            procfs::read(&host, &q, &mut out, &mut Vec::new(), &mut skipped).unwrap();
        }));
        assert_eq!(skipped, 0);
    }
    assert_eq!(out.len(), LINES);

    // For comparison: the procfs crate's parser on the same text (no timers, one String
    // per line).
    let mut crate_times = Vec::new();
    for _ in 0..25 {
        let mut n = 0;
        crate_times.push(timed(|| {
            let bytes = std::fs::read(dir.path().join("net/tcp")).unwrap();
            let entries = <::procfs::net::TcpNetEntries as ::procfs::FromBufReadSI>::from_buf_read(
                &bytes[..],
                ::procfs::current_system_info(),
            )
            .unwrap();
            n = entries.0.len();
        }));
        assert_eq!(n, LINES);
    }
    println!(
        "read + parse {LINES} lines of /proc/net/tcp (from a file) into Sockets:\n  \
         sockeye {}\n  procfs crate (fewer fields) {}",
        fmt(&times),
        fmt(&crate_times),
    );
}

fn live_sockets() -> Vec<Socket> {
    let q = Query::default();
    let mut out = Vec::new();
    procfs::read(
        &sockeye::collect::Host::current(),
        &q,
        &mut out,
        &mut Vec::new(),
        &mut 0,
    )
    .unwrap();
    out
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn bench_process_refresh() {
    // Hold many sockets in this process, as a busy server would.
    let pairs: Vec<(UnixStream, UnixStream)> =
        (0..5000).map_while(|_| UnixStream::pair().ok()).collect();
    let sockets = live_sockets();
    let procs = std::fs::read_dir("/proc")
        .unwrap()
        .filter(|e| {
            e.as_ref().is_ok_and(|e| {
                e.file_name()
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            })
        })
        .count();
    let root = Path::new("/proc");

    let (mut full, mut cached, mut active, mut attach) = (vec![], vec![], vec![], vec![]);
    let mut attributed = 0;
    let mut links = 0;
    for _ in 0..7 {
        let mut cache = ProcessCache::with_full_rescan_interval(None);
        full.push(timed(|| {
            cache.refresh(root, &sockets);
        }));
        cached.push(timed(|| {
            cache.refresh(root, &sockets);
        }));
        // This process gains a socket: found on the second refresh that sees it, after
        // which the process counts as active...
        let extra = UnixStream::pair().unwrap();
        let now = live_sockets();
        cache.refresh(root, &now);
        cache.refresh(root, &now);
        // ...and its next new socket is looked for at once, by rescanning it (10k fds, of
        // which only the new ones' links are read).
        let extra2 = UnixStream::pair().unwrap();
        let now = live_sockets();
        active.push(timed(|| {
            cache.refresh(root, &now);
        }));
        links = cache.stats().last_links_read;
        // New pids of other programs on a shared machine may be scanned too.
        assert!(cache.stats().last_pids_scanned >= 1);
        drop((extra, extra2));

        let mut s = sockets.clone();
        attach.push(timed(|| cache.attach(&mut s)));
        attributed = s.iter().filter(|s| !s.processes.is_empty()).count();
    }
    println!(
        "process refresh over {procs} processes, {} sockets ({} of ours, {attributed} attributed):\n  \
         full {}\n  cached, nothing new {}\n  new socket in an active 10k-fd process {} ({links} links read)\n  \
         attach {}",
        sockets.len(),
        pairs.len() * 2,
        fmt(&full),
        fmt(&cached),
        fmt(&active),
        fmt(&attach),
    );
}

/// (wall, this thread's CPU time): the machine is shared, CPU time is the steadier figure.
fn timed(f: impl FnOnce()) -> (Duration, Duration) {
    let (w, c) = (Instant::now(), thread_cpu());
    f();
    (w.elapsed(), thread_cpu().saturating_sub(c))
}

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn fmt(runs: &[(Duration, Duration)]) -> String {
    format!(
        "wall median {} (min {}), cpu median {}",
        ms(median(runs.iter().map(|r| r.0).collect())),
        ms(runs.iter().map(|r| r.0).min().unwrap()),
        ms(median(runs.iter().map(|r| r.1).collect())),
    )
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn bench_counters() {
    let runs: Vec<(Duration, Duration)> = (0..50)
        .map(|_| {
            timed(|| {
                let c = sockeye::collect::counters::read(&sockeye::collect::Host::current());
                assert!(c.curr_estab.is_some());
            })
        })
        .collect();
    println!("kernel counters + sysctls: {}", fmt(&runs));
}
