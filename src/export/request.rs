//! One HTTP/1.x request head, read by httparse under strict limits.
//!
//! Pure: bytes in, a verdict out, so the limits are unit-tested and fuzzed without sockets.
//! A request is either still arriving ([`Parse::Partial`]), complete, or rejected with the
//! status to answer before closing. Nothing here panics or allocates beyond the head itself.

use std::time::Duration;

/// Longest request line (method, target, version) accepted; longer is 414 (or 400 when the
/// line does not even look like a request).
pub const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Longest head (request line and every header) accepted; longer is 431.
pub const MAX_HEAD: usize = 16 * 1024;
/// Most header fields accepted; more is 431.
pub const MAX_HEADERS: usize = 64;
/// Longest method token; a longer first word is not HTTP (400 at once, e.g. a TLS hello).
const MAX_METHOD: usize = 16;
/// A scrape-timeout header above this is taken as this (the --timeout ceiling).
const MAX_SCRAPE_TIMEOUT_SECS: f64 = 86_400.0;

/// The header Prometheus sends with its scrape timeout in seconds.
pub const SCRAPE_TIMEOUT_HEADER: &str = "X-Prometheus-Scrape-Timeout-Seconds";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Other,
}

/// What the server needs of a complete request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub method: Method,
    /// The target without its query string.
    pub path: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// The connection may stay open after the answer (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
    /// A body follows (Content-Length other than 0, or any Transfer-Encoding). The server
    /// never reads bodies, so it answers and closes.
    pub has_body: bool,
    /// Prometheus's scrape timeout, when it sent a usable one (positive, finite; clamped).
    pub scrape_timeout: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parse {
    /// More bytes are needed.
    Partial,
    /// A complete head and how many bytes of the buffer it used; what follows may be the
    /// next (pipelined) request.
    Complete(Head, usize),
}

/// Why a request is refused: the status to answer, then close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub reason: &'static str,
}

const fn reject(status: u16, reason: &'static str) -> Reject {
    Reject { status, reason }
}

/// Read the head at the start of `buf`. Blank lines before a request line are skipped (and
/// counted as used), as RFC 9112 allows.
pub fn parse(buf: &[u8]) -> Result<Parse, Reject> {
    let skipped = buf
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    // Blank lines alone: bounded like any other head.
    if skipped >= MAX_HEAD {
        return Err(reject(400, "no request line"));
    }
    let rest = &buf[skipped..];
    check_request_line(rest)?;
    // The reader never buffers more than MAX_HEAD; a longer input (the fuzzer's) is judged
    // by its first MAX_HEAD bytes, as the server would see it.
    let window = &rest[..rest.len().min(MAX_HEAD - skipped)];
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let used = match req.parse(window) {
        Ok(httparse::Status::Partial) if window.len() >= MAX_HEAD - skipped => {
            return Err(reject(431, "request head too large"));
        }
        Ok(httparse::Status::Partial) => return Ok(Parse::Partial),
        Ok(httparse::Status::Complete(n)) => n,
        Err(httparse::Error::TooManyHeaders) => return Err(reject(431, "too many header fields")),
        Err(httparse::Error::Version) => return Err(reject(505, "unsupported HTTP version")),
        Err(_) => return Err(reject(400, "malformed request")),
    };
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version)
    else {
        return Err(reject(400, "malformed request"));
    };
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => Method::Other,
    };
    let mut head = Head {
        method,
        path: origin_path(target)
            .split('?')
            .next()
            .unwrap_or("")
            .to_string(),
        minor_version,
        keep_alive: false,
        has_body: false,
        scrape_timeout: None,
    };
    let (mut close, mut keep) = (false, false);
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("Connection") {
            for token in String::from_utf8_lossy(h.value).split(',') {
                close |= token.trim().eq_ignore_ascii_case("close");
                keep |= token.trim().eq_ignore_ascii_case("keep-alive");
            }
        } else if h.name.eq_ignore_ascii_case("Content-Length") {
            // Anything but a plain 0 may announce a body we will not read.
            head.has_body |= h.value.trim_ascii() != b"0";
        } else if h.name.eq_ignore_ascii_case("Transfer-Encoding") {
            head.has_body = true;
        } else if h.name.eq_ignore_ascii_case(SCRAPE_TIMEOUT_HEADER) {
            head.scrape_timeout = scrape_timeout(h.value);
        }
    }
    // A close anywhere wins over a keep-alive.
    head.keep_alive = !close && (minor_version >= 1 || keep);
    Ok(Parse::Complete(head, skipped + used))
}

/// The path of a request target: an absolute-form target (`http://host:9977/metrics`, which
/// RFC 9112 says a server must accept, as proxies send it) is taken as its path; any other
/// form is returned as it is.
fn origin_path(target: &str) -> &str {
    let lower = |n: usize| target.get(..n).map(str::to_ascii_lowercase);
    let rest = if lower(7).as_deref() == Some("http://") {
        &target[7..]
    } else if lower(8).as_deref() == Some("https://") {
        &target[8..]
    } else {
        return target;
    };
    match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => &rest[i..],
        // No path: the authority alone (or with a query) is the root.
        _ => "/",
    }
}

