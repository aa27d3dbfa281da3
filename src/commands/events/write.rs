//! What `dump -E` writes for each event: a row (ss's layout plus ` ended:` and ` lifetime:`
//! in the last cell, and a leading Netns column under `--all-netns`) or one JSON line.

use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::time::SystemTime;

use super::subs::Sub;
use crate::closed::{Ending, Lifetime};
use crate::collect::namespaces::Netns;
use crate::collect::netlink::events::Destroyed;
use crate::model::Source;
use crate::output::json::{JsonOptions, SocketJson};
use crate::text;

/// The Netns column of `--all-netns` (nothing otherwise), as wide as its widest label.
pub struct Lead {
    on: bool,
    width: usize,
}

impl Lead {
    pub fn new(on: bool, subs: &[Sub]) -> Lead {
        let mut l = Lead {
            on,
            width: "Netns".len(),
        };
        l.widen(subs);
        l
    }

    /// Make room for the labels of namespaces followed since.
    pub fn widen(&mut self, subs: &[Sub]) {
        for s in subs {
            self.width = self.width.max(s.label.chars().count());
        }
    }

    /// The cells before the header and before a row of `label` (empty when off).
    pub fn cells(&self, label: &str) -> (String, String) {
        if !self.on {
            return (String::new(), String::new());
        }
        let width = self.width;
        (format!("{:<width$} ", "Netns"), format!("{label:<width$} "))
    }
}

/// ` ended:REASON lifetime:DURATION`, each where known.
pub fn extra_text(out: &mut String, ending: Option<Ending>, lifetime: Option<Lifetime>) {
    out.clear();
    if let Some(e) = ending {
        out.push_str(" ended:");
        out.push_str(e.as_str());
    }
    if let Some(l) = lifetime {
        out.push_str(" lifetime:");
        out.push_str(&l.text());
    }
}

/// One event as one JSON line: dump's object with `event` and `time` first, then `ended`,
/// `lifetime` (`{"min_ms", "max_ms"}`, null when unknown) and, with `-N`/`--all-netns`,
/// `netns`.
pub fn json_event(
    w: &mut impl Write,
    e: &Destroyed,
    lifetime: Option<Lifetime>,
    ns: Option<&Netns>,
    opts: &JsonOptions,
    time: SystemTime,
) -> io::Result<()> {
    let mut body = serde_json::to_vec(&SocketJson {
        s: &e.socket,
        source: Source::Netlink,
        opts,
    })
    .map_err(io::Error::from)?;
    if body.pop() != Some(b'}') {
        return Err(io::Error::other("socket JSON is not an object"));
    }
    write!(w, "{{\"event\":\"destroy\",\"time\":\"{}\"", rfc3339(time))?;
    if body.len() > 1 {
        w.write_all(b",")?;
        w.write_all(&body[1..])?;
    }
    w.write_all(b",\"ended\":")?;
    match e.ending {
        Some(x) => write!(w, "\"{}\"", x.as_str())?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"lifetime\":")?;
    match lifetime {
        Some(l) => {
            write!(w, "{{\"min_ms\":{},\"max_ms\":", l.at_least.as_millis())?;
            match l.at_most {
                Some(m) => write!(w, "{}}}", m.as_millis())?,
                None => w.write_all(b"null}")?,
            }
        }
        None => w.write_all(b"null")?,
    }
    if let Some(ns) = ns {
        w.write_all(b",\"netns\":")?;
        let obj = serde_json::json!({ "inode": ns.inode, "name": ns.name });
        serde_json::to_writer(&mut *w, &obj).map_err(io::Error::from)?;
    }
    w.write_all(b"}\n")
}

/// Events the kernel dropped: one line on stderr, and a JSON line in JSON mode. `count` 0:
/// the kernel said it dropped some but the count is unknown (no drop counter). `label`:
/// the namespace (empty for this process's own without `-N`/`--all-netns`).
pub fn report_lost(
    w: &mut impl Write,
    json: bool,
    count: u64,
    label: &str,
    time: SystemTime,
) -> io::Result<()> {
    let what = if count == 0 {
        "some destroy events (count unknown)".to_string()
    } else {
        format!("{count} destroy event(s)")
    };
    let place = if label.is_empty() {
        String::new()
    } else {
        format!(" in network namespace {label}")
    };
    text::stderr_line(&format!(
        "the kernel dropped {what}{place}: its receive queue for sockeye was full"
    ));
    if json {
        write!(
            w,
            "{{\"event\":\"lost\",\"time\":\"{}\",\"count\":{}",
            rfc3339(time),
            if count == 0 {
                "null".to_string()
            } else {
                count.to_string()
            }
        )?;
        if !label.is_empty() {
            w.write_all(b",\"netns\":")?;
            serde_json::to_writer(&mut *w, label).map_err(io::Error::from)?;
        }
        w.write_all(b"}\n")?;
        w.flush()?;
    }
    Ok(())
}

/// The reader of our stdout went away (a pipe whose reader closed reports POLLERR), so a
/// quiet stream still ends instead of waiting for the next event to fail its write.
pub fn output_closed(out: &impl AsRawFd) -> bool {
    let mut p = libc::pollfd {
        fd: out.as_raw_fd(),
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let rc = unsafe { libc::poll(&mut p, 1, 0) };
    rc > 0 && p.revents & (libc::POLLERR | libc::POLLHUP) != 0
}

/// `time` as RFC 3339 UTC with milliseconds (no time crate: days to a civil date).
pub fn rfc3339(time: SystemTime) -> String {
    let d = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Netid, Socket, TcpState};
    use std::time::Duration;

    #[test]
    fn rfc3339_of_known_instants() {
        let at = |s: u64, ms: u64| {
            rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(s) + Duration::from_millis(ms))
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(1_796_169_173, 250), "2026-12-01T23:52:53.250Z");
    }

    #[test]
    fn lost_line_is_json_with_a_count() {
        let mut v = Vec::new();
        report_lost(&mut v, true, 3, "", SystemTime::UNIX_EPOCH).unwrap();
        let j: serde_json::Value = serde_json::from_slice(&v).unwrap();
        assert_eq!(j["event"], "lost");
        assert_eq!(j["count"], 3);
    }

    #[test]
    fn event_json_has_ending_and_lifetime() {
        let e = Destroyed {
            socket: Socket::new(
                Netid::Tcp,
                TcpState::Close,
                Endpoint::Inet {
                    addr: [127, 0, 0, 1].into(),
                    port: 1,
                },
                Endpoint::Inet {
                    addr: [127, 0, 0, 1].into(),
                    port: 2,
                },
            ),
            ending: Some(Ending::Reset),
        };
        let life = Lifetime {
            at_least: Duration::from_millis(1500),
            at_most: None,
        };
        let mut v = Vec::new();
        let opts = JsonOptions::default();
        json_event(&mut v, &e, Some(life), None, &opts, SystemTime::UNIX_EPOCH).unwrap();
        let j: serde_json::Value = serde_json::from_slice(&v).unwrap();
        assert_eq!(j["event"], "destroy");
        assert_eq!(j["local_port"], 1);
        assert_eq!(j["ended"], "reset");
        assert_eq!(j["lifetime"]["min_ms"], 1500);
        assert!(j["lifetime"]["max_ms"].is_null());
        let mut s = String::new();
        extra_text(&mut s, e.ending, Some(life));
        assert_eq!(s, " ended:reset lifetime:>1.5s");
    }
}
