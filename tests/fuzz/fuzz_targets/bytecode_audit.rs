//! Fuzz the bytecode tools on arbitrary programs: the audit, the interpreter and the
//! disassembler never panic, and a program that passes the audit always terminates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockeye::filter::bytecode::{self, Entry};

fuzz_target!(|data: &[u8]| {
    let entry = Entry {
        family: libc_af(data),
        saddr: [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        daddr: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1],
        sport: 22,
        dport: 40000,
        ifindex: 1,
        autobound: data.len() % 2 == 0,
    };
    let _ = bytecode::audit(data);
    let _ = bytecode::run(data, &entry);
    let _ = bytecode::disassemble(data);
});

fn libc_af(data: &[u8]) -> u8 {
    if data.first().is_some_and(|b| b & 1 == 1) {
        10
    } else {
        2
    }
}
