//! The control socket: a unix stream socket speaking line-delimited JSON, one request per
//! line, one reply per request. `sockeye attach` and scripts drive the demo through it.
//!
//! Requests (`cmd` selects the action; `scenario` is a scenario name):
//! `{"cmd":"status"}`, `{"cmd":"add","scenario":"backlog","count":1}`,
//! `{"cmd":"send","scenario":"unread","data":"hello!\r\n"}`, `{"cmd":"close","scenario":"echo","count":1}`,
//! `{"cmd":"pause","scenario":"backlog"}`, `{"cmd":"resume","scenario":"backlog"}`,
//! `{"cmd":"rate","scenario":"time-wait","per_sec":50}`, `{"cmd":"reset"}` (all) or with a scenario.
//! Replies: `{"ok":true,...}` or `{"ok":false,"error":"..."}`.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::net;
use super::runtime::Demo;
use super::scenarios::{Action, Kind, MAX_SEND, ScenarioStatus};

/// Longest request line, newline excluded.
pub const MAX_REQUEST: usize = 4096;
/// Most clients one `add` or `close` may name.
pub const MAX_COUNT: u32 = 64;
/// A connection that sends nothing for this long is closed.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Control connections served at once.
const MAX_CONNECTIONS: usize = 8;

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    Status,
    Add {
        scenario: Kind,
        #[serde(default = "one")]
        count: u32,
    },
    Send {
        scenario: Kind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
    },
    Close {
        scenario: Kind,
        #[serde(default = "one")]
        count: u32,
    },
    Pause {
        scenario: Kind,
    },
    Resume {
        scenario: Kind,
    },
    Rate {
        scenario: Kind,
        per_sec: f64,
    },
    Reset {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scenario: Option<Kind>,
    },
}

impl Request {
    /// The scenario the request is about, if any.
    pub fn scenario(&self) -> Option<Kind> {
        match self {
            Request::Status => None,
            Request::Add { scenario, .. }
            | Request::Send { scenario, .. }
            | Request::Close { scenario, .. }
            | Request::Pause { scenario }
            | Request::Resume { scenario }
            | Request::Rate { scenario, .. } => Some(*scenario),
            Request::Reset { scenario } => *scenario,
        }
    }
}

/// The `status` reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub bind: String,
    pub scenarios: Vec<ScenarioStatus>,
}

/// Parse one request line. Errors are the text of the error reply.
pub fn parse_request(line: &str) -> Result<Request, String> {
    let req: Request = serde_json::from_str(line).map_err(|e| {
        let msg = e.to_string();
        if msg.contains("missing field `cmd`") {
            "missing \"cmd\" (status, add, send, close, pause, resume, rate, reset)".to_string()
        } else {
            format!("bad request: {msg}")
        }
    })?;
    match &req {
        Request::Add { count, .. } | Request::Close { count, .. }
            if *count == 0 || *count > MAX_COUNT =>
        {
            return Err(format!("count must be between 1 and {MAX_COUNT}"));
        }
        Request::Send {
            data: Some(data), ..
        } if data.is_empty() || data.len() > MAX_SEND => {
            return Err(format!("data must be 1 to {MAX_SEND} bytes"));
        }
        Request::Rate { per_sec, .. } if !per_sec.is_finite() || *per_sec < 0.0 => {
            return Err("per_sec must be a number >= 0".into());
        }
        _ => {}
    }
    Ok(req)
}

/// Apply a request to the demo and build the reply.
pub fn handle(demo: &Demo, req: Request) -> serde_json::Value {
    let act = |kind: Kind, action: Action| match demo.act(kind, action) {
        Ok(message) => serde_json::json!({"ok": true, "message": message}),
        Err(error) => error_reply(&error),
    };
    match req {
        Request::Status => {
            let status = Status {
                pid: std::process::id(),
                bind: demo.bind.to_string(),
                scenarios: demo.status(),
            };
            match serde_json::to_value(status) {
                Ok(serde_json::Value::Object(mut m)) => {
                    m.insert("ok".into(), true.into());
                    serde_json::Value::Object(m)
                }
                _ => error_reply("cannot encode status"),
            }
        }
        Request::Add { scenario, count } => act(scenario, Action::Add(count)),
        Request::Send { scenario, data } => {
            let bytes = data.map_or_else(|| super::scenarios::HELLO.to_vec(), String::into_bytes);
            act(scenario, Action::Send(bytes))
        }
        Request::Close { scenario, count } => act(scenario, Action::Close(count)),
        Request::Pause { scenario } => act(scenario, Action::Accepting(false)),
        Request::Resume { scenario } => act(scenario, Action::Accepting(true)),
        Request::Rate { scenario, per_sec } => act(scenario, Action::Rate(per_sec)),
        Request::Reset { scenario: Some(k) } => act(k, Action::Reset),
        Request::Reset { scenario: None } => {
            let mut errors = Vec::new();
            for (k, _) in demo.scenarios() {
                if let Err(e) = demo.act(k, Action::Reset) {
                    errors.push(format!("{k}: {e}"));
                }
            }
            if errors.is_empty() {
                serde_json::json!({"ok": true, "message": "every scenario reset"})
            } else {
                error_reply(&errors.join("; "))
            }
        }
    }
}

