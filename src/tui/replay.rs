//! `sockeye replay`: the live view on a recording. [`ReplaySource`] stands in for the
//! collector (the worker asks it for snapshots as it asks the collector) and moves through
//! the recording on the UI's orders; [`ReplayView`] is what the UI keeps of it (the timeline,
//! the go-to prompt). The views, filter, sort, details and history work as live because they
//! see ordinary snapshots.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use crate::collect::Query;
use crate::config::keys::ReplayKey;
use crate::group::{StateCounts, StateHistory};
use crate::model::Snapshot;
use crate::record::dump::wanted;
use crate::record::{Cursor, Recording};

use super::state::App;
use super::worker::{Command, SnapshotSource};

/// Play speeds `[` and `]` step through.
pub const SPEEDS: [u32; 6] = [1, 2, 5, 10, 30, 60];

/// What the UI orders the replay to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Frames forward (positive) or back.
    Step(i64),
    /// A span of recorded time forward or back.
    Jump {
        forward: bool,
        by: Duration,
    },
    GoTo(SystemTime),
    Play(bool),
    Speed(u32),
}

/// Where the replay is, sent with every snapshot.
#[derive(Clone, Debug)]
pub struct Position {
    pub index: usize,
    pub frames: usize,
    pub at: SystemTime,
    pub start: SystemTime,
    pub end: SystemTime,
    pub interval: Duration,
    /// Spans in which nothing was recorded.
    pub gaps: Vec<(SystemTime, SystemTime)>,
    pub playing: bool,
    pub speed: u32,
    /// The counts of the frames up to this one (oldest first), for the history sparklines.
    pub history: Vec<StateCounts>,
    /// Something the move met: the end, the start, a gap.
    pub note: Option<String>,
}

/// The recording as a snapshot source.
pub struct ReplaySource {
    rec: Recording,
    cursor: Cursor,
    query: Query,
    pos: usize,
    playing: bool,
    speed: u32,
    /// When the frame at `pos` was due (while playing).
    due: Instant,
    /// Counts of the frames `history.front().0 ..= pos`, each as the filter selects.
    history: VecDeque<(usize, StateCounts)>,
    history_len: usize,
    note: Option<String>,
    /// Frames arrived after the file was opened (the recorder is still writing it).
    following: bool,
}

const END: &str = "the end of the recording";

impl ReplaySource {
    /// Positioned at frame `at`, paused.
    pub fn new(rec: Recording, query: Query, at: usize, history_len: usize) -> ReplaySource {
        ReplaySource {
            pos: at.min(rec.len().saturating_sub(1)),
            rec,
            cursor: Cursor::default(),
            query,
            playing: false,
            speed: 1,
            due: Instant::now(),
            history: VecDeque::new(),
            history_len: history_len.max(1),
            note: None,
            following: false,
        }
    }

    fn last(&self) -> usize {
        self.rec.len().saturating_sub(1)
    }

    /// The recorded time between frame `i` and the next, a gap counted as one interval (so
    /// playing does not sit through it).
    fn step_after(&self, i: usize) -> Duration {
        let e = self.rec.entries();
        let interval = self.rec.header.interval;
        match (e.get(i), e.get(i + 1)) {
            (Some(a), Some(b)) => {
                b.at.duration_since(a.at)
                    .unwrap_or_default()
                    .min(interval * 2)
            }
            _ => interval,
        }
    }

    /// Bring the cursor and the history to `pos`, counting every frame on the way.
    fn settle(&mut self) -> anyhow::Result<()> {
        let target = self.pos;
        // Back within the window (half of it kept at least): the counts are known, only the
        // moment is rebuilt.
        let keep = self.history_len.div_ceil(2);
        if let (Some((front, _)), Some((back, _))) = (self.history.front(), self.history.back())
            && *front + keep <= target
            && target < *back
        {
            while self.history.back().is_some_and(|(j, _)| *j > target) {
                self.history.pop_back();
            }
            self.cursor.seek(&self.rec, target, |_, _| {})?;
            return Ok(());
        }
        let contiguous = self
            .history
            .back()
            .is_some_and(|(j, _)| *j <= target && target - *j <= self.history_len);
        let first = if contiguous {
            self.history.back().map_or(0, |(j, _)| *j + 1)
        } else {
            self.history.clear();
            let first = (target + 1).saturating_sub(self.history_len);
            self.cursor.seek(&self.rec, first, |_, _| {})?;
            self.history.push_back((first, self.counts()));
            first + 1
        };
        for k in first..=target {
            self.cursor.seek(&self.rec, k, |_, _| {})?;
            self.history.push_back((k, self.counts()));
        }
        while self.history.len() > self.history_len {
            self.history.pop_front();
        }
        Ok(())
    }

    fn counts(&self) -> StateCounts {
        let mut c = StateCounts::default();
        for s in self.cursor.table().iter() {
            if wanted(&self.query, s) {
                c.add(s);
            }
        }
        c
    }

