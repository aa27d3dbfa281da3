//! Per-refresh timings for benchmarks: with `SOCKEYE_TRACE=FILE` in the environment the live
//! view appends one line per applied snapshot (`collect=12.3 prepare=4.5 apply=1.2
//! render=0.8 total=18.8 rss=40.1`, milliseconds and MiB). Off by default; a file that cannot
//! be written, or that is not a regular file (a FIFO, a device), turns tracing off rather than
//! disturbing the screen or blocking it.

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
        Trace::to(std::env::var_os("SOCKEYE_TRACE").as_deref())
    }

    /// Tracing to `path` (none: off).
    fn to(path: Option<&std::ffi::OsStr>) -> Trace {
        // Never a FIFO or a device: opening one could block the live view, or write forever.
        let file = path.and_then(|p| crate::input::open_append(std::path::Path::new(p)).ok());
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
    fn only_regular_files_are_traced_to() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("trace");
        assert!(Trace::to(Some(file.as_os_str())).enabled());
        assert!(!Trace::to(None).enabled());
        assert!(!Trace::to(Some(dir.path().as_os_str())).enabled());
        assert!(!Trace::to(Some("/dev/null".as_ref())).enabled());
        // A FIFO nobody reads: refused at once, not waited on.
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(Trace::to(Some(fifo.as_os_str())).enabled());
        });
        let enabled = rx
            .recv_timeout(Duration::from_secs(2))
            .expect("blocked on a FIFO");
        assert!(!enabled);
    }

    #[test]
    fn rss_is_read_from_proc() {
        let rss = rss_mib().unwrap();
        assert!(rss > 0.5 && rss < 100_000.0, "{rss}");
    }
}
