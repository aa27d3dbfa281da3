//! The Prometheus exporter: metrics, HTTP, shipped assets.
mod assets;
pub mod common;
mod http;
mod metrics;
