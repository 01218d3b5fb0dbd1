#!/usr/bin/env python3
"""`best` latency while a large TPE sweep keeps suggesting (issue 19, "No
stalls"). Not a test.

  bench/search/bench_stall.py BUILD_DIR [--obs 10000] [--clients 20]
      [--seconds 20] [--workers 4]

A sweep of the fake trainer (1 epoch, no sleep) enqueues --obs param sets
in its spec (every param fixed, so they cost TPE nothing) and then runs TPE
trials (n_startup 10, ten-knob-like space of 3 numeric params and 3
choices): each of those learns from about --obs observations. Once the
first TPE trial exists, --clients threads send `best` for that sweep back
to back for --seconds, each on a new connection as sweepctl does: median,
p99 and worst latency, and how many TPE trials were created meanwhile. The
load average is printed: the figures mean little on a busy machine.
--algorithm random runs the same trial flood without suggestions: the
latency the rest of the daemon's work (spawning, reports, SQLite commits)
leaves, against which the suggestions' share is read.
--fill db writes the --obs completed trials into the database with sqlite3
while the daemon is stopped (the sweep submitted, paused, stopped, filled,
restarted, resumed) instead of running them: seconds instead of half an
hour on a loaded machine; what is measured afterwards is the same.
--importance adds a client sending `importance` for the sweep back to back
meanwhile (computed on the thread pool over --obs trials).
--client c measures with BUILD/bench/search/bench_best instead of the
Python threads: one C thread keeping --clients connections (with
--reconnect, a new connection per request as the Python clients and
sweepctl do), timed with clock_gettime, so that the figures are the
daemon's and not the GIL's.
"""
import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import request, start_daemon  # noqa: E402


def loadavg():
    with open("/proc/loadavg") as f:
        return "load " + " ".join(f.read().split()[:3])


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def param_sets(n_obs):
    # Short names and 4-digit values: 10,000 sets must fit the 1 MiB
    # request line.
    rnd = random.Random(1)
    return [{"x": round(rnd.random(), 4), "l": round(10 ** rnd.uniform(-4, 0), 8),
             "w": round(rnd.random(), 4), "k": rnd.choice([1, 2, 3, 4]),
             "a": rnd.choice("rte"), "b": rnd.choice([0, 1])} for _ in range(n_obs)]


def make_spec(fake, n_obs, algorithm="tpe", enqueue=True):
    space = {"epochs": 1, "x": {"uniform": [0, 1]}, "l": {"loguniform": [1e-4, 1]},
             "w": {"uniform": [0, 1]}, "k": {"choice": [1, 2, 3, 4]},
             "a": {"choice": ["r", "t", "e"]}, "b": {"choice": [0, 1]}}
    enq = param_sets(n_obs) if enqueue else []
    return {"name": "stall", "trainer": {"command": [fake]},
            "objective": {"metric": "val_acc", "mode": "max"}, "space": space,
            "search": dict({"algorithm": algorithm, "trials": n_obs + 100000,
                            "parallel": 4, "seed": 3},
                           **({"n_startup": 10} if algorithm == "tpe" else {})),
            "enqueue": enq}


def fill_db(state, sid, n_obs):
    """The sweep's trials replaced by n_obs completed ones (daemon stopped)."""
    rnd = random.Random(2)
    con = sqlite3.connect(os.path.join(state, "sweepd.db"))
    with con:
        con.execute("DELETE FROM trials WHERE sweep_id = ?", (sid,))
        t = time.time()
        con.executemany(
            "INSERT INTO trials (sweep_id, number, params_json, seed, status, "
            "attempt, started_at, ended_at, epochs, objective, best_epoch) "
            "VALUES (?, ?, ?, ?, 'completed', 1, ?, ?, 1, ?, 1)",
            [(sid, i + 1, json.dumps(dict(p, epochs=1)), i, t, t, rnd.random())
             for i, p in enumerate(param_sets(n_obs))])
    con.close()


def submit_filled(args, fake, state, live):
    """--fill db: a daemon serving the sweep with --obs completed trials
    (live[0]: the daemon running)."""
    p, sock = start_daemon(args.build, state, workers=args.workers)
    live[0] = p
    r = request(sock, {"op": "submit", "spec": make_spec(fake, args.obs, args.algorithm,
                                                         enqueue=False)})
    if not r.get("ok"):
        raise SystemExit("submit: %s" % r["error"]["message"])
    sid = r["sweep_id"]
    request(sock, {"op": "pause", "sweep": sid})
    p.terminate()
    p.wait()
    fill_db(state, sid, args.obs)
    p, sock = start_daemon(args.build, state, workers=args.workers)
    live[0] = p
    r = request(sock, {"op": "resume", "sweep": sid})
    if not r.get("ok"):
        raise SystemExit("resume: %s" % r["error"]["message"])
    return sock, sid


