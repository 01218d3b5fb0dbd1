#!/usr/bin/env python3
"""Search benchmarks for sweepd (issue 5's figures). Not a test.

  bench/search/bench_search.py synth  BUILD_DIR [--space 5|10] [--seeds 20] [--trials 50]
      [--parallel 1] [--algos tpe,random] [--pruner asha|median] [--prune-random]
      [--min-epochs N] [--min-trials N]
      [--out FILE.json]
  /usr/bin/python3 bench/search/bench_search.py optuna BUILD_DIR
      [--space 5|10] [--seeds 20] [--trials 50] [--out FILE.json]
  bench/search/bench_search.py fashion BUILD_DIR [--seeds 3] [--trials 24]
      [--parallel 2] [--target 0.88[,0.90...]] [--seed-from 1]
      [--config configs/tpe-asha-fashion.json]
      [--stop-at-target | --stop-random-at VAL_ACC] [--trial-timeout S]
      [--min-trials N] [--out FILE.json]

synth: sample efficiency on bench/search/synth_objective (a closed-form
  model of an MLP tuning problem, see its header; --space 5: lr, batch
  size, activation, optimizer, dropout; --space 10: also width, batchnorm,
  init, weight decay, input scaling), run by a real sweepd
  (--workers 2) as an external trainer. For each seed and algorithm, one
  sweep of --trials trials; the best objective among trials 1..k (by trial
  number) for k = 10, 25, --trials; median and interquartile range over the
  seeds. Sweeps of parallel 1 are independent of each other, so they run two
  at a time on one daemon; with --parallel 2 one at a time (each gets both
  workers).

optuna: the same objective (the same binary, run per trial with the same
  SWEEP_PARAMS / SWEEP_SEED environment and read on stdout) under Optuna's
  TPESampler (seeded, its defaults, which are also sweepd's), its
  TPESampler with gamma 0.25 (the top 25 %; sweepd's default before it took
  Optuna's rule) and its RandomSampler.
  Needs Debian's python3-optuna: run it with /usr/bin/python3.

fashion: time to accuracy with the built-in trainer on Fashion-MNIST: TPE +
  ASHA against random search without pruning, same budget, --seeds seeds
  each. The spec is configs/tpe-asha-fashion.json (or --config): its
  search is replaced by the seed and budget; the random runs drop its
  pruner. Sweeps run one at a time (--workers = --parallel). The time a sweep
  reaches --target is read from the daemon's records: the first epoch of
  any trial whose val_acc >= target, at the trial's started_at plus the sum
  of the "seconds" of its epochs up to that one (the trainer's own timing
  of each epoch; startup and data loading of the trial are not in it, so
  an upper bound is also given: the trial's ended_at), measured from the
  first trial's started_at.

Every table is printed; --out writes the raw numbers as JSON, with each
trial's curve ([epoch, val_acc, seconds] per epoch) for replaying other
pruning rules offline.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import request, start_daemon  # noqa: E402

# ---- the synthetic MLP-shaped problem ----------------------------------

SYNTH_SPACE = {
    "lr": {"loguniform": [1e-5, 1.0]},
    "batch_size": {"choice": [16, 32, 64, 128, 256, 512]},
    "activation": {"choice": ["relu", "elu", "tanh", "sigmoid"]},
    "optimizer": {"choice": ["sgd", "momentum", "adam", "rmsprop"]},
    "dropout": {"uniform": [0.0, 0.6]},
    "epochs": 12,
}

# The same with the chapter's other knobs (--space 10): network width,
# batch normalization, weight initialization, weight decay, input scaling.
SYNTH10_SPACE = dict(SYNTH_SPACE, **{
    "units": {"logint": [16, 1024]},
    "batchnorm": {"choice": [True, False]},
    "init": {"choice": ["small_normal", "xavier", "he"]},
    "weight_decay": {"loguniform": [1e-6, 1e-1]},
    "scaling": {"choice": ["none", "standardize", "minmax"]},
})


def synth_space(args):
    return SYNTH10_SPACE if args.space == 10 else SYNTH_SPACE

# ---- a daemon on a temporary state dir -----------------------------------


class Daemon:
    def __init__(self, build, workers):
        self.build = build
        self.state = tempfile.mkdtemp(prefix="sweepd-bench-search-")
        worker = os.path.join(build, "sweep-worker")
        extra = ["--worker", worker] if os.path.exists(worker) else []
        self.proc, self.sock = start_daemon(build, self.state, workers=workers,
                                            extra=extra)

    def __call__(self, req):
        r = request(self.sock, req, timeout=120)
        if not r.get("ok"):
            raise RuntimeError("request %r failed: %r" % (req, r))
        return r

    def wait(self, sid, poll=0.5):
        while True:
            s = self({"op": "sweep", "sweep": sid})["sweep"]
            if s["status"] not in ("running", "queued", "paused"):
                return s
            time.sleep(poll)

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.state, ignore_errors=True)


# ---- statistics -------------------------------------------------------------


def quartiles(v):
    """(q1, median, q3), the 'inclusive' method (as numpy's default)."""
    v = sorted(v)
    if len(v) == 1:
        return v[0], v[0], v[0]
    q = statistics.quantiles(v, n=4, method="inclusive")
    return q[0], q[1], q[2]


def best_prefix(values, k):
    """The best (max) of the first k values; None counts as missing."""
    vs = [v for v in values[:k] if v is not None and math.isfinite(v)]
    return max(vs) if vs else float("nan")


def lock_in(params_per_seed, after=10):
    """Median over seeds of the share of trials after `after` that use
    that seed's most used optimizer: how much a search settles on one."""
    shares = []
    for params in params_per_seed:
        later = [p.get("optimizer") for p in params[after:]]
        if later:
            shares.append(max(later.count(o) for o in set(later)) / len(later))
    return statistics.median(shares) if shares else float("nan")


def print_table(title, rows, ks, locks=None):
    print(title)
    print("| search | " + " | ".join("best after %d: median [IQR]" % k for k in ks) +
          " | seeds better than random at %d | one optimizer in trials 11..%d |"
          % (ks[-1], ks[-1]))
    print("| --- |" + " --- |" * (len(ks) + 2))
    ref = rows[-1][1]   # the last row is random search
    for j, (name, per_seed) in enumerate(rows):
        cells = []
        for i in range(len(ks)):
            q1, med, q3 = quartiles([s[i] for s in per_seed])
            cells.append("%.4f [%.4f, %.4f]" % (med, q1, q3))
        wins = sum(a[-1] > b[-1] for a, b in zip(per_seed, ref))
        cells.append("%d/%d" % (wins, len(per_seed)) if per_seed is not ref else "-")
        cells.append("%.0f %%" % (100 * locks[j]) if locks else "")
        print("| %s | %s |" % (name, " | ".join(cells)))
    print()


# ---- part 1: sweepd on the synthetic objective ---------------------------


def tpe_opts(args):
    o = {}
    if args.gamma is not None:
        o["gamma"] = args.gamma
    if args.n_startup is not None:
        o["n_startup"] = args.n_startup
    if args.n_candidates is not None:
        o["n_candidates"] = args.n_candidates
    return o


def tpe_label(args):
    o = tpe_opts(args)
    return "".join(", %s %g" % kv for kv in o.items()) + (
        ", multivariate" if args.multivariate else "")


def synth(args):
    exe = os.path.join(args.build, "bench", "search", "synth_objective")
    if not os.path.exists(exe):
        raise SystemExit("%s not built (ninja -C %s)" % (exe, args.build))
    ks = sorted({k for k in (10, 25) if k < args.trials} | {args.trials})
    algos = args.algos.split(",")
    d = Daemon(args.build, workers=2)
    raw = {}
    try:
        t0 = time.time()
        sids = {}
        for algo in algos:
            for seed in range(1, args.seeds + 1):
                spec = {"name": "synth-%s-%d" % (algo, seed),
                        "trainer": {"command": [exe]},
                        "objective": {"metric": "val_acc", "mode": "max"},
                        "space": synth_space(args),
                        "search": {"algorithm": algo, "trials": args.trials,
                                   "parallel": args.parallel, "seed": seed}}
                if algo == "tpe":
                    spec["search"].update(tpe_opts(args))
                    if args.multivariate:
                        spec["search"]["multivariate"] = True
                if algo == "tpe" or args.prune_random:
                    if args.pruner:
                        spec["pruner"] = {"algorithm": args.pruner.split("+")[0]}
                        if args.min_epochs is not None:
                            spec["pruner"]["min_epochs"] = args.min_epochs
                        if args.min_trials is not None:
                            spec["pruner"]["min_trials"] = args.min_trials
                        if args.pruner == "asha+promote":
                            spec["pruner"]["promote"] = True
                sids[(algo, seed)] = d({"op": "submit", "spec": spec})["sweep_id"]
                if args.parallel > 1:
                    # The daemon shares its 2 workers round-robin between
                    # sweeps: one sweep at a time, or none runs parallel.
                    d.wait(sids[(algo, seed)], poll=0.05)
        for key, sid in sids.items():
            s = d.wait(sid)
            if s["status"] != "completed":
                print("sweep %d (%s seed %d) %s" % (sid, key[0], key[1], s["status"]),
                      file=sys.stderr)
        wall = time.time() - t0
        for (algo, seed), sid in sids.items():
            trials = sorted(d({"op": "trials", "sweep": sid})["trials"],
                            key=lambda t: t["number"])
            vals = [t.get("objective") for t in trials]
            rows_ = d({"op": "epochs", "sweep": sid})["epochs"]
            raw.setdefault(algo, {})[seed] = {
                "values": vals,
                "statuses": [t["status"] for t in trials],
                "params": [t["params"] for t in trials],
                # every epoch line stored, all attempts (synth_objective
                # starts over when promoted), and the trials' final curves
                # (what a trainer that resumes would have trained)
                "epoch_rows": len(rows_),
                "curve_epochs": sum(t["epochs"] for t in trials),
                "promoted": sum(t["attempt"] > 1 for t in trials)}
    finally:
        d.close()
    rows, locks = [], []
    algos = sorted(algos, key=lambda a: a == "random")   # random last
    for algo in algos:
        per_seed = [[best_prefix(raw[algo][s]["values"], k) for k in ks]
                    for s in sorted(raw[algo])]
        locks.append(lock_in([raw[algo][s]["params"] for s in sorted(raw[algo])]))
        pruned = sum(st == "pruned" for s in raw[algo].values()
                     for st in s["statuses"])
        print("%s: per sweep, median: epoch lines %s, curve epochs %s, "
              "pruned at the end %s, promoted %s" % (
                  algo,
                  statistics.median(s["epoch_rows"] for s in raw[algo].values()),
                  statistics.median(s["curve_epochs"] for s in raw[algo].values()),
                  statistics.median(sum(st == "pruned" for st in s["statuses"])
                                    for s in raw[algo].values()),
                  statistics.median(s["promoted"] for s in raw[algo].values())))
        rows.append(("sweepd %s (parallel %d%s)" % (
            algo, args.parallel, (tpe_label(args) + (
                ", %s, %.1f pruned per sweep" % (
                    args.pruner, pruned / len(raw[algo])) if args.pruner else ""))
            if algo == "tpe" else ""), per_seed))
    print_table("synthetic objective (%d knobs), %d seeds x %d trials, sweepd "
                "--workers 2 (%.0f s wall for all sweeps)" % (
                    args.space, args.seeds, args.trials, wall),
                rows, ks, locks)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"ks": ks, "raw": raw}, f)
    return rows


