#!/usr/bin/env python3
"""Several objectives: hypervolume of sweepd's MOTPE, random search and
Optuna 3.1's multi-objective TPE on ZDT1 and ZDT2 (issue 19).

    /usr/bin/python3 bench/search/bench_motpe.py BUILD [--seeds 5] [--trials 200]
        [--dims 30] [--at 50,100,200] [--problems zdt1,zdt2] [--no-optuna] [--out F.json]

sweepd's sweeps run in process (BUILD/bench/search/bench_motpe run: the
sampler_suggest_mo code the daemon will call); Optuna's TPESampler(seed=s)
with a two-objective study (its defaults: n_startup 10, 24 candidates,
gamma min(ceil(0.1 n), 25), the same as sweepd's) and RandomSampler(seed=s)
run the same functions here. Every hypervolume, Optuna's included, is
computed by bench_motpe (pareto_hypervolume, reference point (1.1, 11));
Optuna's own WFG is run on each Optuna result as a cross-check and the
largest difference is printed. Medians [interquartile range] over seeds.
Not a test.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

REF = (1.1, 11.0)
BEST = {"zdt1": 1.1 * 11 - 1 / 3, "zdt2": 1.1 * 11 - 2 / 3}


def zdt(problem, x):
    g = 1 + 9 * sum(x[1:]) / (len(x) - 1)
    f1 = x[0]
    if problem == "zdt2":
        return f1, g * (1 - (f1 / g) ** 2)
    return f1, g * (1 - math.sqrt(f1 / g))


def sweepd_run(exe, problem, alg, seed, args):
    out = subprocess.run([exe, "run", problem, alg, str(seed), str(args.trials),
                          str(args.dims), args.at], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def hv_of(exe, points, at):
    text = "".join("%.17g %.17g\n" % p for p in points)
    out = subprocess.run([exe, "hv", at], input=text, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)["hv"]


def optuna_run(exe, problem, make, seed, args):
    import optuna
    import numpy as np
    from optuna._hypervolume import WFG
    study = optuna.create_study(directions=["minimize", "minimize"],
                                sampler=make(seed))

    def objective(trial):
        x = [trial.suggest_float("x%d" % i, 0, 1) for i in range(args.dims)]
        return zdt(problem, x)
    t0 = time.time()
    study.optimize(objective, n_trials=args.trials)
    spent = time.time() - t0
    pts = [tuple(t.values) for t in study.trials]
    hv = hv_of(exe, pts, args.at)
    theirs = WFG().compute(np.asarray(pts), np.asarray(REF))
    return {"hv": hv, "seconds": spent, "f": pts,
            "wfg_diff": abs(theirs - hv[str(args.trials)])}


def quartiles(v):
    v = sorted(v)
    q = statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1 else [v[0]] * 3
    return q[1], q[0], q[2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--dims", type=int, default=30)
    ap.add_argument("--at", default="50,100,200")
    ap.add_argument("--problems", default="zdt1,zdt2")
    ap.add_argument("--no-optuna", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    exe = os.path.join(args.build, "bench", "search", "bench_motpe")
    ks = [k for k in args.at.split(",") if int(k) <= args.trials]
    searches = [("sweepd MOTPE", "tpe"), ("sweepd random", "random")]
    optuna_makers = {}
    if not args.no_optuna:
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        optuna_makers = {
            "Optuna %s TPESampler" % optuna.__version__:
                lambda s: optuna.samplers.TPESampler(seed=s),
            "Optuna %s RandomSampler" % optuna.__version__:
                lambda s: optuna.samplers.RandomSampler(seed=s),
        }
    raw = {}
    t0 = time.time()
    for problem in args.problems.split(","):
        for seed in range(1, args.seeds + 1):
            for name, alg in searches:
                raw.setdefault(problem, {}).setdefault(name, {})[seed] = \
                    sweepd_run(exe, problem, alg, seed, args)
            for name, make in optuna_makers.items():
                raw[problem].setdefault(name, {})[seed] = \
                    optuna_run(exe, problem, make, seed, args)
            print("# %s seed %d done (%.0f s)" % (problem, seed, time.time() - t0),
                  file=sys.stderr)
    worst_diff = max((r["wfg_diff"] for p in raw.values() for n in p.values()
                      for r in n.values() if "wfg_diff" in r), default=None)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print("%d seeds x %d trials, %d params, reference point %s, load average %s, "
          "%.0f s wall" % (args.seeds, args.trials, args.dims, REF, " ".join(load),
                           time.time() - t0))
    if worst_diff is not None:
        print("largest |Optuna WFG - sweepd| hypervolume over Optuna's runs: %.3g"
              % worst_diff)
    for problem, by_name in raw.items():
        print("\n%s (best reachable %.4f)\n" % (problem, BEST[problem]))
        print("| search | " + " | ".join("hv after %s" % k for k in ks) +
              " | seeds above sweepd random at %s |" % ks[-1])
        print("| --- " * (len(ks) + 2) + "|")
        rnd = by_name["sweepd random"]
        for name, runs in by_name.items():
            cells = []
            for k in ks:
                m, lo, hi = quartiles([runs[s]["hv"][k] for s in runs])
                cells.append("%.4f [%.4f, %.4f]" % (m, lo, hi))
            wins = sum(runs[s]["hv"][ks[-1]] > rnd[s]["hv"][ks[-1]] for s in runs)
            print("| %s | %s | %s |" % (name, " | ".join(cells),
                                        "-" if name == "sweepd random" else
                                        "%d/%d" % (wins, len(runs))))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(raw, f)


if __name__ == "__main__":
    main()
