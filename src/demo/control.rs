//! The control socket: a unix stream socket speaking line-delimited JSON, one request per
//! line, one reply per request. `sockeye attach` and scripts drive the demo through it.
//!
//! Requests (`cmd` selects the action; `scenario` is a scenario name):
//! `{"cmd":"status"}`, `{"cmd":"add","scenario":"backlog","count":1}`,
//! `{"cmd":"send","scenario":"unread","data":"hello!\r\n"}`, `{"cmd":"close","scenario":"echo","count":1}`,
//! `{"cmd":"pause","scenario":"backlog"}`, `{"cmd":"resume","scenario":"backlog"}`,
//! `{"cmd":"rate","scenario":"time-wait","per_sec":50}`, `{"cmd":"reset"}` (all) or with a scenario,
//! and a scenario's own commands (its `Spec::commands`): `{"cmd":"do","scenario":S,"action":A}`.
//! Replies: `{"ok":true,...}` or `{"ok":false,"error":"..."}`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::runtime::Demo;
use super::scenarios::{Action, Kind, MAX_SEND, ScenarioStatus};
use super::trust::{self, Untrusted};

pub use super::trust::default_socket_path;

/// Longest request line, newline excluded.
pub const MAX_REQUEST: usize = 4096;
/// Most clients one `add` or `close` may name.
pub const MAX_COUNT: u32 = 64;

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
    Do {
        scenario: Kind,
        action: String,
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
            | Request::Rate { scenario, .. }
            | Request::Do { scenario, .. } => Some(*scenario),
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
        Request::Do { scenario, action }
            if !scenario.spec().commands.iter().any(|c| c.name == action) =>
        {
            let known: Vec<&str> = scenario.spec().commands.iter().map(|c| c.name).collect();
            let (quoted, _) = crate::text::excerpt(action, 0, 40);
            return Err(if known.is_empty() {
                format!("{scenario} has no commands of its own (asked for {quoted})")
            } else {
                format!(
                    "{scenario} has no command {quoted}; it has {}",
                    known.join(", ")
                )
            });
        }
        _ => {}
    }
    Ok(req)
}

/// Parse one request line as it arrives (newline and a trailing CR removed). Ok(None) for a
/// blank line, which gets no reply; errors are the text of the error reply.
pub fn parse_line(line: &[u8]) -> Result<Option<Request>, String> {
    if line.len() > MAX_REQUEST {
        return Err(format!("request too large (limit {MAX_REQUEST} bytes)"));
    }
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let text = std::str::from_utf8(line).map_err(|_| "request is not UTF-8".to_string())?;
    parse_request(text).map(Some)
}

/// A request as the line a client sends (without the newline).
pub fn request_line(req: &Request) -> serde_json::Result<String> {
    serde_json::to_string(req)
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
        Request::Do { scenario, action } => act(scenario, Action::Command(action)),
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

pub(crate) fn error_reply(msg: &str) -> serde_json::Value {
    serde_json::json!({"ok": false, "error": msg})
}

// ---- client side -----------------------------------------------------------------------------

/// Why there is no demo to talk to.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no demo is running; start one with `sockeye demo`")]
    NotRunning,
    #[error("cannot reach the demo at {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error(transparent)]
    Untrusted(#[from] Untrusted),
}

/// One connection to a demo's control socket.
pub struct ControlClient {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl ControlClient {
    /// Connect to the demo at `path` after checking that the place is the user's own, and
    /// that the process listening there runs as the user (see `trust`), before sending
    /// anything.
    pub fn connect(path: &Path) -> Result<ControlClient, ConnectError> {
        trust::check_path(path)?;
        let client = Self::connect_unchecked(path)?;
        trust::check_peer(path, &client.writer)?;
        Ok(client)
    }

    /// Connect without the checks: only for the demo's own probe of a socket file in its way.
    pub(crate) fn connect_unchecked(path: &Path) -> Result<ControlClient, ConnectError> {
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
        let reply = self.raw(&request_line(req)?)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_validate() {
        assert_eq!(parse_request(r#"{"cmd":"status"}"#), Ok(Request::Status));
        assert_eq!(
            parse_request(r#"{"cmd":"add","scenario":"close-wait"}"#),
            Ok(Request::Add {
                scenario: crate::demo::scenarios::parse("close-wait").unwrap(),
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
            r#"{"cmd":"do","scenario":"echo","action":"explode"}"#,
            r#"{"cmd":"do","scenario":"echo"}"#,
            r#"[1,2]"#,
        ] {
            assert!(parse_request(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn lines_parse_like_the_fuzz_target_expects() {
        for line in [
            &b""[..],
            b"   ",
            b"\xff\xfe",
            b"{\"cmd\":\"send\",\"scenario\":\"unread\",\"data\":\"\\u0000\\u001b[2J\"}",
            b"{\"cmd\":\"rate\",\"scenario\":\"echo\",\"per_sec\":1e308}",
            b"{\"cmd\":\"add\",\"scenario\":\"echo\",\"count\":18446744073709551616}",
            b"{\"cmd\":\"reset\",\"scenario\":null}",
            &[b'['; 5000],
        ] {
            match parse_line(line) {
                Ok(Some(req)) => {
                    let again = request_line(&req).unwrap();
                    assert!(parse_request(&again).is_ok(), "{again}");
                }
                Ok(None) => assert!(line.iter().all(u8::is_ascii_whitespace)),
                Err(e) => assert!(!e.is_empty()),
            }
        }
        assert!(parse_line(&[b'['; 5000]).unwrap_err().contains("too large"));
        assert!(parse_line(b"\xff").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn request_round_trips_through_json() {
        let req = Request::Rate {
            scenario: crate::demo::scenarios::parse("time-wait").unwrap(),
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
        let p = trust::default_socket_path();
        assert!(p.ends_with("demo.sock"));
        assert!(p.is_absolute());
    }
}
