//! What to answer: routing of a parsed head, the scrape itself, and the bytes on the wire.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::cache::{Cache, Served};
use super::closed::ClosedCounter;
use super::metrics::{self, ScrapeInfo};
use super::request::{Head, Method, Reject};

const TEXT: &str = "text/plain; charset=utf-8";

/// A response before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    /// Sent with 405.
    pub allow: bool,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: TEXT,
            allow: false,
            body: body.as_bytes().to_vec(),
        }
    }

    /// The answer to a refused request.
    pub fn rejected(r: Reject) -> Response {
        Response::text(r.status, &format!("{}\n", r.reason))
    }

    /// Status line, headers and (unless `head_only`) the body. Always a Content-Length, never
    /// chunked; `close` says whether the connection ends after it.
    pub fn encode(&self, head_only: bool, close: bool) -> Vec<u8> {
        let mut out = String::with_capacity(160);
        let _ = write!(
            out,
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len(),
            if close { "close" } else { "keep-alive" },
        );
        if self.allow {
            out.push_str("Allow: GET, HEAD\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Where a request goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// Answered at once (404, 405).
    Now(Response),
    /// A scrape of /metrics (GET or HEAD): needs a snapshot, so a worker answers it.
    Scrape,
}

/// Only /metrics exists (any query string), for GET and HEAD.
pub fn route(head: &Head) -> Route {
    if head.path != "/metrics" {
        return Route::Now(Response::text(
            404,
            "not found: metrics are served at /metrics\n",
        ));
    }
    if head.method == Method::Other {
        let mut r = Response::text(405, "method not allowed\n");
        r.allow = true;
        return Route::Now(r);
    }
    Route::Scrape
}

/// Answer a scrape that arrived at `arrived`: a snapshot by the deadline, encoded.
pub fn scrape(
    cache: &Cache,
    ours: Duration,
    theirs: Option<Duration>,
    (top_ports, top_netns): (usize, usize),
    closed: Option<&ClosedCounter>,
    arrived: Instant,
) -> Response {
    let deadline = arrived
        .checked_add(scrape_deadline(ours, theirs))
        .unwrap_or(arrived);
    let (entry, stale) = match cache.get(deadline) {
        Served::Fresh(e) => (e, false),
        Served::Stale(e) => (e, true),
        Served::Nothing(reason) => {
            return Response::text(503, &format!("no snapshot to serve: {reason}\n"));
        }
    };
    let info = ScrapeInfo {
        collect_duration: entry.took,
        snapshot_age: entry.collected_at.elapsed(),
        stale,
        collect_errors: cache.errors(),
        scrape_duration: arrived.elapsed(),
        closed: closed.map(ClosedCounter::totals),
    };
    match metrics::try_render_with(
        &entry.snapshot,
        &entry.findings,
        &info,
        top_ports,
        top_netns,
    ) {
        Ok(body) => Response {
            status: 200,
            content_type: metrics::CONTENT_TYPE,
            allow: false,
            body: body.into_bytes(),
        },
        Err(_) => Response::text(500, "cannot encode the metrics\n"),
    }
}

/// Our own deadline, shortened to fit Prometheus's scrape timeout when it tells us one, with
/// a fifth of it left to encode and send before Prometheus gives up.
pub fn scrape_deadline(ours: Duration, theirs: Option<Duration>) -> Duration {
    match theirs {
        // Integer arithmetic: no value of the header can overflow or panic here.
        Some(t) => (t / 5 * 4).min(ours),
        None => ours,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: Method, path: &str) -> Head {
        Head {
            method,
            path: path.into(),
            minor_version: 1,
            keep_alive: true,
            has_body: false,
            scrape_timeout: None,
        }
    }

    #[test]
    fn routes() {
        assert_eq!(route(&head(Method::Get, "/metrics")), Route::Scrape);
        assert_eq!(route(&head(Method::Head, "/metrics")), Route::Scrape);
        let Route::Now(r) = route(&head(Method::Get, "/")) else {
            panic!("/ is no scrape")
        };
        assert_eq!(r.status, 404);
        let Route::Now(r) = route(&head(Method::Other, "/metrics")) else {
            panic!("POST is no scrape")
        };
        assert_eq!((r.status, r.allow), (405, true));
    }

    #[test]
    fn encoding() {
        let r = Response::text(404, "nope\n");
        let wire = String::from_utf8(r.encode(false, true)).unwrap();
        assert!(wire.starts_with("HTTP/1.1 404 Not Found\r\n"), "{wire}");
        assert!(wire.contains("Content-Length: 5\r\n"));
        assert!(wire.contains("Connection: close\r\n"));
        assert!(wire.ends_with("\r\n\r\nnope\n"));
        let head_only = String::from_utf8(r.encode(true, false)).unwrap();
        assert!(head_only.ends_with("Content-Length: 5\r\nConnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn deadlines() {
        let ours = Duration::from_secs(3);
        assert_eq!(scrape_deadline(ours, None), ours);
        assert_eq!(
            scrape_deadline(ours, Some(Duration::from_secs(1))),
            Duration::from_millis(800)
        );
        assert_eq!(scrape_deadline(ours, Some(Duration::MAX)), ours);
        assert_eq!(scrape_deadline(ours, Some(Duration::ZERO)), Duration::ZERO);
    }
}