/// Refuse early what httparse would only refuse late or not at all: a first word that is no
/// method, a request line past its limit, a version other than 1.0/1.1.
fn check_request_line(rest: &[u8]) -> Result<(), Reject> {
    let method_len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    if rest[..method_len.min(rest.len())]
        .iter()
        .take(MAX_METHOD + 1)
        .any(|&b| !is_token(b))
        || method_len > MAX_METHOD
    {
        return Err(reject(400, "not an HTTP request"));
    }
    let line_end = rest
        .iter()
        .take(MAX_REQUEST_LINE + 1)
        .position(|&b| b == b'\n');
    let Some(end) = line_end else {
        if rest.len() > MAX_REQUEST_LINE {
            return Err(reject(414, "request line too long"));
        }
        return Ok(());
    };
    let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
    let mut words = line.split(|&b| b == b' ');
    let (Some(_method), Some(_target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(reject(400, "malformed request line"));
    };
    match version {
        b"HTTP/1.1" | b"HTTP/1.0" => Ok(()),
        v if v.strip_prefix(b"HTTP/").is_some_and(is_version_number) => {
            Err(reject(505, "unsupported HTTP version"))
        }
        _ => Err(reject(400, "malformed request line")),
    }
}

/// `2`, `2.0`, `1.2`, `3.14`: digits, optionally a dot and more digits.
fn is_version_number(v: &[u8]) -> bool {
    let (major, minor) = match v.iter().position(|&b| b == b'.') {
        Some(dot) => (&v[..dot], Some(&v[dot + 1..])),
        None => (v, None),
    };
    let digits = |d: &[u8]| !d.is_empty() && d.len() <= 3 && d.iter().all(u8::is_ascii_digit);
    digits(major) && minor.is_none_or(digits)
}

/// RFC 9110 tchar.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Seconds as Prometheus writes them ("10", "9.5"), leniently: surrounding blanks are fine,
/// anything unusable (negative, zero, NaN, infinite, not a number) is ignored, and a huge
/// value is clamped instead of overflowing a Duration.
pub fn scrape_timeout(value: &[u8]) -> Option<Duration> {
    let secs: f64 = std::str::from_utf8(value).ok()?.trim().parse().ok()?;
    if !secs.is_finite() || secs <= 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs.min(MAX_SCRAPE_TIMEOUT_SECS)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(raw: &[u8]) -> (Head, usize) {
        match parse(raw) {
            Ok(Parse::Complete(h, n)) => (h, n),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(raw)),
        }
    }

    fn status(raw: &[u8]) -> u16 {
        match parse(raw) {
            Err(r) => r.status,
            other => panic!("{:?} accepted: {other:?}", String::from_utf8_lossy(raw)),
        }
    }

    #[test]
    fn a_scrape_request() {
        let raw = b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\nGET /next";
        let (h, used) = complete(raw);
        assert_eq!(h.method, Method::Get);
        assert_eq!(h.path, "/metrics");
        assert!(h.keep_alive && !h.has_body);
        assert_eq!(&raw[used..], b"GET /next", "the pipelined rest is left");
    }

    #[test]
    fn an_absolute_form_target_is_its_path() {
        let path = |raw: &[u8]| complete(raw).0.path;
        assert_eq!(
            path(b"GET http://127.0.0.1:9977/metrics HTTP/1.1\r\n\r\n"),
            "/metrics"
        );
        assert_eq!(
            path(b"GET HTTPS://h/metrics?x=1 HTTP/1.1\r\n\r\n"),
            "/metrics"
        );
        assert_eq!(path(b"GET http://h HTTP/1.1\r\n\r\n"), "/");
        assert_eq!(path(b"GET http://h?/metrics HTTP/1.1\r\n\r\n"), "/");
        assert_eq!(path(b"GET http:/x HTTP/1.1\r\n\r\n"), "http:/x");
        assert_eq!(
            path(b"GET /http://h/metrics HTTP/1.1\r\n\r\n"),
            "/http://h/metrics"
        );
        assert_eq!(path(b"OPTIONS * HTTP/1.1\r\n\r\n"), "*");
    }

    #[test]
    fn partial_until_the_blank_line() {
        let full = b"HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]), Ok(Parse::Partial), "cut at {cut}");
        }
        assert_eq!(complete(full).0.method, Method::Head);
        assert_eq!(complete(b"\r\n\r\nGET / HTTP/1.0\r\n\r\n").1, 22);
    }

    #[test]
    fn connection_persistence_by_version_and_header() {
        let ka = |raw: &[u8]| complete(raw).0.keep_alive;
        assert!(ka(b"GET / HTTP/1.1\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n"
        ));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn bodies_are_noticed() {
        let body = |raw: &[u8]| complete(raw).0.has_body;
        assert!(!body(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
        assert!(body(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"));
        assert!(body(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"));
        assert!(body(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        ));
        assert_eq!(
            complete(b"DELETE / HTTP/1.1\r\n\r\n").0.method,
            Method::Other
        );
    }

    #[test]
    fn versions() {
        for v in ["HTTP/2", "HTTP/2.0", "HTTP/1.2", "HTTP/3.0", "HTTP/0.9"] {
            let raw = format!("GET /metrics {v}\r\n\r\n");
            assert_eq!(status(raw.as_bytes()), 505, "{v}");
        }
        for v in ["FOO/1.0", "HTTP/x", "HTTP/1.1.1", "http/1.1", ""] {
            let raw = format!("GET /metrics {v}\r\n\r\n");
            assert_eq!(status(raw.as_bytes()), 400, "{v:?}");
        }
        // Known before the head ends.
        assert_eq!(status(b"GET / HTTP/9.9\r\nHost: a\r\n"), 505);
    }

    #[test]
    fn malformed_is_400() {
        for raw in [
            &b"GET /metrics\r\n\r\n"[..],
            b"GET  /metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/1.1 x\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"G\x00T / HTTP/1.1\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            b"AVERYLONGMETHODNAMEINDEED / HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(status(raw), 400, "{:?}", String::from_utf8_lossy(raw));
        }
        // Without a newline yet, a non-token first word is refused at once.
        assert_eq!(status(b"\x16\x03"), 400);
    }

    #[test]
    fn limits() {
        let long_target = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(status(long_target.as_bytes()), 414);
        let endless_line = format!("GET /{}", "a".repeat(MAX_REQUEST_LINE + 10));
        assert_eq!(status(endless_line.as_bytes()), 414);
        let just_fits = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(100));
        assert!(matches!(
            parse(just_fits.as_bytes()),
            Ok(Parse::Complete(..))
        ));

        let endless_header = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(MAX_HEAD));
        assert_eq!(status(endless_header.as_bytes()), 431);
        let mut many = String::from("GET / HTTP/1.1\r\n");
        for i in 0..=MAX_HEADERS {
            many.push_str(&format!("X-{i}: y\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(status(many.as_bytes()), 431);
        let mut enough = String::from("GET / HTTP/1.1\r\n");
        for i in 0..MAX_HEADERS {
            enough.push_str(&format!("X-{i}: y\r\n"));
        }
        enough.push_str("\r\n");
        assert!(matches!(parse(enough.as_bytes()), Ok(Parse::Complete(..))));
        assert_eq!(status(&vec![b'\n'; MAX_HEAD]), 400);
    }

    #[test]
    fn the_scrape_timeout_is_read_leniently_and_clamped() {
        let t = |v: &str| scrape_timeout(v.as_bytes());
        assert_eq!(t("10"), Some(Duration::from_secs(10)));
        assert_eq!(t(" 9.5 "), Some(Duration::from_millis(9500)));
        for useless in ["", "x", "-1", "0", "NaN", "inf", "-inf", "1e-400", "10s"] {
            assert_eq!(t(useless), None, "{useless}");
        }
        for huge in ["1e300", "99999999999999999999", "1.7976931348623157e308"] {
            assert_eq!(t(huge), Some(Duration::from_secs(86_400)), "{huge}");
        }
        assert_eq!(scrape_timeout(b"\xff\xfe"), None);
        let raw = b"GET /metrics HTTP/1.1\r\nX-Prometheus-Scrape-Timeout-Seconds: 1e308\r\n\r\n";
        assert_eq!(
            complete(raw).0.scrape_timeout,
            Some(Duration::from_secs(86_400))
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_get_a_verdict(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            match parse(&data) {
                Ok(Parse::Complete(_, used)) => proptest::prop_assert!(used <= data.len()),
                Ok(Parse::Partial) => {}
                Err(r) => proptest::prop_assert!([400, 414, 431, 505].contains(&r.status)),
            }
        }

        #[test]
        fn a_valid_request_is_partial_until_its_last_byte(
            method in "GET|HEAD|POST|OPTIONS",
            path in "/[a-z0-9/?=&%.-]{0,40}",
            minor in 0u8..2,
            headers in proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,20}", "[ -~]{0,40}"), 0..10),
        ) {
            let mut raw = format!("{method} {path} HTTP/1.{minor}\r\n");
            for (k, v) in &headers {
                raw.push_str(&format!("{k}: {v}\r\n"));
            }
            raw.push_str("\r\n");
            let raw = raw.as_bytes();
            for cut in 0..raw.len() {
                proptest::prop_assert_eq!(parse(&raw[..cut]), Ok(Parse::Partial), "cut {}", cut);
            }
            match parse(raw) {
                Ok(Parse::Complete(_, used)) => proptest::prop_assert_eq!(used, raw.len()),
                other => proptest::prop_assert!(false, "{:?}", other),
            }
        }
    }
}
