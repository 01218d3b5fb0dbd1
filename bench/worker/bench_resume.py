#!/usr/bin/python3
"""What a resumed attempt costs: sweep-worker on the BNNet (784-48-BN-24-BN-10,
Adam 1e-3, batch 128), N epochs on Fashion-MNIST, run

  1. uninterrupted, no SWEEP_TRIAL_DIR (nothing written),
  2. uninterrupted with SWEEP_TRIAL_DIR (a checkpoint every epoch),
  3. with SWEEP_TRIAL_DIR, SIGKILLed as soon as the line of epoch K is read
     (the kill lands in epoch K + 1), then resumed with SWEEP_RESUME=1
     SWEEP_RESUME_EPOCH=K,

and prints the wall time of each, the final test accuracy of each, whether
the resumed curve equals the uninterrupted one line for line, and the
checkpoint's size and write cost per epoch (sweep-worker's own figure:
checkpoint + best.weights, fsyncs included). Every run shares one data
cache (SWEEP_DATA_CACHE, as under sweepd), built by a warm-up run first.
Builds nothing.

  bench/worker/bench_resume.py BUILD_DIR [--epochs 10] [--kill-after 5]
      [--train-fraction 1] [--seed 0]
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PARAMS = {"hidden": [48, 24], "batchnorm": True, "optimizer": "adam", "lr": 1e-3,
          "batch_size": 128}
SECONDS = re.compile(r'"seconds":[^,}]*,?')
WRITES = re.compile(r"(\d+) checkpoints written in .*, ([0-9.]+) ms each")


def opt(args, name, default):
    return args[args.index(name) + 1] if name in args else default


def start(worker, env):
    r, w = os.pipe()
    p = subprocess.Popen([worker], env=dict(env, SWEEP_REPORT_FD=str(w)), pass_fds=[w],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    os.close(w)
    return p, os.fdopen(r)


def run(worker, env, kill_after=None):
    """((wall, CPU) seconds, report lines without "seconds", stderr); with
    kill_after, SIGKILL once that epoch's line is read."""
    t0 = time.monotonic()
    p, rep = start(worker, env)
    lines = []
    for line in rep:
        lines.append(SECONDS.sub("", line.rstrip("\n")))
        if kill_after is not None and json.loads(line).get("epoch") == kill_after:
            p.send_signal(signal.SIGKILL)
            break
    rep.close()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    want = -signal.SIGKILL if kill_after is not None else 0
    if p.returncode != want:
        sys.exit("bench_resume: sweep-worker exited %s:\n%s" % (p.returncode, err[-2000:]))
    return (wall, ru.ru_utime + ru.ru_stime), lines, err


def test_acc(lines):
    return json.loads(lines[-1])["test_acc"]


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    worker = os.path.join(args[0], "sweep-worker")
    if not os.access(worker, os.X_OK):
        sys.exit("bench_resume: %s is missing: build %s first" % (worker, args[0]))
    epochs = int(opt(args, "--epochs", "10"))
    k = int(opt(args, "--kill-after", "5"))
    if not 1 <= k < epochs:
        sys.exit("bench_resume: --kill-after must be in [1, --epochs)")
    params = dict(PARAMS, epochs=epochs,
                  train_fraction=float(opt(args, "--train-fraction", "1")))
    root = tempfile.mkdtemp(prefix="bench-resume-")
    try:
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "SWEEP_PARAMS": json.dumps(params), "SWEEP_SEED": opt(args, "--seed", "0"),
                "SWEEP_DATA_CACHE": os.path.join(root, "cache")}
        os.mkdir(base["SWEEP_DATA_CACHE"])
        run(worker, dict(base, SWEEP_PARAMS=json.dumps(dict(params, epochs=1))))
        print("BNNet 784-48-BN-24-BN-10, Adam 1e-3, batch 128, %d epochs, train_fraction %g,"
              " seed %s; load %s" % (epochs, params["train_fraction"], base["SWEEP_SEED"],
                                     open("/proc/loadavg").read().split()[0]))
        plain, ref, _ = run(worker, base)
        d1, d2 = os.path.join(root, "t1"), os.path.join(root, "t2")
        os.mkdir(d1)
        os.mkdir(d2)
        full, lines, err = run(worker, dict(base, SWEEP_TRIAL_DIR=d1))
        m = WRITES.search(err)
        size = os.path.getsize(os.path.join(d1, "checkpoint-%d" % epochs))
        best = os.path.getsize(os.path.join(d1, "best.weights"))
        first, got1, _ = run(worker, dict(base, SWEEP_TRIAL_DIR=d2), kill_after=k)
        resumed, got2, err2 = run(worker, dict(base, SWEEP_TRIAL_DIR=d2, SWEEP_RESUME="1",
                                               SWEEP_RESUME_EPOCH=str(k)))
        if "resuming after epoch %d" % k not in err2:
            sys.exit("bench_resume: the second attempt did not resume:\n" + err2[-2000:])
        same = got1 == ref[:k] and got2 == ref[k:] and lines == ref
        both = (first[0] + resumed[0], first[1] + resumed[1])
        row = "%-30s %7.2f s wall %7.2f s CPU"
        print(row % (("uninterrupted, no trial dir:",) + plain) + "  test_acc %.4f"
              % test_acc(ref))
        print(row % (("uninterrupted, checkpoints:",) + full) + "  test_acc %.4f"
              % test_acc(lines))
        print(row % (("killed after epoch %d:" % k,) + first))
        print(row % (("resumed from epoch %d:" % k,) + resumed) + "  test_acc %.4f"
              % test_acc(got2))
        print(row % (("killed + resumed:",) + both) + "  (CPU %+.2f s, %+.1f%% against "
              "uninterrupted with checkpoints)" % (both[1] - full[1],
                                                   100 * (both[1] - full[1]) / full[1]))
        print("checkpoint: %d bytes, best.weights %d bytes; written in %s ms per epoch "
              "(%s writes, fsyncs included)" % (size, best, m.group(2) if m else "?",
                                               m.group(1) if m else "?"))
        print("curves equal: %s" % ("yes, every line and the final one" if same else "NO"))
        return 0 if same else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
