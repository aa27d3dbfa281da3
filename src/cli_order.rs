//! Where the selection flags stood on the command line: ss's meaning depends on it. The last
//! family given (`-4`, `-6`, `-x`, `-f NAME`) is ss's preferred family, and `-4 -6` shows
//! IPv6 only; the first `-A` drops the table flags (`-t`, `-u`) given before it.

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, SelectArgs};
use crate::tables::{Flag, SsFamily};

/// The order facts [`crate::selection`] needs (empty when the arguments were built in code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArgOrder {
    /// The family given last, if any.
    pub preferred: Option<SsFamily>,
    /// Table flags given only before the first `-A` (ss drops them).
    pub before_query: Vec<Flag>,
}

/// Parse the command line as [`clap::Parser::try_parse`], plus the order of the selection
/// flags of the subcommand that has them.
pub fn try_parse_ordered() -> Result<Cli, clap::Error> {
    let args = default_to_tui(ss_personality(std::env::args_os()));
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let Some((_, sub)) = matches.subcommand()
        && let Some(sel) = select_mut(&mut cli)
    {
        sel.order = order_of(sub, sel);
    }
    Ok(cli)
}

/// `sockeye` without a subcommand is `sockeye tui`, so its options are the live view's too:
/// `sockeye -N -t` gets `tui` before its first option (after a leading `--no-config`, which
/// both take). Only an option starts the live view this way: a first word that is not an
/// option is a subcommand (or a mistyped one, which clap names), and `-h`/`-V` stay sockeye's.
pub fn default_to_tui(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let at = 1 + args
        .iter()
        .skip(1)
        .take_while(|a| *a == "--no-config")
        .count();
    let Some(first) = args.get(at).and_then(|a| a.to_str()) else {
        return args;
    };
    let own = ["-h", "--help", "-V", "--version", "--"];
    if first.starts_with('-') && first.len() > 1 && !own.contains(&first) {
        args.insert(at, "tui".into());
    }
    args
}

/// Invoked through a link named `ss` (`ln -s sockeye ss`), sockeye is `sockeye dump`: the
/// arguments get `dump` after the program name.
pub fn ss_personality(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<_> = args.into_iter().collect();
    let is_ss = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|n| n == "ss");
    if is_ss {
        // `ss -V` prints the version wherever it stands among the options, as ss's getopt
        // loop does: here sockeye's own, not iproute2's.
        if args[1..].iter().any(|a| a == "-V" || a == "--version") {
            args.truncate(1);
            args.push("--version".into());
            return args;
        }
        args.insert(1, "dump".into());
    }
    args
}

fn select_mut(cli: &mut Cli) -> Option<&mut SelectArgs> {
    match cli.command.as_mut()? {
        Command::Dump(a) => Some(&mut a.select),
        Command::Tui(a) => Some(&mut a.select),
        _ => None,
    }
}

fn last_index(m: &ArgMatches, id: &str) -> Option<usize> {
    // Flags left at their default (false) have an index too: only count given ones.
    if m.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
        return None;
    }
    m.indices_of(id).and_then(|i| i.max())
}

