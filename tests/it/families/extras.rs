//! ss's rarer output pieces against ss on sockets the test creates: a packet socket's rings
//! and fanout group (`-0 -e`), an MPTCP socket's mptcp_info (`-M -i`), the MPTCP subflows'
//! `tcp-ulp-mptcp` report and a listener's `md5keys:` (`-t -i`), and kTLS's `tcp-ulp-tls`
//! where the kernel has the tls module. Each socket's record (its line and the tab-indented
//! lines ss continues it with) is compared word by word; for TCP only the part from the
//! extras on, as rtt and the last-send times move from one moment to the next.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::skip::announce_skip;
use crate::common::*;

const SOCKEYE: &str = env!("CARGO_BIN_EXE_sockeye");

/// Each record of `out` (a line and its `\t` continuation lines) that holds a marker.
fn records(out: &[u8], markers: &[String]) -> Vec<String> {
    let text = String::from_utf8_lossy(out);
    let mut recs: Vec<String> = Vec::new();
    for line in text.lines().skip(1) {
        if line.starts_with('\t') {
            if let Some(last) = recs.last_mut() {
                last.push(' ');
                last.push_str(line);
            }
        } else {
            recs.push(line.to_string());
        }
    }
    recs.into_iter()
        .filter(|r| {
            let r = format!("{r} ");
            markers.iter().any(|m| r.contains(m.as_str()))
        })
        .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn run(program: &str, pre: &[&str], args: &[&str]) -> Vec<u8> {
    let o = Command::new(program)
        .args(pre)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        o.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// ss's and sockeye's records for `args`, each cut to what `part` keeps.
fn both(args: &[&str], markers: &[String], part: fn(&str) -> String) -> (Vec<String>, Vec<String>) {
    let ss = records(&run("ss", &[], args), markers);
    let us = records(&run(SOCKEYE, &["dump", "-q"], args), markers);
    (
        ss.iter().map(|r| part(r)).collect(),
        us.iter().map(|r| part(r)).collect(),
    )
}

/// Compare, again until a deadline while they differ (a connection's flags settle within
/// moments of the handshake).
fn compare(args: &[&str], markers: &[String], part: fn(&str) -> String) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (ss, us) = both(args, markers, part);
        assert!(!ss.is_empty(), "ss shows none of {markers:?} for {args:?}");
        if ss == us {
            return us;
        }
        assert!(
            Instant::now() < deadline,
            "{args:?}:\n ss   {ss:#?}\n ours {us:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn whole(r: &str) -> String {
    r.to_string()
}

fn setsockopt<T>(fd: &impl AsRawFd, level: libc::c_int, name: libc::c_int, v: &T) -> bool {
    // SAFETY: `v` is a live value of its own size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (v as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        ) == 0
    }
}

fn packet_socket(proto: u16) -> OwnedFd {
    // SAFETY: socket() returns a new fd we own, or -1.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            i32::from(proto.to_be()),
        )
    };
    assert!(
        fd >= 0,
        "packet socket: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: a fresh fd we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

#[test]
fn packet_rings_and_fanout_match_ss() {
    if !require_tool("ss", "iproute2")
        || !require_root("packet sockets and their rings need CAP_NET_RAW")
    {
        return;
    }
    let handle = std::thread::spawn(|| {
        assert!(enter_private_netns(), "cannot make a network namespace");
        const SOL_PACKET: i32 = 263;
        const PACKET_VERSION: i32 = 10;
        const PACKET_RX_RING: i32 = 5;
        const PACKET_TX_RING: i32 = 13;
        const PACKET_FANOUT: i32 = 18;
        // TPACKET_V2 rings on both sides: struct tpacket_req.
        let v2 = packet_socket(0x88b7);
        assert!(
            setsockopt(&v2, SOL_PACKET, PACKET_VERSION, &1i32),
            "TPACKET_V2"
        );
        assert!(setsockopt(
            &v2,
            SOL_PACKET,
            PACKET_RX_RING,
            &[4096u32, 2, 2048, 4]
        ));
        assert!(setsockopt(
            &v2,
            SOL_PACKET,
            PACKET_TX_RING,
            &[4096u32, 1, 1024, 4]
        ));
        // TPACKET_V3 receive ring with a block timeout: struct tpacket_req3.
        let v3 = packet_socket(0x88b9);
        assert!(
            setsockopt(&v3, SOL_PACKET, PACKET_VERSION, &2i32),
            "TPACKET_V3"
        );
        assert!(setsockopt(
            &v3,
            SOL_PACKET,
            PACKET_RX_RING,
            &[4096u32, 2, 2048, 4, 10, 0, 0]
        ));
        // A fanout group: id 77, type lb (1).
        let fan = packet_socket(0x88b8);
        assert!(setsockopt(
            &fan,
            SOL_PACKET,
            PACKET_FANOUT,
            &(77u32 | 1 << 16)
        ));
        let markers: Vec<String> = ["[34999]:", "[35000]:", "[35001]:"]
            .map(String::from)
            .to_vec();
        for args in [
            &["-0", "-e", "-n"][..],
            &["-0", "-e"],
            &["-0", "-e", "-n", "-O"],
            &["-0", "-e", "-n", "-p"],
            &["-0", "-e", "-n", "-m"],
            &["-0", "-e", "-n", "-m", "-O"],
            &["-A", "packet", "-a", "-e", "-n"],
        ] {
            let got = compare(args, &markers, whole);
            assert_eq!(got.len(), 3, "{args:?}: {got:#?}");
        }
        let got = compare(&["-0", "-e", "-n"], &markers, whole);
        let joined = got.join("\n");
        for want in [
            "ring_rx(blk_size:4096,blk_nr:2,frm_size:2048,frm_nr:4,tmo:0,features:0x0)",
            "ring_tx(blk_size:4096,blk_nr:1,frm_size:1024,frm_nr:4,tmo:0,features:0x0)",
            "ring_rx(blk_size:4096,blk_nr:2,frm_size:2048,frm_nr:4,tmo:10,features:0x0)",
            "fanout(id:77,type:lb)",
        ] {
            assert!(joined.contains(want), "no {want} in {joined}");
        }
        // JSON carries them in `details`.
        let out = run(SOCKEYE, &["dump", "-q", "-0", "-e", "--json"], &[]);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        let list = v.as_array().expect("array");
        let find = |proto: u32| {
            list.iter()
                .find(|s| s["protocol"] == proto)
                .unwrap_or_else(|| panic!("protocol {proto} in {v}"))
        };
        let d = &find(0x88b7)["details"];
        assert_eq!(d["packet_rx_ring"]["frame_size"], 2048);
        assert_eq!(d["packet_tx_ring"]["block_nr"], 1);
        assert_eq!(d["packet_fanout"], serde_json::Value::Null);
        assert_eq!(find(0x88b9)["details"]["packet_rx_ring"]["retire_tmo"], 10);
        assert_eq!(
            find(0x88b8)["details"]["packet_fanout"],
            serde_json::json!({"id": 77, "type": "lb"})
        );
        drop((v2, v3, fan));
    });
    if let Err(panic) = handle.join() {
        std::panic::resume_unwind(panic);
    }
}

/// An MPTCP listener on loopback, a connection to it and the accepted end, with data sent
/// both ways (so the sequence numbers and flags have settled); `None` without MPTCP.
fn mptcp_connection() -> Option<(TcpListener, TcpStream, TcpStream, u16)> {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let l = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::from(262))).ok()?;
    l.bind(&SockAddr::from(SocketAddr::from(([127, 0, 0, 1], 0))))
        .ok()?;
    l.listen(4).ok()?;
    let l: TcpListener = l.into();
    let addr = l.local_addr().ok()?;
    let c = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::from(262))).ok()?;
    c.connect(&SockAddr::from(addr)).ok()?;
    let mut c: TcpStream = c.into();
    let (mut a, _) = l.accept().ok()?;
    let mut buf = [0u8; 2];
    c.write_all(b"hi").ok()?;
    a.read_exact(&mut buf).ok()?;
    a.write_all(b"ho").ok()?;
    c.read_exact(&mut buf).ok()?;
    Some((l, c, a, addr.port()))
}

