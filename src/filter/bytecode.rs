//! inet_diag bytecode (INET_DIAG_REQ_BYTECODE), compiled exactly as ss's
//! `ssfilter_bytecompile`, plus an interpreter with the kernel's semantics
//! (net/ipv4/inet_diag.c `inet_diag_bc_run`) and a disassembler for `--explain`.
//!
//! An op is `{ u8 code; u8 yes; u16 no; }` in host byte order: when the condition holds the
//! program advances `yes` bytes, otherwise `no` bytes. Running off the end exactly accepts
//! the socket; anything else rejects it. Every compiled fragment of length L exits to L
//! (true) or L + 4 (false); `and`, `or` and `not` are built by placing fragments and patching
//! those exits, as ss does.

use super::hostcond::{AddrCond, Family, HostCond, Prefix};
use super::parse::{Cond, Expr, PortOp, Side};

pub const NOP: u8 = 0;
pub const JMP: u8 = 1;
pub const S_GE: u8 = 2;
pub const S_LE: u8 = 3;
pub const D_GE: u8 = 4;
pub const D_LE: u8 = 5;
pub const AUTO: u8 = 6;
pub const S_COND: u8 = 7;
pub const D_COND: u8 = 8;
pub const DEV_COND: u8 = 9;
pub const MARK_COND: u8 = 10;
pub const S_EQ: u8 = 11;
pub const D_EQ: u8 = 12;
pub const CGROUP_COND: u8 = 13;

const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = libc::AF_INET as u8;
const AF_INET6: u8 = libc::AF_INET6 as u8;

/// Largest program sent: the netlink attribute length is a u16 including its 4-byte header.
const MAX_LEN: usize = 60_000;

fn op(code: u8, yes: u8, no: u16) -> [u8; 4] {
    let n = no.to_ne_bytes();
    [code, yes, n[0], n[1]]
}

fn read_op(bc: &[u8], at: usize) -> Option<(u8, u8, u16)> {
    let b = bc.get(at..at + 4)?;
    Some((b[0], b[1], u16::from_ne_bytes([b[2], b[3]])))
}

fn family_code(f: Family) -> u8 {
    match f {
        Family::V4 => AF_INET,
        Family::V6 => AF_INET6,
    }
}

/// Compile an expression; `None` when some part cannot be evaluated by the kernel (unix
/// path patterns) or the program would be too large. Userspace re-checks everything, so
/// `None` only costs speed.
pub fn compile(e: &Expr) -> Option<Vec<u8>> {
    let bc = frag(e)?;
    (bc.len() <= MAX_LEN).then_some(bc)
}

fn frag(e: &Expr) -> Option<Vec<u8>> {
    match e {
        Expr::Cond(c) => cond(c),
        Expr::And(a, b) => {
            let mut x = frag(a)?;
            let y = frag(b)?;
            patch(&mut x, y.len())?;
            x.extend_from_slice(&y);
            Some(x)
        }
        Expr::Or(a, b) => {
            let mut x = frag(a)?;
            let y = frag(b)?;
            x.extend_from_slice(&op(JMP, 4, u16::try_from(y.len() + 4).ok()?));
            x.extend_from_slice(&y);
            Some(x)
        }
        Expr::Not(a) => {
            let mut x = frag(a)?;
            x.extend_from_slice(&op(JMP, 4, 8));
            Some(x)
        }
    }
}

/// ss's ssfilter_patch: the false exits of the first half of an `and` (jumps to its end + 4)
/// move past the second half.
fn patch(a: &mut [u8], reloc: usize) -> Option<()> {
    let mut at = 0;
    let len = a.len();
    while at < len {
        let (code, yes, no) = read_op(a, at)?;
        let remaining = len - at;
        if usize::from(no) == remaining + 4 {
            let n = u16::try_from(usize::from(no) + reloc).ok()?;
            a[at..at + 4].copy_from_slice(&op(code, yes, n));
        }
        if yes == 0 {
            return None;
        }
        at += usize::from(yes);
    }
    Some(())
}

fn hostcond_op(code: u8, family: u8, prefix_len: u8, port: i32, addr: &[u8]) -> Vec<u8> {
    // struct inet_diag_hostcond { __u8 family; __u8 prefix_len; int port; __be32 addr[]; }
    let oplen = 4 + 8 + addr.len();
    let mut v = Vec::with_capacity(oplen);
    v.extend_from_slice(&op(code, oplen as u8, oplen as u16 + 4));
    v.push(family);
    v.push(prefix_len);
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&port.to_ne_bytes());
    v.extend_from_slice(addr);
    v
}

