//! A recording read while `sockeye record` still writes it: the reader (and replay) follow
//! the frames written after the file was opened; `dump --from` sees the later moments.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sockeye::collect::Query;
use sockeye::record::Recording;
use sockeye::tui::replay::ReplaySource;
use sockeye::tui::worker::SnapshotSource;

/// Stops the recorder however the test ends.
struct Recorder(Child);

impl Recorder {
    /// `sockeye record` of the sockets on `port` (`:N`) every 0.05 s into `path`.
    fn start(path: &std::path::Path, port: &str, extra: &[&str]) -> Recorder {
        let rec = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["--no-config", "record", "-ta", "--interval", "0.05", "-q"])
            .args(extra)
            .arg("-o")
            .arg(path)
            .args(["sport", "=", port, "or", "dport", "=", port])
            .stdin(Stdio::null())
            .spawn()
            .expect("start sockeye record");
        Recorder(rec)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `f` until it is true or the deadline passes.
fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_recording_being_written_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.rec");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!(":{}", listener.local_addr().unwrap().port());
    let _rec = Recorder::start(&path, &port, &[]);

    wait_for("the first frame", || {
        Recording::open(&path).is_ok_and(|r| !r.is_empty())
    });
    let mut r = Recording::open(&path).unwrap();
    let first = r.len();
    let end = r.end();
    assert_eq!(
        r.moment(first - 1).unwrap().sockets.len(),
        1,
        "the listener alone"
    );
    // A connection made after the open shows in the frames followed.
    let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let _server = listener.accept().unwrap();
    wait_for("the connection in a followed frame", || {
        r.follow();
        r.moment(r.len() - 1).unwrap().sockets.len() == 3
    });
    assert!(r.len() > first && r.end() > end);

    // Replay's source: the end of its timeline advances, also while paused.
    let mut src = ReplaySource::new(Recording::open(&path).unwrap(), Query::default(), 0, 10);
    src.snapshot().unwrap();
    let frames = src.position().unwrap().frames;
    wait_for("replay's timeline to grow", || {
        src.snapshot().unwrap();
        src.position().unwrap().frames > frames
    });

    // A fresh `dump --from` reads the moments written since.
    let json = |p: &std::path::Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["--no-config", "dump", "-ta", "--json", "--from"])
            .arg(p)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert_eq!(
        json(&path).matches("\"state\"").count(),
        3,
        "{}",
        json(&path)
    );
}

#[test]
fn following_goes_on_into_the_file_a_rotation_starts() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rot.rec");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!(":{}", listener.local_addr().unwrap().port());
    // Each file holds a quarter of --max-size (16 KiB at the smallest): small frames this
    // often fill it within seconds.
    let _rec = Recorder::start(&path, &port, &["--max-size", "64K"]);

    wait_for("the first frame", || {
        Recording::open(&path).is_ok_and(|r| !r.is_empty())
    });
    let mut r = Recording::open(&path).unwrap();
    let files = r.files().len();
    let inode = std::fs::metadata(&path).unwrap().ino();
    wait_for("a rotation", || {
        r.follow();
        std::fs::metadata(&path).is_ok_and(|m| m.ino() != inode)
    });
    // The new file alone, once it has a frame: the follower must reach its frames.
    wait_for("a frame in the new file", || {
        Recording::open_file(&path).is_ok_and(|n| !n.is_empty())
    });
    let new_start = Recording::open_file(&path).unwrap().start();
    wait_for("the follower in the new file", || {
        r.follow();
        r.end() >= new_start
    });
    assert!(r.files().len() > files, "{:?}", r.files());
    let e = r.entries();
    assert!(
        e.windows(2).all(|w| w[0].at < w[1].at),
        "frames in time order"
    );
    assert!(r.gaps.is_empty(), "no gap at the rotation: {:?}", r.gaps);
    assert_eq!(
        r.moment(r.len() - 1).unwrap().sockets.len(),
        1,
        "the listener, read from the new file"
    );
    // The old file was read to its end: every frame it holds is in the followed index.
    let old = Recording::open_file(&path.with_extension("rec.1")).unwrap();
    assert!(
        old.entries().iter().all(|o| e.iter().any(|f| f.at == o.at)),
        "the rotated file's tail is in the index"
    );
}
