//! The live view's update (TEA): a key becomes an [`Action`] through the bindings table
//! ([`crate::config::keys::BINDINGS`]), and each action changes the [`App`] and returns the
//! orders for the collector thread.

use std::time::{Duration, Instant};

use crate::collect::Query;

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};

use super::query;
use super::resolve::{self, Poll};
use crate::config::keys::{BINDINGS, Key, KeyBindings};

use super::settings::Action;
use super::sort::{self, Sort, sorted_order};
use super::state::{App, GroupId, Row, RowId, scroll, with_needs};
use super::worker::Command;

/// What `K` says in a read-only live view.
pub const READ_ONLY_KILL: &str = "K is disabled: the live view is read-only (--read-only or \
     `read_only = true` in the configuration's [tui]); use `sockeye dump -K` to close sockets";

/// The longest text the filter bar takes (a paste beyond it is cut).
pub const MAX_FILTER_INPUT: usize = 64 * 1024;

/// Refresh intervals `+`/`-` step through.
const INTERVALS_MS: [u64; 9] = [200, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000];

impl App {
    fn move_by(&mut self, delta: isize) {
        let page = self.page;
        let vs = self.view_state_mut();
        if vs.rows.is_empty() {
            return;
        }
        let last = vs.rows.len() - 1;
        vs.selected = (vs.selected as isize + delta).clamp(0, last as isize) as usize;
        vs.offset = scroll(vs.offset, vs.selected, page, vs.rows.len());
    }

    fn move_to(&mut self, pos: usize) {
        let page = self.page;
        let vs = self.view_state_mut();
        vs.selected = pos.min(vs.rows.len().saturating_sub(1));
        vs.offset = scroll(vs.offset, vs.selected, page, vs.rows.len());
    }

    /// The collapsible group the selected row is (or belongs to), and that row's index.
    fn group_at_selection(&self) -> Option<(GroupId, usize)> {
        let vs = self.view_state();
        let mut i = vs.selected;
        loop {
            let row = vs.rows.get(i)?;
            match row {
                Row::Socket { .. } => {}
                r => {
                    if let Some(RowId::Group(g)) = self.identity_of(r) {
                        return Some((g, i));
                    }
                }
            }
            i = i.checked_sub(1)?;
        }
    }

    fn set_collapsed(&mut self, id: GroupId, at: usize, collapse: bool) {
        if collapse {
            self.collapsed.insert(id);
        } else {
            self.collapsed.remove(&id);
        }
        self.view_state_mut().selected = at;
        self.rebuild_keep();
    }

