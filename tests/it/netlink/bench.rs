//! Benchmark of the netlink source (not a timed test: it only prints figures). Builds a table
//! of TCP sockets on loopback, mostly TIME-WAIT plus established pairs, then times the dump,
//! the decoding alone (ours and netlink-packet-sock-diag's), and `ss -tan` for reference.
//! Run it in release, preferably in a private network namespace:
//!
//! ```text
//! unshare -n sh -c 'ip link set lo up && \
//!   SOCKEYE_BENCH_SOCKETS=30000 cargo test --release --test it netlink::bench -- --ignored --nocapture'
//! ```

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_sock_diag::SockDiagMessage;
use sockeye::collect::netlink::{NetlinkSource, fixture};
use sockeye::collect::{NetidSet, Query};
use sockeye::model::Netid;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Build about `total` TCP sockets: `pairs` established pairs, the rest TIME-WAIT.
fn build_table(total: usize) -> (Vec<TcpListener>, Vec<TcpStream>) {
    let pairs = (total / 30).min(2000);
    let listeners: Vec<_> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut keep = Vec::new();
    for i in 0..pairs {
        let l = &listeners[i % listeners.len()];
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        keep.push(c);
        keep.push(s);
    }
    let tw = total.saturating_sub(2 * pairs + listeners.len());
    for i in 0..tw {
        let l = &listeners[i % listeners.len()];
        let Ok(c) = TcpStream::connect(l.local_addr().unwrap()) else {
            println!("stopped at {i} TIME-WAIT sockets (out of ports?)");
            break;
        };
        let (s, _) = l.accept().unwrap();
        drop(c); // client closes first: TIME-WAIT on its side
        drop(s);
    }
    (listeners, keep)
}

#[test]
#[ignore = "benchmark; run by hand in release (see the file's doc)"]
fn dump_and_decode() {
    let total: usize = std::env::var("SOCKEYE_BENCH_SOCKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let t0 = Instant::now();
    let _table = build_table(total);
    println!("built ~{total} sockets in {:?}", t0.elapsed());
    std::thread::sleep(Duration::from_millis(200));

    let q = Query {
        netids: NetidSet::of(&[Netid::Tcp]),
        ..Query::default()
    };
    let mut src = NetlinkSource::open().unwrap();
    let (mut out, mut warnings, mut skipped) = (Vec::new(), Vec::new(), 0);
    src.dump(&q, &mut out, &mut warnings, &mut skipped).unwrap();
    let n = out.len();
    println!("dump: {n} sockets, skipped {skipped}, warnings {warnings:?}");

    let runs = 21;
    let mut dump_times = Vec::new();
    for _ in 0..runs {
        out.clear();
        let t = Instant::now();
        src.dump(&q, &mut out, &mut warnings, &mut skipped).unwrap();
        dump_times.push(t.elapsed());
    }
    let dump = median(dump_times);

    // Decoding alone, over recorded datagrams.
    src.set_recording(true);
    out.clear();
    src.dump(&q, &mut out, &mut warnings, &mut skipped).unwrap();
    let rec = src.take_recording();
    let bytes: usize = rec.iter().map(|r| r.2.len()).sum();
    let mut ours = Vec::new();
    for _ in 0..runs {
        let mut decoded = Vec::with_capacity(n);
        let t = Instant::now();
        for (name, seq, d) in &rec {
            let table = fixture::table_by_name(name).unwrap();
            let _ = fixture::replay(table, *seq, &[d], &q, &mut decoded, &mut skipped);
        }
        ours.push(t.elapsed());
        assert_eq!(decoded.len(), n);
    }
    let ours = median(ours);

    // netlink-packet-sock-diag's own deserializer on the same bytes (no model mapping).
    let mut theirs = Vec::new();
    for _ in 0..runs {
        let mut count = 0usize;
        let t = Instant::now();
        for (_, _, d) in &rec {
            let mut off = 0;
            while off < d.len() {
                let Ok(m) = NetlinkMessage::<SockDiagMessage>::deserialize(&d[off..]) else {
                    break;
                };
                if let NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) = &m.payload {
                    count += r.header.inode as usize & 1;
                    count += 1 << 32;
                }
                let len = m.header.length as usize;
                if len == 0 {
                    break;
                }
                off += (len + 3) & !3;
            }
        }
        theirs.push(t.elapsed());
        assert_eq!(count >> 32, n);
    }
    let theirs = median(theirs);

    let mut ss_times = Vec::new();
    for _ in 0..11 {
        let t = Instant::now();
        let st = Command::new("ss")
            .arg("-tan")
            .stdout(Stdio::null())
            .status();
        if st.is_err() {
            break;
        }
        ss_times.push(t.elapsed());
    }

    let per = |d: Duration| d.as_nanos() as f64 / n.max(1) as f64;
    println!(
        "{n} sockets in {} datagrams ({} KiB)",
        rec.len(),
        bytes / 1024
    );
    println!(
        "dump+decode (median of {runs}): {:.2} ms = {:.0} ns/socket",
        dump.as_secs_f64() * 1e3,
        per(dump)
    );
    println!(
        "decode only, sockeye:            {:.2} ms = {:.0} ns/socket",
        ours.as_secs_f64() * 1e3,
        per(ours)
    );
    println!(
        "decode only, crate deserialize:  {:.2} ms = {:.0} ns/socket (no mapping to the model)",
        theirs.as_secs_f64() * 1e3,
        per(theirs)
    );
    if !ss_times.is_empty() {
        let ss = median(ss_times);
        println!(
            "ss -tan (process, median of 11): {:.2} ms",
            ss.as_secs_f64() * 1e3
        );
    }
}
