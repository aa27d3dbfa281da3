//! The sockets of one moment, rebuilt frame by frame: a full frame replaces the table, a
//! delta removes and upserts by key.

use rustc_hash::FxHashMap;

use super::frame::{Body, Key};
use crate::model::Socket;

/// The sockets of a moment, in the order the recording first saw them.
#[derive(Default, Clone)]
pub struct Table {
    slots: Vec<Option<Socket>>,
    index: FxHashMap<Key, usize>,
}

impl Table {
    pub fn apply(&mut self, body: &Body) {
        match body {
            Body::Full(sockets) => {
                self.slots.clear();
                self.index.clear();
                // Every socket, even two sharing a key (the writer makes the next frame full).
                for s in sockets {
                    self.index.insert(Key::of(s), self.slots.len());
                    self.slots.push(Some(s.clone()));
                }
            }
            Body::Delta { vanished, upserted } => {
                for k in vanished {
                    if let Some(i) = self.index.remove(k) {
                        self.slots[i] = None;
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
        match self.index.get(&k) {
            Some(&i) => self.slots[i] = Some(s.clone()),
            None => {
                self.index.insert(k, self.slots.len());
                self.slots.push(Some(s.clone()));
            }
        }
    }

    fn compact(&mut self) {
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

    pub fn sockets(&self) -> Vec<Socket> {
        self.iter().cloned().collect()
    }
}
