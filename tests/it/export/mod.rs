//! The Prometheus exporter: metrics, HTTP, shipped assets.
pub mod common;
mod assets;
mod http;
mod metrics;