/// From the TCP extras on (` md5keys:` or ` tcp-ulp-`), the line's first words kept.
fn tcp_extras(r: &str) -> String {
    let head: Vec<&str> = r.split_whitespace().take(5).collect();
    let tail = ["md5keys:", "tcp-ulp-"]
        .iter()
        .filter_map(|m| r.find(m))
        .min()
        .map_or("", |at| &r[at..]);
    format!("{} | {tail}", head.join(" "))
}

#[test]
fn mptcp_info_and_subflows_match_ss() {
    if !require_tool("ss", "iproute2") {
        return;
    }
    let Some((_l, _c, _a, port)) = mptcp_connection() else {
        announce_skip("this kernel has no MPTCP (or net.mptcp.enabled=0)");
        return;
    };
    let markers = vec![format!(":{port} ")];
    for args in [
        &["-M", "-a", "-i", "-n"][..],
        &["-M", "-a", "-i"],
        &["-M", "-i", "-n"],
        &["-M", "-a", "-i", "-n", "-m"],
        &["-M", "-a", "-i", "-n", "-O"],
        &["-M", "-a", "-i", "-n", "-e"],
        &["-A", "mptcp", "-a", "-i", "-n", "-o"],
    ] {
        compare(args, &markers, whole);
    }
    let got = compare(&["-M", "-i", "-n"], &markers, whole);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got.iter().all(|r| r.contains(" token:")), "{got:#?}");
    // The TCP subflows beneath: `tcp-ulp-mptcp flags:... token:.../...`.
    for args in [
        &["-t", "-a", "-i", "-n"][..],
        &["-t", "-a", "-i", "-n", "-m"],
        &["-t", "-a", "-i", "-n", "-O"],
    ] {
        let got = compare(args, &markers, tcp_extras);
        assert!(
            got.iter()
                .filter(|r| r.contains("tcp-ulp-mptcp flags:"))
                .count()
                == 2,
            "{args:?}: {got:#?}"
        );
    }
    // JSON: mptcp_info on the MPTCP sockets, ulp on the subflows.
    let out = run(
        SOCKEYE,
        &["dump", "-q", "-a", "-i", "-M", "-t", "--json"],
        &[],
    );
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    let mine: Vec<&serde_json::Value> = v
        .as_array()
        .expect("array")
        .iter()
        .filter(|s| s["local_port"] == port || s["peer_port"] == port)
        .collect();
    let estab = |netid: &str| {
        mine.iter()
            .filter(|s| s["netid"] == netid && s["state"] == "ESTAB")
            .collect::<Vec<_>>()
    };
    assert_eq!(estab("mptcp").len(), 2);
    for s in estab("mptcp") {
        assert!(
            s["mptcp_info"]["token"].as_u64().is_some_and(|t| t != 0),
            "{s}"
        );
        assert_eq!(s["ulp"], serde_json::Value::Null);
    }
    for s in estab("tcp") {
        assert_eq!(s["ulp"]["name"], "mptcp", "{s}");
        assert!(s["ulp"]["mptcp_subflow"]["token_loc"].is_u64(), "{s}");
        assert_eq!(s["mptcp_info"], serde_json::Value::Null);
    }
}

