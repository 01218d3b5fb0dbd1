#!/usr/bin/env python3
"""Conditional spaces: TPE with the conditions declared vs TPE flattened vs
random search (issue 19's figure). Not a test.

  bench/search/bench_cond.py BUILD_DIR [--seeds 20] [--trials 50]

The objective is bench/search/synth_objective (see its header) over the
ten-knob space of bench_search.py plus conditional knobs: `momentum` (only
for optimizer momentum: it moves the best lr), `beta1` (only for adam),
`lr_schedule` constant/step/cosine and, only for step, `lr_step` and
`lr_gamma` (a well tuned step schedule is the best, a badly tuned one
worse than none). The trainer ignores a knob whose parent rules it out,
so the objective depends on each knob only where it is active. Three
sweeps per seed, through one sweepd (--workers 2, parallel 1, two sweeps
at a time):
  tpe, conditions: the space with its "when"s (inactive params left out;
      TPE fits each param on the trials where it was active);
  tpe, flattened:  the same params without "when", always sampled (the
      trainer ignores the inactive ones; TPE fits them on every trial);
  random:          the conditional space (random search draws every param
      either way, so flattening would not change its values).
For N = 25 and --trials: the best objective among trials 1..N, median
[interquartile range] over seeds, and per seed how often each TPE beats
random and the conditional TPE beats the flattened one (ties counted
apart).
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from bench_search import SYNTH10_SPACE, Daemon, best_prefix, quartiles  # noqa: E402

COND = {
    "momentum": {"uniform": [0.5, 0.99], "when": {"optimizer": ["momentum"]}},
    "beta1": {"uniform": [0.8, 0.95], "when": {"optimizer": ["adam"]}},
    "lr_schedule": {"choice": ["constant", "step", "cosine"]},
    "lr_step": {"int": [2, 10], "when": {"lr_schedule": ["step"]}},
    "lr_gamma": {"uniform": [0.1, 0.7], "when": {"lr_schedule": ["step"]}},
}
COND_SPACE = dict(SYNTH10_SPACE, **COND)
FLAT_SPACE = dict(SYNTH10_SPACE, **{k: {d: v for d, v in dist.items() if d != "when"}
                                    for k, dist in COND.items()})
ARMS = [("tpe, conditions", "tpe", COND_SPACE),
        ("tpe, flattened", "tpe", FLAT_SPACE),
        ("random", "random", COND_SPACE)]


def run(args, exe):
    """{arm: {seed: [objective of trial 1, 2, ...]}}."""
    d = Daemon(args.build, workers=2)
    vals = {}
    try:
        sids = {}
        for name, algo, space in ARMS:
            for seed in range(1, args.seeds + 1):
                spec = {"name": "cond-%s-%d" % (name.replace(", ", "-"), seed),
                        "trainer": {"command": [exe]},
                        "objective": {"metric": "val_acc", "mode": "max"},
                        "space": space,
                        "search": {"algorithm": algo, "trials": args.trials,
                                   "parallel": 1, "seed": seed}}
                sids[(name, seed)] = d({"op": "submit", "spec": spec})["sweep_id"]
        for (name, seed), sid in sids.items():
            s = d.wait(sid)
            if s["status"] != "completed":
                print("sweep %d (%s seed %d) %s" % (sid, name, seed, s["status"]),
                      file=sys.stderr)
            trials = sorted(d({"op": "trials", "sweep": sid})["trials"],
                            key=lambda t: t["number"])
            vals.setdefault(name, {})[seed] = [t.get("objective") for t in trials]
            check_params(name, space_of(name), [t["params"] for t in trials])
    finally:
        d.close()
    return vals


def space_of(name):
    return next(space for n, _, space in ARMS if n == name)


def check_params(name, space, params):
    """Exits unless each trial has exactly the params its space makes
    active: the comparison would mean nothing otherwise."""
    for i, p in enumerate(params, 1):
        want = {k for k, dist in space.items()
                if not isinstance(dist, dict) or
                all(p.get(par) in vs for par, vs in dist.get("when", {}).items())}
        if set(p) != want:
            raise SystemExit("%s trial %d: params %s, expected %s" % (
                name, i, sorted(p), sorted(want)))


def wins(a, b):
    """'w/l/t' of per-seed values a against b."""
    w = sum(x > y for x, y in zip(a, b))
    t = sum(x == y for x, y in zip(a, b))
    return "%d/%d/%d" % (w, len(a) - w - t, t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--trials", type=int, default=50)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    exe = os.path.join(args.build, "bench", "search", "synth_objective")
    if not os.path.exists(exe):
        raise SystemExit("%s not built (ninja -C %s)" % (exe, args.build))
    ks = sorted({k for k in (25,) if k < args.trials} | {args.trials})
    t0 = time.time()
    vals = run(args, exe)
    seeds = sorted(vals["random"])
    best = {name: {k: [best_prefix(vals[name][s], k) for s in seeds] for k in ks}
            for name, _, _ in ARMS}
    print("conditional ten-knob objective (15 params), %d seeds x %d trials, "
          "sweepd --workers 2 (%.0f s wall)" % (len(seeds), args.trials,
                                                 time.time() - t0))
    print()
    print("| search | " + " | ".join("best after %d: median [IQR]" % k for k in ks) +
          " | " + " | ".join("beats random at %d (w/l/t)" % k for k in ks) + " |")
    print("| --- |" + " --- |" * (2 * len(ks)))
    for name, _, _ in ARMS:
        cells = ["%.4f [%.4f, %.4f]" % (lambda q: (q[1], q[0], q[2]))(quartiles(best[name][k]))
                 for k in ks]
        cells += ["-" if name == "random" else wins(best[name][k], best["random"][k])
                  for k in ks]
        print("| %s | %s |" % (name, " | ".join(cells)))
    print()
    for k in ks:
        print("after %d: tpe with conditions vs flattened (w/l/t over seeds): %s" % (
            k, wins(best["tpe, conditions"][k], best["tpe, flattened"][k])))


if __name__ == "__main__":
    main()
