//! `sockeye dump -K`: closes a CLOSE-WAIT socket the test made (root), reports what it could
//! not close and why, and refuses unsafe requests.

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::*;

fn sockeye(prefix: &[&str], args: &[&str]) -> Output {
    let mut cmd = match prefix.split_first() {
        Some((p, rest)) => {
            let mut c = Command::new(p);
            c.args(rest).arg(env!("CARGO_BIN_EXE_sockeye"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_sockeye")),
    };
    cmd.arg("--no-config")
        .args(args)
        .output()
        .expect("run sockeye")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn still_close_wait(port: u16) -> bool {
    !ss(&[
        "-tnH",
        "state",
        "close-wait",
        "sport",
        "=",
        &format!(":{port}"),
    ])
    .is_empty()
}

#[test]
fn kills_a_close_wait_socket_and_its_owner_sees_the_abort() {
    if !require_root("SOCK_DESTROY needs CAP_NET_ADMIN") || !require_tool("ss", "iproute2") {
        return;
    }
    let mut cw = close_wait(LO4, 0);
    let port = cw.port.to_string();
    let p = format!(":{port}");
    let dry = sockeye(
        &[],
        &[
            "dump",
            "-K",
            "--dry-run",
            "-tn",
            "state",
            "close-wait",
            "sport",
            "=",
            &p,
        ],
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains(&format!("127.0.0.1:{port}")),
        "{}",
        text(&dry.stdout)
    );
    assert!(still_close_wait(cw.port), "--dry-run closed it");

    let o = sockeye(
        &[],
        &["dump", "-K", "-tn", "state", "close-wait", "sport", "=", &p],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("CLOSE-WAIT") && out.contains(&format!("127.0.0.1:{port}")),
        "{out}"
    );
    assert!(
        wait_until(Duration::from_secs(3), || !still_close_wait(cw.port)),
        "ss still shows the socket"
    );
    cw.server
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut buf = [0u8; 8];
    match cw.server.read(&mut buf) {
        Ok(0) => {}
        Err(e) => assert_eq!(e.raw_os_error(), Some(libc::ECONNABORTED), "{e}"),
        Ok(n) => panic!("read {n} bytes from a destroyed socket"),
    }
}

#[test]
fn an_unprivileged_user_gets_the_reason_and_closes_nothing() {
    if !require_tool("ss", "iproute2") {
        return;
    }
    let prefix: &[&str] = if is_root() {
        if !require_tool("setpriv", "util-linux") {
            return;
        }
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]
    } else {
        &[]
    };
    let cw = close_wait(LO4, 0);
    let p = format!(":{}", cw.port);
    let o = sockeye(
        prefix,
        &["dump", "-K", "-tn", "state", "close-wait", "sport", "=", &p],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("not closed") && err.contains("CAP_NET_ADMIN"),
        "{err}"
    );
    assert!(err.contains(&format!("127.0.0.1:{}", cw.port)), "{err}");
    assert!(still_close_wait(cw.port), "closed without privilege");
}

#[test]
fn listeners_are_kept_unless_asked_and_an_empty_filter_is_refused() {
    let l = tcp_listener(SocketAddr::new(LO4, 0), 4, None);
    let port = l.local_addr().unwrap().port();
    let p = format!(":{port}");
    let o = sockeye(&[], &["dump", "-K", "-tln", "sport", "=", &p]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("--kill-listeners"),
        "{}",
        text(&o.stderr)
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "listener closed"
    );

    let o = sockeye(&[], &["dump", "-K", "-t"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("--kill-all") && err.lines().count() == 1,
        "{err}"
    );
    let o = sockeye(&[], &["dump", "--kill-all"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "--kill-all alone is a usage error"
    );
}