fn host(side: Side, h: &HostCond) -> Option<Vec<u8>> {
    let code = match side {
        Side::Src => S_COND,
        Side::Dst => D_COND,
    };
    let port = h.port.map_or(-1, i32::from);
    match &h.addr {
        // Packet and netlink tables take no bytecode.
        AddrCond::Unix(_) | AddrCond::Link { .. } | AddrCond::Netlink { .. } => None,
        // ss sends an AF_UNSPEC condition with a 4-byte zero address.
        AddrCond::Any => Some(hostcond_op(code, AF_UNSPEC, 0, port, &[0; 4])),
        AddrCond::Inet(list) => {
            // Several addresses (a host name): cond, JMP to the end, cond, JMP, ..., cond.
            let parts: Vec<Vec<u8>> = list
                .iter()
                .map(|p: &Prefix| {
                    hostcond_op(
                        code,
                        family_code(p.family),
                        p.len,
                        port,
                        &p.bytes[..p.addr_len()],
                    )
                })
                .collect();
            let total: usize =
                parts.iter().map(Vec::len).sum::<usize>() + 4 * parts.len().saturating_sub(1);
            let mut v = Vec::with_capacity(total);
            for (i, part) in parts.iter().enumerate() {
                v.extend_from_slice(part);
                if i + 1 < parts.len() {
                    let to_end = u16::try_from(total - v.len()).ok()?;
                    v.extend_from_slice(&op(JMP, 4, to_end));
                }
            }
            Some(v)
        }
    }
}

fn port_cmp(code: u8, port: u16) -> Vec<u8> {
    let mut v = op(code, 8, 12).to_vec();
    v.extend_from_slice(&op(0, 0, port));
    v
}

fn not(mut x: Vec<u8>) -> Vec<u8> {
    x.extend_from_slice(&op(JMP, 4, 8));
    x
}

fn cond(c: &Cond) -> Option<Vec<u8>> {
    match c {
        Cond::Host { side, host: h, .. } => host(*side, h),
        Cond::Port {
            side,
            op: pop,
            port,
        } => {
            let (ge, le) = match side {
                Side::Src => (S_GE, S_LE),
                Side::Dst => (D_GE, D_LE),
            };
            let eq = |port: Option<u16>| {
                host(
                    *side,
                    &HostCond {
                        addr: AddrCond::Any,
                        port,
                        family_only: None,
                    },
                )
            };
            match (pop, port) {
                (PortOp::Eq, p) => eq(*p),
                (PortOp::Ne, p) => eq(*p).map(not),
                (PortOp::Ge, Some(p)) => Some(port_cmp(ge, *p)),
                (PortOp::Le, Some(p)) => Some(port_cmp(le, *p)),
                (PortOp::Gt, Some(p)) => Some(not(port_cmp(le, *p))),
                (PortOp::Lt, Some(p)) => Some(not(port_cmp(ge, *p))),
                (_, None) => None,
            }
        }
        // Userspace only: the kernel knows nothing of names (and each namespace's dump holds
        // only its own sockets anyway).
        Cond::UnixPort { .. } | Cond::Netns { .. } => None,
        Cond::Dev { ifindex, .. } => {
            let mut v = op(DEV_COND, 8, 12).to_vec();
            v.extend_from_slice(&ifindex.to_ne_bytes());
            Some(v)
        }
        Cond::AutoBound => Some(op(AUTO, 4, 8).to_vec()),
    }
}

/// What the kernel knows of a socket when it runs the bytecode (struct inet_diag_entry).
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub family: u8,
    /// IPv4 in the first 4 bytes.
    pub saddr: [u8; 16],
    pub daddr: [u8; 16],
    pub sport: u16,
    pub dport: u16,
    pub ifindex: u32,
    /// `!(userlocks & SOCK_BINDPORT_LOCK)`; unknown to userspace, so callers that cannot know
    /// it must not rely on AUTO.
    pub autobound: bool,
}

