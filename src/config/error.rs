//! The configuration file's errors: where in the text (line, key, an underlined excerpt of
//! the line) and what was wrong.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::UsageError;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config: cannot read {}: {source}", shown_path(path))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A syntax error, an unknown key or a bad value. `line` is 1-based; `snippet` shows the
    /// line with the offending part underlined.
    #[error("{}", render_invalid(path.as_deref(), *line, key.as_deref(), message, snippet))]
    Invalid {
        path: Option<PathBuf>,
        line: Option<usize>,
        key: Option<String>,
        message: String,
        snippet: String,
    },
}

impl ConfigError {
    pub(super) fn in_file(self, file: &Path) -> ConfigError {
        match self {
            ConfigError::Invalid {
                line,
                key,
                message,
                snippet,
                ..
            } => ConfigError::Invalid {
                path: Some(file.to_owned()),
                line,
                key,
                message,
                snippet,
            },
            other => other,
        }
    }

    /// The 1-based line of the problem, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Invalid { line, .. } => *line,
            ConfigError::Read { .. } => None,
        }
    }

    /// The dotted key at fault (`view.interval`), when known.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => key.as_deref(),
            ConfigError::Read { .. } => None,
        }
    }
}

/// A bad configuration file is a usage mistake: exit status 2.
impl From<ConfigError> for UsageError {
    fn from(e: ConfigError) -> UsageError {
        UsageError(e.to_string())
    }
}

fn render_invalid(
    path: Option<&Path>,
    line: Option<usize>,
    key: Option<&str>,
    message: &str,
    snippet: &str,
) -> String {
    let mut out = String::from("config: ");
    if let Some(path) = path {
        out.push_str(&shown_path(path));
    }
    if let Some(line) = line {
        out.push_str(&format!(
            "{}line {line}",
            if path.is_some() { ", " } else { "" }
        ));
    }
    if let Some(key) = key {
        out.push_str(&format!(", key '{}'", quote(key)));
    }
    out.push_str(": ");
    out.push_str(message);
    if !snippet.is_empty() {
        out.push('\n');
        out.push_str(snippet);
    }
    out
}

pub(super) fn invalid(
    text: &str,
    span: Option<Range<usize>>,
    key: Option<String>,
    message: &str,
) -> ConfigError {
    let (line, snippet) = match &span {
        Some(span) => {
            let (line, snippet) = snippet(text, span.clone());
            (Some(line), snippet)
        }
        None => (None, String::new()),
    };
    ConfigError::Invalid {
        path: None,
        line,
        key,
        // toml's messages end with a newline or span several lines; one line reads better.
        // They may quote the value (`invalid type: string "…"`): bounded, and control
        // characters escaped; not backslashes, or a value quoted (escaped) by our own
        // checks would read `'\\x1b'`.
        message: bounded_message(&message.trim().replace('\n', "; ")),
        snippet,
    }
}

/// Characters of a line shown around the error's spot (the file may hold a 50 MB value).
const WINDOW: usize = 80;
/// Characters of a message kept (toml's may quote a whole value).
const MAX_MESSAGE: usize = 240;
/// Characters of a value quoted in a message.
const MAX_QUOTE: usize = 40;

/// A path for a message: escaped (it comes from the environment).
fn shown_path(path: &Path) -> String {
    crate::text::escape(&path.display().to_string()).into_owned()
}

/// `s` escaped and cut to about `max` characters, with `…` where cut.
fn bounded(s: &str, max: usize) -> String {
    // The window is centred on the offset given: from the start, twice as wide.
    crate::text::excerpt(s, 0, 2 * max).0
}

/// A whole message cut to about [`MAX_MESSAGE`] characters, its control characters escaped.
fn bounded_message(s: &str) -> String {
    let s = crate::text::escape_controls(s);
    let keep = 2 * MAX_MESSAGE;
    let mut out: String = s.chars().take(keep).collect();
    if s.chars().nth(keep).is_some() {
        out.push('…');
    }
    out
}

/// A value or key quoted in a message: escaped, at most [`MAX_QUOTE`] characters.
pub(super) fn quote(s: &str) -> String {
    bounded(s, MAX_QUOTE)
}

/// The 1-based line holding `span.start`, and a window of that line around it (escaped, at
/// most [`WINDOW`] characters) with the span underlined.
pub(super) fn snippet(text: &str, span: Range<usize>) -> (usize, String) {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_no = text[..line_start].matches('\n').count() + 1;
    let line = text[line_start..line_end].trim_end_matches('\r');
    let at = (start - line_start).min(line.len());
    let (window, column) = crate::text::excerpt(line, at, WINDOW);
    let end = floor_char_boundary(
        line,
        span.end.saturating_sub(line_start).clamp(at, line.len()),
    );
    let spanned = crate::text::escape(&line[at..end]).chars().count();
    let room = window.chars().count().saturating_sub(column);
    let width = spanned.min(room).max(1);
    let gutter = line_no.to_string().len();
    let snippet = format!(
        "{:gutter$} | {window}\n{:gutter$} | {}{}",
        line_no,
        "",
        " ".repeat(column),
        "^".repeat(width)
    );
    (line_no, snippet)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The dotted path of the innermost key whose key or value holds the error's position, found
/// on the spanned parse tree (toml's errors carry a span but not the key).
pub(super) fn key_at(text: &str, span: Option<Range<usize>>) -> Option<String> {
    let at = span?.start;
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    let mut table = root.get_ref();
    'descend: loop {
        for (key, value) in table.iter() {
            let in_key = key.span().contains(&at);
            let in_value = value.span().contains(&at);
            if in_key || in_value {
                path.push(key.get_ref().to_string());
                if in_value && let Some(inner) = value.get_ref().as_table() {
                    table = inner;
                    continue 'descend;
                }
                break 'descend;
            }
        }
        // A table header `[view]`'s span may not cover its keys: search the keys' tables.
        let mut found = None;
        for (key, value) in table.iter() {
            if let Some(inner) = value.get_ref().as_table()
                && inner
                    .iter()
                    .any(|(k, v)| k.span().contains(&at) || v.span().contains(&at))
            {
                found = Some((key.get_ref().to_string(), inner));
                break;
            }
        }
        match found {
            Some((name, inner)) => {
                path.push(name);
                table = inner;
            }
            None => break,
        }
    }
    (!path.is_empty()).then(|| path.join("."))
}

/// For a syntax error (no parse tree): the `name =` on the error's line, under the last
/// `[table]` header above it.
pub(super) fn key_on_line(text: &str, span: Option<Range<usize>>) -> Option<String> {
    let at = floor_char_boundary(text, span?.start.min(text.len()));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let (name, _) = line.split_once('=')?;
    let name = name.trim();
    let bare = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    };
    if !bare(name) {
        return None;
    }
    let table = text[..line_start].lines().rev().find_map(|l| {
        let l = l.trim();
        let inner = l.strip_prefix('[')?.strip_suffix(']')?.trim();
        bare(inner).then(|| inner.to_owned())
    });
    Some(match table {
        Some(table) => format!("{table}.{name}"),
        None => name.to_owned(),
    })
}

/// The span of a dotted key's value in the text, when the file sets it.
pub(super) fn span_of(text: &str, dotted: &str) -> Option<Range<usize>> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let mut parts = dotted.split('.').peekable();
    while let Some(part) = parts.next() {
        let (_, value) = table.iter().find(|(k, _)| k.get_ref() == part)?;
        if parts.peek().is_none() {
            return Some(value.span());
        }
        table = value.get_ref().as_table()?;
    }
    None
}
