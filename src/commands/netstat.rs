//! `sockeye netstat`, and sockeye run under the name `netstat`: net-tools netstat's socket
//! options and layout over the one collector. netstat's option rules: `-4`/`-6` without a
//! table flag mean every inet table; a table flag without a family means both families; no
//! flag at all means every table (the Internet section, then the unix one).
//!
//! Names netstat reads elsewhere than the socket tables come through the host too: service
//! names (/etc/services, every port), user names (the system's user database), argv[0]
//! (/proc/PID/cmdline) and unix reference counts (/proc/net/unix, which sock_diag lacks).
//! Host names are asked of the system resolver, cached per run, within a time budget.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, FromArgMatches};
use rustc_hash::FxHashMap;

use crate::cli::{SelectArgs, SourceArg};
use crate::cli_netstat::NetstatArgs;
use crate::collect::{Collector, Host, procfs};
use crate::config::Config;
use crate::error::{self, UsageError};
use crate::model::{Snapshot, Socket};
use crate::output::netstat::{self as layout, Layout, Lookup};
use crate::output::services::{Proto, Services};
use crate::selection::{Options, Request};
use crate::text;

/// How long host-name lookups may take in one run, all together; past it addresses print
/// as numbers (netstat itself would wait for every lookup).
const RESOLVE_BUDGET: Duration = Duration::from_secs(5);

/// The options netstat accepts for socket listings, for the one-line usage error.
const SUPPORTED: &str = "-t -u -w -x -l -a -n -p -e -o -W -4 -6 -c -A FAMILY";

/// The program was started under the name `netstat` (a symlink or hard link).
pub fn called_netstat() -> bool {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n == "netstat"))
        .unwrap_or(false)
}

/// When started as `netstat`: parse the arguments as netstat's and run; `None` otherwise.
pub fn main_as_netstat() -> Option<ExitCode> {
    if !called_netstat() {
        return None;
    }
    let cmd = NetstatArgs::augment_args(
        clap::Command::new("netstat")
            .version(concat!("(sockeye) ", env!("SOCKEYE_VERSION")))
            .about("sockeye's netstat: net-tools netstat's socket listing")
            .infer_long_args(true),
    );
    let args: Vec<OsString> = std::env::args_os().collect();
    let parsed = cmd
        .try_get_matches_from(args)
        .and_then(|m| NetstatArgs::from_arg_matches(&m));
    Some(match parsed {
        Ok(a) => exit(run(&a)),
        Err(e) if e.use_stderr() => usage_error(&error::escaped_clap_error(e)),
        Err(e) => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
    })
}

/// The subcommand on the command line is `netstat` (for its usage errors).
pub fn invoked() -> bool {
    std::env::args_os()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'))
        .is_some_and(|a| a == "netstat")
}

/// A usage error as one line and status 2. `e`'s quoted values are escaped already
/// ([`error::escaped_clap_error`]).
pub fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ErrorKind};
    let line = match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = e
                .get(ContextKind::InvalidArg)
                .map(|v| v.to_string())
                .unwrap_or_default();
            format!("netstat: invalid option '{arg}' (socket options: {SUPPORTED}; see --help)")
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            format!("netstat: {}", first.trim_start_matches("error: "))
        }
    };
    text::stderr_line(&line);
    ExitCode::from(error::Exit::Usage.code())
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if error::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            text::stderr_line(&error::user_message(&e));
            ExitCode::from(error::exit_code(&e))
        }
    }
}

/// What netstat's flags select: tables, families and sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tables {
    tcp: bool,
    udp: bool,
    raw: bool,
    unix: bool,
    v4: bool,
    v6: bool,
    /// The Internet section is printed (its header even when empty).
    inet_section: bool,
}

