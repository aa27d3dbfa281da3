//! `--explain`: how the filter was understood and what the kernel is asked.

use std::fmt::Write;

use super::{FamilyOnly, Filter, bytecode, state};

pub fn explain(f: &Filter, listening: bool, all: bool) -> String {
    let mut out = String::new();
    let states = f.states(listening, all);
    let _ = writeln!(
        out,
        "expression: {}",
        f.expr_text()
            .unwrap_or_else(|| "none (every socket in the selected states)".to_string())
    );
    let origin = match (f.explicit_states(), all, listening) {
        (Some(_), _, _) => "from the state/exclude clauses",
        (None, true, _) => "default for -a",
        (None, false, true) => "default for -l",
        (None, false, false) => "default: connected sockets except time-wait and syn-recv",
    };
    let _ = writeln!(out, "states:     {} ({origin})", state::names(states));
    let _ = writeln!(out, "            kernel states mask 0x{:03x}", states.0);
    match f.family_only() {
        Some(FamilyOnly::V4) => out.push_str("families:   IPv4 only (an operand says inet:)\n"),
        Some(FamilyOnly::V6) => out.push_str("families:   IPv6 only (an operand says inet6:)\n"),
        Some(FamilyOnly::Unix) => {
            out.push_str("families:   unix only (an operand is a unix path pattern)\n")
        }
        Some(FamilyOnly::Link) => {
            out.push_str("families:   packet only (an operand is a link: condition)\n")
        }
        Some(FamilyOnly::Netlink) => {
            out.push_str("families:   netlink only (an operand is a netlink: condition)\n")
        }
        None => {}
    }
    match (f.expr(), f.bytecode()) {
        (None, _) => out.push_str("bytecode:   none (no expression)\n"),
        (Some(_), None) => out.push_str(
            "bytecode:   none (the expression has a part the kernel cannot evaluate: \
             everything is filtered in userspace)\n",
        ),
        (Some(_), Some(bc)) => {
            let _ = writeln!(
                out,
                "bytecode:   {} bytes, sent with every TCP and UDP request \
                 (accept = offset {}, reject = offset {}):",
                bc.len(),
                bc.len(),
                bc.len() + 4
            );
            for line in bytecode::disassemble(&bc) {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    if f.expr()
        .is_some_and(|e| e.any_cond(&|c| matches!(c, super::Cond::Netns { .. })))
    {
        out.push_str(
            "netns:      a sockeye extension (ss has none), checked in userspace: the pattern \
             (a shell glob) is matched against each socket's namespace name, container name, \
             id and pod, and net:[INODE]; only sockets read with -N or --all-netns have one\n",
        );
    }
    if f.expr().is_some() {
        out.push_str(
            "userspace:  the whole expression is checked again on every socket the kernel \
             returns; unix sockets and the /proc source are filtered in userspace only\n",
        );
    } else {
        out.push_str("userspace:  only the state set is checked\n");
    }
    out
}
