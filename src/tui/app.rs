//! The live view's state and its update functions. The UI thread alone owns an [`App`]; it
//! applies snapshots ([`App::apply_snapshot`]), keys ([`App::handle_key`]) and mouse events,
//! and the renderer reads it. Updates return the orders for the collector thread.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::MouseEventKind;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent};

use crate::group::{self, ListenerTree, StateCounts, StateGroup, StateGroupKey, StateHistory};
use crate::model::{Endpoint, Snapshot, Socket, Source, TcpState};
use crate::output::columns::{CellCtx, Column};

use super::Panel;
use super::delta::{self, Changes, Tracker};
use super::query::{self, Needs, QuerySpec};
use super::settings::{TuiSettings, View};
use super::sort::{self, Sort, ascending_order_with, sorted_order};
use super::worker::Command;

/// A collapsible group, by identity (stable across refreshes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GroupId {
    State(StateGroupKey),
    /// A listener, by its local endpoint's socket key.
    Listener(u64),
    Outbound,
    Remote(IpAddr, u16),
}

/// One line of a view's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    /// A state group header (States view).
    StateGroup(StateGroupKey),
    /// A listening socket: index into `App::tree.listeners` (Listeners view).
    Listener(usize),
    /// The "outbound" section header (Listeners view).
    OutboundHeader,
    /// Outbound connections to one remote endpoint: index into `App::tree.outbound`.
    Remote(usize),
    /// A socket (index into the snapshot's sockets) at a tree depth.
    Socket { idx: usize, depth: u8 },
}

/// What a row is, stable across refreshes, to keep the selection on it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum RowId {
    Group(GroupId),
    Socket(u64),
}

/// Selection and scroll position of one view.
#[derive(Clone, Debug, Default)]
pub struct ViewState {
    pub rows: Vec<Row>,
    pub selected: usize,
    /// First visible row.
    pub offset: usize,
}

/// The `/` filter bar.
#[derive(Clone, Debug, Default)]
pub struct FilterBar {
    /// The filter in force (the last one that parsed).
    pub applied: String,
    /// Text being edited, when the bar is open.
    pub input: Option<String>,
    /// Why the last attempt did not parse (shown inline; `applied` stays in force).
    pub error: Option<String>,
}

/// Refresh intervals `+`/`-` step through.
const INTERVALS_MS: [u64; 9] = [200, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000];

pub struct App {
    pub settings: TuiSettings,
    pub view: View,
    pub spec: QuerySpec,
    /// Header text for the scope (`pid 42`), when scoped.
    pub scope_label: Option<String>,
    /// Scoping by process needs processes collected even when hidden.
    pub scope_needs_processes: bool,
    pub hostname: String,
    /// The latest (scoped) snapshot.
    pub snapshot: Option<Snapshot>,
    /// Collection time of the latest snapshot.
    pub elapsed: Option<Duration>,
    /// The last collection error, until the next good snapshot.
    pub error: Option<String>,
    pub counts: StateCounts,
    pub history: StateHistory,
    pub groups: Vec<StateGroup>,
    pub tree: ListenerTree,
    /// Marks, rates, socket keys and counter deltas of the latest refresh.
    pub changes: Changes,
    /// `delta::key` of every socket of the snapshot.
    pub keys: Vec<u64>,
    /// TCP connections on ephemeral ports and the size of the range, when known.
    pub ephemeral: Option<(u64, u64)>,
    tracker: Tracker,
    pub views: [ViewState; 3],
    /// Snapshot indices in sort order.
    order: Vec<usize>,
    pub collapsed: HashSet<GroupId>,
    pub sort: Sort,
    pub filter: FilterBar,
    pub paused: bool,
    pub interval: Duration,
    pub show_processes: bool,
    pub help: bool,
    pub detail: bool,
    pub panel: Option<Box<dyn Panel>>,
    /// Cell formatting context (numeric ports, the snapshot's source).
    pub cells: CellCtx,
    /// Body rows visible on screen (set by the terminal loop from the layout), for paging.
    pub page: usize,
    pub quit: bool,
}

