//! Fuzz the demo's control-socket request parsing: any bytes, as one line or split into
//! lines the way the server splits them, must parse into a request or fail with an error
//! reply — never panic — and a parsed request must encode into a line that parses again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockeye::demo::control::{self, MAX_REQUEST};

fuzz_target!(|data: &[u8]| {
    check(data);
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        check(line);
    }
});

fn check(line: &[u8]) {
    match control::parse_line(line) {
        Ok(Some(req)) => {
            assert!(line.len() <= MAX_REQUEST);
            let again = control::request_line(&req).expect("a request encodes");
            let back = control::parse_request(&again);
            assert!(back.is_ok(), "{again:?}: {back:?}");
        }
        Ok(None) => assert!(line.iter().all(u8::is_ascii_whitespace)),
        Err(e) => assert!(!e.is_empty()),
    }
}
