"""Submit and enqueue are all or nothing: a daemon killed (SIGKILL) while it
stores a large set of trials, or a disk that fills up half way, leaves the
whole sweep / every enqueued set stored, or none of it."""
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, read_line, run_tests, wait_for
from test_overnight import fill, tmpfs, umount

N = 6000


def sets(n, base=0):
    return [{"x": ((base + i) % 997) / 997.0} for i in range(n)]


def big_spec(n, enqueue=True):
    spec = fake_spec(name="big", trials=n + 5, parallel=1,
                     params={"x": {"uniform": [0, 1]}, "sleep_ms": 2000,
                             "epochs": 1})
    if enqueue:
        spec["enqueue"] = sets(n)
    return spec


def db_trials(dbpath):
    """{sweep_id: trial count} as committed, read beside the daemon."""
    con = sqlite3.connect("file:%s?mode=ro" % dbpath, uri=True, timeout=5)
    try:
        return dict(con.execute(
            "SELECT sweep_id, count(*) FROM trials GROUP BY sweep_id"))
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()


def kill_while_storing(d, req, sweep, before, after=None):
    """Sends req and SIGKILLs the daemon as soon as a trial more than
    `before` is visible in the database, or `after` seconds after the
    request was sent, or when the reply came. Returns whether the reply
    came first."""
    dbpath = os.path.join(d.dir, "sweepd.db")
    s = d.connect()
    s.sendall((json.dumps(req) + "\n").encode())
    s.setblocking(False)
    sent = time.time()
    replied = b""
    while time.time() < sent + 60:
        try:
            replied += s.recv(65536)
        except BlockingIOError:
            pass
        if replied or db_trials(dbpath).get(sweep, 0) > before:
            break
        if after is not None and time.time() >= sent + after:
            break
        time.sleep(0.002)
    d.kill9()
    s.close()
    return bool(replied)


def submit_seconds(spec):
    """How long this daemon takes to store spec: the kills below aim at
    fractions of it, so that some land inside the transaction."""
    d = Daemon(workers=1).start()
    try:
        t0 = time.time()
        d.submit(spec)
        return time.time() - t0
    finally:
        d.cleanup()


def check_all_or_none(d2, sid, before, n):
    """The sweep holds before or before + n trials, and the enqueued ones
    have their params."""
    r = d2.request({"op": "trials", "sweep": sid, "limit": 1})
    if not r["ok"]:
        assert before == 0 and r["error"]["code"] == "not_found", r
        return 0
    total = r["total"]
    assert total in (before, before + n), (before, total)
    if total == before:
        return 0
    ts = d2.trials(sid)
    xs = [t["params"]["x"] for t in ts[before:before + n]]
    assert xs == [p["x"] for p in sets(n)], "enqueued params differ"
    return total


def _kill9_during_a_large_submit():
    spec = big_spec(N)
    took = submit_seconds(spec)
    for frac in (None, 0.5, 0.75, 0.9, 0.97):
        d = Daemon(workers=1).start()
        try:
            after = None if frac is None else took * frac
            replied = kill_while_storing(d, {"op": "submit", "spec": spec}, 1,
                                         0, after)
            d2 = Daemon(workers=1, state_dir=d.dir).start()
            try:
                got = check_all_or_none(d2, 1, 0, N)
                print("# killed at %s of %.3f s: %s, %d trials stored" %
                      (frac, took, "after the reply" if replied else
                       "before the reply", got))
                # whatever happened, the next sweep is served and complete
                sid = d2.submit(big_spec(50))
                assert d2.ok({"op": "trials", "sweep": sid,
                              "limit": 0})["total"] == 50
            finally:
                d2.cleanup()
        finally:
            d.cleanup()


def _kill9_during_a_large_enqueue():
    d = Daemon(workers=1).start()
    try:
        sid = d.submit(big_spec(N + 10, enqueue=False))
        d.ok({"op": "pause", "sweep": sid})
        d.ok({"op": "enqueue", "sweep": sid, "params": sets(3)})
        before = d.ok({"op": "trials", "sweep": sid, "limit": 0})["total"]
        req = {"op": "enqueue", "sweep": sid, "params": sets(N)}
        kill_while_storing(d, req, sid, before)
        d2 = Daemon(workers=1, state_dir=d.dir).start()
        try:
            check_all_or_none(d2, sid, before, N)
        finally:
            d2.cleanup()
    finally:
        d.cleanup()


