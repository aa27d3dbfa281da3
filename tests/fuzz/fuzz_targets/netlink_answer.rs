//! Fuzz a sock_diag answer (datagrams split at FF FF FF FF) for the table the first byte picks: never a panic, never a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sockeye::collect::fuzz::netlink_answer(data);
});
