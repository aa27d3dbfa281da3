//! Text from outside (process names, socket paths, container names, file contents, requests)
//! is untrusted: before it reaches a terminal or a line-oriented output it is escaped here,
//! so it can neither send escape sequences nor forge a line. JSON output does not use this:
//! serde_json escapes exactly. Also the one way to write a line to stderr, which never panics.
//!
//! The escaping (documented in the man page and README):
//! - `\` becomes `\\`, so an escaped text is unambiguous;
//! - `\n`, `\r`, `\t` are written as those two-character escapes;
//! - every other control character (C0, DEL, C1 U+0080..U+009F) becomes `\xNN` (or `\u{NNNN}`
//!   for C1 code points, which are more than one byte in UTF-8);
//! - the invisible characters that reorder or hide text (bidirectional overrides, embeddings,
//!   isolates and marks; zero-width spaces and joiners; the byte-order mark) become
//!   `\u{NNNN}`: a process named with U+202E would otherwise print reversed, and one with a
//!   zero-width space would look like another process;
//! - everything else, including non-ASCII letters, is kept.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;

/// True when `c` must not reach a terminal as itself.
fn needs_escape(c: char) -> bool {
    c == '\\' || c.is_control() || is_invisible(c)
}

/// Format characters that change how the text around them is shown without being seen:
/// bidirectional controls (U+061C, U+200E/F, U+202A..U+202E, U+2066..U+2069) and zero-width
/// characters (U+200B..U+200D, U+2060, U+FEFF).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// `s` with control characters and backslashes escaped (see the module docs). Borrows when
/// nothing needs escaping, which is the common case.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Bytes that may not be UTF-8 (process names, unix paths), escaped: invalid bytes become
/// `\xNN` too, so nothing is lost or replaced silently.
pub fn escape_bytes(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => escape(s),
        Err(_) => {
            let mut out = String::with_capacity(b.len() + 8);
            for chunk in b.utf8_chunks() {
                for c in chunk.valid().chars() {
                    push_escaped(&mut out, c);
                }
                for byte in chunk.invalid() {
                    let _ = write!(out, "\\x{byte:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 && c.is_control() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if c.is_control() || is_invisible(c) => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// A backstop for whole messages (errors, notices) whose untrusted parts were escaped where
/// they were formatted: any control character still present except the newlines that
/// separate a message's own lines (a filter error's caret line) is escaped. Backslashes are
/// left alone, so parts escaped already are not escaped twice.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| (c.is_control() && c != '\n') || is_invisible(c))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\n' || !(c.is_control() || is_invisible(c)) {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    Cow::Owned(out)
}

/// A short, escaped window of `text` around byte offset `at`, for error messages that point
/// at a spot in a long input (a filter, a config value): at most about `max` characters, with
/// `…` where text was cut. Returns the window and the column (in characters) of `at` within
/// it, for a caret line. Never echoes the whole input.
pub fn excerpt(text: &str, at: usize, max: usize) -> (String, usize) {
    let at = floor_char_boundary(text, at.min(text.len()));
    let max = max.max(8);
    let before: Vec<char> = text[..at].chars().rev().take(max / 2 + 1).collect();
    let cut_before = before.len() > max / 2;
    let before: String = before.into_iter().take(max / 2).rev().collect();
    let after_all = &text[at..];
    let after: String = after_all.chars().take(max - max / 2).collect();
    let cut_after = after.len() < after_all.len();

    let mut out = String::new();
    if cut_before {
        out.push('…');
    }
    out.push_str(&escape(&before));
    let column = out.chars().count();
    out.push_str(&escape(&after));
    if cut_after {
        out.push('…');
    }
    (out, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Write `sockeye: MSG` and a newline to stderr. A failed write (closed or full stderr) is
/// ignored: there is nowhere left to report it, and it must never panic as `eprintln!` does.
/// `msg` should already be escaped where it holds untrusted text; control characters other
/// than its own newlines are escaped here as a backstop.
pub fn stderr_line(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "sockeye: {}", escape_controls(msg));
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(
            escape("nginx: worker"),
            Cow::Borrowed("nginx: worker")
        ));
        assert_eq!(escape("café/ñ"), "café/ñ");
    }

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        assert_eq!(escape("a\x1b]0;owned\x07b"), "a\\x1b]0;owned\\x07b");
        assert_eq!(escape("x\ny\rz\t"), "x\\ny\\rz\\t");
        assert_eq!(escape("\x7f"), "\\x7f");
        assert_eq!(escape("\u{9b}2J"), "\\u{009b}2J");
        assert_eq!(escape("a\\nb"), "a\\\\nb");
        assert!(!escape("\x00\x01\x1f\u{85}").chars().any(|c| c.is_control()));
    }

    #[test]
    fn characters_that_reorder_or_hide_text_are_shown_as_escapes() {
        // "exe.live" shown reversed after U+202E; "ss\u{200b}hd" looks like sshd.
        assert_eq!(escape("\u{202e}evil.exe"), "\\u{202e}evil.exe");
        assert_eq!(escape("ss\u{200b}hd"), "ss\\u{200b}hd");
        assert_eq!(
            escape("\u{2067}a\u{2069}\u{feff}\u{61c}"),
            "\\u{2067}a\\u{2069}\\u{feff}\\u{061c}"
        );
        assert_eq!(escape_controls("name \u{202d}x"), "name \\u{202d}x");
        // Letters of right-to-left scripts are text, not controls.
        assert!(matches!(escape("שלום سلام"), Cow::Borrowed(_)));
    }

    #[test]
    fn messages_keep_their_lines_but_lose_control_characters() {
        assert_eq!(
            escape_controls("bad filter\n  ^ here"),
            "bad filter\n  ^ here"
        );
        assert_eq!(escape_controls("path a\\x1b\x1b[2J"), "path a\\x1b\\x1b[2J");
        assert_eq!(escape_controls("tab\there\r"), "tab\\there\\r");
    }

    #[test]
    fn invalid_utf8_is_kept_as_hex() {
        assert_eq!(escape_bytes(b"ab\xffc\n"), "ab\\xffc\\n");
        assert_eq!(escape_bytes(b"ok"), "ok");
    }

    #[test]
    fn excerpt_is_bounded_and_points_at_the_spot() {
        let long = "(".repeat(10_000) + "x";
        let (w, col) = excerpt(&long, 10_000, 40);
        assert!(w.chars().count() <= 42, "{w}");
        assert_eq!(w.chars().nth(col), Some('x'));
        let (w, col) = excerpt("sport = :99999", 9, 40);
        assert_eq!(w, "sport = :99999");
        assert_eq!(col, 9);
        let (w, col) = excerpt("a\x1bb", 2, 40);
        assert_eq!(w, "a\\x1bb");
        assert_eq!(col, 5);
        let (w, _) = excerpt("ünï", 1, 40);
        assert_eq!(w, "ünï");
    }
}