    fn gap_note(&self) -> Option<String> {
        let g = self.rec.gaps.iter().find(|g| g.next == self.pos)?;
        let span = g.to.duration_since(g.from).unwrap_or_default();
        let since = crate::record::when::format_rfc3339(g.from);
        Some(format!(
            "after a {} gap (nothing recorded since {}Z)",
            crate::record::when::format_span(Duration::from_secs(span.as_secs())),
            since.get(11..19).unwrap_or(&since)
        ))
    }

    fn go(&mut self, i: usize) {
        self.pos = i.min(self.last());
        self.due = Instant::now();
        self.note = self.gap_note();
    }
}

impl SnapshotSource for ReplaySource {
    fn snapshot(&mut self) -> anyhow::Result<Snapshot> {
        // A recording still being written: its end moves on.
        if self.rec.follow() > 0 {
            self.following = true;
            if self.note.as_deref() == Some(END) {
                self.note = None;
            }
        }
        if self.playing {
            let now = Instant::now();
            while self.pos < self.last() {
                let step = self.step_after(self.pos) / self.speed;
                if self.due + step > now {
                    break;
                }
                self.due += step;
                self.pos += 1;
                if let Some(n) = self.gap_note() {
                    self.note = Some(n);
                }
            }
            // Playing a recording being written waits at its end for the next frame.
            if self.pos >= self.last() && !self.following {
                self.playing = false;
                self.note = Some(END.into());
            }
        }
        self.settle()?;
        let mut snap = self.cursor.snapshot();
        snap.sockets.retain(|s| wanted(&self.query, s));
        Ok(snap)
    }

    fn set_query(&mut self, query: Query) {
        self.query = query;
        // The counts follow the filter.
        self.history.clear();
    }

    fn control(&mut self, order: Order) {
        let e = self.rec.entries();
        let Some(now) = e.get(self.pos).map(|e| e.at) else {
            return;
        };
        match order {
            Order::Step(n) => {
                let i = if n < 0 {
                    self.pos.saturating_sub(n.unsigned_abs() as usize)
                } else {
                    self.pos.saturating_add(n as usize)
                };
                if n < 0 && self.pos == 0 {
                    self.go(0);
                    self.note = Some("the start of the recording".into());
                } else if n > 0 && self.pos >= self.last() {
                    self.go(i);
                    self.note = Some("the end of the recording".into());
                } else {
                    self.go(i);
                }
            }
            Order::Jump { forward, by } => {
                let past_end = forward && now + by > self.rec.end();
                let before_start =
                    !forward && now.checked_sub(by).is_none_or(|t| t < self.rec.start());
                let i = if forward {
                    let t = now + by;
                    // At least one frame on, also when a gap follows.
                    self.rec
                        .frame_at(t)
                        .unwrap_or(0)
                        .max(self.pos + 1)
                        .min(self.last())
                } else {
                    now.checked_sub(by)
                        .and_then(|t| self.rec.frame_at(t))
                        .unwrap_or(0)
                };
                self.go(i);
                if past_end {
                    self.note = Some("the end of the recording".into());
                } else if before_start {
                    self.note = Some("the start of the recording".into());
                }
            }
            Order::GoTo(t) => match self.rec.frame_at(t) {
                Some(i) => {
                    self.go(i);
                    if t > self.rec.end() {
                        self.note = Some("after the recording: showing its last moment".into());
                    }
                }
                None => {
                    self.go(0);
                    self.note = Some("before the recording: showing its first moment".into());
                }
            },
            Order::Play(on) => {
                self.playing = on && (self.pos < self.last() || self.following);
                self.due = Instant::now();
                self.note = (on && !self.playing).then(|| "the end of the recording".into());
            }
            Order::Speed(s) => {
                self.speed = s.clamp(1, 60);
            }
        }
        if self.playing && !matches!(order, Order::Play(_) | Order::Speed(_)) {
            self.due = Instant::now();
        }
    }

    fn position(&self) -> Option<Position> {
        let e = self.rec.entries();
        Some(Position {
            index: self.pos,
            frames: e.len(),
            at: e.get(self.pos).map_or(self.rec.start(), |e| e.at),
            start: self.rec.start(),
            end: self.rec.end(),
            interval: self.rec.header.interval,
            gaps: self.rec.gaps.iter().map(|g| (g.from, g.to)).collect(),
            playing: self.playing,
            speed: self.speed,
            history: self.history.iter().map(|(_, c)| *c).collect(),
            note: self.note.clone(),
        })
    }

    fn interval(&self) -> Option<Duration> {
        if !self.playing {
            // Nothing changes until an order arrives (which wakes the worker at once), unless
            // a recorder is still writing the file (its last frame is recent): then look for
            // new frames once an interval.
            let interval = self.rec.header.interval;
            let recent = std::time::SystemTime::now()
                .duration_since(self.rec.end())
                .is_ok_and(|d| d <= interval * 2 + Duration::from_secs(1));
            return Some(if self.following || recent {
                interval.clamp(Duration::from_millis(200), Duration::from_secs(5))
            } else {
                Duration::from_secs(3600)
            });
        }
        let next = self.due + self.step_after(self.pos) / self.speed;
        Some(
            next.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(10)),
        )
    }
}

