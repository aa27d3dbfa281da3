//! Configuration, files, environment, exit status, see also.

use clap_mangen::roff::{bold, italic, roman};

use super::Page;

pub(super) fn configuration(page: &mut Page) {
    page.section("CONFIGURATION")
        .para(
            "Settings come from the command line, then the configuration file, then the \
             defaults: a flag always wins over the file. The file sets the live view's \
             default view and interval, the queue highlight thresholds, the socket table's \
             columns, the theme colors, the key bindings, the findings' thresholds \
             ([findings]) and whether the live view may close sockets ([tui] read_only). \
             Every key is optional. A file \
             that cannot be read or parsed, or that holds an unknown key or a bad value, is an \
             error naming the file, the line and the key (exit status 2; 3 from sockeye \
             check, which exits as a monitoring plugin); it is never silently ignored. It must be a regular file of at most 1 MiB. --no-config skips the file. \
             The file's numeric key applies to dump too (as -n).",
        )
        .para(&format!(
            "columns under [view] lists the socket table's columns in order; the names are: \
             {}. The s key cycles the sort through the columns shown.",
            crate::output::columns::Column::names()
        ))
        .para_inlines(vec![
            roman("The commented default file is printed by "),
            bold("sockeye config --print-default"),
            roman(", and the path sockeye reads by "),
            bold("sockeye config --path"),
            roman(". It reads:"),
        ]);
    let sample: Vec<&str> = crate::config::DEFAULT_CONFIG.lines().collect();
    page.verbatim(&sample);
}

pub(super) fn files(page: &mut Page) {
    page.section("FILES")
        .item(
            "$XDG_CONFIG_HOME/sockeye/config.toml",
            "The configuration file; ~/.config/sockeye/config.toml when XDG_CONFIG_HOME is \
             unset or empty.",
        )
        .item(
            "$XDG_RUNTIME_DIR/sockeye/demo.sock",
            "The control socket of a running demo (directory mode 0700, socket mode 0600); \
             /tmp/sockeye-UID/demo.sock when XDG_RUNTIME_DIR is unset.",
        )
        .item(
            "/proc/net/tcp, tcp6, udp, udp6, unix",
            "The socket tables read by --source proc, and by --source auto when netlink \
             sock_diag is unavailable or refused mid-dump. A unix socket path holding a \
             newline cannot add rows: lines it prints are read back into the path (shown \
             as \\n), checked against netlink where it works. Connections still waiting in a \
             unix listener's queue are not listed, as netlink never lists them.",
        )
        .item(
            "/proc/net/netstat, /proc/net/snmp, /proc/net/sockstat",
            "Kernel counters: ListenOverflows, ListenDrops, RetransSegs, syncookies, \
             TCPAbortOnMemory and the socket totals; /proc/net/snmp6 for Udp6 (RcvbufErrors \
             is UDP and UDP6 summed).",
        )
        .item(
            "/proc/PID/fd",
            "Scanned to find the processes owning each socket (-p). Without privileges, \
             other users' processes cannot be seen.",
        )
        .item("/etc/services", "Port names, unless -n is given.");
}

pub(super) fn environment(page: &mut Page) {
    page.section("ENVIRONMENT")
        .item(
            "NO_COLOR",
            "When set to a non-empty value, the live view uses no colors: bold, underline and \
             reverse video mark what colors would.",
        )
        .item(
            "XDG_CONFIG_HOME",
            "Where the configuration directory is; ~/.config when unset or empty.",
        )
        .item("HOME", "Used to find ~/.config.")
        .item(
            "XDG_RUNTIME_DIR",
            "Where the demo's control socket lives (in a sockeye subdirectory); \
             /tmp/sockeye-UID when unset.",
        )
        .item(
            "TCPDIAG_FILE",
            "dump reads its TCP sockets from this file instead of the kernel: netlink \
             sock_diag answers as ss -D and sockeye dump -D write them (every dump in the file \
             is read; ss stops at the first). Filters, states, -e -i -m --tos, the table and \
             --json apply; processes are not attributed. A damaged file is refused with its \
             byte offset, exit status 1.",
        )
        .item(
            "SOCKEYE_TRACE",
            "A file the live view appends one line of timings to per refresh (collection \
             steps, preparation steps, apply, render, in milliseconds, and the resident \
             memory in MiB), for benchmarks. Unset: nothing is written. It must be a \
             regular file (created when missing): a FIFO, a device or a directory is refused \
             and nothing is traced.",
        );
}

pub(super) fn exit_status(page: &mut Page) {
    page.section("EXIT STATUS");
    // From the one table the program exits by.
    for exit in crate::error::Exit::ALL {
        page.item(&exit.code().to_string(), exit.meaning());
    }
    page.para(
        "The one exception: sockeye check exits as a monitoring plugin (Nagios, Icinga) \
         does, so cron, CI and monitoring systems read its status directly:",
    );
    for exit in crate::error::CheckExit::ALL {
        page.item(&exit.code().to_string(), exit.meaning());
    }
}

pub(super) fn see_also(page: &mut Page) {
    page.section("SEE ALSO").para_inlines(vec![
        bold("ss"),
        roman("(8), "),
        bold("netstat"),
        roman("(8), "),
        bold("tcp"),
        roman("(7), "),
        bold("udp"),
        roman("(7), "),
        bold("unix"),
        roman("(7), "),
        bold("sock_diag"),
        roman("(7), "),
        bold("proc"),
        roman("(5), "),
        italic("https://no-color.org"),
    ]);
}
