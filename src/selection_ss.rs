//! ss's way of combining table flags (`-t -u -x -A`) with families (`-4 -6 -f`), as iproute2
//! 6.1's `filter_merge_defaults`: every table named whose families none of the named families
//! cover adds all its families; every family named that no named table belongs to adds all
//! its tables. So `-x -4` is unix plus the IPv4 inet tables, `-A inet -6` the inet tables
//! over IPv6, `-f unix -t` TCP over both families plus unix. Nothing named: ss's default
//! tables. Tables sockeye does not read yet ([`UNREAD_TABLES`]) take part, so that naming
//! one never widens the selection, and are reported as unread.

use crate::cli::SelectArgs;
use crate::tables::{Flag, Netid, NetidSet, SsFamily, UNREAD_TABLES};

/// The tables and families a command line selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsTables {
    pub netids: NetidSet,
    pub ipv4: bool,
    pub ipv6: bool,
    /// ss Netids selected that sockeye does not read yet, in ss's order.
    pub unread: Vec<&'static str>,
    /// Whether each table's own default states apply when no state is asked: a table or
    /// family was named, and no `-A` (ss's first `-A` sets connected states for all, as do
    /// ss's defaults when nothing is named).
    pub named: bool,
    /// The families named on the command line (a bit per [`SsFamily`]): ss adds each one's
    /// default states too (`filter_af_set`), so `-u -4` shows UDP's ESTAB and the connected
    /// states — and, with more than one state, the State column.
    pub named_families: u16,
}

/// Registry kinds and unread tables as one bit set (unread tables after the registry's).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Dbs {
    kinds: NetidSet,
    unread: u32,
}

impl Dbs {
    fn set(&mut self, other: Dbs, enable: bool) {
        if enable {
            self.kinds = self.kinds.union(other.kinds);
            self.unread |= other.unread;
        } else {
            self.kinds = self.kinds.without(other.kinds);
            self.unread &= !other.unread;
        }
    }
    fn matching(kind: impl Fn(Netid) -> bool, unread: impl Fn(usize) -> bool) -> Dbs {
        Dbs {
            kinds: NetidSet::of_kinds(kind),
            unread: (0..UNREAD_TABLES.len())
                .filter(|i| unread(*i))
                .fold(0, |m, i| m | 1 << i),
        }
    }
    fn of_query_name(name: &str) -> Dbs {
        Dbs::matching(
            |n| n.kind().query_names.contains(&name),
            |i| UNREAD_TABLES[i].query_names.contains(&name),
        )
    }
    fn of_family(fam: u16) -> Dbs {
        Dbs::matching(
            |n| n.class().ss_families() & fam != 0,
            |i| UNREAD_TABLES[i].families & fam != 0,
        )
    }
    /// The families of each table, one mask per table.
    fn families(self) -> impl Iterator<Item = u16> {
        let kinds = self.kinds.iter().map(|n| n.class().ss_families());
        let unread = (0..UNREAD_TABLES.len())
            .filter(move |i| self.unread & (1 << i) != 0)
            .map(|i| UNREAD_TABLES[i].families);
        kinds.chain(unread)
    }
}

