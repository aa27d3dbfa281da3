//! The Prometheus exporter: metrics, HTTP, hostile HTTP clients, shipped assets.
mod abuse;
mod assets;
pub mod common;
pub mod http;
mod metrics;
mod netns;
