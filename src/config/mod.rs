//! The configuration file, layered: command line over file over defaults.
//!
//! `$XDG_CONFIG_HOME/sockeye/config.toml` (else `~/.config/sockeye/config.toml`). Every key is
//! optional: the file is an overlay on [`TuiSettings::default`], applied with
//! [`Config::apply_to`] before the command line. `assets/config.toml` spells out every key at
//! its default (a test keeps the two equal). A file that cannot be read or parsed, an unknown
//! key or a bad value is an error naming the file, the line and the key — never ignored.

pub mod error;
pub mod keys;
pub mod settings;
pub mod values;
pub mod views;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use error::ConfigError;
use error::{invalid, key_at, key_on_line, span_of};
pub use keys::KeyBindings;
pub use settings::{Theme, TuiSettings, View};
pub use values::{History, Interval, KeyChar, KeySection, ThemeColor, ViewName};

/// The commented sample, printed by `sockeye config --print-default`.
pub const DEFAULT_CONFIG: &str = include_str!("../../assets/config.toml");

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

/// The file's settings, or nothing set when `no_config` or when there is no file. Anything
/// wrong with an existing file is an error.
pub fn load(no_config: bool) -> Result<Config, ConfigError> {
    if no_config {
        return Ok(Config::default());
    }
    match path() {
        Some(path) => load_default(&path),
        None => Ok(Config::default()),
    }
}

/// [`load_from`] for the default path, which nobody named: when it cannot even be looked at
/// (a parent directory not accessible, such as another user's HOME under sudo, or not a
/// directory), a one-line warning and the defaults. A file that is there but bad stays an
/// error.
fn load_default(path: &Path) -> Result<Config, ConfigError> {
    match load_from(path) {
        Err(ConfigError::Read { path, source }) if std::fs::symlink_metadata(&path).is_err() => {
            crate::text::stderr_line(&format!(
                "warning: cannot read the configuration file {}: {source}; using the defaults",
                crate::text::escape(&path.display().to_string())
            ));
            Ok(Config::default())
        }
        other => other,
    }
}

