//! Text primitives shared by every view, spelled exactly as ss spells them: timers, process
//! lists, socket memory, tcp_info, and C's `%g`. They append to a caller's `String` so the
//! hot path never allocates per row.

use std::fmt::Write as _;

use crate::model::{MemInfo, Netid, ProcessRef, TcpInfo, TcpState, Timer, TimerKind};

/// Append an unsigned integer (faster than `write!` and never fails).
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // The bytes are ASCII digits.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("?"));
}

/// Append an IPv4 address in dotted quad.
pub fn push_ipv4(out: &mut String, a: std::net::Ipv4Addr) {
    let o = a.octets();
    push_u64(out, o[0].into());
    out.push('.');
    push_u64(out, o[1].into());
    out.push('.');
    push_u64(out, o[2].into());
    out.push('.');
    push_u64(out, o[3].into());
}

/// ss's `print_ms_timer`: `59sec`, `119min`, `200ms`, `2.888ms` (sic), and the empty string
/// for zero.
pub fn push_ms_timer(out: &mut String, timeout_ms: u64) {
    let mut secs = timeout_ms / 1000;
    let minutes = secs / 60;
    secs %= 60;
    let mut msecs = timeout_ms % 1000;
    if minutes > 0 {
        msecs = 0;
        push_u64(out, minutes);
        out.push_str("min");
        if minutes > 9 {
            secs = 0;
        }
    }
    if secs > 0 {
        if secs > 9 {
            msecs = 0;
        }
        push_u64(out, secs);
        out.push_str(if msecs > 0 { "." } else { "sec" });
    }
    if msecs > 0 {
        let _ = write!(out, "{msecs:03}ms");
    }
}

/// `timer:(timewait,59sec,0)` (SCTP: `timer:(T3_RTX,…)`); nothing for no timer or the
/// "off" timer, as ss.
pub fn push_timer(out: &mut String, netid: Netid, timer: Option<&Timer>) -> bool {
    let Some(t) = timer else { return false };
    if t.kind == TimerKind::Off {
        return false;
    }
    out.push_str("timer:(");
    out.push_str(t.ss_name(netid));
    out.push(',');
    push_ms_timer(out, t.expires_ms);
    out.push(',');
    push_u64(out, t.retrans.into());
    out.push(')');
    true
}

/// `users:(("sshd",pid=2,fd=3),("sshd",pid=1,fd=3))`; nothing when no process is known.
/// In ss's order: ss walks /proc by pid, then fd, and puts each holder it finds first, so the
/// highest pid (and within it the highest fd) comes first.
/// Unescaped: terminal text takes it through [`super::columns::Column::Process`].
pub(crate) fn push_users(out: &mut String, processes: &[ProcessRef]) -> bool {
    if processes.is_empty() {
        return false;
    }
    out.push_str("users:(");
    if processes.is_sorted_by_key(|p| (p.pid, p.fd)) {
        // The collector's order (by pid, then fd), backwards: no copy.
        for (i, p) in processes.iter().rev().enumerate() {
            push_user(out, i, p);
        }
    } else {
        let mut sorted: Vec<&ProcessRef> = processes.iter().collect();
        sorted.sort_by_key(|p| std::cmp::Reverse((p.pid, p.fd)));
        for (i, p) in sorted.into_iter().enumerate() {
            push_user(out, i, p);
        }
    }
    out.push(')');
    true
}

/// The `i`th `("cmd",pid=P,fd=F)` of `users:(...)`.
fn push_user(out: &mut String, i: usize, p: &ProcessRef) {
    if i > 0 {
        out.push(',');
    }
    out.push_str("(\"");
    out.push_str(&p.command);
    out.push_str("\",pid=");
    push_u64(out, p.pid.into());
    // ss -Z / -z: `proc_ctx=` before the fd, `sock_ctx=` after it.
    if let Some(c) = &p.proc_ctx {
        out.push_str(",proc_ctx=");
        out.push_str(c);
    }
    out.push_str(",fd=");
    push_u64(out, p.fd.into());
    if let Some(c) = &p.sock_ctx {
        out.push_str(",sock_ctx=");
        out.push_str(c);
    }
    out.push(')');
}

