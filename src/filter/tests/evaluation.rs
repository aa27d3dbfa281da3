//! Evaluation against sockets: ports, addresses, v4-mapped, wildcards, unix.

use super::*;

#[test]
fn port_conditions() {
    let s = tcp(TcpState::Established, "127.0.0.1", 5000, "127.0.0.1", 80);
    assert!(f("dport = :80").matches(&s));
    assert!(f("dport = :http").matches(&s) || hostcond::parse_port("http").is_err());
    assert!(!f("dport != :80").matches(&s));
    assert!(f("sport > :4999").matches(&s));
    assert!(!f("sport > :5000").matches(&s));
    assert!(f("sport >= :5000").matches(&s));
    assert!(f("sport < :5001").matches(&s));
    assert!(!f("sport < :5000").matches(&s));
    assert!(f("sport <= :5000").matches(&s));
    assert!(f("sport = *").matches(&s));
    assert!(!f("sport != *").matches(&s));
    assert!(f("dport = :80 or sport = :1").matches(&s));
    assert!(!f("dport = :80 and sport = :1").matches(&s));
    assert!(f("not ( dport = :81 )").matches(&s));
}

#[test]
fn address_conditions() {
    let s = tcp(TcpState::Established, "127.0.0.1", 5000, "10.1.2.3", 443);
    assert!(f("src 127.0.0.1").matches(&s));
    assert!(f("src 127.0.0.0/8").matches(&s));
    assert!(f("src 127.0.0.1:5000").matches(&s));
    assert!(!f("src 127.0.0.1:5001").matches(&s));
    assert!(f("dst 10.0.0.0/255.0.0.0:443").matches(&s));
    assert!(f("dst *:443").matches(&s));
    assert!(f("dst *").matches(&s));
    assert!(f("src :5000").matches(&s));
    assert!(!f("src [::1]").matches(&s));
    assert!(!f("src 0.0.0.0").matches(&s));
}

#[test]
fn v4_mapped_and_ipv6() {
    let m = tcp(
        TcpState::Established,
        "::ffff:127.0.0.1",
        8080,
        "::ffff:127.0.0.1",
        40000,
    );
    // An IPv4 condition selects the v4-mapped address (userspace and kernel agree).
    assert!(f("src 127.0.0.1").matches(&m));
    assert!(f("src 127.0.0.0/8").matches(&m));
    assert!(f("src [::ffff:127.0.0.1]").matches(&m));
    // A v4-mapped condition does not select a plain IPv4 socket.
    let v4 = tcp(TcpState::Established, "127.0.0.1", 8080, "127.0.0.1", 40000);
    assert!(!f("src [::ffff:127.0.0.1]").matches(&v4));
    let v6 = tcp(TcpState::Listen, "::1", 8080, "::", 0);
    assert!(f("src [::1]").matches(&v6));
    assert!(f("src [::1]:8080").matches(&v6));
    assert!(f("src ::1/128").matches(&v6));
    assert!(!f("src 127.0.0.1").matches(&v6));
    // 0.0.0.0/0: userspace says "any", the kernel "any IPv4 (or v4-mapped)".
    assert!(!f("src 0.0.0.0/0").matches(&v6));
    assert!(f("src 0.0.0.0/0").matches(&v4));
    assert!(f("src 0.0.0.0/0").matches(&m));
}

#[test]
fn wildcard_listeners() {
    let l = tcp(TcpState::Listen, "0.0.0.0", 22, "0.0.0.0", 0);
    assert!(f("sport = :22").matches(&l));
    assert!(f("dport = :0").matches(&l));
    assert!(f("src 0.0.0.0").matches(&l));
    assert!(!f("src 127.0.0.1").matches(&l));
    assert!(f("dst *").matches(&l));
    let d = tcp(TcpState::Listen, "::", 22, "::", 0);
    assert!(f("sport = :22").matches(&d));
    assert!(!f("src 0.0.0.0").matches(&d));
    assert!(f("src [::]").matches(&d));
}

#[test]
fn unix_sockets() {
    let a = unix(Some("/run/app.sock"), 1000, 2000);
    let b = unix(None, 3000, 0);
    assert!(f("src /run/*").matches(&a));
    assert!(f("src unix:/run/app.sock").matches(&a));
    assert!(!f("src /tmp/*").matches(&a));
    assert!(!f("src /run/*").matches(&b));
    assert!(f("src *").matches(&b));
    // ss does not know the peer's name when filtering: only patterns matching "" match.
    assert!(!f("dst /run/*").matches(&a));
    assert!(f("dst *").matches(&a));
    // Ports are inodes on unix sockets.
    assert!(f("sport = :1000").matches(&a));
    assert!(f("dport = :2000").matches(&a));
    assert!(f("sport > :999").matches(&a));
    // An inet address never matches a unix socket.
    assert!(!f("src 127.0.0.1").matches(&a));
    assert!(f("not src 127.0.0.1").matches(&a));
    // A unix pattern restricts the listing to unix sockets, as ss does.
    let t = tcp(TcpState::Established, "127.0.0.1", 1, "127.0.0.1", 2);
    assert!(!f("not src /run/*").matches(&t));
    assert!(f("src /run/*").bytecode().is_none());
    let auto = unix(Some("@0a1b2"), 5, 0);
    assert!(f("autobound").matches(&auto));
    assert!(f("autobound").matches(&b));
    assert!(!f("autobound").matches(&a));
}

