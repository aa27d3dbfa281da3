//! The live view: ratatui + crossterm.
//!
//! Shape (The Elm Architecture, as bottom does it):
//! - a collector thread ([`worker`]) takes snapshots and sends them, owned, over a channel; it
//!   sleeps with a cancellable wait and obeys interval, query and pause changes sent to it;
//! - the UI thread alone owns the [`state::App`] state (the model), turns keys into
//!   [`settings::Action`]s by one bindings table and applies them and the snapshots
//!   ([`update`]), and redraws with [`ui::draw`], a pure function of that state;
//! - a key never waits for a collection.
//!
//! # Extension point: `sockeye attach` and other front ends
//!
//! [`run_app`] opens the live view with an [`AppOptions`]: what to collect ([`QuerySpec`]),
//! which sockets to keep ([`Scope`]: pids, command names or local ports, including the
//! connections to their listeners), the [`TuiSettings`], and an optional [`Panel`] drawn below
//! the socket view. The panel receives every snapshot, draws itself, sees keys before the
//! views do (except the reserved q, Esc, Ctrl-C, Tab, `?` and `/`, and every key while the
//! filter bar is open), and lists its keys in the help overlay.
//!
//! ```no_run
//! use sockeye::tui::{run_app, AppOptions, Scope};
//! let mut options = AppOptions::default();
//! options.scope = Scope { ports: vec![7000, 7001], ..Scope::default() };
//! run_app(options)?;
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod cells;
pub mod closed;
pub mod delta;
pub mod events;
pub mod findings;
pub mod kill;
pub mod lifecycle;
pub mod netns;
pub mod prepare;
pub mod query;
pub mod rates;
pub mod replay;
pub mod resolve;
pub mod scope;
pub mod settings;
pub mod sort;
pub mod state;
pub mod term;
pub mod trace;
pub mod ui;
pub mod update;
pub mod worker;

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use crate::model::Snapshot;

pub use query::QuerySpec;
pub use scope::Scope;
pub use settings::{KeyBindings, Theme, TuiSettings, View};

/// A pane a front end adds to the live view (e.g. attach's scenario panel). Lives on the UI
/// thread; `render` must be quick and must not block (no I/O: do that in `on_snapshot` or in
/// a thread of your own and keep the result in `self`).
pub trait Panel {
    /// Title drawn in the panel's border.
    fn title(&self) -> String;
    /// Rows the panel would like (border included); the view gives it at most half the screen.
    fn height(&self) -> u16 {
        8
    }
    /// Draw into `area` of `buf` (inside the border). `snapshot` is the latest scoped
    /// snapshot, `None` before the first one arrives.
    fn render(&self, area: Rect, buf: &mut Buffer, snapshot: Option<&Snapshot>);
    /// A key the views have not reserved. Return true when consumed.
    fn handle_key(&mut self, key: KeyEvent) -> bool;
    /// `(key, what it does)` pairs shown in the help overlay.
    fn help(&self) -> Vec<(String, String)>;
    /// Called with every new scoped snapshot before it is drawn.
    fn on_snapshot(&mut self, _snapshot: &Snapshot) {}
    /// The tour key (`Action::TourNext`): move a guided walk on, if the panel has one.
    fn tour_next(&mut self) {}
    /// Sockets to mark in the views, as (local port, peer port) of TCP sockets: the pair a
    /// guided walk is on.
    fn marked(&self) -> Vec<(u16, u16)> {
        Vec::new()
    }
}

/// Everything [`run_app`] needs.
#[derive(Default)]
pub struct AppOptions {
    /// What to collect and how to filter (the ss filter words may change in the filter bar).
    pub query: QuerySpec,
    /// Which sockets to keep after filtering. Empty: all.
    pub scope: Scope,
    pub settings: TuiSettings,
    /// An extra pane below the socket view.
    pub panel: Option<Box<dyn Panel>>,
    /// Watch every network namespace (`--all-netns`), not only this process's.
    pub all_netns: bool,
}

/// Open the live view on the real terminal and run until the user quits (q, Esc, Ctrl-C) or a
/// SIGINT/SIGTERM/SIGHUP arrives. The terminal is restored on every way out, panics included.
/// Fails with [`crate::error::UsageError`] when stdin or stdout is not a terminal, and when the
/// initial filter does not parse.
pub fn run_app(options: AppOptions) -> anyhow::Result<()> {
    term::run(options)
}