#[test]
fn md5_keys_match_ss() {
    if !require_tool("ss", "iproute2")
        || !require_root("the kernel sends MD5 keys to CAP_NET_ADMIN only")
    {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = l.local_addr().expect("addr").port();
    // struct tcp_md5sig: sockaddr_storage, flags, prefixlen, keylen, ifindex, key[80].
    #[repr(C)]
    struct Md5Sig {
        addr: libc::sockaddr_storage,
        flags: u8,
        prefixlen: u8,
        keylen: u16,
        ifindex: i32,
        key: [u8; 80],
    }
    // SAFETY: plain data; all-zero is valid.
    let mut sig: Md5Sig = unsafe { std::mem::zeroed() };
    // SAFETY: sockaddr_in fits in sockaddr_storage.
    let sin = unsafe { &mut *(&raw mut sig.addr).cast::<libc::sockaddr_in>() };
    sin.sin_family = libc::AF_INET as libc::sa_family_t;
    sin.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 2]);
    let key = b"se cr,et\\";
    sig.keylen = key.len() as u16;
    sig.key[..key.len()].copy_from_slice(key);
    if !setsockopt(&l, libc::IPPROTO_TCP, libc::TCP_MD5SIG, &sig) {
        announce_skip("this kernel has no TCP MD5 signatures (CONFIG_TCP_MD5SIG)");
        return;
    }
    let markers = vec![format!(":{port} ")];
    let escaped = "se\\040cr\\054et\\134";
    for args in [
        &["-t", "-l", "-i", "-n"][..],
        &["-t", "-l", "-n", "-i", "-m"],
    ] {
        let ss_out = run("ss", &[], args);
        let (ss, us) = both(args, &markers, tcp_extras);
        // ss 6.1 prints the key with printf past its line buffer: it lands ahead of the
        // table, and its line ends at `=`. sockeye prints it in place.
        assert!(
            String::from_utf8_lossy(&ss_out).contains(escaped),
            "ss printed no key"
        );
        let fixed: Vec<String> = ss
            .iter()
            .map(|r| {
                r.replace(
                    "md5keys:127.0.0.2/32=",
                    &format!("md5keys:127.0.0.2/32={escaped}"),
                )
            })
            .collect();
        assert_eq!(us, fixed, "{args:?}");
        assert!(
            us[0].ends_with(&format!("md5keys:127.0.0.2/32={escaped}")),
            "{us:?}"
        );
    }
    // -m alone asks for no tcp_info, and the kernel then sends no keys (ss prints none).
    let (ss, us) = both(&["-t", "-l", "-n", "-m"], &markers, tcp_extras);
    assert_eq!(us, ss);
    assert!(!us[0].contains("md5keys"), "{us:?}");
    drop(l);
}

#[test]
fn ktls_ulp_matches_ss_where_the_kernel_has_tls() {
    if !require_tool("ss", "iproute2") {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = l.local_addr().expect("addr").port();
    let c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let (_a, _) = l.accept().expect("accept");
    const TCP_ULP: libc::c_int = 31;
    // SAFETY: a live buffer of the given length.
    let rc = unsafe {
        libc::setsockopt(
            c.as_raw_fd(),
            libc::IPPROTO_TCP,
            TCP_ULP,
            b"tls".as_ptr().cast(),
            3,
        )
    };
    if rc != 0 {
        announce_skip(&format!(
            "kTLS: setsockopt(TCP_ULP, \"tls\") failed ({}): no tls module here; the decoder \
             is tested on recorded bytes",
            std::io::Error::last_os_error()
        ));
        return;
    }
    let markers = vec![format!(":{port} ")];
    let got = compare(&["-t", "-a", "-i", "-n"], &markers, tcp_extras);
    assert!(got.iter().any(|r| r.contains("tcp-ulp-tls")), "{got:#?}");
}
