#!/usr/bin/env python3
"""Hold sockets of every family this kernel has, for the `dump -a` benchmark: unix stream
pairs and datagram sockets, connected UDP, raw (ICMP, IPv4 and IPv6), packet (raw and dgram
on lo), netlink and MPTCP (a listener and pairs; skipped when the kernel has none). Prints
"READY <unix> <udp> <raw> <packet> <netlink> <mptcp>" and waits until stdin closes.
Root only (raw and packet sockets); everything binds loopback.

usage: hold_families.py [UNIX_PAIRS=2000] [UDP=1000] [MPTCP_PAIRS=200]
"""
import resource
import socket
import sys


def main():
    n_unix = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    n_udp = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    n_mptcp = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    keep = []
    for _ in range(n_unix):
        keep.extend(socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM))
        keep.append(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
    for _ in range(n_udp):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        u.connect(("127.0.0.1", 9))
        keep.append(u)
    raw = 0
    for fam, proto in ((socket.AF_INET, socket.IPPROTO_ICMP), (socket.AF_INET6, socket.IPPROTO_ICMPV6)):
        for _ in range(25):
            keep.append(socket.socket(fam, socket.SOCK_RAW, proto))
            raw += 1
    packet = 0
    for kind, proto in ((socket.SOCK_RAW, 0x0060), (socket.SOCK_DGRAM, 0x88B5)):
        for _ in range(10):
            p = socket.socket(socket.AF_PACKET, kind, socket.htons(proto))
            p.bind(("lo", proto))
            keep.append(p)
            packet += 1
    netlink = 0
    for _ in range(50):
        n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        n.bind((0, 0))
        keep.append(n)
        netlink += 1
    mptcp = 0
    try:
        ml = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
        ml.bind(("127.0.0.1", 0))
        ml.listen(n_mptcp + 8)
        keep.append(ml)
        for _ in range(n_mptcp):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
            c.connect(ml.getsockname())
            a, _ = ml.accept()
            keep.extend((c, a))
            mptcp += 2
    except OSError:
        pass
    print("READY", 3 * n_unix, n_udp, raw, packet, netlink, mptcp, flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
