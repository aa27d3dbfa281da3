//! Kernel counters and sysctls: /proc/net/snmp (Tcp), /proc/net/netstat (TcpExt),
//! /proc/net/sockstat{,6} and a few net sysctls. A missing file or key is `None`, never 0.
//! Cheap enough to run every second: a handful of small files into one reused buffer.
//!
//! Parsed here rather than with the procfs crate: its `Snmp` type fails as a whole when any
//! of its many fields is missing (and has no TcpExt or sockstat), where we want each value
//! on its own.

use crate::collect::Host;
use crate::model::KernelCounters;

/// The counters and sysctls of `host`'s network namespace.
pub fn read(host: &Host) -> KernelCounters {
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut c = KernelCounters::default();
    if host.read_net("snmp", &mut buf).is_ok() {
        parse_snmp(&buf, &mut c);
    }
    if host.read_net("netstat", &mut buf).is_ok() {
        parse_netstat(&buf, &mut c);
    }
    for file in ["sockstat", "sockstat6"] {
        if host.read_net(file, &mut buf).is_ok() {
            parse_sockstat(&buf, &mut c);
        }
    }
    let mut sysctl = |rel: &str| -> Option<u64> {
        host.read_sysctl(rel, &mut buf).ok()?;
        parse_sysctl(&buf)
    };
    c.somaxconn = sysctl("core/somaxconn");
    c.tcp_max_syn_backlog = sysctl("ipv4/tcp_max_syn_backlog");
    c.tcp_abort_on_overflow = sysctl("ipv4/tcp_abort_on_overflow");
    c.tcp_max_tw_buckets = sysctl("ipv4/tcp_max_tw_buckets");
    c.tcp_fin_timeout = sysctl("ipv4/tcp_fin_timeout");
    if host
        .read_sysctl("ipv4/ip_local_port_range", &mut buf)
        .is_ok()
    {
        c.ip_local_port_range = parse_port_range(&buf);
    }
    c
}

/// A sysctl holding one number.
pub fn parse_sysctl(text: &[u8]) -> Option<u64> {
    number(text.trim_ascii())
}

/// `ip_local_port_range`: two port numbers.
pub fn parse_port_range(text: &[u8]) -> Option<(u16, u16)> {
    let mut it = text
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty());
    let mut port = || {
        it.next()
            .and_then(number)
            .and_then(|v| u16::try_from(v).ok())
    };
    let low = port();
    let high = port();
    low.zip(high)
}

/// /proc/net/snmp: the Tcp section and the Udp drop counters.
pub fn parse_snmp(buf: &[u8], c: &mut KernelCounters) {
    for_each_counter(buf, |section, key, value| {
        if section == b"Udp" {
            let slot = match key {
                b"InErrors" => &mut c.udp_in_errors,
                b"RcvbufErrors" => &mut c.udp_rcvbuf_errors,
                _ => return,
            };
            *slot = number(value);
            return;
        }
        if section != b"Tcp" {
            return;
        }
        let slot = match key {
            b"ActiveOpens" => &mut c.active_opens,
            b"PassiveOpens" => &mut c.passive_opens,
            b"AttemptFails" => &mut c.attempt_fails,
            b"EstabResets" => &mut c.estab_resets,
            b"CurrEstab" => &mut c.curr_estab,
            b"InSegs" => &mut c.in_segs,
            b"OutSegs" => &mut c.out_segs,
            b"RetransSegs" => &mut c.retrans_segs,
            b"InErrs" => &mut c.in_errs,
            b"OutRsts" => &mut c.out_rsts,
            _ => return,
        };
        *slot = number(value);
    });
}

/// /proc/net/netstat: the TcpExt section.
pub fn parse_netstat(buf: &[u8], c: &mut KernelCounters) {
    for_each_counter(buf, |section, key, value| {
        if section != b"TcpExt" {
            return;
        }
        let slot = match key {
            b"ListenOverflows" => &mut c.listen_overflows,
            b"ListenDrops" => &mut c.listen_drops,
            b"TCPTimeouts" => &mut c.tcp_timeouts,
            b"TWRecycled" => &mut c.tw_recycled,
            b"TCPAbortOnData" => &mut c.tcp_abort_on_data,
            _ => return,
        };
        *slot = number(value);
    });
}

