//! `sockeye check`: the demo's scenarios are the fixture; exit statuses as a monitoring plugin.
mod demo;
mod real;
mod usage;