# ---- part 2: Optuna on the same objective -------------------------------


def run_objective(exe, params, seed):
    env = {"SWEEP_PARAMS": json.dumps(params), "SWEEP_SEED": str(seed),
           "PATH": os.environ.get("PATH", "")}
    out = subprocess.run([exe], env=env, capture_output=True, text=True,
                         check=True).stdout
    best = -math.inf
    for line in out.splitlines():
        o = json.loads(line)
        if "val_acc" in o and o["val_acc"] is not None and math.isfinite(o["val_acc"]):
            best = max(best, o["val_acc"])
    return best


def trial_seed(seed, number):
    """sweepd's SWEEP_SEED for trial `number` (sampler_trial_seed), so that
    Optuna's trial n draws the same noise as sweepd's trial n."""
    m = (1 << 64) - 1
    z = (seed + 0x9E3779B97F4A7C15 * number) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    z ^= z >> 31
    return z & ((1 << 53) - 1)


def optuna_params(trial, space):
    p = {}
    for k, v in space.items():
        if not isinstance(v, dict):
            p[k] = v
        elif "logint" in v:
            p[k] = trial.suggest_int(k, *v["logint"], log=True)
        elif "loguniform" in v:
            p[k] = trial.suggest_float(k, *v["loguniform"], log=True)
        elif "uniform" in v:
            p[k] = trial.suggest_float(k, *v["uniform"])
        elif "choice" in v:
            p[k] = trial.suggest_categorical(k, v["choice"])
    return p


