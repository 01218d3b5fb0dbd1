#!/usr/bin/env python3
"""Does a trial's early val_acc say where it ends? Replays the curves of
`bench_search.py fashion --out` files (best run without a pruner, so every
trial has all its epochs). Not a test; no daemon, no training.

  bench/search/bench_ranks.py OUT.json[,OUT2.json...] [--epochs 1,2,3,5,9]
      [--good 0.895]

For each epoch e: per sweep, the Spearman rank correlation between each
trial's best val_acc up to epoch e and its final objective (the median
over the sweeps), and for every trial whose objective is >= --good, its
rank among its sweep's trials by the value up to epoch e (1 = first).
A pruner that judges at epoch e keeps such a trial when that rank is
within the share of trials it lets go on (1/eta).
"""
import argparse
import json
import statistics


def ranks(v):
    """The ranks of v (0 = smallest); ties broken by position."""
    r = [0] * len(v)
    for k, i in enumerate(sorted(range(len(v)), key=lambda i: v[i])):
        r[i] = k
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return num / den if den else float("nan")


def sweeps(paths):
    for path in paths:
        with open(path) as f:
            for runs in json.load(f).values():
                yield from runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files")
    ap.add_argument("--epochs", default="1,2,3,5,9")
    ap.add_argument("--good", type=float, default=0.895)
    a = ap.parse_args()
    paths = a.files.split(",")
    print("| epoch | Spearman per sweep, median [min, max] | ranks of the trials >= %.3f |"
          % a.good)
    print("| --- | --- | --- |")
    for e in (int(x) for x in a.epochs.split(",")):
        rho, pos, n = [], [], 0
        for s in sweeps(paths):
            ts = [t for t in s["trials"] if t.get("objective") is not None
                  and len(t.get("curve") or []) >= e]
            if len(ts) < 2:
                continue
            early = [max(p[1] for p in t["curve"][:e]) for t in ts]
            rho.append(spearman(early, [t["objective"] for t in ts]))
            order = sorted(range(len(ts)), key=lambda i: -early[i])
            pos += [order.index(i) + 1 for i, t in enumerate(ts)
                    if t["objective"] >= a.good]
            n += 1
        if rho:
            print("| %d | %.3f [%.3f, %.3f] over %d sweeps | %s |" % (
                e, statistics.median(rho), min(rho), max(rho), n,
                ", ".join(map(str, sorted(pos))) or "none"))


if __name__ == "__main__":
    main()