fn error_reply(msg: &str) -> serde_json::Value {
    serde_json::json!({"ok": false, "error": msg})
}

// ---- where the socket lives ----------------------------------------------------------------

/// `$XDG_RUNTIME_DIR/sockeye/demo.sock`, else `/tmp/sockeye-$UID/demo.sock`.
pub fn default_socket_path() -> PathBuf {
    socket_dir().join("demo.sock")
}

fn socket_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir.join("sockeye"),
        _ => {
            // SAFETY: getuid(2) cannot fail.
            let uid = unsafe { libc::getuid() };
            PathBuf::from(format!("/tmp/sockeye-{uid}"))
        }
    }
}

/// Create the private directory (0700), refusing one that belongs to someone else.
fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
    }
    let meta =
        fs::symlink_metadata(dir).with_context(|| format!("cannot inspect {}", dir.display()))?;
    // SAFETY: getuid(2) cannot fail.
    let uid = unsafe { libc::getuid() };
    if !meta.is_dir() || meta.uid() != uid {
        bail!(
            "{} is not a directory owned by you; remove it or use --socket",
            dir.display()
        );
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make {} private", dir.display()))?;
    }
    Ok(())
}

// ---- client side -----------------------------------------------------------------------------

/// Why there is no demo to talk to.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no demo is running; start one with `sockeye demo`")]
    NotRunning,
    #[error("cannot reach the demo at {path}: {source}")]
    Io { path: String, source: io::Error },
}

