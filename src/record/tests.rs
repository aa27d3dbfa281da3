//! Round trips through the writer and reader, damage, versions, rotation, size.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::frame::{self, Collected, Header, HeaderError};
use super::reader::Recording;
use super::writer::{Writer, generation};
use crate::model::{
    Endpoint, KernelCounters, MemInfo, Netid, ProcessRef, Snapshot, Socket, Source, TcpInfo,
    TcpState, Timer, TimerKind,
};

fn inet(a: [u8; 4], port: u16) -> Endpoint {
    Endpoint::Inet {
        addr: IpAddr::V4(Ipv4Addr::from(a)),
        port,
    }
}

fn sock(i: u32) -> Socket {
    let mut s = Socket::new(
        Netid::Tcp,
        TcpState::Established,
        inet([10, 0, (i >> 8) as u8, i as u8], 443),
        inet([10, 1, 2, 3], 30000 + (i % 30000) as u16),
    );
    s.cookie = Some(1000 + u64::from(i));
    s.inode = 50000 + u64::from(i);
    s.uid = Some(0);
    s.recv_q = Some(0);
    s.send_q = Some(i % 7);
    s
}

fn rich() -> Socket {
    let mut s = Socket::new(
        Netid::Tcp,
        TcpState::Listen,
        Endpoint::Inet {
            addr: IpAddr::V6(Ipv6Addr::LOCALHOST),
            port: 8080,
        },
        Endpoint::Inet {
            addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            port: 0,
        },
    );
    s.v6only = Some(true);
    s.ifindex = Some(3);
    s.timer = Some(Timer {
        kind: TimerKind::Keepalive,
        expires_ms: 7000,
        retrans: 2,
    });
    s.tcp_info = Some(Box::new(TcpInfo {
        congestion: Some("cubic".into()),
        snd_ssthresh: None,
        rtt_us: 123,
        bytes_acked: u64::MAX,
        app_limited: true,
        // What a moment read back gives for a field the format does not hold.
        reordering: 3,
        ..TcpInfo::default()
    }));
    s.memory = Some(Box::new(MemInfo {
        rcvbuf: 131072,
        drops: 4,
        ..MemInfo::default()
    }));
    s.processes = vec![ProcessRef {
        command: Arc::from("nginx\u{1b}"),
        pid: 42,
        fd: 7,
        nspid: None,
        proc_ctx: None,
        sock_ctx: None,
    }]
    .into();
    s
}

fn unix() -> Socket {
    let mut s = Socket::new(
        Netid::UnixStream,
        TcpState::Established,
        Endpoint::Unix {
            path: Some("@abstract".into()),
            inode: 77,
        },
        Endpoint::Unix {
            path: None,
            inode: 78,
        },
    );
    s.inode = 77;
    s
}

fn snap(at: u64, sockets: Vec<Socket>) -> Snapshot {
    Snapshot::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + at),
        Source::Netlink,
        sockets,
        Some(KernelCounters {
            listen_overflows: Some(at),
            ip_local_port_range: Some((32768, 60999)),
            ..KernelCounters::default()
        }),
    )
}

fn header() -> Header {
    Header::new(
        Duration::from_secs(1),
        Collected::default(),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    )
}

/// Snapshots that change: sockets appear, vanish and change.
fn script() -> Vec<Snapshot> {
    (0..5u32)
        .map(|t| {
            let mut v: Vec<Socket> = (t..t + 20).map(sock).collect();
            v[0].send_q = Some(1000 + t);
            v.push(rich());
            if t % 2 == 0 {
                v.push(unix());
            }
            snap(u64::from(t), v)
        })
        .collect()
}

fn record(dir: &std::path::Path, snaps: &[Snapshot], max: u64) -> std::path::PathBuf {
    let path = dir.join("r.rec");
    let mut w = Writer::create(&path, header(), max).unwrap();
    for s in snaps {
        w.push(s).unwrap();
    }
    path
}

#[test]
fn every_moment_reads_back_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = script();
    let path = record(dir.path(), &snaps, 1 << 30);
    let rec = Recording::open(&path).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.len(), snaps.len());
    assert!(!rec.entries()[1].full);
    for (i, want) in snaps.iter().enumerate() {
        let got = rec.moment(i).unwrap();
        assert_eq!(got.taken_at, want.taken_at);
        assert_eq!(got.counters, want.counters);
        let mut a = got.sockets.clone();
        let mut b = want.sockets.clone();
        let key = |s: &Socket| format!("{s:?}");
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a, b, "moment {i}");
    }
    let ch = rec.changes(0, 1).unwrap();
    assert_eq!(ch.appeared.len(), 1); // sock(20)
    assert_eq!(ch.vanished.len(), 2); // sock(0) and the unix socket
}

