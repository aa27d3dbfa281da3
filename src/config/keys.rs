//! The live view's keys: one table, [`BINDINGS`], of which key does which [`Action`]. The key
//! handling (tui/update.rs), the help overlay, the footer, the man page and the `[keys]`
//! table of the configuration file all read it. A new action is a variant of [`Action`], a row
//! here, and its arm in the update's `match` (which the compiler asks for).

use std::collections::HashMap;

use super::settings::View;

/// What a key does in the live view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Close the help, else the details, else quit.
    Back,
    /// Quit, also from the filter bar.
    Interrupt,
    /// Ctrl-Z: give the terminal back and stop, as a shell job does.
    Suspend,
    NextView,
    PrevView,
    Show(View),
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    /// Enter: a group opens or closes, a socket shows its details.
    Activate,
    Collapse,
    Expand,
    Detail,
    Filter,
    Sort,
    SortReverse,
    Pause,
    Slower,
    Faster,
    Processes,
    /// Show or hide the findings panel.
    Findings,
    /// Close the selected socket, or a group's sockets, after a confirmation.
    Kill,
    /// The mouse wheel (handled as a mouse event; listed for the help).
    Scroll,
    Help,
    /// The demo's guided tour: its next step (handed to the panel; nothing without one).
    TourNext,
    /// Moving through a recording (`sockeye replay`); nothing in the live view.
    Replay(ReplayKey),
}

/// The keys that move through a recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayKey {
    /// One interval (frame) back or forward.
    Back,
    Forward,
    /// A minute back or forward.
    MinuteBack,
    MinuteForward,
    /// Prompt for a time.
    GoTo,
    /// Play slower or faster (1x to 60x).
    Slower,
    Faster,
}

impl Action {
    /// Reserved actions work whatever the panel (attach's) does with keys: they are never
    /// handed to it.
    pub fn reserved(self) -> bool {
        match self {
            Action::Quit
            | Action::Back
            | Action::Interrupt
            | Action::Suspend
            | Action::NextView
            | Action::PrevView
            | Action::Help
            | Action::Filter => true,
            Action::Show(_)
            | Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::First
            | Action::Last
            | Action::Activate
            | Action::Collapse
            | Action::Expand
            | Action::Detail
            | Action::Sort
            | Action::SortReverse
            | Action::Pause
            | Action::Slower
            | Action::Faster
            | Action::Processes
            | Action::Kill
            | Action::Scroll
            | Action::TourNext
            | Action::Findings
            | Action::Replay(_) => false,
        }
    }

    /// Actions that need live sockets (or a live collector): a replay refuses them and says
    /// why. (Killing a socket belongs here: a recording's sockets may be long gone.)
    pub fn live_only(self) -> bool {
        match self {
            // The tour drives the demo's sockets.
            Action::Slower | Action::Faster | Action::TourNext | Action::Kill => true,
            Action::Quit
            | Action::Back
            | Action::Interrupt
            | Action::Suspend
            | Action::NextView
            | Action::PrevView
            | Action::Help
            | Action::Filter
            | Action::Show(_)
            | Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::First
            | Action::Last
            | Action::Activate
            | Action::Collapse
            | Action::Expand
            | Action::Detail
            | Action::Sort
            | Action::SortReverse
            | Action::Pause
            | Action::Processes
            | Action::Scroll
            | Action::Findings
            | Action::Replay(_) => false,
        }
    }

    /// Actions only a replay has; the live view's help and footer leave them out.
    pub fn replay_only(self) -> bool {
        matches!(self, Action::Replay(_))
    }
}

/// A key of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A letter key the `[keys]` table may rebind: its name there and its default.
    Rebindable {
        name: &'static str,
        default: char,
    },
    /// A fixed character (modifiers ignored).
    Char(char),
    /// Control plus a letter.
    Ctrl(char),
    Esc,
    Tab,
    BackTab,
    Enter,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Wheel,
}

/// How the help, the footer or the man page show a row: starting an entry with its text,
/// joining the previous entry (its key added to that entry's keys), or not at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    Entry(&'static str),
    /// Joins the previous entry; the string separates this key from the previous one.
    Join(&'static str),
    Hidden,
}

