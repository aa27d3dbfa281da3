//! `-f`/`--family` and `-A`/`--query` combined with -t -u -x -4 -6: for each flag set, the
//! rows of the test's own sockets (TCP and UDP on 127.0.0.1 and ::1, unix stream and
//! datagram) that `sockeye dump` prints must be the ones ss prints, the same words, and the
//! header must name the same columns (ss hides Netid when one table is shown).

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::process::Command;

use crate::common::*;

struct Ours {
    markers: Vec<String>,
    _tcp: Vec<TcpListener>,
    _udp: Vec<UdpSocket>,
    _unix: (UnixListener, UnixDatagram),
    _dir: tempfile::TempDir,
}

fn ours() -> Ours {
    let dir = tempfile::tempdir().unwrap();
    let mut markers = Vec::new();
    let mut tcp = Vec::new();
    let mut udp = Vec::new();
    for addr in ["127.0.0.1:0", "[::1]:0"] {
        let a: SocketAddr = addr.parse().unwrap();
        let l = TcpListener::bind(a).unwrap();
        markers.push(format!(":{} ", l.local_addr().unwrap().port()));
        tcp.push(l);
        let u = UdpSocket::bind(a).unwrap();
        markers.push(format!(":{} ", u.local_addr().unwrap().port()));
        udp.push(u);
    }
    let stream = dir.path().join("sel-stream.sock");
    let dgram = dir.path().join("sel-dgram.sock");
    let unix = (
        UnixListener::bind(&stream).unwrap(),
        UnixDatagram::bind(&dgram).unwrap(),
    );
    markers.push(format!("{} ", stream.display()));
    markers.push(format!("{} ", dgram.display()));
    Ours {
        markers,
        _tcp: tcp,
        _udp: udp,
        _unix: unix,
        _dir: dir,
    }
}

/// The header without spaces (ss glues `Address:PortProcess` when a row it has and sockeye
/// lacks fills the column) and the words of the rows holding one of `markers`, in order.
fn rows(stdout: &[u8], markers: &[String]) -> (String, Vec<Vec<String>>) {
    let text = String::from_utf8_lossy(stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("").split_whitespace().collect();
    let rows = lines
        .filter(|l| {
            let l = format!("{l} ");
            markers.iter().any(|m| l.contains(m.as_str()))
        })
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn tables_and_families_combine_as_ss_combines_them() {
    if !require_tool("ss", "iproute2") {
        return;
    }
    let o = ours();
    let sets: &[&[&str]] = &[
        &["-x", "-4"],
        &["-4", "-x"],
        &["-t", "-f", "unix"],
        &["-f", "inet6", "-t"],
        &["-x", "-f", "inet"],
        &["-f", "unix"],
        &["-f", "inet"],
        &["-f", "inet6", "-f", "unix"],
        &["-A", "udp"],
        &["-A", "tcp,!tcp,udp"],
        &["-A", "inet", "-6"],
        &["-A", "unix_dgram"],
        &["-A", "u_seq,unix_stream"],
        &["--query", "unix", "-4"],
        &["--socket", "tcp", "-A", "udp"],
        &["-A", "all,!unix"],
        &["-t", "-6"],
        &["-u", "-4"],
        &["-t", "-u", "-x"],
        &["-4", "-6"],
        &["-6", "-4"],
        &["-4", "-6", "-x"],
        &["-4", "-f", "unix", "-6"],
        &["-f", "inet6", "-4", "-f", "unix"],
        &["-t", "-A", "udp"],
        &["-u", "-A", "tcp"],
        &["-x", "-A", "tcp"],
        &["-6", "-A", "tcp", "-4"],
    ];
    for args in sets {
        let ss = Command::new("ss")
            .args(["-a", "-n"])
            .args(*args)
            .output()
            .expect("run ss");
        assert!(ss.status.success(), "ss {args:?}");
        let us = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["dump", "-q", "-a", "-n"])
            .args(*args)
            .output()
            .expect("run sockeye");
        assert!(
            us.status.success(),
            "sockeye {args:?}: {}",
            String::from_utf8_lossy(&us.stderr)
        );
        let (ss_header, ss_rows) = rows(&ss.stdout, &o.markers);
        let (header, got) = rows(&us.stdout, &o.markers);
        assert_eq!(header, ss_header, "header of {args:?}");
        assert_eq!(got, ss_rows, "rows of {args:?}");
    }
}

#[test]
fn unknown_family_and_table_names_are_refused_as_ss_does() {
    for (args, want) in [
        (&["-f", "bogus"][..], "\"bogus\" is invalid family"),
        (&["-A", "tcp,bogus"], "\"bogus\" is illegal socket table id"),
        (&["--query", "!"], "\"!\" is illegal socket table id"),
        (&["-f", "packet"], "\"packet\" is invalid family"),
        (&["-A", "raw6"], "\"raw6\" is illegal socket table id"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["dump"])
            .args(args)
            .output()
            .expect("run sockeye");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn verbose_names_the_tables_left_out() {
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_sockeye"))
            .args(["dump", "-q", "--verbose", "-H", "sport", "=", ":1"])
            .args(args)
            .output()
            .expect("run sockeye");
        assert!(o.status.success(), "{args:?}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // Every table ss knows is read now: none is ever left out.
    for args in [&["-A", "tcp,tipc,raw,netlink"][..], &["-t"], &["--tipc"]] {
        let err = run(args);
        assert!(!err.contains("tables not shown"), "{args:?}: {err}");
    }
}