/// What the UI keeps of the replay.
#[derive(Debug, Default)]
pub struct ReplayView {
    /// The file(s) replayed, for the header.
    pub label: String,
    /// The latest position (None before the first snapshot).
    pub position: Option<Position>,
    /// The go-to prompt's text, while it is open.
    pub goto: Option<String>,
    /// Why the last key did nothing, or why a typed time did not parse.
    pub message: Option<String>,
    /// What the UI asked for last (the position confirms it).
    pub playing: bool,
    pub speed: u32,
}

impl App {
    /// A replay's answer to a key: its own actions, play/pause, and a refusal of the live
    /// ones. None: the action works as live.
    pub(super) fn replay_action(
        &mut self,
        action: crate::config::keys::Action,
    ) -> Option<Vec<Command>> {
        use crate::config::keys::Action;
        let r = self.replay.as_mut()?;
        r.message = None;
        match action {
            Action::Replay(k) => Some(match k {
                ReplayKey::Back => vec![Command::Replay(Order::Step(-1))],
                ReplayKey::Forward => vec![Command::Replay(Order::Step(1))],
                ReplayKey::MinuteBack => vec![Command::Replay(Order::Jump {
                    forward: false,
                    by: Duration::from_secs(60),
                })],
                ReplayKey::MinuteForward => vec![Command::Replay(Order::Jump {
                    forward: true,
                    by: Duration::from_secs(60),
                })],
                ReplayKey::GoTo => {
                    r.goto = Some(String::new());
                    Vec::new()
                }
                ReplayKey::Slower | ReplayKey::Faster => {
                    let up = k == ReplayKey::Faster;
                    let cur = SPEEDS.iter().position(|s| *s == r.speed).unwrap_or(0);
                    let next = if up {
                        (cur + 1).min(SPEEDS.len() - 1)
                    } else {
                        cur.saturating_sub(1)
                    };
                    r.speed = SPEEDS[next];
                    vec![Command::Replay(Order::Speed(r.speed))]
                }
            }),
            Action::Pause => {
                r.playing = !r.playing;
                Some(vec![Command::Replay(Order::Play(r.playing))])
            }
            a if a.live_only() => {
                r.message = Some(match a {
                    Action::Slower | Action::Faster => {
                        "a recording keeps its own interval: [ and ] set the play speed".into()
                    }
                    Action::Kill => "not in a replay: closing sockets needs live sockets".into(),
                    _ => "not in a replay: the demo's keys need live sockets".into(),
                });
                Some(Vec::new())
            }
            _ => None,
        }
    }

    /// A key no binding takes, in a replay: killing and the demo's keys act on live sockets.
    pub(super) fn replay_unbound(&mut self, c: char) -> bool {
        let Some(r) = self.replay.as_mut() else {
            return false;
        };
        r.message = Some(format!(
            "{}: nothing in a replay (killing and the demo's keys need live sockets; ? lists the keys)",
            crate::text::escape(&c.to_string())
        ));
        true
    }

    /// The go-to prompt: Enter parses the time as `dump --at` does, Esc closes.
    pub(super) fn replay_prompt_key(
        &mut self,
        key: ratatui::crossterm::event::KeyEvent,
    ) -> Option<Vec<Command>> {
        use ratatui::crossterm::event::{KeyCode, KeyModifiers};
        let r = self.replay.as_mut()?;
        let input = r.goto.as_mut()?;
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            return None; // Ctrl-C and Ctrl-Z keep working
        }
        match key.code {
            KeyCode::Esc => {
                r.goto = None;
                r.message = None;
            }
            KeyCode::Backspace => {
                input.pop();
            }
            KeyCode::Char(c) if input.len() < 64 => input.push(c),
            KeyCode::Enter => {
                let text = input.trim().to_string();
                let start = r
                    .position
                    .as_ref()
                    .map_or(SystemTime::UNIX_EPOCH, |p| p.start);
                match crate::record::when::parse_moment(&text, start) {
                    Ok(t) => {
                        r.goto = None;
                        r.message = None;
                        return Some(vec![Command::Replay(Order::GoTo(t))]);
                    }
                    Err(e) => r.message = Some(e),
                }
            }
            _ => {}
        }
        Some(Vec::new())
    }

    /// A snapshot's position arrived with it: the timeline, and the history sparklines as
    /// recorded up to this moment (not as visited).
    pub fn apply_position(&mut self, p: Position) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        let mut h = StateHistory::new(self.settings.history);
        for c in &p.history {
            h.push(c);
        }
        self.history = h;
        r.playing = p.playing;
        r.speed = p.speed;
        self.interval = p.interval;
        r.position = Some(p);
    }
}