/// One binding: a key, its action, and how the help overlay, the footer and the man page
/// show it.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub key: Key,
    pub action: Action,
    pub help: Show,
    pub footer: Show,
    pub man: Show,
}

const fn row(key: Key, action: Action, help: Show, footer: Show, man: Show) -> Binding {
    Binding {
        key,
        action,
        help,
        footer,
        man,
    }
}

const fn rebindable(name: &'static str, default: char) -> Key {
    Key::Rebindable { name, default }
}

use Show::{Entry, Hidden, Join};

/// Every key of the live view, in the order the help overlay and the man page list them.
/// A key the table does not hold does nothing.
pub const BINDINGS: &[Binding] = &[
    row(
        rebindable("quit", 'q'),
        Action::Quit,
        Entry("quit (Esc closes help/details first)"),
        Entry("quit"),
        Entry("Quit."),
    ),
    row(
        Key::Esc,
        Action::Back,
        Join(" "),
        Hidden,
        Entry("Close the help overlay, else the details pane, else quit."),
    ),
    row(
        Key::Ctrl('c'),
        Action::Interrupt,
        Join(" "),
        Hidden,
        Entry("Quit, also while the filter bar is open."),
    ),
    row(
        Key::Ctrl('z'),
        Action::Suspend,
        Hidden,
        Hidden,
        Entry("Suspend: the shell gets the terminal back; fg returns to the view."),
    ),
    row(
        Key::Tab,
        Action::NextView,
        Entry("switch view"),
        Entry("view"),
        Entry("Next view, in the order of the tabs."),
    ),
    row(
        Key::BackTab,
        Action::PrevView,
        Hidden,
        Hidden,
        Entry("Previous view."),
    ),
    row(
        Key::Char('1'),
        Action::Show(View::States),
        Join(" "),
        Hidden,
        Entry("Show the view with that number (the tabs show each view's number)."),
    ),
    row(
        Key::Char('2'),
        Action::Show(View::Listeners),
        Join(" "),
        Hidden,
        Join(", "),
    ),
    row(
        Key::Char('3'),
        Action::Show(View::Sockets),
        Join(" "),
        Hidden,
        Join(", "),
    ),
    row(
        Key::Char('4'),
        Action::Show(View::Namespaces),
        Join(" "),
        Hidden,
        Join(", "),
    ),
    row(
        Key::Char('5'),
        Action::Show(View::Closed),
        Join(" "),
        Hidden,
        Join(", "),
    ),
    row(
        Key::Char('6'),
        Action::Show(View::Lifecycle),
        Join(" "),
        Hidden,
        Join(", "),
    ),
    row(
        Key::Up,
        Action::Up,
        Entry("move"),
        Entry("move"),
        Entry("Move up and down."),
    ),
    row(Key::Down, Action::Down, Join(" "), Join(""), Join(", ")),
    row(
        rebindable("up", 'k'),
        Action::Up,
        Join(" "),
        Hidden,
        Entry("Move up."),
    ),
    row(
        rebindable("down", 'j'),
        Action::Down,
        Join(" "),
        Hidden,
        Entry("Move down."),
    ),
    row(
        Key::PageUp,
        Action::PageUp,
        Entry("move by page, to first/last"),
        Hidden,
        Entry("Move by a page, to the first row, to the last row."),
    ),
    row(
        Key::PageDown,
        Action::PageDown,
        Join(" "),
        Hidden,
        Join(", "),
    ),
    row(Key::Home, Action::First, Join(" "), Hidden, Join(", ")),
    row(Key::End, Action::Last, Join(" "), Hidden, Join(", ")),
    row(
        Key::Enter,
        Action::Activate,
        Entry("expand/collapse a group; details of a socket"),
        Entry("open"),
        Entry("Expand or collapse a group; show a socket's details."),
    ),
    row(
        Key::Left,
        Action::Collapse,
        Entry("collapse/expand the current group"),
        Hidden,
        Entry("Collapse and expand the current group."),
    ),
    row(Key::Right, Action::Expand, Join(" "), Hidden, Join(", ")),
    row(
        Key::Char('h'),
        Action::Collapse,
        Join(" "),
        Hidden,
        Join(", "),
    ),
    row(
        Key::Char('l'),
        Action::Expand,
        Join(" "),
        Hidden,
        Join(", "),
    ),
    row(
        rebindable("detail", 'i'),
        Action::Detail,
        Entry("details pane on/off"),
        Hidden,
        Entry("Show or hide the details pane."),
    ),
    row(
        rebindable("filter", '/'),
        Action::Filter,
        Entry("filter (ss syntax, e.g. state close-wait dport = :80)"),
        Entry("filter"),
        Entry(
            "Open the filter bar: an ss filter (see FILTERS) applied live; a mistake shows \
             inline and the last good filter stays applied.",
        ),
    ),
    row(
        rebindable("sort", 's'),
        Action::Sort,
        Entry("next sort column, reverse order"),
        Entry("sort"),
        Entry("Sort by the next column."),
    ),
    row(
        rebindable("sort_reverse", 'S'),
        Action::SortReverse,
        Join(" "),
        Join("/"),
        Entry("Reverse the sort order."),
    ),
    row(
        rebindable("pause", ' '),
        Action::Pause,
        Entry("pause/resume refreshing"),
        // The footer says "resume" while paused.
        Entry("pause"),
        Entry("Pause or resume refreshing."),
    ),
    row(
        rebindable("slower", '+'),
        Action::Slower,
        Entry("refresh less/more often"),
        Entry("interval"),
        Entry("Refresh less often."),
    ),
    row(
        rebindable("faster", '-'),
        Action::Faster,
        Join(" "),
        Join("/"),
        Entry("Refresh more often."),
    ),
    row(
        rebindable("processes", 'p'),
        Action::Processes,
        Entry("processes on/off"),
        Entry("procs"),
        Entry("Show or hide (and stop collecting) the owning processes."),
    ),
    row(
        rebindable("findings", 'f'),
        Action::Findings,
        Entry("findings panel on/off"),
        // The header names the key whenever there are findings.
        Hidden,
        Entry(
            "Show or hide the findings: what is wrong, where, the evidence, why and what to \
             do; in the panel Up/Down select one and Enter filters to its sockets.",
        ),
    ),
    row(
        rebindable("step_back", ','),
        Action::Replay(ReplayKey::Back),
        Entry("replay: one interval back/forward"),
        Entry("step"),
        Entry("In a replay: one interval back."),
    ),
    row(
        rebindable("step_forward", '.'),
        Action::Replay(ReplayKey::Forward),
        Join(" "),
        Join(""),
        Entry("In a replay: one interval forward."),
    ),
    row(
        rebindable("minute_back", '<'),
        Action::Replay(ReplayKey::MinuteBack),
        Entry("replay: a minute back/forward"),
        Entry("±1m"),
        Entry("In a replay: a minute back."),
    ),
    row(
        rebindable("minute_forward", '>'),
        Action::Replay(ReplayKey::MinuteForward),
        Join(" "),
        Join(""),
        Entry("In a replay: a minute forward."),
    ),
    row(
        rebindable("goto", 'g'),
        Action::Replay(ReplayKey::GoTo),
        Entry("replay: go to a time (RFC 3339, HH:MM[:SS], +90s)"),
        Entry("go to"),
        Entry(
            "In a replay: go to a time, typed as --at takes it (RFC 3339, HH:MM[:SS] on the \
             recording's day, +DURATION from its start).",
        ),
    ),
    row(
        rebindable("play_slower", '['),
        Action::Replay(ReplayKey::Slower),
        Entry("replay: play slower/faster (1x 2x 5x 10x 30x 60x)"),
        Entry("speed"),
        Entry("In a replay: play slower (down to 1x)."),
    ),
    row(
        rebindable("play_faster", ']'),
        Action::Replay(ReplayKey::Faster),
        Join(" "),
        Join(""),
        Entry("In a replay: play faster (up to 60x)."),
    ),
    row(
        rebindable("kill", 'K'),
        Action::Kill,
        Entry("close the selected socket or group (asks first; root)"),
        Hidden,
        Entry("Close the selected socket or group's connections, once confirmed."),
    ),
    row(
        Key::Wheel,
        Action::Scroll,
        Entry("scroll"),
        Hidden,
        Entry("Scroll."),
    ),
    row(
        rebindable("tour_next", 'n'),
        Action::TourNext,
        Entry("demo: next step of the guided tour"),
        Hidden,
        Entry(
            "In the demo (sockeye demo, sockeye attach): the guided tour's next step, one \
             connection pair moved on by one TCP transition, both ends marked.",
        ),
    ),
    row(
        rebindable("help", '?'),
        Action::Help,
        Entry("this help"),
        Entry("help"),
        Entry("Show or hide the help overlay with every key."),
    ),
];

