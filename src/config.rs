//! The configuration file, layered: command line over file over defaults.
//!
//! `$XDG_CONFIG_HOME/sockeye/config.toml` (else `~/.config/sockeye/config.toml`). Every key is
//! optional; the defaults are the values written in `assets/config.toml` (a test keeps the two
//! equal). A file that cannot be read or parsed, an unknown key or a bad value is an error
//! naming the file, the line and the key — never silently ignored.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use clap::ValueEnum;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use serde::{Deserialize, Serialize};

use crate::cli::ViewArg;
use crate::error::UsageError;

/// The commented sample, printed by `sockeye config --print-default`.
pub const DEFAULT_CONFIG: &str = include_str!("../assets/config.toml");

/// Where the configuration file is: `$XDG_CONFIG_HOME/sockeye/config.toml`, else
/// `$HOME/.config/sockeye/config.toml`. None when neither variable gives an absolute path
/// (the XDG spec says to ignore relative ones).
pub fn path() -> Option<PathBuf> {
    path_from(
        std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn path_from(xdg_config_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    let base = match xdg_config_home.filter(|p| p.is_absolute()) {
        Some(dir) => dir,
        None => home.filter(|p| p.is_absolute())?.join(".config"),
    };
    Some(base.join("sockeye").join("config.toml"))
}

/// The configuration in effect: the defaults, overlaid with the file unless `no_config`.
/// A missing file is not an error; anything wrong with an existing one is.
pub fn load(no_config: bool) -> Result<Config, ConfigError> {
    if no_config {
        return Ok(Config::default());
    }
    match path() {
        Some(path) => load_from(&path),
        None => Ok(Config::default()),
    }
}

/// Like [`load`], from a given file; a missing file gives the defaults.
pub fn load_from(path: &Path) -> Result<Config, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).map_err(|e| e.in_file(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Parse the text of a configuration file (errors name no file yet: see `in_file`).
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let span = e.span();
        let key = key_at(text, span.clone()).or_else(|| key_on_line(text, span.clone()));
        invalid(text, span, key, e.message())
    })?;
    config.validate(text)?;
    Ok(config)
}

// ---- The file's shape ---------------------------------------------------------------------

/// Everything the file can set. Missing keys take the default (`#[serde(default)]`); unknown
/// keys are errors (`deny_unknown_fields`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub view: ViewConfig,
    pub thresholds: Thresholds,
    pub theme: Theme,
    pub keys: Keys,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewConfig {
    /// The view the live view opens with.
    pub default: View,
    /// Seconds between refreshes.
    pub interval: Interval,
    /// Show the owning process of each socket.
    pub processes: bool,
}

impl Default for ViewConfig {
    fn default() -> Self {
        ViewConfig {
            default: View(ViewArg::States),
            interval: Interval(1.0),
            processes: true,
        }
    }
}

/// Highlight thresholds. Queue depths in bytes, the rest in percent.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    pub recv_q_warn: u64,
    pub recv_q_alert: u64,
    pub send_q_warn: u64,
    pub send_q_alert: u64,
    pub accept_queue_warn: Percent,
    pub accept_queue_alert: Percent,
    pub exhaustion_warn: Percent,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            recv_q_warn: 1,
            recv_q_alert: 64 * 1024,
            send_q_warn: 64 * 1024,
            send_q_alert: 1024 * 1024,
            accept_queue_warn: Percent(50),
            accept_queue_alert: Percent(100),
            exhaustion_warn: Percent(80),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Theme {
    pub warn: ThemeColor,
    pub alert: ThemeColor,
    pub time_wait: ThemeColor,
    pub close_wait: ThemeColor,
    pub changed: ThemeColor,
    pub selection: ThemeColor,
    pub accent: ThemeColor,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            warn: ThemeColor(Color::Yellow),
            alert: ThemeColor(Color::Red),
            time_wait: ThemeColor(Color::Yellow),
            close_wait: ThemeColor(Color::LightRed),
            changed: ThemeColor(Color::Green),
            selection: ThemeColor(Color::Blue),
            accent: ThemeColor(Color::Cyan),
        }
    }
}

/// Declares the key-binding actions once: the struct, its defaults and the list of names.
macro_rules! key_actions {
    ($($action:ident: [$($key:expr),*] $(,)?)*) => {
        /// Key bindings: each action with the keys that trigger it.
        #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Keys {
            $(pub $action: Vec<Key>,)*
        }

        impl Default for Keys {
            fn default() -> Self {
                Keys {
                    $($action: vec![$(Key::parse_static($key)),*],)*
                }
            }
        }

        impl Keys {
            /// Every action by name (as in the file) with its keys.
            pub fn actions(&self) -> Vec<(&'static str, &[Key])> {
                vec![$((stringify!($action), self.$action.as_slice()),)*]
            }
        }
    };
}