fn view_index(v: View) -> usize {
    match v {
        View::States => 0,
        View::Listeners => 1,
        View::Sockets => 2,
    }
}

impl App {
    pub fn new(settings: TuiSettings, spec: QuerySpec) -> App {
        let collapsed = [
            GroupId::State(StateGroupKey::Tcp(TcpState::TimeWait)),
            GroupId::State(StateGroupKey::Unix),
        ]
        .into_iter()
        .collect();
        let cells = CellCtx::new(settings.numeric, Source::Netlink);
        App {
            cells,
            view: settings.view,
            interval: settings.interval,
            show_processes: settings.processes,
            history: StateHistory::new(settings.history),
            filter: FilterBar {
                applied: spec.filter.join(" "),
                ..FilterBar::default()
            },
            settings,
            spec,
            scope_label: None,
            scope_needs_processes: false,
            hostname: String::new(),
            snapshot: None,
            elapsed: None,
            error: None,
            counts: StateCounts::default(),
            groups: Vec::new(),
            tree: ListenerTree::default(),
            changes: Changes::default(),
            keys: Vec::new(),
            ephemeral: None,
            tracker: Tracker::default(),
            views: Default::default(),
            order: Vec::new(),
            collapsed,
            sort: Sort {
                column: Column::Local,
                descending: false,
            },
            paused: false,
            help: false,
            detail: false,
            panel: None,
            page: 20,
            quit: false,
        }
    }

    /// What the collector must gather for the current view.
    pub fn needs(&self) -> Needs {
        Needs {
            processes: self.show_processes || self.scope_needs_processes,
            details: self.detail,
        }
    }

    /// The query for the filter in force and the current needs.
    pub fn query(&self) -> Result<crate::collect::Query, String> {
        query::compose(
            &self.spec,
            &query::split_words(&self.filter.applied),
            self.needs(),
        )
    }

    pub fn view_state(&self) -> &ViewState {
        &self.views[view_index(self.view)]
    }

    fn view_state_mut(&mut self) -> &mut ViewState {
        &mut self.views[view_index(self.view)]
    }

    /// The socket the selection points at: a socket row, or a listener row's listener.
    pub fn selected_socket(&self) -> Option<usize> {
        let vs = self.view_state();
        match vs.rows.get(vs.selected)? {
            Row::Socket { idx, .. } => Some(*idx),
            Row::Listener(g) => self.tree.listeners.get(*g).map(|l| l.listener),
            _ => None,
        }
    }

    /// Apply a new snapshot: counts, history, deltas, groups and rows; the selection stays on
    /// the same socket or group when it still exists. (The terminal loop gets snapshots
    /// already prepared by the collector thread and calls [`App::apply_prepared`].)
    pub fn apply_snapshot(&mut self, snap: Snapshot, elapsed: Option<Duration>) {
        let p = prepare(&mut self.tracker, snap, self.sort);
        self.apply_prepared(p, elapsed);
    }

    /// Apply a snapshot prepared (grouped, compared, sorted) off the UI thread. Returns the
    /// snapshot it replaces, so the caller can hand its socket table back to the collector
    /// for reuse (see [`Command::Recycle`]) instead of freeing it here.
    pub fn apply_prepared(&mut self, p: Prepared, elapsed: Option<Duration>) -> Option<Snapshot> {
        let selected: Vec<Option<RowId>> = (0..3).map(|v| self.row_id(v)).collect();
        let Prepared {
            snapshot,
            counts,
            groups,
            tree,
            mut changes,
            ephemeral,
            sort,
            order,
            steps: _,
        } = p;
        self.counts = counts;
        self.history.push(&self.counts);
        self.keys = std::mem::take(&mut changes.keys);
        self.changes = changes;
        self.ephemeral = ephemeral;
        self.groups = groups;
        self.tree = tree;
        if let Some(panel) = self.panel.as_mut() {
            panel.on_snapshot(&snapshot);
        }
        if self.cells.source() != snapshot.source {
            self.cells = CellCtx::new(self.settings.numeric, snapshot.source);
        }
        let old = self.snapshot.replace(snapshot);
        if sort == self.sort {
            self.order = order;
        } else if let Some(snap) = &self.snapshot {
            self.order = sorted_order(&snap.sockets, self.sort);
        }
        self.elapsed = elapsed;
        self.error = None;
        self.rebuild(selected);
        old
    }

