//! Files the user names that are not regular files (`-F`, the configuration file): refused at
//! once with one line and exit status 2, never read forever or waited on.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs sockeye, killing it (and failing) if it has not ended within five seconds.
fn sockeye_quickly(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sockeye"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run sockeye");
    let start = Instant::now();
    let done = crate::common::wait_until(Duration::from_secs(5), || {
        child.try_wait().ok().flatten().is_some()
    });
    if !done {
        let _ = child.kill();
        let _ = child.wait();
        panic!("sockeye {args:?} still running after {:?}", start.elapsed());
    }
    child.wait_with_output().expect("collect output")
}

fn fifo(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    p
}

/// Exit 2 and exactly one line on stderr that ends with `why`.
fn assert_one_line_usage(out: &Output, why: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.trim_end().ends_with(why), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn dump_refuses_a_fifo_filter_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = fifo(dir.path(), "filter");
    let out = sockeye_quickly(&["dump", "-t", "-F", f.to_str().unwrap()], &[]);
    assert_one_line_usage(&out, "it is a FIFO, not a regular file");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read filter file"));
}

#[test]
fn dump_refuses_dev_zero_as_a_filter_file() {
    let out = sockeye_quickly(&["dump", "-F", "/dev/zero"], &[]);
    assert_one_line_usage(&out, "it is a character device, not a regular file");
}

#[test]
fn dump_refuses_a_huge_filter_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big");
    std::fs::File::create(&p)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let out = sockeye_quickly(&["dump", "-F", p.to_str().unwrap()], &[]);
    assert_one_line_usage(&out, "it is larger than 4 MiB");
}

#[test]
fn the_live_view_refuses_a_directory_and_a_missing_file_as_dump_does() {
    let dir = tempfile::tempdir().unwrap();
    let out = sockeye_quickly(&["tui", "-F", dir.path().to_str().unwrap()], &[]);
    assert_one_line_usage(&out, "it is a directory, not a regular file");
    // The same status as dump's for a missing file (it used to be 1).
    let missing = dir.path().join("missing");
    for cmd in ["tui", "dump"] {
        let out = sockeye_quickly(&[cmd, "-F", missing.to_str().unwrap()], &[]);
        assert_one_line_usage(&out, "No such file or directory");
    }
}

#[test]
fn a_fifo_as_the_configuration_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sockeye")).unwrap();
    fifo(&dir.path().join("sockeye"), "config.toml");
    let env = [("XDG_CONFIG_HOME", dir.path())];
    let export = ["export", "--listen", "127.0.0.1:0"];
    for args in [&["config"][..], &["dump", "-t"][..], &export[..]] {
        let out = sockeye_quickly(args, &env);
        assert_one_line_usage(&out, "it is a FIFO, not a regular file");
    }
    // --no-config skips it, in dump too.
    let out = sockeye_quickly(&["--no-config", "dump", "-t"], &env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_configuration_numeric_key_applies_to_dump() {
    // Rarely used ports that /etc/services names (dcap, gsidcap, wnn6, binkp), below the
    // ephemeral range (ss never names ports inside it).
    let Some(l) = [22125, 22128, 22273, 24554]
        .into_iter()
        .find_map(|p| std::net::TcpListener::bind(("127.0.0.1", p)).ok())
    else {
        eprintln!("skipped: no named port free to bind");
        return;
    };
    let port = l.local_addr().unwrap().port();
    let services = std::fs::read_to_string("/etc/services").unwrap_or_default();
    if !services.contains(&format!("{port}/tcp")) {
        eprintln!("skipped: /etc/services does not name port {port}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sockeye")).unwrap();
    std::fs::write(
        dir.path().join("sockeye/config.toml"),
        "[view]\nnumeric = true\n",
    )
    .unwrap();
    let env = [("XDG_CONFIG_HOME", dir.path())];
    let sport = format!(":{port}");
    let args = [
        "dump",
        "-tlH",
        "sport",
        "=",
        &sport,
        "and",
        "src",
        "127.0.0.1",
    ];
    let numeric = String::from_utf8(sockeye_quickly(&args, &env).stdout).unwrap();
    assert!(numeric.contains(&format!("127.0.0.1:{port} ")), "{numeric}");
    let mut skip = vec!["--no-config"];
    skip.extend(args);
    let named = String::from_utf8(sockeye_quickly(&skip, &env).stdout).unwrap();
    assert!(!named.contains(&format!("127.0.0.1:{port} ")), "{named}");
}