#[test]
fn a_cut_or_damaged_tail_is_skipped_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path(), &script(), 1 << 30);
    let data = std::fs::read(&path).unwrap();
    let whole = Recording::parse(&data).unwrap();
    // Every cut reads without panicking; past the first frame it keeps what came before.
    let (_, first) = frame::decode_header(&data).unwrap();
    let mut bounds = vec![first];
    while let Some(&b) = bounds.last().filter(|b| **b < data.len()) {
        let len = u32::from_le_bytes(data[b..b + 4].try_into().unwrap()) as usize;
        bounds.push(b + frame::ENVELOPE + len);
    }
    for cut in 0..data.len() {
        match Recording::parse(&data[..cut]) {
            Ok(r) => {
                assert!(cut >= first);
                let whole_frames = bounds.iter().filter(|b| **b <= cut).count() - 1;
                assert_eq!(r.len(), whole_frames, "cut at {cut}");
                if bounds.contains(&cut) {
                    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
                } else {
                    let at = bounds[whole_frames];
                    let want = format!("at byte offset {at};");
                    assert!(r.warnings[0].contains(&want), "{:?} {want}", r.warnings);
                }
            }
            Err(e) => assert!(cut < first, "cut at {cut}: {e}"),
        }
    }
    // A flipped byte in the last frame: the frames before it read, the warning names where.
    let last_off = data.len() - 20;
    let mut bad = data.clone();
    bad[last_off] ^= 0x40;
    let r = Recording::parse(&bad).unwrap();
    assert_eq!(r.len(), whole.len() - 1);
    assert_eq!(r.warnings.len(), 1);
    assert!(r.warnings[0].contains("checksum"), "{:?}", r.warnings);
    assert!(r.warnings[0].contains("byte offset"), "{:?}", r.warnings);
}

#[test]
fn a_newer_major_version_or_a_stranger_is_refused() {
    let mut h = header().encode();
    h[8..10].copy_from_slice(&(frame::MAJOR + 1).to_le_bytes());
    let err = Recording::parse(&h).err().unwrap();
    assert_eq!(err, HeaderError::Newer(frame::MAJOR + 1, frame::MINOR));
    assert!(err.to_string().contains("newer sockeye"), "{err}");
    assert_eq!(
        Recording::parse(b"hello world").err(),
        Some(HeaderError::NotRecording)
    );
    assert_eq!(Recording::parse(b"").err(), Some(HeaderError::Empty));
    // A newer minor version reads.
    let mut h = header().encode();
    h[10..12].copy_from_slice(&(frame::MINOR + 1).to_le_bytes());
    assert!(Recording::parse(&h).is_ok());
}

#[test]
fn rotation_keeps_the_size_bounded_and_each_file_readable() {
    let dir = tempfile::tempdir().unwrap();
    let max = 64 << 10;
    let path = dir.path().join("r.rec");
    let mut w = Writer::create(&path, header(), max).unwrap();
    let mut rotated = 0;
    for t in 0..2000u32 {
        let v: Vec<Socket> = (t..t + 50).map(sock).collect();
        rotated += usize::from(w.push(&snap(u64::from(t), v)).unwrap().rotated);
    }
    assert!(rotated > 4, "only {rotated} rotations");
    let mut total = 0;
    for n in 0..super::writer::GENERATIONS {
        let p = generation(&path, n);
        total += std::fs::metadata(&p).unwrap().len();
        let r = Recording::open_file(&p).unwrap();
        assert!(r.warnings.is_empty());
        assert!(r.entries()[0].full);
    }
    assert!(!generation(&path, super::writer::GENERATIONS).exists());
    assert!(total <= max, "{total} > {max}");
    // The newest data is in the live file.
    let live = Recording::open_file(&path).unwrap();
    assert_eq!(
        live.moment(live.len() - 1).unwrap().sockets,
        (1999..2049).map(sock).collect::<Vec<_>>()
    );
}

