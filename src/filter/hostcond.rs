//! The operand of `src`/`dst`/`sport`/`dport`, parsed as ss's `parse_hostcond` does:
//! `ADDR[/PREFIX][:PORT]`, `[IPV6][:PORT]`, `*[:PORT]`, `:PORT`, with ports as numbers (ss reads
//! them with strtol base 0, so `0x16` and `026` work) or /etc/services names; unix sockets
//! take a shell glob pattern.

use std::collections::HashMap;
use std::net::{Ipv6Addr, ToSocketAddrs};
use std::sync::OnceLock;

use super::error::shown;
use crate::collect::protocols::{ethertype_of_name, netlink_protocol_of_name};

/// An address family an address condition is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// An address prefix. IPv4 addresses use the first 4 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    pub family: Family,
    pub bytes: [u8; 16],
    /// Significant bits; 0 matches any address of the family (in the kernel).
    pub len: u8,
}

impl Prefix {
    pub fn addr_len(&self) -> usize {
        match self.family {
            Family::V4 => 4,
            Family::V6 => 16,
        }
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.family {
            Family::V4 => {
                let b = &self.bytes;
                write!(f, "{}.{}.{}.{}", b[0], b[1], b[2], b[3])?;
                if self.len != 32 {
                    write!(f, "/{}", self.len)?;
                }
            }
            Family::V6 => {
                write!(f, "{}", Ipv6Addr::from(self.bytes))?;
                if self.len != 128 {
                    write!(f, "/{}", self.len)?;
                }
            }
        }
        Ok(())
    }
}

/// What the address part of a condition selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrCond {
    /// No address (`*`, `:PORT`, or a port condition): any address.
    Any,
    /// One or more prefixes (several when a host name resolved to several addresses).
    Inet(Vec<Prefix>),
    /// A unix socket path pattern (fnmatch), e.g. `/run/*` or `@/tmp/.X11-unix/*`.
    Unix(String),
    /// `link:PROTO[:IFACE]`: a packet socket's protocol (host order) and the interface it is
    /// bound to (ss's "port" of a packet socket); `None`: any.
    Link {
        protocol: Option<u16>,
        ifindex: Option<i64>,
    },
    /// `netlink:PROTO[:PID]`: a netlink socket's protocol and port id (`kernel`: 0).
    Netlink {
        protocol: Option<u32>,
        portid: Option<i64>,
    },
}

/// How `src`/`dst` operands without a prefix are read: ss reads them in its preferred family
/// (the last family flag), so `-0 src ip:lo` is a packet condition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Operands {
    #[default]
    Inet,
    Link,
    Netlink,
}

/// `ADDR[:PORT]` as a condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCond {
    pub addr: AddrCond,
    /// `None`: any port.
    pub port: Option<u16>,
    /// `inet:`/`inet6:` prefixes make ss list only that family (whatever the rest says).
    pub family_only: Option<Family>,
}

/// Why an operand was refused; the parser turns it into a message pointing at the word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperandError {
    Port(String),
    Address(String),
}

fn glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// strtol(s, base 0) over the whole string, as iproute2's get_integer/get_unsigned.
pub(crate) fn parse_c_integer(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, h)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    if v > i64::from(i32::MAX) + 1 {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// /etc/services: name or alias → (tcp port, udp port).
/// Service name → (tcp port, udp port).
type Services = HashMap<String, (Option<u16>, Option<u16>)>;

fn services() -> &'static Services {
    static MAP: OnceLock<Services> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = Services::new();
        let Ok(text) = std::fs::read_to_string("/etc/services") else {
            return map;
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut it = line.split_whitespace();
            let (Some(name), Some(pp)) = (it.next(), it.next()) else {
                continue;
            };
            let Some((port, proto)) = pp.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            for n in std::iter::once(name).chain(it) {
                let e = map.entry(n.to_string()).or_default();
                match proto {
                    "tcp" if e.0.is_none() => e.0 = Some(port),
                    "udp" if e.1.is_none() => e.1 = Some(port),
                    _ => {}
                }
            }
        }
        map
    })
}

