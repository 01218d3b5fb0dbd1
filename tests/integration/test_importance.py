#!/usr/bin/env python3
"""The `importance` op runs on the thread pool (daemon/serve/ops_imp.h):
other clients are answered while a 10,000-trial sweep's importance is
computed, and a client that goes, a sweep deleted or a daemon that stops
meanwhile costs neither a crash nor a leak (the suite's second pass runs
this under ASan/UBSan, whose leak check fails the daemon's exit status).

The 10,000 trials are written into the database with sqlite3 while the
daemon is stopped (running them would take minutes): copies of a real
completed trial with other params, objectives and verdicts."""
import json
import os
import random
import select
import socket
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, read_line, run_tests  # noqa: E402

N = 10000
VERDICTS = ["not_converged", "overfitting", "good_fit", "diverged"]


def big_sweep():
    """A stopped daemon's state dir holding an ended sweep of N + 4
    completed trials, and the sweep's id."""
    d = Daemon(workers=2).start()
    try:
        sid = d.submit(fake_spec(trials=4, parallel=2, params={
            "x": {"uniform": [0, 1]}, "lr": {"loguniform": [1e-4, 1]},
            "z": {"uniform": [0, 1]}, "w": {"uniform": [0, 1]},
            "k": {"choice": [1, 2, 3]}, "a": {"choice": ["r", "t", "e"]}}))
        assert d.wait_sweep(sid)["status"] == "completed"
    finally:
        assert d.stop() == 0
    con = sqlite3.connect(os.path.join(d.dir, "sweepd.db"))
    con.row_factory = sqlite3.Row
    with con:
        row = dict(con.execute("SELECT * FROM trials WHERE sweep_id = ? AND "
                               "number = 1", (sid,)).fetchone())
        diag = json.loads(row["diagnosis_json"])
        rnd = random.Random(5)
        rows = []
        for i in range(N):
            p = {"epochs": 3, "x": rnd.random(), "lr": 10 ** rnd.uniform(-4, 0),
                 "z": rnd.random(), "w": rnd.random(), "k": rnd.choice([1, 2, 3]),
                 "a": rnd.choice("rte")}
            diag["verdict"] = VERDICTS[(i * 7 + p["k"]) % len(VERDICTS)]
            r = dict(row, id=None, number=5 + i, params_json=json.dumps(p),
                     objective=0.9 - (p["x"] - 0.3) ** 2 + 0.01 * rnd.random(),
                     diagnosis_json=json.dumps(diag))
            rows.append(r)
        cols = [c for c in row if c != "id"]
        con.executemany("INSERT INTO trials (%s) VALUES (%s)" % (
            ", ".join(cols), ", ".join(":" + c for c in cols)), rows)
        con.execute("UPDATE sweeps SET trials_total = ? WHERE id = ?",
                    (N + 4, sid))
    con.close()
    return d.dir, sid


STATE = None


def daemon():
    """A daemon on a copy of the big sweep's state (made once)."""
    global STATE
    if STATE is None:
        STATE = big_sweep()
    src, sid = STATE
    d = Daemon(workers=2)
    src_con = sqlite3.connect(os.path.join(src, "sweepd.db"))
    dst_con = sqlite3.connect(os.path.join(d.dir, "sweepd.db"))
    src_con.backup(dst_con)
    src_con.close()
    dst_con.close()
    return d.start(), sid


def connect(d):
    s = d.connect()
    s.settimeout(300)   # a loaded machine, ASan: the answer takes seconds
    return s


def send(s, req):
    s.sendall((json.dumps(req) + "\n").encode())


def readable(s, timeout):
    return bool(select.select([s], [], [], timeout)[0])


