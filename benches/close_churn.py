#!/usr/bin/env python3
"""Open and close loopback TCP connections at a target rate for a while (benches/events.sh).

usage: close_churn.py RATE SECONDS [WORKERS]
Each worker owns a listener on 127.0.0.1 and paces itself to RATE/WORKERS connections a
second: connect, accept, one byte each way, close both ends (the client first, so the
server end is freed at once and the client's goes through TIME-WAIT). Prints the
connections made (two destroyed sockets each) and the rate reached.
"""
import multiprocessing as mp
import socket
import sys
import time


def worker(rate, seconds, out):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", 0))
    l.listen(128)
    addr = l.getsockname()
    start = time.monotonic()
    end = start + seconds
    made = 0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - start) * rate)
        while made < due:
            c = socket.create_connection(addr)
            s, _ = l.accept()
            c.send(b"x")
            s.recv(1)
            s.send(b"y")
            c.recv(1)
            c.close()
            s.close()
            made += 1
        time.sleep(0.001)
    out.put((made, time.monotonic() - start))


def main():
    rate = float(sys.argv[1])
    seconds = float(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    q = mp.Queue()
    ps = [mp.Process(target=worker, args=(rate / workers, seconds, q)) for _ in range(workers)]
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    made = sum(r[0] for r in results)
    took = max(r[1] for r in results)
    print(f"connections {made} seconds {took:.1f} rate {made / took:.0f}/s", flush=True)


if __name__ == "__main__":
    main()