key_actions! {
    quit: ["q", "Esc"],
    help: ["?"],
    next_view: ["Tab"],
    view_states: ["1"],
    view_listeners: ["2"],
    view_sockets: ["3"],
    up: ["Up", "k"],
    down: ["Down", "j"],
    page_up: ["PageUp"],
    page_down: ["PageDown"],
    top: ["Home"],
    bottom: ["End"],
    select: ["Enter"],
    filter: ["/"],
    sort_column: ["s"],
    sort_reverse: ["S"],
    pause: ["Space"],
    slower: ["+"],
    faster: ["-"],
    processes: ["p"],
}

impl Keys {
    /// The action a key press triggers, if any.
    pub fn action_for(&self, event: &KeyEvent) -> Option<&'static str> {
        self.actions()
            .into_iter()
            .find(|(_, keys)| keys.iter().any(|k| k.matches(event)))
            .map(|(name, _)| name)
    }
}

// ---- Checked values ----------------------------------------------------------------------

/// The live view's first view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct View(pub ViewArg);

impl TryFrom<String> for View {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        ViewArg::from_str(&name, true)
            .map(View)
            .map_err(|_| format!("'{name}' is not a view (states, listeners or sockets)"))
    }
}

impl From<View> for String {
    fn from(view: View) -> String {
        view.0
            .to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// Seconds between refreshes, 0.2 to 60 as `--interval`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Interval(pub f64);

impl Interval {
    pub const MIN: f64 = 0.2;
    pub const MAX: f64 = 60.0;

    pub fn as_duration(self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.0)
    }
}

impl TryFrom<f64> for Interval {
    type Error = String;
    fn try_from(secs: f64) -> Result<Self, String> {
        if (Self::MIN..=Self::MAX).contains(&secs) {
            Ok(Interval(secs))
        } else {
            Err(format!(
                "the interval must be from {} to {} seconds, not {secs}",
                Self::MIN,
                Self::MAX
            ))
        }
    }
}

impl From<Interval> for f64 {
    fn from(interval: Interval) -> f64 {
        interval.0
    }
}

/// A percentage, 1 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Percent(pub u8);

impl TryFrom<i64> for Percent {
    type Error = String;
    fn try_from(value: i64) -> Result<Self, String> {
        match u8::try_from(value) {
            Ok(p) if (1..=100).contains(&p) => Ok(Percent(p)),
            _ => Err(format!("a percentage must be from 1 to 100, not {value}")),
        }
    }
}

impl From<Percent> for i64 {
    fn from(p: Percent) -> i64 {
        i64::from(p.0)
    }
}

/// A theme color: ratatui's names, a palette index or `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct ThemeColor(pub Color);

impl TryFrom<String> for ThemeColor {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        Color::from_str(&name).map(ThemeColor).map_err(|_| {
            format!(
                "'{name}' is not a color (a name such as \"red\" or \"light-blue\", a \
                 palette index such as \"208\", or \"#rrggbb\")"
            )
        })
    }
}

impl From<ThemeColor> for String {
    fn from(color: ThemeColor) -> String {
        match color.0 {
            Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
            Color::Indexed(i) => i.to_string(),
            // Display gives "LightRed"; the file spells it "light-red".
            named => {
                let mut out = String::new();
                for (i, c) in named.to_string().chars().enumerate() {
                    if c.is_ascii_uppercase() && i > 0 {
                        out.push('-');
                    }
                    out.push(c.to_ascii_lowercase());
                }
                out
            }
        }
    }
}

/// One key: a code and the modifiers that must be held. For characters, Shift is part of the
/// character itself ("S"), so it is not a modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

const NAMED_KEYS: &[(&str, KeyCode)] = &[
    ("Esc", KeyCode::Esc),
    ("Enter", KeyCode::Enter),
    ("Tab", KeyCode::Tab),
    ("BackTab", KeyCode::BackTab),
    ("Backspace", KeyCode::Backspace),
    ("Space", KeyCode::Char(' ')),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
    ("PageUp", KeyCode::PageUp),
    ("PageDown", KeyCode::PageDown),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("Insert", KeyCode::Insert),
    ("Delete", KeyCode::Delete),
];

