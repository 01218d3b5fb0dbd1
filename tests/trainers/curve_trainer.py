#!/usr/bin/env python3
"""curve_trainer.py: a trainer whose learning curve the test scripts, for
tests/integration/test_promote.py (ASHA's promotion). It reports on fd
$SWEEP_REPORT_FD, one write(2) per line. SWEEP_PARAMS:

  table     array of curves (arrays of val_acc, one per epoch)
  k         the index of this trial's curve in table
  sleep_ms  pause before each epoch (default 0)
  resumed_sleep_ms  pause before each epoch of an attempt that resumes
            (default: sleep_ms)
  on_resume what an attempt with SWEEP_RESUME=1 does: "resume" (default,
            reports from SWEEP_RESUME_EPOCH + 1, as the contract says),
            "restart" (reports from epoch 1 again, as a trainer without a
            checkpoint), "repeat" (lies: reports SWEEP_RESUME_EPOCH again,
            then on)
  log       a file to which each attempt appends, before its first epoch,
            one JSON line: number, attempt, resume, resume_epoch, first
            (the first epoch it will report), pid
"""
import json
import os
import sys
import time

P = json.loads(os.environ.get("SWEEP_PARAMS", "{}"))


def report(obj):
    line = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
    fd = int(os.environ["SWEEP_REPORT_FD"])
    while line:
        line = line[os.write(fd, line):]


def first_epoch():
    if os.environ.get("SWEEP_RESUME") != "1":
        return 1
    k = int(os.environ.get("SWEEP_RESUME_EPOCH", "0"))
    how = P.get("on_resume", "resume")
    return 1 if how == "restart" else k if how == "repeat" else k + 1


def main():
    curve = P["table"][int(P["k"])]
    first = first_epoch()
    resumed = os.environ.get("SWEEP_RESUME") == "1"
    sleep_ms = P.get("resumed_sleep_ms", P.get("sleep_ms", 0)) if resumed \
        else P.get("sleep_ms", 0)
    if P.get("log"):
        rec = {"number": int(os.environ["SWEEP_TRIAL_NUMBER"]),
               "attempt": int(os.environ.get("SWEEP_ATTEMPT", "0")),
               "resume": os.environ.get("SWEEP_RESUME"),
               "resume_epoch": os.environ.get("SWEEP_RESUME_EPOCH"),
               "first": first, "pid": os.getpid()}
        with open(P["log"], "a") as f:
            f.write(json.dumps(rec) + "\n")
    best = None
    for e in range(first, len(curve) + 1):
        time.sleep(sleep_ms / 1000.0)
        v = curve[e - 1]
        best = v if best is None or v > best else best
        report({"epoch": e, "val_acc": v, "val_loss": 1.0 - v})
    report({"final": True})
    return 0


if __name__ == "__main__":
    sys.exit(main())