/// Bytes per socket per frame at 10,000 sockets with 1% churn a frame, printed for the
/// report; bounded so a regression in the encoding fails.
#[test]
fn size_per_socket_per_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.rec");
    let mut w = Writer::create(&path, header(), 1 << 34).unwrap();
    let (mut full, mut delta, mut nd) = (0, 0, 0);
    let mut spent = Duration::ZERO;
    for t in 0..30u32 {
        let v: Vec<Socket> = (t * 100..t * 100 + 10_000).map(sock).collect();
        let s = snap(u64::from(t), v);
        let t0 = std::time::Instant::now();
        let written = w.push(&s).unwrap();
        spent += t0.elapsed();
        if written.full {
            full = written.bytes;
        } else {
            delta += written.bytes;
            nd += 1;
        }
    }
    let full_per = full as f64 / 10_000.0;
    let delta_per = delta as f64 / f64::from(nd) / 10_000.0;
    let t0 = std::time::Instant::now();
    let rec = Recording::open(&path).unwrap();
    let last = rec.moment(rec.len() - 1).unwrap();
    let read = t0.elapsed();
    assert_eq!(last.sockets.len(), 10_000);
    println!(
        "full frame: {full_per:.2} B/socket; delta frame (1% churn): {delta_per:.3} B/socket; \
         {:?} a frame to write, {read:?} to read 30 frames and rebuild the last (this build)",
        spent / 30
    );
    assert!(full_per < 20.0, "{full_per}");
    assert!(delta_per < 1.0, "{delta_per}");
}

#[test]
fn sockets_sharing_a_key_all_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut twin = unix();
    twin.state = TcpState::Listen;
    let snaps = vec![
        snap(0, vec![unix(), twin.clone()]),
        snap(1, vec![unix(), twin]),
        snap(2, vec![unix()]),
        snap(3, vec![unix(), sock(1)]),
    ];
    let path = record(dir.path(), &snaps, 1 << 30);
    let rec = Recording::open(&path).unwrap();
    for (i, want) in snaps.iter().enumerate() {
        assert_eq!(rec.moment(i).unwrap().sockets, want.sockets, "moment {i}");
    }
}

/// FILE.3 … FILE read as one recording in time order; a restart between two files is a gap.
#[test]
fn rotated_files_read_as_one_recording_with_gaps_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.rec");
    let mut w = Writer::create(&path, header(), 64 << 10).unwrap();
    for t in 0..600u32 {
        let v: Vec<Socket> = (t..t + 50).map(sock).collect();
        w.push(&snap(u64::from(t), v)).unwrap();
    }
    drop(w);
    // A restart an hour later: the file before rotates away.
    let mut w = Writer::create(&path, header(), 64 << 10).unwrap();
    for t in 4200..4210u32 {
        w.push(&snap(u64::from(t), (t..t + 50).map(sock).collect()))
            .unwrap();
    }
    drop(w);
    let rec = Recording::open(&path).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.files().len(), 4);
    let times: Vec<_> = rec.entries().iter().map(|e| e.at).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "time order");
    assert_eq!(rec.gaps.len(), 1, "{:?}", rec.gaps);
    let g = &rec.gaps[0];
    assert_eq!(g.from, snap(599, Vec::new()).taken_at);
    assert_eq!(g.to, snap(4200, Vec::new()).taken_at);
    assert_eq!(rec.entries()[g.next].at, g.to);
    // More than the live file alone, and each moment is the one recorded.
    let live = Recording::open_file(&path).unwrap();
    assert_eq!(live.len(), 10);
    assert!(rec.len() > 10);
    let first = rec.entries()[0].at;
    let t0 = first
        .duration_since(snap(0, Vec::new()).taken_at)
        .unwrap()
        .as_secs() as u32;
    assert_eq!(
        rec.moment(0).unwrap().sockets,
        (t0..t0 + 50).map(sock).collect::<Vec<_>>()
    );
    assert_eq!(
        rec.moment(g.next - 1).unwrap().sockets,
        (599..649).map(sock).collect::<Vec<_>>()
    );
}

/// A cursor moved back and forth gives the moment rebuilt from scratch, and applies only
/// the frames in between when moving forward.
#[test]
fn a_cursor_steps_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let snaps: Vec<Snapshot> = (0..150u32)
        .map(|t| snap(u64::from(t), (t..t + 30).map(sock).collect()))
        .collect();
    let path = record(dir.path(), &snaps, 1 << 30);
    let rec = Recording::open(&path).unwrap();
    let mut c = crate::record::Cursor::default();
    for i in [3usize, 4, 70, 2, 149, 148, 61, 62] {
        let mut applied = 0;
        c.seek(&rec, i, |_, _| applied += 1).unwrap();
        assert_eq!(c.snapshot().sockets, snaps[i].sockets, "at {i}");
        assert_eq!(c.snapshot().taken_at, snaps[i].taken_at);
        if i == 4 || i == 62 {
            assert_eq!(applied, 1, "one step forward applies one frame");
        }
    }
}