#[test]
fn predicate_agrees_with_matches() {
    let fl = f("dport = :80");
    let p = fl.predicate().unwrap();
    let s = tcp(TcpState::Established, "127.0.0.1", 5000, "127.0.0.1", 80);
    assert!(p(&s));
    let s2 = tcp(TcpState::Established, "127.0.0.1", 5000, "127.0.0.1", 81);
    assert!(!p(&s2));
}

#[test]
fn unix_mode_reads_operands_as_patterns() {
    let opts = ParseOptions {
        unix: true,
        ..ParseOptions::default()
    };
    let fl = Filter::parse_with(&w("src /run/* or sport = :22"), opts).unwrap();
    assert_eq!(fl.family_only(), Some(FamilyOnly::Unix));
    assert!(fl.bytecode().is_none());
    let a = unix(Some("/run/app.sock"), 1000, 2000);
    assert!(fl.matches(&a));
    let b = unix(Some(":22"), 1001, 0);
    assert!(fl.matches(&b));
    let c = unix(Some("/tmp/x"), 22, 0);
    assert!(!fl.matches(&c));
    // Orderings compare the inode with -1 (ss's "no port").
    let gt = Filter::parse_with(&w("sport gt :99999"), opts).unwrap();
    assert!(gt.matches(&c));
    let lt = Filter::parse_with(&w("sport lt :1"), opts).unwrap();
    assert!(!lt.matches(&c));
    // An address is a pattern too, and never an error.
    let ip = Filter::parse_with(&w("src 127.0.0.1"), opts).unwrap();
    assert!(!ip.matches(&a));
    let t = tcp(TcpState::Established, "127.0.0.1", 1, "127.0.0.1", 2);
    assert!(!ip.matches(&t));
    assert_eq!(ip.expr_text().unwrap(), "(src 127.0.0.1)");
    assert_eq!(
        Filter::parse_with(&w("dport = x"), opts)
            .unwrap()
            .expr_text()
            .unwrap(),
        "(dport = unix:x)"
    );
}

#[test]
fn netns_matches_names_containers_and_inodes_with_globs() {
    use crate::model::{Container, NetnsTag};
    use std::sync::Arc;
    let mut web = tcp(TcpState::Listen, "0.0.0.0", 80, "0.0.0.0", 0);
    web.netns = Some(Arc::new(NetnsTag::new(
        4026532281,
        Some("web".into()),
        None,
    )));
    let mut shop = web.clone();
    shop.netns = Some(Arc::new(NetnsTag::new(
        4026532999,
        None,
        Some(Container {
            runtime: "docker",
            id: "3f4e5a6b7c8d".repeat(5) + "3f4e",
            name: Some("shop-db".into()),
            ..Container::default()
        }),
    )));
    let host = tcp(TcpState::Listen, "0.0.0.0", 22, "0.0.0.0", 0);
    assert!(f("netns = web").matches(&web));
    assert!(f("netns web").matches(&web));
    assert!(!f("netns = web").matches(&shop));
    assert!(f("netns = shop-*").matches(&shop));
    assert!(f("netns = 3f4e5a6b*").matches(&shop));
    assert!(f("netns = net:[4026532281]").matches(&web));
    assert!(f("netns = net:\\[40265329*").matches(&shop));
    assert!(f("netns != web").matches(&shop));
    assert!(!f("netns != web").matches(&web));
    assert!(f("netns = web or netns = shop-db").matches(&shop));
    assert!(f("netns = web and sport = :80").matches(&web));
    assert!(!f("netns = web and sport = :81").matches(&web));
    // Read without -N/--all-netns: no namespace, no name matches.
    assert!(!f("netns = *").matches(&host));
    assert!(f("netns != web").matches(&host));
    // Userspace only: no bytecode, and --explain says why.
    assert!(f("netns = web").bytecode().is_none());
    let ex = f("netns = web").explain(false, false);
    assert!(ex.contains("sockeye extension"), "{ex}");
    assert_eq!(text("netns != web*"), "(not (netns = web*))");
}
