//! Fuzz an fd link target, a pid directory name and a /proc/PID/stat file: never a panic, never a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sockeye::collect::fuzz::proc_process_files(data);
});