def _disk_full_half_way_stores_nothing():
    mnt = tmpfs("3m")
    d = None
    try:
        d = Daemon(workers=1, state_dir=os.path.join(mnt, "state"))
        d.start()
        sid = d.submit(big_spec(N + 10, enqueue=False))
        d.ok({"op": "pause", "sweep": sid})
        before = d.ok({"op": "trials", "sweep": sid, "limit": 0})["total"]
        # leave a little room: a few hundred trials fit, not thousands
        fill(os.path.join(mnt, "filler"))
        os.truncate(os.path.join(mnt, "filler"),
                    os.path.getsize(os.path.join(mnt, "filler")) - 256 * 1024)
        r = d.request({"op": "submit", "spec": big_spec(N)})
        assert not r["ok"] and r["error"]["code"] == "disk_full", r
        sweeps = d.ok({"op": "sweeps"})["sweeps"]
        assert [s["id"] for s in sweeps] == [sid], sweeps
        r = d.request({"op": "enqueue", "sweep": sid, "params": sets(N)})
        assert not r["ok"] and r["error"]["code"] == "disk_full", r
        os.unlink(os.path.join(mnt, "filler"))
        assert wait_for(lambda: d.ok({"op": "stats"})["storage"]["ok"], 30), \
            "storage did not come back"
        assert d.ok({"op": "trials", "sweep": sid, "limit": 0})["total"] == before
        d.stop()
        d = Daemon(workers=1, state_dir=os.path.join(mnt, "state")).start()
        assert db_trials(os.path.join(d.dir, "sweepd.db")) == \
            ({sid: before} if before else {}), \
            "trials of the refused requests were stored"
        assert [s["id"] for s in d.ok({"op": "sweeps"})["sweeps"]] == [sid]
        assert d.ok({"op": "enqueue", "sweep": sid, "params": sets(5)})["enqueued"] == 5
    finally:
        if d:
            d.cleanup()
        umount(mnt)


def _a_bad_set_refuses_the_whole_enqueue():
    d = Daemon(workers=1).start()
    try:
        sid = d.submit(big_spec(40, enqueue=False))
        d.ok({"op": "pause", "sweep": sid})
        before = d.ok({"op": "trials", "sweep": sid, "limit": 0})["total"]
        for bad in ({"x": 2.0}, {"nope": 1}, 7):
            r = d.request({"op": "enqueue", "sweep": sid,
                           "params": sets(20) + [bad] + sets(3)})
            assert not r["ok"] and r["error"]["code"] == "bad_request", r
            # 1-based, as trial numbers are: the 21st set
            assert "params[21]" in r["error"]["message"], r
            total = d.ok({"op": "trials", "sweep": sid, "limit": 0})["total"]
            assert total == before, (bad, before, total)
        # numbering goes on from where it was, in memory and on disk
        assert d.ok({"op": "enqueue", "sweep": sid,
                     "params": sets(4, 100)})["enqueued"] == 4
        ts = d.trials(sid)
        assert [t["number"] for t in ts] == list(range(1, before + 5)), ts
        assert [t["params"]["x"] for t in ts[before:]] == \
            [p["x"] for p in sets(4, 100)]
        d.stop()
        d2 = Daemon(workers=1, state_dir=d.dir).start()
        try:
            assert d2.ok({"op": "trials", "sweep": sid,
                          "limit": 0})["total"] == before + 4
        finally:
            d2.cleanup()
    finally:
        d.cleanup()


def _locked_database_is_a_storage_error():
    # Another process (an sqlite3 shell, a backup) holding the write lock
    # past the busy timeout is storage trouble, like a full disk: code
    # "locked", not "conflict" (a state error, the sweep's own doing).
    d = Daemon(workers=1).start()
    con = None
    try:
        con = sqlite3.connect(os.path.join(d.dir, "sweepd.db"), timeout=5,
                              isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        r = d.request({"op": "submit", "spec": fake_spec(trials=1)})
        assert not r["ok"] and r["error"]["code"] == "locked", r
        assert "locked" in r["error"]["message"], r
        st = d.ok({"op": "stats"})["storage"]
        assert not st["ok"] and st["error"] == "locked", st
        con.execute("ROLLBACK")
        con.close()
        con = None
        assert wait_for(lambda: d.ok({"op": "stats"})["storage"]["ok"], 30), \
            "storage did not come back"
        assert d.ok({"op": "sweeps"})["sweeps"] == []
        d.wait_sweep(d.submit(fake_spec(trials=1)))
    finally:
        if con:
            con.close()
        d.cleanup()


TESTS = [_a_bad_set_refuses_the_whole_enqueue, _kill9_during_a_large_submit, _kill9_during_a_large_enqueue,
         _disk_full_half_way_stores_nothing,
         _locked_database_is_a_storage_error]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
