//! Tests that cannot run here (a tool is missing, root is needed) never pass silently.
//! Locally they skip with a line on the terminal (written past the test harness's capture,
//! so it shows even for a passing test); under CI (`CI` set, as .ci/run does) a missing tool
//! or missing root fails the test instead, since CI is meant to run everything.

use std::io::Write;
use std::path::{Path, PathBuf};

/// True under CI: `CI` is set to anything but empty, `0` or `false`.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE"))
}

/// The name of the running test (libtest names its threads after the test).
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string()
}

/// Say that the running test skips, where it is seen (not captured by the harness).
pub fn announce_skip(why: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "SKIPPED {}: {why}", test_name());
}

/// Skip (false) with a clear line locally, or fail under CI, when `available` is false.
pub fn require(available: bool, what: &str) -> bool {
    match decide(available, what, under_ci()) {
        Ok(Some(skip)) => {
            announce_skip(&skip);
            false
        }
        Ok(None) => true,
        Err(failure) => panic!("{failure}"),
    }
}

/// What `require` does: run (None), skip with this line, or fail with this message.
fn decide(available: bool, what: &str, ci: bool) -> Result<Option<String>, String> {
    match (available, ci) {
        (true, _) => Ok(None),
        (false, true) => Err(format!(
            "{what}; CI must run every test (a skip would pass silently)"
        )),
        (false, false) => Ok(Some(format!("{what} (under CI=true this fails)"))),
    }
}

/// `tool` on PATH, if there.
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// True when `tool` is installed. Otherwise skip locally (false) or fail under CI; `package`
/// names what to install.
pub fn require_tool(tool: &str, package: &str) -> bool {
    require(
        find_tool(tool).is_some(),
        &format!("{tool} is not installed (apt-get install {package})"),
    )
}

/// True as root. Otherwise skip locally with the reason (false), or fail under CI, which runs
/// as root.
pub fn require_root(why: &str) -> bool {
    require(super::is_root(), &format!("needs root ({why})"))
}

/// True when not root. A test of what an unprivileged user sees cannot run as root, so this
/// skips (false) with a clear line even under CI.
pub fn require_non_root(why: &str) -> bool {
    if !super::is_root() {
        return true;
    }
    announce_skip(&format!("needs a non-root user ({why})"));
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_found_on_path() {
        assert!(find_tool("sh").is_some());
        assert!(find_tool("no-such-tool-sockeye").is_none());
    }

    #[test]
    fn a_missing_tool_fails_under_ci_and_skips_otherwise() {
        let missing = find_tool("no-such-tool-sockeye").is_some();
        let fail = decide(missing, "x is not installed", true).unwrap_err();
        assert!(fail.contains("CI must run every test"), "{fail}");
        let skip = decide(missing, "x is not installed", false).unwrap();
        assert_eq!(
            skip.as_deref(),
            Some("x is not installed (under CI=true this fails)")
        );
        assert_eq!(decide(true, "x", true), Ok(None));
        assert!(require_tool("sh", "dash"));
    }
}
