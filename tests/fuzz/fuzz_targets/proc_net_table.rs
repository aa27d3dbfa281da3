//! Fuzz a /proc/net socket table (tcp, tcp6, udp, udp6 or unix, picked by the first byte), unix also with a made-up netlink check: never a panic, never a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sockeye::collect::fuzz::proc_net_table(data);
});
