//! Fuzz the filter parser and the bytecode compiler: any input, as command-line words or as
//! a -F file, with or without -x, must parse or fail with a message — never panic — and any
//! bytecode produced must pass the kernel's audit rules and run without panicking.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use sockeye::filter::{Filter, ParseOptions, bytecode};
use sockeye::model::{Endpoint, Netid, Socket, TcpState};

fn socket(local: IpAddr, lport: u16, peer: IpAddr, pport: u16) -> Socket {
    Socket::new(
        Netid::Tcp,
        TcpState::Established,
        Endpoint::Inet {
            addr: local,
            port: lport,
        },
        Endpoint::Inet {
            addr: peer,
            port: pport,
        },
    )
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let unix = text.len() % 2 == 1;
    let opts = ParseOptions {
        unix,
        ..ParseOptions::default()
    };
    let words: Vec<String> = text.split('\u{1f}').map(str::to_string).collect();
    let socks = [
        socket(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            22,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            40000,
        ),
        socket(
            IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()),
            8080,
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            0,
        ),
    ];
    for parsed in [
        Filter::parse_with(&words, opts),
        Filter::parse_text_with(text, opts),
    ] {
        match parsed {
            Ok(f) => {
                let _ = f.explain(false, true);
                if let Some(bc) = f.bytecode() {
                    assert!(bytecode::audit(&bc), "compiled bytecode fails the audit");
                    let _ = bytecode::disassemble(&bc);
                }
                for s in &socks {
                    let _ = f.matches(s);
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
