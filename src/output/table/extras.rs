//! The rare reports on ss's `-i`/`-m` continuation line, as iproute2's ss prints them:
//! `mptcp_stats_print` for an MPTCP socket, then for TCP `md5keys:` (`print_md5sig`) and
//! `tcp-ulp-NAME` with kTLS's or an MPTCP subflow's details.

use crate::model::{InfoExtras, Md5Key, MptcpInfo, SubflowInfo, TlsInfo};
use crate::text::escape;
use std::fmt::Write as _;

pub(super) fn push_info_extras(out: &mut String, x: &InfoExtras) {
    if let Some(m) = &x.mptcp {
        push_mptcp(out, m);
    }
    for (i, k) in x.md5keys.iter().enumerate() {
        out.push_str(if i == 0 { " md5keys:" } else { "," });
        push_md5(out, k);
    }
    if let Some(u) = &x.ulp {
        if let Some(name) = &u.name {
            out.push_str(" tcp-ulp-");
            out.push_str(&escape(name));
        }
        if let Some(t) = &u.tls {
            push_tls(out, t);
        }
        if let Some(f) = &u.subflow {
            push_subflow(out, f);
        }
    }
}

fn push_mptcp(out: &mut String, m: &MptcpInfo) {
    for (label, v) in [
        (" subflows:", m.subflows),
        (" add_addr_signal:", m.add_addr_signal),
        (" add_addr_accepted:", m.add_addr_accepted),
        (" subflows_max:", m.subflows_max),
        (" add_addr_signal_max:", m.add_addr_signal_max),
        (" add_addr_accepted_max:", m.add_addr_accepted_max),
    ] {
        if v != 0 {
            let _ = write!(out, "{label}{v}");
        }
    }
    if m.flags & 1 != 0 {
        out.push_str(" fallback");
    }
    if m.flags & 2 != 0 {
        out.push_str(" remote_key");
    }
    if m.token != 0 {
        let _ = write!(out, " token:{:x}", m.token);
    }
    for (label, v) in [
        (" write_seq:", m.write_seq),
        (" snd_una:", m.snd_una),
        (" rcv_nxt:", m.rcv_nxt),
    ] {
        if v != 0 {
            let _ = write!(out, "{label}{v:x}");
        }
    }
}

/// `ADDR/PREFIX=KEY`, the key through iproute2's `print_escape_buf(.., " ,")`: printable
/// bytes as they are, a backslash, space, comma or anything unprintable as `\ooo`.
/// (ss 6.1 writes the key with printf past its output buffer, so there it lands ahead of
/// the table; sockeye prints it in place.)
fn push_md5(out: &mut String, k: &Md5Key) {
    let _ = write!(out, "{}/{}=", k.addr, k.prefixlen);
    for &b in &*k.key {
        if b.is_ascii_graphic() && b != b'\\' && b != b',' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\{b:03o}");
        }
    }
}

fn push_tls(out: &mut String, t: &TlsInfo) {
    match t.version {
        None => {}
        Some(0x0303) => out.push_str(" version: 1.2"),
        Some(0x0304) => out.push_str(" version: 1.3"),
        Some(v) => {
            let _ = write!(out, " version: unknown({v})");
        }
    }
    match t.cipher {
        Some(51) => out.push_str(" cipher: aes-gcm-128"),
        Some(52) => out.push_str(" cipher: aes-gcm-256"),
        // ss 6.1 names only these two and prints nothing for any other.
        _ => {}
    }
    for (name, conf) in [("rxconf", t.rxconf), ("txconf", t.txconf)] {
        let Some(c) = conf else { continue };
        let _ = match c {
            1 => write!(out, " {name}: none"),
            2 => write!(out, " {name}: sw"),
            3 => write!(out, " {name}: hw"),
            4 => write!(out, " {name}: hw-record"),
            c => write!(out, " {name}: unknown({c})"),
        };
    }
}

