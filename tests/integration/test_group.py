"""Group commit (docs/storage.md): the epochs the daemon reads in one turn
of its loop are one transaction, committed before the loop waits again.

A trainer writes its 5 epoch lines in one write() and then sleeps: while
it sleeps (the daemon idle in epoll), a separate read-only connection must
see all 5 rows, and a SIGKILL of the daemon then must leave all 5 stored.
A batch left open across the wait (or lost) fails both.

A trial's start row joins the batch too: a daemon killed after the spawn
and before that commit leaves a trainer whose trial the database still has
queued; the next daemon must kill it (by the state dir's mark in its
environment; its cgroup would too, and is off here), whether it sits
silent or left its process group."""
import os
import shutil
import signal
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import (Daemon, Skip, fake_spec, pids_with_env, run_tests,
                      wait_for)
from test_restart import alive

BURST = r'''
import os, signal, sys, time
fd = int(os.environ.get("SWEEP_REPORT_FD", "1"))
pre = "" if "SWEEP_REPORT_FD" in os.environ else "SWEEP "
lines = "".join(pre + '{"epoch":%d,"val_acc":0.%d,"train_loss":1.%d}\n' % (e, e, e)
                for e in range(1, 6))
os.write(fd, lines.encode())
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    time.sleep(60)
'''


def epochs_seen(dbpath):
    """Epoch rows and the trial's epochs column, through a read-only
    connection of our own (not the daemon's)."""
    con = sqlite3.connect("file:%s?mode=ro" % dbpath, uri=True, timeout=10)
    try:
        rows = con.execute("SELECT count(*) FROM epochs").fetchone()[0]
        col = con.execute("SELECT coalesce(max(epochs), 0) FROM trials").fetchone()[0]
        return rows, col
    finally:
        con.close()


def _burst_is_committed_while_idle_and_survives_sigkill():
    mark = "SWEEPTEST_GROUP_%d" % os.getpid()
    fd, script = tempfile.mkstemp(suffix=".py")
    os.write(fd, BURST.encode())
    os.close(fd)
    d = Daemon(workers=1).start()
    dbpath = os.path.join(d.dir, "sweepd.db")
    try:
        spec = fake_spec(trials=1, parallel=1, params={"epochs": 5})
        spec["trainer"] = {"command": [sys.executable, script],
                           "env": {"SWEEPTEST_MARK": mark}}
        d.submit(spec)
        # The trainer sleeps after its one write: nothing more happens in
        # the daemon, so these rows can only come from a commit made before
        # it went back to waiting.
        assert wait_for(lambda: epochs_seen(dbpath) == (5, 5), 20), \
            "a reader sees %r of the 5 epochs written in one burst" % (
                epochs_seen(dbpath),)
        assert pids_with_env("SWEEPTEST_MARK=" + mark), "the trainer is gone"
        d.kill9()
        assert epochs_seen(dbpath) == (5, 5), epochs_seen(dbpath)
        con = sqlite3.connect(dbpath)
        got = [r[0] for r in con.execute("SELECT epoch FROM epochs ORDER BY epoch")]
        con.close()
        assert got == [1, 2, 3, 4, 5], got
    finally:
        d.cleanup()
        os.unlink(script)
        for pid in pids_with_env("SWEEPTEST_MARK=" + mark):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


# Without per-trial cgroups (which would kill them as well), only the
# state dir's mark in their environment finds these trainers.
NO_CG = ["--no-cgroups"]


