//! Errors that decide the exit status. Everything else is a runtime failure (exit 1).

/// A mistake in what the user typed: exit status 2. The message is complete (may span lines,
/// e.g. a filter error with a caret under the offending word).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit status for an error that reached the top.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.chain().any(|e| e.is::<UsageError>()) {
        2
    } else {
        1
    }
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
