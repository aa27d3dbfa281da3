//! The findings panel's keys: while it is open, ↑/↓ (and the page keys) select a finding and
//! Enter applies the finding's filter (`Finding::sockets`), closes the panel and shows the
//! view its sockets read best in. Esc closes the panel.

use super::settings::Action;
use super::state::App;
use super::worker::Command;
use crate::config::settings::View;
use crate::findings::{Finding, Rule};

/// The view a finding's sockets read best in: a listener's queue in Listeners (the listener
/// with its connections), anything else in the flat Sockets table.
pub fn view_for(rule: Rule) -> View {
    match rule {
        Rule::AcceptQueueOverflow | Rule::UnixListenerFull => View::Listeners,
        _ => View::Sockets,
    }
}

impl App {
    /// The selected finding, if the panel has any.
    pub fn selected_finding(&self) -> Option<&Finding> {
        self.findings.get(
            self.findings_selected
                .min(self.findings.len().saturating_sub(1)),
        )
    }

    /// New findings from a refresh: the selection stays on the same finding (rule and place)
    /// when it is still there, else on the same position.
    pub(super) fn set_findings(&mut self, findings: Vec<Finding>) {
        if let Some(old) = self.selected_finding()
            && let Some(i) = findings
                .iter()
                .position(|f| f.rule == old.rule && f.place == old.place)
        {
            self.findings_selected = i;
        }
        self.findings = findings;
        self.findings_selected = self
            .findings_selected
            .min(self.findings.len().saturating_sub(1));
    }

    /// The panel's share of `action` while it is open; `None` leaves the action to the view.
    pub(super) fn findings_action(&mut self, action: Action) -> Option<Vec<Command>> {
        if !self.show_findings || self.help {
            return None;
        }
        let last = self.findings.len().saturating_sub(1);
        let at = self.findings_selected;
        self.findings_selected = match action {
            Action::Down => (at + 1).min(last),
            Action::Up => at.saturating_sub(1),
            Action::PageDown => (at + 5).min(last),
            Action::PageUp => at.saturating_sub(5),
            Action::First => 0,
            Action::Last => last,
            Action::Back => {
                self.show_findings = false;
                return Some(Vec::new());
            }
            Action::Activate => return Some(self.jump_to_finding()),
            _ => return None,
        };
        Some(Vec::new())
    }

    /// Enter on a finding: its filter becomes the filter in force (through the filter bar's
    /// own path, so an error shows there and the filter in force stays), the panel closes and
    /// the view that shows the sockets best comes up.
    fn jump_to_finding(&mut self) -> Vec<Command> {
        let Some(f) = self.selected_finding() else {
            return Vec::new();
        };
        let (rule, place) = (f.rule, f.place.clone());
        let Some(filter) = f.sockets.clone() else {
            self.notice = Some(if place == "host" {
                format!("{}: a host-wide counter, it names no sockets", rule.name())
            } else {
                format!(
                    "{} at {place}: no filter selects exactly these sockets",
                    rule.name()
                )
            });
            return Vec::new();
        };
        self.filter.input = Some(filter);
        self.filter.error = None;
        let cmds = self.submit_filter();
        if self.filter.error.is_none() {
            self.show_findings = false;
            self.show(view_for(rule));
            self.notice = Some(format!("{}: its sockets (/ edits the filter)", rule.name()));
        }
        cmds
    }
}
