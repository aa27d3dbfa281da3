//! The values record and dump --from take: durations (`90s`, `5m`, `1h30m`), sizes
//! (`100M`, `1GiB`), and moments of a recording (RFC 3339, `HH:MM[:SS]` on the recording's
//! day in local time, `+DURATION` from its start); and RFC 3339 output.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::frame::{from_micros, micros};

/// `90s`, `5m`, `1h30m`, `500ms`, `2d`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_duration(secs, text);
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("duration {text:?} needs a unit after its last number"))?;
        let (num, after) = rest.split_at(num_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let n: f64 = num
            .parse()
            .map_err(|_| format!("bad number in duration {text:?}"))?;
        let scale = match unit {
            "ms" => 0.001,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => {
                return Err(format!(
                    "unknown unit {unit:?} in duration {text:?} (ms, s, m, h, d)"
                ));
            }
        };
        total += n * scale;
        rest = next;
    }
    secs_to_duration(total, text)
}

fn secs_to_duration(secs: f64, text: &str) -> Result<Duration, String> {
    if !secs.is_finite() || !(0.0..=1e10).contains(&secs) {
        return Err(format!("duration {text:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Bytes: a number with an optional K, M, G (binary: 1K = 1024), also spelled KiB, MiB, GiB.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("bad size {text:?} (e.g. 100M, 1G)"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1u64,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(format!("unknown unit in size {text:?} (K, M, G, T)")),
    };
    let bytes = n * scale as f64;
    if !bytes.is_finite() || !(0.0..=1e18).contains(&bytes) {
        return Err(format!("size {text:?} is out of range"));
    }
    Ok(bytes as u64)
}

/// A moment of a recording that started at `start`.
pub fn parse_moment(text: &str, start: SystemTime) -> Result<SystemTime, String> {
    let t = text.trim();
    if let Some(d) = t.strip_prefix('+') {
        return Ok(start + parse_duration(d)?);
    }
    if t.len() <= 8 && t.contains(':') {
        let secs = parse_clock(t).ok_or_else(|| {
            format!("bad time {text:?} (RFC 3339, HH:MM[:SS] or +DURATION such as +90s)")
        })?;
        // The local day the recording started on, at that clock time.
        let off = local_offset(start);
        let local = micros(start) / 1_000_000 + off;
        let midnight = local.div_euclid(86400) * 86400;
        return Ok(from_micros((midnight + secs - off) * 1_000_000));
    }
    parse_rfc3339(t).ok_or_else(|| {
        format!("bad time {text:?} (RFC 3339, HH:MM[:SS] or +DURATION such as +90s)")
    })
}

fn parse_clock(t: &str) -> Option<i64> {
    let mut parts = t.split(':');
    let h: i64 = num(parts.next()?, 2)?;
    let m: i64 = num(parts.next()?, 2)?;
    let s: i64 = match parts.next() {
        Some(s) => num(s, 2)?,
        None => 0,
    };
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(h * 3600 + m * 60 + s)
}

fn num(s: &str, width: usize) -> Option<i64> {
    (s.len() == width && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `2026-12-02T03:12:00Z`, with fractional seconds and a `±HH:MM` offset allowed, `T` or a
/// space between date and time.
pub fn parse_rfc3339(t: &str) -> Option<SystemTime> {
    let b = t.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let y = num(t.get(0..4)?, 4)?;
    let mo = num(t.get(5..7)?, 2)?;
    let d = num(t.get(8..10)?, 2)?;
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let h = num(t.get(11..13)?, 2)?;
    let mi = num(t.get(14..16)?, 2)?;
    let s = num(t.get(17..19)?, 2)?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = t.get(19..)?;
    let mut frac_us = 0i64;
    if let Some(f) = rest.strip_prefix('.') {
        let digits = f.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded: String = f[..digits]
            .chars()
            .chain("000000".chars())
            .take(6)
            .collect();
        frac_us = padded.parse().ok()?;
        rest = &f[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            sign * (num(&rest[1..3], 2)? * 3600 + num(&rest[4..6], 2)? * 60)
        }
    };
    let secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset;
    Some(from_micros(secs * 1_000_000 + frac_us))
}

/// RFC 3339 in UTC with millisecond precision (`2026-12-02T03:12:00.000Z`).
/// A span in words a person reads at a glance: `45s`, `12m 5s`, `3h 2m`, `2d 4h`.
pub fn format_span(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    }
}

pub fn format_rfc3339(t: SystemTime) -> String {
    let us = micros(t);
    let secs = us.div_euclid(1_000_000);
    let ms = us.rem_euclid(1_000_000) / 1000;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Seconds east of UTC of the local time zone at `t` (0 when the C library cannot say).
fn local_offset(t: SystemTime) -> i64 {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as libc::time_t,
        Err(_) => return 0,
    };
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r only writes the tm it is given; both pointers are valid.
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if ok { tm.tm_gmtoff } else { 0 }
}

// Howard Hinnant's civil-date algorithms (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86400)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("5m3").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-3").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("M").is_err());
    }

    #[test]
    fn rfc3339_both_ways() {
        let t = parse_rfc3339("2026-12-02T03:12:00Z").unwrap();
        assert_eq!(format_rfc3339(t), "2026-12-02T03:12:00.000Z");
        let o = parse_rfc3339("2026-12-02T04:12:00.250+01:00").unwrap();
        assert_eq!(o, t + Duration::from_millis(250));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(UNIX_EPOCH));
        assert_eq!(
            format_rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
        assert!(parse_rfc3339("2026-13-02T03:12:00Z").is_none());
        assert!(parse_rfc3339("2026-12-02T03:12:00").is_none());
    }

    #[test]
    fn moments() {
        let start = parse_rfc3339("2026-12-02T03:00:00Z").unwrap();
        assert_eq!(
            parse_moment("+90s", start),
            Ok(start + Duration::from_secs(90))
        );
        assert_eq!(
            parse_moment("+5m", start),
            Ok(start + Duration::from_secs(300))
        );
        assert_eq!(
            parse_moment("2026-12-02T03:12:00Z", start),
            Ok(start + Duration::from_secs(720))
        );
        // HH:MM is local time on the recording's (local) day.
        let off = local_offset(start);
        let clock = parse_moment("03:12", start).unwrap();
        let local_day = (micros(start) / 1_000_000 + off).div_euclid(86400);
        let expect = local_day * 86400 + 3 * 3600 + 12 * 60 - off;
        assert_eq!(micros(clock) / 1_000_000, expect);
        assert!(parse_moment("25:00", start).is_err());
        assert!(parse_moment("soon", start).is_err());
        assert!(parse_moment("+5y", start).is_err());
    }
}
