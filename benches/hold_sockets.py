#!/usr/bin/env python3
"""Hold a large table of established TCP pairs on loopback, plus a TIME-WAIT churn, for the
live view's benchmark (benches/tui_live.sh).

Forks PROCS processes; each listens on 127.0.0.1 and holds PAIRS connected pairs (both ends
open: 2*PAIRS sockets per process). The parent then opens and closes CHURN connections a second
(client closes first, so each leaves a TIME-WAIT socket). Prints "READY <sockets>" once every
child is ready and runs until stdin closes or SIGTERM.

usage: hold_sockets.py [PROCS=6] [PAIRS=8300] [CHURN=50]
"""
import os
import resource
import select
import signal
import socket
import sys
import time


def child(pairs, w):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * pairs + 100), hard))
    l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l.bind(("127.0.0.1", 0))
    l.listen(4096)
    keep = []
    for _ in range(pairs):
        c = socket.create_connection(l.getsockname(), timeout=5)
        s, _ = l.accept()
        keep.append((c, s))
    os.write(w, b"ok\n")
    signal.pause()


def main():
    procs = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 8300
    churn = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    kids = []
    r, w = os.pipe()
    for _ in range(procs):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                child(pairs, w)
            finally:
                os._exit(0)
        kids.append(pid)
    os.close(w)
    got = 0
    with os.fdopen(r) as f:
        while got < procs:
            if not f.readline():
                break
            got += 1

    def stop(*_):
        for k in kids:
            try:
                os.kill(k, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l.bind(("127.0.0.1", 0))
    l.listen(128)
    print(f"READY {got * pairs * 2}", flush=True)
    step = 1.0 / churn if churn > 0 else 3600
    while True:
        if select.select([sys.stdin], [], [], step)[0] and not sys.stdin.readline():
            stop()
        if churn > 0:
            c = socket.create_connection(l.getsockname(), timeout=5)
            s, _ = l.accept()
            c.close()
            s.close()


if __name__ == "__main__":
    main()