/// One connection to a demo's control socket.
pub struct ControlClient {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl ControlClient {
    pub fn connect(path: &Path) -> Result<ControlClient, ConnectError> {
        let stream = UnixStream::connect(path).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::ECONNREFUSED) => ConnectError::NotRunning,
            _ => ConnectError::Io {
                path: path.display().to_string(),
                source: e,
            },
        })?;
        let io = |source| ConnectError::Io {
            path: path.display().to_string(),
            source,
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(io)?;
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .map_err(io)?;
        let writer = stream.try_clone().map_err(io)?;
        Ok(ControlClient {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Send one raw line and read the reply line.
    pub fn raw(&mut self, line: &str) -> anyhow::Result<serde_json::Value> {
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\n")?;
        let mut reply = String::new();
        let n = self
            .reader
            .by_ref()
            .take(1 << 20)
            .read_line(&mut reply)
            .context("no reply from the demo")?;
        if n == 0 {
            bail!("the demo closed the control connection");
        }
        serde_json::from_str(&reply).context("the demo's reply is not JSON")
    }

    /// Send a request; an error reply becomes an Err carrying its message.
    pub fn call(&mut self, req: &Request) -> anyhow::Result<serde_json::Value> {
        let line = serde_json::to_string(req)?;
        let reply = self.raw(&line)?;
        if reply.get("ok") == Some(&serde_json::Value::Bool(true)) {
            Ok(reply)
        } else {
            let msg = reply
                .get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("unknown error");
            bail!("{msg}")
        }
    }

    pub fn status(&mut self) -> anyhow::Result<Status> {
        let reply = self.call(&Request::Status)?;
        serde_json::from_value(reply).context("unexpected status reply")
    }
}

// ---- server side -----------------------------------------------------------------------------

/// The bound control socket; removes its file when dropped (if it is still ours).
pub struct ControlServer {
    path: PathBuf,
    identity: (u64, u64),
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Bind the control socket at `path` (None: the default place). A socket left by a dead demo
/// is replaced; a live demo is an error naming its pid.
pub fn bind(path: Option<&Path>) -> anyhow::Result<(UnixListener, PathBuf)> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => {
            let dir = socket_dir();
            ensure_private_dir(&dir)?;
            dir.join("demo.sock")
        }
    };
    if let Ok(meta) = fs::symlink_metadata(&path) {
        if !meta.file_type().is_socket() {
            bail!("{} exists and is not a socket", path.display());
        }
        match ControlClient::connect(&path) {
            Ok(mut c) => {
                let pid = c
                    .status()
                    .map(|s| s.pid.to_string())
                    .unwrap_or_else(|_| "unknown".into());
                bail!(
                    "a demo is already running (pid {pid}); its control socket is {}",
                    path.display()
                );
            }
            Err(ConnectError::NotRunning) => {
                // Stale: its demo died without cleaning up.
                fs::remove_file(&path)
                    .with_context(|| format!("cannot remove stale {}", path.display()))?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let listener = UnixListener::bind(&path)
        .with_context(|| format!("cannot create the control socket {}", path.display()))?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot set permissions on {}", path.display()))?;
    Ok((listener, path))
}

impl ControlServer {
    /// Bind and serve requests for `demo` on a background thread.
    pub fn start(path: Option<&Path>, demo: Arc<Demo>) -> anyhow::Result<ControlServer> {
        let (listener, path) = bind(path)?;
        let meta = fs::symlink_metadata(&path)?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("demo-control".into())
            .spawn(move || accept_loop(&listener, &demo, &flag))
            .context("cannot start the control thread")?;
        Ok(ControlServer {
            path,
            identity: (meta.dev(), meta.ino()),
            stop,
            thread: Some(thread),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stop accepting and remove the socket file.
    pub fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // Only remove the file if it is still the one we bound.
        if let Ok(meta) = fs::symlink_metadata(&self.path)
            && (meta.dev(), meta.ino()) == self.identity
        {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(listener: &UnixListener, demo: &Arc<Demo>, stop: &AtomicBool) {
    use std::os::fd::AsRawFd;
    let active = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::SeqCst) {
        let mut fds = [net::pollfd(listener.as_raw_fd(), libc::POLLIN)];
        net::poll(&mut fds, 100);
        let Ok((mut stream, _)) = listener.accept() else {
            continue;
        };
        if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
            let _ = writeln!(stream, "{}", error_reply("too many control connections"));
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let demo = Arc::clone(demo);
        let count = Arc::clone(&active);
        let spawned = std::thread::Builder::new()
            .name("demo-control-conn".into())
            .spawn(move || {
                serve_connection(stream, &demo);
                count.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Serve requests on one connection until EOF, an idle timeout, or an oversized line.
fn serve_connection(stream: UnixStream, demo: &Demo) {
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(READ_TIMEOUT)).is_err()
        || stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err()
    {
        return;
    }
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        // One byte more than allowed tells an oversized line from a full one.
        let limit = (MAX_REQUEST + 2) as u64;
        match reader.by_ref().take(limit).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let complete = line.last() == Some(&b'\n');
        if complete {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        if line.len() > MAX_REQUEST {
            // The rest of the line cannot be resynchronised: answer and hang up.
            let _ = writeln!(
                writer,
                "{}",
                error_reply(&format!("request too large (limit {MAX_REQUEST} bytes)"))
            );
            return;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            if !complete {
                return;
            }
            continue;
        }
        let reply = match std::str::from_utf8(&line) {
            Err(_) => error_reply("request is not UTF-8"),
            Ok(text) => match parse_request(text) {
                Ok(req) => handle(demo, req),
                Err(e) => error_reply(&e),
            },
        };
        if writeln!(writer, "{reply}").is_err() || !complete {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_validate() {
        assert_eq!(parse_request(r#"{"cmd":"status"}"#), Ok(Request::Status));
        assert_eq!(
            parse_request(r#"{"cmd":"add","scenario":"close-wait"}"#),
            Ok(Request::Add {
                scenario: Kind::CloseWait,
                count: 1
            })
        );
        assert_eq!(
            parse_request(r#"{"cmd":"reset"}"#),
            Ok(Request::Reset { scenario: None })
        );
        for bad in [
            "not json",
            r#"{"cmd":"explode"}"#,
            r#"{"scenario":"echo"}"#,
            r#"{"cmd":"add","scenario":"nope"}"#,
            r#"{"cmd":"add","scenario":"echo","count":"two"}"#,
            r#"{"cmd":"add","scenario":"echo","count":0}"#,
            r#"{"cmd":"add","scenario":"echo","count":1000}"#,
            r#"{"cmd":"add","scenario":"echo","extra":1}"#,
            r#"{"cmd":"rate","scenario":"time-wait","per_sec":-3}"#,
            r#"{"cmd":"send","scenario":"unread","data":""}"#,
            r#"[1,2]"#,
        ] {
            assert!(parse_request(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn request_round_trips_through_json() {
        let req = Request::Rate {
            scenario: Kind::TimeWait,
            per_sec: 50.0,
        };
        let line = serde_json::to_string(&req).unwrap();
        assert_eq!(
            line,
            r#"{"cmd":"rate","scenario":"time-wait","per_sec":50.0}"#
        );
        assert_eq!(parse_request(&line), Ok(req));
    }

    #[test]
    fn default_path_prefers_xdg_runtime_dir() {
        // Only inspects the shape; the environment is the test runner's.
        let p = default_socket_path();
        assert!(p.ends_with("demo.sock"));
        assert!(p.is_absolute());
    }
}
