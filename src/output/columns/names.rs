//! Names ss gives to protocol numbers of the families beyond TCP/UDP/unix: link-layer
//! protocols of packet sockets and netlink protocols (iproute2's tables, kept in
//! [`crate::collect::protocols`], which the filter reads too) and IP protocols of raw sockets
//! (/etc/protocols, as getprotobynumber).

use rustc_hash::FxHashMap;

pub use crate::collect::protocols::{ethertype, netlink_protocol};

/// Number → name from the text of /etc/protocols: the first name per number, as
/// getprotobynumber returns it.
pub fn parse_protocols(text: &str) -> FxHashMap<u16, Box<str>> {
    let mut names = FxHashMap::default();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        if let (Some(name), Some(Ok(n))) = (words.next(), words.next().map(str::parse::<u16>)) {
            names.entry(n).or_insert_with(|| name.into());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_iproute2() {
        assert_eq!(ethertype(0x0800), Some("ip"));
        assert_eq!(ethertype(0x86dd), Some("ipv6"));
        assert_eq!(ethertype(0x1234), None);
        assert_eq!(netlink_protocol(0), Some("rtnl"));
        assert_eq!(netlink_protocol(4), Some("tcpdiag"));
        assert_eq!(netlink_protocol(17), None);
        assert_eq!(netlink_protocol(200), None);
        let p = parse_protocols("ip\t0\tIP\nicmp 1 ICMP # comment\n# x 9\nbad\nalias 1 X\n");
        assert_eq!(p.get(&1).map(|s| &**s), Some("icmp"));
        assert_eq!(p.get(&0).map(|s| &**s), Some("ip"));
        assert_eq!(p.len(), 2);
    }
}
