//! Time-based limits: a churn schedule (`Pacer`) and the cap on new connections (`Budget`).

use std::time::{Duration, Instant};

/// A steady schedule of events at `rate` per second, without bursts after a pause.
/// The slowest schedule kept: an event a day. A slower rate (any positive number passes the
/// rate checks) means no event at all.
pub const LONGEST_INTERVAL: Duration = Duration::from_secs(86_400);

pub struct Pacer {
    pub rate: f64,
    /// The rate a reset goes back to.
    pub default_rate: f64,
    /// The highest rate a request may set.
    pub max_rate: f64,
    next: Instant,
}

impl Pacer {
    pub fn new(rate: f64, max_rate: f64, now: Instant) -> Pacer {
        Pacer {
            rate,
            default_rate: rate,
            max_rate,
            next: now,
        }
    }

    pub fn set_rate(&mut self, rate: f64, now: Instant) {
        self.rate = rate;
        self.next = now;
    }

    /// None: no event is ever due: rate 0, or slower than one per [`LONGEST_INTERVAL`]
    /// (whose 1/rate could overflow `Duration`, or `Instant` when added).
    fn interval(&self) -> Option<Duration> {
        if self.rate <= 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(1.0 / self.rate)
            .ok()
            .filter(|step| *step <= LONGEST_INTERVAL)
    }

    /// True when an event is due now; schedules the next one.
    pub fn due(&mut self, now: Instant) -> bool {
        let Some(step) = self.interval() else {
            return false;
        };
        if now < self.next {
            return false;
        }
        // Late by more than one interval (paused, busy): restart from now, no burst.
        self.next = if now.duration_since(self.next) > step {
            now + step
        } else {
            self.next + step
        };
        true
    }

    pub fn until_due(&self, now: Instant) -> Option<Duration> {
        self.interval()?;
        Some(self.next.saturating_duration_since(now))
    }
}

/// A token bucket: at most `burst` events at once and `rate` per second on average, over
/// every event whatever asked for it (the schedule, a control request, a replacement). This
/// is what keeps a scenario's connection rate under its cap for any sequence of requests.
pub struct Budget {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Budget {
    pub fn new(rate: f64, burst: usize, now: Instant) -> Budget {
        let burst = burst.max(1) as f64;
        Budget {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Take one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_keeps_rate_and_never_bursts() {
        let t0 = Instant::now();
        let mut p = Pacer::new(10.0, 200.0, t0);
        assert!(p.due(t0));
        assert!(!p.due(t0 + Duration::from_millis(50)));
        assert!(p.due(t0 + Duration::from_millis(100)));
        // A long pause yields one event, not a burst.
        let later = t0 + Duration::from_secs(5);
        assert!(p.due(later));
        assert!(!p.due(later));
        p.set_rate(0.0, later);
        assert!(!p.due(later + Duration::from_secs(10)));
        assert_eq!(p.until_due(later), None);
    }

    #[test]
    fn a_vanishing_rate_is_never_due_and_never_panics() {
        // `demo --rate 1e-300` and `{"cmd":"rate","per_sec":1e-300}` pass the rate checks
        // (more than 0); 1/rate seconds overflowed Duration and panicked the scenario thread.
        let t0 = Instant::now();
        for rate in [1e-300, f64::MIN_POSITIVE, 5e-324, 1e-19, 1e-10] {
            let mut p = Pacer::new(rate, 200.0, t0);
            assert!(!p.due(t0), "{rate}");
            assert_eq!(p.until_due(t0), None, "{rate}");
            p.set_rate(1e-300, t0);
            assert!(!p.due(t0 + Duration::from_secs(3600)), "{rate}");
        }
        // One a day is still a schedule.
        let mut p = Pacer::new(1.0 / 86_400.0, 200.0, t0);
        assert!(p.due(t0));
        assert!(!p.due(t0 + Duration::from_secs(3600)));
    }

    #[test]
    fn budget_allows_a_burst_then_the_rate_whatever_asks() {
        let t0 = Instant::now();
        let mut b = Budget::new(10.0, 4, t0);
        assert_eq!((0..100).filter(|_| b.take(t0)).count(), 4);
        // One second later: the burst again (it is capped), not a hundred.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!((0..100).filter(|_| b.take(t1)).count(), 4);
        // Over ten seconds of constant asking: about rate x time plus the burst.
        let mut n = 0;
        for ms in (1000..11_000).step_by(5) {
            let t = t0 + Duration::from_millis(ms);
            n += (0..10).filter(|_| b.take(t)).count();
        }
        assert!((99..=101).contains(&n), "{n}");
    }
}