/// `skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0)`.
pub fn push_skmem(out: &mut String, m: &MemInfo) {
    let fields: [(&str, u32); 9] = [
        ("skmem:(r", m.rmem_alloc),
        (",rb", m.rcvbuf),
        (",t", m.wmem_alloc),
        (",tb", m.sndbuf),
        (",f", m.fwd_alloc),
        (",w", m.wmem_queued),
        (",o", m.optmem),
        (",bl", m.backlog),
        (",d", m.drops),
    ];
    for (label, v) in fields {
        out.push_str(label);
        push_u64(out, v.into());
    }
    out.push(')');
}

/// C's `printf("%.*g", precision, x)` for finite numbers.
pub fn push_g(out: &mut String, x: f64, precision: usize) {
    let p = precision.max(1);
    if x == 0.0 || !x.is_finite() {
        out.push('0');
        return;
    }
    // Round to `p` significant digits first, then choose the notation from the rounded
    // exponent, as C does.
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let m = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "{m}e{sign}{:02}", exp.abs());
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        let fixed = format!("{x:.decimals$}");
        out.push_str(strip_zeros(&fixed));
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// C's `%.0f`. Below 2^53 the value's integer neighbours are exact, so rounding to nearest
/// with ties to even (as C does) is done here, without the float formatter: `-tani` formats
/// several rates per socket and the formatter's exact mode was most of its cost.
fn push_f0(out: &mut String, x: f64) {
    if !(0.0..9.0e15).contains(&x) {
        let _ = write!(out, "{x:.0}");
        return;
    }
    let t = x.trunc();
    let frac = x - t;
    let mut n = t as u64;
    if frac > 0.5 || (frac == 0.5 && n % 2 == 1) {
        n += 1;
    }
    push_u64(out, n);
}

/// `%g` of `us / 1000` (microseconds as milliseconds: ss's rtt, rto, ato, minrtt...).
pub fn push_ms_g(out: &mut String, us: u32) {
    push_g_decimal(out, u64::from(us), 3);
}

/// C's `%g` (six significant digits) of the exact decimal `m / 10^scale`, from integers:
/// `-tani` prints several such values per socket and the float formatter's exact mode was
/// most of its cost. Exact ties (which the double may not be) and values `%g` prints in
/// scientific notation go through [`push_g`].
pub fn push_g_decimal(out: &mut String, m: u64, scale: u32) {
    if m == 0 {
        out.push('0');
        return;
    }
    let digits = m.ilog10() + 1;
    let (mut q, mut places) = (m, scale as i64);
    if digits > 6 {
        let k = digits - 6;
        let p = 10u64.pow(k);
        let (r, half) = (q % p, p / 2);
        if r == half {
            // A tie in decimal may not be one in binary, where ss's double lives.
            push_g(out, m as f64 / 10f64.powi(scale as i32), 6);
            return;
        }
        q /= p;
        if r > half {
            q += 1;
        }
        places -= i64::from(k);
        if q == 1_000_000 {
            q = 100_000;
            places -= 1;
        }
    }
    // Decimal exponent of the rounded value.
    let exp = i64::from(q.ilog10()) - places;
    if !(-4..6).contains(&exp) {
        push_g(out, m as f64 / 10f64.powi(scale as i32), 6);
        return;
    }
    if places <= 0 {
        push_u64(out, q * 10u64.pow((-places) as u32));
        return;
    }
    let p = 10u64.pow(places as u32);
    push_u64(out, q / p);
    let mut frac = q % p;
    if frac == 0 {
        return;
    }
    let mut width = places as usize;
    while frac.is_multiple_of(10) {
        frac /= 10;
        width -= 1;
    }
    out.push('.');
    let _ = write!(out, "{frac:0width$}");
}

/// ss's `sprint_bw` (bits per second): `%.0f` with -n, else `%.3g` with k/M/G/T.
pub fn push_bw(out: &mut String, bps: f64, numeric: bool) {
    if numeric {
        push_f0(out, bps);
        return;
    }
    let (v, suffix) = if bps >= 1e12 {
        (bps / 1e12, "T")
    } else if bps >= 1e9 {
        (bps / 1e9, "G")
    } else if bps >= 1e6 {
        (bps / 1e6, "M")
    } else if bps >= 1e3 {
        (bps / 1e3, "k")
    } else {
        (bps, "")
    };
    if suffix.is_empty() {
        push_g(out, v, 6);
    } else {
        push_g(out, v, 3);
        out.push_str(suffix);
    }
}

