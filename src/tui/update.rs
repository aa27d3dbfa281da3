//! The live view's update (TEA): a key becomes an [`Action`] through the bindings table
//! ([`crate::config::keys::BINDINGS`]), and each action changes the [`App`] and returns the
//! orders for the collector thread.

use std::time::Duration;

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};

use super::app::{Sort, sorted_order};
use super::query;
use crate::config::keys::{BINDINGS, Key, KeyBindings};

use super::settings::Action;
use super::state::{App, GroupId, Row, RowId, scroll};
use super::worker::Command;

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
            Some(Row::Socket { .. }) => self.toggle_detail(),
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

    /// Apply the filter bar's text: parse it, and on success make it the filter in force.
    /// On error the bar stays open with the message and the previous filter stays applied.
    fn submit_filter(&mut self) -> Vec<Command> {
        let text = self.filter.input.clone().unwrap_or_default();
        let words = query::split_words(&text);
        match query::compose(&self.spec, &words, self.needs()) {
            Ok(q) => {
                self.filter.applied = words.join(" ");
                self.filter.input = None;
                self.filter.error = None;
                vec![Command::SetQuery(q)]
            }
            Err(e) => {
                self.filter.error = Some(e);
                Vec::new()
            }
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
            KeyCode::Char(c) if !ctrl => input.push(c),
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
        if action == Some(Action::Interrupt) {
            self.quit = true;
            return Vec::new();
        }
        if self.filter.input.is_some() {
            return self.filter_key(key);
        }
        let Some(action) = action else {
            // Unbound keys still reach the panel.
            if let Some(p) = self.panel.as_mut() {
                p.handle_key(key);
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
        let page = self.page as isize;
        match action {
            Action::Quit | Action::Interrupt => self.quit = true,
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
            Action::NextView => self.view = self.view.next(),
            Action::PrevView => self.view = self.view.next().next(),
            Action::Show(view) => self.view = view,
            Action::Down => self.move_by(1),
            Action::Up => self.move_by(-1),
            Action::PageDown => self.move_by(page.max(1)),
            Action::PageUp => self.move_by(-page.max(1)),
            Action::First => self.move_to(0),
            Action::Last => self.move_to(usize::MAX),
            Action::Activate => return self.activate(),
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
                    column: self.sort.column.next(),
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
            Action::Scroll => {}
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
