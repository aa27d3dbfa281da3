//! Grouping of a snapshot's sockets, independent of any front end: by state (lifecycle order),
//! by listener (each listening socket with the connections it accepted or is accepting, and
//! outbound connections by remote endpoint), accept-queue fill, per-state counts and history
//! rings for sparklines. The TUI and the exporter both read these.
//!
//! Everything works on indices into `Snapshot::sockets`, so grouping never copies a socket.

mod addr;
mod by_listener;
mod by_state;
mod history;
#[cfg(test)]
mod tests;

pub use addr::{canonical, covers, same_addr};
pub use by_listener::{AcceptQueue, ListenerGroup, ListenerTree, RemoteGroup, by_listener};
pub use by_state::{StateCounts, StateGroup, StateGroupKey, StateTally, by_state};
pub use history::{HistoryRing, StateHistory, sparkline};

/// A small, fast, non-cryptographic hasher (FxHash) for maps keyed by socket cookies, ports
/// and addresses: 100,000 lookups per refresh, no attacker-chosen keys.
pub type FastHasher = rustc_hash::FxHasher;

/// A HashMap with [`FastHasher`].
pub type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;