impl Entry {
    pub fn from_socket(s: &crate::model::Socket) -> Option<Entry> {
        use crate::model::Endpoint;
        let (Endpoint::Inet { addr: la, port: lp }, Endpoint::Inet { addr: ra, port: rp }) =
            (&s.local, &s.peer)
        else {
            return None;
        };
        let raw = |a: &std::net::IpAddr| match a {
            std::net::IpAddr::V4(v4) => {
                let mut b = [0u8; 16];
                b[..4].copy_from_slice(&v4.octets());
                b
            }
            std::net::IpAddr::V6(v6) => v6.octets(),
        };
        Some(Entry {
            family: if la.is_ipv4() { AF_INET } else { AF_INET6 },
            saddr: raw(la),
            daddr: raw(ra),
            sport: *lp,
            dport: *rp,
            ifindex: s.ifindex.unwrap_or(0),
            autobound: false,
        })
    }
}

fn bitstring_match(a: &[u8], b: &[u8], bits: usize) -> bool {
    super::eval::bits_equal(a, b, bits)
}

/// Run a program as the kernel does. A malformed program (which `audit` rejects) returns
/// false rather than panicking.
pub fn run(bc: &[u8], e: &Entry) -> bool {
    let mut at: usize = 0;
    let len = bc.len();
    let mut steps = 0;
    while at < len {
        steps += 1;
        if steps > 100_000 {
            return false;
        }
        let Some((code, yes_off, no_off)) = read_op(bc, at) else {
            return false;
        };
        let arg = || read_op(bc, at + 4).map(|(_, _, n)| n);
        let yes = match code {
            NOP => true,
            JMP => false,
            S_EQ => arg() == Some(e.sport),
            S_GE => arg().is_some_and(|p| e.sport >= p),
            S_LE => arg().is_some_and(|p| e.sport <= p),
            D_EQ => arg() == Some(e.dport),
            D_GE => arg().is_some_and(|p| e.dport >= p),
            D_LE => arg().is_some_and(|p| e.dport <= p),
            AUTO => e.autobound,
            S_COND | D_COND => {
                let Some(c) = bc.get(at + 4..at + 12) else {
                    return false;
                };
                let (family, plen) = (c[0], usize::from(c[1]));
                let port = i32::from_ne_bytes([c[4], c[5], c[6], c[7]]);
                let caddr = bc.get(at + 12..).unwrap_or(&[]);
                let (p, addr) = if code == S_COND {
                    (e.sport, &e.saddr)
                } else {
                    (e.dport, &e.daddr)
                };
                if port != -1 && port != i32::from(p) {
                    false
                } else if family != AF_UNSPEC && family != e.family {
                    e.family == AF_INET6
                        && family == AF_INET
                        && addr[..10] == [0; 10]
                        && addr[10..12] == [0xff, 0xff]
                        && bitstring_match(&addr[12..], caddr, plen)
                } else {
                    plen == 0 || bitstring_match(addr, caddr, plen)
                }
            }
            DEV_COND => bc
                .get(at + 4..at + 8)
                .is_some_and(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) == e.ifindex),
            _ => return false,
        };
        let step = usize::from(if yes { u16::from(yes_off) } else { no_off });
        if step == 0 {
            return false;
        }
        at += step;
    }
    at == len
}

/// The kernel's inet_diag_bc_audit, for tests and as a last check before sending.
pub fn audit(bc: &[u8]) -> bool {
    if bc.len() < 4 {
        return false;
    }
    let total = bc.len();
    let valid_cc = |target_len: usize| -> bool {
        // A jump must land on an op boundary: walk from the start by `yes`.
        let mut len = total;
        let mut at = 0;
        while len > 0 {
            if len == target_len {
                return true;
            }
            let Some((_, yes, _)) = read_op(bc, at) else {
                return false;
            };
            if yes == 0 || usize::from(yes) > len {
                return false;
            }
            at += usize::from(yes);
            len -= usize::from(yes);
        }
        false
    };
    let mut at = 0;
    let mut len = total as i64;
    while len > 0 {
        let Some((code, yes, no)) = read_op(bc, at) else {
            return false;
        };
        let mut min_len: i64 = 4;
        match code {
            S_COND | D_COND => {
                min_len += 8;
                if len < min_len {
                    return false;
                }
                let family = bc[at + 4];
                let plen = i64::from(bc[at + 5]);
                let alen = match family {
                    AF_UNSPEC => 0,
                    AF_INET => 4,
                    AF_INET6 => 16,
                    _ => return false,
                };
                min_len += alen;
                if len < min_len || plen > 8 * alen {
                    return false;
                }
            }
            DEV_COND => {
                min_len += 4;
                if len < min_len {
                    return false;
                }
            }
            S_EQ | S_GE | S_LE | D_EQ | D_GE | D_LE => {
                min_len += 4;
                if len < min_len {
                    return false;
                }
            }
            AUTO | JMP | NOP => {}
            _ => return false,
        }
        if code != NOP {
            let no = i64::from(no);
            if no < min_len || no > len + 4 || no & 3 != 0 {
                return false;
            }
            if no < len && !valid_cc((len - no) as usize) {
                return false;
            }
        }
        let yes = i64::from(yes);
        if yes < min_len || yes > len + 4 || yes & 3 != 0 {
            return false;
        }
        at += yes as usize;
        len -= yes;
    }
    len == 0
}

