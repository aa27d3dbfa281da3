//! Filter errors: one message that quotes the offending word, the input line, and carets under
//! the word.

use std::borrow::Cow;
use std::fmt;

use crate::text::{escape, excerpt};

/// Where in the input an error points: the line as the user typed it and the character range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub line: String,
    /// Character (not byte) offset of the first marked character.
    pub col: usize,
    /// Number of characters marked (at least one caret is drawn).
    pub width: usize,
}

/// A filter the user typed that sockeye cannot accept. `Display` is the complete message,
/// possibly spanning three lines, without a leading `sockeye:`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FilterError {
    message: String,
    span: Option<Span>,
}

impl FilterError {
    pub(crate) fn at(message: impl Into<String>, span: Span) -> FilterError {
        FilterError {
            message: bounded(message.into()),
            span: Some(span),
        }
    }

    pub(crate) fn plain(message: impl Into<String>) -> FilterError {
        FilterError {
            message: bounded(message.into()),
            span: None,
        }
    }

    /// The one-line message without the input line and carets.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The input line and the marked range, when the error points into the input.
    pub fn span(&self) -> Option<&Span> {
        self.span.as_ref()
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter: {}", self.message)?;
        if let Some(span) = &self.span {
            let (line, col, width) = caret_window(span);
            write!(f, "\n  {line}\n  {}{}", " ".repeat(col), "^".repeat(width))?;
        }
        Ok(())
    }
}

/// Longest input line quoted whole under an error; longer lines are cut to a window of about
/// this many characters around the marked word, so a huge filter never echoes whole.
const WINDOW: usize = 80;
/// Longest user word quoted whole inside a message.
const WORD: usize = 40;
/// Cap on the message itself, whatever it quotes.
const MESSAGE: usize = 300;

/// The line to show (escaped, at most about `WINDOW` characters), and the caret column and
/// width in it.
fn caret_window(span: &Span) -> (String, usize, usize) {
    // Tabs would break the caret alignment: show them as spaces.
    let line: String = span
        .line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let line = line.trim_end();
    let chars = line.chars().count();
    let at = line
        .char_indices()
        .nth(span.col)
        .map_or(line.len(), |(i, _)| i);
    // An end-of-input span points just past the last word.
    let beyond = span.col.saturating_sub(chars);
    let (shown, col) = if chars <= WINDOW {
        (
            controls_escaped(line).into_owned(),
            controls_escaped(&line[..at]).chars().count(),
        )
    } else {
        excerpt(line, at, WINDOW)
    };
    let marked: String = line[at..].chars().take(span.width).collect();
    let room = shown.chars().count().saturating_sub(col).max(1);
    let width = controls_escaped(&marked).chars().count().clamp(1, room);
    (shown, col + beyond, width)
}

/// The user's own text as typed, unless it holds a control character: then escaped (which
/// doubles backslashes too, so the escape stays unambiguous). Short filters without control
/// characters are quoted exactly as they were typed.
fn controls_escaped(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        escape(s)
    } else {
        Cow::Borrowed(s)
    }
}

/// A user's word as quoted inside a message: escaped when it holds control characters, and
/// cut with `…` past `WORD` characters.
pub(crate) fn shown(word: &str) -> String {
    let mut cut: String = word.chars().take(WORD).collect();
    let long = cut.len() < word.len();
    cut = controls_escaped(&cut).into_owned();
    if long {
        cut.push('…');
    }
    cut
}

