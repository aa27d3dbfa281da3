//! Output formats over the one socket model: ss-style table, JSON, summary. Every view
//! renders cells through [`columns`], so a socket reads the same in the table, the JSON
//! and the TUI.

pub mod columns;
pub mod format;
pub mod json;
pub mod netstat;
pub mod services;
pub mod summary;
pub mod table;