/// /proc/net/sockstat or sockstat6.
pub fn parse_sockstat(buf: &[u8], c: &mut KernelCounters) {
    for_each_sockstat(buf, |section, key, value| {
        let slot = match (section, key) {
            (b"sockets", b"used") => &mut c.sockets_used,
            (b"TCP", b"inuse") => &mut c.tcp_inuse,
            (b"TCP", b"orphan") => &mut c.tcp_orphan,
            (b"TCP", b"tw") => &mut c.tcp_tw,
            (b"TCP", b"alloc") => &mut c.tcp_alloc,
            (b"TCP", b"mem") => &mut c.tcp_mem_pages,
            (b"UDP", b"inuse") => &mut c.udp_inuse,
            (b"UDP", b"mem") => &mut c.udp_mem_pages,
            (b"UDPLITE", b"inuse") => &mut c.udplite_inuse,
            (b"RAW", b"inuse") => &mut c.raw_inuse,
            (b"FRAG", b"inuse") => &mut c.frag_inuse,
            (b"TCP6", b"inuse") => &mut c.tcp6_inuse,
            (b"UDP6", b"inuse") => &mut c.udp6_inuse,
            (b"RAW6", b"inuse") => &mut c.raw6_inuse,
            (b"FRAG6", b"inuse") => &mut c.frag6_inuse,
            _ => return,
        };
        *slot = number(value);
    });
}

fn number(s: &[u8]) -> Option<u64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn tokens(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| *b == b' ' || *b == b'\t')
        .filter(|t| !t.is_empty())
}

/// `Section: Key1 Key2 ...` followed by `Section: v1 v2 ...` (snmp, netstat).
fn for_each_counter(text: &[u8], mut f: impl FnMut(&[u8], &[u8], &[u8])) {
    let mut lines = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .peekable();
    while let Some(header) = lines.next() {
        let Some(section) = section_of(header) else {
            continue;
        };
        // A value line must carry the same section name; otherwise this line starts anew.
        if lines.peek().and_then(|l| section_of(l)) != Some(section) {
            continue;
        }
        let Some(values) = lines.next() else { break };
        for (key, value) in tokens(header).skip(1).zip(tokens(values).skip(1)) {
            f(section, key, value);
        }
    }
}

/// `Section: key value key value ...` (sockstat).
fn for_each_sockstat(text: &[u8], mut f: impl FnMut(&[u8], &[u8], &[u8])) {
    for line in text.split(|b| *b == b'\n') {
        let Some(section) = section_of(line) else {
            continue;
        };
        let mut it = tokens(line).skip(1);
        while let (Some(key), Some(value)) = (it.next(), it.next()) {
            f(section, key, value);
        }
    }
}

fn section_of(line: &[u8]) -> Option<&[u8]> {
    let first = tokens(line).next()?;
    first.strip_suffix(b":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_pairs_and_sockstat() {
        let mut seen = Vec::new();
        for_each_counter(
            b"Tcp: A B\nTcp: 1 -1\nUdp: C\nTcp: 5\nUdp: 7\n",
            |s, k, v| seen.push((s.to_vec(), k.to_vec(), v.to_vec())),
        );
        assert_eq!(
            seen,
            vec![
                (b"Tcp".to_vec(), b"A".to_vec(), b"1".to_vec()),
                (b"Tcp".to_vec(), b"B".to_vec(), b"-1".to_vec()),
            ]
        );
        let mut seen = Vec::new();
        for_each_sockstat(b"TCP: inuse 3 orphan 0 tw\n", |s, k, v| {
            seen.push((s.to_vec(), k.to_vec(), v.to_vec()))
        });
        assert_eq!(
            seen,
            vec![
                (b"TCP".to_vec(), b"inuse".to_vec(), b"3".to_vec()),
                (b"TCP".to_vec(), b"orphan".to_vec(), b"0".to_vec()),
            ]
        );
        assert_eq!(number(b"-1"), None);
    }

    #[test]
    fn udp_drop_counters_come_from_the_udp_section_only() {
        let snmp = b"Tcp: InErrs RetransSegs\nTcp: 4 9\n\
            Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n\
            Udp: 100 2 30 50 27 0\n\
            UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n\
            UdpLite: 0 0 5 0 5 0\n";
        let mut c = KernelCounters::default();
        parse_snmp(snmp, &mut c);
        assert_eq!(c.udp_in_errors, Some(30));
        assert_eq!(c.udp_rcvbuf_errors, Some(27));
        assert_eq!(c.in_errs, Some(4));
        assert_eq!(c.retrans_segs, Some(9));
        // Missing: unknown, not 0.
        let mut c = KernelCounters::default();
        parse_snmp(b"Tcp: InErrs\nTcp: 4\n", &mut c);
        assert_eq!(c.udp_rcvbuf_errors, None);
    }
}