impl Tables {
    fn of(a: &NetstatArgs) -> Tables {
        let mut inet = a.inet || a.protocol.iter().any(|p| p == "inet");
        let mut inet6 = a.inet6 || a.protocol.iter().any(|p| p == "inet6");
        let unix = a.unix || a.protocol.iter().any(|p| p == "unix");
        let (mut tcp, mut udp, mut raw) = (a.tcp, a.udp, a.raw);
        if (inet || inet6) && !(tcp || udp || raw) {
            (tcp, udp, raw) = (true, true, true);
        }
        if (tcp || udp || raw) && !(inet || inet6) {
            (inet, inet6) = (true, true);
        }
        let any = tcp || udp || raw || unix;
        Tables {
            tcp: !any || tcp,
            udp: !any || udp,
            raw: !any || raw,
            unix: !any || unix,
            v4: !any || inet,
            v6: !any || inet6,
            inet_section: !any || tcp || udp || raw,
        }
    }
}

fn layout_of(a: &NetstatArgs) -> Layout {
    Layout {
        all: a.all,
        listening: a.listening,
        numeric_hosts: a.numeric || a.numeric_hosts,
        numeric_ports: a.numeric || a.numeric_ports,
        numeric_users: a.numeric || a.numeric_users,
        programs: a.programs,
        extend: a.extend > 0,
        timers: a.timers,
        wide: a.wide,
    }
}

