#!/usr/bin/env python3
"""End to end: the same sweep under sweepd and under Optuna + PyTorch, one
after the other on this machine. Not a test.

  bench/e2e/bench_e2e.py BUILD_DIR [--spec configs/quickstart.json]
      [--trials N] [--epochs N] [--train-fraction F] [--no-install]
      [--skip-optuna] [--sweepd-uncached] [--out FILE.json]

sweepd: BUILD's daemon (--workers = the spec's parallel) on a fresh state
dir runs the spec (the quick start: the built-in trainer's BNNet on
Fashion-MNIST, TPE + ASHA, 40 trials, 2 at a time); wall time is from the
submit to the sweep's end (polled every 0.2 s). --sweepd-uncached also
runs it once with SWEEP_DATA_CACHE empty (every trial decodes the data
itself, as before the cache) to show what the cache saves.

Optuna: bench/e2e/optuna_bnnet.py runs the same spec under Optuna 3.1
(TPESampler, SuccessiveHalvingPruner on the same rungs, SQLite, two
worker processes, one thread per trial) on the same BNNet in PyTorch, the
same split and epochs. Debian's python3-optuna and python3-torch are
installed with apt-get when /usr/bin/python3 cannot import them (unless
--no-install).

--trials, --epochs and --train-fraction shrink the spec (a quick run);
the figures are then not the quick start's. For each side: wall time, best
val_acc and test_acc of the best completed trial, trials pruned, and the
load average before and after; then the ratio of wall times.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import request, start_daemon  # noqa: E402

PY = "/usr/bin/python3"


def loadavg():
    return "%.2f %.2f %.2f" % os.getloadavg()


def load_spec(args):
    with open(args.spec) as f:
        spec = json.load(f)
    if args.trials:
        spec["search"]["trials"] = args.trials
        spec["search"]["n_startup"] = min(spec["search"].get("n_startup", 20), args.trials)
    if args.epochs:
        spec["space"]["epochs"] = args.epochs
    if args.train_fraction:
        spec["space"]["train_fraction"] = args.train_fraction
    return spec


def run_sweepd(build, spec, cache):
    """One sweep on a fresh daemon; cache False sets SWEEP_DATA_CACHE empty."""
    state = tempfile.mkdtemp(prefix="sweepd-e2e-")
    saved = os.environ.get("SWEEP_DATA_CACHE")
    if not cache:
        os.environ["SWEEP_DATA_CACHE"] = ""
    try:
        before = loadavg()
        p, sock = start_daemon(build, state, workers=spec["search"]["parallel"])
        try:
            t0 = time.time()
            r = request(sock, {"op": "submit", "spec": spec})
            if not r.get("ok"):
                raise SystemExit("sweepd refused the spec: %s" % r)
            sid = r["sweep_id"]
            while True:
                s = request(sock, {"op": "sweep", "sweep": sid})["sweep"]
                if s["status"] != "running":
                    break
                time.sleep(0.2)
            wall = time.time() - t0
            trials = request(sock, {"op": "trials", "sweep": sid})["trials"]
        finally:
            p.terminate()
            p.wait()
    finally:
        if saved is None:
            os.environ.pop("SWEEP_DATA_CACHE", None)
        else:
            os.environ["SWEEP_DATA_CACHE"] = saved
        shutil.rmtree(state, ignore_errors=True)
    if s["status"] != "completed":
        raise SystemExit("sweepd: the sweep ended %s: %s" % (s["status"], s.get("error")))
    done = [t for t in trials if t["status"] == "completed" and t.get("objective") is not None]
    best = max(done, key=lambda t: t["objective"]) if done else None
    return {"wall_s": wall, "trials": len(trials), "completed": len(done),
            "pruned": sum(t["status"] == "pruned" for t in trials),
            "best_val_acc": best["objective"] if best else None,
            "best_test_acc": best.get("test_acc") if best else None,
            "best_params": best["params"] if best else None,
            "spec": s["spec"], "load_before": before, "load_after": loadavg()}


def have_optuna():
    return subprocess.run([PY, "-c", "import optuna, torch"], capture_output=True).returncode == 0


def ensure_optuna(install):
    if have_optuna():
        return
    if not install:
        raise SystemExit("bench_e2e: %s cannot import optuna and torch (apt-get install "
                         "python3-optuna python3-torch, or drop --no-install)" % PY)
    print("installing python3-optuna python3-torch with apt-get ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "python3-optuna", "python3-torch"],
                   check=True, stdout=subprocess.DEVNULL)
    if not have_optuna():
        raise SystemExit("bench_e2e: still cannot import optuna and torch after apt-get")


def run_optuna(spec):
    work = tempfile.mkdtemp(prefix="optuna-e2e-")
    try:
        path = os.path.join(work, "spec.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        before = loadavg()
        out = subprocess.run([PY, os.path.join(HERE, "optuna_bnnet.py"), path, work,
                              "--workers", str(spec["search"]["parallel"])],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.splitlines()[-1])
        r.update(load_before=before, load_after=loadavg())
        return r
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fmt(v, f="%.4f"):
    return "n/a" if v is None else f % v


def table(rows):
    print("| run | wall s | trials | pruned | best val_acc | its test_acc | load before | "
          "load after |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        print("| %s | %.1f | %d | %d | %s | %s | %s | %s |"
              % (name, r["wall_s"], r["trials"], r["pruned"], fmt(r["best_val_acc"]),
                 fmt(r["best_test_acc"]), r["load_before"], r["load_after"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--spec", default=os.path.join(ROOT, "configs", "quickstart.json"))
    ap.add_argument("--trials", type=int)
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--train-fraction", type=float)
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--skip-optuna", action="store_true")
    ap.add_argument("--sweepd-uncached", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    spec = load_spec(args)
    if spec.get("trainer", {}).get("builtin") != "mlp" or "pruner" not in spec:
        raise SystemExit("bench_e2e: the spec must use the built-in trainer and a pruner")
    if not args.skip_optuna:
        ensure_optuna(not args.no_install)
    print("spec: %s, %d trials, parallel %d, epochs %s; load average %s"
          % (spec["name"], spec["search"]["trials"], spec["search"]["parallel"],
             spec["space"]["epochs"], loadavg()), flush=True)
    rows = [("sweepd (built-in trainer)", run_sweepd(args.build, spec, True))]
    if args.sweepd_uncached:
        rows.append(("sweepd, no data cache", run_sweepd(args.build, spec, False)))
    if not args.skip_optuna:
        # the spec as sweepd stored it: every default it ran with written
        # out, so Optuna's arm copies none of them
        o = run_optuna(rows[0][1]["spec"])
        rows.append(("Optuna %s + PyTorch" % o["optuna"], o))
    table(rows)
    if not args.skip_optuna:
        o, s = rows[-1][1], rows[0][1]
        print("\nOptuna wall / sweepd wall: %.2f" % (o["wall_s"] / s["wall_s"]))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(rows), f, indent=1)


if __name__ == "__main__":
    main()
