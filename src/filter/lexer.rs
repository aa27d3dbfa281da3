//! Splitting filter input into words, as ss does: words are separated by spaces or tabs (a
//! single argument may hold a whole expression), a backslash escapes the next character, and
//! parentheses and operators must be words of their own. Every token remembers where it came
//! from so errors can point at it.

use super::error::Span;
use super::parse::MAX_TOKENS;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    /// The word with escapes removed.
    pub text: String,
    /// Index into [`Input::lines`].
    pub line: usize,
    /// Character offset of the word in its line, and its width there (escapes included).
    pub col: usize,
    pub width: usize,
}

/// Tokenized input plus the lines it came from (for error messages).
#[derive(Clone, Debug, Default)]
pub(crate) struct Input {
    pub lines: Vec<String>,
    pub tokens: Vec<Token>,
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

impl Input {
    /// Command-line words: shown to the user as one line, words joined by spaces.
    pub fn from_words(words: &[String]) -> Input {
        let mut input = Input::default();
        let mut line = String::new();
        let mut col = 0;
        for (i, w) in words.iter().enumerate() {
            if input.full() {
                break;
            }
            if i > 0 {
                line.push(' ');
                col += 1;
            }
            input.split_into(w, 0, col);
            col += w.chars().count();
            line.push_str(w);
        }
        input.lines.push(line.replace(['\n', '\r'], " "));
        input
    }

    /// A filter file: one source line per line, lines starting with '#' are comments.
    pub fn from_text(text: &str) -> Input {
        let mut input = Input::default();
        for raw in text.lines() {
            if input.full() {
                break;
            }
            let idx = input.lines.len();
            input.lines.push(raw.to_string());
            if raw.trim_start().starts_with('#') {
                continue;
            }
            input.split_into(raw, idx, 0);
        }
        if input.lines.is_empty() {
            input.lines.push(String::new());
        }
        input
    }

    /// Split `s` into tokens. Stops once there are more tokens than the parser accepts:
    /// the parser refuses such input anyway, and a huge input must not become millions of
    /// tokens first.
    fn split_into(&mut self, s: &str, line: usize, base_col: usize) {
        let mut chars = s.chars().peekable();
        let mut i = 0;
        while self.tokens.len() <= MAX_TOKENS {
            while chars.next_if(|c| is_space(*c)).is_some() {
                i += 1;
            }
            if chars.peek().is_none() {
                break;
            }
            let start = i;
            let mut text = String::new();
            while let Some(mut c) = chars.next_if(|c| !is_space(*c)) {
                i += 1;
                if c == '\\' {
                    let Some(next) = chars.next() else {
                        break;
                    };
                    i += 1;
                    c = next;
                }
                text.push(c);
            }
            self.tokens.push(Token {
                text,
                line,
                col: base_col + start,
                width: i - start,
            });
        }
    }

    /// True once the input holds more tokens than the parser accepts.
    fn full(&self) -> bool {
        self.tokens.len() > MAX_TOKENS
    }

    pub fn span(&self, tok: &Token) -> Span {
        Span {
            line: self.lines.get(tok.line).cloned().unwrap_or_default(),
            col: tok.col,
            width: tok.width,
        }
    }

    /// A span just after the last token (for "expected more" errors at the end).
    pub fn end_span(&self) -> Span {
        match self.tokens.last() {
            Some(t) => Span {
                line: self.lines.get(t.line).cloned().unwrap_or_default(),
                col: t.col + t.width + 1,
                width: 1,
            },
            None => Span {
                line: self.lines.first().cloned().unwrap_or_default(),
                col: 0,
                width: 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(i: &Input) -> Vec<&str> {
        i.tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn separate_words() {
        let w: Vec<String> = ["state", "established", "(", "dport", "=", ":443", ")"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let i = Input::from_words(&w);
        assert_eq!(
            texts(&i),
            ["state", "established", "(", "dport", "=", ":443", ")"]
        );
        assert_eq!(i.lines, ["state established ( dport = :443 )"]);
        assert_eq!(i.tokens[3].col, 20);
        assert_eq!(i.tokens[3].width, 5);
    }

    #[test]
    fn one_word_holding_an_expression() {
        let i = Input::from_words(&["sport = :22  or\tdport = :80".to_string()]);
        assert_eq!(texts(&i), ["sport", "=", ":22", "or", "dport", "=", ":80"]);
        assert_eq!(i.tokens[3].col, 13);
    }

    #[test]
    fn mixed_words_and_columns() {
        let w = vec!["src".to_string(), "1.2.3.4 or dst 5.6.7.8".to_string()];
        let i = Input::from_words(&w);
        assert_eq!(texts(&i), ["src", "1.2.3.4", "or", "dst", "5.6.7.8"]);
        assert_eq!(i.tokens[4].col, 19);
    }

    #[test]
    fn backslash_escapes() {
        let i = Input::from_words(&["src /tmp/a\\ b".to_string()]);
        assert_eq!(texts(&i), ["src", "/tmp/a b"]);
        assert_eq!(i.tokens[1].width, 9);
        let i = Input::from_words(&["x\\".to_string()]);
        assert_eq!(texts(&i), ["x"]);
    }

    #[test]
    fn empty_words_are_skipped() {
        let i = Input::from_words(&["".to_string(), "  ".to_string()]);
        assert!(i.tokens.is_empty());
        let i = Input::from_words(&[]);
        assert!(i.tokens.is_empty());
        assert_eq!(i.end_span().col, 0);
    }

    #[test]
    fn file_comments_and_lines() {
        let i = Input::from_text("# ssh only\n  sport = :22\n# or http\nor sport = :80\n");
        assert_eq!(texts(&i), ["sport", "=", ":22", "or", "sport", "=", ":80"]);
        assert_eq!(i.tokens[0].line, 1);
        assert_eq!(i.tokens[0].col, 2);
        assert_eq!(i.tokens[3].line, 3);
    }

    #[test]
    fn huge_input_stops_one_token_past_the_limit() {
        let i = Input::from_text(&"( \n".repeat(100_000));
        assert_eq!(i.tokens.len(), MAX_TOKENS + 1);
        assert!(i.lines.len() <= MAX_TOKENS + 1);
        let i = Input::from_words(&vec!["x".to_string(); 100_000]);
        assert_eq!(i.tokens.len(), MAX_TOKENS + 1);
        let i = Input::from_words(&["a b ".repeat(100_000)]);
        assert_eq!(i.tokens.len(), MAX_TOKENS + 1);
    }

    #[test]
    fn escapes_count_in_the_width() {
        let i = Input::from_words(&["a\\ b c\\".to_string()]);
        assert_eq!(texts(&i), ["a b", "c"]);
        assert_eq!((i.tokens[0].col, i.tokens[0].width), (0, 4));
        assert_eq!((i.tokens[1].col, i.tokens[1].width), (5, 2));
    }
}
