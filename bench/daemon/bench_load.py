#!/usr/bin/env python3
"""Load benchmark for sweepd (issue 6's figures). Not a test.

  bench/daemon/bench_load.py BUILD_DIR [--clients 200] [--requests 50000]
      [--burst 200]

One daemon (--workers 2). A finished sweep of 50 trials is what `best`,
`trials` and `status` (op `sweep`) read; a second sweep keeps trials running
throughout (fake trainer, 5 epochs of 100 ms, parallel 2) and is what
`watch` subscribes to. Then:

1. Burst: --burst connections opened at the same moment (non-blocking
   connect() in a tight loop): how many are refused (EAGAIN: the listen
   backlog was full) and how many get no reply.
2. Load: --clients threads send --requests requests in all, each on its own
   connection as sweepctl does: 30% best, 30% trials, 30% status, 10% watch
   (the subscription reads its events for 0.2 s, waiting up to 5 s for the
   first, so the daemon pushes epoch events to dozens of watchers while the
   rest is served). Counted: errors (a reply with ok false, or a watch that
   saw no event line in 5 s), dropped
   connections (refused, reset, closed before the reply, timed out), and
   the median and p99 latency of each op, from connect() to the reply line.

Stdlib only: blocking sockets in threads (the GIL adds to the latencies
measured here; they are upper bounds for the daemon).
"""
import argparse
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import read_line, start_daemon  # noqa: E402
from benchlib import request as bench_request  # noqa: E402


def request(sock_path, req):
    """A control request: 30 s before it counts as hung."""
    return bench_request(sock_path, req, timeout=30)


def spec(fake, trials, epochs, sleep_ms):
    return {"name": "load", "trainer": {"command": [fake]},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"epochs": epochs, "sleep_ms": sleep_ms,
                      "x": {"uniform": [0, 1]}},
            "search": {"algorithm": "random", "trials": trials, "parallel": 2,
                       "seed": 1}}


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def burst(sock, n):
    """n connections opened at once: non-blocking connect() calls in a
    tight loop (a thread per client would let the daemon accept between
    them), then a ping on each."""
    res = {"refused": 0, "noreply": 0, "ok": 0}
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(sock)
            socks.append(s)
        except OSError:   # EAGAIN: the listen backlog is full
            res["refused"] += 1
            s.close()
    for s in socks:
        try:
            s.setblocking(True)
            s.settimeout(30)
            s.sendall(b'{"op":"ping"}\n')
        except OSError:
            pass
    for s in socks:
        try:
            ok = json.loads(read_line(s)[0]).get("ok")
            res["ok" if ok else "noreply"] += 1
        except (OSError, ValueError):
            res["noreply"] += 1
        finally:
            s.close()
    return res


def load(sock, done_sid, live_sid, clients, total):
    lat = {"best": [], "trials": [], "status": [], "watch": []}
    errors, drops = [], []
    events = [0]
    lock = threading.Lock()
    per = total // clients
    ops = ["best"] * 3 + ["trials"] * 3 + ["status"] * 3 + ["watch"]

    def client(k):
        rng = random.Random(k)
        for _ in range(per):
            op = rng.choice(ops)
            req = {"op": "sweep" if op == "status" else op,
                   "sweep": live_sid if op == "watch" else done_sid}
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            t0 = time.perf_counter()
            try:
                s.connect(sock)
                s.sendall((json.dumps(req) + "\n").encode())
                line, rest = read_line(s)
                dt = time.perf_counter() - t0
                r = json.loads(line)
                n_ev = 0
                if op == "watch" and r.get("ok"):
                    # read the pushed events for 0.2 s, or up to 5 s
                    # until the first one comes
                    t_w = time.time()
                    buf = rest
                    while True:
                        n_ev = buf.count(b"\n")
                        left = (t_w + (0.2 if n_ev else 5.0)) - time.time()
                        if left <= 0:
                            break
                        s.settimeout(left)
                        try:
                            chunk = s.recv(1 << 16)
                        except socket.timeout:
                            break
                        if not chunk:
                            break
                        buf += chunk
                with lock:
                    lat[op].append(dt)
                    events[0] += n_ev
                    if not r.get("ok"):
                        errors.append((op, r))
                    elif op == "watch" and n_ev == 0:
                        errors.append((op, "no event in 5 s"))
            except (OSError, ValueError) as e:
                with lock:
                    drops.append((op, repr(e)))
            finally:
                s.close()

    th = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.time()
    for t in th:
        t.start()
    for t in th:
        t.join()
    return lat, errors, drops, events[0], time.time() - t0, per * clients


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--requests", type=int, default=50000)
    ap.add_argument("--burst", type=int, default=200)
    args = ap.parse_args()
    fake = os.path.join(args.build, "tests", "trainers", "fake_trainer")
    state = tempfile.mkdtemp(prefix="sweepd-load-")
    p, sock = start_daemon(args.build, state, log="load.log")
    try:
        done = request(sock, {"op": "submit", "spec": spec(fake, 50, 5, 0)})["sweep_id"]
        while request(sock, {"op": "sweep", "sweep": done})["sweep"]["status"] == "running":
            time.sleep(0.1)
        live = request(sock, {"op": "submit",
                              "spec": spec(fake, 100000, 5, 100)})["sweep_id"]
        time.sleep(1)
        b = burst(sock, args.burst)
        print("burst: %d clients connecting at once: %d answered, %d refused "
              "(backlog full), %d without a reply" % (args.burst, b["ok"],
                                                     b["refused"], b["noreply"]))
        lat, errors, drops, n_ev, wall, n = load(sock, done, live, args.clients,
                                                 args.requests)
        st = request(sock, {"op": "stats"})
        live_s = request(sock, {"op": "sweep", "sweep": live})["sweep"]
        print("load: %d requests from %d clients in %.1f s (%.0f req/s); "
              "%d trials ran meanwhile; watchers read %d event lines"
              % (n, args.clients, wall, n / wall,
                 live_s["counts"]["completed"], n_ev))
        print("errors: %d, dropped connections: %d" % (len(errors), len(drops)))
        for e in (errors + drops)[:5]:
            print("  e.g.", e)
        for op in ("best", "trials", "status", "watch"):
            v = lat[op]
            print("  %-6s %6d requests: median %6.2f ms, p99 %6.2f ms, max %6.1f ms"
                  % (op, len(v), 1e3 * pct(v, 0.5), 1e3 * pct(v, 0.99),
                     1e3 * max(v) if v else float("nan")))
        print("daemon after: rss %d kB, open fds %d, clients %d" %
              (st["rss_kb"], st["open_fds"], st["clients"]))
        request(sock, {"op": "cancel", "sweep": live})
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
