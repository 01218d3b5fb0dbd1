#!/usr/bin/env python3
"""bench_launcher.py: what the Slurm launcher costs a sweep against the
local one, measured through a real sweepd. Not a test.

    SLURM_CONF=/tmp/sweepd-slurm/slurm.conf bench/slurm/bench_launcher.py BUILD_DIR
        [--trials 40] [--latency-runs 10] [--free-runs 3] [--builtin-lrs 4]
        [--builtin-epochs 3]

Needs a cluster that answers (scripts/slurm-cluster.sh start) and a build
with the slurm launcher. One daemon runs both launchers (each spec says
its own `launcher`), on a state dir of its own, with --slurm-local when
this sweepd has it (the test cluster's only node is this machine, and the
state dir is under /tmp). Prints, each with its command and `cat
/proc/loadavg` before it:
  1. per launcher, a sweep of --trials trivial trials
     (tests/trainers/fake_trainer, 1 epoch, no sleep), search.parallel 2:
     trials/s from submit to sweep_ended, and the median time from a
     trial's trial_started event to its first epoch event;
  2. per launcher, --latency-runs sweeps of one such trial: the median
     time from submit to the trial's first epoch event;
  3. Slurm only: the time from a cancel, and from a prune (median pruner,
     a bad trial after a good one), to the trial's job being gone from
     squeue's running states (the allocation free), --free-runs each;
  4. the built-in trainer, a grid of --builtin-lrs learning rates,
     parallel 2, through each launcher: wall time, and whether both give
     the same val_acc for each lr and the same best.
See bench/slurm/README.md for runs and conclusions.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import request, start_daemon  # noqa: E402

LIMIT = 600       # s: a sweep that takes longer fails the bench
ALIVE = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED",
         "RESIZING", "SIGNALING", "STAGE_OUT")


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().strip()


def say(what, cmd):
    print("## %s\n  command: %s\n  loadavg: %s" % (what, cmd, loadavg()), flush=True)


def ms(v):
    return "%.0f ms" % (v * 1000)


class Watch:
    """Submits a spec and watches its sweep on one connection: the watch
    request follows the submit in the same write, for the id the submit is
    to get (ids are sequential in a fresh state dir), so the daemon has
    subscribed it before the loop starts any trial and no event is missed.
    The events come with their arrival time."""
    next_id = 1

    def __init__(self, sock, spec):
        sid = Watch.next_id
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(LIMIT)
        self.s.connect(sock)
        self.t0 = time.perf_counter()
        self.s.sendall((json.dumps({"op": "submit", "spec": spec}) + "\n" +
                        json.dumps({"op": "watch", "sweep": sid}) + "\n").encode())
        self.buf = b""
        rep = json.loads(self.line())
        if not rep.get("ok") or rep.get("sweep_id") != sid:
            raise SystemExit("submit: want sweep %d, got %s" % (sid, json.dumps(rep)))
        rep = json.loads(self.line())
        if not rep.get("ok"):
            raise SystemExit("watch refused: %s" % json.dumps(rep))
        Watch.next_id = sid + 1
        self.sid = sid

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise SystemExit("the daemon closed the connection before sweep_ended")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def events(self):
        """Yields (arrival, event) until sweep_ended (included)."""
        while True:
            ev = json.loads(self.line())
            yield time.perf_counter(), ev
            if ev.get("event") == "sweep_ended":
                return

    def close(self):
        self.s.close()


def fake_spec(build, name, launcher, trials, parallel, params):
    fake = os.path.join(build, "tests", "trainers", "fake_trainer")
    space = {"epochs": 1}
    space.update(params)
    return {"name": name, "trainer": {"command": [fake]},
            "objective": {"metric": "val_acc", "mode": "max"}, "space": space,
            "search": {"algorithm": "random", "trials": trials, "parallel": parallel,
                       "seed": 1},
            "launcher": launcher}


def run_watched(sock, spec):
    """Submits spec and watches it to its end: (sweep id, submit time,
    events with arrival, final sweep summary)."""
    w = Watch(sock, spec)
    try:
        evs = list(w.events())
    finally:
        w.close()
    s = request(sock, {"op": "sweep", "sweep": w.sid})["sweep"]
    return w.sid, w.t0, evs, s


def per_trial_start(evs):
    """Seconds from each trial's trial_started to its first epoch event."""
    started, first = {}, {}
    for t, ev in evs:
        n = ev.get("number")
        if ev.get("event") == "trial_started":
            started.setdefault(n, t)
        elif ev.get("event") == "epoch" and n not in first:
            first[n] = t
    return [first[n] - started[n] for n in first if n in started]


