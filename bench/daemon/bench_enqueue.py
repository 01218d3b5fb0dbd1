#!/usr/bin/env python3
"""Submit and enqueue of many param sets (issue 11, item 8). Not a test.

  bench/daemon/bench_enqueue.py BUILD_DIR [--sets 5000,20000]
      [--algorithm random] [--repeat 1]

For each count N, on a fresh daemon (--workers 1):
1. submit: a sweep of N + 10 trials whose spec enqueues N param sets
   (`enqueue` in the spec), timed from connect() to the reply;
2. enqueue: a paused sweep of N + 10 trials, then one `enqueue` op of N
   sets, timed the same way.
Both must store every set in one transaction (all or nothing); the time
should grow linearly with N. Prints one line per (N, op) with seconds and
microseconds per set, and the load average before the run.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import request, start_daemon  # noqa: E402


def spec(fake, n, algorithm, enqueue):
    s = {
        "name": "bench-enqueue",
        "trainer": {"command": [fake]},
        "objective": {"metric": "val_acc", "mode": "max"},
        "space": {"x": {"uniform": [0, 1]}, "lr": {"loguniform": [1e-4, 1e-1]},
                  "epochs": 1, "sleep_ms": 1000},
        "search": {"algorithm": algorithm, "trials": n + 10, "parallel": 1,
                   "seed": 1},
    }
    if enqueue:
        s["enqueue"] = sets(n)
    return s


def sets(n):
    return [{"x": (i % 1000) / 1000.0} for i in range(n)]


def timed(sock, req):
    t0 = time.perf_counter()
    r = request(sock, req)
    dt = time.perf_counter() - t0
    if not r.get("ok"):
        raise SystemExit("request failed: %r" % (r,))
    return r, dt


def run_one(build, fake, n, algorithm):
    out = {}
    state = tempfile.mkdtemp(prefix="bench-enqueue-")
    p, sock = start_daemon(build, state, workers=1)
    try:
        _, out["submit"] = timed(sock, {"op": "submit",
                                        "spec": spec(fake, n, algorithm, True)})
        r, _ = timed(sock, {"op": "submit",
                            "spec": spec(fake, n, algorithm, False)})
        sid = r["sweep_id"]
        timed(sock, {"op": "pause", "sweep": sid})
        _, out["enqueue"] = timed(sock, {"op": "enqueue", "sweep": sid,
                                         "params": sets(n)})
        request(sock, {"op": "shutdown"})
        p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        shutil.rmtree(state, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--sets", default="5000,20000")
    ap.add_argument("--algorithm", default="random")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    fake = os.path.abspath(os.path.join(a.build, "tests", "trainers",
                                        "fake_trainer"))
    with open("/proc/loadavg") as f:
        print("load average: %s" % " ".join(f.read().split()[:3]))
    for n in (int(x) for x in a.sets.split(",")):
        for _ in range(a.repeat):
            r = run_one(os.path.abspath(a.build), fake, n, a.algorithm)
            for op in ("submit", "enqueue"):
                print("%-8s %-7s %6d sets: %7.3f s  (%.1f us/set)" %
                      (a.algorithm, op, n, r[op], r[op] / n * 1e6))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
