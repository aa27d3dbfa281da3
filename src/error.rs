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