/// The endpoint kinds of packet, netlink and vsock sockets read back as written (PACKET_DIAG_INFO is
/// not recorded).
#[test]
fn family_endpoints_round_trip() {
    use super::codec::{Dec, Enc, get_endpoint, put_endpoint};
    let ends = [
        Endpoint::Link {
            protocol: 0x0800,
            ifindex: 1,
            info: None,
        },
        Endpoint::Netlink {
            protocol: 16,
            portid: -193_312_410,
            groups: 5,
        },
        Endpoint::NetlinkPeer {
            group: 0,
            portid: 0,
        },
        Endpoint::Nothing,
        Endpoint::Vsock {
            cid: u32::MAX,
            port: 1024,
        },
        Endpoint::Vsock {
            cid: 3,
            port: u32::MAX,
        },
        Endpoint::Xdp {
            ifindex: 4,
            queue: 0,
        },
        Endpoint::Tipc {
            node: 16781313,
            port: u32::MAX,
        },
    ];
    let mut e = Enc { buf: Vec::new() };
    for ep in &ends {
        put_endpoint(&mut e, ep);
    }
    let mut d = Dec::new(&e.buf);
    for ep in &ends {
        assert_eq!(&get_endpoint(&mut d).unwrap(), ep);
    }
    assert!(d.is_empty());
    assert!(
        get_endpoint(&mut Dec::new(&[8])).is_err(),
        "a truncated vsock end"
    );
    assert!(
        get_endpoint(&mut Dec::new(&[10, 1])).is_err(),
        "a truncated TIPC end"
    );
    assert!(get_endpoint(&mut Dec::new(&[11])).is_err());
}

fn time_wait(expires_ms: u64) -> Socket {
    let mut s = sock(7);
    s.state = TcpState::TimeWait;
    s.timer = Some(Timer {
        kind: TimerKind::TimeWait,
        expires_ms,
        retrans: 0,
    });
    s
}

#[test]
fn a_timer_that_only_runs_down_is_not_written_again_and_reads_counted_down() {
    let dir = tempfile::tempdir().unwrap();
    // 1 s apart, the timer 1 s (give or take a few ms) less each time; then re-armed.
    let snaps: Vec<Snapshot> = [60_000, 59_000, 58_010, 50_000]
        .iter()
        .enumerate()
        .map(|(t, &ms)| {
            let mut idle = sock(2);
            idle.timer = Some(Timer {
                kind: TimerKind::Off,
                expires_ms: 0,
                retrans: 0,
            });
            snap(t as u64, vec![sock(1), idle, time_wait(ms)])
        })
        .collect();
    let path = record(dir.path(), &snaps, 1 << 30);
    let rec = Recording::open(&path).unwrap();
    assert_eq!(rec.header.minor, frame::MINOR);
    assert!(rec.counts_down(1));
    let upserted = |i: usize| match rec.frame(i).unwrap().body {
        frame::Body::Delta { upserted, .. } => upserted.len(),
        frame::Body::Full(_) => usize::MAX,
    };
    assert_eq!((upserted(1), upserted(2), upserted(3)), (0, 0, 1));
    let timer = |i: usize| {
        let m = rec.moment(i).unwrap();
        let t = m
            .sockets
            .iter()
            .find_map(|s| s.timer.filter(|t| t.kind == TimerKind::TimeWait));
        t.unwrap().expires_ms
    };
    assert_eq!(timer(0), 60_000);
    assert_eq!(timer(1), 59_000);
    assert_eq!(timer(2), 58_000); // within the slack of the 58,010 the kernel said
    assert_eq!(timer(3), 50_000);
}

#[test]
fn an_older_minor_version_reads_without_counting_timers_down() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path(), &script(), 1 << 30);
    let mut data = std::fs::read(&path).unwrap();
    // Minor 0 is outside the header body's checksum: only the number changes.
    data[10..12].copy_from_slice(&0u16.to_le_bytes());
    let rec = Recording::parse(&data).unwrap();
    assert_eq!(rec.header.minor, 0);
    assert!(!rec.counts_down(1));
    let want = &script()[4];
    assert_eq!(rec.moment(4).unwrap().sockets.len(), want.sockets.len());
}

