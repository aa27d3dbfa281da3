//! `dump --from` on files that are not whole recordings: one clear line and the exit status
//! the issue names, a cut tail read up to the cut.

use std::path::Path;
use std::process::{Command, Output};

fn sockeye(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockeye"))
        .arg("--no-config")
        .args(args)
        .output()
        .expect("run sockeye")
}

fn from(path: &Path) -> Output {
    sockeye(&["dump", "-ta", "--from", path.to_str().unwrap()])
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A short real recording (a filter selecting nothing on the machine but loopback port 1).
fn small_recording(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("small.rec");
    let o = sockeye(&[
        "record",
        "-t",
        "--interval",
        "0.05",
        "--duration",
        "300ms",
        "-q",
        "-o",
        p.to_str().unwrap(),
        "sport",
        "=",
        ":1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    p
}

#[test]
fn not_a_recording_empty_or_newer_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"hello, world\n").unwrap();
    let o = from(&junk);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a sockeye recording"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1);

    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let o = from(&empty);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));

    let rec = small_recording(dir.path());
    let mut data = std::fs::read(&rec).unwrap();
    data[8] = data[8].wrapping_add(1);
    let newer = dir.path().join("newer");
    std::fs::write(&newer, &data).unwrap();
    let o = from(&newer);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("newer sockeye"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1);
}

#[test]
fn a_cut_tail_reads_up_to_the_cut_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let rec = small_recording(dir.path());
    let data = std::fs::read(&rec).unwrap();
    let cut = dir.path().join("cut");
    std::fs::write(&cut, &data[..data.len() - 3]).unwrap();
    let o = from(&cut);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("byte offset"), "{}", stderr(&o));

    // Cut inside the first frame: nothing to show.
    let (_, first) = sockeye::record::frame::decode_header(&data).unwrap();
    std::fs::write(&cut, &data[..first + 4]).unwrap();
    let o = from(&cut);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no complete frame"), "{}", stderr(&o));

    // The first frame damaged, not cut: the line says so and where (it said "the file is
    // cut before its first one").
    let mut damaged = data.clone();
    damaged[first + 10] ^= 0xff;
    std::fs::write(&cut, &damaged).unwrap();
    let o = from(&cut);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no complete frame"), "{err}");
    assert!(
        err.contains(&format!("checksum mismatch) at byte offset {first}")),
        "{err}"
    );

    // A time before the recording: a usage error.
    let o = sockeye(&[
        "dump",
        "--from",
        rec.to_str().unwrap(),
        "--at",
        "1970-01-01T00:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("before the recording starts"),
        "{}",
        stderr(&o)
    );
}

/// Two recordings into one FILE with the recorder stopped in between: dump reads FILE.1 and
/// FILE as one, and a moment inside the gap says what was not recorded.
#[test]
fn rotated_files_read_as_one_and_a_gap_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!(":{}", l.local_addr().unwrap().port());
    let p = dir.path().join("g.rec");
    let rec = |filter: &[&str]| {
        let mut args = vec![
            "record",
            "-t",
            "--interval",
            "0.05",
            "--duration",
            "200ms",
            "-q",
            "-o",
            p.to_str().unwrap(),
        ];
        args.extend_from_slice(filter);
        let o = sockeye(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    rec(&["sport", "=", &port]);
    let first_end = std::time::SystemTime::now();
    // The gap: more than twice the interval plus a second.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    rec(&["sport", "=", &port]);
    assert!(dir.path().join("g.rec.1").exists());

    let mid =
        sockeye::record::when::format_rfc3339(first_end + std::time::Duration::from_millis(700));
    let o = sockeye(&[
        "dump",
        "-tl",
        "--json",
        "--from",
        p.to_str().unwrap(),
        "--at",
        &mid,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nothing was recorded from"),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v.as_array().map(Vec::len),
        Some(1),
        "the listener, from FILE.1"
    );

    // The start of the set is FILE.1's: +0s reads there without a note.
    let o = sockeye(&["dump", "-tl", "--from", p.to_str().unwrap(), "--at", "+0s"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    // --between across the gap says so too.
    let o = sockeye(&[
        "dump",
        "-t",
        "--json",
        "--from",
        p.to_str().unwrap(),
        "--between",
        "+0s",
        "+10m",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nothing was recorded from"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn record_never_rotates_away_a_file_that_is_not_a_recording() {
    // `record -o notes.txt` renamed the user's file to notes.txt.1 (a later run's rotation
    // dropped it); `-o DIR` moved the directory; as root, `-o /dev/full` moved the device.
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "precious\n").unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let rec = small_recording(dir.path());
    // A generation that is not a recording is as much in the way as the file itself.
    std::fs::write(dir.path().join("small.rec.2"), "also precious\n").unwrap();
    for (out, in_the_way, why) in [
        (notes.clone(), notes.clone(), "not a sockeye recording"),
        (sub.clone(), sub.clone(), "a directory"),
        (
            rec.clone(),
            dir.path().join("small.rec.2"),
            "not a sockeye recording",
        ),
    ] {
        let o = sockeye(&[
            "record",
            "-t",
            "-q",
            "--duration",
            "0",
            "-o",
            out.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{out:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("{} is in the way", in_the_way.display())) && err.contains(why),
            "{err}"
        );
        assert!(
            !Path::new(&format!("{}.1", out.display())).exists(),
            "{out:?} was rotated"
        );
    }
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "precious\n");
    assert!(sub.is_dir());
    // An earlier recording is still rotated, as documented.
    std::fs::remove_file(dir.path().join("small.rec.2")).unwrap();
    let before = std::fs::read(&rec).unwrap();
    let o = sockeye(&[
        "record",
        "-t",
        "-q",
        "--duration",
        "0",
        "-o",
        rec.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(dir.path().join("small.rec.1")).unwrap(),
        before
    );
}

#[test]
fn a_moment_after_the_recording_ends_is_noted() {
    // `--at +1h` on a recording of a second printed its last moment as if it were 1 h in,
    // silently (a time before the start is refused).
    let dir = tempfile::tempdir().unwrap();
    let rec = small_recording(dir.path());
    let rec = rec.to_str().unwrap();
    let o = sockeye(&["dump", "-ta", "--from", rec, "--at", "+1h"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("note: the recording ends at") && err.contains("before +1h"),
        "{err}"
    );
    // Within the recording, or with -q: nothing.
    for args in [&["--at", "+0"][..], &["--at", "+1h", "-q"], &[]] {
        let mut all = vec!["dump", "-ta", "--from", rec];
        all.extend_from_slice(args);
        let o = sockeye(&all);
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}
