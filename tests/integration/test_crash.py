"""The overnight crash test: SIGKILL the daemon at 20 random moments of a
running sweep, restarting it each time; nothing committed may be lost."""
import os
import random
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, pids_with_env, run_tests, wait_for

TRIALS = 30
KILLS = 20
END_STATES = ("completed", "failed", "pruned", "cancelled")


def snapshot(dbpath):
    """(epoch rows, {number: (status, attempt, ended_at)} of ended trials)."""
    con = sqlite3.connect(dbpath, timeout=10)
    try:
        rows = set(con.execute("SELECT trial_id, attempt, epoch, metrics_json FROM epochs"))
        ended = {n: (s, a, e) for n, s, a, e in con.execute(
            "SELECT number, status, attempt, ended_at FROM trials "
            "WHERE status IN ('completed','failed','pruned','cancelled')")}
        return rows, ended
    finally:
        con.close()


def _sigkill_at_20_random_moments():
    rng = random.Random(int(os.environ.get("CRASH_SEED", "12345")))
    mark = "SWEEPTEST_CRASH_%d" % os.getpid()
    d = first = Daemon(workers=2).start()
    dbpath = os.path.join(d.dir, "sweepd.db")
    try:
        spec = fake_spec(trials=TRIALS, parallel=2,
                         params={"sleep_ms": 60, "epochs": 5, "keep_going": 1,
                                 "x": {"uniform": [0, 1]}},
                         limits={"retries": KILLS})
        spec["trainer"]["env"] = {"SWEEPTEST_MARK": mark}
        sid = d.submit(spec)
        seen_rows, seen_ended = set(), {}
        for k in range(KILLS):
            time.sleep(rng.uniform(0.05, 0.6))
            d.kill9()
            # keep_going: these outlive the daemon unless the next one kills them
            orphans = set(pids_with_env("SWEEPTEST_MARK=" + mark))
            rows, ended = snapshot(dbpath)
            assert seen_rows <= rows, "kill %d lost epoch rows: %r" % (k, seen_rows - rows)
            for n, v in seen_ended.items():
                assert ended.get(n) == v, "kill %d: ended trial %d changed %r -> %r" % (
                    k, n, v, ended.get(n))
            seen_rows, seen_ended = rows, ended
            d = Daemon(workers=2, state_dir=d.dir).start()
            assert wait_for(lambda: not orphans & set(pids_with_env("SWEEPTEST_MARK=" + mark)), 5), \
                "kill %d: orphans still alive after the restart: %r" % (
                    k, orphans & set(pids_with_env("SWEEPTEST_MARK=" + mark)))
        s = d.wait_sweep(sid, timeout=120)
        rows, ended = snapshot(dbpath)
        assert seen_rows <= rows, seen_rows - rows
        for n, v in seen_ended.items():
            assert ended[n] == v, (n, v, ended[n])
        trials = d.trials(sid)
        assert len(trials) == TRIALS, len(trials)
        assert sorted(t["number"] for t in trials) == list(range(1, TRIALS + 1))
        assert all(t["status"] in END_STATES for t in trials), \
            [t["status"] for t in trials]
        assert s["status"] == "completed", s
        # every completed trial has exactly the epochs of its last attempt
        for t in trials:
            if t["status"] == "completed":
                assert t["epochs"] == 5, t
        assert any(t["attempt"] > 1 for t in trials), "no kill hit a running trial"
        assert wait_for(lambda: not pids_with_env("SWEEPTEST_MARK=" + mark)), \
            "orphaned trainers left"
    finally:
        d.cleanup()
        first.cleanup()
        for pid in pids_with_env("SWEEPTEST_MARK=" + mark):   # never leak them
            try:
                os.kill(pid, 9)
            except OSError:
                pass


TESTS = [_sigkill_at_20_random_moments]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
