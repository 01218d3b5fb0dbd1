#!/usr/bin/env python3
"""bench/python/bench_asktell.py: ask-and-tell round trips per second from
one Python client (sweepd.Client, one connection), against a real sweepd
on a fresh state dir. Not a test.

    bench/python/bench_asktell.py [--build build] [--trials 2000]
                                  [--epochs 5] [--algorithm random|tpe]

Two figures, each from its own sweep of --trials trials:
  ask+tell      trials/s asked and told at once (two round trips each, a
                one-shot tell of the objective);
  ask+report*E  trials/s with --epochs reports between (E + 2 round trips).
Every round trip is a committed change in the daemon's database. It prints
the load average before and after, since the machine may be shared."""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(HERE, "..", "..", "python")]
import benchlib  # noqa: E402
import sweepd    # noqa: E402


def spec(trials, algorithm):
    return {"name": "bench-asktell", "trainer": {"manual": {}},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"x": {"uniform": [0.0, 1.0]},
                      "lr": {"loguniform": [1e-4, 1e-1]}},
            "search": {"algorithm": algorithm, "trials": trials, "seed": 1}}


def run(client, trials, epochs, algorithm):
    sid = client.submit(spec(trials, algorithm))
    reports = 0
    t0 = time.perf_counter()
    for _ in range(trials):
        t = client.ask(sid)
        for e in range(1, epochs + 1):
            t.report(e, val_acc=t.params["x"] * e / max(epochs, 1),
                     val_loss=1.0 - t.params["x"])
            reports += 1
        t.tell(val_acc=t.params["x"]) if epochs == 0 else t.tell()
    took = time.perf_counter() - t0
    assert client.status(sid)["status"] == "completed"
    return took, reports


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--algorithm", default="random")
    a = ap.parse_args()
    state = tempfile.mkdtemp(prefix="bench-asktell-")
    proc, _ = benchlib.start_daemon(a.build, state)
    try:
        with open("/proc/loadavg") as f:
            print("load average:", f.read().split()[:3])
        c = sweepd.Client(state_dir=state)
        took, _ = run(c, a.trials, 0, a.algorithm)
        print("ask+tell:        %d trials in %.2f s: %.0f trials/s, %.0f round trips/s"
              % (a.trials, took, a.trials / took, 2 * a.trials / took))
        took, n = run(c, a.trials, a.epochs, a.algorithm)
        trips = a.trials * (a.epochs + 2)
        print("ask+report*%d+tell: %d trials in %.2f s: %.0f trials/s, %.0f round trips/s"
              % (a.epochs, a.trials, took, a.trials / took, trips / took))
        with open("/proc/loadavg") as f:
            print("load average:", f.read().split()[:3])
        c.close()
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
