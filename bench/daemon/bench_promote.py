#!/usr/bin/env python3
"""The scheduler's cost of ASHA's promotion (pruner.promote). Not a test.

  bench/daemon/bench_promote.py BUILD_DIR [--trials 2000] [--others 300]
                                [--workers 3] [--epochs 9]

Phase 1: sweep A, ASHA (min_epochs 1, eta 3) with promote, --trials
fake-trainer trials of --epochs epochs (random x: most are stopped at a
rung), parallel --workers. Its trial 1 is a sleep that never reports, so
once the others have ended A waits with all its trials created, none
queued, a free slot under its parallel and stopped trials in its history:
the state in which can_start asks A whether it can promote one, at every
pick of every kick. Phase 2: sweep B, --others plain fake-trainer trials
of 3 epochs, parallel --workers - 1, runs beside it; every trial of B that
ends kicks the scheduler, which looks at A again.

Printed per phase: wall seconds, the daemon's CPU seconds (utime + stime
of /proc/PID/stat) and its CPU per trial, and A's promotions. What the
daemon spends answering whether A can promote (hist_promotion; a scan of
A's history before the per-rung index, search/rungs.c) is what the
phase-2 figure holds beyond B's own trials.
"""
import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import fake_sweep, request, start_daemon  # noqa: E402


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def counts(sock, sid):
    s = request(sock, {"op": "sweep", "sweep": sid})["sweep"]
    return s["status"], s["counts"]


def promote_spec(build, trials, epochs, parallel):
    fake = os.path.join(build, "tests", "trainers", "fake_trainer")
    # trial 1 sleeps without a report: A never runs out of running trials
    sh = ('[ "$SWEEP_TRIAL_NUMBER" = 1 ] && exec sleep 100000; '
          'exec "$0"')
    return {"name": "promote", "trainer": {"command": ["/bin/sh", "-c", sh,
                                                       fake]},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"epochs": epochs, "x": {"uniform": [0, 1]}},
            "search": {"algorithm": "random", "trials": trials,
                       "parallel": parallel, "seed": 1},
            "pruner": {"algorithm": "asha", "min_epochs": 1, "eta": 3,
                       "min_trials": 0, "promote": True}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--others", type=int, default=300)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=9)
    a = ap.parse_args()
    state = tempfile.mkdtemp(prefix="bench-promote-")
    p, sock = start_daemon(a.build, state, workers=a.workers)
    try:
        t0, c0 = time.time(), cpu_s(p.pid)
        sid = request(sock, {"op": "submit", "spec": promote_spec(
            a.build, a.trials, a.epochs, a.workers)})["sweep_id"]
        while True:
            st, n = counts(sock, sid)
            ended = sum(v for k, v in n.items()
                        if k not in ("queued", "running", "pending"))
            if st != "running" or (ended >= a.trials - 1 and
                                   not n.get("queued")):
                break
            time.sleep(0.2)
        t1, c1 = time.time(), cpu_s(p.pid)
        with open(os.path.join(state, "bench.log")) as f:
            promoted = sum("promoted from the" in line for line in f)
        print("A: %d trials, %s, %.1f s wall, daemon %.2f s CPU, %.2f ms "
              "per trial, %d promotions" % (a.trials, n, t1 - t0, c1 - c0,
                                            1e3 * (c1 - c0) / a.trials,
                                            promoted))
        time.sleep(1)
        t1, c1 = time.time(), cpu_s(p.pid)
        b = fake_sweep(a.build, "others", 3, a.others, max(1, a.workers - 1))
        bid = request(sock, {"op": "submit", "spec": b})["sweep_id"]
        while counts(sock, bid)[0] == "running":
            time.sleep(0.2)
        t2, c2 = time.time(), cpu_s(p.pid)
        print("B beside A's wait: %d trials, %.1f s wall, daemon %.2f s CPU, "
              "%.2f ms per trial" % (a.others, t2 - t1, c2 - c1,
                                     1e3 * (c2 - c1) / a.others))
        request(sock, {"op": "cancel", "sweep": sid})
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except Exception:
            p.kill()
        shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
