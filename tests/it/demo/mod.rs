//! The demo server and attach, run as the user runs them.
mod abort;
mod attach;
mod caps;
mod control;
mod reuseaddr;
mod scenarios;
mod signals;
mod states;
pub mod support;
mod threads;
mod tour;
mod trust;
mod udp;
mod unix;
