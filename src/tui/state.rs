//! The live view's state (the model, in TEA terms). The UI thread alone owns an [`App`]; it
//! applies prepared snapshots ([`App::apply_prepared`]), keys and mouse events (see
//! [`super::update`]), and the renderer reads it.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use crate::collect::Query;
use crate::group::{ListenerTree, StateCounts, StateGroup, StateGroupKey, StateHistory};
use crate::model::{Endpoint, Snapshot, Socket, Source, TcpState};
use crate::output::columns::{CellCtx, Column};

use super::Panel;
use super::closed::ClosedLog;
use super::delta::{self, Changes};
use super::prepare::{Prepared, Preparer, prepare};
use super::query::{self, Needs, QuerySpec};
use super::resolve::{Compiler, Job};
use super::settings::{TuiSettings, View};
use super::sort::{Sort, sorted_order};

/// A collapsible group, by identity (stable across refreshes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GroupId {
    State(StateGroupKey),
    /// A listener, by its local endpoint's socket key.
    Listener(u64),
    Outbound,
    Remote(IpAddr, u16),
    /// A network namespace, by its nsfs inode (0: sockets without a namespace).
    Netns(u64),
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
    /// A closed connection (Closed view), by its number in [`App::closed`].
    Closed(u64),
    /// A namespace group header: index into `App::netns` (Namespaces view).
    Netns(usize),
    /// A listener under its namespace: index into `App::tree.listeners` (Namespaces view).
    NetnsListener(usize),
}

/// What a row is, stable across refreshes, to keep the selection on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum RowId {
    Group(GroupId),
    Socket(u64),
    Closed(u64),
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
#[derive(Default)]
pub struct FilterBar {
    /// The filter in force (the last one that parsed).
    pub applied: String,
    /// Text being edited, when the bar is open.
    pub input: Option<String>,
    /// Why the last attempt did not parse (shown inline; `applied` stays in force).
    pub error: Option<String>,
    /// A filter being compiled off the UI thread (resolving host names); `applied` stays in
    /// force until it is done.
    pub resolving: Option<Job>,
    /// The query `applied` compiled to, so that a change of needs (processes, details) does
    /// not resolve its host names again on the UI thread.
    pub compiled: Option<Query>,
    pub compiler: Compiler,
}

impl std::fmt::Debug for FilterBar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterBar")
            .field("applied", &self.applied)
            .field("input", &self.input)
            .field("error", &self.error)
            .field("resolving", &self.resolving.as_ref().map(|j| &j.text))
            .finish_non_exhaustive()
    }
}

