//! Prometheus exporter: `sockeye export` serves the socket table as metrics at /metrics.
//!
//! - [`metrics`]: one snapshot → metric families in the OpenMetrics text format.
//! - [`findings`]: the findings over the exporter's window as `sockeye_finding` gauges.
//! - [`closed`]: connections closed since the start (destroy events or snapshot comparison).
//! - [`cache`]: one collection at a time, reuse within the interval, a deadline per scrape.
//! - [`request`]: an HTTP/1.x request head under strict limits (httparse).
//! - [`response`]: routing, the scrape itself, the bytes of an answer.
//! - [`server`]: the HTTP server (one poll thread, a few workers, no async runtime), with
//!   `reactor` (that thread) and `conn` (one connection's state machine).

pub mod cache;
pub mod closed;
mod conn;
pub mod findings;
pub mod metrics;
mod reactor;
pub mod request;
pub mod response;
pub mod server;
