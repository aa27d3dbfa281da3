//! Kernel bytecode: compiled programs, audit, disassembly, explain.

use super::*;

fn ne16(v: u16) -> [u8; 2] {
    v.to_ne_bytes()
}

fn hostcond(code: u8, fam: u8, plen: u8, port: i32, addr: &[u8]) -> Vec<u8> {
    let oplen = 12 + addr.len();
    let mut v = vec![code, oplen as u8];
    v.extend_from_slice(&ne16(oplen as u16 + 4));
    v.extend_from_slice(&[fam, plen, 0, 0]);
    v.extend_from_slice(&port.to_ne_bytes());
    v.extend_from_slice(addr);
    v
}

fn jmp(no: u16) -> Vec<u8> {
    let mut v = vec![bytecode::JMP, 4];
    v.extend_from_slice(&ne16(no));
    v
}

#[test]
fn bytecode_port_equal() {
    let bc = f("dport = :443").bytecode().unwrap();
    assert_eq!(bc, hostcond(bytecode::D_COND, 0, 0, 443, &[0; 4]));
    assert!(bytecode::audit(&bc));
}

#[test]
fn bytecode_port_ranges_and_not() {
    let bc = f("sport >= :1024").bytecode().unwrap();
    let mut want = vec![bytecode::S_GE, 8];
    want.extend_from_slice(&ne16(12));
    want.extend_from_slice(&[0, 0]);
    want.extend_from_slice(&ne16(1024));
    assert_eq!(bc, want);
    // '>' is not '<=': the compare, then JMP {4, 8}.
    let bc = f("dport > :1024").bytecode().unwrap();
    let mut want = vec![bytecode::D_LE, 8];
    want.extend_from_slice(&ne16(12));
    want.extend_from_slice(&[0, 0]);
    want.extend_from_slice(&ne16(1024));
    want.extend(jmp(8));
    assert_eq!(bc, want);
    assert!(bytecode::audit(&bc));
}

#[test]
fn bytecode_and_or() {
    // or: A, JMP {4, len(B)+4}, B.
    let bc = f("dport = :80 or dport = :443").bytecode().unwrap();
    let mut want = hostcond(bytecode::D_COND, 0, 0, 80, &[0; 4]);
    want.extend(jmp(20));
    want.extend(hostcond(bytecode::D_COND, 0, 0, 443, &[0; 4]));
    assert_eq!(bc, want);
    assert!(bytecode::audit(&bc));
    // and: A with its false exit patched past B.
    let bc = f("src 127.0.0.1 and sport = :22").bytecode().unwrap();
    let mut a = hostcond(
        bytecode::S_COND,
        libc::AF_INET as u8,
        32,
        -1,
        &[127, 0, 0, 1],
    );
    a[2..4].copy_from_slice(&ne16(20 + 16));
    a.extend(hostcond(bytecode::S_COND, 0, 0, 22, &[0; 4]));
    assert_eq!(bc, a);
    assert!(bytecode::audit(&bc));
}

#[test]
fn bytecode_ipv6_prefix() {
    let bc = f("dst [fe80::/10]:22").bytecode().unwrap();
    let mut addr = [0u8; 16];
    addr[0] = 0xfe;
    addr[1] = 0x80;
    assert_eq!(
        bc,
        hostcond(bytecode::D_COND, libc::AF_INET6 as u8, 10, 22, &addr)
    );
    assert!(bytecode::audit(&bc));
}

#[test]
fn bytecode_runs_like_userspace() {
    let socks = [
        tcp(TcpState::Established, "127.0.0.1", 5000, "127.0.0.1", 80),
        tcp(TcpState::Listen, "0.0.0.0", 22, "0.0.0.0", 0),
        tcp(TcpState::Listen, "::", 8080, "::", 0),
        tcp(
            TcpState::Established,
            "::ffff:127.0.0.1",
            8080,
            "::ffff:127.0.0.1",
            4444,
        ),
        tcp(TcpState::Established, "::1", 7000, "::1", 7001),
    ];
    for e in [
        "dport = :80",
        "not dport = :80",
        "sport > :1000 and not ( dst 127.0.0.1 or dport < :100 )",
        "src 127.0.0.1 or src [::1] or sport = :22",
        "( sport = :22 or sport = :8080 ) ( dst * )",
        "src [::ffff:127.0.0.1]",
        "dport != :4444 ! src 127.0.0.0/8",
    ] {
        let fl = f(e);
        let bc = fl.bytecode().unwrap();
        assert!(bytecode::audit(&bc), "{e}");
        for s in &socks {
            let entry = Entry::from_socket(s).unwrap();
            assert_eq!(
                bytecode::run(&bc, &entry),
                eval::eval(fl.expr().unwrap(), s),
                "{e} on {s:?}"
            );
        }
    }
}

#[test]
fn audit_rejects_bad_programs() {
    assert!(!bytecode::audit(&[]));
    assert!(!bytecode::audit(&[bytecode::JMP, 4, 3, 0]));
    assert!(!bytecode::audit(&[99, 4, 8, 0]));
    let mut bc = f("dport = :80").bytecode().unwrap();
    bc.truncate(12);
    assert!(!bytecode::audit(&bc));
}

#[test]
fn disassembly() {
    let fl = f("dport = :80 or not src 10.0.0.0/8");
    let lines = bytecode::disassemble(&fl.bytecode().unwrap());
    assert_eq!(lines.len(), 4);
    assert!(lines[0].contains("D_COND") && lines[0].contains("port 80"));
    assert!(lines[1].contains("JMP") && lines[1].contains("goto accept"));
    assert!(lines[2].contains("S_COND") && lines[2].contains("10.0.0.0/8"));
    assert!(lines[3].contains("JMP") && lines[3].contains("goto reject"));
}

#[test]
fn explain_text() {
    let x = f("state established dport = :443 or dport = :80").explain(false, false);
    assert!(
        x.starts_with("expression: ((dport = :443) or (dport = :80))\n"),
        "{x}"
    );
    assert!(x.contains("states:     established (from the state/exclude clauses)"));
    assert!(x.contains("bytecode:   36 bytes"));
    assert!(x.contains("D_COND"));
    assert!(x.contains("userspace:"));
    let y = f("").explain(true, false);
    assert!(
        y.contains("listening closed") || y.contains("closed listening"),
        "{y}"
    );
    assert!(y.contains("default for -l"));
    let z = f("src /tmp/*").explain(false, true);
    assert!(z.contains("bytecode:   none"));
}
