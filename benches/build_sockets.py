#!/usr/bin/env python3
"""Build a large TCP socket table on loopback for the dump benchmark.

Creates TIME_WAIT sockets (client closes first, then the server) spread over several
listeners, plus ESTABLISHED pairs that stay open, plus a quiet listener with 4 connections,
then prints one line
"READY <listeners> <time-wait> <established-pairs> <quiet-port> <busy-port>" and waits until
stdin closes (or SIGTERM). `dport = :<quiet-port>` selects a handful of sockets (the 4
client ends); `dport = :<busy-port>` (the first TIME-WAIT listener) a quarter of the
TIME-WAIT ones. Everything binds 127.0.0.1 only.

usage: build_sockets.py [TIME_WAIT=27000] [PAIRS=3000]
"""
import os
import resource
import signal
import socket
import sys
import time


def main():
    n_tw = int(sys.argv[1]) if len(sys.argv) > 1 else 27000
    n_pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 2 * n_pairs + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    listeners = []
    for _ in range(4):
        l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        l.bind(("127.0.0.1", 0))
        l.listen(4096)
        listeners.append(l)
    deadline = time.monotonic() + 300
    made = 0
    for i in range(n_tw):
        if time.monotonic() > deadline:
            break
        l = listeners[i % len(listeners)]
        c = socket.create_connection(l.getsockname(), timeout=5)
        s, _ = l.accept()
        c.close()  # active close: the client ends in TIME_WAIT
        s.recv(1)  # the FIN
        s.close()
        made += 1

    keep = []
    pl = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    pl.bind(("127.0.0.1", 0))
    pl.listen(4096)
    for _ in range(n_pairs):
        c = socket.create_connection(pl.getsockname(), timeout=5)
        s, _ = pl.accept()
        keep.append((c, s))

    quiet = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    quiet.bind(("127.0.0.1", 0))
    quiet.listen(16)
    for _ in range(4):
        c = socket.create_connection(quiet.getsockname(), timeout=5)
        s, _ = quiet.accept()
        keep.append((c, s))

    print(f"READY {len(listeners) + 2} {made} {n_pairs} {quiet.getsockname()[1]} "
          f"{listeners[0].getsockname()[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
