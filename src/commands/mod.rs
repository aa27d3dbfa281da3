//! One module per subcommand: turn validated arguments into work. Thin glue over the library.

pub mod completions;
pub mod config;
pub mod demo;
pub mod dump;
pub mod dump_netns;
pub mod export;
pub mod tui;
