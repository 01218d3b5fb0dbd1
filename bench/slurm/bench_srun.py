#!/usr/bin/env python3
"""bench_srun.py: what a trial pays for running through Slurm, and whether
its report lines come back through srun as they are written.

    SLURM_CONF=/tmp/sweepd-slurm/slurm.conf bench/slurm/bench_srun.py [--runs N]

Needs a cluster that answers (scripts/slurm-cluster.sh start). Prints, with
`cat /proc/loadavg` before each figure:
  - srun true: wall time of one srun, median and range of N (default 20);
  - sbatch: time from calling sbatch to the job's first command, median of
    5 (or N when smaller);
  - streaming: an emitter printing `SWEEP {...}` lines every 0.3 s (one
    write(2) per line, as the built-in trainer does), with and without
    --unbuffered: per line, arrival at the reader of srun's stdout minus
    emission (median, max); and a line written in two halves 0.3 s apart;
  - a 100 KiB line between two short ones: do all three arrive whole;
  - a flood of 100,000 lines: all of them, in order, and how long.
Figures, not tests: see bench/slurm/README.md for runs and conclusions.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

EMIT = r'''
import json, os, sys, time
mode, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout.fileno()
def w(s):
    b = s.encode()
    while b:
        b = b[os.write(out, b):]
if mode == "tick":
    for i in range(1, n + 1):
        w("SWEEP " + json.dumps({"epoch": i, "t": time.time()}) + "\n")
        time.sleep(0.3)
elif mode == "halves":
    for i in range(1, n + 1):
        w("SWEEP {\"epoch\": %d, " % i)
        time.sleep(0.3)
        w("\"t\": %r}\n" % time.time())
        time.sleep(0.1)
elif mode == "huge":
    w("SWEEP {\"epoch\": 1}\n")
    w("SWEEP {\"epoch\": 2, \"pad\": \"" + "x" * (100 * 1024) + "\"}\n")
    w("SWEEP {\"epoch\": 3}\n")
elif mode == "flood":
    buf = []
    for i in range(1, n + 1):
        buf.append("SWEEP {\"epoch\": %d}\n" % i)
        if len(buf) == 1000:
            w("".join(buf))
            buf = []
    w("".join(buf))
'''


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().strip()


def say(what, cmd, result):
    print(f"## {what}\n  command: {cmd}\n  loadavg: {loadavg()}\n  {result}", flush=True)


def srun_true(runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(["srun", "true"], check=True)
        times.append(time.perf_counter() - t0)
    say("srun true", "srun true", f"median {statistics.median(times) * 1000:.0f} ms, "
        f"min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f} (n={runs})")


def sbatch_lag(runs):
    lags = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(runs):
            f = os.path.join(d, f"start{i}")
            t0 = time.time()
            subprocess.run(["sbatch", "--quiet", "--output=/dev/null",
                            f"--wrap=date +%s.%N > {f}.tmp && mv {f}.tmp {f}"], check=True)
            while not os.path.exists(f):
                time.sleep(0.01)
                if time.time() - t0 > 60:
                    sys.exit("bench_srun: an sbatch job did not start in 60 s")
            with open(f) as fh:
                lags.append(float(fh.read()) - t0)
    say("sbatch start lag", "sbatch --output=/dev/null --wrap='date +%s.%N > F'",
        f"median {statistics.median(lags):.2f} s, min {min(lags):.2f}, "
        f"max {max(lags):.2f} (n={runs})")


def run_emitter(mode, n, unbuffered):
    """(lines with their arrival time, seconds) of the emitter through srun."""
    cmd = ["srun"] + (["--unbuffered"] if unbuffered else []) + \
        ["--input=none", "python3", "-c", EMIT, mode, str(n)]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, bufsize=0)
    lines, part, first = [], b"", None
    while True:
        chunk = p.stdout.read(65536)
        if not chunk:
            break
        now = time.time()
        first = first or now
        part += chunk
        *whole, part = part.split(b"\n")
        lines.extend((ln, now, first) for ln in whole)
        if whole:
            first = now if part else None
    rc = p.wait()
    if rc != 0 or part:
        sys.exit(f"bench_srun: {' '.join(cmd[:3])} {mode}: exit {rc}, "
                 f"{len(part)} bytes after the last newline")
    return lines, time.time() - t0, " ".join(cmd[:-3]) + f" EMIT {mode} {n}"


def delays(lines):
    import json
    return [now - json.loads(ln[len(b"SWEEP "):])["t"] for ln, now, _ in lines]


def streaming():
    for mode in ("tick", "halves"):
        for unbuf in (False, True):
            lines, _, cmd = run_emitter(mode, 10, unbuf)
            d = delays(lines)
            early = [now - first for _, now, first in lines]
            say(f"{mode}, {'--unbuffered' if unbuf else 'default'}", cmd,
                f"{len(lines)} lines; arrival of the newline - emission: median "
                f"{statistics.median(d) * 1000:.1f} ms, max {max(d) * 1000:.1f} ms; "
                f"first byte of a line ahead of its newline: median "
                f"{statistics.median(early) * 1000:.0f} ms")


def huge():
    for unbuf in (False, True):
        lines, _, cmd = run_emitter("huge", 1, unbuf)
        sizes = [len(ln) for ln, _, _ in lines]
        say(f"100 KiB line, {'--unbuffered' if unbuf else 'default'}", cmd,
            f"{len(lines)} lines of {sizes} bytes")


def flood():
    n = 100000
    for unbuf in (False, True):
        lines, secs, cmd = run_emitter("flood", n, unbuf)
        ok = [ln for ln, _, _ in lines] == [b"SWEEP {\"epoch\": %d}" % i
                                          for i in range(1, n + 1)]
        say(f"flood, {'--unbuffered' if unbuf else 'default'}", cmd,
            f"{len(lines)} lines in {secs:.2f} s, {'all, in order' if ok else 'NOT all in order'}")


def main():
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 20
    if subprocess.run(["sinfo"], capture_output=True).returncode != 0:
        sys.exit("bench_srun: sinfo does not answer: start a cluster "
                 "(scripts/slurm-cluster.sh start) and set SLURM_CONF")
    srun_true(runs)
    sbatch_lag(min(5, runs))
    streaming()
    huge()
    flood()


if __name__ == "__main__":
    main()