/// The tcp_info part of ss's `-i` line (iproute2 6.1 `tcp_stats_print`), each item with a
/// leading space, in ss's order and spelling. `options`: ss prints the negotiated options
/// (ts, sack, ecn, ecnseen, fastopen) only with `-o` or `-e`.
pub fn push_tcp_info(out: &mut String, i: &TcpInfo, state: TcpState, numeric: bool, options: bool) {
    use crate::model::{CcInfo, tcpi_opt};
    fn item(out: &mut String, label: &str, v: u64) {
        if v != 0 {
            out.push(' ');
            out.push_str(label);
            push_u64(out, v);
        }
    }
    fn ms(out: &mut String, label: &str, us: u32) {
        if us != 0 {
            out.push_str(label);
            push_ms_g(out, us);
        }
    }
    if options {
        for (bit, name) in [
            (tcpi_opt::TIMESTAMPS, " ts"),
            (tcpi_opt::SACK, " sack"),
            (tcpi_opt::ECN, " ecn"),
            (tcpi_opt::ECN_SEEN, " ecnseen"),
            (tcpi_opt::SYN_DATA, " fastopen"),
        ] {
            if i.options & bit != 0 {
                out.push_str(name);
            }
        }
    }
    if let Some(cc) = &i.congestion {
        out.push(' ');
        out.push_str(cc);
    }
    if i.options & tcpi_opt::WSCALE != 0 {
        let _ = write!(out, " wscale:{},{}", i.snd_wscale, i.rcv_wscale);
    }
    if i.rto_us != 3_000_000 {
        ms(out, " rto:", i.rto_us);
    }
    item(out, "backoff:", i.backoff.into());
    if i.rtt_us != 0 {
        out.push_str(" rtt:");
        push_ms_g(out, i.rtt_us);
        out.push('/');
        push_ms_g(out, i.rttvar_us);
    }
    ms(out, " ato:", i.ato_us);
    item(out, "mss:", i.snd_mss.into());
    item(out, "pmtu:", i.pmtu.into());
    item(out, "rcvmss:", i.rcv_mss.into());
    item(out, "advmss:", i.advmss.into());
    item(out, "cwnd:", i.snd_cwnd.into());
    if let Some(t) = i.snd_ssthresh {
        item(out, "ssthresh:", t.into());
    }
    item(out, "bytes_sent:", i.bytes_sent);
    item(out, "bytes_retrans:", i.bytes_retrans);
    item(out, "bytes_acked:", i.bytes_acked);
    item(out, "bytes_received:", i.bytes_received);
    item(out, "segs_out:", i.segs_out.into());
    item(out, "segs_in:", i.segs_in.into());
    item(out, "data_segs_out:", i.data_segs_out.into());
    item(out, "data_segs_in:", i.data_segs_in.into());
    let mut rtt = f64::from(i.rtt_us);
    match i.cc_info {
        Some(CcInfo::Dctcp {
            enabled: true,
            ce_state,
            alpha,
            ab_ecn,
            ab_tot,
        }) => {
            let _ = write!(
                out,
                " dctcp:(ce_state:{ce_state},alpha:{alpha},ab_ecn:{ab_ecn},ab_tot:{ab_tot})"
            );
        }
        Some(CcInfo::Dctcp { enabled: false, .. }) => out.push_str(" dctcp:fallback_mode"),
        Some(CcInfo::Bbr {
            bw,
            min_rtt_us,
            pacing_gain,
            cwnd_gain,
        }) => {
            out.push_str(" bbr:(bw:");
            push_bw(out, bw as f64 * 8.0, numeric);
            out.push_str("bps,mrtt:");
            push_ms_g(out, min_rtt_us);
            // gain / 256 is exactly gain * 390625 / 10^8.
            if pacing_gain != 0 {
                out.push_str(",pacing_gain:");
                push_g_decimal(out, u64::from(pacing_gain) * 390_625, 8);
            }
            if cwnd_gain != 0 {
                out.push_str(",cwnd_gain:");
                push_g_decimal(out, u64::from(cwnd_gain) * 390_625, 8);
            }
            out.push(')');
        }
        // ss prints nothing of vegas but computes `send` from its RTT.
        Some(CcInfo::Vegas {
            enabled, rtt_us: v, ..
        }) if enabled != 0 && v != 0 && v != 0x7fff_ffff => rtt = f64::from(v),
        Some(CcInfo::Vegas { .. }) | None => {}
    }
    if rtt > 0.0 && i.snd_mss > 0 && i.snd_cwnd > 0 {
        let bps = f64::from(i.snd_cwnd) * f64::from(i.snd_mss) * 8_000_000.0 / rtt;
        out.push_str(" send ");
        push_bw(out, bps, numeric);
        out.push_str("bps");
    }
    item(out, "lastsnd:", i.last_data_sent_ms.into());
    item(out, "lastrcv:", i.last_data_recv_ms.into());
    item(out, "lastack:", i.last_ack_recv_ms.into());
    if i.pacing_rate != 0 && i.pacing_rate != u64::MAX {
        out.push_str(" pacing_rate ");
        push_bw(out, i.pacing_rate as f64 * 8.0, numeric);
        out.push_str("bps");
        if i.max_pacing_rate != 0 && i.max_pacing_rate != u64::MAX {
            out.push('/');
            push_bw(out, i.max_pacing_rate as f64 * 8.0, numeric);
            out.push_str("bps");
        }
    }
    if i.delivery_rate != 0 {
        out.push_str(" delivery_rate ");
        push_bw(out, i.delivery_rate as f64 * 8.0, numeric);
        out.push_str("bps");
    }
    item(out, "delivered:", i.delivered.into());
    item(out, "delivered_ce:", i.delivered_ce.into());
    if i.app_limited {
        out.push_str(" app_limited");
    }
    if i.busy_time_us != 0 {
        out.push_str(" busy:");
        push_u64(out, i.busy_time_us / 1000);
        out.push_str("ms");
        for (label, v) in [
            (" rwnd_limited:", i.rwnd_limited_us),
            (" sndbuf_limited:", i.sndbuf_limited_us),
        ] {
            if v != 0 {
                let pct = 100.0 * v as f64 / i.busy_time_us as f64;
                let _ = write!(out, "{label}{}ms({pct:.1}%)", v / 1000);
            }
        }
    }
    item(out, "unacked:", i.unacked.into());
    if i.retrans != 0 || i.total_retrans != 0 {
        let _ = write!(out, " retrans:{}/{}", i.retrans, i.total_retrans);
    }
    item(out, "lost:", i.lost.into());
    if state != TcpState::Listen {
        item(out, "sacked:", i.sacked.into());
    }
    item(out, "dsack_dups:", i.dsack_dups.into());
    item(out, "fackets:", i.fackets.into());
    if i.reordering != 3 {
        let _ = write!(out, " reordering:{}", i.reordering);
    }
    item(out, "reord_seen:", i.reord_seen.into());
    ms(out, " rcv_rtt:", i.rcv_rtt_us);
    item(out, "rcv_space:", i.rcv_space.into());
    item(out, "rcv_ssthresh:", i.rcv_ssthresh.into());
    item(out, "notsent:", i.notsent_bytes.into());
    if i.min_rtt_us != u32::MAX {
        ms(out, " minrtt:", i.min_rtt_us);
    }
    item(out, "rcv_ooopack:", i.rcv_ooopack.into());
    item(out, "snd_wnd:", i.snd_wnd.into());
}