/// A port word (without the leading ':'): a number or a service name. `Ok(None)` is `*`.
pub fn parse_port(text: &str) -> Result<Option<u16>, OperandError> {
    if text == "*" {
        return Ok(None);
    }
    if text.is_empty() {
        return Err(OperandError::Port("a port is missing after ':'".into()));
    }
    if let Some(n) = parse_c_integer(text) {
        return u16::try_from(n)
            .map(Some)
            .map_err(|_| OperandError::Port(format!("port {n} is out of range (0 to 65535)")));
    }
    match services().get(text) {
        Some((Some(t), Some(u))) if t != u => Err(OperandError::Port(format!(
            "service '{}' is ambiguous: port {t} for tcp, {u} for udp",
            shown(text)
        ))),
        Some((Some(p), _)) | Some((None, Some(p))) => Ok(Some(*p)),
        _ => {
            let looks_numeric = text.chars().any(|c| c.is_ascii_digit())
                && !text.chars().any(|c| c.is_ascii_alphabetic());
            Err(OperandError::Port(if looks_numeric {
                format!("'{}' is not a port number", shown(text))
            } else {
                format!(
                    "'{}' is not a port number or a service name from /etc/services",
                    shown(text)
                )
            }))
        }
    }
}

/// iproute2's get_addr_ipv4: 1 to 4 dot-separated parts, each strtoul base 0 up to 255;
/// missing parts are zero (so `127.1` is 127.1.0.0, not inet_aton's 127.0.0.1).
fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    for (i, p) in parts.iter().enumerate() {
        if p.starts_with(['-', '+', ' ']) {
            return None;
        }
        let n = parse_c_integer(p)?;
        out[i] = u8::try_from(n).ok()?;
    }
    Some(out)
}

/// `/N` or a dotted netmask, as iproute2's get_netmask.
fn parse_prefix_len(s: &str, max: u8) -> Option<u8> {
    if let Some(n) = parse_c_integer(s) {
        return u8::try_from(n).ok().filter(|n| *n <= max);
    }
    if max == 32 && s.contains('.') {
        let m = u32::from_be_bytes(parse_ipv4(s)?);
        let ones = m.leading_ones();
        // Only contiguous masks count.
        if ones == 32 || m << ones == 0 {
            return u8::try_from(ones).ok();
        }
    }
    None
}

/// An address with an optional /prefix (iproute2's get_prefix_1). `Ok(None)` = any address
/// (`default`, `any`, `all`).
fn parse_prefix(s: &str, forced: Option<Family>) -> Result<Option<Prefix>, OperandError> {
    let (a, mask) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    if matches!(a, "default" | "any" | "all") {
        if mask.is_some() {
            return Err(OperandError::Address(format!(
                "'{}' takes no prefix length",
                shown(a)
            )));
        }
        return Ok(None);
    }
    let mut p = if a.contains(':') && forced != Some(Family::V4) {
        let v6: Ipv6Addr = a
            .parse()
            .map_err(|_| OperandError::Address(format!("'{}' is not an IPv6 address", shown(a))))?;
        Prefix {
            family: Family::V6,
            bytes: v6.octets(),
            len: 128,
        }
    } else if forced != Some(Family::V6) {
        let v4 = parse_ipv4(a)
            .ok_or_else(|| OperandError::Address(format!("'{}' is not an address", shown(a))))?;
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&v4);
        Prefix {
            family: Family::V4,
            bytes,
            len: 32,
        }
    } else {
        return Err(OperandError::Address(format!(
            "'{}' is not an IPv6 address",
            shown(a)
        )));
    };
    if let Some(m) = mask {
        let max = p.len;
        p.len = parse_prefix_len(m, max).ok_or_else(|| {
            OperandError::Address(format!(
                "'/{}' is not a prefix length for {} (0 to {max})",
                shown(m),
                if max == 32 { "IPv4" } else { "IPv6" }
            ))
        })?;
    }
    Ok(Some(p))
}

