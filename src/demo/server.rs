//! The demo's side of the control socket: bind it privately, accept a bounded number of
//! connections, and serve each request by request. A request must arrive whole within
//! `REQUEST_DEADLINE` of its first byte, so a client that drips bytes cannot hold one of the
//! few connection slots; a connection idle between requests is closed after `IDLE_TIMEOUT`.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::control::{ConnectError, ControlClient, MAX_REQUEST, error_reply, handle, parse_line};
use super::net;
use super::runtime::Demo;
use super::trust;

/// A connection that starts no request for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// A request must be complete this long after its first byte.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(3);
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Control connections served at once.
const MAX_CONNECTIONS: usize = 8;

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
            let dir = trust::socket_dir();
            trust::ensure_private_dir(&dir)?;
            dir.join("demo.sock")
        }
    };
    if let Ok(meta) = fs::symlink_metadata(&path) {
        if !meta.file_type().is_socket() {
            bail!("{} exists and is not a socket", path.display());
        }
        match ControlClient::connect_unchecked(&path) {
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
        // The socket file is 0600; this also holds if someone loosened it.
        let uid = trust::own_uid();
        if !trust::peer_uid(&stream).is_ok_and(|peer| peer == uid || peer == 0) {
            continue;
        }
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

/// Serve requests on one connection until EOF, a timeout, or an oversized line.
fn serve_connection(stream: UnixStream, demo: &Demo) {
    if stream.set_nonblocking(false).is_err()
        || stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err()
    {
        return;
    }
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = LineReader::new(stream, IDLE_TIMEOUT, REQUEST_DEADLINE);
    loop {
        let (line, complete) = match reader.next_line() {
            Next::Line(line, complete) => (line, complete),
            Next::TooLarge => {
                // The rest of the line cannot be resynchronised: answer and hang up.
                let msg = format!("request too large (limit {MAX_REQUEST} bytes)");
                let _ = writeln!(writer, "{}", error_reply(&msg));
                return;
            }
            Next::Closed => return,
        };
        let reply = match parse_line(&line) {
            Ok(None) if complete => continue,
            Ok(None) => return,
            Ok(Some(req)) => handle(demo, req),
            Err(e) => error_reply(&e),
        };
        if writeln!(writer, "{reply}").is_err() || !complete {
            return;
        }
    }
}

/// What `LineReader::next_line` found.
#[derive(Debug, PartialEq)]
enum Next {
    /// A line without its newline (and CR); false when the peer closed after it unfinished.
    Line(Vec<u8>, bool),
    TooLarge,
    /// End of stream, an error, or a timeout: hang up.
    Closed,
}

/// Splits a stream into request lines, with a deadline for each whole request.
struct LineReader {
    stream: UnixStream,
    buf: Vec<u8>,
    idle: Duration,
    deadline: Duration,
}

impl LineReader {
    fn new(stream: UnixStream, idle: Duration, deadline: Duration) -> LineReader {
        LineReader {
            stream,
            buf: Vec::new(),
            idle,
            deadline,
        }
    }

    fn next_line(&mut self) -> Next {
        // Bytes already buffered (a pipelined request) started their request now.
        let mut started = (!self.buf.is_empty()).then(Instant::now);
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=i).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > MAX_REQUEST {
                    return Next::TooLarge;
                }
                return Next::Line(line, true);
            }
            // One byte more than allowed (a CR) can still end a full-length line.
            if self.buf.len() > MAX_REQUEST + 1 {
                return Next::TooLarge;
            }
            let wait = match started {
                None => self.idle,
                Some(t) => match self.deadline.checked_sub(t.elapsed()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return Next::Closed,
                },
            };
            if self.stream.set_read_timeout(Some(wait)).is_err() {
                return Next::Closed;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) if self.buf.is_empty() => return Next::Closed,
                Ok(0) => return Next::Line(std::mem::take(&mut self.buf), false),
                Ok(n) => {
                    started.get_or_insert_with(Instant::now);
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Closed,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(deadline_ms: u64) -> (LineReader, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        let r = LineReader::new(
            a,
            Duration::from_secs(5),
            Duration::from_millis(deadline_ms),
        );
        (r, b)
    }

    #[test]
    fn lines_are_split_and_pipelined_requests_kept() {
        let (mut r, mut w) = reader(1000);
        w.write_all(b"one\r\ntwo\n\nthree").unwrap();
        drop(w);
        assert_eq!(r.next_line(), Next::Line(b"one".to_vec(), true));
        assert_eq!(r.next_line(), Next::Line(b"two".to_vec(), true));
        assert_eq!(r.next_line(), Next::Line(Vec::new(), true));
        assert_eq!(r.next_line(), Next::Line(b"three".to_vec(), false));
        assert_eq!(r.next_line(), Next::Closed);
    }

    #[test]
    fn an_oversized_line_is_refused_without_reading_it_all() {
        let (mut r, mut w) = reader(1000);
        w.write_all(&vec![b'x'; MAX_REQUEST + 100]).unwrap();
        assert_eq!(r.next_line(), Next::TooLarge);
        let (mut r, mut w) = reader(1000);
        let mut full = vec![b'x'; MAX_REQUEST];
        full.extend_from_slice(b"\r\n");
        w.write_all(&full).unwrap();
        assert!(matches!(r.next_line(), Next::Line(l, true) if l.len() == MAX_REQUEST));
    }

    #[test]
    fn a_dripping_request_is_cut_at_its_deadline_not_per_read() {
        let (mut r, mut w) = reader(300);
        let drip = std::thread::spawn(move || {
            // A byte every 50 ms: each read succeeds, the request never ends.
            for _ in 0..100 {
                if w.write_all(b"x").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let t0 = Instant::now();
        assert_eq!(r.next_line(), Next::Closed);
        let took = t0.elapsed();
        assert!(took < Duration::from_secs(2), "{took:?}");
        drop(r);
        drip.join().unwrap();
    }
}