    /// Enter on a group toggles it; on a socket, the detail pane.
    fn activate(&mut self) -> Vec<Command> {
        let vs = self.view_state();
        match vs.rows.get(vs.selected) {
            Some(Row::Socket { .. } | Row::Closed(_) | Row::NetnsListener(_)) => {
                self.toggle_detail()
            }
            // A namespace opens (or closes) its sockets under its listeners.
            Some(Row::Netns(n)) => {
                if let Some(key) = self.netns.get(*n).map(|g| g.key()) {
                    if !self.netns_open.remove(&key) {
                        self.netns_open.insert(key);
                    }
                    self.collapsed.remove(&GroupId::Netns(key));
                    self.rebuild_keep();
                }
                Vec::new()
            }
            Some(row) => {
                if let Some(RowId::Group(id)) = self.identity_of(&row.clone()) {
                    let collapse = !self.collapsed.contains(&id);
                    let at = self.view_state().selected;
                    self.set_collapsed(id, at, collapse);
                }
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    fn toggle_detail(&mut self) -> Vec<Command> {
        self.detail = !self.detail;
        self.requery()
    }

    fn requery(&mut self) -> Vec<Command> {
        match self.query() {
            Ok(q) => vec![Command::SetQuery(q)],
            Err(e) => {
                self.filter.error = Some(e);
                Vec::new()
            }
        }
    }

    fn step_interval(&mut self, longer: bool) -> Vec<Command> {
        let cur = self.interval.as_millis() as u64;
        let next = if longer {
            INTERVALS_MS.iter().copied().find(|&ms| ms > cur)
        } else {
            INTERVALS_MS.iter().rev().copied().find(|&ms| ms < cur)
        };
        match next {
            Some(ms) => {
                self.interval = Duration::from_millis(ms);
                vec![Command::SetInterval(self.interval)]
            }
            None => Vec::new(),
        }
    }

    fn set_sort(&mut self, sort: Sort) -> Vec<Command> {
        self.sort = sort;
        if let Some(snap) = &self.snapshot {
            self.order = sorted_order(&snap.sockets, sort);
        }
        self.rebuild_keep();
        vec![Command::SetSort(sort)]
    }

    /// Apply the filter bar's text: compile it (off this thread: it may name hosts), and on
    /// success make it the filter in force. On error the bar stays open with the message and
    /// the previous filter stays applied; while host names resolve, the bar says so.
    pub(super) fn submit_filter(&mut self) -> Vec<Command> {
        let text = self.filter.input.clone().unwrap_or_default();
        let words = query::split_words(&text);
        let job = match self.filter.compiler.start(&self.spec, words, self.needs()) {
            Ok(job) => job,
            Err(e) => {
                self.filter.error = Some(e);
                return Vec::new();
            }
        };
        match job.wait(resolve::QUICK) {
            Poll::Done(result) => self.finish_filter(job.words, result),
            Poll::Pending | Poll::TimedOut => {
                self.filter.input = None;
                self.filter.error = None;
                self.filter.resolving = Some(job);
                Vec::new()
            }
        }
    }

    /// Called by the terminal loop while a filter resolves: applies it when done, gives up at
    /// its deadline (the filter in force stays).
    pub fn poll_filter(&mut self, now: Instant) -> Vec<Command> {
        let Some(job) = self.filter.resolving.as_ref() else {
            return Vec::new();
        };
        match job.poll(now) {
            Poll::Pending => Vec::new(),
            Poll::Done(result) => {
                let words = self
                    .filter
                    .resolving
                    .take()
                    .map(|j| j.words)
                    .unwrap_or_default();
                self.finish_filter(words, result)
            }
            Poll::TimedOut => {
                let job = self.filter.resolving.take();
                let (secs, text) =
                    job.map_or((0, String::new()), |j| (j.deadline().as_secs(), j.text));
                self.filter.input = Some(text);
                self.filter.error = Some(format!(
                    "host names did not resolve within {secs} s; the filter in force stays"
                ));
                Vec::new()
            }
        }
    }

    fn finish_filter(&mut self, words: Vec<String>, result: Result<Query, String>) -> Vec<Command> {
        match result {
            Ok(q) => {
                let q = with_needs(q, self.needs());
                self.filter.applied = words.join(" ");
                self.filter.input = None;
                self.filter.error = None;
                self.filter.compiled = Some(q.clone());
                // Closed connections are here already: filter them now, not at the next
                // snapshot.
                self.refresh_closed();
                vec![Command::SetQuery(q)]
            }
            Err(e) => {
                if self.filter.input.is_none() {
                    self.filter.input = Some(words.join(" "));
                }
                self.filter.error = Some(e);
                Vec::new()
            }
        }
    }

    /// Pasted text (bracketed paste: one event however long) goes into the open filter bar,
    /// line breaks and other control characters as spaces, up to [`MAX_FILTER_INPUT`].
    pub fn handle_paste(&mut self, text: &str) {
        let Some(input) = self.filter.input.as_mut() else {
            return;
        };
        for c in text.chars() {
            if input.len() >= MAX_FILTER_INPUT {
                self.filter.error = Some(format!(
                    "the filter bar holds at most {} KiB",
                    MAX_FILTER_INPUT / 1024
                ));
                return;
            }
            input.push(if c.is_control() { ' ' } else { c });
        }
    }

    fn filter_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let Some(input) = self.filter.input.as_mut() else {
            return Vec::new();
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => {
                self.filter.input = None;
                self.filter.error = None;
            }
            KeyCode::Enter => return self.submit_filter(),
            KeyCode::Backspace => {
                input.pop();
            }
            KeyCode::Char('u') if ctrl => input.clear(),
            KeyCode::Char('w') if ctrl => {
                let keep = input.trim_end().rfind(' ').map_or(0, |i| i + 1);
                input.truncate(keep);
            }
            KeyCode::Char(c) if !ctrl && input.len() < MAX_FILTER_INPUT => input.push(c),
            _ => {}
        }
        Vec::new()
    }

    /// Handle one key; returns the orders for the collector thread. Sets `quit` on q/Esc.
    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let action = action_of(&self.settings.keys, key);
        if let Some(a @ (Action::Interrupt | Action::Suspend)) = action {
            return self.perform(a);
        }
        self.notice = None;
        if let Some(plan) = self.confirm.take() {
            // Only `y` closes; any other key cancels.
            self.notice = Some(if key.code == KeyCode::Char('y') {
                super::kill::execute(&plan)
            } else {
                "nothing closed".into()
            });
            return Vec::new();
        }
        if action == Some(Action::Back) && self.filter.resolving.is_some() {
            // Esc gives up on a filter still resolving; the one in force stays.
            self.filter.resolving = None;
            return Vec::new();
        }
        if let Some(cmds) = self.replay_prompt_key(key) {
            return cmds;
        }
        if self.filter.input.is_some() {
            return self.filter_key(key);
        }
        let Some(action) = action else {
            // Unbound keys still reach the panel; a replay says why they do nothing.
            if let Some(p) = self.panel.as_mut() {
                p.handle_key(key);
            } else if let KeyCode::Char(c) = key.code {
                self.replay_unbound(c);
            }
            return Vec::new();
        };
        // Reserved actions are never handed to the panel.
        if !action.reserved()
            && let Some(p) = self.panel.as_mut()
            && p.handle_key(key)
        {
            return Vec::new();
        }
        self.perform(action)
    }

    /// Do what `action` says.
    pub fn perform(&mut self, action: Action) -> Vec<Command> {
        if let Some(cmds) = self.replay_action(action) {
            return cmds;
        }
        if let Some(cmds) = self.findings_action(action) {
            return cmds;
        }
        let page = self.page as isize;
        match action {
            Action::Quit | Action::Interrupt => self.quit = true,
            Action::Suspend => self.suspend = true,
            Action::Back => {
                if self.help {
                    self.help = false;
                } else if self.detail {
                    return self.toggle_detail();
                } else {
                    self.quit = true;
                }
            }
            Action::Help => self.help = !self.help,
            Action::Filter => {
                self.help = false;
                self.filter.input = Some(self.filter.applied.clone());
                self.filter.error = None;
            }
            Action::NextView => self.show(self.view.next()),
            Action::PrevView => self.show(self.view.prev()),
            Action::Show(view) => self.show(view),
            Action::Down => self.move_by(1),
            Action::Up => self.move_by(-1),
            Action::PageDown => self.move_by(page.max(1)),
            Action::PageUp => self.move_by(-page.max(1)),
            Action::First => self.move_to(0),
            Action::Last => self.move_to(usize::MAX),
            Action::Activate => return self.activate(),
            Action::Kill if self.settings.read_only => {
                self.notice = Some(READ_ONLY_KILL.to_string());
            }
            Action::Kill => match super::kill::plan(self) {
                Ok(p) => self.confirm = Some(p),
                Err(why) => self.notice = Some(why),
            },
            Action::Collapse => {
                if let Some((id, at)) = self.group_at_selection() {
                    if self.collapsed.contains(&id) || at != self.view_state().selected {
                        self.move_to(at);
                    } else {
                        self.set_collapsed(id, at, true);
                    }
                }
            }
            Action::Expand => {
                if let Some((id, at)) = self.group_at_selection()
                    && self.collapsed.contains(&id)
                {
                    self.set_collapsed(id, at, false);
                }
            }
            Action::Sort => {
                return self.set_sort(Sort {
                    column: sort::next_column(self.sort.column, &self.settings.columns),
                    descending: false,
                });
            }
            Action::SortReverse => {
                return self.set_sort(Sort {
                    column: self.sort.column,
                    descending: !self.sort.descending,
                });
            }
            Action::Pause => {
                self.paused = !self.paused;
                return vec![Command::Pause(self.paused)];
            }
            Action::Slower => return self.step_interval(true),
            Action::Faster => return self.step_interval(false),
            Action::Processes => {
                self.show_processes = !self.show_processes;
                return self.requery();
            }
            Action::Detail => return self.toggle_detail(),
            Action::Findings => self.show_findings = !self.show_findings,
            Action::Scroll => {}
            // Only a replay moves through time (`replay_action` above).
            Action::Replay(_) => {}
            Action::TourNext => {
                if let Some(p) = self.panel.as_mut() {
                    p.tour_next();
                }
            }
        }
        Vec::new()
    }

    /// The wheel moves the selection three rows.
    pub fn handle_mouse(&mut self, ev: MouseEvent) {
        match ev.kind {
            MouseEventKind::ScrollDown => self.move_by(3),
            MouseEventKind::ScrollUp => self.move_by(-3),
            _ => {}
        }
    }
}

/// The action the bindings table gives `key`, with the current rebindable keys.
pub fn action_of(keys: &KeyBindings, key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    // Control keys first, so that a letter rebound to `c` does not shadow Ctrl-C.
    let control = BINDINGS.iter().filter(|b| matches!(b.key, Key::Ctrl(_)));
    control
        .chain(BINDINGS.iter())
        .find(|b| matches(keys, b.key, key.code, ctrl))
        .map(|b| b.action)
}

fn matches(keys: &KeyBindings, bound: Key, code: KeyCode, ctrl: bool) -> bool {
    match (bound, code) {
        (Key::Ctrl(c), KeyCode::Char(got)) => ctrl && got == c,
        (Key::Rebindable { .. } | Key::Char(_), KeyCode::Char(got)) => {
            keys.char_of(bound) == Some(got)
        }
        (Key::Esc, KeyCode::Esc)
        | (Key::Tab, KeyCode::Tab)
        | (Key::BackTab, KeyCode::BackTab)
        | (Key::Enter, KeyCode::Enter)
        | (Key::Up, KeyCode::Up)
        | (Key::Down, KeyCode::Down)
        | (Key::Left, KeyCode::Left)
        | (Key::Right, KeyCode::Right)
        | (Key::PageUp, KeyCode::PageUp)
        | (Key::PageDown, KeyCode::PageDown)
        | (Key::Home, KeyCode::Home)
        | (Key::End, KeyCode::End) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::tui::query::QuerySpec;
    use crate::tui::resolve::fake;
    use crate::tui::settings::TuiSettings;

    fn app(gate: &fake::Gate, deadline: Duration) -> App {
        let mut app = App::new(TuiSettings::default(), QuerySpec::default());
        app.filter.compiler = fake::compiler(gate.clone(), deadline);
        app
    }

    fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
        app.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn submit(app: &mut App, text: &str) -> Vec<Command> {
        press(app, KeyCode::Char('/'));
        app.filter.input = Some(text.into());
        press(app, KeyCode::Enter)
    }

    fn poll_until_done(app: &mut App) -> Vec<Command> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while app.filter.resolving.is_some() && Instant::now() < deadline {
            let cmds = app.poll_filter(Instant::now());
            if !cmds.is_empty() {
                return cmds;
            }
            std::thread::yield_now();
        }
        Vec::new()
    }

    #[test]
    fn a_filter_without_lookups_applies_at_once() {
        let gate = fake::Gate::default();
        let mut app = app(&gate, resolve::DEADLINE);
        let cmds = submit(&mut app, "dport = :80");
        assert!(matches!(cmds.as_slice(), [Command::SetQuery(_)]));
        assert_eq!(app.filter.applied, "dport = :80");
        assert!(app.filter.resolving.is_none());
    }

    #[test]
    fn a_slow_lookup_resolves_in_the_background_and_keys_keep_working() {
        let gate = fake::Gate::default();
        let mut app = app(&gate, resolve::DEADLINE);
        submit(&mut app, "dport = :80");
        let cmds = submit(&mut app, "dst slow.example");
        assert!(cmds.is_empty(), "nothing applied yet");
        assert!(app.filter.resolving.is_some());
        assert!(app.filter.input.is_none(), "the bar closes while resolving");
        assert_eq!(
            app.filter.applied, "dport = :80",
            "the last good filter stays"
        );
        // The UI is not blocked: keys act meanwhile.
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.view, crate::tui::settings::View::Listeners);
        assert!(app.poll_filter(Instant::now()).is_empty());
        gate.open();
        let cmds = poll_until_done(&mut app);
        assert!(
            matches!(cmds.as_slice(), [Command::SetQuery(_)]),
            "applied when done"
        );
        assert_eq!(app.filter.applied, "dst slow.example");
        // A later change of needs reuses the compiled filter (no second lookup).
        let cmds = press(&mut app, KeyCode::Char('p'));
        assert!(matches!(cmds.as_slice(), [Command::SetQuery(q)] if !q.processes));
    }

