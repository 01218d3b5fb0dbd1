#!/usr/bin/env python3
"""hostile_trainer.py: a trainer that misbehaves the same way under every
launcher, for tests/integration/test_slurm_hostile.py. It reports on fd
$SWEEP_REPORT_FD when set (the local launcher), else on stdout as
"SWEEP {...}" lines (srun, where fd 3 does not cross), one write(2) per
line, and does what SWEEP_PARAMS' "mode" says:

  ok           `epochs` epochs (default 3), then the final line
  flood        before each epoch, `flood_mb` MiB (default 8) of 100-byte
               lines on stdout and as many on stderr, and one line of
               200 KiB on each, none of them reports
  huge         epoch 2's line is a 100 KiB SWEEP line (a "pad" string)
  orphan       first, a grandchild in a session of its own (double fork,
               setsid) that keeps stdin, stdout, stderr and the report fd
               open and sleeps; then the epochs and exit 0
  ignore_term  SIGTERM caught and ignored (each one appends "TERM" to
               `termfile`); an epoch every 0.2 s, `epochs` of them
  liar         epoch numbers 1, 2, 3, 2, 5: going back at the fourth line

`pidfile` (string): the trainer (ignore_term) or its grandchild (orphan)
writes its pid there, through a temporary file and a rename.
The objective val_acc is 0.5 + 0.1 * x (param x, default 0.5) at every
epoch, so a run gives the same values under every launcher.
"""
import json
import os
import signal
import sys
import time

P = json.loads(os.environ.get("SWEEP_PARAMS", "{}"))
FD = os.environ.get("SWEEP_REPORT_FD")


def write_all(fd, b):
    while b:
        b = b[os.write(fd, b):]


def report(obj):
    line = json.dumps(obj, separators=(",", ":"))
    if FD:
        write_all(int(FD), (line + "\n").encode())
    else:
        write_all(1, ("SWEEP " + line + "\n").encode())


def pidfile(pid):
    path = P.get("pidfile")
    if path:
        with open(path + ".tmp", "w") as f:
            f.write("%d\n" % pid)
        os.rename(path + ".tmp", path)


def flood():
    mb = int(P.get("flood_mb", 8))
    chunk = ("x" * 99 + "\n").encode() * 10486      # about 1 MiB of lines
    for _ in range(mb):
        write_all(1, chunk)
        write_all(2, chunk)
    long_line = b"y" * (200 * 1024) + b"\n"
    write_all(1, long_line)
    write_all(2, long_line)


def orphan():
    if os.fork() == 0:
        if os.fork() == 0:
            os.setsid()
            pidfile(os.getpid())
            time.sleep(600)
        os._exit(0)
    os.wait()


def on_term(sig, frame):
    path = P.get("termfile")
    if path:
        with open(path, "a") as f:
            f.write("TERM\n")


def main():
    mode = P.get("mode", "ok")
    x = float(P.get("x", 0.5))
    acc = 0.5 + 0.1 * x
    epochs = [1, 2, 3, 2, 5] if mode == "liar" else list(range(1, int(P.get("epochs", 3)) + 1))
    if mode == "orphan":
        orphan()
    if mode == "ignore_term":
        signal.signal(signal.SIGTERM, on_term)
        pidfile(os.getpid())
    for i, e in enumerate(epochs):
        if mode == "flood":
            flood()
        if mode == "ignore_term":
            time.sleep(0.2)
        line = {"epoch": e, "val_acc": acc, "val_loss": 1.0 - acc}
        if mode == "huge" and i == 1:
            line["pad"] = "p" * (100 * 1024)
        report(line)
    report({"final": True, "best_epoch": epochs[-1], "test_acc": acc})
    return 0


if __name__ == "__main__":
    sys.exit(main())
