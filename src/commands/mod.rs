//! One module per subcommand: turn validated arguments into work. Thin glue over the library.

pub mod check;
pub mod completions;
pub mod config;
pub mod demo;
pub mod dump;
pub mod dump_netns;
pub mod events;
pub mod export;
pub mod kill;
pub mod netstat;
pub mod record;
pub mod tui;
