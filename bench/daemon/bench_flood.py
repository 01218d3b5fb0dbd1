#!/usr/bin/env python3
"""Flood benchmark for sweepd (issue 11, item 4). Not a test.

  bench/daemon/bench_flood.py BUILD_DIR [--epochs 100000] [--trainers 1]

One daemon (--workers 2). --trainers fake trainers write --epochs valid
epoch lines each to fd 3 as fast as they can (no sleep between epochs).
Meanwhile one client sends `ping` after `ping`, each on its own connection
as sweepctl does, and times connect() to reply. Printed: the pings answered
during the flood, their median, p99 and max latency, the flood's duration
and epochs stored per second (every epoch is checked to be stored).
"""
import argparse
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import fake_sweep, request, start_daemon  # noqa: E402


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--epochs", type=int, default=100000)
    ap.add_argument("--trainers", type=int, default=1)
    a = ap.parse_args()
    state = tempfile.mkdtemp(prefix="sweepd-flood-")
    proc, sock = start_daemon(a.build, state)
    try:
        spec = fake_sweep(a.build, "flood", a.epochs, trials=a.trainers,
                          parallel=a.trainers)
        sid = request(sock, {"op": "submit", "spec": spec})["sweep_id"]
        lat = []
        t0 = time.time()
        while True:
            s0 = time.perf_counter()
            r = request(sock, {"op": "ping"})
            lat.append(time.perf_counter() - s0)
            assert r["ok"], r
            if len(lat) % 20 == 0:
                st = request(sock, {"op": "sweep", "sweep": sid})["sweep"]
                if st["status"] != "running":
                    break
        took = time.time() - t0
        trials = request(sock, {"op": "trials", "sweep": sid})["trials"]
        stored = sum(t["epochs"] for t in trials)
        assert stored == a.epochs * a.trainers, (stored, trials)
        print("flood: %d trainer(s) x %d epochs, all %d stored, %.1f s, "
              "%.0f epochs/s" % (a.trainers, a.epochs, stored, took,
                                 stored / took))
        print("ping: %d answered, median %.1f ms, p99 %.1f ms, max %.1f ms"
              % (len(lat), 1000 * pct(lat, 0.5), 1000 * pct(lat, 0.99),
                 1000 * max(lat)))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