    #[test]
    fn a_lookup_past_its_deadline_keeps_the_filter_in_force() {
        let gate = fake::Gate::default();
        let mut app = app(&gate, Duration::from_millis(150));
        submit(&mut app, "dport = :80");
        assert!(submit(&mut app, "dst slow.example").is_empty());
        let late = Instant::now() + Duration::from_secs(1);
        assert!(app.poll_filter(late).is_empty());
        assert!(app.filter.resolving.is_none());
        assert_eq!(app.filter.applied, "dport = :80");
        assert_eq!(app.filter.input.as_deref(), Some("dst slow.example"));
        assert!(
            app.filter
                .error
                .as_deref()
                .unwrap_or("")
                .contains("did not resolve")
        );
        gate.open();
    }

    #[test]
    fn esc_gives_up_on_a_lookup_and_q_still_quits() {
        let gate = fake::Gate::default();
        let mut app = app(&gate, resolve::DEADLINE);
        submit(&mut app, "dst slow.example");
        press(&mut app, KeyCode::Esc);
        assert!(app.filter.resolving.is_none());
        assert!(!app.quit);
        assert_eq!(app.filter.applied, "");
        submit(&mut app, "dst slow.example");
        press(&mut app, KeyCode::Char('q'));
        assert!(app.quit, "q quits while a filter resolves");
        gate.open();
    }