def optuna_bench(args):
    try:
        import optuna
    except ImportError:
        raise SystemExit("optuna not importable: apt-get install python3-optuna, "
                         "and run this with /usr/bin/python3")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    exe = os.path.join(args.build, "bench", "search", "synth_objective")
    ks = sorted({k for k in (10, 25) if k < args.trials} | {args.trials})
    samplers = {
        "optuna TPESampler (defaults)":
            lambda s: optuna.samplers.TPESampler(seed=s),
        "optuna TPESampler (gamma = top 25 %)":
            lambda s: optuna.samplers.TPESampler(
                seed=s, gamma=lambda n: min(math.ceil(0.25 * n), n)),
        "optuna RandomSampler":
            lambda s: optuna.samplers.RandomSampler(seed=s),
    }
    if args.multivariate:
        samplers = {"optuna TPESampler (multivariate, group)":
                    lambda s: optuna.samplers.TPESampler(
                        seed=s, multivariate=True, group=True)}
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    rows, raw, locks = [], {}, []
    t0 = time.time()
    for name, make in samplers.items():
        per_seed = []
        for seed in range(1, args.seeds + 1):
            study = optuna.create_study(direction="maximize", sampler=make(seed))
            vals = []

            def objective(trial):
                v = run_objective(exe, optuna_params(trial, synth_space(args)),
                                  trial_seed(seed, trial.number + 1))
                vals.append(v)
                return v
            study.optimize(objective, n_trials=args.trials)
            raw.setdefault(name, {})[seed] = {
                "values": vals, "params": [t.params for t in study.trials]}
            per_seed.append([best_prefix(vals, k) for k in ks])
        rows.append((name, per_seed))
        locks.append(lock_in([raw[name][s]["params"] for s in sorted(raw[name])]))
    print_table("synthetic objective (%d knobs), %d seeds x %d trials, Optuna %s "
                "(%.0f s wall)" % (args.space, args.seeds, args.trials, optuna.__version__,
                                   time.time() - t0), rows, ks, locks)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"ks": ks, "optuna": optuna.__version__, "raw": raw}, f)
    return rows


