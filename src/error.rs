//! Errors that decide the exit status, and the one table of exit statuses (the man page's
//! EXIT STATUS section is generated from it).

/// A mistake in what the user typed: exit status 2. The message is complete (may span lines,
/// e.g. a filter error with a caret under the offending word).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Every exit status sockeye uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    Usage = 2,
}

impl Exit {
    pub const ALL: [Exit; 3] = [Exit::Success, Exit::Failure, Exit::Usage];

    pub fn code(self) -> u8 {
        self as u8
    }

    /// What the status means, for the man page.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Success => {
                "Success. A closed output pipe (sockeye dump | head -1) is a normal end, and so \
                 is quitting the live view (q, SIGINT, SIGTERM, SIGHUP) or stopping the \
                 exporter (SIGINT, SIGTERM)."
            }
            Exit::Failure => {
                "A runtime failure: the kernel or the file system refused something, no demo \
                 is running for attach, an address is in use."
            }
            Exit::Usage => {
                "A usage error, in every command alike: a bad flag or value, a filter that does \
                 not parse or selects nothing, a filter file (-F) that is missing, unreadable \
                 or not a regular file, a bad configuration file, or the live view asked for \
                 without a terminal."
            }
        }
    }

    /// The status for an error that reached the top.
    pub fn of(err: &anyhow::Error) -> Exit {
        if err.chain().any(|e| e.is::<UsageError>()) {
            Exit::Usage
        } else {
            Exit::Failure
        }
    }
}

/// The one documented exception to [`Exit`]: `sockeye check` exits as a monitoring plugin
/// (Nagios/Icinga) does, so cron, CI and monitoring systems can read its status directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum CheckExit {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    /// Could not check: usage errors included (clap's and sockeye's), and runtime failures.
    Unknown = 3,
}

impl CheckExit {
    pub const ALL: [CheckExit; 4] = [
        CheckExit::Ok,
        CheckExit::Warning,
        CheckExit::Critical,
        CheckExit::Unknown,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    /// What the status means, for the man page.
    pub fn meaning(self) -> &'static str {
        match self {
            CheckExit::Ok => "check: nothing found.",
            CheckExit::Warning => "check: at least one warning, nothing critical.",
            CheckExit::Critical => "check: at least one critical finding.",
            CheckExit::Unknown => {
                "check: could not check: a usage error (bad flag, filter or configuration) \
                 or a runtime failure."
            }
        }
    }
}

/// Exit status for an error that reached the top.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    Exit::of(err).code()
}

/// True when the error is a closed pipe (`sockeye dump | head -1`): a normal end. A
/// serde_json error hides its io::Error from the chain (its `source` is the io error's own
/// source), so it is asked directly: `check --json | true` said "sockeye: Broken pipe".
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().map(|io| io.kind()) == pipe
            || e.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == pipe
    })
}