def kill9_between_spawn_and_start_commit(params, mark):
    """A running sweep of 2 queued trials (a SIGTERM requeued them); the
    next daemon starts while we hold the database's write lock, so it
    spawns the 2 trainers and then waits (DB_BUSY_MS) to commit their
    starts: it is killed there. Returns (daemon, pids) with the lock
    released and the starts checked as never stored. A params pidfile is
    removed before the second daemon starts: what the first daemon's
    trainers wrote there names processes its SIGTERM killed."""
    d = Daemon(workers=2, extra=NO_CG).start()
    dbpath = os.path.join(d.dir, "sweepd.db")
    spec = fake_spec(trials=2, parallel=2, params=params)
    spec["trainer"]["env"] = {"SWEEPTEST_MARK": mark}
    sid = d.submit(spec)
    assert wait_for(lambda: d.ok({"op": "sweep", "sweep": sid})["sweep"]
                    ["counts"]["running"] == 2, 20)
    assert d.stop(signal.SIGTERM) == 0
    assert wait_for(lambda: not pids_with_env("SWEEPTEST_MARK=" + mark), 10)
    if params.get("pidfile") and os.path.exists(params["pidfile"]):
        os.unlink(params["pidfile"])
    lock = sqlite3.connect(dbpath, isolation_level=None, timeout=10)
    lock.execute("BEGIN IMMEDIATE")
    d2 = Daemon(workers=2, state_dir=d.dir, extra=NO_CG).start(wait=False)
    try:
        caught = wait_for(lambda: len(pids_with_env("SWEEPTEST_MARK=" + mark))
                          >= 1, 1.5)
        pids = pids_with_env("SWEEPTEST_MARK=" + mark)
        d2.kill9()
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    if not caught:
        d.cleanup()
        raise Skip("no trainer was spawned while the lock was held")
    con = sqlite3.connect(dbpath)
    running = con.execute("SELECT count(*) FROM trials WHERE status = "
                          "'running'").fetchone()[0]
    con.close()
    assert running == 0, "a start was stored: the window was missed"
    return d, pids


def _kill9_before_the_start_commits_kills_a_silent_trainer():
    mark = "SWEEPTEST_GRSTART_%d" % os.getpid()
    d, pids = kill9_between_spawn_and_start_commit(
        {"epochs": 1, "sleep_ms": 60000}, mark)
    try:
        assert pids and all(alive(p) for p in pids), pids
        d3 = Daemon(workers=2, state_dir=d.dir, extra=NO_CG).start()
        try:
            assert wait_for(lambda: not any(alive(p) for p in pids), 10), \
                "a trainer whose start was never stored outlived the restart"
            assert "a previous sweepd left running" in d3.log_text()
        finally:
            d3.cleanup()
    finally:
        d.cleanup()
        for pid in pids_with_env("SWEEPTEST_MARK=" + mark):
            os.kill(pid, signal.SIGKILL)


def _kill9_before_the_start_commits_kills_what_left_the_group():
    mark = "SWEEPTEST_GRESC_%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="sweepd-grp-")
    pidfile = os.path.join(tmp, "grandchild.pid")
    d, pids = kill9_between_spawn_and_start_commit(
        {"mode": "escape", "sleep_ms": 60000, "epochs": 1,
         "pidfile": pidfile}, mark)
    gc = None
    try:
        # A whole line: the grandchild writes "PID\n" after truncating.
        assert wait_for(lambda: os.path.exists(pidfile) and
                        open(pidfile).read().endswith("\n"), 10), "no grandchild"
        gc = int(open(pidfile).read())
        assert alive(gc), "the grandchild is gone before the restart"
        d3 = Daemon(workers=2, state_dir=d.dir, extra=NO_CG).start()
        try:
            assert wait_for(lambda: not alive(gc), 10), \
                "a trainer's descendant that left its group outlived the restart"
            assert "a previous sweepd left running" in d3.log_text()
        finally:
            d3.cleanup()
    finally:
        d.cleanup()
        for pid in pids_with_env("SWEEPTEST_MARK=" + mark):
            os.kill(pid, signal.SIGKILL)
        if gc and alive(gc):
            os.kill(gc, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run_tests([_burst_is_committed_while_idle_and_survives_sigkill,
                        _kill9_before_the_start_commits_kills_a_silent_trainer,
                        _kill9_before_the_start_commits_kills_what_left_the_group]))
