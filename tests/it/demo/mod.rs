//! The demo server and attach, run as the user runs them.
pub mod support;
mod attach;
mod control;
mod scenarios;
mod signals;