pub struct App {
    pub settings: TuiSettings,
    pub view: View,
    pub spec: QuerySpec,
    /// Header text for the scope (`pid 42`), when scoped.
    pub scope_label: Option<String>,
    /// The scoped pids that have exited (the header says so).
    pub scope_exited: Vec<u32>,
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
    /// The Namespaces view's groups, busiest first.
    pub netns: Vec<super::netns::NsGroup>,
    /// Namespaces whose sockets are open (Enter) in the Namespaces view.
    pub netns_open: HashSet<u64>,
    /// Marks, rates, socket keys and counter deltas of the latest refresh.
    pub changes: Changes,
    /// `delta::key` of every socket of the snapshot.
    pub keys: Vec<u64>,
    /// TCP connections on ephemeral ports and the size of the range, when known.
    pub ephemeral: Option<(u64, u64)>,
    /// State-machine moves since the previous refresh (the Lifecycle view).
    pub moves: super::lifecycle::Moves,
    preparer: Preparer,
    pub views: [ViewState; View::COUNT],
    /// Views whose rows are older than the snapshot (only the view shown is rebuilt each
    /// refresh), each with the row to select when it is shown again.
    stale: [Option<Option<RowId>>; View::COUNT],
    /// Snapshot indices in sort order.
    pub(super) order: Vec<usize>,
    pub collapsed: HashSet<GroupId>,
    pub sort: Sort,
    pub filter: FilterBar,
    pub paused: bool,
    pub interval: Duration,
    pub show_processes: bool,
    pub help: bool,
    pub detail: bool,
    /// The findings over the worker's window, worst first (from the latest refresh).
    pub findings: Vec<crate::findings::Finding>,
    /// The findings panel (`f`) is open.
    pub show_findings: bool,
    /// The finding selected in the panel (an index into `findings`).
    pub findings_selected: usize,
    pub panel: Option<Box<dyn Panel>>,
    /// Set when the view replays a recording (`sockeye replay`).
    pub replay: Option<super::replay::ReplayView>,
    /// Cell formatting context (numeric ports, the snapshot's source).
    pub cells: CellCtx,
    /// Body rows visible on screen (set by the terminal loop from the layout), for paging.
    pub page: usize,
    pub quit: bool,
    /// Ctrl-Z: the terminal loop gives the terminal back and stops the process.
    pub suspend: bool,
    /// The Closed view's connections.
    pub closed: ClosedLog,
    /// The snapshots are the live kernel's, so its destroy events describe them (not so
    /// for a recording).
    pub live_events: bool,
    /// Connections opened and closed per second, per listener and remote endpoint.
    pub rates: super::rates::Rates,
    /// `K`'s confirmation, while it is asked.
    pub confirm: Option<super::kill::KillPlan>,
    /// A one-line result (of `K`), until the next key.
    pub notice: Option<String>,
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
            scope_exited: Vec::new(),
            scope_needs_processes: false,
            hostname: String::new(),
            snapshot: None,
            elapsed: None,
            error: None,
            counts: StateCounts::default(),
            groups: Vec::new(),
            tree: ListenerTree::default(),
            netns: Vec::new(),
            netns_open: HashSet::new(),
            changes: Changes::default(),
            keys: Vec::new(),
            ephemeral: None,
            moves: Default::default(),
            preparer: Preparer::default(),
            views: Default::default(),
            stale: Default::default(),
            order: Vec::new(),
            collapsed,
            sort: Sort {
                column: Column::Local,
                descending: false,
            },
            paused: false,
            help: false,
            detail: false,
            findings: Vec::new(),
            show_findings: false,
            findings_selected: 0,
            panel: None,
            replay: None,
            page: 20,
            quit: false,
            suspend: false,
            closed: ClosedLog::default(),
            live_events: false,
            confirm: None,
            notice: None,
            rates: Default::default(),
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
    pub fn query(&self) -> Result<Query, String> {
        match &self.filter.compiled {
            Some(q) => Ok(with_needs(q.clone(), self.needs())),
            None => query::compose(
                &self.spec,
                &query::split_words(&self.filter.applied),
                self.needs(),
            ),
        }
    }

    pub fn view_state(&self) -> &ViewState {
        &self.views[self.view.index()]
    }

    pub(super) fn view_state_mut(&mut self) -> &mut ViewState {
        &mut self.views[self.view.index()]
    }

    /// The socket the selection points at: a socket row, or a listener row's listener.
    pub fn selected_socket(&self) -> Option<usize> {
        let vs = self.view_state();
        match vs.rows.get(vs.selected)? {
            Row::Socket { idx, .. } => Some(*idx),
            Row::Listener(g) | Row::NetnsListener(g) => {
                self.tree.listeners.get(*g).map(|l| l.listener)
            }
            _ => None,
        }
    }

    /// The closed connection the selection points at (Closed view).
    pub fn selected_closed(&self) -> Option<&super::closed::Closed> {
        let vs = self.view_state();
        match vs.rows.get(vs.selected)? {
            Row::Closed(seq) => self.closed.by_seq(*seq),
            _ => None,
        }
    }

    /// Apply a new snapshot: counts, history, deltas, groups and rows; the selection stays on
    /// the same socket or group when it still exists. (The terminal loop gets snapshots
    /// already prepared by the collector thread and calls [`App::apply_prepared`].)
    pub fn apply_snapshot(&mut self, snap: Snapshot, elapsed: Option<Duration>) {
        let p = prepare(&mut self.preparer, snap, self.sort);
        self.apply_prepared(p, elapsed);
    }

