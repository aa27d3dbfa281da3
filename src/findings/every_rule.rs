//! `evaluate` (one tally per snapshot, shared by the rules) finds what the rules find one
//! by one, on a window where every rule fires.

use super::fixture::*;
use super::*;
use crate::model::TcpState;

/// Round `i` of a window in which each rule has something to say.
fn round(i: u32) -> (Vec<Socket>, KernelCounters) {
    use TcpState::*;
    let mut v = vec![
        // close-wait-leak: the listener's CLOSE-WAIT count grows.
        tcp(Listen, ("127.0.0.1", 7000), ("0.0.0.0", 0))
            .owned("srv", 42)
            .cookie(1),
        // accept-queue-overflow: a queue above its backlog.
        tcp(Listen, ("127.0.0.1", 7001), ("0.0.0.0", 0))
            .queues(1 + i, 1)
            .cookie(2),
        // stuck-receiver and stuck-sender.
        tcp(Established, ("127.0.0.1", 7002), ("127.0.0.1", 50000))
            .queues(100 * (i + 1), 0)
            .cookie(5)
            .owned("app", 3),
        tcp(Established, ("127.0.0.1", 7003), ("127.0.0.1", 50001))
            .queues(0, 5000)
            .persist(3)
            .cookie(6),
        // orphans: one without a process.
        tcp(FinWait1, ("10.0.0.1", 80), ("10.0.0.2", 5000)),
        // udp-receive-drops.
        udp(("127.0.0.1", 5353))
            .cookie(9)
            .owned("dns", 4)
            .mem(212_000, 212_992, 10 + 15 * i),
        // unix-listener-full.
        unix_listener("/run/app.sock", 77, 2 * i, 1).owned("app", 5),
        // peer-retransmits: backing off toward one peer.
        tcp(Established, ("10.0.0.1", 40000), ("10.0.0.9", 443))
            .cookie(400)
            .retrans_timer(1 + 2 * i),
        tcp(Established, ("10.0.0.1", 40001), ("10.0.0.9", 443))
            .cookie(401)
            .retrans_timer(2 + 2 * i),
    ];
    for k in 0..(3 + 2 * i) as u16 {
        v.push(
            tcp(CloseWait, ("127.0.0.1", 7000), ("127.0.0.1", 40000 + k))
                .cookie(100 + u64::from(k)),
        );
    }
    // syn-backlog-pressure (and syncookies' backlog).
    for k in 0..3u16 {
        v.push(
            tcp(SynRecv, ("127.0.0.1", 7001), ("10.0.0.2", 6000 + k)).cookie(300 + u64::from(k)),
        );
    }
    // port-exhaustion: 60 of 100 ephemeral ports toward one destination.
    for k in 0..60u16 {
        v.push(tcp(TimeWait, ("10.0.0.1", 32768 + k), ("10.0.0.9", 80)));
    }
    // fin-wait-2-pile-up: a growing count toward one peer.
    for k in 0..(3 + i) as u16 {
        v.push(
            tcp(FinWait2, ("127.0.0.1", 41000 + k), ("127.0.0.1", 7100)).cookie(500 + u64::from(k)),
        );
    }
    let c = counters(|c| {
        c.ip_local_port_range = Some((32768, 32867));
        // retransmissions: 3% of OutSegs.
        c.out_segs = Some(10_000 * u64::from(i + 1));
        c.retrans_segs = Some(100 + 300 * u64::from(i));
        // orphans: 60% and more of tcp_max_orphans.
        c.tcp_orphan = Some(600 + 100 * u64::from(i));
        c.tcp_max_orphans = Some(1000);
        c.tcp_abort_on_memory = Some(0);
        // syncookies: sent, none failed or dropped.
        c.syncookies_sent = Some(10 * u64::from(i));
        c.syncookies_recv = Some(0);
        c.syncookies_failed = Some(0);
        c.tcp_req_q_full_drop = Some(0);
        c.tcp_max_syn_backlog = Some(256);
        c.tcp_syncookies = Some(1);
        c.tcp_fin_timeout = Some(60);
    });
    (v, c)
}

#[test]
fn evaluate_finds_what_each_rule_finds_alone() {
    let snaps = counted((0..3).map(round).collect());
    let w = win(&snaps);
    let t = Thresholds {
        close_wait_min: 2,
        syn_recv_min: 3,
        fin_wait2_min: 3,
        syncookies_min: 1,
        ..Thresholds::default()
    };
    let all = evaluate(&w, &t);
    for rule in Rule::ALL {
        assert!(
            all.iter().any(|f| f.rule == rule),
            "{} did not fire: {all:#?}",
            rule.name()
        );
    }
    // Each rule alone, over its own tallies of the window.
    let mut alone = Vec::new();
    for rule in RULES {
        alone.extend(rule(&Scan::of(&w), &t));
    }
    sort(&mut alone);
    assert_eq!(all, alone);
}
