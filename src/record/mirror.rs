//! The writer's copy of the table a reader rebuilds: each socket as last written. Matching a
//! snapshot against it is the recorder's main cost at 100,000 sockets, so it is one pass
//! with no per-frame map or key list:
//!
//! - A socket is looked for first where the last frame listed it (the kernel dumps its
//!   tables in a stable order), then by key in a hash index; the index is touched only for
//!   sockets that appeared, moved or follow a vanished one.
//! - Each slot carries the number of the frame that last saw it: one seen twice in a frame
//!   is a shared key, one not seen vanished. Finding those is a scan of a flat array.

use std::mem;

use rustc_hash::FxHashMap;

use super::frame::Key;
use crate::model::{Netid, Socket, TimerKind};

/// A timer that ran down by the time between two frames, give or take this much, is
/// unchanged: where in a netlink dump a socket comes moves its reading by a few ms.
pub const TIMER_SLACK_MS: i64 = 250;

/// `seen` of a free slot (frames are numbered from 1).
const FREE: u64 = 0;

struct Slot {
    sock: Socket,
    /// When it was written (ms): its timer counts down from there.
    at: i64,
}

/// What matching one snapshot found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Matched {
    /// Indices (in the snapshot) of the sockets that appeared or changed.
    pub changed: Vec<usize>,
    /// Whether no two sockets of the snapshot share a key.
    pub unique: bool,
}

#[derive(Default)]
pub struct Mirror {
    slots: Vec<Slot>,
    /// Per slot, the frame that last saw it ([`FREE`]: none, the slot is unused). Apart from
    /// the slots so the vanished scan reads 8 bytes a socket.
    seen: Vec<u64>,
    /// Per slot, its index in the last snapshot that listed it. Apart from the slots too, so
    /// an unchanged socket's slot is only read.
    pos: Vec<usize>,
    free: Vec<usize>,
    /// Slots by key: sockets with a cookie (netlink) apart, a small key cheap to hash.
    cookies: FxHashMap<(Netid, u64), usize>,
    ends: FxHashMap<Key, usize>,
    /// The slot of each socket of the last snapshot, in its order.
    order: Vec<usize>,
    spare_order: Vec<usize>,
    /// The number of the last frame matched.
    frame: u64,
    /// Slots in use, and how many of them the last frame saw.
    live: usize,
    seen_now: usize,
}

