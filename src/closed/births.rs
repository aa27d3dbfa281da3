//! Lifetimes: when sockeye saw each socket first. The kernel sends no event when a socket
//! is born and no age with it when it is freed, so a socket's birth is bounded by the scans
//! sockeye made: it was there at the first scan that listed it and absent from the one
//! before (if there was one). Its lifetime at destruction is then known within that window:
//! at least `end - first seen`, at most `end - previous scan`.

use std::time::{Duration, SystemTime};

use rustc_hash::FxHashMap;

/// A lifetime bounded by two scans; `at_most` is unknown when the socket was already there
/// at the first scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    pub at_least: Duration,
    pub at_most: Option<Duration>,
}

impl Lifetime {
    /// `1.2s-2.2s`, `>5.0s` (born before sockeye looked), or one figure when both bounds
    /// print alike.
    pub fn text(&self) -> String {
        let lo = duration_text(self.at_least);
        match self.at_most {
            None => format!(">{lo}"),
            Some(hi) => {
                let hi = duration_text(hi);
                if hi == lo { lo } else { format!("{lo}-{hi}") }
            }
        }
    }
}

/// `850ms`, `12.3s`, `5m12s`, `2h05m`, `3d04h`.
pub fn duration_text(d: Duration) -> String {
    let ms = d.as_millis();
    let s = d.as_secs();
    if ms < 1000 {
        format!("{ms}ms")
    } else if s < 60 {
        format!("{}.{}s", s, d.subsec_millis() / 100)
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600)
    }
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    first: SystemTime,
    /// The scan before the first that listed it (`None`: it was in the very first scan).
    before: Option<SystemTime>,
}

/// First sightings by socket cookie. Two generations are kept: a socket freed just before
/// a scan is missing from it, but its event may be read after that scan.
#[derive(Debug, Default)]
pub struct Births {
    cur: FxHashMap<u64, Seen>,
    prev: FxHashMap<u64, Seen>,
    last_scan: Option<SystemTime>,
}

impl Births {
    /// One scan at `at` listed `cookies` (the live sockets then).
    pub fn observe(&mut self, cookies: impl IntoIterator<Item = u64>, at: SystemTime) {
        let mut next = FxHashMap::with_capacity_and_hasher(self.cur.len(), Default::default());
        for c in cookies {
            let seen = self
                .cur
                .get(&c)
                .or_else(|| self.prev.get(&c))
                .copied()
                .unwrap_or(Seen {
                    first: at,
                    before: self.last_scan,
                });
            next.insert(c, seen);
        }
        self.prev = std::mem::replace(&mut self.cur, next);
        self.last_scan = Some(at);
    }

    /// The lifetime of the socket `cookie` freed at `end`, if a scan saw it.
    pub fn lifetime(&self, cookie: u64, end: SystemTime) -> Option<Lifetime> {
        let seen = self.cur.get(&cookie).or_else(|| self.prev.get(&cookie))?;
        let since = |t: SystemTime| end.duration_since(t).unwrap_or_default();
        Some(Lifetime {
            at_least: since(seen.first),
            at_most: seen.before.map(since),
        })
    }

    /// Sockets currently remembered (both generations may hold one socket).
    pub fn len(&self) -> usize {
        self.cur.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cur.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn births_are_bounded_by_the_scans_around_them() {
        let mut b = Births::default();
        b.observe([1], t(100));
        b.observe([1, 2], t(101));
        let old = b.lifetime(1, t(105)).unwrap();
        assert_eq!(old.at_least, Duration::from_secs(5));
        assert_eq!(old.at_most, None, "there before the first scan");
        assert_eq!(old.text(), ">5.0s");
        let new = b.lifetime(2, t(105)).unwrap();
        assert_eq!(new.at_least, Duration::from_secs(4));
        assert_eq!(new.at_most, Some(Duration::from_secs(5)));
        assert_eq!(new.text(), "4.0s-5.0s");
        assert_eq!(b.lifetime(3, t(105)), None);
    }

    #[test]
    fn a_socket_missing_from_the_latest_scan_is_kept_one_more() {
        let mut b = Births::default();
        b.observe([7], t(10));
        b.observe([], t(11));
        assert!(
            b.lifetime(7, t(11)).is_some(),
            "its event may come after the scan"
        );
        b.observe([], t(12));
        assert!(b.lifetime(7, t(12)).is_none());
    }

    #[test]
    fn durations_print_in_their_unit() {
        let ms = Duration::from_millis;
        assert_eq!(duration_text(ms(850)), "850ms");
        assert_eq!(duration_text(ms(12_345)), "12.3s");
        assert_eq!(duration_text(ms(312_000)), "5m12s");
        assert_eq!(duration_text(ms(7_500_000)), "2h05m");
        assert_eq!(duration_text(ms(3 * 86_400_000 + 4 * 3_600_000)), "3d04h");
    }
}