/// Like [`load`], from a given file; a missing file sets nothing.
pub fn load_from(path: &Path) -> Result<Config, ConfigError> {
    match crate::input::read_text(path, crate::input::CONFIG_LIMIT) {
        Ok(text) => parse(&text).map_err(|e| e.in_file(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The live view's settings: defaults, then the file (unless `no_config`). The caller applies
/// the command line on top.
pub fn tui_settings(no_config: bool) -> Result<TuiSettings, ConfigError> {
    let mut settings = TuiSettings::default();
    load(no_config)?.apply_to(&mut settings);
    Ok(settings)
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

/// What the file sets. Every field is optional (unset keeps the default); unknown keys are
/// errors (`deny_unknown_fields`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub view: ViewSection,
    pub thresholds: Thresholds,
    pub theme: ThemeSection,
    pub keys: KeySection,
    /// Thresholds of `sockeye check`'s rules.
    pub findings: crate::findings::thresholds::FindingsSection,
    /// What the live view may do.
    pub tui: TuiSection,
}

/// The live view's permissions.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TuiSection {
    /// Disable `K` (closing sockets), as --read-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewSection {
    /// The view the live view opens with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<ViewName>,
    /// Seconds between refreshes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
    /// Show the owning process of each socket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processes: Option<bool>,
    /// Ports as numbers (as -n).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numeric: Option<bool>,
    /// Refreshes kept for the header's sparklines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
    /// The socket table's columns, checked by the column model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<crate::output::columns::ColumnList>,
}

/// Queue depths (bytes) from which Recv-Q/Send-Q are highlighted.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_warn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_alert: Option<u32>,
}

/// Declares a section whose keys map one to one onto fields of a TuiSettings sub-struct: the
/// section struct, copying set keys onto the settings, and reading every key back from them.
macro_rules! mapped_section {
    ($(#[$doc:meta])* $section:ident of $target:ty, $value:ident: $($field:ident),* $(,)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $section {
            $(
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<$value>,
            )*
        }

        impl $section {
            fn apply_to(&self, target: &mut $target) {
                $(
                    if let Some(v) = self.$field {
                        target.$field = v.0;
                    }
                )*
            }

            /// Every key read from `target`.
            pub fn from_target(target: &$target) -> Self {
                $section {
                    $($field: Some($value(target.$field)),)*
                }
            }

            /// Every key by name, with its value when set.
            pub fn entries(&self) -> Vec<(&'static str, Option<$value>)> {
                vec![$((stringify!($field), self.$field),)*]
            }
        }
    };
}

mapped_section! {
    /// Theme colors.
    ThemeSection of Theme, ThemeColor:
    accent, warn, alert, close_wait, time_wait, changed, group, dim,
}

impl Config {
    /// Lay the file's settings over `settings`; keys the file does not set are left alone.
    pub fn apply_to(&self, settings: &mut TuiSettings) {
        let v = &self.view;
        if let Some(view) = v.default {
            settings.view = view.0;
        }
        if let Some(interval) = v.interval {
            settings.interval = interval.as_duration();
        }
        if let Some(processes) = v.processes {
            settings.processes = processes;
        }
        if let Some(numeric) = v.numeric {
            settings.numeric = numeric;
        }
        if let Some(history) = v.history {
            settings.history = history.0;
        }
        if let Some(columns) = &v.columns {
            settings.columns.clone_from(&columns.0);
        }
        if let Some(warn) = self.thresholds.queue_warn {
            settings.queue_warn = warn;
        }
        if let Some(alert) = self.thresholds.queue_alert {
            settings.queue_alert = alert;
        }
        self.theme.apply_to(&mut settings.theme);
        self.keys.apply_to(&mut settings.keys);
        settings.findings = self.findings.thresholds();
        if let Some(read_only) = self.tui.read_only {
            settings.read_only = read_only;
        }
    }

    /// Every key, read from `settings`: what `sockeye config` prints as the settings in effect.
    pub fn from_settings(settings: &TuiSettings) -> Config {
        Config {
            view: ViewSection {
                default: Some(ViewName(settings.view)),
                interval: Some(Interval(settings.interval.as_secs_f64())),
                processes: Some(settings.processes),
                numeric: Some(settings.numeric),
                history: Some(History(settings.history)),
                columns: Some(crate::output::columns::ColumnList(settings.columns.clone())),
            },
            thresholds: Thresholds {
                queue_warn: Some(settings.queue_warn),
                queue_alert: Some(settings.queue_alert),
            },
            theme: ThemeSection::from_target(&settings.theme),
            keys: KeySection::from_target(&settings.keys),
            findings: crate::findings::thresholds::FindingsSection::from_thresholds(
                &settings.findings,
            ),
            tui: TuiSection {
                read_only: Some(settings.read_only),
            },
        }
    }
}

// ---- Checks across keys --------------------------------------------------------------------

impl Config {
    /// What serde cannot check one key at a time, on the file laid over the defaults: warn at
    /// most alert, and no key bound to two actions.
    fn validate(&self, text: &str) -> Result<(), ConfigError> {
        let mut merged = TuiSettings::default();
        self.apply_to(&mut merged);

        if merged.queue_warn > merged.queue_alert {
            // Point at the key the file set (both, if it set both: the warn one).
            let name = if self.thresholds.queue_warn.is_some() {
                "thresholds.queue_warn"
            } else {
                "thresholds.queue_alert"
            };
            return Err(invalid(
                text,
                span_of(text, name),
                Some(name.to_owned()),
                &format!(
                    "queue_warn ({}) is above queue_alert ({})",
                    merged.queue_warn, merged.queue_alert
                ),
            ));
        }

        if let Some((key, why)) = self.findings.problem() {
            let name = format!("findings.{key}");
            return Err(invalid(text, span_of(text, &name), Some(name), &why));
        }

        let set_in_file: Vec<&str> = self
            .keys
            .entries()
            .into_iter()
            .filter(|(_, v)| v.is_some())
            .map(|(name, _)| name)
            .collect();
        let mut bound: HashMap<char, &str> = HashMap::new();
        for (action, key) in KeySection::from_target(&merged.keys).entries() {
            let Some(KeyChar(c)) = key else { continue };
            if let Some(other) = bound.insert(c, action) {
                // Blame the action the file set; the other one may be a default.
                let (culprit, first) = if set_in_file.contains(&action) {
                    (action, other)
                } else {
                    (other, action)
                };
                let name = format!("keys.{culprit}");
                let shown = String::from(KeyChar(c));
                return Err(invalid(
                    text,
                    span_of(text, &name),
                    Some(name),
                    &format!(
                        "'{shown}' is also the key of {first}; a key can do one thing only \
                         (give {first} another key too)"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ratatui::style::Color;

    use super::*;
    use crate::error::UsageError;

    #[test]
    fn the_sample_file_sets_every_key_to_its_default() {
        let sample = parse(DEFAULT_CONFIG).unwrap();
        assert_eq!(
            sample,
            Config::from_settings(&TuiSettings::default()),
            "assets/config.toml must spell out every key at TuiSettings::default()"
        );
    }

    /// A control character in a value is shown escaped once: `'\x1b'`, not `'\\x1b'`.
    #[test]
    fn a_bad_value_is_escaped_once_in_the_message() {
        let e = parse("[keys]\nkill = \"\\u001b\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("'\\x1b' is not a key"), "{e}");
        assert!(!e.contains("\\\\x1b") && !e.contains('\x1b'), "{e}");
    }

    /// The sample's comments named only four of the six views, and "1 2 3" as the view keys.
    #[test]
    fn the_sample_file_names_every_view_and_its_key() {
        let comment: String = DEFAULT_CONFIG
            .lines()
            .skip_while(|l| !l.starts_with("[view]"))
            .take_while(|l| !l.starts_with("default ="))
            .collect();
        for v in crate::tui::settings::View::ALL {
            assert!(
                comment.contains(&format!("\"{}\"", v.name())),
                "{}",
                v.name()
            );
        }
        let last = crate::tui::settings::View::ALL.len();
        assert!(
            DEFAULT_CONFIG.contains(&format!("1 to {last} (views)")),
            "the fixed view keys"
        );
    }

    #[test]
    fn tui_read_only_is_read_and_checked() {
        let mut s = TuiSettings::default();
        assert!(!s.read_only);
        parse("[tui]\nread_only = true\n").unwrap().apply_to(&mut s);
        assert!(s.read_only);
        let e = parse("[tui]\nread_only = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("tui.read_only"), "{e}");
        let e = parse("[tui]\nreadonly = true\n").unwrap_err().to_string();
        assert!(e.contains("readonly"), "{e}");
    }

    #[test]
    fn an_empty_file_changes_nothing() {
        for text in ["", "# nothing\n[view]\n"] {
            let mut settings = TuiSettings::default();
            parse(text).unwrap().apply_to(&mut settings);
            assert_eq!(settings, TuiSettings::default());
        }
    }

    #[test]
    fn set_keys_override_and_the_rest_stays() {
        let config = parse(
            "[view]\ndefault = \"listeners\"\ninterval = 2.5\n\
             [thresholds]\nqueue_alert = 100\n\
             [theme]\nclose_wait = \"#ff5f00\"\n\
             [keys]\npause = \"p\"\nprocesses = \"Space\"\n",
        )
        .unwrap();
        let mut s = TuiSettings::default();
        config.apply_to(&mut s);
        assert_eq!(s.view, View::Listeners);
        assert_eq!(s.interval, Duration::from_millis(2500));
        assert_eq!(s.queue_alert, 100);
        assert_eq!(s.queue_warn, TuiSettings::default().queue_warn);
        assert_eq!(s.theme.close_wait, Color::Rgb(0xff, 0x5f, 0x00));
        assert_eq!(s.theme.warn, TuiSettings::default().theme.warn);
        assert_eq!(
            (s.keys.get("pause"), s.keys.get("processes")),
            (Some('p'), Some(' '))
        );
        assert_eq!(s.keys.get("quit"), Some('q'));
    }

    #[test]
    fn path_follows_xdg_then_home() {
        let p = |x: Option<&str>, h: Option<&str>| {
            path_from(x.map(PathBuf::from), h.map(PathBuf::from))
        };
        let home_path = Some(PathBuf::from("/home/u/.config/sockeye/config.toml"));
        assert_eq!(
            p(Some("/x"), Some("/home/u")),
            Some(PathBuf::from("/x/sockeye/config.toml"))
        );
        assert_eq!(p(None, Some("/home/u")), home_path);
        // Empty or relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
        assert_eq!(p(Some(""), Some("/home/u")), home_path);
        assert_eq!(p(Some("rel"), Some("/home/u")), home_path);
        assert_eq!(p(None, None), None);
        assert_eq!(p(None, Some("")), None);
    }

    #[test]
    fn keys_are_one_character_or_space() {
        for (text, c) in [
            ("q", 'q'),
            ("?", '?'),
            ("S", 'S'),
            ("+", '+'),
            ("Space", ' '),
        ] {
            assert_eq!(KeyChar::try_from(text.to_owned()), Ok(KeyChar(c)));
            assert_eq!(String::from(KeyChar(c)), text);
        }
        for bad in ["", " ", "qq", "Esc", "\t", "1", "h"] {
            assert!(
                KeyChar::try_from(bad.to_owned()).is_err(),
                "{bad:?} must be rejected"
            );
        }
    }

    #[test]
    fn colors_print_back_as_the_file_spells_them() {
        for name in ["light-red", "dark-gray", "red", "#ff8000", "208", "reset"] {
            let color = ThemeColor::try_from(name.to_owned()).unwrap();
            assert_eq!(String::from(color), name);
        }
    }

    #[test]
    fn settings_in_effect_serialize_and_parse_back() {
        let mut s = TuiSettings::default();
        parse("[view]\ninterval = 0.5\nhistory = 300\n[theme]\nwarn = \"#102030\"\n")
            .unwrap()
            .apply_to(&mut s);
        let text = toml::to_string(&Config::from_settings(&s)).unwrap();
        let mut again = TuiSettings::default();
        parse(&text).unwrap().apply_to(&mut again);
        assert_eq!(again, s);
    }

    fn err(text: &str) -> ConfigError {
        parse(text).unwrap_err()
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = err("[view]\n\ninterval = 100\n");
        assert_eq!(e.line(), Some(3));
        assert_eq!(e.key(), Some("view.interval"));
        assert!(e.to_string().contains("between 0.2 and 60"), "{e}");

        let e = err("[view]\ndefault = \"graph\"\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("view.default")));

        let e = err("[theme]\nwarn = \"blurple\"\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("theme.warn")));

        let e = err("[keys]\nquit = \"Escape\"\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("keys.quit")));

        let e = err("[view]\nhistory = 5\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("view.history")));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = err("[view]\ninterval = 1.0\nintervall = 2.0\n");
        assert_eq!((e.line(), e.key()), (Some(3), Some("view.intervall")));
        assert!(e.to_string().contains("unknown field"), "{e}");

        let e = err("colour = 1\n");
        assert_eq!((e.line(), e.key()), (Some(1), Some("colour")));

        let e = err("[view]\n[themes]\nwarn = \"red\"\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("themes")));
    }

    #[test]
    fn wrong_types_are_errors() {
        let e = err("[view]\nprocesses = \"yes\"\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("view.processes")));
        let e = err("[thresholds]\nqueue_warn = -1\n");
        assert_eq!(
            (e.line(), e.key()),
            (Some(2), Some("thresholds.queue_warn"))
        );
        let e = err("[keys]\nquit = [\"q\"]\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("keys.quit")));
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
        let e = err("[thresholds]\nqueue_warn = 10\nqueue_alert = 5\n");
        assert_eq!(
            (e.line(), e.key()),
            (Some(2), Some("thresholds.queue_warn"))
        );

        // The default warn is 1: an alert of 0 is below it.
        let e = err("[thresholds]\nqueue_alert = 0\n");
        assert_eq!(
            (e.line(), e.key()),
            (Some(2), Some("thresholds.queue_alert"))
        );

        let e = err("[keys]\npause = \"p\"\n");
        assert_eq!((e.line(), e.key()), (Some(2), Some("keys.pause")));
        assert!(e.to_string().contains("also the key of processes"), "{e}");

        // Swapping two keys is fine when both are rebound.
        parse("[keys]\npause = \"p\"\nprocesses = \"Space\"\n").unwrap();
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
    fn a_missing_file_sets_nothing_and_a_directory_is_an_error() {
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

    #[test]
    fn a_default_path_that_cannot_be_looked_at_gives_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        // A "directory" on the way that is a file: the path cannot be looked at (root, as
        // these tests run, passes every permission check, so no unreadable directory).
        let file = dir.path().join("home");
        std::fs::write(&file, "").unwrap();
        let path = file.join(".config/sockeye/config.toml");
        assert_eq!(load_default(&path).unwrap(), Config::default());
        // Named explicitly, the same path is an error.
        assert!(matches!(load_from(&path), Err(ConfigError::Read { .. })));
        // A file that is there but cannot be read (a directory) stays an error.
        assert!(load_default(dir.path()).is_err());
    }

    #[test]
    fn a_huge_value_is_not_echoed_whole() {
        let huge = "x".repeat(1 << 20);
        for text in [
            format!("[view]\ndefault = \"{huge}\"\n"),
            format!("[view]\nprocesses = \"{huge}\"\n"),
            format!("[theme]\nwarn = \"{huge}\"\n"),
            format!("[keys]\nquit = \"{huge}\"\n"),
            format!("[keys]\n{huge} = \"q\"\n"),
            format!("[view]\ninterval = 1.0 {huge}\n"),
        ] {
            let e = err(&text).to_string();
            assert!(e.len() < 1024, "{} bytes: {}", e.len(), &e[..200]);
            assert!(e.contains('^'), "{e}");
        }
    }

    #[test]
    fn the_excerpt_points_at_the_spot_in_a_long_line_and_is_escaped() {
        let text = format!(
            "[view]\ndefault = \"{}\x1b]0;owned\x07\"\n",
            "a".repeat(5000)
        );
        let e = err(&text).to_string();
        assert!(!e.contains('\x1b') && !e.contains('\x07'), "{e:?}");
        assert_eq!(e.lines().count(), 3, "{e}");
        let (source, caret) = (e.lines().nth(1).unwrap(), e.lines().nth(2).unwrap());
        assert!(source.chars().count() < 100, "{source}");
        assert!(caret.trim_end().ends_with('^'), "{caret}");
    }
}
