#!/usr/bin/env python3
"""The `importance` op against main-effect shares known by construction
(issue 19's figure). Not a test.

  bench/search/bench_importance.py BUILD_DIR [--trials 200] [--seeds 5] [--mc 1000000]

The objective (model() below, run per trial by imp_objective.py) over six
independently sampled params:
  y = sin(2 pi x1) + v(x2) + u3 + 0.05 x4 + 2 sin(2 pi x1) (u3 - 0.5) + N(0, 0.3)
with x1 uniform 0..1, x2 a choice a/b/c/d (v = 0, 0.3, 0.9, 1.5), x3
loguniform 1e-4..1 (u3 = (log10 x3 + 4) / 4, uniform 0..1), x4 int 1..10,
and x5 (uniform) and x6 (a choice) without any effect. The x1 x x3 term
is a pure interaction (its mean over either param is 0), so it and the
noise are the part of the variance no main effect explains. The true
first-order shares Var(E[y | xi]) / Var(y) are computed here by Monte
Carlo (--mc samples, noise included in Var(y)): E[y | xi] by the mean of
y over each of xi's values (a choice, an int) or over 1000 equal bins of
its uniform coordinate, the between-bin variance corrected for the part
that noise alone gives bin means. Then, per seed, one random-search sweep
of --trials trials through sweepd and its `importance` op: the estimated
shares, Spearman's rank correlation with the true ones, and whether the
estimated order of the params with a true share above 0.01 is the true
one (top-k, k = their number).
"""
import argparse
import math
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NOISE = 0.3
V2 = {"a": 0.0, "b": 0.3, "c": 0.9, "d": 1.5}
SPACE = {
    "x1": {"uniform": [0.0, 1.0]},
    "x2": {"choice": ["a", "b", "c", "d"]},
    "x3": {"loguniform": [1e-4, 1.0]},
    "x4": {"int": [1, 10]},
    "x5": {"uniform": [0.0, 1.0]},
    "x6": {"choice": [True, False]},
}
PARAMS = list(SPACE)


def model(p):
    """The noise-free objective of params p."""
    s1 = math.sin(2 * math.pi * p["x1"])
    u3 = (math.log10(p["x3"]) + 4) / 4
    return s1 + V2[p["x2"]] + u3 + 0.05 * p["x4"] + 2 * s1 * (u3 - 0.5)


def draw(rng):
    """One point of SPACE and, per param, the key its conditional mean is
    binned by (a value, or one of 1000 bins of the uniform coordinate)."""
    x1, u3, x5 = rng.random(), rng.random(), rng.random()
    p = {"x1": x1, "x2": rng.choice("abcd"), "x3": 10 ** (4 * u3 - 4),
         "x4": rng.randint(1, 10), "x5": x5, "x6": rng.random() < 0.5}
    keys = {"x1": int(x1 * 1000), "x2": p["x2"], "x3": int(u3 * 1000),
            "x4": p["x4"], "x5": int(x5 * 1000), "x6": p["x6"]}
    return p, keys


def true_shares(n, seed=12345):
    """Monte Carlo main-effect shares over n samples: per param,
    (SS_between - (k - 1) MS_within) / SS_total, i.e. Var(E[y | xi]) with
    the noise bin means carry taken out, over Var(y)."""
    rng = random.Random(seed)
    ys, keys = [], []
    for _ in range(n):
        p, k = draw(rng)
        ys.append(model(p) + rng.gauss(0, NOISE))
        keys.append(k)
    mean = math.fsum(ys) / n
    sst = math.fsum((y - mean) ** 2 for y in ys)
    out = {}
    for name in PARAMS:
        groups = {}
        for y, k in zip(ys, keys):
            g = groups.setdefault(k[name], [0, 0.0])
            g[0] += 1
            g[1] += y
        ssb = math.fsum(c * (s / c - mean) ** 2 for c, s in groups.values())
        kk = len(groups)
        msw = (sst - ssb) / (n - kk)
        out[name] = max(0.0, (ssb - (kk - 1) * msw) / sst)
    return out, sst / n


def ranks(v):
    """Average ranks (1-based) of the values of v, ties sharing a rank."""
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for t in range(i, j + 1):
            r[order[t]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return num / den if den else float("nan")


def run_sweeps(args):
    """{seed: {param: estimated share or None}} and the trial counts."""
    from bench_search import Daemon
    d = Daemon(args.build, workers=2)
    est, counts = {}, {}
    try:
        sids = {}
        for seed in range(1, args.seeds + 1):
            spec = {"name": "importance-%d" % seed,
                    "trainer": {"command": [sys.executable,
                                            os.path.join(HERE, "imp_objective.py")]},
                    "objective": {"metric": "y", "mode": "max"},
                    "space": SPACE,
                    "search": {"algorithm": "random", "trials": args.trials,
                               "parallel": 1, "seed": seed}}
            sids[seed] = d({"op": "submit", "spec": spec})["sweep_id"]
        for seed, sid in sids.items():
            s = d.wait(sid)
            if s["status"] != "completed":
                print("sweep %d (seed %d) %s" % (sid, seed, s["status"]), file=sys.stderr)
            imp = d({"op": "importance", "sweep": sid})["importance"]
            counts[seed] = imp["trials"]
            est[seed] = {e["param"]: e["share"] for e in imp["objective"]}
    finally:
        d.close()
    return est, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--mc", type=int, default=1000000,
                    help="Monte Carlo samples for the true shares")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.dirname(HERE))
    t0 = time.time()
    true, var = true_shares(args.mc)
    print("true main-effect shares by Monte Carlo (%d samples, Var(y) %.4f, "
          "%.0f s); their sum %.3f (the rest: the x1 x x3 interaction and noise)"
          % (args.mc, var, time.time() - t0, sum(true.values())))
    t0 = time.time()
    est, counts = run_sweeps(args)
    print("%d seeds x %d random trials through sweepd (%.0f s wall), the "
          "`importance` op:" % (args.seeds, args.trials, time.time() - t0))
    seeds = sorted(est)
    print()
    print("| param | true share | " + " | ".join("seed %d" % s for s in seeds) +
          " | median |")
    print("| --- | --- |" + " --- |" * (len(seeds) + 1))
    by_true = sorted(PARAMS, key=lambda p: -true[p])
    for p in by_true:
        vals = [est[s].get(p) for s in seeds]
        ok = [v for v in vals if v is not None]
        print("| %s | %.3f | %s | %s |" % (
            p, true[p], " | ".join("-" if v is None else "%.3f" % v for v in vals),
            "%.3f" % statistics.median(ok) if ok else "-"))
    print()
    top = [p for p in by_true if true[p] > 0.01]
    k = len(top)
    rhos, hits, sets = [], 0, 0
    for s in seeds:
        e = [est[s].get(p) or 0.0 for p in PARAMS]
        rho = spearman([true[p] for p in PARAMS], e)
        rhos.append(rho)
        got = sorted(PARAMS, key=lambda p: -(est[s].get(p) or 0.0))[:k]
        hits += got == top
        sets += set(got) == set(top)
        print("seed %d: %d trials, Spearman %.3f, estimated top %d %s (%s)" % (
            s, counts[s], rho, k, ",".join(got),
            "the true order" if got == top else
            "the true set, not its order" if set(got) == set(top) else "not the true set"))
    print("rank correlation: median %.3f (min %.3f); top-%d order %s matches "
          "in %d/%d seeds, the set in %d/%d" % (
              statistics.median(rhos), min(rhos), k, ",".join(top), hits,
              len(seeds), sets, len(seeds)))


if __name__ == "__main__":
    main()