pub fn order_of(m: &ArgMatches, sel: &SelectArgs) -> ArgOrder {
    let mut fams: Vec<(usize, SsFamily)> = Vec::new();
    for (id, fam) in [
        ("ipv4", SsFamily::Inet),
        ("ipv6", SsFamily::Inet6),
        ("unix", SsFamily::Unix),
        ("packet", SsFamily::Link),
        ("vsock", SsFamily::Vsock),
        ("tipc", SsFamily::Tipc),
        ("xdp", SsFamily::Xdp),
    ] {
        if let Some(i) = last_index(m, id) {
            fams.push((i, fam));
        }
    }
    if let Some(idx) = m.indices_of("family") {
        fams.extend(idx.zip(sel.family.iter().copied()));
    }
    let first_query = m.indices_of("query").and_then(|mut i| i.next());
    let before_query = [
        (Flag::Tcp, "tcp"),
        (Flag::Udp, "udp"),
        (Flag::Raw, "raw"),
        (Flag::Mptcp, "mptcp"),
        (Flag::Dccp, "dccp"),
        (Flag::Sctp, "sctp"),
    ]
    .into_iter()
    .filter(|(_, id)| matches!((last_index(m, id), first_query), (Some(t), Some(q)) if t < q))
    .map(|(f, _)| f)
    .collect();
    ArgOrder {
        preferred: fams.into_iter().max_by_key(|(i, _)| *i).map(|(_, f)| f),
        before_query,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_without_a_subcommand_are_the_live_views() {
        let with = |a: &[&str]| -> Vec<String> {
            let args = std::iter::once("sockeye").chain(a.iter().copied());
            default_to_tui(args.map(Into::into).collect())
                .into_iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(with(&["-N", "-t"]), ["sockeye", "tui", "-N", "-t"]);
        assert_eq!(
            with(&["--no-config", "--view", "closed"]),
            ["sockeye", "--no-config", "tui", "--view", "closed"]
        );
        for kept in [
            &[][..],
            &["dump", "-t"],
            &["dmup"],
            &["-h"],
            &["--help"],
            &["-V"],
            &["--no-config"],
            &["--", "-t"],
        ] {
            let mut want = vec!["sockeye".to_string()];
            want.extend(kept.iter().map(|s| s.to_string()));
            assert_eq!(with(kept), want, "{kept:?}");
        }
        let cli =
            <Cli as clap::Parser>::try_parse_from(with(&["-tN", "state", "established"])).unwrap();
        assert!(matches!(cli.command, Some(crate::cli::Command::Tui(_))));
    }

    fn order(args: &[&str]) -> ArgOrder {
        let m = Cli::command()
            .try_get_matches_from(["sockeye", "dump"].iter().chain(args))
            .unwrap();
        let cli = Cli::from_arg_matches(&m).unwrap();
        let Some(Command::Dump(d)) = cli.command else {
            panic!("not dump")
        };
        order_of(m.subcommand().unwrap().1, &d.select)
    }

    #[test]
    fn named_ss_it_is_dump() {
        let os = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            ss_personality(os(&["/usr/local/bin/ss", "-tan"])),
            os(&["/usr/local/bin/ss", "dump", "-tan"])
        );
        assert_eq!(ss_personality(os(&["ss"])), os(&["ss", "dump"]));
        assert_eq!(
            ss_personality(os(&["/usr/local/bin/ss", "-tan", "-V"])),
            os(&["/usr/local/bin/ss", "--version"])
        );
        assert_eq!(
            ss_personality(os(&["sockeye", "-V"])),
            os(&["sockeye", "-V"])
        );
        assert_eq!(ss_personality(os(&["/bin/sss"])), os(&["/bin/sss"]));
    }

    #[test]
    fn the_last_family_is_preferred() {
        assert_eq!(order(&[]).preferred, None);
        assert_eq!(order(&["-4", "-6"]).preferred, Some(SsFamily::Inet6));
        assert_eq!(order(&["-6", "-4"]).preferred, Some(SsFamily::Inet));
        assert_eq!(order(&["-46"]).preferred, Some(SsFamily::Inet6));
        assert_eq!(order(&["-4", "-x"]).preferred, Some(SsFamily::Unix));
        assert_eq!(
            order(&["-f", "unix", "-f", "inet6", "-4", "-f", "link"]).preferred,
            Some(SsFamily::Link)
        );
        assert_eq!(
            order(&["-f", "link", "-6"]).preferred,
            Some(SsFamily::Inet6)
        );
    }

    #[test]
    fn table_flags_before_the_first_query_are_dropped() {
        assert!(order(&["-t", "-u"]).before_query.is_empty());
        assert_eq!(order(&["-t", "-A", "udp"]).before_query, [Flag::Tcp]);
        assert_eq!(
            order(&["-tu", "-A", "udp"]).before_query,
            [Flag::Tcp, Flag::Udp]
        );
        assert!(order(&["-A", "udp", "-t"]).before_query.is_empty());
        assert!(
            order(&["-A", "udp", "-u", "-A", "tcp"])
                .before_query
                .is_empty()
        );
    }
}
