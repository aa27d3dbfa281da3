//! sockeye: a Linux socket inspector. The library holds everything; the binary only
//! dispatches, so tests and every front end (dump, TUI, demo, exporter) share one code path.

pub mod cli;
pub mod cli_netstat;
pub mod cli_order;
pub mod collect;
pub mod commands;
pub mod config;
pub mod demo;
pub mod error;
pub mod export;
pub mod filter;
pub mod findings;
pub mod group;
pub mod input;
pub mod man;
pub mod model;
pub mod output;
pub mod record;
pub mod selection;
pub mod tables;
pub mod text;
pub mod tui;