/// ss's shutdown mark (`-e`): `<->` open both ways, `-->` receive shut, `<--` send shut,
/// `---` both.
pub fn push_shutdown(out: &mut String, mask: u8) {
    out.push(' ');
    out.push(if mask & 1 != 0 { '-' } else { '<' });
    out.push('-');
    out.push(if mask & 2 != 0 { '-' } else { '>' });
}

/// C's `%#x`: `0` for zero, `0x..` otherwise (ss's tos, tclass and class_id).
pub fn push_alt_hex(out: &mut String, v: u32) {
    if v == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(x: f64) -> String {
        let mut s = String::new();
        push_g(&mut s, x, 6);
        s
    }

    #[test]
    fn g_matches_c() {
        assert_eq!(g(0.0), "0");
        assert_eq!(g(204.0), "204");
        assert_eq!(g(0.05), "0.05");
        assert_eq!(g(1.2345678), "1.23457");
        assert_eq!(g(0.00001), "1e-05");
        assert_eq!(g(1234567.0), "1.23457e+06");
        assert_eq!(g(0.123), "0.123");
        let mut s = String::new();
        push_g(&mut s, 41.94304, 3);
        assert_eq!(s, "41.9");
    }

    #[test]
    fn ms_timer_like_ss() {
        let t = |ms| {
            let mut s = String::new();
            push_ms_timer(&mut s, ms);
            s
        };
        assert_eq!(t(59_000), "59sec");
        assert_eq!(t(7_140_000), "119min");
        assert_eq!(t(200), "200ms");
        assert_eq!(t(2_888), "2.888ms");
        assert_eq!(t(0), "");
        assert_eq!(t(65_000), "1min5sec");
        assert_eq!(t(12_345), "12sec");
    }

    #[test]
    fn timer_and_users() {
        let mut s = String::new();
        let t = Timer {
            kind: TimerKind::TimeWait,
            expires_ms: 59_000,
            retrans: 0,
        };
        assert!(push_timer(&mut s, Netid::Tcp, Some(&t)));
        assert_eq!(s, "timer:(timewait,59sec,0)");
        s.clear();
        let off = Timer {
            kind: TimerKind::Off,
            ..t
        };
        assert!(!push_timer(&mut s, Netid::Tcp, Some(&off)));
        assert!(s.is_empty());
        let procs = vec![
            ProcessRef {
                command: "python3".into(),
                pid: 4000,
                fd: 3,
                nspid: None,
                proc_ctx: None,
                sock_ctx: None,
            },
            ProcessRef {
                command: "sshd".into(),
                pid: 1,
                fd: 7,
                nspid: None,
                proc_ctx: None,
                sock_ctx: None,
            },
        ];
        // ss's order, whatever the order given: the highest pid, then fd, first.
        assert!(push_users(&mut s, &procs));
        assert_eq!(
            s,
            r#"users:(("python3",pid=4000,fd=3),("sshd",pid=1,fd=7))"#
        );
        let mut more = procs.clone();
        more.push(ProcessRef {
            fd: 9,
            ..procs[1].clone()
        });
        more.sort_by_key(|p| (p.pid, p.fd));
        s.clear();
        assert!(push_users(&mut s, &more));
        assert_eq!(
            s,
            r#"users:(("python3",pid=4000,fd=3),("sshd",pid=1,fd=9),("sshd",pid=1,fd=7))"#
        );
    }

    #[test]
    fn contexts_are_spelled_as_ss_spells_them() {
        let mut p = ProcessRef {
            command: "sshd".into(),
            pid: 1,
            fd: 7,
            nspid: None,
            proc_ctx: Some("system_u:system_r:sshd_t:s0".into()),
            sock_ctx: None,
        };
        let mut s = String::new();
        assert!(push_users(&mut s, std::slice::from_ref(&p)));
        assert_eq!(
            s,
            r#"users:(("sshd",pid=1,proc_ctx=system_u:system_r:sshd_t:s0,fd=7))"#
        );
        p.sock_ctx = Some("unavailable".into());
        s.clear();
        assert!(push_users(&mut s, &[p]));
        assert_eq!(
            s,
            r#"users:(("sshd",pid=1,proc_ctx=system_u:system_r:sshd_t:s0,fd=7,sock_ctx=unavailable))"#
        );
    }

    #[test]
    fn numbers_and_bandwidth() {
        let mut s = String::new();
        push_u64(&mut s, 0);
        s.push(' ');
        push_u64(&mut s, u64::MAX);
        assert_eq!(s, "0 18446744073709551615");
        s.clear();
        push_bw(&mut s, 41_943_040.0, false);
        assert_eq!(s, "41.9M");
        s.clear();
        push_bw(&mut s, 41_943_040.0, true);
        assert_eq!(s, "41943040");
        s.clear();
        push_skmem(&mut s, &MemInfo::default());
        assert_eq!(s, "skmem:(r0,rb0,t0,tb0,f0,w0,o0,bl0,d0)");
    }
}

