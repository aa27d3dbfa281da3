//! Values the file may hold, each checked as it is read (serde `try_from`), and the `[keys]`
//! table, whose names come from the bindings table.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use ratatui::style::Color;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::quote;
use super::keys::{self, KeyBindings};
use super::settings::{TuiSettings, View};

/// The live view's first view: "states", "listeners" or "sockets".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct ViewName(pub View);

impl TryFrom<String> for ViewName {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        View::parse(&name)
            .map(ViewName)
            .ok_or_else(|| format!("'{}' is not a view ({})", quote(&name), View::names()))
    }
}

impl From<ViewName> for String {
    fn from(view: ViewName) -> String {
        view.0.name().to_string()
    }
}

/// Seconds between refreshes, 0.2 to 60 as `--interval`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Interval(pub f64);

impl Interval {
    pub fn as_duration(self) -> Duration {
        Duration::from_secs_f64(self.0)
    }
}

impl TryFrom<f64> for Interval {
    type Error = String;
    fn try_from(secs: f64) -> Result<Self, String> {
        TuiSettings::clamp_interval(secs).map(|_| Interval(secs))
    }
}

impl From<Interval> for f64 {
    fn from(interval: Interval) -> f64 {
        interval.0
    }
}

/// Sparkline samples kept: enough for a minute at the fastest refresh, bounded so memory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct History(pub usize);

impl History {
    pub const MIN: usize = 10;
    pub const MAX: usize = 3600;
}

impl TryFrom<i64> for History {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        match usize::try_from(n) {
            Ok(n) if (Self::MIN..=Self::MAX).contains(&n) => Ok(History(n)),
            _ => Err(format!(
                "history must be from {} to {} refreshes, not {n}",
                Self::MIN,
                Self::MAX
            )),
        }
    }
}

impl From<History> for i64 {
    fn from(h: History) -> i64 {
        i64::try_from(h.0).unwrap_or(i64::MAX)
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
                "'{}' is not a color (a name such as \"red\" or \"light-blue\", a \
                 palette index such as \"208\", or \"#rrggbb\")",
                quote(&name)
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

/// One printable character, or "Space".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyChar(pub char);

impl TryFrom<String> for KeyChar {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("space") {
            return Ok(KeyChar(' '));
        }
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() && !c.is_whitespace() => {
                if keys::fixed_chars().any(|f| f == c) {
                    let fixed: Vec<String> = keys::fixed_chars().map(String::from).collect();
                    Err(format!(
                        "'{c}' is taken by the live view itself (its fixed keys are {})",
                        fixed.join(" ")
                    ))
                } else {
                    Ok(KeyChar(c))
                }
            }
            _ => Err(format!(
                "'{}' is not a key: give one character, or \"Space\" (arrows, Enter, Tab and \
                 Esc are fixed)",
                quote(&text)
            )),
        }
    }
}

impl From<KeyChar> for String {
    fn from(key: KeyChar) -> String {
        if key.0 == ' ' {
            "Space".to_owned()
        } else {
            key.0.to_string()
        }
    }
}

/// The `[keys]` table: a letter per rebindable action, by the names of
/// [`keys::BINDINGS`]. Only the keys the file sets, in the table's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeySection {
    set: Vec<(&'static str, KeyChar)>,
}

impl KeySection {
    pub(super) fn apply_to(&self, target: &mut KeyBindings) {
        for (name, key) in &self.set {
            target.set(name, key.0);
        }
    }

    /// Every key read from `target`.
    pub fn from_target(target: &KeyBindings) -> Self {
        KeySection {
            set: keys::rebindable_keys()
                .filter_map(|(name, _, _)| Some((name, KeyChar(target.get(name)?))))
                .collect(),
        }
    }

    /// Every rebindable key by name, in table order, with its value when set.
    pub fn entries(&self) -> Vec<(&'static str, Option<KeyChar>)> {
        keys::rebindable_keys()
            .map(|(name, _, _)| {
                let value = self.set.iter().find(|(n, _)| *n == name).map(|(_, k)| *k);
                (name, value)
            })
            .collect()
    }

    fn insert(&mut self, name: &'static str, key: KeyChar) {
        self.set.retain(|(n, _)| *n != name);
        self.set.push((name, key));
        let rank = |n: &str| keys::rebindable_keys().position(|(m, _, _)| m == n);
        self.set.sort_by_key(|(n, _)| rank(n));
    }
}

impl Serialize for KeySection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.set.len()))?;
        for (name, key) in &self.set {
            map.serialize_entry(name, &String::from(*key))?;
        }
        map.end()
    }
}

/// A name of the `[keys]` table, checked against the bindings table.
struct KeyName(&'static str);

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        keys::rebindable_keys()
            .find(|(n, _, _)| *n == name)
            .map(|(n, _, _)| KeyName(n))
            .ok_or_else(|| {
                let known: Vec<String> = keys::rebindable_keys()
                    .map(|(n, _, _)| format!("`{n}`"))
                    .collect();
                serde::de::Error::custom(format!(
                    "unknown field `{}`, expected one of {}",
                    quote(&name),
                    known.join(", ")
                ))
            })
    }
}

impl<'de> Deserialize<'de> for KeySection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeySection;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of keys")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeySection, A::Error> {
                let mut section = KeySection::default();
                while let Some(KeyName(name)) = map.next_key()? {
                    let key: KeyChar = map.next_value()?;
                    section.insert(name, key);
                }
                Ok(section)
            }
        }
        deserializer.deserialize_map(V)
    }
}
