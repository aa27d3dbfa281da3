//! The live view: app logic, snapshots, screenshots, a real terminal, tiny sizes, perf.
mod app;
mod columns;
pub mod common;
mod detail;
mod kill;
mod kill_tmux;
mod namespaces;
mod perf;
mod replay;
mod screenshots;
mod snapshots;
mod terminal;
mod tiny;
mod tmux;
