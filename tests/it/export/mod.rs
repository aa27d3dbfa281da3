//! The Prometheus exporter: metrics, HTTP, hostile HTTP clients, shipped assets.
mod abuse;
mod assets;
pub mod common;
mod http;
mod metrics;
