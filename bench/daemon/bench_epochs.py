#!/usr/bin/env python3
"""Export benchmark for sweepd (issue 11, item 7). Not a test.

  bench/daemon/bench_epochs.py BUILD_DIR [--trials 10000] [--epochs 100]

Builds a sweep of --trials completed trials of --epochs epoch rows each
(one real trial run by the daemon, the rest written into its database with
the same shape while it is stopped), restarts the daemon on it, then reads
every epoch row with the `epochs` op: page after page while the replies
carry "next", else the one reply. Meanwhile a second thread pings every
10 ms, each ping on its own connection, from its own process: its worst
latency is how long the
loop was held. Printed: rows, bytes, requests, the slowest request, the
worst ping, and the daemon's RSS before and its peak (VmHWM) after.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import multiprocessing
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import fake_sweep, proc_mb, request, start_daemon  # noqa: E402


class Conn:
    """One connection; reads replies of any size without rescanning."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = bytearray()

    def call(self, req):
        self.s.sendall((json.dumps(req) + "\n").encode())
        parts, n = [], 0
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line = bytes(self.buf[:nl])
                del self.buf[:nl + 1]
                parts.append(line)
                data = b"".join(parts)
                return json.loads(data), n + len(line)
            parts.append(bytes(self.buf))
            n += len(self.buf)
            self.buf = bytearray(self.s.recv(1 << 20))
            if not self.buf:
                raise ConnectionError("closed")


def fill(db, trials, epochs):
    c = sqlite3.connect(db)
    sid, = c.execute("SELECT id FROM sweeps").fetchone()
    t1, params, seed = c.execute("SELECT id, params_json, seed FROM trials "
                                 "WHERE number = 1").fetchone()
    metrics = c.execute("SELECT metrics_json FROM epochs LIMIT 1").fetchone()[0]
    c.execute("DELETE FROM epochs")
    for n in range(2, trials + 1):
        c.execute("INSERT INTO trials (sweep_id, number, params_json, seed, "
                  "status, attempt, epochs, objective, best_epoch) VALUES "
                  "(?, ?, ?, ?, 'completed', 1, ?, 0.8, ?)",
                  (sid, n, params, seed + n, epochs, epochs))
    c.execute("UPDATE trials SET epochs = ? WHERE id = ?", (epochs, t1))
    ids = [r[0] for r in c.execute("SELECT id FROM trials ORDER BY number")]
    c.executemany("INSERT INTO epochs (trial_id, attempt, epoch, objective, "
                  "metrics_json) VALUES (?, 1, ?, 0.8, ?)",
                  ((i, e, metrics) for i in ids for e in range(1, epochs + 1)))
    c.execute("UPDATE sweeps SET trials_total = ?", (trials,))
    c.commit()
    c.close()
    return sid


def pinger(sock, stop, worst):
    """In its own process, so that the reader's JSON parsing (and the GIL)
    does not count in the pings' latency."""
    while not stop.is_set():
        t0 = time.perf_counter()
        request(sock, {"op": "ping"})
        worst.value = max(worst.value, time.perf_counter() - t0)
        time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--trials", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=100)
    a = ap.parse_args()
    state = tempfile.mkdtemp(prefix="sweepd-epochs-")
    proc, sock = start_daemon(a.build, state)
    try:
        spec = fake_sweep(a.build, "big", 1)
        sid = request(sock, {"op": "submit", "spec": spec})["sweep_id"]
        while request(sock, {"op": "sweep", "sweep": sid})["sweep"]["status"] \
                == "running":
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        fill(os.path.join(state, "sweepd.db"), a.trials, a.epochs)
        proc, sock = start_daemon(a.build, state)
        base = proc_mb(proc.pid, "VmRSS")
        stop = multiprocessing.Event()
        worst = multiprocessing.Value("d", 0.0)
        th = multiprocessing.Process(target=pinger, args=(sock, stop, worst))
        th.start()
        c = Conn(sock)
        rows = nbytes = reqs = 0
        slowest = 0.0
        after = None
        t0 = time.time()
        while True:
            req = {"op": "epochs", "sweep": sid}
            if after:
                req["after"] = after
            s0 = time.perf_counter()
            r, n = c.call(req)
            slowest = max(slowest, time.perf_counter() - s0)
            assert r["ok"], r
            rows += len(r["epochs"])
            nbytes += n
            reqs += 1
            after = r.get("next")
            if not after:
                break
        took = time.time() - t0
        stop.set()
        th.join()
        assert rows == a.trials * a.epochs, rows
        print("%d rows (%d trials x %d epochs), %.1f MB in %d request(s), "
              "%.1f s" % (rows, a.trials, a.epochs, nbytes / 1e6, reqs, took))
        print("slowest request %.0f ms; worst ping meanwhile %.0f ms" %
              (1000 * slowest, 1000 * worst.value))
        print("RSS %.0f MiB before, peak %.0f MiB" %
              (base, proc_mb(proc.pid, "VmHWM")))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
