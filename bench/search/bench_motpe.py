#!/usr/bin/env python3
"""Several objectives: hypervolume of sweepd's MOTPE, random search and
Optuna 3.1's multi-objective TPE on ZDT1 and ZDT2 (issue 19).

    /usr/bin/python3 bench/search/bench_motpe.py BUILD [--seeds 5] [--trials 200]
        [--dims 30] [--at 50,100,200] [--problems zdt1,zdt2] [--no-optuna] [--out F.json]
        [--per-seed] [--first-seed 1] [--optuna tpe,random[,motpe]]
    /usr/bin/python3 bench/search/bench_motpe.py BUILD --report F.json [G.json ...] [--at 50] [--per-seed]

sweepd's sweeps run in process (BUILD/bench/search/bench_motpe run: the
sampler_suggest_mo code the daemon will call); Optuna's TPESampler(seed=s)
with a two-objective study (its defaults: n_startup 10, 24 candidates,
gamma min(ceil(0.1 n), 25), the same as sweepd's) and RandomSampler(seed=s)
run the same functions here. Every hypervolume, Optuna's included, is
computed by bench_motpe (pareto_hypervolume, reference point (1.1, 11));
Optuna's own WFG is run on each Optuna result as a cross-check and the
largest difference is printed. Medians [interquartile range] over seeds;
--per-seed adds each seed's hypervolume at the last --at budget and, with
Optuna, a Mann-Whitney U of sweepd's MOTPE against Optuna's TPE (unpaired:
the tools' seeds draw different numbers). --out is rewritten after each
seed; --report F.json ... prints the tables of saved runs (the build
argument is then unused).
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


def mann_whitney(a, b):
    """U of a over b (ties count half) and the two-sided p of the normal
    approximation without tie correction: is one tool's distribution of
    hypervolumes shifted from the other's (unpaired: Optuna's seeds are
    not sweepd's)."""
    u = sum((x > y) + 0.5 * (x == y) for x in a for y in b)
    n, m = len(a), len(b)
    sd = math.sqrt(n * m * (n + m + 1) / 12)
    z = (u - n * m / 2) / sd if sd else 0.0
    return u, math.erfc(abs(z) / math.sqrt(2))


def print_per_seed(by_name, k):
    names = list(by_name)
    print("\n| seed | " + " | ".join(names) + " |")
    print("| --- " * (len(names) + 1) + "|")
    for s in sorted(by_name[names[0]]):
        print("| %d | %s |" % (s, " | ".join(
            "%.4f" % by_name[n][s]["hv"][k] if s in by_name[n] else "-"
            for n in names)))


def run_all(args, exe):
    """Every (problem, seed, search) run; the raw results so far are saved
    to --out after each seed, so an interrupted run keeps what it did."""
    searches = [("sweepd MOTPE", "tpe"), ("sweepd random", "random")]
    optuna_makers = {}
    if not args.no_optuna:
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        every = {
            "tpe": ("TPESampler", lambda s: optuna.samplers.TPESampler(seed=s)),
            "random": ("RandomSampler",
                       lambda s: optuna.samplers.RandomSampler(seed=s)),
            # Deprecated since 2.9, the paper's settings: gamma floor(0.1 n)
            # without the cap, endpoints considered, flat weights above.
            "motpe": ("MOTPESampler", lambda s: optuna.samplers.MOTPESampler(seed=s)),
        }
        for key in args.optuna.split(","):
            name, make = every[key]
            optuna_makers["Optuna %s %s" % (optuna.__version__, name)] = make
    raw = {}
    t0 = time.time()
    for problem in args.problems.split(","):
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for name, alg in searches:
                raw.setdefault(problem, {}).setdefault(name, {})[seed] = \
                    sweepd_run(exe, problem, alg, seed, args)
            for name, make in optuna_makers.items():
                raw[problem].setdefault(name, {})[seed] = \
                    optuna_run(exe, problem, make, seed, args)
            print("# %s seed %d done (%.0f s)" % (problem, seed, time.time() - t0),
                  file=sys.stderr)
            if args.out:
                with open(args.out, "w") as f:
                    json.dump(raw, f)
    return raw


def load_reports(paths):
    """The raw results of earlier runs (--out files), merged by problem;
    seeds as ints again."""
    raw = {}
    for path in paths:
        with open(path) as f:
            for problem, by_name in json.load(f).items():
                for name, runs in by_name.items():
                    raw.setdefault(problem, {}).setdefault(name, {}).update(
                        {int(s): r for s, r in runs.items()})
    return raw


def report(raw, ks, per_seed):
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
        mine = [r["hv"][ks[-1]] for r in by_name["sweepd MOTPE"].values()]
        for name in by_name:
            if not name.startswith("Optuna") or name.endswith("RandomSampler"):
                continue
            theirs = [r["hv"][ks[-1]] for r in by_name[name].values()]
            u, p = mann_whitney(mine, theirs)
            print("\nsweepd MOTPE vs %s at %s: Mann-Whitney U %.1f of %d, "
                  "two-sided p %.3f" % (name, ks[-1], u, len(mine) * len(theirs), p))
        if per_seed:
            print_per_seed(by_name, ks[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=1,
                    help="seeds FIRST..FIRST+SEEDS-1 (split a long run, --report joins)")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--dims", type=int, default=30)
    ap.add_argument("--at", default="50,100,200")
    ap.add_argument("--problems", default="zdt1,zdt2")
    ap.add_argument("--no-optuna", action="store_true")
    ap.add_argument("--optuna", default="tpe,random",
                    help="Optuna's samplers to run: tpe, random, motpe (its deprecated "
                    "MOTPESampler)")
    ap.add_argument("--out")
    ap.add_argument("--per-seed", action="store_true",
                    help="also print each seed's hypervolume at the last --at")
    ap.add_argument("--report", nargs="+", metavar="F.json",
                    help="run nothing: the tables of earlier --out files")
    args = ap.parse_args()
    exe = os.path.join(args.build, "bench", "search", "bench_motpe")
    ks = [k for k in args.at.split(",") if int(k) <= args.trials]
    if args.report:
        return report(load_reports(args.report), ks, args.per_seed)
    t0 = time.time()
    raw = run_all(args, exe)
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
    report(raw, ks, args.per_seed)


if __name__ == "__main__":
    main()
