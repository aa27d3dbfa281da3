//! Kernel counters near and beyond u64::MAX in a fake /proc: read as they are (or unknown
//! when they do not fit), and every sum in `-s` unknown rather than wrapped.

use sockeye::collect::{Collector, Host, NetidSet, Query};
use sockeye::output::summary::Summary;

use super::tree;

#[test]
fn huge_counters_are_read_and_never_summed_into_a_wrapped_number() {
    let root = tree::proc_tree("basic");
    let max = u64::MAX;
    std::fs::write(
        root.path().join("net/sockstat"),
        format!(
            "sockets: used {max}\nTCP: inuse {max} orphan 0 tw {max} alloc {max} mem 1\n\
             UDP: inuse 99999999999999999999 mem 0\nUDPLITE: inuse 0\nRAW: inuse {max}\n\
             FRAG: inuse 1 memory 0\n"
        ),
    )
    .unwrap();
    std::fs::write(
        root.path().join("net/sockstat6"),
        format!("TCP6: inuse {max}\nUDP6: inuse 2\nUDPLITE6: inuse 0\nRAW6: inuse 1\nFRAG6: inuse {max} memory 0\n"),
    )
    .unwrap();
    let q = Query {
        counters: true,
        netids: NetidSet::default(),
        ..Query::default()
    };
    let snap = Collector::on_host(q, Host::fake(root.path()))
        .snapshot()
        .unwrap();
    let c = snap.counters.as_ref().unwrap();
    assert_eq!(c.sockets_used, Some(max));
    assert_eq!(c.tcp_alloc, Some(max));
    assert_eq!(c.udp_inuse, None, "beyond u64: unknown, not wrapped");

    let sum = Summary::new(&snap);
    assert_eq!(sum.counters.tcp_total, None);
    assert_eq!(sum.counters.tcp_closed, None);
    let mut out = Vec::new();
    sum.write_text(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    for line in text.lines() {
        for word in line.split_whitespace() {
            if let Ok(n) = word
                .trim_matches(|c: char| !c.is_ascii_digit())
                .parse::<u64>()
            {
                // Every number printed is one the kernel reported, or a small count.
                assert!(
                    n == max || n < 1000 || n == 131072,
                    "{word} in {line:?}\n{text}"
                );
            }
        }
    }
    assert!(text.contains("TCP:   - ("), "{text}");
    let mut out = Vec::new();
    sum.write_json(&mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v["kernel"]["tcp_total"].is_null());
    assert_eq!(v["kernel"]["sockets_used"], serde_json::json!(max));
}