#[cfg(test)]
mod tcp_info_tests {
    use super::*;
    use crate::model::{CcInfo, tcpi_opt};

    fn info() -> TcpInfo {
        TcpInfo {
            congestion: Some("bbr".into()),
            options: tcpi_opt::TIMESTAMPS | tcpi_opt::SACK | tcpi_opt::WSCALE,
            snd_wscale: 10,
            rcv_wscale: 7,
            rto_us: 204_000,
            rtt_us: 5_220,
            rttvar_us: 10_397,
            snd_mss: 35_328,
            snd_cwnd: 12,
            reordering: 3,
            busy_time_us: 44_000,
            rwnd_limited_us: 11_000,
            min_rtt_us: 11,
            cc_info: Some(CcInfo::Bbr {
                bw: 3_211_635_406,
                min_rtt_us: 11,
                pacing_gain: 739,
                cwnd_gain: 739,
            }),
            ..TcpInfo::default()
        }
    }

    fn text(i: &TcpInfo, options: bool) -> String {
        let mut s = String::new();
        push_tcp_info(&mut s, i, TcpState::Established, true, options);
        s
    }

    #[test]
    fn in_ss_order_and_spelling() {
        assert_eq!(
            text(&info(), true),
            " ts sack bbr wscale:10,7 rto:204 rtt:5.22/10.397 mss:35328 cwnd:12 \
             bbr:(bw:25693083248bps,mrtt:0.011,pacing_gain:2.88672,cwnd_gain:2.88672) \
             send 649710345bps busy:44ms rwnd_limited:11ms(25.0%) minrtt:0.011"
        );
    }