# ---- part 3: time to accuracy on Fashion-MNIST ---------------------------


def time_to_target(d, sid, targets):
    """When the sweep first had an epoch with val_acc >= target, in seconds
    from the first trial's start: (at, lower, trial, epoch, ended_at) or
    None. The database has no per-epoch timestamps, so the time of the
    crossing epoch E of a trial is bracketed by its records:
      at    = ended_at - the "seconds" of the epochs after E (an upper
              bound: the epochs after E ran after E ended; what follows the
              last epoch, the test evaluation and exit, is counted in);
      lower = started_at + the "seconds" of epochs 1..E (startup and data
              loading left out).
    ended_at itself is the simplest, loosest upper bound. Also returns the
    span of the sweep (first start to last end), its best objective and
    its trials."""
    trials = d({"op": "trials", "sweep": sid})["trials"]
    t_start = min(t["started_at"] for t in trials if t.get("started_at"))
    t_end = max(t["ended_at"] for t in trials if t.get("ended_at"))
    hits = {target: None for target in targets}
    for t in trials:
        if not t.get("started_at") or not t.get("ended_at"):
            continue
        full = d({"op": "trial", "sweep": sid, "number": t["number"]})["trial"]
        curve = sorted(full.get("curve", []), key=lambda ep: ep["epoch"])
        t["curve"] = [[ep["epoch"], ep.get("val_acc"), ep.get("seconds")]
                      for ep in curve]
        secs = [ep.get("seconds") or 0.0 for ep in curve]
        for target in targets:
            for i, ep in enumerate(curve):
                va = ep.get("val_acc")
                if va is not None and va >= target:
                    at = full["ended_at"] - sum(secs[i + 1:]) - t_start
                    lower = full["started_at"] + sum(secs[:i + 1]) - t_start
                    upper = full["ended_at"] - t_start
                    if hits[target] is None or at < hits[target][0]:
                        hits[target] = (at, lower, t["number"], ep["epoch"], upper)
                    break
    best = max((t["objective"] for t in trials
                if t.get("objective") is not None), default=float("nan"))
    return hits, t_end - t_start, best, trials