fn resolve(name: &str, forced: Option<Family>) -> Option<Vec<Prefix>> {
    // Only plausible host names go to the resolver.
    let plausible = name.chars().any(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !plausible {
        return None;
    }
    let addrs = (name, 0u16).to_socket_addrs().ok()?;
    let mut out: Vec<Prefix> = Vec::new();
    for a in addrs {
        let mut bytes = [0u8; 16];
        let p = match a.ip() {
            std::net::IpAddr::V4(v4) => {
                bytes[..4].copy_from_slice(&v4.octets());
                Prefix {
                    family: Family::V4,
                    bytes,
                    len: 32,
                }
            }
            std::net::IpAddr::V6(v6) => Prefix {
                family: Family::V6,
                bytes: v6.octets(),
                len: 128,
            },
        };
        if forced.is_some_and(|f| f != p.family) {
            continue;
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The operand of `src`/`dst`.
pub fn parse_host(word: &str) -> Result<HostCond, OperandError> {
    parse_host_as(word, Operands::Inet)
}

/// The operand of `src`/`dst`, bare words read as `operands` (ss's parse_hostcond order:
/// unix, link, netlink, inet).
pub fn parse_host_as(word: &str, operands: Operands) -> Result<HostCond, OperandError> {
    if let Some(pat) = word.strip_prefix("unix:") {
        return Ok(unix(pat));
    }
    if word.starts_with('/') || word.starts_with('@') {
        return Ok(unix(word));
    }
    if let Some(rest) = word.strip_prefix("link:") {
        return parse_link(rest);
    }
    if operands == Operands::Link {
        return parse_link(word);
    }
    if let Some(rest) = word.strip_prefix("netlink:") {
        return parse_netlink(rest);
    }
    if operands == Operands::Netlink {
        return parse_netlink(word);
    }
    match parse_inet_host(word) {
        Ok(h) => Ok(h),
        // ss reads a non-address as a unix path pattern when asked for unix sockets; a word
        // that cannot be an inet address but is a glob is taken as one here.
        Err(_) if glob_chars(word) && !word.contains(':') => Ok(unix(word)),
        Err(e) => Err(e),
    }
}

/// `PROTO[:PORT]` split at the first ':'; `*` or nothing is any.
fn split_any(s: &str) -> (Option<&str>, Option<&str>) {
    let some = |x: &'_ str| -> bool { !x.is_empty() && x != "*" };
    match s.split_once(':') {
        Some((a, p)) => (Some(a).filter(|x| some(x)), Some(p).filter(|x| some(x))),
        None => (Some(s).filter(|x| some(x)), None),
    }
}

/// ss's packet operand: `PROTO[:IFACE]`, PROTO a name of iproute2's table or a number,
/// IFACE a number or an interface name.
fn parse_link(s: &str) -> Result<HostCond, OperandError> {
    let (proto, iface) = split_any(s);
    let protocol = match proto {
        None => None,
        Some(p) => Some(ethertype_of_name(p).ok_or_else(|| {
            OperandError::Address(format!("'{}' is not a link-layer protocol", shown(p)))
        })?),
    };
    let ifindex = match iface {
        None => None,
        Some(i) => Some(
            parse_c_integer(i)
                .or_else(|| interface_index(i))
                .ok_or_else(|| {
                    OperandError::Address(format!("'{}' is not a network interface", shown(i)))
                })?,
        ),
    };
    Ok(HostCond {
        addr: AddrCond::Link { protocol, ifindex },
        port: None,
        family_only: None,
    })
}

/// ss's netlink operand: `PROTO[:PID]`, PROTO a name (`rtnl`, `genl`...) or a number, PID a
/// number or `kernel`.
fn parse_netlink(s: &str) -> Result<HostCond, OperandError> {
    let (proto, pid) = split_any(s);
    let protocol = match proto {
        None => None,
        Some(p) => Some(netlink_protocol_of_name(p).ok_or_else(|| {
            OperandError::Address(format!("'{}' is not a netlink protocol", shown(p)))
        })?),
    };
    let portid = match pid {
        None => None,
        Some("kernel") => Some(0),
        Some(p) => Some(parse_c_integer(p).ok_or_else(|| {
            OperandError::Port(format!(
                "'{}' is not a netlink port id (a number or 'kernel')",
                shown(p)
            ))
        })?),
    };
    Ok(HostCond {
        addr: AddrCond::Netlink { protocol, portid },
        port: None,
        family_only: None,
    })
}

fn interface_index(name: &str) -> Option<i64> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: a valid NUL-terminated string; if_nametoindex only reads it.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i64::from(i))
}

fn unix(pat: &str) -> HostCond {
    HostCond {
        addr: AddrCond::Unix(pat.to_string()),
        port: None,
        family_only: None,
    }
}

fn parse_inet_host(word: &str) -> Result<HostCond, OperandError> {
    let mut s = word;
    let mut forced = None;
    if let Some(r) = s.strip_prefix("inet:") {
        s = r;
        forced = Some(Family::V4);
    } else if let Some(r) = s.strip_prefix("inet6:") {
        s = r;
        forced = Some(Family::V6);
    }
    // Split address and port the way parse_hostcond does.
    let (addr, port): (&str, Option<&str>) = if let Some(rest) = s.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return Err(OperandError::Address(format!(
                "'{}' has '[' without a closing ']'",
                shown(word)
            )));
        };
        (&rest[..close], Some(&rest[close + 1..]))
    } else if let Some(rest) = s.strip_prefix('*') {
        ("*", Some(rest))
    } else {
        let from = s.find('/').unwrap_or(0);
        match s[from..].rfind(':') {
            Some(i) => (&s[..from + i], Some(&s[from + i..])),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => {
            let p = p.strip_prefix(':').unwrap_or(p);
            if p.is_empty() { None } else { parse_port(p)? }
        }
        None => None,
    };
    let addr = if addr.is_empty() || addr == "*" {
        AddrCond::Any
    } else {
        match parse_prefix(addr, forced) {
            Ok(Some(p)) => AddrCond::Inet(vec![p]),
            Ok(None) => AddrCond::Any,
            Err(e) => match resolve(addr, forced) {
                Some(list) => AddrCond::Inet(list),
                None => {
                    if addr.contains(':') && !s.starts_with('[') {
                        return Err(OperandError::Address(format!(
                            "'{}' is not an address (write IPv6 addresses in brackets: [{}])",
                            shown(word),
                            shown(s)
                        )));
                    }
                    return Err(e);
                }
            },
        }
    };
    Ok(HostCond {
        addr,
        port,
        family_only: forced,
    })
}

/// The operand of `sport`/`dport`: a port only (`:22`, `22`, `:ssh`, `*`), as ss.
pub fn parse_port_operand(word: &str) -> Result<Option<u16>, OperandError> {
    let p = word.strip_prefix(':').unwrap_or(word);
    match parse_port(p) {
        Ok(v) => Ok(v),
        Err(e) if p.contains(':') || p.contains('.') && !p.starts_with('.') => {
            let _ = e;
            Err(OperandError::Port(format!(
                "'{}' is not a port: sport and dport take a port only (for an address use \
                 src or dst, e.g. 'dst {}')",
                shown(word),
                shown(word)
            )))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4], len: u8) -> Prefix {
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&a);
        Prefix {
            family: Family::V4,
            bytes,
            len,
        }
    }

    #[test]
    fn c_integers() {
        assert_eq!(parse_c_integer("22"), Some(22));
        assert_eq!(parse_c_integer("0x16"), Some(22));
        assert_eq!(parse_c_integer("026"), Some(22));
        assert_eq!(parse_c_integer("0"), Some(0));
        assert_eq!(parse_c_integer("08"), None);
        assert_eq!(parse_c_integer("-1"), Some(-1));
        assert_eq!(parse_c_integer("22x"), None);
        assert_eq!(parse_c_integer(""), None);
        assert_eq!(parse_c_integer("99999999999999999999"), None);
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("22"), Ok(Some(22)));
        assert_eq!(parse_port("*"), Ok(None));
        assert!(
            matches!(parse_port("70000"), Err(OperandError::Port(m)) if m.contains("out of range"))
        );
        assert!(matches!(parse_port("-1"), Err(OperandError::Port(_))));
        assert!(parse_port("nosuchservice").is_err());
        if services().contains_key("ssh") {
            assert_eq!(parse_port("ssh"), Ok(Some(22)));
        }
        assert_eq!(parse_port_operand(":22"), Ok(Some(22)));
        assert_eq!(parse_port_operand("22"), Ok(Some(22)));
        assert!(
            matches!(parse_port_operand("1.2.3.4:22"), Err(OperandError::Port(m)) if m.contains("port only"))
        );
    }

    #[test]
    fn inet_hosts() {
        let h = parse_host("127.0.0.1:22").unwrap();
        assert_eq!(h.addr, AddrCond::Inet(vec![v4([127, 0, 0, 1], 32)]));
        assert_eq!(h.port, Some(22));
        let h = parse_host("10.0.0.0/8").unwrap();
        assert_eq!(h.addr, AddrCond::Inet(vec![v4([10, 0, 0, 0], 8)]));
        assert_eq!(h.port, None);
        let h = parse_host("10.0.0.0/255.255.0.0:80").unwrap();
        assert_eq!(h.addr, AddrCond::Inet(vec![v4([10, 0, 0, 0], 16)]));
        assert_eq!(h.port, Some(80));
        let h = parse_host("127.1").unwrap();
        assert_eq!(h.addr, AddrCond::Inet(vec![v4([127, 1, 0, 0], 32)]));
        let h = parse_host(":22").unwrap();
        assert_eq!((h.addr, h.port), (AddrCond::Any, Some(22)));
        let h = parse_host("*").unwrap();
        assert_eq!((h.addr, h.port), (AddrCond::Any, None));
        let h = parse_host("*:80").unwrap();
        assert_eq!((h.addr, h.port), (AddrCond::Any, Some(80)));
        let h = parse_host("[::1]:8080").unwrap();
        let AddrCond::Inet(p) = h.addr else { panic!() };
        assert_eq!(p[0].family, Family::V6);
        assert_eq!(p[0].len, 128);
        assert_eq!(h.port, Some(8080));
        let h = parse_host("[::ffff:127.0.0.1]").unwrap();
        let AddrCond::Inet(p) = h.addr else { panic!() };
        assert_eq!(p[0].bytes[10..], [0xff, 0xff, 127, 0, 0, 1]);
        let h = parse_host("::1/128").unwrap();
        assert!(matches!(h.addr, AddrCond::Inet(_)));
        let h = parse_host("[fe80::/10]:22").unwrap();
        let AddrCond::Inet(p) = h.addr else { panic!() };
        assert_eq!(p[0].len, 10);
    }

    #[test]
    fn bad_hosts() {
        assert!(parse_host("1.2.3.4.5").is_err());
        assert!(parse_host("300.1.1.1").is_err());
        assert!(parse_host("10.0.0.0/33").is_err());
        assert!(parse_host("[::1").is_err());
        assert!(parse_host("1.2.3.4:99999").is_err());
        let e = parse_host("::1").unwrap_err();
        assert!(matches!(e, OperandError::Address(m) if m.contains("brackets")));
        assert!(parse_host("10.0.0.0/255.0.255.0").is_err());
    }

    #[test]
    fn unix_patterns() {
        assert_eq!(
            parse_host("/run/*").unwrap().addr,
            AddrCond::Unix("/run/*".into())
        );
        assert_eq!(
            parse_host("@foo").unwrap().addr,
            AddrCond::Unix("@foo".into())
        );
        assert_eq!(
            parse_host("unix:*.sock").unwrap().addr,
            AddrCond::Unix("*.sock".into())
        );
        assert_eq!(
            parse_host("*.sock").unwrap().addr,
            AddrCond::Unix("*.sock".into())
        );
    }
}
