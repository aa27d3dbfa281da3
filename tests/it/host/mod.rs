//! The host handle: whole collections on a fake host (a /proc tree plus recorded netlink
//! answers), netlink failing mid-dump, counters that would wrap, /proc/net/unix forgery.
mod counters;
mod failing_netlink;
mod fake_host;
mod netns;
mod tree;
mod unix_rows;
