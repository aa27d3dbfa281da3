//! The /proc/net source and process attribution: fixtures, live tables, benchmarks.
mod bench;
mod fixture;
mod live;
mod processes;