impl Mirror {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.live
    }

    /// The socket of `key` as last written, with its time.
    #[cfg(test)]
    pub fn get(&self, key: &Key) -> Option<(&Socket, i64)> {
        let id = match key {
            Key::Cookie(n, c) => self.cookies.get(&(*n, *c)),
            Key::Ends(..) => self.ends.get(key),
        }?;
        let s = &self.slots[*id];
        Some((&s.sock, s.at))
    }

    fn find(&self, s: &Socket) -> Option<usize> {
        match s.cookie {
            Some(c) => self.cookies.get(&(s.netid, c)).copied(),
            None => self.ends.get(&Key::of(s)).copied(),
        }
    }

    fn insert(&mut self, s: &Socket, at: i64, pos: usize) -> usize {
        let id = match self.free.pop() {
            Some(id) => {
                let slot = &mut self.slots[id];
                // Reuses the old socket's allocations where it had any.
                slot.sock.clone_from(s);
                slot.at = at;
                self.pos[id] = pos;
                id
            }
            None => {
                self.slots.push(Slot {
                    sock: s.clone(),
                    at,
                });
                self.seen.push(FREE);
                self.pos.push(pos);
                self.slots.len() - 1
            }
        };
        match s.cookie {
            Some(c) => self.cookies.insert((s.netid, c), id),
            None => self.ends.insert(Key::of(s), id),
        };
        self.live += 1;
        id
    }

    /// Matches `sockets` (taken at `now`, ms) against the table and makes the table them:
    /// changed and new sockets are copied in, stamped `now`; a socket whose timer only ran
    /// down keeps its old copy and time. Of sockets sharing a key the table keeps the last.
    /// Sockets not in `sockets` stay until [`Mirror::sweep`].
    pub fn update(&mut self, sockets: &[Socket], now: i64, out: &mut Matched) {
        out.changed.clear();
        out.unique = true;
        self.frame += 1;
        let frame = self.frame;
        self.seen_now = 0;
        let mut order = mem::take(&mut self.spare_order);
        order.clear();
        order.reserve(sockets.len());
        // Where in the last frame's order the next socket is expected.
        let mut at = 0;
        for (i, s) in sockets.iter().enumerate() {
            let hit = match self.order.get(at) {
                Some(&id) if same_key(&self.slots[id].sock, s) => Some(id),
                _ => self.find(s),
            };
            let Some(id) = hit else {
                let id = self.insert(s, now, i);
                self.seen[id] = frame;
                self.seen_now += 1;
                out.changed.push(i);
                order.push(id);
                continue;
            };
            let slot = &mut self.slots[id];
            at = self.pos[id] + 1;
            if self.seen[id] == frame {
                // A second socket with this key (only /proc gives that): the frame is full
                // anyway; keep the last, as a reader's table does.
                out.unique = false;
                slot.sock.clone_from(s);
                slot.at = now;
                out.changed.push(i);
            } else {
                self.seen[id] = frame;
                self.seen_now += 1;
                if !same(&slot.sock, slot.at, s, now) {
                    slot.sock.clone_from(s);
                    slot.at = now;
                    out.changed.push(i);
                }
            }
            self.pos[id] = i;
            order.push(id);
        }
        self.spare_order = mem::replace(&mut self.order, order);
    }

    /// Drops the sockets the last [`Mirror::update`] did not see, their keys appended to
    /// `vanished` when given.
    pub fn sweep(&mut self, mut vanished: Option<&mut Vec<Key>>) {
        if self.seen_now == self.live {
            return;
        }
        for id in 0..self.seen.len() {
            let seen = self.seen[id];
            if seen == FREE || seen == self.frame {
                continue;
            }
            let sock = &self.slots[id].sock;
            let key = Key::of(sock);
            match key {
                Key::Cookie(n, c) => {
                    self.cookies.remove(&(n, c));
                }
                Key::Ends(..) => {
                    self.ends.remove(&key);
                }
            }
            if let Some(v) = vanished.as_deref_mut() {
                v.push(key);
            }
            self.seen[id] = FREE;
            self.free.push(id);
            self.live -= 1;
        }
    }

    /// After a full frame, which writes every timer as it is now: each socket's timer as
    /// `sockets` (the frame's, last matched) has it, counting down from `now`.
    pub fn rewrite_timers(&mut self, sockets: &[Socket], now: i64) {
        for ((slot, &seen), &pos) in self.slots.iter_mut().zip(&self.seen).zip(&self.pos) {
            // Only a socket that frame saw has its place in `sockets`.
            if seen != self.frame {
                continue;
            }
            if let Some(s) = sockets.get(pos) {
                slot.sock.timer = s.timer;
            }
            if slot.sock.timer.is_some() {
                slot.at = now;
            }
        }
    }
}

/// Whether two sockets have one [`Key`] (without building it).
fn same_key(a: &Socket, b: &Socket) -> bool {
    a.netid == b.netid
        && match (a.cookie, b.cookie) {
            (Some(x), Some(y)) => x == y,
            (None, None) => a.inode == b.inode && a.local == b.local && a.peer == b.peer,
            _ => false,
        }
}

/// Whether `s` (taken at `now`, ms) reads back as `p` (written at `at`) with its timer
/// counted down: everything equal, and the timer's expiry within [`TIMER_SLACK_MS`].
fn same(p: &Socket, at: i64, s: &Socket, now: i64) -> bool {
    let timers = match (p.timer, s.timer) {
        (None, None) => true,
        // A timer that is not running does not count down: its value is compared as it is.
        (Some(a), Some(b)) if a.kind == TimerKind::Off => a == b,
        (Some(a), Some(b)) => {
            let ms = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
            let (ea, eb) = (
                at.saturating_add(ms(a.expires_ms)),
                now.saturating_add(ms(b.expires_ms)),
            );
            a.kind == b.kind && a.retrans == b.retrans && ea.abs_diff(eb) <= TIMER_SLACK_MS as u64
        }
        _ => false,
    };
    timers && same_but_timer(p, s)
}

/// Every field but the timer equal. Spelled out (no `..`) so a field added to [`Socket`]
/// does not compile until it is compared here too; the fields that change most come first.
fn same_but_timer(p: &Socket, s: &Socket) -> bool {
    let Socket {
        netid,
        state,
        recv_q,
        send_q,
        local,
        peer,
        inode,
        uid,
        cookie,
        ifindex,
        v6only,
        timer: _,
        tcp_info,
        memory,
        details,
        processes,
        netns,
    } = p;
    *state == s.state
        && *recv_q == s.recv_q
        && *send_q == s.send_q
        && *netid == s.netid
        && *cookie == s.cookie
        && *inode == s.inode
        && *local == s.local
        && *peer == s.peer
        && *uid == s.uid
        && *ifindex == s.ifindex
        && *v6only == s.v6only
        && *tcp_info == s.tcp_info
        && *memory == s.memory
        && *details == s.details
        && *processes == s.processes
        && *netns == s.netns
}