/// The rebindable rows, in table order: `(name in [keys], default, action)`.
pub fn rebindable_keys() -> impl Iterator<Item = (&'static str, char, Action)> {
    BINDINGS.iter().filter_map(|b| match b.key {
        Key::Rebindable { name, default } => Some((name, default, b.action)),
        _ => None,
    })
}

/// Characters the live view handles itself whatever the `[keys]` table says.
pub fn fixed_chars() -> impl Iterator<Item = char> {
    BINDINGS.iter().filter_map(|b| match b.key {
        Key::Char(c) => Some(c),
        _ => None,
    })
}

/// How a character key is written in the help and the footer (the space bar as "space").
pub fn key_label(c: char) -> String {
    if c == ' ' {
        "space".into()
    } else {
        c.to_string()
    }
}

/// The current letter of each rebindable key, by its `[keys]` name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBindings {
    chars: HashMap<&'static str, char>,
}

impl Default for KeyBindings {
    fn default() -> Self {
        KeyBindings {
            chars: rebindable_keys()
                .map(|(name, default, _)| (name, default))
                .collect(),
        }
    }
}

impl KeyBindings {
    /// The character bound to a rebindable name; None for a name the table does not have.
    pub fn get(&self, name: &str) -> Option<char> {
        self.chars.get(name).copied()
    }

