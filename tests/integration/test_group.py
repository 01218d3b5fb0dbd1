"""Group commit (docs/storage.md): the epochs the daemon reads in one turn
of its loop are one transaction, committed before the loop waits again.

A trainer writes its 5 epoch lines in one write() and then sleeps: while
it sleeps (the daemon idle in epoll), a separate read-only connection must
see all 5 rows, and a SIGKILL of the daemon then must leave all 5 stored.
A batch left open across the wait (or lost) fails both."""
import os
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, pids_with_env, run_tests, wait_for

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


if __name__ == "__main__":
    sys.exit(run_tests([_burst_is_committed_while_idle_and_survives_sigkill]))