fn push_subflow(out: &mut String, f: &SubflowInfo) {
    if let Some(flags) = f.flags.filter(|f| *f != 0) {
        out.push_str(" flags:");
        for (bit, c) in [
            (1 << 0, 'M'),
            (1 << 1, 'm'),
            (1 << 2, 'J'),
            (1 << 3, 'j'),
            (1 << 4, 'B'),
            (1 << 5, 'b'),
            (1 << 6, 'e'),
            (1 << 7, 'c'),
            (1 << 8, 'v'),
        ] {
            if flags & bit != 0 {
                out.push(c);
            }
        }
    }
    if let (Some(tr), Some(tl), Some(ir), Some(il)) = (f.token_rem, f.token_loc, f.id_rem, f.id_loc)
    {
        let _ = write!(out, " token:{tr:04x}(id:{ir})/{tl:04x}(id:{il})");
    }
    if let Some(v) = f.map_seq {
        let _ = write!(out, " seq:{v:x}");
    }
    for (label, v) in [
        (" sfseq:", f.map_sfseq),
        (" ssnoff:", f.ssn_offset),
        (" maplen:", f.map_datalen),
    ] {
        if let Some(v) = v {
            let _ = write!(out, "{label}{v:x}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UlpInfo;
    use std::net::{IpAddr, Ipv4Addr};

    fn line(x: &InfoExtras) -> String {
        let mut s = String::new();
        push_info_extras(&mut s, x);
        s
    }

    /// Spelled as ss 6.1 printed them for an MPTCP connection on loopback.
    #[test]
    fn mptcp_as_ss() {
        let x = InfoExtras {
            mptcp: Some(MptcpInfo {
                subflows_max: 2,
                flags: 2,
                token: 0x5297_ad47,
                write_seq: 0x7380_5be1_ba10_6265,
                snd_una: 0x7380_5be1_ba10_6265,
                rcv_nxt: 0x119a_bc25_6463_aa2a,
                ..MptcpInfo::default()
            }),
            ..InfoExtras::default()
        };
        assert_eq!(
            line(&x),
            " subflows_max:2 remote_key token:5297ad47 write_seq:73805be1ba106265 \
             snd_una:73805be1ba106265 rcv_nxt:119abc256463aa2a"
        );
        let sub = InfoExtras {
            ulp: Some(UlpInfo {
                name: Some("mptcp".into()),
                tls: None,
                subflow: Some(SubflowInfo {
                    flags: Some(0xc1),
                    token_rem: Some(0),
                    token_loc: Some(0x5297_ad47),
                    id_rem: Some(0),
                    id_loc: Some(0),
                    map_seq: Some(0x119a_bc25_6463_aa28),
                    map_sfseq: Some(1),
                    ssn_offset: Some(0x4b63_9660),
                    map_datalen: Some(2),
                }),
            }),
            ..InfoExtras::default()
        };
        assert_eq!(
            line(&sub),
            " tcp-ulp-mptcp flags:Mec token:0000(id:0)/5297ad47(id:0) seq:119abc256463aa28 \
             sfseq:1 ssnoff:4b639660 maplen:2"
        );
    }

    #[test]
    fn tls_and_md5_as_ss() {
        let x = InfoExtras {
            md5keys: vec![
                Md5Key {
                    addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
                    prefixlen: 32,
                    key: b"se cr,et\\\x01"[..].into(),
                },
                Md5Key {
                    addr: "::1".parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                    prefixlen: 128,
                    key: b"k"[..].into(),
                },
            ],
            ulp: Some(UlpInfo {
                name: Some("tls".into()),
                tls: Some(TlsInfo {
                    version: Some(0x0304),
                    cipher: Some(52),
                    rxconf: Some(2),
                    txconf: Some(4),
                }),
                subflow: None,
            }),
            ..InfoExtras::default()
        };
        assert_eq!(
            line(&x),
            " md5keys:127.0.0.2/32=se\\040cr\\054et\\134\\001,::1/128=k tcp-ulp-tls version: 1.3 \
             cipher: aes-gcm-256 rxconf: sw txconf: hw-record"
        );
        let odd = InfoExtras {
            ulp: Some(UlpInfo {
                name: Some("tls".into()),
                tls: Some(TlsInfo {
                    version: Some(9),
                    cipher: Some(99),
                    rxconf: Some(1),
                    txconf: Some(7),
                }),
                subflow: None,
            }),
            ..InfoExtras::default()
        };
        assert_eq!(
            line(&odd),
            " tcp-ulp-tls version: unknown(9) rxconf: none txconf: unknown(7)"
        );
    }
}
