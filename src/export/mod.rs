//! Prometheus exporter: `sockeye export` serves the socket table as metrics at /metrics.
//!
//! - [`metrics`]: one snapshot → metric families in the OpenMetrics text format.
//! - [`cache`]: one collection at a time, reuse within the interval, a deadline per scrape.
//! - [`server`]: the HTTP server (tiny_http, a few worker threads, no async runtime).

pub mod cache;
pub mod metrics;
pub mod server;
