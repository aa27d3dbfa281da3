//! Fuzz the TCPDIAG_FILE reader (the `ss -D` format) on arbitrary files: it returns a
//! socket list or an error naming an offset, never panics, never loops.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sockeye::collect::fuzz::tcpdiag_file(data);
});
