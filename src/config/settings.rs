//! What the live view can be configured with. A plain struct with public fields and
//! `Default`, so the configuration file (src/config.rs) can fill it field by field and the
//! command line can override it afterwards (CLI > file > default). It lives beside the
//! loader, below the live view, so the loader needs nothing from `tui`.
//!
//! Shape, for the config loader (`[tui]` table, every key optional):
//!
//! | field                 | type              | default     | config key / value        |
//! |-----------------------|-------------------|-------------|---------------------------|
//! | `view`                | [`View`]          | `States`    | `view = "states"` (a name from the registry in `views.rs`, [`View::parse`]) |
//! | `interval`            | `Duration`        | 1 s         | `interval = 1.0` (seconds, clamp with [`TuiSettings::clamp_interval`]) |
//! | `processes`           | `bool`            | `true`      | `processes = true`        |
//! | `numeric`             | `bool`            | `false`     | `numeric = false` (`-n` sets it) |
//! | `queue_warn`          | `u32` bytes       | 1           | `queue_warn = 1`          |
//! | `queue_alert`         | `u32` bytes       | 65536       | `queue_alert = 65536`     |
//! | `history`             | `usize` samples   | 120         | `history = 120`           |
//! | `columns`             | `Vec<Column>`     | [`Column::COMPACT`](crate::output::columns::Column::COMPACT) | `columns = ["netid", "state", ...]` ([`ColumnList`](crate::output::columns::ColumnList)) |
//! | `theme.*`             | ratatui `Color`   | see [`Theme`] | `[tui.theme] close_wait = "magenta"` (`Color::from_str`: names, `#rrggbb`, indexed) |
//! | `keys`                | [`KeyBindings`]   | see [`super::keys::BINDINGS`] | `[keys] quit = "q"` (one character) |
//!
//! `NO_COLOR` (any non-empty value) is honored by [`TuiSettings::no_color`], set from the
//! environment by the command, not by the config file.

use std::time::Duration;

use ratatui::style::Color;

pub use super::keys::{KeyBindings, key_label};

pub use super::views::View;

/// Colors of the live view. Ignored (everything monochrome, with bold/reverse for emphasis)
/// when `TuiSettings::no_color` is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    /// Borders, titles, the selected view tab.
    pub accent: Color,
    /// Queues at or above `queue_warn`, sockets with unread data.
    pub warn: Color,
    /// Queues at or above `queue_alert`, full accept queues, exhaustion warnings.
    pub alert: Color,
    /// CLOSE-WAIT rows and counts (the application has not closed).
    pub close_wait: Color,
    /// TIME-WAIT counts.
    pub time_wait: Color,
    /// Rows that appeared, or whose queues changed, since the previous refresh.
    pub changed: Color,
    /// Group and listener header rows.
    pub group: Color,
    /// Secondary text (footer, hints, `-`).
    pub dim: Color,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            accent: Color::Cyan,
            warn: Color::Yellow,
            alert: Color::Red,
            close_wait: Color::Magenta,
            time_wait: Color::Blue,
            changed: Color::Green,
            group: Color::Cyan,
            dim: Color::DarkGray,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TuiSettings {
    /// The view opened first.
    pub view: View,
    /// Time between refreshes, 0.2 s to 60 s.
    pub interval: Duration,
    /// Show (and collect) the owning processes.
    pub processes: bool,
    /// Ports as numbers, not service names (`-n`).
    pub numeric: bool,
    /// Recv-Q/Send-Q at or above this many bytes are highlighted (warn color).
    pub queue_warn: u32,
    /// Recv-Q/Send-Q at or above this many bytes are alarming (alert color).
    pub queue_alert: u32,
    /// Samples kept for the header's sparklines (one per refresh).
    pub history: usize,
    /// The socket table's columns, in order (the column model's names in the config file).
    pub columns: Vec<crate::output::columns::Column>,
    pub theme: Theme,
    pub keys: KeyBindings,
    /// Monochrome: set when `NO_COLOR` is in the environment.
    pub no_color: bool,
    /// The findings' thresholds (the `[findings]` table), for the findings panel.
    pub findings: crate::findings::Thresholds,
    /// Nothing the live view does changes the machine: `K` (close sockets) is disabled
    /// (`--read-only`, `[tui] read_only`).
    pub read_only: bool,
}

impl Default for TuiSettings {
    fn default() -> Self {
        TuiSettings {
            view: View::States,
            interval: Duration::from_secs(1),
            processes: true,
            numeric: false,
            queue_warn: 1,
            queue_alert: 65536,
            history: 120,
            columns: crate::output::columns::Column::COMPACT.to_vec(),
            theme: Theme::default(),
            keys: KeyBindings::default(),
            no_color: false,
            findings: crate::findings::Thresholds::default(),
            read_only: false,
        }
    }
}

impl TuiSettings {
    pub const MIN_INTERVAL: Duration = Duration::from_millis(200);
    pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

    /// Seconds as typed (`--interval`, config) to a refresh interval, or an error message
    /// when outside 0.2..=60.
    pub fn clamp_interval(secs: f64) -> Result<Duration, String> {
        if !secs.is_finite() || !(0.2..=60.0).contains(&secs) {
            return Err(format!(
                "interval must be between 0.2 and 60 seconds, got {}",
                crate::error::shown_number(secs)
            ));
        }
        Ok(Duration::from_secs_f64(secs))
    }

    /// True when `NO_COLOR` is present and not empty (https://no-color.org).
    pub fn no_color_from_env() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_bounds() {
        assert!(TuiSettings::clamp_interval(0.1).is_err());
        assert!(TuiSettings::clamp_interval(61.0).is_err());
        assert!(TuiSettings::clamp_interval(f64::NAN).is_err());
        assert_eq!(
            TuiSettings::clamp_interval(0.2),
            Ok(Duration::from_millis(200))
        );
        assert_eq!(TuiSettings::default().interval, Duration::from_secs(1));
    }

    #[test]
    fn view_parse_and_cycle() {
        assert_eq!(View::parse(" Listeners"), Some(View::Listeners));
        assert_eq!(View::parse("x"), None);
        assert_eq!(View::Sockets.next().prev(), View::Sockets);
        assert_eq!(View::ALL[View::COUNT - 1].next(), View::States);
    }
}