def _best_is_answered_while_importance_runs():
    d, sid = daemon()
    try:
        a, b = connect(d), connect(d)
        send(a, {"op": "importance", "sweep": sid, "id": "imp"})
        time.sleep(0.05)   # a's request is read first
        send(b, {"op": "best", "sweep": sid, "id": "best"})
        r = json.loads(read_line(b))
        assert r["ok"] and r["id"] == "best", r
        # On the loop, a's reply would have been written before b's
        # request was even read.
        assert not readable(a, 0), "importance was answered before best"
        r = json.loads(read_line(a))
        assert r["ok"] and r["id"] == "imp", r
        imp = r["importance"]
        assert imp["trials"] == N + 4, imp["trials"]
        assert imp["objective"][0]["param"] == "x", imp["objective"]
        assert {v["verdict"] for v in imp["verdicts"]} >= set(VERDICTS[:2]), imp
        # The same connection's next request is answered after it, in order.
        send(a, {"op": "importance", "sweep": sid, "id": 1})
        send(a, {"op": "ping", "id": 2})
        f = a.makefile("rb")
        assert [json.loads(f.readline())["id"] for _ in range(2)] == [1, 2]
        f.close()
        a.close()
        b.close()
        p = d.ctl("status", str(sid))
        assert p.returncode == 0 and "what mattered: x " in p.stdout, (p.stdout, p.stderr)
        assert d.stop() == 0
    finally:
        d.cleanup()


def _client_gone_meanwhile():
    # Closed at once, half-closed after the request, or mid-reply: the
    # daemon drops the reply, frees the job and serves the next client.
    d, sid = daemon()
    try:
        s = connect(d)
        send(s, {"op": "importance", "sweep": sid})
        s.close()
        s = connect(d)
        send(s, {"op": "importance", "sweep": sid, "id": "half"})
        s.shutdown(socket.SHUT_WR)
        r = json.loads(read_line(s))
        assert r["ok"] and r["id"] == "half", r
        s.close()
        s = connect(d)
        send(s, {"op": "importance", "sweep": sid})
        time.sleep(0.05)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        s.close()   # a reset
        assert d.ok({"op": "ping"})
        r = d.request({"op": "importance", "sweep": sid}, timeout=120)
        assert r["ok"] and r["importance"]["trials"] == N + 4, r
        assert d.stop() == 0
    finally:
        d.cleanup()


def _sweep_deleted_meanwhile():
    d, sid = daemon()
    try:
        a = connect(d)
        send(a, {"op": "importance", "sweep": sid, "id": "imp"})
        time.sleep(0.05)
        assert d.ok({"op": "delete", "sweep": sid})["deleted"] == sid
        r = json.loads(read_line(a))
        # Read before the delete or after it: an answer or not_found.
        assert r["ok"] or r["error"]["code"] == "not_found", r
        if not r["ok"]:
            assert r["error"]["message"] == "no sweep %d" % sid, r
        a.close()
        r = d.request({"op": "importance", "sweep": sid})
        assert not r["ok"] and r["error"]["code"] == "not_found", r
        assert d.stop() == 0
    finally:
        d.cleanup()


def _daemon_stops_meanwhile():
    # Several queued behind the pool's threads: those not started are
    # cancelled (shutting_down), those running are waited for.
    d, sid = daemon()
    try:
        socks = [connect(d) for _ in range(8)]
        for i, s in enumerate(socks):
            send(s, {"op": "importance", "sweep": sid, "id": i})
        time.sleep(0.05)
        assert d.ok({"op": "shutdown"})
        codes = []
        for s in socks:
            r = json.loads(read_line(s))
            codes.append("ok" if r["ok"] else r["error"]["code"])
            s.close()
        assert set(codes) <= {"ok", "shutting_down"}, codes
        assert d.proc.wait(60) == 0, d.log_text()
        assert d.stop() == 0
    finally:
        d.cleanup()


TESTS = [_best_is_answered_while_importance_runs, _client_gone_meanwhile,
         _sweep_deleted_meanwhile, _daemon_stops_meanwhile]

if __name__ == "__main__":
    try:
        sys.exit(run_tests(TESTS))
    finally:
        if STATE:
            import shutil
            shutil.rmtree(STATE[0], ignore_errors=True)
