//! Filter errors: one message that quotes the offending word, the input line, and carets under
//! the word.

use std::fmt;

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
            message: message.into(),
            span: Some(span),
        }
    }

    pub(crate) fn plain(message: impl Into<String>) -> FilterError {
        FilterError {
            message: message.into(),
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
            // Tabs would break the caret alignment: show them as spaces.
            let line: String = span
                .line
                .chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .collect();
            write!(
                f,
                "\n  {}\n  {}{}",
                line.trim_end(),
                " ".repeat(span.col),
                "^".repeat(span.width.max(1))
            )?;
        }
        Ok(())
    }
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