def submit_enqueued(args, fake, state, live):
    """A daemon that has run the sweep's --obs enqueued trials."""
    p, sock = start_daemon(args.build, state, workers=args.workers)
    live[0] = p
    r = request(sock, {"op": "submit", "spec": make_spec(fake, args.obs, args.algorithm)},
                timeout=600)
    if not r.get("ok"):
        raise SystemExit("submit: %s" % r["error"]["message"])
    sid = r["sweep_id"]
    while True:
        tr = request(sock, {"op": "trials", "sweep": sid, "offset": args.obs,
                            "limit": 1})
        if tr.get("ok") and tr.get("trials"):
            return sock, sid
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--obs", type=int, default=10000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--algorithm", default="tpe",
                    help="random: the same trial flood without suggestions, the floor")
    ap.add_argument("--fill", choices=["run", "db"], default="run",
                    help="db: write the --obs trials with sqlite3 instead of running them")
    ap.add_argument("--importance", action="store_true",
                    help="a client asking for importance back to back meanwhile")
    ap.add_argument("--client", choices=["python", "c"], default="python",
                    help="c: bench_best (one C thread, --clients connections)")
    ap.add_argument("--reconnect", action="store_true",
                    help="with --client c: a new connection per request")
    args = ap.parse_args()
    fake = os.path.join(args.build, "tests", "trainers", "fake_trainer")
    state = tempfile.mkdtemp(prefix="sweepd-stall-")
    print(loadavg(), "at the start")
    live = [None]
    try:
        t0 = time.time()
        sock, sid = (submit_filled if args.fill == "db" else submit_enqueued)(
            args, fake, state, live)
        print("%d trials %s in %.1f s" % (args.obs, "written" if args.fill == "db"
                                          else "enqueued ran", time.time() - t0))
        lat, errors, imp = [], [], []
        stop = time.time() + args.seconds

        def importance():
            while time.time() < stop:
                t = time.perf_counter()
                r = request(sock, {"op": "importance", "sweep": sid}, timeout=600)
                if r.get("ok"):
                    imp.append(time.perf_counter() - t)

        def client():
            while time.time() < stop:
                t = time.perf_counter()
                r = request(sock, {"op": "best", "sweep": sid})
                lat.append(time.perf_counter() - t)
                if not r.get("ok"):
                    errors.append(r)

        def n_tpe():
            r = request(sock, {"op": "trials", "sweep": sid, "offset": args.obs,
                               "limit": 1000000})
            return len(r.get("trials", []))

        cout = []

        def c_client():
            exe = os.path.join(args.build, "bench", "search", "bench_best")
            cmd = [exe, sock, str(sid), "--clients", str(args.clients),
                   "--seconds", str(args.seconds)] + (
                       ["--reconnect"] if args.reconnect else [])
            cout.append(subprocess.run(cmd, capture_output=True, text=True,
                                       check=True).stdout.strip())

        before = n_tpe()
        th = ([threading.Thread(target=c_client)] if args.client == "c" else
              [threading.Thread(target=client) for _ in range(args.clients)])
        if args.importance:
            th.append(threading.Thread(target=importance))
        for t in th:
            t.start()
        for t in th:
            t.join()
        after = n_tpe()
        if cout:
            print(cout[0])
        else:
            print("best: %d requests from %d clients in %.0f s: median %.2f ms, "
                  "p99 %.2f ms, max %.2f ms; errors %d" % (
                      len(lat), args.clients, args.seconds, 1e3 * pct(lat, 0.5),
                      1e3 * pct(lat, 0.99), 1e3 * max(lat), len(errors)))
        print("%s trials created meanwhile: %d (%.1f/s), each over ~%d observations"
              % ("TPE" if args.algorithm == "tpe" else args.algorithm,
                 after - before, (after - before) / args.seconds, args.obs))
        if args.importance:
            print("importance meanwhile: %d answers, median %.0f ms" % (
                len(imp), 1e3 * pct(imp, 0.5)))
    finally:
        if live[0]:
            live[0].terminate()
            live[0].wait()
        shutil.rmtree(state, ignore_errors=True)
    print(loadavg(), "at the end")


if __name__ == "__main__":
    main()
