//! Fuzz the recording reader (`dump --from FILE` reads files anyone may hand over): any bytes
//! give a recording or an error, never a panic; every moment and change set of what parses
//! can be rebuilt.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockeye::record::reader::Recording;

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = Recording::parse(data) {
        let n = rec.len();
        for i in 0..n.min(16) {
            let _ = rec.moment(i);
        }
        if n > 0 {
            let _ = rec.changes(0, n - 1);
            let _ = rec.frame_at(rec.end());
            // Stepping back and forth as replay does.
            let mut c = sockeye::record::Cursor::default();
            for i in [n - 1, 0, n / 2, n - 1] {
                let _ = c.seek(&rec, i, |_, _| {});
                let _ = c.snapshot();
            }
        }
    }
});
