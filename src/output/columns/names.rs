//! Names ss gives to protocol numbers of the families beyond TCP/UDP/unix: link-layer
//! protocols of packet sockets (iproute2's `ll_proto` table), netlink protocols (iproute2's
//! `nl_proto` table) and IP protocols of raw sockets (/etc/protocols, as getprotobynumber).

use rustc_hash::FxHashMap;

/// iproute2's link-layer protocol names (lib/ll_proto.c), first match wins, as
/// `ll_proto_n2a` searches it.
const ETHERTYPES: &[(u16, &str)] = &[
    (0x0060, "loop"),
    (0x0200, "pup"),
    (0x0201, "pupat"),
    (0x0800, "ip"),
    (0x0805, "x25"),
    (0x0806, "arp"),
    (0x08ff, "bpq"),
    (0x0a00, "ieeepup"),
    (0x0a01, "ieeepupat"),
    (0x6000, "dec"),
    (0x6001, "dna_dl"),
    (0x6002, "dna_rc"),
    (0x6003, "dna_rt"),
    (0x6004, "lat"),
    (0x6005, "diag"),
    (0x6006, "cust"),
    (0x6007, "sca"),
    (0x8035, "rarp"),
    (0x809b, "atalk"),
    (0x80f3, "aarp"),
    (0x8137, "ipx"),
    (0x86dd, "ipv6"),
    (0x8863, "ppp_disc"),
    (0x8864, "ppp_ses"),
    (0x884c, "atmmpoa"),
    (0x8884, "atmfate"),
    (0x0001, "802_3"),
    (0x0002, "ax25"),
    (0x0003, "all"),
    (0x0004, "802_2"),
    (0x0005, "snap"),
    (0x0006, "ddcmp"),
    (0x0007, "wan_ppp"),
    (0x0008, "ppp_mp"),
    (0x0009, "localtalk"),
    (0x000c, "can"),
    (0x0010, "ppptalk"),
    (0x0011, "tr_802_2"),
    (0x0015, "mobitex"),
    (0x0016, "control"),
    (0x0017, "irda"),
    (0x0018, "econet"),
    (0x88ca, "tipc"),
    (0x88a2, "aoe"),
    (0x8100, "802.1Q"),
    (0x88a8, "802.1ad"),
    (0x8847, "mpls_uc"),
    (0x8848, "mpls_mc"),
    (0x6558, "teb"),
    (0x88cc, "LLDP"),
];

/// The name ss prints for a packet socket's protocol (host order), if it has one.
pub fn ethertype(protocol: u16) -> Option<&'static str> {
    ETHERTYPES
        .iter()
        .find(|(id, _)| *id == protocol)
        .map(|(_, name)| *name)
}

/// iproute2's netlink protocol names (lib/utils.c `nl_proto_tab`), by number.
const NETLINK_PROTOCOLS: [Option<&str>; 22] = [
    Some("rtnl"),
    Some("unused"),
    Some("usersock"),
    Some("fw"),
    Some("tcpdiag"),
    Some("nflog"),
    Some("xfrm"),
    Some("selinux"),
    Some("iscsi"),
    Some("audit"),
    Some("fiblookup"),
    Some("connector"),
    Some("nft"),
    Some("ip6fw"),
    Some("dec-rt"),
    Some("uevent"),
    Some("genl"),
    None,
    Some("scsi-trans"),
    Some("ecryptfs"),
    Some("rdma"),
    Some("crypto"),
];

/// The name ss prints for a netlink protocol, if it has one.
pub fn netlink_protocol(protocol: u8) -> Option<&'static str> {
    NETLINK_PROTOCOLS
        .get(usize::from(protocol))
        .copied()
        .flatten()
}

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
