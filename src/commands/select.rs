//! The select flags (`-t -u -x -4 -6 --source`) read once, the way ss reads them, for every
//! front end that takes them.

use crate::cli::{SelectArgs, SourceArg};
use crate::collect::{NetidSet, SourcePref};
use crate::model::Netid;

/// The tables and families to dump: no table flag means every table, or the inet ones when
/// `-4`/`-6` is given; `-4` and `-6` together (or neither) mean both families.
pub fn tables(sel: &SelectArgs) -> (NetidSet, bool, bool) {
    let mut netids = NetidSet::default();
    if sel.tcp {
        netids.insert(Netid::Tcp);
    }
    if sel.udp {
        netids.insert(Netid::Udp);
    }
    if sel.unix {
        netids.insert(Netid::UnixStream);
        netids.insert(Netid::UnixDgram);
        netids.insert(Netid::UnixSeqpacket);
    }
    if netids.is_empty() {
        netids = if sel.ipv4 || sel.ipv6 {
            NetidSet::of(&[Netid::Tcp, Netid::Udp])
        } else {
            NetidSet::ALL
        };
    }
    let (ipv4, ipv6) = match (sel.ipv4, sel.ipv6) {
        (false, false) | (true, true) => (true, true),
        (v4, v6) => (v4, v6),
    };
    (netids, ipv4, ipv6)
}

pub fn source_pref(arg: SourceArg) -> SourcePref {
    match arg {
        SourceArg::Auto => SourcePref::Auto,
        SourceArg::Netlink => SourcePref::Netlink,
        SourceArg::Proc => SourcePref::Proc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(f: impl FnOnce(&mut SelectArgs)) -> SelectArgs {
        let mut s = SelectArgs::default();
        f(&mut s);
        s
    }

    #[test]
    fn no_flags_mean_every_table_and_both_families() {
        assert_eq!(tables(&sel(|_| {})), (NetidSet::ALL, true, true));
    }

    #[test]
    fn a_family_flag_alone_means_inet_tables_of_that_family() {
        let inet = NetidSet::of(&[Netid::Tcp, Netid::Udp]);
        assert_eq!(tables(&sel(|s| s.ipv4 = true)), (inet, true, false));
        assert_eq!(tables(&sel(|s| s.ipv6 = true)), (inet, false, true));
        let both = sel(|s| {
            s.ipv4 = true;
            s.ipv6 = true;
        });
        assert_eq!(tables(&both), (inet, true, true));
    }

    #[test]
    fn table_flags_combine() {
        let (ids, v4, v6) = tables(&sel(|s| {
            s.tcp = true;
            s.unix = true;
            s.ipv6 = true;
        }));
        assert!(ids.contains(Netid::Tcp) && ids.contains(Netid::UnixDgram));
        assert!(!ids.contains(Netid::Udp));
        assert_eq!((v4, v6), (false, true));
    }
}