def wait_target(d, sid, target, poll=0.5):
    """Waits for the sweep's end, or cancels it once an epoch reached
    target (the time to target is read from the records afterwards)."""
    while True:
        s = d({"op": "sweep", "sweep": sid})["sweep"]
        if s["status"] not in ("running", "queued", "paused"):
            return s
        rows = d({"op": "epochs", "sweep": sid})["epochs"]
        if any((r.get("val_acc") or 0) >= target for r in rows):
            d({"op": "cancel", "sweep": sid})
            return d.wait(sid, poll=0.2)
        time.sleep(poll)


def fashion(args):
    configs = {
        "tpe+asha": {"algorithm": "tpe"},
        "random": {"algorithm": "random"},
    }
    with open(args.config or os.path.join(ROOT, "configs",
                                          "tpe-asha-fashion.json")) as f:
        base = json.load(f)
    results = {}
    for seed in range(args.seed_from, args.seed_from + args.seeds):
        for name in args.algos.split(","):
            spec = json.loads(json.dumps(base))
            spec["name"] = "fashion-%s-%d" % (name, seed)
            spec["search"] = dict(configs[name], trials=args.trials,
                                  parallel=args.parallel, seed=seed)
            if name == "tpe+asha":
                for k in ("n_startup", "gamma", "n_candidates", "multivariate"):
                    if k in base.get("search", {}):
                        spec["search"][k] = base["search"][k]
            if configs[name]["algorithm"] == "tpe":
                spec["search"].update(tpe_opts(args))
                if args.multivariate:
                    spec["search"]["multivariate"] = True
            if name == "random":
                spec.pop("pruner", None)
            elif args.min_trials is not None and "pruner" in spec:
                spec["pruner"]["min_trials"] = args.min_trials
            if args.trial_timeout is not None:
                spec.setdefault("limits", {})["trial_timeout_s"] = args.trial_timeout
            d = Daemon(args.build, workers=args.parallel)
            try:
                t0 = time.time()
                sid = d({"op": "submit", "spec": spec})["sweep_id"]
                if args.stop_at_target:
                    s = wait_target(d, sid, max(args.targets))
                elif args.stop_random_at and name == "random":
                    s = wait_target(d, sid, args.stop_random_at)
                else:
                    s = d.wait(sid, poll=2)
                wall = time.time() - t0
                hits, total, best, trials = time_to_target(d, sid, args.targets)
            finally:
                d.close()
            n_pruned = sum(t["status"] == "pruned" for t in trials)
            results.setdefault(name, []).append({
                "seed": seed, "status": s["status"], "wall": wall,
                "total": total, "best": best, "hits": hits, "pruned": n_pruned,
                "trials": [{k: t.get(k) for k in ("number", "status", "objective",
                                                  "params", "started_at",
                                                  "ended_at", "best_epoch",
                                                  "curve", "attempt", "epochs")}
                           for t in trials]})
            print("seed %d %-8s: %s, best %.4f, %d pruned, %d promoted "
                  "(pruner.promote), %d epochs in the trials' curves, their "
                  "trainers' seconds %.0f, sweep %.0f s" % (
                      seed, name, s["status"], best, n_pruned,
                      sum((t.get("attempt") or 1) > 1 for t in trials),
                      sum(len(t.get("curve") or []) for t in trials),
                      sum(p[2] or 0 for t in trials for p in t.get("curve") or []
                          if len(p) > 2), total), flush=True)
            for target, hit in hits.items():
                print("    reached %.3f: %s" % (
                    target, "at %.1f s (>= %.1f s; trial %d epoch %d; its "
                    "ended_at %.1f s)" % hit if hit else
                    "not reached (> %.0f s)" % total), flush=True)
            if args.out:
                with open(args.out, "w") as f:
                    json.dump({n: [dict(r, hits={str(k): v for k, v in
                                                  r["hits"].items()})
                                   for r in rs] for n, rs in results.items()},
                              f)
    for target in args.targets:
        print_target_table(results, target)


