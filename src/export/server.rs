//! The HTTP side: a tiny_http server answered by a few worker threads, /metrics only.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tiny_http::{Header, Method, Request, Response, Server};

use super::cache::{Cache, Served};
use super::metrics::{self, ScrapeInfo};

/// How the server answers.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The longest a scrape waits for a fresh snapshot before serving the last one.
    pub deadline: Duration,
    /// See [`metrics::render`].
    pub top_ports: usize,
    /// Request-handling threads.
    pub threads: usize,
}

/// A running exporter: stop it with [`Exporter::shutdown`].
pub struct Exporter {
    server: Arc<Server>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    addr: SocketAddr,
}

/// How often idle workers look at the stop flag.
const POLL: Duration = Duration::from_millis(200);

impl Exporter {
    /// Bind `addr` and start answering.
    pub fn start(addr: SocketAddr, cache: Arc<Cache>, opts: ServeOptions) -> anyhow::Result<Self> {
        use anyhow::Context;
        let listener =
            TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        let addr = listener
            .local_addr()
            .with_context(|| format!("cannot read the address bound for {addr}"))?;
        let server = Server::from_listener(listener, None)
            .map_err(|e| anyhow::anyhow!("cannot start the HTTP server on {addr}: {e}"))?;
        let server = Arc::new(server);
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        for i in 0..opts.threads.max(1) {
            let (server, stop, cache, opts) = (
                Arc::clone(&server),
                Arc::clone(&stop),
                Arc::clone(&cache),
                opts.clone(),
            );
            let handle = thread::Builder::new()
                .name(format!("sockeye-http-{i}"))
                .spawn(move || serve(&server, &stop, &cache, &opts))
                .context("cannot start an HTTP worker thread")?;
            workers.push(handle);
        }
        Ok(Exporter {
            server,
            stop,
            workers,
            addr,
        })
    }

    /// The address actually bound (the port is chosen by the kernel for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, let the workers finish what they are answering, and join them.
    pub fn shutdown(self) {
        self.stop.store(true, Ordering::SeqCst);
        for _ in &self.workers {
            self.server.unblock();
        }
        for w in self.workers {
            // A worker that panicked has nothing left to clean up.
            let _ = w.join();
        }
    }
}

fn serve(server: &Server, stop: &AtomicBool, cache: &Cache, opts: &ServeOptions) {
    while !stop.load(Ordering::SeqCst) {
        match server.recv_timeout(POLL) {
            Ok(Some(req)) => handle(req, cache, opts),
            Ok(None) => {}
            // A failed accept or a broken client: nothing to answer, keep serving.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn handle(req: Request, cache: &Cache, opts: &ServeOptions) {
    let arrived = Instant::now();
    let path = req.url().split('?').next().unwrap_or("");
    if path != "/metrics" {
        return respond(
            req,
            text(404, "not found: metrics are served at /metrics\n"),
        );
    }
    if !matches!(req.method(), Method::Get | Method::Head) {
        let allow = header("Allow", "GET, HEAD");
        return respond(req, text(405, "method not allowed\n").with_header(allow));
    }
    let deadline = arrived + scrape_deadline(&req, opts.deadline);
    let served = cache.get(deadline);
    let (entry, stale) = match served {
        Served::Fresh(e) => (e, false),
        Served::Stale(e) => (e, true),
        Served::Nothing(reason) => {
            return respond(req, text(503, &format!("no snapshot to serve: {reason}\n")));
        }
    };
    let info = ScrapeInfo {
        collect_duration: entry.took,
        snapshot_age: entry.collected_at.elapsed(),
        stale,
        collect_errors: cache.errors(),
        scrape_duration: arrived.elapsed(),
    };
    let Ok(body) = metrics::try_render(&entry.snapshot, &info, opts.top_ports) else {
        return respond(req, text(500, "cannot encode the metrics\n"));
    };
    let resp =
        Response::from_string(body).with_header(header("Content-Type", metrics::CONTENT_TYPE));
    respond(req, resp);
}

/// Our own deadline, shortened to fit Prometheus's scrape timeout when it tells us one.
fn scrape_deadline(req: &Request, ours: Duration) -> Duration {
    let theirs = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("X-Prometheus-Scrape-Timeout-Seconds"))
        .and_then(|h| h.value.as_str().trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        // Leave room to encode and send before Prometheus gives up.
        .map(|s| Duration::from_secs_f64(s * 0.8));
    match theirs {
        Some(t) => t.min(ours),
        None => ours,
    }
}

fn text(code: u16, body: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_status_code(code)
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
}

fn header(name: &str, value: &str) -> Header {
    // Both parts are ASCII constants of this file, which Header accepts.
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .unwrap_or_else(|()| unreachable!("invalid constant header {name}"))
}

fn respond<R: std::io::Read>(req: Request, resp: Response<R>) {
    // The client may have gone away; that is its business.
    let _ = req.respond(resp);
}
