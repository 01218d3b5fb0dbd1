#!/usr/bin/env python3
"""Re-runs chosen trials of `bench_search.py fashion --out` files with fresh
trial seeds: is a sweep's best a good config, or a lucky seed? Not a test.

  bench/search/bench_rerun.py BUILD_DIR OUT.json[,OUT2.json...] [--reps 6]
      (--at-least VAL_ACC | --best-below VAL_ACC) [--target VAL_ACC]
      [--seed 5000] [--out FILE.json]

--at-least V: every completed trial whose objective is >= V.
--best-below V: each sweep's best trial, when it is below V (the sweeps
  that missed V: could their best config have reached it?).

Each chosen trial's params become a sweep of constants (random search,
--reps trials, parallel 2, its own seed), so the only thing that differs
between its trials is SWEEP_SEED (the weights' init, the batches' order,
dropout's masks); the split of the data is the same. Prints each trial's
objective in the re-runs, their mean and how many reach --target (by
default V). Sweeps run one at a time, each on a fresh daemon (--workers 2).
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_search import Daemon  # noqa: E402


def chosen(paths, at_least, best_below):
    """(file, seed, trial number, objective, params) of the trials to re-run."""
    out = []
    for path in paths:
        with open(path) as f:
            runs = json.load(f)
        for sweeps in runs.values():
            for s in sweeps:
                done = [t for t in s["trials"] if t.get("objective") is not None]
                if at_least is not None:
                    pick = [t for t in done if t["status"] == "completed"
                            and t["objective"] >= at_least]
                else:
                    best = max(done, key=lambda t: t["objective"], default=None)
                    pick = [best] if best and best["objective"] < best_below else []
                out += [(os.path.basename(path), s["seed"], t["number"],
                         t["objective"], t["params"]) for t in pick]
    return out


def rerun(build, params, reps, seed):
    """The objectives of reps trials of params, each with its own seed."""
    spec = {"name": "rerun-%d" % seed,
            "trainer": {"builtin": "mlp", "dataset": "fashion-mnist"},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": dict(params),
            "search": {"algorithm": "random", "trials": reps, "parallel": 2,
                       "seed": seed},
            "limits": {"trial_timeout_s": 3600, "retries": 0}}
    d = Daemon(build, workers=2)
    try:
        sid = d({"op": "submit", "spec": spec})["sweep_id"]
        d.wait(sid, poll=2)
        trials = d({"op": "trials", "sweep": sid})["trials"]
    finally:
        d.close()
    return [t.get("objective") for t in trials]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("files")
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--seed", type=int, default=5000,
                    help="the first re-run sweep's seed (one more per trial)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--at-least", type=float, metavar="VAL_ACC")
    g.add_argument("--best-below", type=float, metavar="VAL_ACC")
    ap.add_argument("--target", type=float, metavar="VAL_ACC",
                    help="count the re-runs that reach this (default: the V "
                    "of --at-least or --best-below)")
    ap.add_argument("--out")
    a = ap.parse_args()
    target = a.target
    if target is None:
        target = a.at_least if a.at_least is not None else a.best_below
    picks = chosen(a.files.split(","), a.at_least, a.best_below)
    results = []
    for i, (path, seed, number, obj, params) in enumerate(picks):
        vals = rerun(a.build, params, a.reps, a.seed + i)
        ok = [v for v in vals if v is not None]
        results.append({"file": path, "seed": seed, "trial": number,
                        "objective": obj, "params": params, "reruns": vals})
        print("%s seed %d trial %d (%.4f): %s; mean %s, >= %.2f in %d of %d" % (
            path, seed, number, obj, " ".join("%.4f" % v for v in ok),
            "%.4f" % statistics.mean(ok) if ok else "-", target,
            sum(v >= target for v in ok), len(vals)), flush=True)
        if a.out:
            with open(a.out, "w") as f:
                json.dump(results, f)
    hits = [sum(v is not None and v >= target for v in r["reruns"])
            for r in results]
    runs = sum(len(r["reruns"]) for r in results)
    print("%d trials re-run %d times each: %d of %d re-runs reach %.2f" % (
        len(results), a.reps, sum(hits), runs, target))


if __name__ == "__main__":
    main()
