//! Fuzz the exporter's HTTP request parser: any bytes must give a head, "need more", or a
//! refusal with one of the statuses the server sends — never a panic — and the verdict
//! must not depend on how the bytes were split across reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockeye::export::request::{MAX_HEAD, Parse, parse};
use sockeye::export::response::{self, Route};

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(Parse::Complete(head, used)) => {
            assert!(used > 0 && used <= data.len().min(MAX_HEAD), "used {used}");
            // A server reading in pieces sees every shorter prefix as incomplete.
            let cut = usize::from(data.first().copied().unwrap_or(0)) % used;
            assert_eq!(parse(&data[..cut]), Ok(Parse::Partial), "prefix of {cut}");
            if let Route::Now(r) = response::route(&head) {
                let _ = r.encode(false, true);
            }
        }
        Ok(Parse::Partial) => assert!(data.len() < MAX_HEAD, "a full buffer must be judged"),
        Err(r) => assert!(
            [400, 414, 431, 505].contains(&r.status),
            "status {}",
            r.status
        ),
    }
});