/// The one line (or, for filter errors, the few lines) a user sees for `err`: its context
/// chain, without the " (os error N)" that `std::io::Error` appends — the text before it
/// already says what went wrong — and without a cause its context already quotes (an error
/// whose message ends with its `source`'s text would otherwise say it twice). Words longer
/// than [`LONGEST_WORD`] are shortened: a message never echoes megabytes of an argument.
pub fn user_message(err: &anyhow::Error) -> String {
    let mut full = String::new();
    for cause in err.chain() {
        let text = without_os_error(&cause.to_string());
        if text.is_empty() || full.ends_with(&text) {
            continue;
        }
        if !full.is_empty() {
            full.push_str(": ");
        }
        full.push_str(&text);
    }
    let out = shorten_words(&full).into_owned();
    // Untrusted parts were escaped where they were formatted; this is the backstop for any
    // that were not (a kernel or library message quoting a path, say).
    match crate::text::escape_controls(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

fn without_os_error(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut rest = full;
    while let Some(at) = rest.find(" (os error ") {
        let tail = &rest[at + " (os error ".len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(')') {
            out.push_str(&rest[..at]);
            rest = &tail[digits + 1..];
        } else {
            out.push_str(&rest[..at + 1]);
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The longest run of non-blank characters an error message shows whole (a long path fits).
pub const LONGEST_WORD: usize = 240;

/// `msg` with every run of non-blank characters longer than [`LONGEST_WORD`] cut to its start
/// and end around a `…`: what the user typed stays recognisable, the message stays a line.
pub fn shorten_words(msg: &str) -> std::borrow::Cow<'_, str> {
    let long = msg
        .split(char::is_whitespace)
        .any(|w| w.chars().nth(LONGEST_WORD).is_some());
    if !long {
        return std::borrow::Cow::Borrowed(msg);
    }
    let mut out = String::with_capacity(msg.len().min(4096));
    let mut word = String::new();
    for c in msg.chars().chain(std::iter::once(' ')) {
        if !c.is_whitespace() {
            word.push(c);
            continue;
        }
        out.push_str(&shorten(&word, LONGEST_WORD));
        word.clear();
        out.push(c);
    }
    out.pop();
    std::borrow::Cow::Owned(out)
}

/// `s` itself when at most `max` characters, else its first and last characters around `…`
/// (`max` in all).
fn shorten(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let n = s.chars().count();
    if n <= max {
        return std::borrow::Cow::Borrowed(s);
    }
    let tail = max / 3;
    let head = max.saturating_sub(tail + 1);
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    std::borrow::Cow::Owned(out)
}

/// A value the user typed, for a message: control characters escaped, at most about 80
/// characters (`…` in the middle of a longer one).
pub fn shown_value(s: &str) -> String {
    shorten(&crate::text::escape(s), 80).into_owned()
}

/// A number the user typed, for a message: as typed for ordinary magnitudes, in exponent
/// form for others (`1e-300`, not three hundred zeros).
pub fn shown_number(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() || a == 0.0 || (1e-6..1e15).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// `e` with the values it quotes from the command line (an unknown argument, a bad value, a
/// suggestion built from them) escaped and shortened as [`shown_value`]: clap prints them
/// raw, so `--view $'\e]0;…'` would reach the terminal as an escape sequence, and a 100 KB
/// argument would be echoed whole, several times.
pub fn escaped_clap_error(mut e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    // A styled text is rebuilt plain only when it holds something to escape or cut, so the
    // common case keeps clap's styles.
    let styled = |v: &clap::builder::StyledStr| {
        let plain = v.to_string();
        let shown = shown_value(&plain);
        match shown == plain {
            true => v.clone(),
            false => clap::builder::StyledStr::from(shown),
        }
    };
    let changed: Vec<_> = e
        .context()
        // Only what holds the user's words; the usage line, valid values and suggested
        // names are clap's own (and keep their styles).
        .filter(|(kind, _)| {
            matches!(
                kind,
                ContextKind::InvalidArg
                    | ContextKind::InvalidValue
                    | ContextKind::InvalidSubcommand
                    | ContextKind::Suggested
                    | ContextKind::Custom
            )
        })
        .filter_map(|(kind, value)| {
            let new = match value {
                ContextValue::String(v) => ContextValue::String(shown_value(v)),
                ContextValue::Strings(vs) => {
                    ContextValue::Strings(vs.iter().map(|v| shown_value(v)).collect())
                }
                ContextValue::StyledStr(v) => ContextValue::StyledStr(styled(v)),
                ContextValue::StyledStrs(vs) => {
                    ContextValue::StyledStrs(vs.iter().map(styled).collect())
                }
                _ => return None,
            };
            (new != *value).then_some((kind, new))
        })
        .collect();
    for (kind, value) in changed {
        e.insert(kind, value);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_are_one_table() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2]);
        let check: Vec<u8> = CheckExit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(check, [0, 1, 2, 3]);
        let usage = anyhow::Error::new(UsageError("bad".into())).context("reading flags");
        assert_eq!(exit_code(&usage), Exit::Usage.code());
        assert_eq!(exit_code(&anyhow::anyhow!("kernel said no")), 1);
        // clap reports its own usage errors with the same status.
        assert_eq!(
            Exit::Usage.code() as i32,
            clap::error::Error::<clap::error::DefaultFormatter>::new(
                clap::error::ErrorKind::UnknownArgument
            )
            .exit_code()
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read {path}: {source}")]
    struct Quoting {
        path: String,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_its_context_already_quotes_is_said_once() {
        // `dump --from FIFO` said "…: it is a FIFO, not a regular file: it is a FIFO, not a
        // regular file": the error's text ends with its source's, and the chain adds it again.
        let io = std::io::Error::other("it is a FIFO, not a regular file");
        let err = anyhow::Error::new(Quoting {
            path: "f".into(),
            source: io,
        });
        assert_eq!(
            user_message(&err),
            "cannot read f: it is a FIFO, not a regular file"
        );
        let io = std::io::Error::from_raw_os_error(libc::ENOENT);
        let err = anyhow::Error::new(Quoting {
            path: "f".into(),
            source: io,
        })
        .context("replay");
        assert_eq!(
            user_message(&err),
            "replay: cannot read f: No such file or directory"
        );
    }

    #[test]
    fn long_words_are_shortened_and_short_ones_kept() {
        let long = "a".repeat(100_000);
        let msg = user_message(&anyhow::anyhow!("bad time \"{long}\" (RFC 3339)"));
        assert!(msg.chars().count() < 300, "{} chars", msg.len());
        assert!(
            msg.starts_with("bad time \"aaa") && msg.ends_with("aaa\" (RFC 3339)"),
            "{msg}"
        );
        assert!(msg.contains('…'));
        let path = format!("/{}", "p".repeat(200));
        let kept = format!("cannot read {path}: No such file or directory");
        assert_eq!(user_message(&anyhow::anyhow!("{kept}")), kept);
        assert_eq!(shorten_words("a  b\nc"), "a  b\nc");
    }

    #[test]
    fn a_closed_pipe_under_serde_json_is_a_closed_pipe() {
        let io = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let json = anyhow::Error::new(serde_json::Error::io(io)).context("printing");
        assert!(is_broken_pipe(&json));
        let other = serde_json::Error::io(std::io::Error::other("disk on fire"));
        assert!(!is_broken_pipe(&anyhow::Error::new(other)));
    }

    #[test]
    fn numbers_are_shown_briefly() {
        assert_eq!(shown_number(0.0), "0");
        assert_eq!(shown_number(0.05), "0.05");
        assert_eq!(shown_number(3601.0), "3601");
        assert_eq!(shown_number(f64::NAN), "NaN");
        assert_eq!(shown_number(f64::INFINITY), "inf");
        assert_eq!(shown_number(1e-300), "1e-300");
        assert_eq!(shown_number(1e300), "1e300");
        assert_eq!(shown_number(-2.5e-7), "-2.5e-7");
    }

    #[test]
    fn clap_errors_quote_values_escaped_and_short() {
        use clap::{Arg, Command};
        let cmd = || {
            Command::new("t").arg(
                Arg::new("view")
                    .long("view")
                    .value_parser(["states", "listeners"]),
            )
        };
        for bad in [
            "\x1b]0;pwn\x07X".to_string(),
            "x\ry\nz".into(),
            "v".repeat(50_000),
        ] {
            let e = cmd()
                .try_get_matches_from(["t", "--view", bad.as_str()])
                .unwrap_err();
            let shown = escaped_clap_error(e).render().ansi().to_string();
            let plain: String = shown.chars().filter(|c| *c != '\x1b').collect();
            assert!(shown.len() < 1000, "{} bytes", shown.len());
            // The only escapes left are clap's own styles (ESC [ … m).
            for (i, _) in shown.match_indices('\x1b') {
                assert!(shown[i..].starts_with("\x1b["), "{shown:?}");
            }
            assert!(
                !plain.contains('\r') && !plain.contains('\x07'),
                "{shown:?}"
            );
            assert_eq!(
                plain.lines().next().map(|l| l.contains("--view")),
                Some(true),
                "{shown:?}"
            );
        }
    }

    #[test]
    fn clap_errors_of_plain_words_render_as_clap_renders_them() {
        // The usage line and the valid values keep their text and styles, however long.
        use clap::CommandFactory;
        let cmd = crate::cli::Cli::command;
        for args in [
            &["sockeye", "dump", "--bogus"][..],
            &["sockeye", "tui", "--view", "nope"],
            &["sockeye", "dump", "--at", "+1s"],
            &["sockeye", "check", "--all-netns", "-N", "x"],
            &["sockeye", "nosuch"],
        ] {
            let e = cmd().try_get_matches_from(args).unwrap_err();
            let before = e.render().ansi().to_string();
            let after = escaped_clap_error(e).render().ansi().to_string();
            assert_eq!(after, before, "{args:?}");
        }
    }

    #[test]
    fn os_error_numbers_are_dropped_and_the_rest_kept() {
        let io = std::io::Error::from_raw_os_error(libc::ENOENT);
        let err = anyhow::Error::new(io).context("cannot read filter file /x");
        assert_eq!(
            user_message(&err),
            "cannot read filter file /x: No such file or directory"
        );
        let plain = anyhow::anyhow!("port (os error) stays (os error 12x) too");
        assert_eq!(
            user_message(&plain),
            "port (os error) stays (os error 12x) too"
        );
    }
}