/// A message bounded in length whatever it quotes (the words in it are already `shown`).
fn bounded(message: String) -> String {
    if message.chars().count() <= MESSAGE {
        return message;
    }
    let mut cut: String = message.chars().take(MESSAGE).collect();
    cut.push('…');
    cut
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), for
/// did-you-mean suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// The closest candidate within a small distance, if any.
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // The distance is at least the difference in length, and its table is quadratic: a huge
    // word is never close to a keyword.
    if word.len() > WORD {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    let limit = if lower.chars().count() <= 3 { 1 } else { 2 };
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// " (did you mean 'x'?)" or nothing.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    match suggest(word, candidates) {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Filter;

    fn err_of(words: &[&str]) -> String {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        Filter::parse(&words).map(|_| ()).unwrap_err().to_string()
    }

    /// The caret line's first caret, as a character column of the quoted line above it.
    fn caret_under(msg: &str) -> char {
        let lines: Vec<&str> = msg.lines().collect();
        let quoted = lines[lines.len() - 2];
        let carets = lines[lines.len() - 1];
        let col = carets.chars().position(|c| c == '^').unwrap();
        quoted.chars().nth(col).unwrap()
    }

    #[test]
    fn a_huge_filter_is_quoted_as_a_short_window_with_the_caret_in_place() {
        let mut text = "( ".repeat(5_000);
        text.push_str("bogus");
        let msg = err_of(&[&text]);
        assert!(msg.len() < 400, "{} bytes: {msg}", msg.len());
        assert!(msg.contains('…'), "{msg}");
        assert_eq!(caret_under(&msg), '(', "{msg}");

        let msg = err_of(&[&format!("{} bogus", "sport = :1 or ".repeat(100))]);
        assert!(msg.len() < 400, "{msg}");
        assert_eq!(caret_under(&msg), 'b', "{msg}");
    }

    #[test]
    fn a_huge_word_is_cut_inside_the_message_too() {
        let word = "(".repeat(10_000);
        let msg = err_of(&[&word]);
        assert!(msg.len() < 400, "{} bytes: {msg}", msg.len());
        assert!(msg.starts_with("filter: '((((("), "{msg}");
        assert!(
            msg.contains("…': parentheses must be separate words"),
            "{msg}"
        );
        let msg = err_of(&["dport", "=", &format!(":{}", "9".repeat(100_000))]);
        assert!(msg.len() < 400, "{msg}");
    }

    #[test]
    fn an_unknown_word_lists_every_keyword_it_could_have_been() {
        let msg = err_of(&["bogus", "=", "1"]);
        for word in [
            "src",
            "dst",
            "sport",
            "dport",
            "dev",
            "autobound",
            "netns",
            "not",
        ] {
            assert!(msg.contains(word), "{word}: {msg}");
        }
        assert!(msg.contains("state and exclude come first"), "{msg}");
    }

    #[test]
    fn control_characters_are_escaped_and_the_caret_follows_them() {
        let msg = err_of(&["src", "1.2.3.4", "or", "\x1b]0;x\x07bad"]);
        assert!(!msg.contains('\x1b') && !msg.contains('\x07'), "{msg:?}");
        assert!(
            msg.contains("'\\x1b]0;x\\x07bad' is not a filter keyword"),
            "{msg}"
        );
        let last = msg.lines().last().unwrap();
        assert_eq!(
            last.trim_start().chars().count(),
            "\\x1b]0;x\\x07bad".len(),
            "{msg}"
        );
        assert_eq!(caret_under(&msg), '\\', "{msg}");
    }

    #[test]
    fn backslashes_the_user_typed_are_quoted_as_typed() {
        let msg = err_of(&["sport", "=", ":a\\\\b"]);
        assert_eq!(
            msg,
            "filter: 'a\\b' is not a port number or a service name from /etc/services\n  \
             sport = :a\\\\b\n          ^^^^^"
        );
    }

    #[test]
    fn an_end_of_input_caret_of_a_long_line_stays_bounded() {
        let text = format!("{}sport =", "sport = :1 and ".repeat(300));
        let msg = err_of(&[&text]);
        assert!(msg.len() < 400, "{msg}");
        assert!(msg.contains("needs a port after it"), "{msg}");
    }

    #[test]
    fn a_long_plain_message_is_capped() {
        let e = FilterError::plain("x".repeat(10_000));
        assert!(e.to_string().chars().count() <= MESSAGE + 10);
    }

    #[test]
    fn shown_words_are_escaped_and_cut() {
        assert_eq!(shown("sprot"), "sprot");
        assert_eq!(shown("a\nb"), "a\\nb");
        let long = shown(&"y".repeat(100));
        assert_eq!(long.chars().count(), WORD + 1);
        assert!(long.ends_with('…'));
    }
}
