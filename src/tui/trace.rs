//! Per-refresh timings for benchmarks: with `SOCKEYE_TRACE=FILE` in the environment the live
//! view appends one line per applied snapshot (`collect=12.3 prepare=4.5 apply=1.2
//! render=0.8 total=18.8 rss=40.1`, milliseconds and MiB). Off by default; a file that cannot
//! be written turns tracing off rather than disturbing the screen.

use std::fs::File;
use std::io::Write;
use std::time::Duration;

pub struct Trace {
    file: Option<File>,
}

/// The timings of one refresh.
pub struct Refresh {
    pub collect: Duration,
    pub prepare: Duration,
    /// The parts of `prepare`.
    pub steps: Vec<(&'static str, Duration)>,
    pub apply: Duration,
    pub render: Duration,
}

impl Trace {
    pub fn from_env() -> Trace {
        // Never a FIFO or a device: opening one could block the live view, or write forever.
        let file = std::env::var_os("SOCKEYE_TRACE")
            .and_then(|p| crate::input::open_append(std::path::Path::new(&p)).ok());
        Trace { file }
    }

    pub fn enabled(&self) -> bool {
        self.file.is_some()
    }

    pub fn record(&mut self, r: &Refresh) {
        let Some(f) = self.file.as_mut() else {
            return;
        };
        let line = format_line(r, rss_mib());
        if f.write_all(line.as_bytes()).is_err() {
            self.file = None;
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn format_line(r: &Refresh, rss: Option<f64>) -> String {
    let total = r.collect + r.prepare + r.apply + r.render;
    let mut line = format!(
        "collect={:.1} prepare={:.1} apply={:.1} render={:.1} total={:.1}",
        ms(r.collect),
        ms(r.prepare),
        ms(r.apply),
        ms(r.render),
        ms(total)
    );
    for (name, d) in &r.steps {
        line.push_str(&format!(" {name}={:.1}", ms(*d)));
    }
    if let Some(rss) = rss {
        line.push_str(&format!(" rss={rss:.1}"));
    }
    line.push('\n');
    line
}

/// Resident memory of this process in MiB, from /proc/self/status.
fn rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_every_step_and_the_total() {
        let r = Refresh {
            collect: Duration::from_micros(12_340),
            prepare: Duration::from_micros(4_500),
            apply: Duration::from_micros(1_200),
            render: Duration::from_micros(800),
            steps: vec![("sort", Duration::from_micros(2_000))],
        };
        assert_eq!(
            format_line(&r, Some(40.06)),
            "collect=12.3 prepare=4.5 apply=1.2 render=0.8 total=18.8 sort=2.0 rss=40.1\n"
        );
        assert!(!format_line(&r, None).contains("rss"));
    }

    #[test]
    fn rss_is_read_from_proc() {
        let rss = rss_mib().unwrap();
        assert!(rss > 0.5 && rss < 100_000.0, "{rss}");
    }
}