def print_target_table(results, target):
    """Time to one target per seed and its median. A sweep that never got
    there has no time: it counts as infinite (it used up its trial budget
    without reaching the target; counting its span instead would favour
    the search that gives up sooner)."""
    print()
    print("| search | time to %.3f per seed (s) | median (s) | median by ended_at (s) | best val_acc (median) | sweep span (median, s) |" % target)
    print("| --- | --- | --- | --- | --- | --- |")
    med = {}
    for name, rs in results.items():
        hits = [r["hits"][target] for r in rs]
        ep = [h[0] if h else math.inf for h in hits]
        up = [h[4] if h else math.inf for h in hits]
        cells = ", ".join("%.1f (trial %d)" % (h[0], h[2]) if h
                          else "not reached (%s, %.0f s)" % (r["status"], r["total"])
                          for h, r in zip(hits, rs))
        med[name] = (statistics.median(ep), statistics.median(up))
        print("| %s | %s | %.1f | %.1f | %.4f | %.0f |" % (
            name, cells, med[name][0], med[name][1],
            statistics.median(r["best"] for r in rs),
            statistics.median(r["total"] for r in rs)))
    if "tpe+asha" in med and "random" in med:
        def ratio(a, b):
            if math.isinf(a) and math.isinf(b):
                return "- (neither median reached it)"
            if math.isinf(b):
                return "< 1 (tpe+asha's median did not reach it)"
            if math.isinf(a):
                return "unbounded (random's median did not reach it)"
            return "%.2fx" % (a / b)
        print("\nspeed-up to %.3f (random / tpe+asha, medians): %s; %s by "
              "ended_at" % (target, ratio(med["random"][0], med["tpe+asha"][0]),
                            ratio(med["random"][1], med["tpe+asha"][1])))