def throughput(sock, build, launchers, trials):
    for name, launcher in launchers:
        spec = fake_spec(build, "bench-tp-" + name, launcher, trials, 2, {})
        say("%s: %d trivial trials, parallel 2" % (name, trials),
            "submit fake_trainer epochs=1 trials=%d parallel=2 launcher=%s"
            % (trials, json.dumps(launcher)))
        sid, t0, evs, s = run_watched(sock, spec)
        wall = evs[-1][0] - t0
        done = s.get("counts", {}).get("completed", s.get("completed"))
        starts = per_trial_start(evs)
        print("  %s: %d trials in %.2f s, %.2f trials/s, %s completed; started -> first "
              "line: median %s, max %s" % (name, trials, wall, trials / wall, done,
                                          ms(statistics.median(starts)), ms(max(starts))),
              flush=True)


def latency(sock, build, launchers, runs):
    for name, launcher in launchers:
        say("%s: submit -> first line of a one-trial sweep (n=%d)" % (name, runs),
            "submit fake_trainer epochs=1 trials=1 launcher=%s" % json.dumps(launcher))
        lat = []
        for i in range(runs):
            spec = fake_spec(build, "bench-lat-%s-%d" % (name, i), launcher, 1, 1, {})
            sid, t0, evs, s = run_watched(sock, spec)
            first = [t for t, ev in evs if ev.get("event") == "epoch"]
            if not first:
                raise SystemExit("sweep %d (%s) reported no epoch: %s" % (sid, name, s))
            lat.append(first[0] - t0)
        print("  %s: median %s, min %s, max %s (n=%d)" % (
            name, ms(statistics.median(lat)), ms(min(lat)), ms(max(lat)), runs), flush=True)


def alive_jobs(sid):
    """Job ids of sweep sid still holding an allocation (or queued)."""
    p = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%i|%T|%j"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise SystemExit("squeue failed: %s" % p.stderr.strip())
    out = []
    for line in p.stdout.splitlines():
        jid, state, name = line.split("|", 2)
        if name.startswith("sweepd-%d-" % sid) and state in ALIVE:
            out.append(jid)
    return out


def until_free(sid, t0):
    """Polls squeue every 20 ms until sweep sid has no live job; seconds
    from t0."""
    while alive_jobs(sid):
        if time.perf_counter() - t0 > LIMIT:
            raise SystemExit("sweep %d's jobs still alive after %d s" % (sid, LIMIT))
        time.sleep(0.02)
    return time.perf_counter() - t0


def free_after_cancel(sock, build, slurm, runs):
    say("slurm: cancel -> allocation free (n=%d)" % runs,
        "a 1000-epoch trial (sleep_ms 100) running; {\"op\":\"cancel\"}; squeue every 20 ms")
    out = []
    for i in range(runs):
        spec = fake_spec(build, "bench-cancel-%d" % i, slurm, 1, 1,
                         {"epochs": 1000, "sleep_ms": 100})
        w = Watch(sock, spec)
        sid = w.sid
        try:
            for t, ev in w.events():
                if ev.get("event") == "epoch":
                    break
            t0 = time.perf_counter()
            rep = request(sock, {"op": "cancel", "sweep": sid})
            if not rep.get("ok"):
                raise SystemExit("cancel refused: %s" % json.dumps(rep))
            out.append(until_free(sid, t0))
            for t, ev in w.events():
                pass
        finally:
            w.close()
    print("  cancel -> squeue shows no live job: median %s, min %s, max %s (n=%d)" % (
        ms(statistics.median(out)), ms(min(out)), ms(max(out)), runs), flush=True)