fn op_len(bc: &[u8], at: usize, code: u8) -> usize {
    match code {
        S_COND | D_COND => match bc.get(at + 4) {
            Some(&AF_INET6) => 28,
            Some(&AF_UNSPEC) | Some(&AF_INET) => 16,
            _ => 12,
        },
        S_GE | S_LE | D_GE | D_LE | S_EQ | D_EQ | DEV_COND => 8,
        _ => 4,
    }
}

fn target(to: usize, len: usize) -> String {
    if to == len {
        "accept".to_string()
    } else if to == len + 4 {
        "reject".to_string()
    } else {
        format!("{to}")
    }
}

/// One op per line: offset, op, operands, and where `yes`/`no` go (absolute offsets;
/// `accept` is the end of the program, `reject` four bytes past it).
pub fn disassemble(bc: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    let len = bc.len();
    while at < len {
        let Some((code, yes, no)) = read_op(bc, at) else {
            out.push(format!("{at:4}  (truncated)"));
            break;
        };
        let yes_to = target(at + usize::from(yes), len);
        let no_to = target(at + usize::from(no), len);
        let arg = read_op(bc, at + 4).map(|(_, _, n)| n).unwrap_or(0);
        let (name, operand) = match code {
            NOP => ("NOP", String::new()),
            JMP => ("JMP", String::new()),
            S_GE => ("S_GE", format!("sport >= {arg}")),
            S_LE => ("S_LE", format!("sport <= {arg}")),
            D_GE => ("D_GE", format!("dport >= {arg}")),
            D_LE => ("D_LE", format!("dport <= {arg}")),
            S_EQ => ("S_EQ", format!("sport == {arg}")),
            D_EQ => ("D_EQ", format!("dport == {arg}")),
            AUTO => ("AUTO", "port chosen by the kernel".to_string()),
            DEV_COND => (
                "DEV_COND",
                format!(
                    "ifindex {}",
                    bc.get(at + 4..at + 8)
                        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                        .unwrap_or(0)
                ),
            ),
            S_COND | D_COND => {
                let name = if code == S_COND { "S_COND" } else { "D_COND" };
                let c = bc.get(at + 4..at + 12).unwrap_or(&[0; 8]);
                let port = i32::from_ne_bytes([c[4], c[5], c[6], c[7]]);
                let addr = match c[0] {
                    AF_INET => bc
                        .get(at + 12..at + 16)
                        .map(|b| format!("{}.{}.{}.{}/{}", b[0], b[1], b[2], b[3], c[1]))
                        .unwrap_or_default(),
                    AF_INET6 => bc
                        .get(at + 12..at + 28)
                        .and_then(|b| <[u8; 16]>::try_from(b).ok())
                        .map(|b| format!("{}/{}", std::net::Ipv6Addr::from(b), c[1]))
                        .unwrap_or_default(),
                    _ => "any address".to_string(),
                };
                let port = if port == -1 {
                    "any port".to_string()
                } else {
                    format!("port {port}")
                };
                (name, format!("{addr}, {port}"))
            }
            _ => ("?", format!("code {code}")),
        };
        let jumps = match code {
            JMP => format!("goto {no_to}"),
            NOP => format!("goto {yes_to}"),
            _ => format!("yes: {yes_to}  no: {no_to}"),
        };
        out.push(format!("{at:4}  {name:<8} {operand:<34} {jumps}"));
        at += op_len(bc, at, code).max(4);
    }
    out
}
