#!/usr/bin/env python3
"""imp_objective: the trainer of bench_importance.py (not a test).

Reads SWEEP_PARAMS and SWEEP_SEED, reports one epoch whose "y" is the
synthetic objective of bench_importance.py (model() there, plus
N(0, NOISE) noise seeded by SWEEP_SEED) on SWEEP_REPORT_FD (else stdout),
then a final line.
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_importance import NOISE, model  # noqa: E402


def main():
    try:
        p = json.loads(os.environ["SWEEP_PARAMS"])
        y = model(p) + random.Random(int(os.environ.get("SWEEP_SEED", "1"))).gauss(0, NOISE)
    except (KeyError, ValueError, TypeError) as e:
        print("imp_objective: bad params: %r" % e, file=sys.stderr)
        return 2
    fd = int(os.environ.get("SWEEP_REPORT_FD", "1"))
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps({"epoch": 1, "y": y}) + "\n")
        out.write(json.dumps({"final": True, "best_epoch": 1}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