    #[test]
    fn a_paste_arrives_whole_with_line_breaks_as_spaces() {
        let gate = fake::Gate::default();
        let mut app = app(&gate, resolve::DEADLINE);
        // Outside the bar a paste does nothing.
        app.handle_paste("q");
        assert!(!app.quit && app.filter.input.is_none());
        press(&mut app, KeyCode::Char('/'));
        let long = "dport = :80 or ".repeat(400) + "dport = :81\n";
        assert!(long.len() > 4096);
        app.handle_paste(&long);
        let input = app.filter.input.clone().unwrap();
        assert_eq!(input.len(), long.len());
        assert!(input.ends_with("dport = :81 "));
        // Bounded: a huge paste is cut at the limit, with a note.
        app.handle_paste(&"x".repeat(MAX_FILTER_INPUT * 2));
        assert_eq!(
            app.filter.input.as_ref().map(String::len),
            Some(MAX_FILTER_INPUT)
        );
        assert!(app.filter.error.is_some());
    }

    #[test]
    fn ctrl_z_asks_the_terminal_loop_to_suspend_even_in_the_filter_bar() {
        let gate = fake::Gate::default();
        let mut app = app(&gate, resolve::DEADLINE);
        press(&mut app, KeyCode::Char('/'));
        app.handle_key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL));
        assert!(app.suspend);
        assert_eq!(app.filter.input.as_deref(), Some(""), "z is not typed");
    }

    #[test]
    fn every_rebindable_key_follows_its_binding() {
        use crate::config::keys::rebindable_keys;
        for (name, default, action) in rebindable_keys() {
            let mut keys = KeyBindings::default();
            let ev = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
            assert_eq!(action_of(&keys, ev(default)), Some(action), "{name}");
            assert!(keys.set(name, 'x'));
            assert_eq!(action_of(&keys, ev('x')), Some(action), "{name} rebound");
            assert_ne!(
                action_of(&keys, ev(default)),
                Some(action),
                "{name} default freed"
            );
        }
        // Ctrl-C interrupts even when `c` is rebound to quit.
        let mut keys = KeyBindings::default();
        keys.set("quit", 'c');
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_of(&keys, ctrl_c), Some(Action::Interrupt));
    }
}
