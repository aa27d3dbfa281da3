//! `-D FILE` and `TCPDIAG_FILE=FILE` against ss, in both directions, on sockets the test
//! makes; damaged files; the `ss` personality; `-Z` without SELinux.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;

use crate::common::*;

fn sockeye() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sockeye"));
    c.env_remove("TCPDIAG_FILE");
    c
}

/// IPv4 sockets only: ss stops reading a TCPDIAG_FILE at its first NLMSG_DONE, which ends
/// the IPv4 half of the dump ss -D writes.
fn v4_sockets() -> (Vec<String>, Guard) {
    let l = TcpListener::bind(SocketAddr::new(LO4, 0)).expect("bind");
    let mut c = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
    let (mut a, _) = l.accept().expect("accept");
    c.write_all(b"hello").expect("write");
    let mut b = [0u8; 5];
    a.read_exact(&mut b).expect("read");
    let port = l.local_addr().expect("addr").port();
    (port_filter([port]), Guard((l, c, a)))
}

/// The sockets, kept open until dropped.
struct Guard(#[allow(dead_code)] (TcpListener, TcpStream, TcpStream));

fn out(c: &mut Command) -> (bool, String, String) {
    let o = c.output().expect("run");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn masked(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|t| {
            if t.starts_with("lastsnd:") || t.starts_with("lastrcv:") || t.starts_with("lastack:") {
                "last:N".to_string()
            } else {
                t.to_string()
            }
        })
        .collect()
}

#[test]
fn tcpdiag_files_read_and_written_as_ss_does() {
    if !require_tool("ss", "iproute2") {
        return;
    }
    let private = enter_private_netns();
    let (filter, held) = v4_sockets();
    let dir = tempfile::tempdir().expect("tempdir");
    let from_ss = dir.path().join("ss.bin");
    let from_me = dir.path().join("sockeye.bin");

    let (ok, _, err) = out(Command::new("ss").arg("-D").arg(&from_ss).arg("-tanie"));
    assert!(ok, "ss -D: {err}");
    let (ok, _, err) = out(sockeye().args(["dump", "-D"]).arg(&from_me).arg("-tanie"));
    assert!(ok, "sockeye dump -D: {err}");
    assert!(std::fs::metadata(&from_me).expect("written").len() > 0);

    for file in [&from_ss, &from_me] {
        let mut ss = Command::new("ss");
        ss.env("TCPDIAG_FILE", file).arg("-tanie").args(&filter);
        let (ok, ss_out, err) = out(&mut ss);
        assert!(ok, "ss with TCPDIAG_FILE: {err}");
        let mut me = sockeye();
        me.env("TCPDIAG_FILE", file)
            .args(["dump", "--no-config", "-tanie"])
            .args(&filter);
        let (ok, me_out, err) = out(&mut me);
        assert!(ok, "sockeye with TCPDIAG_FILE: {err}");
        assert_eq!(
            masked(&ss_out),
            masked(&me_out),
            "{}\n{ss_out}\n{me_out}",
            file.display()
        );
        assert_eq!(
            ss_out.lines().count(),
            7,
            "three sockets, each with its info line:\n{ss_out}"
        );
    }
    // JSON from a capture: the same sockets, with their tcp_info.
    let mut me = sockeye();
    me.env("TCPDIAG_FILE", &from_ss)
        .args(["dump", "--no-config", "-tani", "--json"])
        .args(&filter);
    let (ok, json, err) = out(&mut me);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let rows = v.as_array().expect("array");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().any(|r| r["tcp_info"]["bytes_received"] == 5));
    drop(held);
    let _ = private;
}

#[test]
fn damaged_tcpdiag_files_are_refused_with_the_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.bin");
    let (ok, _, err) = out(sockeye().args(["dump", "-D"]).arg(&good).arg("-ta"));
    assert!(ok, "{err}");
    let bytes = std::fs::read(&good).expect("read");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("short header", bytes[..7.min(bytes.len())].to_vec()),
        ("cut", bytes[..bytes.len() - 3].to_vec()),
        (
            "garbage",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect(),
        ),
    ];
    for (what, content) in cases {
        let path = dir.path().join(format!("{what}.bin"));
        std::fs::write(&path, &content).expect("write");
        let o = sockeye()
            .env("TCPDIAG_FILE", &path)
            .args(["dump", "--no-config", "-ta"])
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains("byte offset"), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(o.stdout.is_empty(), "{what}: nothing printed");
    }
}

#[test]
fn a_link_named_ss_is_dump() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("ss");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sockeye"), &link).expect("symlink");
    let l = TcpListener::bind(SocketAddr::new(LO4, 0)).expect("bind");
    let port = l.local_addr().expect("addr").port();
    let o = Command::new(&link)
        .args(["-tlnH", "sport", "=", &format!(":{port}")])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        text.starts_with("LISTEN 0      128    127.0.0.1:"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
    // `ss -V` prints a version wherever it stands (sockeye's, not iproute2's).
    let o = Command::new(&link)
        .args(["-tan", "-V"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.starts_with("sockeye "), "{text}");
}

#[test]
fn selinux_contexts_without_selinux_fail_as_ss_does() {
    if std::path::Path::new("/sys/fs/selinux/enforce").exists() {
        crate::common::skip::announce_skip("SELinux is enabled here");
        return;
    }
    for flag in ["-Z", "-z"] {
        let o = sockeye()
            .args(["dump", "--no-config", "-tan", flag])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(1));
        assert!(o.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim(),
            "sockeye: SELinux is not enabled."
        );
    }
}
