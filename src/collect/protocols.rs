//! iproute2's names for the protocol numbers of packet sockets (lib/ll_proto.c) and netlink
//! sockets (`nl_proto_tab`), both ways: the table prints them, the filter reads them
//! (`src link:ip`, `src netlink:rtnl`).

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

/// The number of a link-layer protocol name (`ll_proto_a2n`: the table, case-insensitive,
/// then a number as strtoul base 0 reads it), host order.
pub fn ethertype_of_name(name: &str) -> Option<u16> {
    ETHERTYPES
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(id, _)| *id)
        .or_else(|| c_unsigned(name).and_then(|v| u16::try_from(v).ok()))
}

/// The number of a netlink protocol name (`nl_proto_a2n`: the table, then a u32 number).
pub fn netlink_protocol_of_name(name: &str) -> Option<u32> {
    NETLINK_PROTOCOLS
        .iter()
        .position(|n| *n == Some(name))
        .and_then(|i| u32::try_from(i).ok())
        .or_else(|| c_unsigned(name).and_then(|v| u32::try_from(v).ok()))
}

/// strtoul(s, base 0) over the whole word: `2048`, `0x800`, `04000`.
fn c_unsigned(s: &str) -> Option<u64> {
    let (radix, digits) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_both_ways() {
        assert_eq!(ethertype_of_name("ip"), Some(0x0800));
        assert_eq!(ethertype_of_name("IPv6"), Some(0x86dd));
        assert_eq!(ethertype_of_name("0x800"), Some(0x0800));
        assert_eq!(ethertype_of_name("2048"), Some(0x0800));
        assert_eq!(ethertype_of_name("nope"), None);
        assert_eq!(ethertype_of_name("70000"), None);
        assert_eq!(netlink_protocol_of_name("rtnl"), Some(0));
        assert_eq!(netlink_protocol_of_name("genl"), Some(16));
        assert_eq!(netlink_protocol_of_name("9"), Some(9));
        assert_eq!(netlink_protocol_of_name("kernel"), None);
        for p in [0u16, 0x0800, 0x86dd, 0x88cc] {
            if let Some(n) = ethertype(p) {
                assert_eq!(ethertype_of_name(n), Some(p));
            }
        }
    }
}
