//! `sockeye netstat` (and sockeye run as `netstat`): net-tools netstat's socket options,
//! spelled as net-tools spells them (long options may be shortened as getopt allows).

use clap::{ArgAction, Args};

#[derive(Debug, Args, Clone, Default)]
#[command(
    infer_long_args = true,
    after_help = "Examples:
  sockeye netstat -tan                    every TCP socket, numeric
  sockeye netstat -tlnp                   TCP listeners with their programs
  sockeye netstat -tanpe                  plus user and inode
  sockeye netstat -tano                   plus timers
  sockeye netstat -wan                    raw sockets (State: the kernel's number)
  sockeye netstat -xa                     unix domain sockets
  sockeye netstat -c -tn                  again every second until interrupted
  ln -s $(command -v sockeye) ~/bin/netstat; netstat -ant | grep 8080"
)]
pub struct NetstatArgs {
    /// TCP sockets.
    #[arg(short = 't', long = "tcp")]
    pub tcp: bool,
    /// UDP sockets.
    #[arg(short = 'u', long = "udp")]
    pub udp: bool,
    /// Raw sockets (`raw`, `raw6`; the State column is the kernel's state number).
    #[arg(short = 'w', long = "raw")]
    pub raw: bool,
    /// Unix domain sockets.
    #[arg(short = 'x', long = "unix")]
    pub unix: bool,
    /// IPv4 only (as --inet or -A inet).
    #[arg(short = '4', long = "inet")]
    pub inet: bool,
    /// IPv6 only (as --inet6 or -A inet6).
    #[arg(short = '6', long = "inet6")]
    pub inet6: bool,
    /// Address families, comma-separated: inet, inet6, unix.
    #[arg(short = 'A', long = "protocol", value_name = "FAMILY", value_delimiter = ',', value_parser = ["inet", "inet6", "unix"])]
    pub protocol: Vec<String>,
    /// Listening sockets only (servers).
    #[arg(short = 'l', long = "listening")]
    pub listening: bool,
    /// Listening and connected sockets.
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Numeric hosts, ports and users.
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
    /// Numeric host addresses.
    #[arg(long = "numeric-hosts")]
    pub numeric_hosts: bool,
    /// Numeric ports.
    #[arg(long = "numeric-ports")]
    pub numeric_ports: bool,
    /// Numeric user ids.
    #[arg(long = "numeric-users")]
    pub numeric_users: bool,
    /// The PID/Program name column.
    #[arg(short = 'p', long = "programs")]
    pub programs: bool,
    /// The User and Inode columns.
    #[arg(short = 'e', long = "extend", action = ArgAction::Count)]
    pub extend: u8,
    /// The Timer column: off (0.00/0/0), on, keepalive, timewait, with seconds left,
    /// retransmissions and probes.
    #[arg(short = 'o', long = "timers")]
    pub timers: bool,
    /// Do not truncate addresses.
    #[arg(short = 'W', long = "wide")]
    pub wide: bool,
    /// Print again every second until interrupted.
    #[arg(short = 'c', long = "continuous")]
    pub continuous: bool,
    /// Accepted and ignored, as netstat's -v for socket listings.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Refused: the routing table is not a socket listing.
    #[arg(short = 'r', long = "route")]
    pub route: bool,
    /// Refused: interfaces are not a socket listing.
    #[arg(short = 'i', long = "interfaces")]
    pub interfaces: bool,
    /// Refused: statistics are not a socket listing.
    #[arg(short = 's', long = "statistics")]
    pub statistics: bool,
    /// Refused: multicast groups are not a socket listing.
    #[arg(short = 'g', long = "groups")]
    pub groups: bool,
    /// Refused: masqueraded connections are not a socket listing.
    #[arg(short = 'M', long = "masquerade")]
    pub masquerade: bool,
}

impl NetstatArgs {
    /// The non-socket mode asked for, as netstat's option and what it shows.
    pub fn other_mode(&self) -> Option<(&'static str, &'static str)> {
        [
            (self.route, "-r", "the routing table"),
            (self.interfaces, "-i", "the interface table"),
            (self.statistics, "-s", "protocol statistics"),
            (self.groups, "-g", "multicast group memberships"),
            (self.masquerade, "-M", "masqueraded connections"),
        ]
        .into_iter()
        .find(|(on, ..)| *on)
        .map(|(_, flag, what)| (flag, what))
    }
}
