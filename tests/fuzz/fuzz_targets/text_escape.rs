//! Fuzz the escaping of untrusted text: whatever the bytes, the escaped form holds no control
//! character (nothing reaches a terminal as itself, nothing forges a line), and an error
//! excerpt stays a bounded window with its caret column inside it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockeye::text;

fuzz_target!(|data: &[u8]| {
    let clean = |s: &str| !s.chars().any(char::is_control);
    let escaped = text::escape_bytes(data);
    assert!(clean(&escaped), "{escaped:?}");
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(text::escape(s), escaped);
    let at = data.first().map_or(0, |b| usize::from(*b) * s.len() / 255);
    for max in [8, 40, 80] {
        let (window, col) = text::excerpt(s, at, max);
        assert!(clean(&window), "{window:?}");
        let chars = window.chars().count();
        assert!(col <= chars, "{col} > {chars}");
        // Escapes may lengthen what is kept (up to 10 characters for one C1 code point).
        assert!(chars <= (max + 2) * 10, "{chars} characters for max {max}");
    }
});
