//! All integration tests in one binary (one link instead of one per file), grouped by the
//! feature they test. Run one group with `cargo test --test it tui::`, one file with
//! `cargo test --test it filter::conformance`.

pub mod common;

mod check;
mod cli;
mod config;
mod conformance_netstat;
mod conformance_ss;
mod conformance_tables;
mod demo;
mod events;
mod export;
mod families;
mod filter;
mod host;
mod netlink;
mod netns;
mod output;
mod parity;
mod proc;
mod record;
mod tui;