/// `sockeye netstat ARGS`.
pub fn run(args: &NetstatArgs) -> anyhow::Result<()> {
    if let Some((flag, what)) = args.other_mode() {
        return Err(UsageError(format!(
            "netstat {flag} ({what}) is not supported: sockeye netstat lists sockets only \
             ({SUPPORTED})"
        ))
        .into());
    }
    let tables = Tables::of(args);
    let layout = layout_of(args);
    let sel = SelectArgs {
        tcp: tables.tcp,
        udp: tables.udp,
        raw: tables.raw,
        unix: tables.unix,
        ipv4: tables.v4 && !tables.v6,
        ipv6: tables.v6 && !tables.v4,
        // netstat reads whole tables and picks servers or connections itself.
        all: true,
        numeric: true,
        source: SourceArg::Auto,
        ..SelectArgs::default()
    };
    let selection = Request::from_args(&sel, &Config::default(), Options::DUMP)?.resolve()?;
    let mut query = selection.query;
    query.processes = layout.programs;
    // tcp_info's retransmits and probes are the Timer column's two counts.
    query.tcp_info = layout.timers;
    let host = Host::current();
    let mut collector = Collector::on_host(query, host.clone());
    let mut lookup = HostLookup::new(host, &layout);
    loop {
        let snap = collector
            .snapshot()
            .context("cannot read the socket tables")?;
        lookup.refresh(tables.unix);
        if let Some(reason) = &snap.fallback_reason {
            text::stderr_line(&format!(
                "netlink is not available ({reason}); reading /proc/net instead"
            ));
        }
        if layout.programs && snap.process_note.is_some() {
            let mut err = io::stderr().lock();
            let _ = err.write_all(
                b"(Not all processes could be identified, non-owned process info\n \
                  will not be shown, you would have to be root to see it all.)\n",
            );
        }
        let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
        print(&mut out, snap, &tables, &layout, &mut lookup)
            .and_then(|()| out.flush())
            .context("cannot write to standard output")?;
        drop(out);
        if !args.continuous {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn print(
    out: &mut impl Write,
    mut snap: Snapshot,
    tables: &Tables,
    layout: &Layout,
    lookup: &mut dyn Lookup,
) -> io::Result<()> {
    snap.sockets.retain(|s| layout::selected(s, layout));
    layout::sort(&mut snap.sockets);
    let (inet, unix): (Vec<&Socket>, Vec<&Socket>) =
        snap.sockets.iter().partition(|s| layout::is_inet(s));
    if tables.inet_section {
        out.write_all(layout::inet_header(layout).as_bytes())?;
        for s in inet {
            out.write_all(layout::inet_row(s, layout, lookup).as_bytes())?;
        }
    }
    if tables.unix {
        out.write_all(layout::unix_header(layout).as_bytes())?;
        for s in unix {
            out.write_all(layout::unix_row(s, layout, lookup).as_bytes())?;
        }
    }
    Ok(())
}

/// The names, cached for the run (reference counts for one round).
struct HostLookup {
    host: Host,
    services: Option<Services>,
    users: HashMap<u32, Option<String>>,
    programs: HashMap<u32, Option<String>>,
    hosts: HashMap<IpAddr, Option<String>>,
    resolve_left: Duration,
    refcnts: FxHashMap<u64, Option<u32>>,
    /// /etc/protocols, read on first use (raw sockets' protocol names).
    protocols: Option<FxHashMap<u16, Box<str>>>,
}

impl HostLookup {
    fn new(host: Host, layout: &Layout) -> HostLookup {
        HostLookup {
            services: (!layout.numeric_ports).then(|| Services::every_port(&host)),
            host,
            users: HashMap::new(),
            programs: HashMap::new(),
            hosts: HashMap::new(),
            resolve_left: RESOLVE_BUDGET,
            refcnts: FxHashMap::default(),
            protocols: None,
        }
    }

    /// Before each round: processes come and go, and reference counts change.
    fn refresh(&mut self, unix: bool) {
        self.programs.clear();
        self.refcnts.clear();
        if unix {
            let mut buf = Vec::new();
            if self.host.read_net("unix", &mut buf).is_ok() {
                self.refcnts = procfs::unix_refcounts(&buf);
            }
        }
    }
}

impl Lookup for HostLookup {
    fn host(&mut self, addr: IpAddr) -> Option<String> {
        if let Some(known) = self.hosts.get(&addr) {
            return known.clone();
        }
        let started = Instant::now();
        let name = reverse_lookup(addr, self.resolve_left);
        self.resolve_left = self.resolve_left.saturating_sub(started.elapsed());
        self.hosts.insert(addr, name.clone());
        name
    }

    fn service(&mut self, port: u16, proto: &str) -> Option<String> {
        let proto = match proto {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            // netstat names a raw socket's "port" (its protocol) from /etc/protocols.
            "raw" => {
                let host = &self.host;
                return self
                    .protocols
                    .get_or_insert_with(|| {
                        crate::output::columns::names::parse_protocols(
                            &host.protocols_text().unwrap_or_default(),
                        )
                    })
                    .get(&port)
                    .map(|n| n.to_string());
            }
            _ => return None,
        };
        self.services
            .as_ref()?
            .name(port, proto)
            .map(str::to_string)
    }

    fn user(&mut self, uid: u32) -> Option<String> {
        let host = &self.host;
        self.users
            .entry(uid)
            .or_insert_with(|| host.user_name(uid))
            .clone()
    }

    fn program(&mut self, pid: u32) -> Option<String> {
        let host = &self.host;
        self.programs
            .entry(pid)
            .or_insert_with(|| {
                let mut buf = Vec::new();
                host.read_pid_file(pid, "cmdline", 511, &mut buf).ok()?;
                Some(argv0(&buf))
            })
            .clone()
    }

    fn unix_refcnt(&mut self, inode: u64) -> Option<u32> {
        self.refcnts.get(&inode).copied().flatten()
    }
}

/// argv[0] as netstat shows it: up to the first NUL, and after the last `/` when it is an
/// absolute path.
fn argv0(cmdline: &[u8]) -> String {
    let first = cmdline.split(|&b| b == 0).next().unwrap_or_default();
    let name = if first.first() == Some(&b'/') {
        first.rsplit(|&b| b == b'/').next().unwrap_or(first)
    } else {
        first
    };
    String::from_utf8_lossy(name).into_owned()
}

/// The system resolver's name for `addr` (getnameinfo, NI_NAMEREQD), or `None` when it has
/// none or does not answer within `budget`. getnameinfo cannot be cancelled: a lookup past
/// the budget is left to finish on its own thread.
fn reverse_lookup(addr: IpAddr, budget: Duration) -> Option<String> {
    if budget.is_zero() {
        return None;
    }
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("netstat-resolve".into())
        .spawn(move || {
            let _ = tx.send(getnameinfo(addr));
        })
        .ok()?;
    rx.recv_timeout(budget).ok().flatten()
}

fn getnameinfo(addr: IpAddr) -> Option<String> {
    let sock = socket2::SockAddr::from(std::net::SocketAddr::new(addr, 0));
    let mut name = [0 as libc::c_char; libc::NI_MAXHOST as usize];
    // SAFETY: `sock` is a valid sockaddr of `sock.len()` bytes; `name` is a writable buffer
    // of the length given; no service buffer is asked for.
    let rc = unsafe {
        libc::getnameinfo(
            sock.as_ptr().cast(),
            sock.len(),
            name.as_mut_ptr(),
            name.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `name`.
    let c = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) };
    Some(c.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: NetstatArgs,
    }

    fn tables(args: &[&str]) -> Tables {
        let t = T::try_parse_from(std::iter::once("netstat").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"));
        Tables::of(&t.a)
    }

    #[test]
    fn netstat_option_rules() {
        let all = tables(&[]);
        assert!(all.tcp && all.udp && all.unix && all.v4 && all.v6 && all.inet_section);
        let t = tables(&["-t"]);
        assert!(t.tcp && !t.udp && !t.unix && t.v4 && t.v6 && t.inet_section);
        let four = tables(&["-4"]);
        assert!(four.tcp && four.udp && !four.unix && four.v4 && !four.v6);
        let x = tables(&["-x"]);
        assert!(!x.tcp && !x.udp && x.unix && !x.inet_section);
        let x4 = tables(&["-x", "-4"]);
        assert!(x4.tcp && x4.udp && x4.unix && x4.v4 && !x4.v6);
        let both = tables(&["-t", "-4", "-6"]);
        assert!(both.v4 && both.v6);
        let a = tables(&["-A", "inet6,unix"]);
        assert!(a.tcp && a.unix && !a.v4 && a.v6);
    }

    #[test]
    fn names_come_from_the_host() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for d in ["etc", "net", "42"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        let write = |p: &str, text: &[u8]| std::fs::write(root.join(p), text).expect("write");
        write(
            "etc/passwd",
            b"root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/a:/bin/sh\n",
        );
        write("etc/services", b"ssh 22/tcp\nhigh 40000/tcp\n");
        write("42/cmdline", b"/usr/sbin/sshd\0-D\0");
        write(
            "net/unix",
            b"Num       RefCount Protocol Flags    Type St Inode Path\n\
              0000000000000000: 00000003 00000000 00000000 0001 03 900\n\
              0000000000000000: 00000002 00000000 00010000 0001 01 901 /run/x.sock\n",
        );
        let mut l = HostLookup::new(Host::fake(root), &Layout::default());
        l.refresh(true);
        assert_eq!(l.user(1000).as_deref(), Some("alice"));
        assert_eq!(l.user(7), None);
        assert_eq!(l.program(42).as_deref(), Some("sshd"));
        assert_eq!(l.program(43), None);
        assert_eq!(l.unix_refcnt(900), Some(3));
        assert_eq!(l.unix_refcnt(901), Some(2));
        assert_eq!(l.unix_refcnt(902), None);
        assert_eq!(l.service(22, "tcp").as_deref(), Some("ssh"));
        // getservbyport names ephemeral ports too (ss does not).
        assert_eq!(l.service(40000, "tcp").as_deref(), Some("high"));
        assert_eq!(l.service(22, "sctp"), None);
    }

    #[test]
    fn argv0_as_netstat_shortens_it() {
        assert_eq!(argv0(b"/usr/bin/python3\0-m\0http.server\0"), "python3");
        assert_eq!(argv0(b"./server\0--port\0"), "./server");
        assert_eq!(argv0(b"sshd: root@pts/0\0"), "sshd: root@pts/0");
        assert_eq!(argv0(b""), "");
    }
}
