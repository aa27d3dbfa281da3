//! Unix sockets under the filter, against ss: path globs, what `dst` sees, and what
//! sport/dport compare — both with `-x` (every operand is a path pattern) and without it
//! (`unix:` patterns, ports compared with inodes).

use std::collections::{BTreeSet, HashSet};
use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixAddr, UnixDatagram, UnixListener, UnixStream};
use std::process::Command;

use crate::filter::support::words;
use sockeye::collect::{Collector, NetidSet, Query, SourcePref};
use sockeye::filter::{Filter, ParseOptions};
use sockeye::model::{Endpoint, Netid};

fn inode(fd: &impl AsRawFd) -> u64 {
    // SAFETY: fstat into a zeroed buffer on an fd we own.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
    st.st_ino
}

/// (path or "*", inode)
type Key = (String, u64);

struct World {
    _dir: tempfile::TempDir,
    dir: String,
    _keep: (
        UnixListener,
        UnixStream,
        UnixStream,
        UnixStream,
        UnixStream,
        UnixDatagram,
        UnixListener,
    ),
    inodes: HashSet<u64>,
    listener_inode: u64,
}

fn build() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_string_lossy().to_string();
    let l = UnixListener::bind(dir.path().join("lsock")).expect("bind");
    let c = UnixStream::connect(dir.path().join("lsock")).expect("connect");
    let (a, _) = l.accept().expect("accept");
    let (p1, p2) = UnixStream::pair().expect("pair");
    let g = UnixDatagram::bind(dir.path().join("gsock")).expect("dgram");
    let abs_name = format!("sockeye-filter-test-{}", std::process::id());
    let abs = UnixListener::bind_addr(
        &UnixAddr::from_abstract_name(abs_name.as_bytes()).expect("abstract"),
    )
    .expect("abstract bind");
    let inodes = [
        inode(&l),
        inode(&c),
        inode(&a),
        inode(&p1),
        inode(&p2),
        inode(&g),
        inode(&abs),
    ]
    .into_iter()
    .collect();
    World {
        listener_inode: inode(&l),
        _dir: dir,
        dir: d,
        _keep: (l, c, a, p1, p2, g, abs),
        inodes,
    }
}

fn ss_keys(w: &World, flags: &str, filter: &[String]) -> Result<BTreeSet<Key>, String> {
    let out = Command::new("ss")
        .arg(flags)
        .args(filter)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    let mut keys = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || !f[0].starts_with("u_") {
            continue;
        }
        let Ok(ino) = f[f.len() - 3].parse::<u64>() else {
            continue;
        };
        if w.inodes.contains(&ino) {
            keys.insert((f[f.len() - 4].to_string(), ino));
        }
    }
    Ok(keys)
}

fn sockeye_keys(w: &World, f: &Filter, netids: NetidSet, source: SourcePref) -> BTreeSet<Key> {
    let q = Query {
        netids,
        states: f.states(false, true),
        bytecode: f.bytecode().map(std::sync::Arc::new),
        keep: f.predicate(),
        source,
        ..Query::default()
    };
    let snap = Collector::new(q).snapshot().expect("snapshot");
    snap.sockets
        .iter()
        .filter_map(|s| match &s.local {
            Endpoint::Unix { path, .. } if w.inodes.contains(&s.inode) => {
                Some((path.as_deref().unwrap_or("*").to_string(), s.inode))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn unix_filters_select_what_ss_selects() {
    let w = build();
    let d = &w.dir;
    let li = w.listener_inode;
    // (flags, filter, compare the /proc source too: it has no peer inodes)
    let cases: Vec<(&str, String, bool)> = vec![
        ("-xaH", format!("src {d}/*"), true),
        ("-xaH", format!("src {d}/l*"), true),
        ("-xaH", format!("src {d}/?sock"), true),
        ("-xaH", format!("src {d}/[lg]sock"), true),
        ("-xaH", "src *".to_string(), true),
        ("-xaH", "dst *".to_string(), true),
        ("-xaH", format!("dst {d}/*"), true),
        ("-xaH", format!("not src {d}/*"), true),
        ("-xaH", format!("src {d}/lsock or src {d}/gsock"), true),
        ("-xaH", format!("src unix:{d}/*"), true),
        ("-xaH", "src @sockeye-filter-test-*".to_string(), true),
        ("-xaH", format!("sport = :{li}"), true),
        ("-xaH", "sport gt :1024".to_string(), true),
        ("-xaH", "sport lt :1024".to_string(), true),
        ("-xaH", "dport ge :5".to_string(), true),
        ("-xaH", format!("state listening src {d}/*"), true),
        ("-xaH", format!("state established not src {d}/*"), true),
        ("-aH", format!("src unix:{d}/*"), true),
        ("-aH", format!("not src unix:{d}/*"), true),
        // Without -x, ss compares unix inodes as ports. sockeye refuses ports above 65535
        // (inodes are larger here), so only orderings against real port numbers are compared.
        ("-aH", "sport gt :1024".to_string(), true),
        ("-aH", "sport le :1024".to_string(), true),
        ("-aH", "dport gt :1024".to_string(), false),
        ("-aH", "dport = :0".to_string(), false),
        ("-aH", "src 127.0.0.1".to_string(), true),
        ("-aH", "not src 127.0.0.1".to_string(), true),
    ];
    let mut failures = Vec::new();
    let mut nonempty = 0;
    for (flags, filter, with_proc) in &cases {
        let ws = words(filter);
        let expected = match ss_keys(&w, flags, &ws) {
            Ok(k) => k,
            Err(e) => {
                failures.push(format!("ss {flags} {filter}: {e}"));
                continue;
            }
        };
        if !expected.is_empty() {
            nonempty += 1;
        }
        let unix = flags.contains('x');
        let f = match Filter::parse_with(
            &ws,
            ParseOptions {
                unix,
                ..ParseOptions::default()
            },
        ) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{flags} {filter}: {e}"));
                continue;
            }
        };
        let netids = if unix {
            NetidSet::of(&[Netid::UnixStream, Netid::UnixDgram, Netid::UnixSeqpacket])
        } else {
            NetidSet::ALL
        };
        let mut sources = vec![SourcePref::Netlink];
        if *with_proc {
            sources.push(SourcePref::Proc);
        }
        for source in sources {
            let got = sockeye_keys(&w, &f, netids, source);
            if got != expected {
                failures.push(format!(
                    "{flags} '{filter}' via {source:?}: ss {expected:?}, sockeye {got:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        nonempty >= cases.len() / 2,
        "only {nonempty} cases select anything"
    );
}
