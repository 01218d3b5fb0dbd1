#!/usr/bin/env python3
"""partial_trainer.py: an external trainer that reports only some metrics.

Runs the built-in trainer (argv[1]) with the trial's params and passes on
its report lines with only the metrics named in argv[2] (comma-separated)
kept, as an external trainer that logs, say, val_acc alone would report.
Used by make_real_curves.sh to make real partial curves; not a test.

    partial_trainer.py build/sweep-worker val_acc
"""
import json
import os
import subprocess
import sys

worker, keep = sys.argv[1], set(sys.argv[2].split(","))
fd = int(os.environ.get("SWEEP_REPORT_FD", "1"))
out = os.fdopen(fd, "w", buffering=1)
env = dict(os.environ)
env.pop("SWEEP_REPORT_FD", None)
proc = subprocess.Popen([worker], env=env, stdout=subprocess.PIPE, text=True)
for line in proc.stdout:
    # the worker, without SWEEP_REPORT_FD, prefixes its lines with "SWEEP "
    rec = json.loads(line[len("SWEEP "):] if line.startswith("SWEEP ") else line)
    if "epoch" in rec:
        rec = {k: v for k, v in rec.items() if k == "epoch" or k in keep}
    out.write(json.dumps(rec) + "\n")
sys.exit(proc.wait())