def fashion_tables(path, targets):
    """The tables of a saved --out file (of one or several runs)."""
    results = {}
    for p in path.split(","):
        with open(p) as f:
            for name, rs in json.load(f).items():
                for r in rs:
                    r["hits"] = {float(k): v for k, v in r["hits"].items()}
                results.setdefault(name, []).extend(rs)
    for target in targets or sorted(results["random"][0]["hits"]):
        print_target_table(results, target)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("part", choices=["synth", "optuna", "fashion"])
    ap.add_argument("build")
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--trials", type=int)
    ap.add_argument("--parallel", type=int)
    ap.add_argument("--algos")
    ap.add_argument("--gamma", type=float, help="TPE's gamma (sweepd's default: 'auto', Optuna's rule)")
    ap.add_argument("--pruner", choices=["asha", "asha+promote", "median"],
                    help="synth: TPE's sweeps with this pruner (its defaults; "
                    "random runs without one)")
    ap.add_argument("--prune-random", action="store_true",
                    help="synth: --pruner applies to random search's sweeps too "
                    "(what the pruner costs without TPE)")
    ap.add_argument("--min-epochs", type=int,
                    help="synth: the pruner's min_epochs (its default: 1)")
    ap.add_argument("--min-trials", type=int,
                    help="synth, fashion: the pruner's min_trials (completed "
                    "trials before it stops any; ASHA's default 4, 0 = the "
                    "rule before it had the option)")
    ap.add_argument("--n-startup", type=int)
    ap.add_argument("--n-candidates", type=int)
    ap.add_argument("--multivariate", action="store_true",
                    help="synth/fashion: TPE's sweeps with search.multivariate "
                    "(fashion: so does the config's own); "
                    "optuna: only Optuna's multivariate TPE (a reference)")
    ap.add_argument("--target", default="0.88",
                    help="fashion: val_acc target(s), comma-separated")
    ap.add_argument("--seed-from", type=int, default=1,
                    help="fashion: first seed (seeds seed-from.. seed-from+seeds-1)")
    ap.add_argument("--config", help="fashion: a spec file to start from "
                    "(its search is replaced)")
    ap.add_argument("--stop-at-target", action="store_true",
                    help="fashion: cancel a sweep once it reached --target "
                    "(saves the rest of its budget; its time to target is "
                    "unchanged, its best and sweep time are then partial)")
    ap.add_argument("--stop-random-at", type=float, metavar="VAL_ACC",
                    help="fashion: cancel only the random arm's sweep once it "
                    "reached VAL_ACC (its time to it is unchanged; its best "
                    "and pruned count are then partial: take them from a "
                    "full run, the random arm does not depend on the pruner)")
    ap.add_argument("--trial-timeout", type=float, metavar="S",
                    help="fashion: the spec's limits.trial_timeout_s for both "
                    "arms (on a loaded machine the config's 600 s kills the "
                    "big nets' full runs)")
    ap.add_argument("--space", type=int, choices=[5, 10], default=5,
                    help="synth/optuna: the five-knob space or the ten-knob "
                    "one (SYNTH10_SPACE)")
    ap.add_argument("--tables", metavar="OUT.json[,OUT2.json]",
                    help="fashion: only print the tables of saved --out files")
    ap.add_argument("--out")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if args.part == "synth":
        args.seeds = args.seeds or 20
        args.trials = args.trials or 50
        args.parallel = args.parallel or 1
        args.algos = args.algos or "tpe,random"
        synth(args)
    elif args.part == "optuna":
        args.seeds = args.seeds or 20
        args.trials = args.trials or 50
        optuna_bench(args)
    else:
        args.seeds = args.seeds or 3
        args.trials = args.trials or 24
        args.parallel = args.parallel or 2
        args.algos = args.algos or "tpe+asha,random"
        args.targets = sorted(float(t) for t in args.target.split(","))
        if args.tables:
            fashion_tables(args.tables, args.targets)
        else:
            fashion(args)


if __name__ == "__main__":
    main()