    pub fn apply_error(&mut self, msg: String) {
        self.error = Some(msg);
    }

    fn row_id(&self, view: usize) -> Option<RowId> {
        let vs = &self.views[view];
        Some(match *vs.rows.get(vs.selected)? {
            Row::StateGroup(k) => RowId::Group(GroupId::State(k)),
            Row::Listener(g) => RowId::Group(self.listener_group_id(g)?),
            Row::OutboundHeader => RowId::Group(GroupId::Outbound),
            Row::Remote(r) => {
                let rg = self.tree.outbound.get(r)?;
                RowId::Group(GroupId::Remote(rg.addr, rg.port))
            }
            Row::Socket { idx, .. } => RowId::Socket(*self.keys.get(idx)?),
        })
    }

    pub fn listener_group_id(&self, g: usize) -> Option<GroupId> {
        let l = self.tree.listeners.get(g)?;
        let s = self.snapshot.as_ref()?.sockets.get(l.listener)?;
        Some(GroupId::Listener(listener_key(s)))
    }

    fn identity_of(&self, row: &Row) -> Option<RowId> {
        Some(match *row {
            Row::StateGroup(k) => RowId::Group(GroupId::State(k)),
            Row::Listener(g) => RowId::Group(self.listener_group_id(g)?),
            Row::OutboundHeader => RowId::Group(GroupId::Outbound),
            Row::Remote(r) => {
                let rg = self.tree.outbound.get(r)?;
                RowId::Group(GroupId::Remote(rg.addr, rg.port))
            }
            Row::Socket { idx, .. } => RowId::Socket(*self.keys.get(idx)?),
        })
    }

