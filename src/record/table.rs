//! The sockets of one moment, rebuilt frame by frame: a full frame replaces the table, a
//! delta removes and upserts by key.
//!
//! From format 1.1 a socket's timer counts down: the writer leaves out a socket whose timer
//! only ran down since it was written, so the table keeps when each socket was written and
//! shows its timer as of the moment.

use std::time::{Duration, SystemTime};

use rustc_hash::FxHashMap;

use super::frame::{Body, Frame, Key};
use crate::model::{Socket, TimerKind};

/// The sockets of a moment, in the order the recording first saw them.
#[derive(Default, Clone)]
pub struct Table {
    slots: Vec<Option<Socket>>,
    /// When each slot's socket was written, where its timer counts down (1.1 files).
    written: Vec<Option<SystemTime>>,
    index: FxHashMap<Key, usize>,
    /// The time of the last frame applied.
    now: Option<SystemTime>,
    /// Whether the frame being applied counts timers down.
    countdown: bool,
}

impl Table {
    /// Applies a frame; `countdown` where its file counts timers down (format 1.1 on).
    pub fn apply_frame(&mut self, f: &Frame, countdown: bool) {
        self.now = Some(f.at);
        self.countdown = countdown;
        self.apply(&f.body);
        self.countdown = false;
    }

    /// As [`Table::apply_frame`], moving the frame's sockets in rather than copying them.
    pub fn take_frame(&mut self, at: std::time::SystemTime, body: Body, countdown: bool) {
        self.now = Some(at);
        self.countdown = countdown;
        let stamp = self.stamp();
        match body {
            Body::Full(sockets) => self.replace_all(sockets.into_iter(), stamp),
            body @ Body::Delta { .. } => self.apply(&body),
        }
        self.countdown = false;
    }

    /// A full frame: every socket, even two sharing a key (the writer makes the next frame
    /// full).
    fn replace_all(
        &mut self,
        sockets: impl ExactSizeIterator<Item = Socket>,
        stamp: Option<SystemTime>,
    ) {
        self.slots.clear();
        self.written.clear();
        self.index.clear();
        self.index.reserve(sockets.len());
        self.slots.reserve(sockets.len());
        for s in sockets {
            self.index.insert(Key::of(&s), self.slots.len());
            self.slots.push(Some(s));
            self.written.push(stamp);
        }
    }

    fn stamp(&self) -> Option<SystemTime> {
        if self.countdown { self.now } else { None }
    }

    pub fn apply(&mut self, body: &Body) {
        let stamp = self.stamp();
        match body {
            Body::Full(sockets) => self.replace_all(sockets.iter().cloned(), stamp),
            Body::Delta { vanished, upserted } => {
                for k in vanished {
                    if let Some(i) = self.index.remove(k) {
                        self.slots[i] = None;
                        self.written[i] = None;
                    }
                }
                for s in upserted {
                    self.upsert(s);
                }
                // Vanished sockets leave holes; compact when they are most of the table, so
                // a long replay does not grow without bound.
                if self.slots.len() > 1024 && self.index.len() < self.slots.len() / 2 {
                    self.compact();
                }
            }
        }
    }

    fn upsert(&mut self, s: &Socket) {
        let k = Key::of(s);
        let stamp = self.stamp();
        match self.index.get(&k) {
            Some(&i) => {
                self.slots[i] = Some(s.clone());
                self.written[i] = stamp;
            }
            None => {
                self.index.insert(k, self.slots.len());
                self.slots.push(Some(s.clone()));
                self.written.push(stamp);
            }
        }
    }

    fn compact(&mut self) {
        let mut keep = self.slots.iter().map(Option::is_some);
        self.written.retain(|_| keep.next().unwrap_or(false));
        self.slots.retain(Option::is_some);
        self.index.clear();
        for (i, s) in self.slots.iter().enumerate() {
            if let Some(s) = s {
                self.index.insert(Key::of(s), i);
            }
        }
    }

    pub fn get(&self, k: &Key) -> Option<&Socket> {
        self.index.get(k).and_then(|i| self.slots[*i].as_ref())
    }

    pub fn map(&self) -> FxHashMap<Key, Socket> {
        self.iter().map(|s| (Key::of(s), s.clone())).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Socket> {
        self.slots.iter().flatten()
    }

    /// The sockets as of the last frame applied, timers counted down to it.
    pub fn sockets(&self) -> Vec<Socket> {
        self.slots
            .iter()
            .zip(&self.written)
            .filter_map(|(s, w)| {
                let mut s = s.clone()?;
                if let (Some(t), Some(w), Some(now)) = (s.timer.as_mut(), w, self.now)
                    && t.kind != TimerKind::Off
                {
                    let gone = now.duration_since(*w).unwrap_or(Duration::ZERO);
                    let ms = u64::try_from(gone.as_millis()).unwrap_or(u64::MAX);
                    t.expires_ms = t.expires_ms.saturating_sub(ms);
                }
                Some(s)
            })
            .collect()
    }
}
