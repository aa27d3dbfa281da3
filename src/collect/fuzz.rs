//! Entry points for the fuzz targets (tests/fuzz): every parser of what the OS hands the
//! collector, on arbitrary bytes. Each must return (never panic, never loop) on any input.

use crate::collect::netlink::fixture;
use crate::collect::{Query, counters, processes, procfs};
use crate::model::KernelCounters;

/// A /proc/net socket table: the first byte picks the table (tcp, tcp6, udp, udp6, unix),
/// the rest is its text; unix is read with and without a netlink check.
pub fn proc_net_table(data: &[u8]) {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let name = ["tcp", "tcp6", "udp", "udp6", "unix"][usize::from(pick) % 5];
    let q = Query::default();
    let _ = procfs::parse_for_fuzz(name, text, &q, None);
    if name == "unix" {
        // Netlink's answer made up from the inode: some known, some not, some unaskable.
        let mut odd = |inode: u64| (!inode.is_multiple_of(3)).then_some(inode.is_multiple_of(2));
        let _ = procfs::parse_for_fuzz(name, text, &q, Some(&mut odd));
    }
}

/// /proc/net/snmp, netstat, sockstat{,6} and the sysctl values, all on the same bytes.
pub fn proc_counters(data: &[u8]) {
    let mut c = KernelCounters::default();
    counters::parse_snmp(data, &mut c);
    counters::parse_netstat(data, &mut c);
    counters::parse_sockstat(data, &mut c);
    let _ = counters::parse_sysctl(data);
    let _ = counters::parse_port_range(data);
}

/// An fd link target, a pid directory name and a /proc/PID/stat file.
pub fn proc_process_files(data: &[u8]) {
    let _ = processes::parse_for_fuzz(data);
}

/// A netlink sock_diag answer: the first byte picks the table and whether extensions were
/// asked, the rest is split into datagrams at 0xFF 0xFF 0xFF 0xFF markers (so one input can
/// hold several).
pub fn netlink_answer(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let names = [
        "tcp/ipv4",
        "tcp/ipv6",
        "tcp/ipv4+ipv6",
        "udp/ipv4",
        "udp/ipv6",
        "unix",
    ];
    let Some(table) = fixture::table_by_name(names[usize::from(pick & 7) % names.len()]) else {
        return;
    };
    let q = Query {
        tcp_info: pick & 8 != 0,
        memory: pick & 16 != 0,
        ..Query::default()
    };
    let datagrams: Vec<&[u8]> = split_marker(rest);
    let seq = datagrams
        .first()
        .and_then(|d| d.get(8..12))
        .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    let (mut out, mut skipped) = (Vec::new(), 0);
    let _ = fixture::replay(table, seq, &datagrams, &q, &mut out, &mut skipped);
}

fn split_marker(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(4).position(|w| w == [0xFF; 4]) {
        out.push(&rest[..i]);
        rest = &rest[i + 4..];
    }
    out.push(rest);
    out
}

/// A TCPDIAG_FILE (`ss -D` output), decoded with every extension asked.
pub fn tcpdiag_file(data: &[u8]) {
    crate::collect::netlink::diagfile::fuzz(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entry points on the recorded fixtures and on a few odd inputs.
    #[test]
    fn entry_points_run_on_fixtures_and_junk() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for (i, name) in ["tcp", "tcp6", "udp", "udp6", "unix"].iter().enumerate() {
            let mut data = vec![i as u8];
            data.extend(std::fs::read(root.join("proc/basic/net").join(name)).unwrap());
            proc_net_table(&data);
        }
        for name in ["snmp", "netstat", "sockstat"] {
            proc_counters(&std::fs::read(root.join("proc/basic/net").join(name)).unwrap());
        }
        for d in [
            &b""[..],
            b"\n\n",
            b"socket:[",
            b"1 (x) S 0",
            b"\xff\xff\xff\xff",
        ] {
            proc_net_table(d);
            proc_counters(d);
            proc_process_files(d);
            netlink_answer(d);
        }
        let bytes = std::fs::read(root.join("netlink/unix.bin")).unwrap();
        let (_, datagrams) = fixture::decode(&bytes).unwrap();
        let mut data = vec![5u8];
        data.extend_from_slice(datagrams[0]);
        netlink_answer(&data);
    }
}
