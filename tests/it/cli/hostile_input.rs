//! Hostile input on the command line (QA): each test is one finding. What the user typed is
//! echoed escaped and bounded, every error is said once, and a bad value is a usage error.

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sockeye");

fn sockeye(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", "/nonexistent")
        .stdin(Stdio::null())
        .output()
        .expect("run sockeye")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_huge_argument_is_not_echoed_whole() {
    // 100 KB values were printed back whole (twice for -A, three times for an unknown
    // option): the error a user reads was 100-300 KB.
    let huge = "a".repeat(100_000);
    let dashed = format!("--{huge}");
    let plus = format!("+{huge}");
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("r.rec");
    let rec = rec.to_str().unwrap();
    let o = sockeye(&["record", "-q", "-t", "-o", rec, "--duration", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cases: Vec<Vec<&str>> = vec![
        vec!["dump", "-A", &huge],
        vec!["dump", "-f", &huge],
        vec!["dump", &dashed],
        vec!["dump", "-N", &huge],
        vec!["tui", "--view", &huge],
        vec!["export", "--listen", &huge],
        vec!["record", "--duration", &huge],
        vec!["record", "--max-size", &huge],
        vec!["dump", "--from", rec, "--at", &huge],
        vec!["dump", "--from", rec, "--at", &plus],
        vec!["demo", "--bind", &huge],
        vec!["netstat", "-A", &huge],
        vec!["check", "-N", &huge],
    ];
    for args in cases {
        let o = sockeye(&args);
        let err = stderr(&o);
        let shown = args
            .iter()
            .map(|a| &a[..a.len().min(12)])
            .collect::<Vec<_>>();
        assert!(!o.status.success(), "{shown:?}");
        assert!(
            err.len() < 2_000,
            "{shown:?}: {} bytes of stderr",
            err.len()
        );
        assert!(
            err.contains("aaaa"),
            "{shown:?}: the value is still recognisable: {err}"
        );
    }
}

#[test]
fn control_characters_in_a_bad_value_are_escaped() {
    // clap quoted bad values raw: a carriage return or newline in one rewrote or forged a
    // line of the error (and on a terminal an escape sequence reached it as such).
    for args in [
        &["tui", "--view", "x\rsockeye: all good\n"][..],
        &["dump", "--bogus\r\x1b[2Jx"],
        &["completions", "ba\rsh"],
        &["netstat", "-A", "in\ret"],
    ] {
        let o = sockeye(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            !err.contains('\r') && !err.contains('\x1b'),
            "{args:?}: {err:?}"
        );
        assert!(!err.contains("\nsockeye: all good"), "{args:?}: {err:?}");
        assert!(err.contains("\\r"), "{args:?}: shown escaped: {err:?}");
    }
}

#[test]
fn a_tiny_number_is_echoed_briefly() {
    // `--interval 1e-300` was echoed as 0.000… with 300 zeros.
    for (args, code) in [
        (
            &["record", "-o", "/nonexistent/x", "--interval", "1e-300"][..],
            2,
        ),
        (&["tui", "--interval", "1e-300"], 2),
        (&["attach", "--interval", "1e-300"], 2),
        (&["export", "--timeout", "1e-300"], 2),
        (&["check", "--window", "1e-300"], 3),
        (&["check", "--window", "1e300"], 3),
    ] {
        let o = sockeye(args);
        assert_eq!(o.status.code(), Some(code), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.len() < 160, "{args:?}: {err}");
        assert!(
            err.contains("1e-300") || err.contains("1e300"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_file_that_is_not_regular_is_said_to_be_so_once() {
    // "cannot read F: it is a FIFO, not a regular file: it is a FIFO, not a regular file":
    // the recording reader's error quoted its cause and the chain printed it again.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let fifo = fifo.to_str().unwrap();
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let d = dir.path().to_str().unwrap();
    for (args, needle, code) in [
        (vec!["dump", "--from", fifo], "it is a FIFO", 1),
        (vec!["dump", "--from", d], "it is a directory", 1),
        (
            vec!["dump", "--from", missing],
            "No such file or directory",
            1,
        ),
        (vec!["check", "--from", fifo], "it is a FIFO", 3),
        (vec!["replay", missing], "No such file or directory", 1),
        (vec!["dump", "-N", missing], "No such file or directory", 1),
    ] {
        let o = sockeye(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert_eq!(err.matches(needle).count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn demo_ports_past_65535_or_port_0_are_usage_errors() {
    // `--port 0` said "port 0 + 0 is out of range" and `--port 65535` "port 65535 + 1 is out
    // of range", both with status 1, after binding the first scenarios.
    for (args, needle) in [
        (
            &["demo", "--headless", "--port", "0"][..],
            "--port 0: give the first port",
        ),
        (
            &["demo", "--headless", "--port", "65535", "echo", "unread"],
            "--port 65535: the 2 scenarios take ports 65535 to 65536; give at most 65534",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new(BIN)
            .args(args)
            .env("XDG_RUNTIME_DIR", dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run sockeye");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn the_unix_scenario_names_the_directory_it_cannot_use() {
    // "cannot start scenario unix on 127.0.0.1:0: No such file or directory": no path, and
    // an address the unix scenario never binds.
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("gone/demo.sock");
    let o = sockeye(&[
        "demo",
        "--headless",
        "unix",
        "--socket",
        sock.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("127.0.0.1"), "{err}");
    assert!(
        err.contains(&format!("{}/gone/", dir.path().display())),
        "{err}"
    );
}

#[test]
fn netstat_refuses_what_its_help_says_it_refuses_and_no_more() {
    // The help said raw sockets (-w) were refused with status 2; -w lists them (status 0).
    let o = sockeye(&["netstat", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout).replace('\n', " ");
    let (_, refused) = help
        .split_once("Lists sockets only:")
        .expect("the help says what is refused");
    let (refused, _) = refused.split_once("are refused").expect("…are refused");
    let flags: Vec<&str> = refused
        .split(['(', ')', ',', ' '])
        .filter(|w| w.len() == 2 && w.starts_with('-'))
        .collect();
    assert!(flags.len() >= 5, "{refused}");
    for flag in &flags {
        let o = sockeye(&["netstat", flag]);
        assert_eq!(o.status.code(), Some(2), "netstat {flag}: {}", stderr(&o));
    }
    let o = sockeye(&["netstat", "-w", "-n"]);
    assert!(o.status.success(), "netstat -w: {}", stderr(&o));
    assert!(!flags.contains(&"-w"), "{refused}");
}

/// Run with `env`, killed if still running after ten seconds (then None).
fn within_deadline(args: &[&str], env: (&str, &str)) -> Option<Output> {
    let mut child = Command::new(BIN)
        .args(args)
        .env(env.0, env.1)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sockeye");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Some(child.wait_with_output().expect("output"))
}

#[test]
fn tcpdiag_file_reads_only_a_regular_file_and_never_waits() {
    // TCPDIAG_FILE=FIFO waited for a writer forever; /dev/zero was read to 256 MiB first.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for (file, needle) in [
        (fifo.to_str().unwrap(), "it is a FIFO, not a regular file"),
        ("/dev/zero", "it is a character device, not a regular file"),
    ] {
        let o = within_deadline(&["--no-config", "dump", "-tn"], ("TCPDIAG_FILE", file))
            .unwrap_or_else(|| panic!("TCPDIAG_FILE={file}: still running after 10 s"));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{file}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn what_acts_on_live_sockets_is_refused_with_a_recording() {
    // `dump --from R -K sport = :1` printed the recording and closed nothing; -E, -D, -Z
    // and --source were ignored the same way, with status 0.
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("r.rec");
    let rec = rec.to_str().unwrap();
    let diag = dir.path().join("diag.bin");
    let o = sockeye(&["record", "-q", "-t", "-o", rec, "--duration", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for flags in [
        &["-K", "sport", "=", ":1"][..],
        &["-E"],
        &["-D", diag.to_str().unwrap()],
        &["-Z"],
        &["-z"],
        &["--source", "proc"],
        // -K's companions without -K: clap skips `requires` when the required -K conflicts
        // with --from, so these printed the recording with status 0.
        &["--dry-run", "sport", "=", ":1"],
        &["--kill-all"],
        &["--kill-listeners", "sport", "=", ":1"],
    ] {
        let mut args = vec!["dump", "-t", "--from", rec];
        args.extend_from_slice(flags);
        let o = sockeye(&args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("cannot be used with"),
            "{flags:?}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty(), "{flags:?}");
    }
    assert!(!diag.exists());
    let o = sockeye(&["dump", "-t", "--from", rec, "-r", "-H"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn what_a_recording_does_not_keep_is_refused_not_ignored() {
    // `dump --from R --tos` (and -T, --cgroup, --inet-sockopt, --tipcinfo, -b) printed the
    // moment without what the flag shows, with status 0; `--between` dropped -s and, on its
    // text lines, -p -o -e -i -m the same way; -r was ignored there too.
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("r.rec");
    let rec = rec.to_str().unwrap();
    let o = sockeye(&["record", "-q", "-t", "-o", rec, "--duration", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (flags, says) in [
        (&["--tos"][..], "does not keep what --tos shows"),
        (&["-T"], "does not keep what -T"),
        (&["--cgroup"], "does not keep what --cgroup"),
        (&["--inet-sockopt"], "does not keep what --inet-sockopt"),
        (&["--tipcinfo"], "does not keep what --tipcinfo"),
        (&["-b"], "does not keep what -b"),
        (
            &["--between", "+0", "+1s", "-s"],
            "-s summarises one moment",
        ),
        (&["--between", "+0", "+1s", "-p"], "add --json"),
        (&["--between", "+0", "+1s", "-i"], "add --json"),
        (&["--between", "+0", "+1s", "-r"], "-r resolves one moment"),
        (
            &["--between", "+0", "+1s", "-r", "--json"],
            "-r resolves one moment",
        ),
    ] {
        let mut args = vec!["dump", "-t", "--from", rec];
        args.extend_from_slice(flags);
        let o = sockeye(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{flags:?}: {err}");
        assert!(err.contains(says), "{flags:?}: {err}");
        assert!(o.stdout.is_empty(), "{flags:?}");
    }
    let o = sockeye(&[
        "dump",
        "-t",
        "--from",
        rec,
        "--between",
        "+0",
        "+1s",
        "-p",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_net_argument_that_is_no_network_namespace_is_a_usage_error() {
    // -N FIFO hung forever (opening it waits for a writer); -N /etc/passwd said "cannot enter
    // network namespace net:[INODE]"; -N pid:abc exited 1.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let fifo = fifo.to_str().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    for (arg, says) in [
        (fifo, "not a namespace file"),
        ("/etc/passwd", "not a namespace file"),
        (dir_arg, "a directory"),
        ("/proc/self/ns/uts", "another kind of namespace"),
        ("pid:abc", "not a pid"),
    ] {
        let mut child = Command::new(BIN)
            .args(["dump", "-tan", "-N", arg])
            .env("HOME", "/nonexistent")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run sockeye");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("-N {arg}: still running after 20 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(2), "-N {arg}: {err}");
        assert_eq!(err.lines().count(), 1, "-N {arg}: {err}");
        assert!(err.contains(says), "-N {arg}: {err}");
    }
}
