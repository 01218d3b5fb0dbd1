#!/usr/bin/env python3
"""A built-in trainer trial's start-up (issue 17, "Trial start-up"). Not a
test.

  bench/worker/bench_startup.py BUILD_DIR [--trials 5] [--epochs 1]
      [--batch-size 64] [--train-fraction 1]

One daemon on a fresh state dir (so its data cache starts empty) runs
--trials trials of the textbook chapter's BNNet (784-48-24-10, batch norm,
ReLU, Adam) one after the other (parallel 1), each of --epochs epochs.
Printed: each trial's wall time from the daemon's started_at to ended_at
(spawn, data, training, the trainer's exit), its epochs' own `seconds`,
and what is left once the epochs are taken out (start-up and exit); the
first trial also builds the prepared-split cache, so it is shown apart
and the median is over the others. The load average is printed: the
figures mean little on a busy machine.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import request, start_daemon  # noqa: E402


def spec(args):
    # one lr per trial, so that grid runs them in this order; the epochs
    # cost the same whatever lr is
    lrs = [0.001 * (1 + k / 100.0) for k in range(args.trials)]
    return {"name": "startup",
            "trainer": {"builtin": "mlp", "dataset": "fashion-mnist"},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"hidden": [48, 24], "batchnorm": True, "activation": "relu",
                      "optimizer": "adam", "batch_size": args.batch_size,
                      "train_fraction": args.train_fraction,
                      "epochs": args.epochs, "lr": {"choice": lrs}},
            "search": {"algorithm": "grid", "trials": args.trials, "parallel": 1}}


def wait_ended(sock, sid, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        sw = request(sock, {"op": "sweep", "sweep": sid})["sweep"]
        if sw["status"] in ("completed", "failed", "cancelled"):
            return sw
        time.sleep(0.05)
    raise SystemExit("the sweep did not end in %d s" % timeout)


def epoch_seconds(sock, sid, number):
    r = request(sock, {"op": "trial", "sweep": sid, "number": number})
    return [e.get("seconds", float("nan")) for e in r["trial"].get("curve", [])]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--train-fraction", type=float, default=1.0)
    args = ap.parse_args()
    if args.trials < 1:
        raise SystemExit("--trials must be at least 1")
    print("load average before: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    state = tempfile.mkdtemp(prefix="sweepd-startup-")
    proc = None
    try:
        proc, sock = start_daemon(args.build, state, workers=1)
        r = request(sock, {"op": "submit", "spec": spec(args)})
        if not r.get("ok"):
            raise SystemExit("submit: %s" % r)
        sid = r["sweep_id"]
        sw = wait_ended(sock, sid, 600 + 60 * args.trials * args.epochs)
        trials = request(sock, {"op": "trials", "sweep": sid})["trials"]
        walls, rest = [], []
        for t in sorted(trials, key=lambda t: t["number"]):
            if t["status"] != "completed":
                raise SystemExit("trial %d %s: %s" % (t["number"], t["status"], t["error"]))
            wall = t["ended_at"] - t["started_at"]
            secs = epoch_seconds(sock, sid, t["number"])
            left = wall - sum(secs)
            print("trial %d: %.3f s wall, epochs %s s, start-up and exit %.3f s%s"
                  % (t["number"], wall, " ".join("%.3f" % s for s in secs), left,
                     "  (builds the data cache)" if t["number"] == 1 else ""))
            if t["number"] > 1:
                walls.append(wall)
                rest.append(left)
        if walls:
            print("median over trials 2-%d: %.3f s wall, %.3f s of it not in an epoch"
                  % (len(trials), statistics.median(walls), statistics.median(rest)))
        print("sweep: %s, %d trials of %d epoch(s), batch %d, train_fraction %g"
              % (sw["status"], len(trials), args.epochs, args.batch_size,
                 args.train_fraction))
    finally:
        if proc:
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(state, ignore_errors=True)
    print("load average after: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))


if __name__ == "__main__":
    main()