#[test]
fn the_kernel_counters_findings_use_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let counters = KernelCounters {
        tcp_orphan: Some(11),
        syncookies_sent: Some(1),
        syncookies_recv: Some(2),
        syncookies_failed: Some(3),
        tcp_req_q_full_drop: Some(4),
        tcp_abort_on_memory: Some(5),
        udp_in_datagrams: Some(6),
        udp_rcvbuf_errors: Some(7),
        udp_in_errors: Some(8),
        tcp_max_orphans: Some(9),
        tcp_syncookies: Some(1),
        rmem_default: Some(212_992),
        rmem_max: Some(4_194_304),
        tcp_fin_timeout: Some(60),
        ip_local_port_range: Some((1024, 65000)),
        ..KernelCounters::default()
    };
    let mut snaps = script();
    for s in &mut snaps {
        s.counters = Some(counters.clone());
    }
    let path = record(dir.path(), &snaps, 1 << 30);
    let rec = Recording::open(&path).unwrap();
    for i in [0, 3] {
        assert_eq!(rec.moment(i).unwrap().counters, Some(counters.clone()));
    }
}

/// Shared keys make that frame and the next full; then deltas again, holding only what
/// changed and what vanished.
#[test]
fn shared_keys_force_full_frames_then_deltas_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.rec");
    let mut w = Writer::create(&path, header(), 1 << 30).unwrap();
    let mut twin = unix();
    twin.state = TcpState::Listen;
    let base: Vec<Socket> = (0..10).map(sock).collect();
    let with_twins = [base.clone(), vec![unix(), twin]].concat();
    let mut changed = base.clone();
    changed[4].send_q = Some(99);
    let frames = [
        (base.clone(), true),
        (base.clone(), false),
        (with_twins, true),
        (base.clone(), true),
        (base.clone(), false),
        (changed[..9].to_vec(), false),
    ];
    for (t, (v, full)) in frames.iter().enumerate() {
        let written = w.push(&snap(t as u64, v.clone())).unwrap();
        assert_eq!(written.full, *full, "frame {t}");
    }
    drop(w);
    let rec = Recording::open(&path).unwrap();
    match rec.frame(5).unwrap().body {
        frame::Body::Delta { vanished, upserted } => {
            assert_eq!(vanished, vec![frame::Key::of(&base[9])]);
            assert_eq!(upserted, vec![changed[4].clone()]);
        }
        frame::Body::Full(_) => panic!("frame 5 is a delta"),
    }
    for (t, (v, _)) in frames.iter().enumerate() {
        assert_eq!(rec.moment(t).unwrap().sockets, *v, "moment {t}");
    }
}

/// Sealing into a reused buffer gives the bytes of a fresh seal.
#[test]
fn a_reused_seal_buffer_gives_the_same_bytes() {
    let mut out = vec![7u8; 100_000];
    for payload in [
        &b""[..],
        b"abc",
        &[42u8; 70_000][..],
        b"socket socket socket",
    ] {
        frame::seal_into(payload, &mut out);
        assert_eq!(out, frame::seal(payload));
        let block = &out[frame::ENVELOPE..];
        assert_eq!(
            lz4_flex::block::decompress_size_prepended(block).unwrap(),
            payload
        );
    }
}

/// tcp_info read back prints as it printed live for the fields the format holds: the window
/// scales (recorded) keep their `wscale:` (tcpi_options is not recorded), and reordering
/// (not recorded) does not print as `reordering:0`, a value the kernel never gives.
#[test]
fn recorded_tcp_info_prints_wscale_and_no_invented_reordering() {
    let mut s = rich();
    let live = TcpInfo {
        congestion: Some("cubic".into()),
        snd_wscale: 7,
        rcv_wscale: 10,
        rto_us: 204_000,
        options: crate::model::tcpi_opt::WSCALE,
        reordering: 3,
        ..TcpInfo::default()
    };
    use super::codec::{Dec, Enc, get_socket, put_socket};
    s.tcp_info = Some(Box::new(live.clone()));
    let mut e = Enc::default();
    put_socket(&mut e, &s);
    let netids: Vec<Option<Netid>> = Netid::ALL.iter().copied().map(Some).collect();
    let got = get_socket(&mut Dec::new(&e.buf), &netids).unwrap();
    let got = got.tcp_info.unwrap();
    let text = |i: &TcpInfo| {
        let mut out = String::new();
        crate::output::format::push_tcp_info(&mut out, i, TcpState::Established, true, false);
        out
    };
    assert_eq!(text(&got), text(&live));
    assert!(text(&got).contains(" wscale:7,10"), "{}", text(&got));
    assert!(!text(&got).contains("reordering"), "{}", text(&got));
}