    /// Rebind `name` (a rebindable name of [`BINDINGS`]); false when there is no such name.
    pub fn set(&mut self, name: &str, c: char) -> bool {
        match self.chars.get_mut(name) {
            Some(slot) => {
                *slot = c;
                true
            }
            None => false,
        }
    }

    /// The character a rebindable action's first key has now (e.g. the pause key).
    pub fn of(&self, action: Action) -> Option<char> {
        rebindable_keys()
            .find(|(_, _, a)| *a == action)
            .and_then(|(name, _, _)| self.get(name))
    }

    /// The character of a table key as bound now: rebindable ones as configured, fixed ones
    /// as they are; None for keys that are not characters.
    pub fn char_of(&self, key: Key) -> Option<char> {
        match key {
            Key::Rebindable { name, default } => Some(self.get(name).unwrap_or(default)),
            Key::Char(c) => Some(c),
            _ => None,
        }
    }

    /// How a table key is written in the help and the footer, with the current bindings.
    pub fn label(&self, key: Key) -> String {
        match key {
            Key::Rebindable { .. } | Key::Char(_) => key_label(self.char_of(key).unwrap_or(' ')),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Esc => "Esc".into(),
            Key::Tab => "Tab".into(),
            Key::BackTab => "Shift-Tab".into(),
            Key::Enter => "Enter".into(),
            Key::Up => "↑".into(),
            Key::Down => "↓".into(),
            Key::Left => "←".into(),
            Key::Right => "→".into(),
            Key::PageUp => "PgUp".into(),
            Key::PageDown => "PgDn".into(),
            Key::Home => "Home".into(),
            Key::End => "End".into(),
            Key::Wheel => "wheel".into(),
        }
    }
}

/// Entries of one listing (help, footer or man page): rows grouped as the table's [`Show`]
/// says, each as `(keys, text, the entry's first action)`.
pub fn entries(
    keys: &KeyBindings,
    show: impl Fn(&Binding) -> Show,
    label: impl Fn(&KeyBindings, Key) -> String,
) -> Vec<(String, &'static str, Action)> {
    entries_where(keys, show, label, |_| true)
}