const MODIFIERS: &[(&str, KeyModifiers)] = &[
    ("ctrl-", KeyModifiers::CONTROL),
    ("alt-", KeyModifiers::ALT),
    ("shift-", KeyModifiers::SHIFT),
];

impl Key {
    /// For the built-in defaults, which are known to parse (a unit test checks them all).
    fn parse_static(text: &'static str) -> Key {
        Key::from_str(text).unwrap_or(Key {
            code: KeyCode::Null,
            modifiers: KeyModifiers::NONE,
        })
    }

    /// Whether a key press is this key. Shift on a character is ignored: terminals report
    /// "S" with or without it.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        let mut modifiers = event.modifiers;
        if matches!(event.code, KeyCode::Char(_)) {
            modifiers.remove(KeyModifiers::SHIFT);
        }
        // BackTab arrives with Shift held; the name already says it.
        if event.code == KeyCode::BackTab {
            modifiers.remove(KeyModifiers::SHIFT);
        }
        event.code == self.code && modifiers == self.modifiers
    }
}

impl FromStr for Key {
    type Err = String;

    fn from_str(text: &str) -> Result<Key, String> {
        let bad = || {
            format!(
                "'{text}' is not a key (a character, or a name such as Esc, Enter, Tab, \
                 Space, Up, PageDown or F5, optionally after Ctrl-, Alt- or Shift-)"
            )
        };
        let mut rest = text;
        let mut modifiers = KeyModifiers::NONE;
        // Strip modifiers while something follows them: "Ctrl--" is Ctrl and '-'.
        'strip: loop {
            for (prefix, modifier) in MODIFIERS {
                if rest.len() > prefix.len()
                    && rest
                        .get(..prefix.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
                {
                    modifiers |= *modifier;
                    rest = &rest[prefix.len()..];
                    continue 'strip;
                }
            }
            break;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() => KeyCode::Char(c),
            _ => {
                if let Some((_, code)) = NAMED_KEYS
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(rest))
                {
                    *code
                } else if let Some(n) = rest
                    .strip_prefix(['F', 'f'])
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))
                {
                    KeyCode::F(n)
                } else {
                    return Err(bad());
                }
            }
        };
        if matches!(code, KeyCode::Char(_)) && modifiers.contains(KeyModifiers::SHIFT) {
            return Err(format!(
                "'{text}': write the shifted character itself (\"S\", not \"Shift-s\")"
            ));
        }
        Ok(Key { code, modifiers })
    }
}

