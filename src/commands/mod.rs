//! One module per subcommand: turn validated arguments into work. Thin glue over the library.

pub mod completions;
pub mod config;
pub mod demo;
pub mod dump;
pub mod export;
pub mod record;
pub mod tui;
