//! `sockeye record` and `dump --from`: recordings of the test's own loopback sockets.

mod bench;
mod durability;
mod files;
mod follow;
mod roundtrip;