    /// Rebuild every view's rows from the groups, the sort and the collapsed set, then put
    /// each selection back on the row it was on (by identity), or clamp it.
    fn rebuild(&mut self, selected: Vec<Option<RowId>>) {
        let Some(snap) = self.snapshot.as_ref() else {
            return;
        };
        let socks = &snap.sockets;
        if self.order.len() != socks.len() {
            self.order = sorted_order(socks, self.sort);
        }
        let order = &self.order;

        // Distribute the sorted order into groups: one pass, so every group comes out sorted
        // without sorting each again.
        let mut state_of = vec![0u8; socks.len()];
        for (gi, g) in self.groups.iter().enumerate() {
            for &i in &g.members {
                state_of[i] = gi as u8;
            }
        }
        let mut state_buckets: Vec<Vec<usize>> = self
            .groups
            .iter()
            .map(|g| Vec::with_capacity(g.members.len()))
            .collect();
        for &i in order {
            if let Some(b) = state_buckets.get_mut(state_of[i] as usize) {
                b.push(i);
            }
        }
        drop(state_of);
        // The row tables are refilled in place: at 100,000 sockets, fresh ones would cost
        // page faults every refresh.
        let [mut states, mut listeners, mut flat] =
            std::array::from_fn(|v| std::mem::take(&mut self.views[v].rows));
        states.clear();
        listeners.clear();
        flat.clear();
        for (g, members) in self.groups.iter().zip(state_buckets) {
            states.push(Row::StateGroup(g.key));
            if !self.collapsed.contains(&GroupId::State(g.key)) {
                states.extend(members.into_iter().map(|idx| Row::Socket { idx, depth: 1 }));
            }
        }

        let nl = self.tree.listeners.len();
        let mut owner = vec![u32::MAX; socks.len()];
        for (gi, lg) in self.tree.listeners.iter().enumerate() {
            for i in lg.children() {
                owner[i] = gi as u32;
            }
        }
        for (ri, rg) in self.tree.outbound.iter().enumerate() {
            for &i in &rg.members {
                owner[i] = (nl + ri) as u32;
            }
        }
        let mut tree_buckets: Vec<Vec<usize>> = vec![Vec::new(); nl + self.tree.outbound.len()];
        for &i in order {
            if let Some(b) = tree_buckets.get_mut(owner[i] as usize) {
                b.push(i);
            }
        }
        drop(owner);
        let mut buckets = tree_buckets.into_iter();
        for (gi, lg) in self.tree.listeners.iter().enumerate() {
            listeners.push(Row::Listener(gi));
            let kids = buckets.next().unwrap_or_default();
            let id = GroupId::Listener(listener_key(&socks[lg.listener]));
            if !self.collapsed.contains(&id) {
                listeners.extend(kids.into_iter().map(|idx| Row::Socket { idx, depth: 1 }));
            }
        }
        if !self.tree.outbound.is_empty() {
            listeners.push(Row::OutboundHeader);
            let outbound_open = !self.collapsed.contains(&GroupId::Outbound);
            for (ri, rg) in self.tree.outbound.iter().enumerate() {
                let members = buckets.next().unwrap_or_default();
                if !outbound_open {
                    continue;
                }
                listeners.push(Row::Remote(ri));
                if !self.collapsed.contains(&GroupId::Remote(rg.addr, rg.port)) {
                    listeners.extend(members.into_iter().map(|idx| Row::Socket { idx, depth: 2 }));
                }
            }
        }

        flat.extend(order.iter().map(|&idx| Row::Socket { idx, depth: 0 }));

        for (v, rows) in [states, listeners, flat].into_iter().enumerate() {
            let want = selected.get(v).cloned().flatten();
            self.views[v].rows = rows;
            let found = want.and_then(|id| {
                let vs = &self.views[v];
                // Look near the old position first: the common case is a row that stayed.
                let start = vs.selected.min(vs.rows.len());
                let near = start.saturating_sub(64)..(start + 64).min(vs.rows.len());
                near.clone()
                    .chain(0..vs.rows.len())
                    .find(|&i| self.identity_of(&vs.rows[i]).as_ref() == Some(&id))
            });
            let page = self.page;
            let vs = &mut self.views[v];
            if let Some(i) = found {
                vs.selected = i;
            }
            vs.selected = vs.selected.min(vs.rows.len().saturating_sub(1));
            vs.offset = scroll(vs.offset, vs.selected, page, vs.rows.len());
        }
    }

    fn rebuild_keep(&mut self) {
        let selected: Vec<Option<RowId>> = (0..3).map(|v| self.row_id(v)).collect();
        self.rebuild(selected);
    }