    /// Apply a snapshot prepared (grouped, compared, sorted) off the UI thread. Returns the
    /// snapshot it replaces, so the caller can hand its socket table back to the collector
    /// for reuse (see [`Command::Recycle`]) instead of freeing it here.
    pub fn apply_prepared(&mut self, p: Prepared, elapsed: Option<Duration>) -> Option<Snapshot> {
        let selected = self.selection_ids();
        let Prepared {
            snapshot,
            counts,
            groups,
            tree,
            mut changes,
            ephemeral,
            sort,
            order,
            moves,
            seen,
            steps: _,
            findings,
            exited,
        } = p;
        self.scope_exited = exited;
        self.moves = moves;
        self.moves.unseen_closes = self.unseen_closes(snapshot.taken_at);
        self.set_findings(findings);
        self.counts = counts;
        self.closed.observe_with(&snapshot, seen);
        self.history.push(&self.counts);
        self.keys = std::mem::take(&mut changes.keys);
        self.changes = changes;
        self.ephemeral = ephemeral;
        self.groups = groups;
        self.tree = tree;
        self.rates.observe(
            snapshot.taken_at,
            &self.tree,
            &snapshot.sockets,
            &self.changes.marks,
            &self.closed,
        );
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

    pub(super) fn row_id(&self, view: usize) -> Option<RowId> {
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
            Row::Closed(seq) => RowId::Closed(seq),
            Row::Netns(n) => RowId::Group(GroupId::Netns(self.netns.get(n)?.key())),
            Row::NetnsListener(g) => {
                RowId::Socket(*self.keys.get(self.tree.listeners.get(g)?.listener)?)
            }
        })
    }

    pub fn listener_group_id(&self, g: usize) -> Option<GroupId> {
        let l = self.tree.listeners.get(g)?;
        let s = self.snapshot.as_ref()?.sockets.get(l.listener)?;
        Some(GroupId::Listener(listener_key(s)))
    }

    pub(super) fn identity_of(&self, row: &Row) -> Option<RowId> {
        Some(match *row {
            Row::StateGroup(k) => RowId::Group(GroupId::State(k)),
            Row::Listener(g) => RowId::Group(self.listener_group_id(g)?),
            Row::OutboundHeader => RowId::Group(GroupId::Outbound),
            Row::Remote(r) => {
                let rg = self.tree.outbound.get(r)?;
                RowId::Group(GroupId::Remote(rg.addr, rg.port))
            }
            Row::Socket { idx, .. } => RowId::Socket(*self.keys.get(idx)?),
            Row::Closed(seq) => RowId::Closed(seq),
            Row::Netns(n) => RowId::Group(GroupId::Netns(self.netns.get(n)?.key())),
            Row::NetnsListener(g) => {
                RowId::Socket(*self.keys.get(self.tree.listeners.get(g)?.listener)?)
            }
        })
    }

    /// Rebuild the rows of the view shown (and of the Closed view, which does not depend on
    /// the snapshot) from the groups, the sort and the collapsed set, then put each selection
    /// back on the row it was on (by identity), or clamp it. The other views are marked
    /// stale with the row they had selected: at 100,000 sockets each view's rows cost
    /// milliseconds a refresh, and they are rebuilt when shown ([`App::show`]).
    pub(super) fn rebuild(&mut self, selected: Vec<Option<RowId>>) {
        let Some(snap) = self.snapshot.as_ref() else {
            return;
        };
        let n = snap.sockets.len();
        if self.order.len() != n {
            self.order = sorted_order(&snap.sockets, self.sort);
        }
        let shown = self.view;
        let wanted = |view: View| {
            view == shown
                || view == View::Closed
                // The Lifecycle view's rows are the States view's TCP part.
                || (view == View::States && shown == View::Lifecycle)
        };
        if wanted(View::Namespaces) {
            self.netns = super::netns::groups(&snap.sockets, &self.order, &self.tree);
        }
        // The row tables are refilled in place: at 100,000 sockets, fresh ones would cost
        // page faults every refresh.
        let mut rows_of: [Vec<Row>; View::COUNT] = std::array::from_fn(|v| {
            let mut rows = std::mem::take(&mut self.views[v].rows);
            if wanted(View::ALL[v]) {
                rows.clear();
            }
            rows
        });
        for &view in View::ALL {
            if !wanted(view) {
                self.stale[view.index()] = Some(selected.get(view.index()).cloned().flatten());
                continue;
            }
            let rows = &mut rows_of[view.index()];
            match view {
                View::States => self.state_rows(rows),
                View::Listeners => self.listener_rows(rows),
                View::Sockets => {
                    rows.extend(self.order.iter().map(|&idx| Row::Socket { idx, depth: 0 }))
                }
                View::Closed => self.closed_rows(rows),
                // The States view's TCP part, copied below rather than built again.
                View::Lifecycle => {}
                View::Namespaces => {
                    super::netns::rows(&self.netns, &self.collapsed, &self.netns_open, rows)
                }
            }
        }
        if wanted(View::Lifecycle) {
            let mut lifecycle = std::mem::take(&mut rows_of[View::Lifecycle.index()]);
            lifecycle_rows(&rows_of[View::States.index()], &mut lifecycle);
            rows_of[View::Lifecycle.index()] = lifecycle;
        }
        for (v, rows) in rows_of.into_iter().enumerate() {
            self.views[v].rows = rows;
            if !wanted(View::ALL[v]) {
                continue;
            }
            self.stale[v] = None;
            let want = selected.get(v).cloned().flatten();
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

    /// The States view: a row per state group, its sockets (in sort order) under it unless
    /// collapsed. One pass over the sorted order, so every group comes out sorted without
    /// sorting each again.
    fn state_rows(&self, rows: &mut Vec<Row>) {
        let n = self.snapshot.as_ref().map_or(0, |s| s.sockets.len());
        let mut state_of = vec![0u8; n];
        for (gi, g) in self.groups.iter().enumerate() {
            for &i in &g.members {
                state_of[i] = gi as u8;
            }
        }
        let mut buckets: Vec<Vec<usize>> = self
            .groups
            .iter()
            .map(|g| Vec::with_capacity(g.members.len()))
            .collect();
        for &i in &self.order {
            if let Some(b) = state_of.get(i).and_then(|&g| buckets.get_mut(g as usize)) {
                b.push(i);
            }
        }
        for (g, members) in self.groups.iter().zip(buckets) {
            rows.push(Row::StateGroup(g.key));
            if !self.collapsed.contains(&GroupId::State(g.key)) {
                rows.extend(members.into_iter().map(|idx| Row::Socket { idx, depth: 1 }));
            }
        }
    }

    /// The Listeners view: each listener with its connections, then the outbound
    /// connections grouped by remote endpoint.
    fn listener_rows(&self, rows: &mut Vec<Row>) {
        let Some(snap) = self.snapshot.as_ref() else {
            return;
        };
        let socks = &snap.sockets;
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
        for &i in &self.order {
            if let Some(b) = owner.get(i).and_then(|&o| tree_buckets.get_mut(o as usize)) {
                b.push(i);
            }
        }
        drop(owner);
        let mut buckets = tree_buckets.into_iter();
        for (gi, lg) in self.tree.listeners.iter().enumerate() {
            rows.push(Row::Listener(gi));
            let kids = buckets.next().unwrap_or_default();
            let id = GroupId::Listener(listener_key(&socks[lg.listener]));
            if !self.collapsed.contains(&id) {
                rows.extend(kids.into_iter().map(|idx| Row::Socket { idx, depth: 1 }));
            }
        }
        if !self.tree.outbound.is_empty() {
            rows.push(Row::OutboundHeader);
            let outbound_open = !self.collapsed.contains(&GroupId::Outbound);
            for (ri, rg) in self.tree.outbound.iter().enumerate() {
                let members = buckets.next().unwrap_or_default();
                if !outbound_open {
                    continue;
                }
                rows.push(Row::Remote(ri));
                if !self.collapsed.contains(&GroupId::Remote(rg.addr, rg.port)) {
                    rows.extend(members.into_iter().map(|idx| Row::Socket { idx, depth: 2 }));
                }
            }
        }
    }

    /// Destroy events of TCP connections freed since the snapshot shown (up to `now`) that
    /// no snapshot saw (by cookie; a request's cookie changes when it becomes a socket, so a
    /// connection seen only in SYN-RECV counts here too). None without events.
    fn unseen_closes(&self, now: std::time::SystemTime) -> Option<u32> {
        if self.closed.source != super::closed::ClosedSource::Events {
            return None;
        }
        let prev = self.snapshot.as_ref()?.taken_at;
        let n = self
            .closed
            .entries
            .iter()
            .rev()
            .take_while(|c| c.at > prev)
            .filter(|c| {
                c.at <= now && c.last_state.is_none() && c.socket.netid == crate::model::Netid::Tcp
            })
            .count();
        Some(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The Closed view: the kept closed connections the filter expression keeps (states
    /// aside: every freed socket is CLOSE), newest first, or by the sort column when one
    /// other than the default is chosen.
    fn closed_rows(&self, rows: &mut Vec<Row>) {
        let keep = self.query().ok().and_then(|q| q.keep);
        let kept = self
            .closed
            .entries
            .iter()
            .rev()
            .filter(|c| keep.as_ref().is_none_or(|k| k(&c.socket)));
        // The default sort means the view's own order: newest first.
        if self.sort.column == Column::Local && !self.sort.descending {
            rows.extend(kept.map(|c| Row::Closed(c.seq)));
            return;
        }
        let mut v: Vec<_> = kept.collect();
        v.sort_by(|a, b| {
            let o = self
                .sort
                .column
                .sort_key(&a.socket)
                .cmp(&self.sort.column.sort_key(&b.socket));
            if self.sort.descending { o.reverse() } else { o }
        });
        rows.extend(v.into_iter().map(|c| Row::Closed(c.seq)));
    }

    /// Refill the Closed view's rows alone (closes arrive between snapshots). At the top it
    /// stays at the top, following the newest; elsewhere it stays on the same connection.
    pub fn refresh_closed(&mut self) {
        let v = View::Closed.index();
        let at_top = self.views[v].selected == 0;
        let want = self.row_id(v);
        let mut rows = std::mem::take(&mut self.views[v].rows);
        rows.clear();
        self.closed_rows(&mut rows);
        let page = self.page;
        let vs = &mut self.views[v];
        vs.rows = rows;
        if !at_top
            && let Some(RowId::Closed(seq)) = want
            && let Some(i) = vs.rows.iter().position(|r| *r == Row::Closed(seq))
        {
            vs.selected = i;
        }
        vs.selected = vs.selected.min(vs.rows.len().saturating_sub(1));
        vs.offset = scroll(vs.offset, vs.selected, page, vs.rows.len());
    }

    pub(super) fn rebuild_keep(&mut self) {
        let selected = self.selection_ids();
        self.rebuild(selected);
    }

    /// The row each view has selected, by identity (a stale view's: the one it had).
    fn selection_ids(&self) -> Vec<Option<RowId>> {
        (0..View::COUNT)
            .map(|v| match &self.stale[v] {
                Some(pending) => pending.clone(),
                None => self.row_id(v),
            })
            .collect()
    }

    /// Show `view`, bringing its rows up to date first if they are stale.
    pub fn show(&mut self, view: View) {
        self.view = view;
        self.freshen();
    }

    /// Rebuild the shown view's rows if a refresh left them stale (the terminal loop calls
    /// this before drawing, so a view is never drawn from an older snapshot's rows).
    pub fn freshen(&mut self) {
        if self.stale[self.view.index()].is_some() {
            let selected = self.selection_ids();
            self.rebuild(selected);
        }
    }

    /// The terminal loop reports how many body rows fit.
    pub fn set_page(&mut self, rows: usize) {
        self.page = rows.max(1);
        for vs in &mut self.views {
            vs.offset = scroll(vs.offset, vs.selected, self.page, vs.rows.len());
        }
    }
}

/// Keep `selected` visible in a window of `page` rows starting at `offset`.
/// The Lifecycle view's list under the diagram: the States view's rows of TCP states
/// (copied: building them again would cost a second pass over the table).
fn lifecycle_rows(states: &[Row], rows: &mut Vec<Row>) {
    let mut tcp = false;
    rows.extend(states.iter().copied().filter(|r| {
        if let Row::StateGroup(k) = r {
            tcp = matches!(k, crate::group::StateGroupKey::Tcp(_));
        }
        tcp
    }));
}

pub(super) fn scroll(offset: usize, selected: usize, page: usize, len: usize) -> usize {
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

/// `q` with the needs of the moment: what [`query::compose`] sets from [`Needs`].
pub(super) fn with_needs(mut q: Query, needs: Needs) -> Query {
    q.processes = needs.processes;
    q.tcp_info = needs.details;
    q.memory = needs.details;
    q
}
