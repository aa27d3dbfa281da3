//! The live view: app logic, snapshots, screenshots, a real terminal, tiny sizes, perf.
pub mod common;
mod app;
mod detail;
mod perf;
mod screenshots;
mod snapshots;
mod tiny;
mod tmux;