def free_after_prune(sock, build, slurm, runs):
    say("slurm: prune -> allocation free (n=%d)" % runs,
        "median pruner (min_trials 1), trial 1 x=0.3 3 epochs, then trial 2 x=1.0 "
        "1000 epochs (sleep_ms 100): from trial 2's trial_ended (pruned) to squeue "
        "every 20 ms")
    out = []
    for i in range(runs):
        spec = fake_spec(build, "bench-prune-%d" % i, slurm, 2, 1,
                         {"x": {"uniform": [0, 1]}, "epochs": {"choice": [3, 1000]},
                          "sleep_ms": {"choice": [0, 100]}})
        spec["enqueue"] = [{"x": 0.3, "epochs": 3, "sleep_ms": 0},
                           {"x": 1.0, "epochs": 1000, "sleep_ms": 100}]
        spec["pruner"] = {"algorithm": "median", "min_trials": 1}
        w = Watch(sock, spec)
        sid = w.sid
        t0 = None
        try:
            for t, ev in w.events():
                if ev.get("event") == "trial_ended" and ev.get("number") == 2:
                    if ev.get("status") != "pruned":
                        raise SystemExit("trial 2 of sweep %d ended %s, not pruned: %s"
                                         % (sid, ev.get("status"), json.dumps(ev)))
                    t0 = t
                    out.append(until_free(sid, t0))
        finally:
            w.close()
        if t0 is None:
            raise SystemExit("sweep %d: trial 2 never ended" % sid)
    print("  pruned -> squeue shows no live job: median %s, min %s, max %s (n=%d)" % (
        ms(statistics.median(out)), ms(min(out)), ms(max(out)), runs), flush=True)


def builtin_spec(name, launcher, lrs, epochs):
    grid = [0.3 / (3 ** i) for i in range(lrs)]
    return {"name": name,
            "trainer": {"builtin": "mlp", "dataset": "synthetic", "synthetic_size": 4000,
                        "val_size": 500, "synthetic_test_size": 500, "hidden": [16]},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"epochs": epochs, "lr": {"choice": grid}},
            "search": {"algorithm": "grid", "trials": lrs, "parallel": 2, "seed": 3},
            "launcher": launcher}


def builtin(sock, launchers, lrs, epochs):
    res = {}
    for name, launcher in launchers:
        say("%s: built-in trainer, grid of %d lrs, %d epochs, parallel 2" %
            (name, lrs, epochs), "submit builtin mlp synthetic 4000, launcher=%s" %
            json.dumps(launcher))
        sid, t0, evs, s = run_watched(sock, builtin_spec("bench-builtin-" + name, launcher,
                                                         lrs, epochs))
        wall = evs[-1][0] - t0
        trials = request(sock, {"op": "trials", "sweep": sid})["trials"]
        got = {json.dumps(t["params"], sort_keys=True): t.get("objective") for t in trials}
        best = request(sock, {"op": "best", "sweep": sid})
        b = best.get("trial") or best.get("best") or {}
        res[name] = (got, json.dumps(b.get("params"), sort_keys=True), b.get("objective"))
        print("  %s: %s in %.2f s; best %s val_acc %s" % (name, s["status"], wall,
                                                          res[name][1], res[name][2]),
              flush=True)
    (ga, ba, oa), (gb, bb, ob) = res[launchers[0][0]], res[launchers[1][0]]
    print("  same val_acc for every lr: %s; same best params: %s; same best val_acc: %s" % (
        "yes" if ga == gb else "NO (%s vs %s)" % (ga, gb), "yes" if ba == bb else "NO",
        "yes" if oa == ob else "NO"), flush=True)


def has_flag(build, flag):
    exe = os.path.join(build, "sweepd")
    if not os.path.exists(exe):
        exe = os.path.join(build, "daemon", "sweepd")
    p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30)
    return flag in p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--latency-runs", type=int, default=10)
    ap.add_argument("--free-runs", type=int, default=3)
    ap.add_argument("--builtin-lrs", type=int, default=4)
    ap.add_argument("--builtin-epochs", type=int, default=3)
    a = ap.parse_args()
    if not shutil.which("squeue"):
        raise SystemExit("no squeue on PATH: start a cluster (scripts/slurm-cluster.sh)")
    extra = ["--slurm-local"] if has_flag(a.build, "--slurm-local") else []
    state = tempfile.mkdtemp(prefix="bench-launcher-")
    p, sock = start_daemon(a.build, state, workers=2, extra=extra)
    slurm = {"slurm": {"time": "00:30:00"}}
    launchers = [("local", "local"), ("slurm", slurm)]
    try:
        print("sweepd %s, SLURM_CONF=%s, %s" % (
            " ".join(["--workers", "2"] + extra), os.environ.get("SLURM_CONF", "(unset)"),
            subprocess.run(["srun", "--version"], capture_output=True,
                           text=True).stdout.strip()), flush=True)
        throughput(sock, a.build, launchers, a.trials)
        latency(sock, a.build, launchers, a.latency_runs)
        free_after_cancel(sock, a.build, slurm, a.free_runs)
        free_after_prune(sock, a.build, slurm, a.free_runs)
        builtin(sock, launchers, a.builtin_lrs, a.builtin_epochs)
    finally:
        try:
            request(sock, {"op": "shutdown"}, timeout=30)
            p.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            p.kill()
            p.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
