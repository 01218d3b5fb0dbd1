#!/usr/bin/env python3
"""The cost of the report and of one dashboard refresh (issue 18). Not a
test.

  bench/daemon/bench_views.py BUILD_DIR [--trials 300] [--epochs 30]
      [--repeat 5]

Runs a sweep of --trials fake-trainer trials of --epochs epochs (no
sleep, parallel 2), then times, --repeat times each: `sweepctl report`
(wall time and the file's size) and a GET of `sweepctl serve`'s /body
(what the open dashboard asks for every 2 s or more: four daemon requests
and the render). Prints the median and the worst, and the load average
before and after: the figures mean little on a busy machine.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import request, start_daemon  # noqa: E402


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def timed(fn, n):
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        fn()
        out.append(time.monotonic() - t0)
    return statistics.median(out), max(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    ctl = os.path.join(a.build, "sweepctl")
    fake = os.path.join(a.build, "tests", "trainers", "fake_trainer")
    state = tempfile.mkdtemp(prefix="bench-views-")
    print("load average before: %s" % loadavg())
    d, sock = start_daemon(a.build, state)
    srv = None
    try:
        spec = {"name": "bench-views", "trainer": {"command": [fake]},
                "objective": {"metric": "val_acc", "mode": "max"},
                "space": {"epochs": a.epochs, "x": {"uniform": [0, 1]},
                          "lr": {"loguniform": [1e-4, 1e-1]},
                          "mode": {"choice": ["ok", "peak", "pynan", "exit3"]}},
                "search": {"algorithm": "random", "trials": a.trials,
                           "parallel": 2, "seed": 5}}
        sid = request(sock, {"op": "submit", "spec": spec})["sweep_id"]
        subprocess.run([ctl, "--state-dir", state, "wait", str(sid)],
                       stdout=subprocess.DEVNULL, check=False)
        out = os.path.join(state, "report.html")
        med, worst = timed(lambda: subprocess.run(
            [ctl, "--state-dir", state, "report", str(sid), "-o", out],
            stderr=subprocess.DEVNULL, check=True), a.repeat)
        print("report: %d trials x %d epochs: median %.3f s, worst %.3f s, "
              "%d bytes" % (a.trials, a.epochs, med, worst, os.path.getsize(out)))
        srv = subprocess.Popen([ctl, "--state-dir", state, "serve"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
        url = srv.stdout.readline().strip()
        body = url.replace("/?token=", "/body?token=") + "&sweep=%d" % sid
        size = []
        med, worst = timed(lambda: size.append(len(
            urllib.request.urlopen(body, timeout=60).read())), a.repeat)
        print("serve /body: median %.3f s, worst %.3f s, %d bytes"
              % (med, worst, size[-1]))
    finally:
        if srv:
            srv.terminate()
            srv.wait()
        d.terminate()
        d.wait()
        shutil.rmtree(state, ignore_errors=True)
    print("load average after: %s" % loadavg())


if __name__ == "__main__":
    main()