    #[test]
    fn options_only_with_o_and_wscale_only_when_negotiated() {
        let mut i = info();
        assert!(text(&i, false).starts_with(" bbr wscale:10,7"));
        i.options = 0;
        assert!(!text(&i, true).contains("wscale"));
        i.reordering = 0;
        assert!(text(&i, true).contains(" reordering:0"));
    }

    #[test]
    fn dctcp_and_vegas() {
        let mut i = info();
        i.cc_info = Some(CcInfo::Dctcp {
            enabled: false,
            ce_state: 0,
            alpha: 0,
            ab_ecn: 0,
            ab_tot: 0,
        });
        assert!(text(&i, false).contains(" dctcp:fallback_mode send"));
        i.cc_info = Some(CcInfo::Dctcp {
            enabled: true,
            ce_state: 1,
            alpha: 2,
            ab_ecn: 3,
            ab_tot: 4,
        });
        assert!(text(&i, false).contains(" dctcp:(ce_state:1,alpha:2,ab_ecn:3,ab_tot:4)"));
        // vegas prints nothing of its own; `send` uses its RTT.
        i.cc_info = Some(CcInfo::Vegas {
            enabled: 1,
            rttcnt: 1,
            rtt_us: 10_440,
            min_rtt_us: 1,
        });
        assert!(text(&i, false).contains(" send 324855172bps"));
    }

    #[test]
    fn fast_paths_agree_with_the_formatter() {
        let mut a = String::new();
        let mut b = String::new();
        for us in (0..2_000_000u32)
            .step_by(997)
            .chain([1, 10, 100, 999, 1000, 999_999])
        {
            a.clear();
            b.clear();
            push_ms_g(&mut a, us);
            push_g(&mut b, f64::from(us) / 1000.0, 6);
            assert_eq!(a, b, "{us}");
        }
        for x in [
            0.0,
            0.5,
            1.5,
            2.5,
            3.49,
            649_710_344.8,
            1e15 + 0.5,
            2.0e16,
            123.0,
        ] {
            a.clear();
            push_f0(&mut a, x);
            assert_eq!(a, format!("{x:.0}"), "{x}");
        }
    }

    #[test]
    fn marks_and_hex() {
        let mut s = String::new();
        for m in 0..4 {
            push_shutdown(&mut s, m);
        }
        assert_eq!(s, " <-> --> <-- ---");
        s.clear();
        push_alt_hex(&mut s, 0);
        s.push(' ');
        push_alt_hex(&mut s, 0x20);
        assert_eq!(s, "0 0x20");
    }
}
