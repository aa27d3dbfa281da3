//! The live view and its keys.

use super::Page;

pub(super) fn live_view(page: &mut Page) {
    page.section("LIVE VIEW")
        .para(
            "sockeye (or sockeye tui) opens a live view of the socket table, refreshed every \
             --interval seconds by a collector thread, so a key press never waits for a \
             collection. It needs a terminal; sockeye dump is its one-shot sibling over the \
             same data.",
        )
        .item(
            "Header",
            "Host, data source (and why it fell back to /proc), interval, live or paused, \
             the number of sockets; a count for every TCP state with TIME-WAIT and CLOSE-WAIT \
             emphasized and their recent history as sparklines; the per-refresh increase of \
             ListenOverflows, ListenDrops and RetransSegs; TIME-WAIT against \
             net.ipv4.tcp_max_tw_buckets and ephemeral ports in use against \
             net.ipv4.ip_local_port_range, with a warning as they near exhaustion.",
        )
        .item(
            "States view",
            "Sockets grouped by TCP state in lifecycle order (LISTEN, SYN-SENT, SYN-RECV, \
             ESTAB, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, CLOSING, TIME-WAIT), each \
             group collapsible with its count; UDP and unix sockets in groups of their own.",
        )
        .item(
            "Listeners view",
            "Each listening socket with its accept queue as a gauge (Recv-Q of Send-Q, red \
             when full, ? when the source cannot know the limit), its SYN-RECV and \
             established connections and the owning process; outbound connections grouped \
             by remote endpoint; TIME-WAIT and CLOSE-WAIT counts per group.",
        )
        .item(
            "Sockets view",
            "The flat table with ss's columns and the process, sortable by any column.",
        )
        .item(
            "Closed view",
            "The last 10,000 closed TCP connections, newest first, from the kernel's destroy \
             events (else from comparing snapshots, as the tab line says). With --all-netns \
             the events are followed in every network namespace, one subscription in each \
             (the kernel delivers a namespace's events only inside it; entering another \
             needs CAP_SYS_ADMIN): namespaces that appear are followed within 5 seconds, \
             vanished ones dropped, and a Netns column names each close's namespace.",
        )
        .item(
            "Read-only",
            "--read-only, or read_only = true under [tui] in the configuration file, \
             disables K (closing sockets): the key opens no prompt and says why it is \
             disabled. The file cannot undo the flag.",
        )
        .item(
            "Highlights",
            "Recv-Q and Send-Q are colored from the configured thresholds; CLOSE-WAIT rows \
             stand out, and a ! marks a connection with unread data. For one refresh, a + \
             marks a socket that appeared and a * one whose queues changed.",
        )
        .item(
            "Details",
            "The selected socket's timer, tcp_info, memory, cookie, uid and processes, with \
             byte rates between refreshes.",
        )
        .item(
            "Filter bar",
            "A filter that names hosts is resolved off the screen's thread: the bar says \
             so and the last good filter stays in force until the names resolve, or \
             for at most 5 seconds; Esc gives up. A paste arrives whole.",
        )
        .item(
            "Terminal",
            "The terminal is restored on every way out: q, errors, SIGINT, SIGTERM, SIGHUP \
             and SIGQUIT (after which sockeye dies of it). Ctrl-Z and SIGTSTP restore it and \
             stop; fg takes it again and redraws.",
        );

    keys(page);
}

/// The Keys subsection, from the bindings table: the rebindable keys at their defaults with
/// their names in the [keys] table, then the fixed ones.
pub(super) fn keys(page: &mut Page) {
    use crate::config::keys::{Binding, Key, KeyBindings, Show, entries};
    page.subsection("Keys").para(
        "The letter keys can be changed in the configuration file (the [keys] table, by the \
         names in parentheses); the defaults are:",
    );
    let defaults = KeyBindings::default();
    let rebindable = |b: &Binding| matches!(b.key, Key::Rebindable { .. });
    let label = |k: &KeyBindings, key: Key| match key {
        Key::Rebindable { name, .. } => {
            let c = k.char_of(key).unwrap_or(' ');
            format!("{} ({name})", String::from(crate::config::KeyChar(c)))
        }
        // Plain words: the arrows of the help overlay are not in groff's input set.
        Key::Up => "Up".into(),
        Key::Down => "Down".into(),
        Key::Left => "Left".into(),
        Key::Right => "Right".into(),
        Key::PageUp => "PageUp".into(),
        Key::PageDown => "PageDown".into(),
        Key::Wheel => "the mouse wheel".into(),
        other => k.label(other),
    };
    let pick = |want: bool| {
        move |b: &Binding| {
            if rebindable(b) == want {
                b.man
            } else {
                Show::Hidden
            }
        }
    };
    for (keys, text, _) in entries(&defaults, pick(true), label) {
        page.item(&keys, text);
    }
    page.para("Fixed keys, whatever the configuration says:");
    for (keys, text, _) in entries(&defaults, pick(false), label) {
        page.item(&keys, text);
    }
}
