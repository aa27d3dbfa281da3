//! Address matching between listeners and connections (v4-mapped, wildcards, dual stack).

use std::net::IpAddr;

/// Canonical IPv4 form of a v4-mapped IPv6 address, so `::ffff:127.0.0.1` equals `127.0.0.1`.
pub fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    }
}

/// Equal addresses, a v4-mapped IPv6 address being equal to its IPv4 form.
pub fn same_addr(a: IpAddr, b: IpAddr) -> bool {
    canonical(a) == canonical(b)
}

/// Whether a listener bound to `laddr` (with IPV6_V6ONLY `v6only`) accepts connections whose
/// local address is `caddr`: the same address, the wildcard of its family, or `::` without
/// v6only for IPv4 (dual stack).
pub fn covers(laddr: IpAddr, v6only: Option<bool>, caddr: IpAddr) -> bool {
    match_rank(laddr, v6only, caddr).is_some()
}

/// How well a listener's local address covers a connection's local address: 3 exact, 2 the
/// wildcard of the same family, 1 a dual-stack `::` listener catching IPv4; `None` no match.
pub(super) fn match_rank(laddr: IpAddr, v6only: Option<bool>, caddr: IpAddr) -> Option<u8> {
    if canonical(laddr) == canonical(caddr) {
        return Some(3);
    }
    if !laddr.is_unspecified() {
        return None;
    }
    let c = canonical(caddr);
    match (laddr, c) {
        (IpAddr::V4(_), IpAddr::V4(_)) => Some(2),
        (IpAddr::V6(_), IpAddr::V6(_)) => Some(2),
        (IpAddr::V6(_), IpAddr::V4(_)) if v6only != Some(true) => Some(1),
        _ => None,
    }
}
