#!/usr/bin/env python3
"""Soak benchmark for sweepd (issue 6's figures). Not a test.

  bench/daemon/bench_soak.py BUILD_DIR [--trials 20000] [--warmup 2000]
      [--algorithm random] [--epochs 5] [--window 1000] [--keep]

One daemon (--workers 2) runs one sweep of --trials trivial trials
(tests/trainers/fake_trainer: --epochs epochs, no sleep), parallel 2.
Every 0.5 s the `stats` op and /proc are sampled. Reported:
- RSS (stats rss_kb) once --warmup trials have run and at the end, and the
  growth between the two (goal: under 2 MB);
- open fds (stats open_fds) at the warm-up point and at the end (goal: equal);
- zombie children of the daemon (Z state in /proc/PID/stat with the daemon
  as parent): the most seen in one sample, and at the end (goal: none once
  the sweep is over; a sample may catch a child between exit and reaping);
- trials per second, overall and after the warm-up;
- the rate over each --window trials (by the trials' own end times: the
  first window from the first start), and the last window's rate over the
  first's (goal: 0.9 or more: flat), with the RSS when each window ended.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import request, start_daemon  # noqa: E402


def zombies(ppid):
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if rest[0] == "Z" and int(rest[1]) == ppid:
            n += 1
    return n


def window_rates(trials, w):
    """[(trials ended, rate over the window)], w trials a window, from the
    trials' own start and end times."""
    ends = sorted(t["ended_at"] for t in trials if t.get("ended_at"))
    starts = sorted(t["started_at"] for t in trials if t.get("started_at"))
    out, prev = [], starts[0] if starts else None
    for k in range(w, len(ends) + 1, w):
        dt = ends[k - 1] - prev
        out.append((k, w / dt if dt > 0 else float("nan")))
        prev = ends[k - 1]
    return out


def rss_at(samples, n):
    """The RSS (kB) of the first sample with n trials run, or the last."""
    for x in samples:
        if x[1] >= n:
            return x[2]
    return samples[-1][2] if samples else -1


def all_trials(sock, sid, page=5000):
    out = []
    while True:
        r = request(sock, {"op": "trials", "sweep": sid, "limit": page,
                           "offset": len(out)})["trials"]
        out += r
        if len(r) < page:
            return out


def report_windows(sock, sid, samples, w):
    rates = window_rates(all_trials(sock, sid), w)
    if not rates:
        return
    print("rate per %d trials (trials/s, by end time; RSS kB when the window "
          "ended):" % w)
    print("  " + " ".join("%d:%.0f/%d" % (k, r, rss_at(samples, k))
                          for k, r in rates))
    print("last %d / first %d: %.2f (%.0f / %.0f trials/s); slowest window "
          "%.0f, fastest %.0f" % (w, w, rates[-1][1] / rates[0][1],
                                  rates[-1][1], rates[0][1],
                                  min(r for _, r in rates),
                                  max(r for _, r in rates)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--trials", type=int, default=20000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--algorithm", default="random")
    ap.add_argument("--window", type=int, default=1000,
                    help="trials per window of the rate report")
    ap.add_argument("--keep", action="store_true", help="keep the state dir")
    args = ap.parse_args()
    fake = os.path.join(args.build, "tests", "trainers", "fake_trainer")
    state = tempfile.mkdtemp(prefix="sweepd-soak-")
    p, sock = start_daemon(args.build, state, log="soak.log")
    spec = {"name": "soak", "trainer": {"command": [fake]},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"epochs": args.epochs, "x": {"uniform": [0, 1]}},
            "search": {"algorithm": args.algorithm, "trials": args.trials,
                       "parallel": 2, "seed": 1}}
    try:
        st0 = request(sock, {"op": "stats"})
        t0 = time.time()
        sid = request(sock, {"op": "submit", "spec": spec})["sweep_id"]
        warm = None
        max_z = 0
        samples = []
        while True:
            st = request(sock, {"op": "stats"})
            max_z = max(max_z, zombies(p.pid))
            samples.append((time.time() - t0, st["trials_run"], st["rss_kb"],
                            st["open_fds"]))
            if warm is None and st["trials_run"] >= args.warmup:
                warm = (time.time(), st)
            s = request(sock, {"op": "sweep", "sweep": sid})["sweep"]
            if s["status"] != "running":
                break
            time.sleep(0.5)
        t1 = time.time()
        time.sleep(0.5)   # let the last exit callbacks run
        end = request(sock, {"op": "stats"})
        z_end = zombies(p.pid)
        n = s["counts"]["completed"]
        print("soak: %d trials (%d epochs, %s), parallel 2, --workers 2: %s, "
              "%d completed, in %.1f s" % (args.trials, args.epochs,
                                           args.algorithm, s["status"], n,
                                           t1 - t0))
        print("trials/s: %.1f overall" % (args.trials / (t1 - t0)), end="")
        if warm:
            wt, ws = warm
            print(", %.1f after the warm-up" %
                  ((end["trials_run"] - ws["trials_run"]) / (t1 - wt)))
            print("RSS: start %d kB, after %d trials %d kB, at the end %d kB: "
                  "growth %+d kB" % (st0["rss_kb"], ws["trials_run"],
                                     ws["rss_kb"], end["rss_kb"],
                                     end["rss_kb"] - ws["rss_kb"]))
            print("open fds: start %d, after warm-up %d, at the end %d" %
                  (st0["open_fds"], ws["open_fds"], end["open_fds"]))
        else:
            print()
        print("zombie children: at most %d in one sample, %d at the end" %
              (max_z, z_end))
        print("RSS samples (s, trials, kB):",
              " ".join("%.0f/%d/%d" % x[:3] for x in
                       samples[::max(1, len(samples) // 12)]))
        report_windows(sock, sid, samples, min(args.window,
                                               max(1, args.trials // 2)))
    finally:
        p.terminate()
        p.wait()
        if args.keep:
            print("state dir:", state)
        else:
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
