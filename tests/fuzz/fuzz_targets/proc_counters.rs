//! Fuzz /proc/net/snmp, netstat, sockstat{,6} and /proc/sys/net values: never a panic, never a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sockeye::collect::fuzz::proc_counters(data);
});