    /// The terminal loop reports how many body rows fit.
    pub fn set_page(&mut self, rows: usize) {
        self.page = rows.max(1);
        for vs in &mut self.views {
            vs.offset = scroll(vs.offset, vs.selected, self.page, vs.rows.len());
        }
    }

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
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            self.quit = true;
            return Vec::new();
        }
        if self.filter.input.is_some() {
            return self.filter_key(key);
        }
        let k = self.settings.keys.clone();
        // Reserved keys: never handed to the panel.
        match key.code {
            KeyCode::Esc => {
                if self.help {
                    self.help = false;
                } else if self.detail {
                    return self.toggle_detail();
                } else {
                    self.quit = true;
                }
                return Vec::new();
            }
            KeyCode::Char(c) if c == k.quit => {
                self.quit = true;
                return Vec::new();
            }
            KeyCode::Char(c) if c == k.help => {
                self.help = !self.help;
                return Vec::new();
            }
            KeyCode::Char(c) if c == k.filter => {
                self.help = false;
                self.filter.input = Some(self.filter.applied.clone());
                self.filter.error = None;
                return Vec::new();
            }
            KeyCode::Tab => {
                self.view = self.view.next();
                return Vec::new();
            }
            KeyCode::BackTab => {
                self.view = self.view.next().next();
                return Vec::new();
            }
            _ => {}
        }
        if let Some(p) = self.panel.as_mut()
            && p.handle_key(key)
        {
            return Vec::new();
        }
        let page = self.page as isize;
        match key.code {
            KeyCode::Char('1') => self.view = View::States,
            KeyCode::Char('2') => self.view = View::Listeners,
            KeyCode::Char('3') => self.view = View::Sockets,
            KeyCode::Down => self.move_by(1),
            KeyCode::Up => self.move_by(-1),
            KeyCode::Char(c) if c == k.down => self.move_by(1),
            KeyCode::Char(c) if c == k.up => self.move_by(-1),
            KeyCode::PageDown => self.move_by(page.max(1)),
            KeyCode::PageUp => self.move_by(-page.max(1)),
            KeyCode::Home => self.move_to(0),
            KeyCode::End => self.move_to(usize::MAX),
            KeyCode::Enter => return self.activate(),
            KeyCode::Left | KeyCode::Char('h') => {
                if let Some((id, at)) = self.group_at_selection() {
                    if self.collapsed.contains(&id) || at != self.view_state().selected {
                        self.move_to(at);
                    } else {
                        self.set_collapsed(id, at, true);
                    }
                }
            }
            KeyCode::Right | KeyCode::Char('l') => {
                if let Some((id, at)) = self.group_at_selection()
                    && self.collapsed.contains(&id)
                {
                    self.set_collapsed(id, at, false);
                }
            }
            KeyCode::Char(c) if c == k.sort => {
                return self.set_sort(Sort {
                    column: sort::next_column(self.sort.column, &self.settings.columns),
                    descending: false,
                });
            }
            KeyCode::Char(c) if c == k.sort_reverse => {
                return self.set_sort(Sort {
                    column: self.sort.column,
                    descending: !self.sort.descending,
                });
            }
            KeyCode::Char(c) if c == k.pause => {
                self.paused = !self.paused;
                return vec![Command::Pause(self.paused)];
            }
            KeyCode::Char(c) if c == k.slower => return self.step_interval(true),
            KeyCode::Char(c) if c == k.faster => return self.step_interval(false),
            KeyCode::Char(c) if c == k.processes => {
                self.show_processes = !self.show_processes;
                return self.requery();
            }
            KeyCode::Char(c) if c == k.detail => return self.toggle_detail(),
            _ => {}
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

/// Distinct local ports of non-listening TCP sockets inside `ip_local_port_range`, and the
/// range's size: how close outbound connections are to running out of ports. (Accepted
/// connections share their listener's port, so ports are counted once.) Fed one socket at a
/// time, like [`group::StateTally`].
struct EphemeralTally {
    range: Option<(u16, u16)>,
    seen: Vec<u64>, // one bit per port
    used: u64,
}

impl EphemeralTally {
    fn new(snap: &Snapshot) -> EphemeralTally {
        let range = snap
            .counters
            .as_ref()
            .and_then(|c| c.ip_local_port_range)
            .filter(|(lo, hi)| lo <= hi);
        EphemeralTally {
            range,
            seen: if range.is_some() {
                vec![0; 1024]
            } else {
                Vec::new()
            },
            used: 0,
        }
    }

    fn add(&mut self, s: &Socket) {
        let Some((lo, hi)) = self.range else {
            return;
        };
        if s.netid != crate::model::Netid::Tcp || s.state == TcpState::Listen {
            return;
        }
        if let Endpoint::Inet { port, .. } = s.local
            && (lo..=hi).contains(&port)
        {
            let (w, b) = (usize::from(port / 64), port % 64);
            if self.seen[w] & (1 << b) == 0 {
                self.seen[w] |= 1 << b;
                self.used += 1;
            }
        }
    }

    fn finish(self) -> Option<(u64, u64)> {
        let (lo, hi) = self.range?;
        Some((self.used, u64::from(hi - lo) + 1))
    }
}

/// A snapshot with everything derived from it that does not depend on the UI state except
/// the sort: made by the collector thread so the UI thread only builds rows.
pub struct Prepared {
    pub snapshot: Snapshot,
    pub counts: StateCounts,
    pub groups: Vec<StateGroup>,
    pub tree: ListenerTree,
    pub changes: Changes,
    pub ephemeral: Option<(u64, u64)>,
    /// The sort `order` follows.
    pub sort: Sort,
    pub order: Vec<usize>,
    /// Time taken by each step (for `SOCKEYE_TRACE`).
    pub steps: [(&'static str, Duration); 4],
}

/// Derive everything from a snapshot: counts, changes since the previous one (`tracker`),
/// groups, the listener tree, and the order for `sort`.
pub fn prepare(tracker: &mut Tracker, snapshot: Snapshot, sort: Sort) -> Prepared {
    let socks = &snapshot.sockets;
    // Two independent halves: changes and sort (the sort needs the changes' ranks) on this
    // thread, counts, groups and the listener tree on a second one — the machine has two
    // cores and at 100,000 sockets each half takes ~10 ms, so a refresh is ready sooner.
    let ((changes, order, t_deltas, t_sort), (counts, groups, ephemeral, tree, t_states, t_tree)) =
        std::thread::scope(|scope| {
            let other = scope.spawn(|| {
                let t0 = Instant::now();
                // Counts, state groups and ephemeral ports in one walk over the table.
                let mut tally = group::StateTally::default();
                let mut ephemeral = EphemeralTally::new(&snapshot);
                for (i, s) in socks.iter().enumerate() {
                    tally.add(i, s);
                    ephemeral.add(s);
                }
                let (counts, groups) = tally.finish();
                let ephemeral = ephemeral.finish();
                let t1 = Instant::now();
                let tree = group::by_listener(socks);
                (counts, groups, ephemeral, tree, t1 - t0, t1.elapsed())
            });
            let t0 = Instant::now();
            let changes = tracker.update(&snapshot);
            let t1 = Instant::now();
            let mut order = ascending_order_with(
                socks,
                sort.column,
                Some(&changes.ranks),
                &mut tracker.sort_scratch,
            );
            tracker.set_order(&order);
            if sort.descending {
                order.reverse();
            }
            let mine = (changes, order, t1 - t0, t1.elapsed());
            // A panic there is a bug; re-raise it here rather than lose it.
            let theirs = other
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (mine, theirs)
        });
    Prepared {
        counts,
        changes,
        ephemeral,
        groups,
        tree,
        order,
        sort,
        snapshot,
        steps: [
            ("deltas", t_deltas),
            ("sort", t_sort),
            ("states", t_states),
            ("listeners", t_tree),
        ],
    }
}

/// Keep `selected` visible in a window of `page` rows starting at `offset`.
fn scroll(offset: usize, selected: usize, page: usize, len: usize) -> usize {
    let page = page.max(1);
    let mut off = offset.min(len.saturating_sub(page));
    if selected < off {
        off = selected;
    } else if selected >= off + page {
        off = selected + 1 - page;
    }
    off
}

/// Identity of a listener across refreshes: table and local endpoint.
fn listener_key(s: &Socket) -> u64 {
    let mut l = s.clone();
    l.cookie = None;
    l.inode = 0;
    l.peer = Endpoint::Unix {
        path: None,
        inode: 0,
    };
    delta::key(&l)
}