/// [`entries`] of the rows whose action `keep` accepts (the live view leaves out the replay
/// keys, a replay the live-only ones); a row joining a left-out entry is left out with it.
pub fn entries_where(
    keys: &KeyBindings,
    show: impl Fn(&Binding) -> Show,
    label: impl Fn(&KeyBindings, Key) -> String,
    keep: impl Fn(Action) -> bool,
) -> Vec<(String, &'static str, Action)> {
    let mut out: Vec<(String, &'static str, Action)> = Vec::new();
    let mut joining = true;
    for b in BINDINGS {
        match show(b) {
            Entry(text) => {
                joining = keep(b.action);
                if joining {
                    out.push((label(keys, b.key), text, b.action));
                }
            }
            Join(sep) => {
                if joining && let Some(last) = out.last_mut() {
                    last.0.push_str(sep);
                    last.0.push_str(&label(keys, b.key));
                }
            }
            Hidden => {}
        }
    }
    out
}

/// The README's key table: the help overlay's entries at the default keys, letters quoted.
pub fn markdown_table() -> String {
    let label = |k: &KeyBindings, key: Key| match key {
        Key::Rebindable { .. } | Key::Char(_) => match k.char_of(key) {
            Some(' ') => "space".to_owned(),
            Some(c) => format!("`{c}`"),
            None => String::new(),
        },
        other => k.label(other),
    };
    let mut out = String::from("| Key | |\n|---|---|\n");
    for (keys, text, _) in entries(&KeyBindings::default(), |b| b.help, label) {
        out.push_str(&format!("| {keys} | {text} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every view of the registry (config/views.rs) is shown by its number key, and only by it.
    #[test]
    fn each_view_has_its_number_key() {
        for &v in View::ALL {
            let keys: Vec<Key> = BINDINGS
                .iter()
                .filter(|b| b.action == Action::Show(v))
                .map(|b| b.key)
                .collect();
            assert_eq!(keys, [Key::Char(v.key())], "{v:?}");
        }
    }

    /// README.md holds [`markdown_table`] between its markers (after a change of keys:
    /// `SOCKEYE_UPDATE_README=1 cargo test --lib the_readme_key_table`).
    #[test]
    fn the_readme_key_table_is_the_help() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let (begin, end) = ("<!-- keys: from src/config/keys.rs -->\n", "<!-- /keys -->");
        let start = readme.find(begin).expect("README key table marker") + begin.len();
        let len = readme[start..]
            .find(end)
            .expect("README key table end marker");
        let want = markdown_table();
        // `SOCKEYE_UPDATE_README=1 cargo test --lib the_readme_key_table` rewrites it.
        if std::env::var_os("SOCKEYE_UPDATE_README").is_some() {
            let updated = format!("{}{want}{}", &readme[..start], &readme[start + len..]);
            std::fs::write(path, updated).unwrap();
            return;
        }
        assert_eq!(
            &readme[start..start + len],
            want,
            "README.md's key table must be:\n{want}"
        );
    }

    #[test]
    fn rebindable_names_are_unique_and_defaults_distinct_from_fixed_keys() {
        let names: Vec<&str> = rebindable_keys().map(|(n, _, _)| n).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "{names:?}");
        let defaults: Vec<char> = rebindable_keys().map(|(_, c, _)| c).collect();
        for c in fixed_chars() {
            assert!(!defaults.contains(&c), "{c:?} is fixed and a default");
        }
    }

    #[test]
    fn every_listing_starts_with_an_entry() {
        for show in [
            |b: &Binding| b.help,
            |b: &Binding| b.footer,
            |b: &Binding| b.man,
        ] {
            let first = BINDINGS.iter().map(show).find(|s| *s != Hidden);
            assert!(matches!(first, Some(Entry(_))), "{first:?}");
        }
    }

    #[test]
    fn bindings_read_back_and_rebind() {
        let mut k = KeyBindings::default();
        assert_eq!(k.of(Action::Pause), Some(' '));
        assert!(k.set("pause", 'z'));
        assert!(!k.set("nope", 'z'));
        assert_eq!(k.of(Action::Pause), Some('z'));
        let help = entries(&k, |b| b.help, KeyBindings::label);
        assert_eq!(help[0].0, "q Esc Ctrl-C");
        assert!(
            help.iter()
                .any(|(keys, text, _)| keys == "z" && text.starts_with("pause"))
        );
        assert!(help.iter().any(|(keys, _, _)| keys == "↑ ↓ k j"));
    }
}