impl TryFrom<String> for Key {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Key::from_str(&text)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (prefix, modifier) in MODIFIERS {
            if self.modifiers.contains(*modifier) {
                let name = &prefix[..prefix.len() - 1];
                let mut chars = name.chars();
                if let Some(first) = chars.next() {
                    write!(f, "{}{}-", first.to_ascii_uppercase(), chars.as_str())?;
                }
            }
        }
        if let Some((name, _)) = NAMED_KEYS.iter().find(|(_, code)| *code == self.code) {
            return f.write_str(name);
        }
        match self.code {
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl From<Key> for String {
    fn from(key: Key) -> String {
        key.to_string()
    }
}

// ---- Checks across keys --------------------------------------------------------------------

impl Config {
    /// What serde cannot check one key at a time: warn below alert, a key bound twice.
    fn validate(&self, text: &str) -> Result<(), ConfigError> {
        let t = &self.thresholds;
        let pairs = [
            ("recv_q", t.recv_q_warn, t.recv_q_alert),
            ("send_q", t.send_q_warn, t.send_q_alert),
            (
                "accept_queue",
                u64::from(t.accept_queue_warn.0),
                u64::from(t.accept_queue_alert.0),
            ),
        ];
        for (name, warn, alert) in pairs {
            if warn > alert {
                let key = format!("thresholds.{name}_warn");
                return Err(invalid(
                    text,
                    span_of(text, &key),
                    Some(key),
                    &format!("{name}_warn ({warn}) is above {name}_alert ({alert})"),
                ));
            }
        }

        let mut bound: HashMap<Key, &str> = HashMap::new();
        for (action, keys) in self.keys.actions() {
            if keys.is_empty() {
                let key = format!("keys.{action}");
                return Err(invalid(
                    text,
                    span_of(text, &key),
                    Some(key),
                    "give at least one key (an action without keys cannot be used)",
                ));
            }
            for key in keys {
                if let Some(other) = bound.insert(*key, action) {
                    // Point at the action the file set; if both are defaults, that cannot be.
                    let (culprit, first) = if span_of(text, &format!("keys.{action}")).is_some() {
                        (action, other)
                    } else {
                        (other, action)
                    };
                    let path = format!("keys.{culprit}");
                    return Err(invalid(
                        text,
                        span_of(text, &path),
                        Some(path),
                        &format!(
                            "'{key}' is also bound to {first}; a key can do one thing only \
                             (rebind {first} too)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

// ---- Errors ----------------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config: cannot read {}: {source}", path.display())]
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
    fn in_file(self, file: &Path) -> ConfigError {
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
        out.push_str(&path.display().to_string());
    }
    if let Some(line) = line {
        out.push_str(&format!(
            "{}line {line}",
            if path.is_some() { ", " } else { "" }
        ));
    }
    if let Some(key) = key {
        out.push_str(&format!(", key '{key}'"));
    }
    out.push_str(": ");
    out.push_str(message);
    if !snippet.is_empty() {
        out.push('\n');
        out.push_str(snippet);
    }
    out
}

fn invalid(
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
        message: message.trim().replace('\n', "; "),
        snippet,
    }
}

/// The 1-based line holding `span.start`, and that line with the span underlined.
fn snippet(text: &str, span: Range<usize>) -> (usize, String) {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_no = text[..line_start].matches('\n').count() + 1;
    let line = text[line_start..line_end].trim_end_matches('\r');
    let column = text[line_start..start].chars().count();
    let end = floor_char_boundary(text, span.end.clamp(start, line_end));
    let width = text[start..end].chars().count().max(1);
    let gutter = line_no.to_string().len();
    let snippet = format!(
        "{:gutter$} | {line}\n{:gutter$} | {}{}",
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
fn key_at(text: &str, span: Option<Range<usize>>) -> Option<String> {
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
fn key_on_line(text: &str, span: Option<Range<usize>>) -> Option<String> {
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
fn span_of(text: &str, dotted: &str) -> Option<Range<usize>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_file_holds_the_defaults() {
        assert_eq!(parse(DEFAULT_CONFIG).unwrap(), Config::default());
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
        assert_eq!(parse("# nothing\n[view]\n").unwrap(), Config::default());
    }

    #[test]
    fn default_keys_all_parse() {
        for (action, keys) in Keys::default().actions() {
            for key in keys {
                assert_ne!(key.code, KeyCode::Null, "default key of {action}");
            }
        }
    }

    #[test]
    fn path_follows_xdg_then_home() {
        let p = |x: Option<&str>, h: Option<&str>| {
            path_from(x.map(PathBuf::from), h.map(PathBuf::from))
        };
        assert_eq!(
            p(Some("/x"), Some("/home/u")),
            Some(PathBuf::from("/x/sockeye/config.toml"))
        );
        assert_eq!(
            p(None, Some("/home/u")),
            Some(PathBuf::from("/home/u/.config/sockeye/config.toml"))
        );
        // Empty or relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
        assert_eq!(
            p(Some(""), Some("/home/u")),
            Some(PathBuf::from("/home/u/.config/sockeye/config.toml"))
        );
        assert_eq!(
            p(Some("rel"), Some("/home/u")),
            Some(PathBuf::from("/home/u/.config/sockeye/config.toml"))
        );
        assert_eq!(p(None, None), None);
        assert_eq!(p(None, Some("")), None);
    }

    #[test]
    fn keys_parse_and_print_back() {
        for text in [
            "q",
            "?",
            "S",
            "-",
            "+",
            "Esc",
            "Enter",
            "Tab",
            "BackTab",
            "Space",
            "PageUp",
            "F5",
            "Ctrl-c",
            "Alt-x",
            "Ctrl--",
            "Shift-Up",
            "Ctrl-Alt-Delete",
        ] {
            let key = Key::from_str(text).unwrap();
            assert_eq!(key.to_string(), text, "round trip of {text}");
        }
        assert_eq!(
            Key::from_str("esc").unwrap().code,
            KeyCode::Esc,
            "names are case-insensitive"
        );
        for bad in ["", "Escape", "F13", "F0", "Ctrl-", "Shift-s", "\t", "qq"] {
            assert!(Key::from_str(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn keys_match_events() {
        let keys = Keys::default();
        let press = |code, modifiers| KeyEvent::new(code, modifiers);
        assert_eq!(
            keys.action_for(&press(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some("quit")
        );
        assert_eq!(
            keys.action_for(&press(KeyCode::Char('S'), KeyModifiers::SHIFT)),
            Some("sort_reverse")
        );
        assert_eq!(
            keys.action_for(&press(KeyCode::Char(' '), KeyModifiers::NONE)),
            Some("pause")
        );
        assert_eq!(
            keys.action_for(&press(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            None
        );
    }

    #[test]
    fn colors_print_back_as_the_file_spells_them() {
        for name in ["light-red", "dark-gray", "red", "#ff8000", "208", "reset"] {
            let color = ThemeColor::try_from(name.to_owned()).unwrap();
            assert_eq!(String::from(color), name);
        }
    }

    #[test]
    fn effective_config_serializes_and_parses_back() {
        let mut config = parse("[view]\ninterval = 2.5\n[theme]\nwarn = \"#102030\"\n").unwrap();
        config.keys.quit = vec![Key::from_str("Ctrl-q").unwrap()];
        let text = toml::to_string(&config).unwrap();
        assert_eq!(parse(&text).unwrap(), config);
    }

    fn err(text: &str) -> ConfigError {
        parse(text).unwrap_err()
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = err("[view]\n\ninterval = 100\n");
        assert_eq!(e.line(), Some(3));
        assert_eq!(e.key(), Some("view.interval"));
        assert!(e.to_string().contains("from 0.2 to 60"), "{e}");

        let e = err("[view]\ndefault = \"graph\"\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("view.default")));

        let e = err("[theme]\nwarn = \"blurple\"\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("theme.warn")));

        let e = err("[keys]\nquit = [\"q\", \"Escape\"]\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("keys.quit")));

        let e = err("[thresholds]\naccept_queue_warn = 0\n");
        assert_eq!(e.key(), Some("thresholds.accept_queue_warn"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = err("[view]\ninterval = 1.0\nintervall = 2.0\n");
        assert_eq!((e.line(), e.key()), (Some(3), Some("view.intervall")));
        assert!(e.to_string().contains("unknown field"), "{e}");

        let e = err("colour = 1\n");
        assert_eq!((e.line(), e.key()), (Some(1), Some("colour")));

        let e = err("[view]\n[themes]\nwarn = \"red\"\n");
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.key(), Some("themes"));
    }

    #[test]
    fn wrong_types_are_errors() {
        let e = err("[view]\nprocesses = \"yes\"\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("view.processes")));
        let e = err("[thresholds]\nrecv_q_warn = -1\n");
        assert_eq!(
            (e.line(), e.key()),
            (Some(2), Some("thresholds.recv_q_warn"))
        );
        let e = err("view = 3\n");
        assert_eq!((e.line(), e.key()), (Some(1), Some("view")));
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let e = err("[view]\ninterval = \n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("view.interval")));
        let e = err("[view]\ninterval = 1.0.0\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("view.interval")));
        let e = err("[view\n");
        assert_eq!(e.line(), Some(1));
    }

    #[test]
    fn checks_across_keys() {
        let e = err("[thresholds]\nrecv_q_warn = 10\nrecv_q_alert = 5\n");
        assert_eq!(
            (e.line(), e.key()),
            (Some(2), Some("thresholds.recv_q_warn"))
        );

        // The default Send-Q warn is 65536: an alert below it needs the warn lowered too.
        let e = err("[thresholds]\nsend_q_alert = 10\n");
        assert_eq!(e.key(), Some("thresholds.send_q_warn"));
        assert_eq!(e.line(), None, "the file does not set it");

        let e = err("[keys]\npause = [\"p\"]\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("keys.pause")));
        assert!(e.to_string().contains("also bound to processes"), "{e}");

        let e = err("[keys]\nhelp = []\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("keys.help")));

        // Swapping two keys is fine when both are rebound.
        let c = parse("[keys]\npause = [\"p\"]\nprocesses = [\"Space\"]\n").unwrap();
        assert_eq!(c.keys.pause, vec![Key::from_str("p").unwrap()]);
    }

    #[test]
    fn errors_are_usage_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "[view]\ninterval = 0\n").unwrap();
        let e = load_from(&file).unwrap_err();
        let text = e.to_string();
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("view.interval"), "{text}");
        let usage: anyhow::Error = UsageError::from(e).into();
        assert_eq!(crate::error::exit_code(&usage), 2);
    }

    #[test]
    fn a_missing_file_is_the_defaults_and_a_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            load_from(&dir.path().join("none.toml")).unwrap(),
            Config::default()
        );
        assert!(matches!(
            load_from(dir.path()),
            Err(ConfigError::Read { .. })
        ));
    }
}