/// The selection of the flags, as ss makes it.
pub fn resolve(sel: &SelectArgs) -> SsTables {
    let mut dbs = Dbs::default();
    let mut fams: u16 = 0;
    let mut named = false;
    let mut named_families: u16 = 0;
    for (flag, given) in [
        (Flag::Tcp, sel.tcp),
        (Flag::Udp, sel.udp),
        (Flag::Raw, sel.raw),
        (Flag::Mptcp, sel.mptcp),
        (Flag::Dccp, sel.dccp),
        (Flag::Sctp, sel.sctp),
    ] {
        if given && !sel.order.before_query.contains(&flag) {
            let of_flag = Dbs {
                kinds: NetidSet::of_flag(flag),
                unread: 0,
            };
            dbs.set(of_flag, true);
            named = true;
        }
    }
    // -x, -0, --vsock, --tipc and --xdp are families to ss (AF_UNIX...), not table flags.
    for (fam, given) in [
        (SsFamily::Inet, sel.ipv4),
        (SsFamily::Inet6, sel.ipv6),
        (SsFamily::Unix, sel.unix),
        (SsFamily::Link, sel.packet),
        (SsFamily::Vsock, sel.vsock),
        (SsFamily::Tipc, sel.tipc),
        (SsFamily::Xdp, sel.xdp),
    ] {
        if given {
            fams |= fam.bit();
            named = true;
        }
    }
    for fam in &sel.family {
        fams |= fam.bit();
        named = true;
    }
    named_families |= fams;
    for name in sel.query.iter().flat_map(|list| list.split(',')) {
        let (name, enable) = match name.strip_prefix('!') {
            Some(rest) => (rest, false),
            None => (name, true),
        };
        dbs.set(Dbs::of_query_name(name), enable);
        named = true;
    }
    if !named {
        dbs = Dbs::matching(Netid::in_ss_default, |i| UNREAD_TABLES[i].in_default);
    }
    // filter_merge_defaults: tables first, then families.
    let table_fams: Vec<u16> = dbs.families().collect();
    for f in table_fams {
        if f & fams == 0 {
            fams |= f;
        }
    }
    for fam in SsFamily::ALL {
        if fams & fam.bit() == 0 {
            continue;
        }
        let of_fam = Dbs::of_family(fam.bit());
        if dbs.kinds.intersect(of_fam.kinds).is_empty() && dbs.unread & of_fam.unread == 0 {
            dbs.set(of_fam, true);
        }
    }
    // ss's preferred family (the last given) narrows inet to itself: `-4 -6` is IPv6 only.
    match sel.order.preferred {
        Some(SsFamily::Inet) => fams &= !SsFamily::Inet6.bit(),
        Some(SsFamily::Inet6) => fams &= !SsFamily::Inet.bit(),
        _ => {}
    }
    let (mut ipv4, mut ipv6) = (
        fams & SsFamily::Inet.bit() != 0,
        fams & SsFamily::Inet6.bit() != 0,
    );
    if !ipv4 && !ipv6 {
        // No inet table is selected then; the families do not matter.
        (ipv4, ipv6) = (true, true);
    }
    SsTables {
        netids: dbs.kinds,
        ipv4,
        ipv6,
        unread: (0..UNREAD_TABLES.len())
            .filter(|i| dbs.unread & (1 << i) != 0)
            .map(|i| UNREAD_TABLES[i].ss_name)
            .collect(),
        named: named && sel.query.is_empty(),
        named_families,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::FamilyClass;

    fn sel(f: impl FnOnce(&mut SelectArgs)) -> SelectArgs {
        let mut s = SelectArgs::default();
        f(&mut s);
        s
    }
    fn q(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }
    fn unix() -> NetidSet {
        NetidSet::of_class(FamilyClass::Unix)
    }
    fn inet() -> NetidSet {
        NetidSet::of_class(FamilyClass::Inet)
    }

    #[test]
    fn nothing_named_is_every_default_table() {
        let t = resolve(&SelectArgs::default());
        // TIPC is not a default table (nor in `all`), as in ss.
        let tipc = NetidSet::of_class(crate::tables::FamilyClass::Tipc);
        assert_eq!(t.netids, NetidSet::ALL.without(tipc));
        assert!(t.ipv4 && t.ipv6);
        assert!(t.unread.is_empty());
    }

    #[test]
    fn a_family_without_its_tables_adds_them() {
        // ss -x -4: unix, and the IPv4 inet tables.
        let t = resolve(&sel(|s| {
            s.unix = true;
            s.ipv4 = true;
        }));
        assert_eq!(t.netids, unix().union(inet()));
        assert!(t.ipv4 && !t.ipv6);
        assert!(t.unread.is_empty());
        // ss -t -f unix: TCP over both families, and unix.
        let t = resolve(&sel(|s| {
            s.tcp = true;
            s.family = vec![SsFamily::Unix];
        }));
        assert_eq!(t.netids, NetidSet::of(&[Netid::Tcp]).union(unix()));
        assert!(t.ipv4 && t.ipv6);
        assert!(t.unread.is_empty());
    }

    #[test]
    fn a_table_with_its_family_stays_alone() {
        let t = resolve(&sel(|s| {
            s.tcp = true;
            s.ipv6 = true;
        }));
        assert_eq!(t.netids, NetidSet::of(&[Netid::Tcp]));
        assert!(!t.ipv4 && t.ipv6);
        // An inet table covers the family: -A mptcp -6 adds no tcp or udp.
        let t = resolve(&sel(|s| {
            s.query = q(&["mptcp"]);
            s.ipv6 = true;
        }));
        assert_eq!(t.netids, NetidSet::of(&[Netid::Mptcp]));
        assert!(!t.ipv4 && t.ipv6);
        // So does SCTP: -A sctp -6 is SCTP over IPv6 alone.
        let t = resolve(&sel(|s| {
            s.query = q(&["sctp"]);
            s.ipv6 = true;
        }));
        assert_eq!(t.netids, NetidSet::of(&[Netid::Sctp]));
        assert!(t.unread.is_empty());
        // -w -4: raw over IPv4; -M: MPTCP alone.
        let t = resolve(&sel(|s| {
            s.raw = true;
            s.ipv4 = true;
        }));
        assert_eq!(t.netids, NetidSet::of(&[Netid::Raw]));
        assert!(t.ipv4 && !t.ipv6);
        let t = resolve(&sel(|s| s.mptcp = true));
        assert_eq!(t.netids, NetidSet::of(&[Netid::Mptcp]));
    }

    #[test]
    fn query_names_add_and_remove() {
        let t = resolve(&sel(|s| s.query = q(&["tcp,!tcp,udp"])));
        assert_eq!(t.netids, NetidSet::of(&[Netid::Udp]));
        let t = resolve(&sel(|s| s.query = q(&["all", "!inet"])));
        assert_eq!(
            t.netids,
            unix().union(NetidSet::of(&[
                Netid::PacketRaw,
                Netid::PacketDgram,
                Netid::Netlink,
                Netid::VsockStream,
                Netid::VsockDgram,
                Netid::Xdp
            ]))
        );
        assert!(!t.netids.contains(Netid::Sctp) && t.netids.contains(Netid::Xdp));
        let t = resolve(&sel(|s| s.query = q(&["unix_dgram", "u_seq"])));
        assert_eq!(
            t.netids,
            NetidSet::of(&[Netid::UnixDgram, Netid::UnixSeqpacket])
        );
        let t = resolve(&sel(|s| s.query = q(&["netlink"])));
        assert_eq!(t.netids, NetidSet::of(&[Netid::Netlink]));
        assert!(t.unread.is_empty());
        let t = resolve(&sel(|s| s.query = q(&["tipc"])));
        assert_eq!(
            t.netids,
            NetidSet::of(&[
                Netid::TipcStream,
                Netid::TipcDgram,
                Netid::TipcRdm,
                Netid::TipcSeqpacket
            ])
        );
    }

    #[test]
    fn families_alone() {
        let t = resolve(&sel(|s| s.family = vec![SsFamily::Inet6]));
        assert_eq!(t.netids, inet());
        assert!(!t.ipv4 && t.ipv6);
        let t = resolve(&sel(|s| s.family = vec![SsFamily::Link]));
        assert_eq!(
            t.netids,
            NetidSet::of(&[Netid::PacketRaw, Netid::PacketDgram])
        );
        assert!(t.unread.is_empty());
        // -0 is the same family.
        assert_eq!(resolve(&sel(|s| s.packet = true)), t);
        let t = resolve(&sel(|s| s.vsock = true));
        assert_eq!(
            t.netids,
            NetidSet::of(&[Netid::VsockStream, Netid::VsockDgram])
        );
        assert!(t.unread.is_empty());
        let t = resolve(&sel(|s| s.family = vec![SsFamily::Unix, SsFamily::Inet]));
        assert_eq!(t.netids, unix().union(inet()));
        assert!(t.ipv4 && !t.ipv6);
    }

    #[test]
    fn the_order_of_the_command_line_counts() {
        use crate::cli_order::ArgOrder;
        // -4 -6: IPv6 only; -6 -4: IPv4 only; a later non-inet family narrows nothing.
        let both = |preferred| {
            resolve(&sel(|s| {
                s.ipv4 = true;
                s.ipv6 = true;
                s.order = ArgOrder {
                    preferred,
                    before_query: vec![],
                };
            }))
        };
        let t = both(Some(SsFamily::Inet6));
        assert!(!t.ipv4 && t.ipv6);
        let t = both(Some(SsFamily::Inet));
        assert!(t.ipv4 && !t.ipv6);
        let t = both(Some(SsFamily::Unix));
        assert!(t.ipv4 && t.ipv6);
        // -t -A udp: the first -A drops the earlier -t.
        let t = resolve(&sel(|s| {
            s.tcp = true;
            s.query = q(&["udp"]);
            s.order.before_query = vec![Flag::Tcp];
        }));
        assert_eq!(t.netids, NetidSet::of(&[Netid::Udp]));
    }

    #[test]
    fn every_ss_query_name_is_known() {
        for name in [
            "all",
            "inet",
            "tcp",
            "mptcp",
            "udp",
            "raw",
            "unix",
            "unix_dgram",
            "unix_stream",
            "unix_seqpacket",
            "packet",
            "packet_raw",
            "packet_dgram",
            "netlink",
            "dccp",
            "sctp",
            "vsock_stream",
            "vsock_dgram",
            "tipc",
            "xdp",
            "!tcp",
        ] {
            assert!(crate::tables::is_query_name(name), "{name}");
        }
        assert!(!crate::tables::is_query_name("bogus"));
        assert!(!crate::tables::is_query_name("!"));
    }
}
