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

/// True when the error is a closed pipe (`sockeye dump | head -1`): a normal end.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The one line (or, for filter errors, the few lines) a user sees for `err`: its context
/// chain, without the " (os error N)" that `std::io::Error` appends — the text before it
/// already says what went wrong.
pub fn user_message(err: &anyhow::Error) -> String {
    let full = format!("{err:#}");
    let mut out = String::with_capacity(full.len());
    let mut rest = full.as_str();
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
    // Untrusted parts were escaped where they were formatted; this is the backstop for any
    // that were not (a kernel or library message quoting a path, say).
    match crate::text::escape_controls(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
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
