"""kill -9 and restarts: nothing committed is lost, nothing runs twice,
no trainer is orphaned, search.trials stays a total."""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import (Daemon, SWEEPD, Skip, fake_spec, pids_with_env,
                      run_tests, session_leaders, wait_for)


def epoch_rows(dbpath):
    con = sqlite3.connect(dbpath)
    try:
        return set(con.execute("SELECT trial_id, attempt, epoch FROM epochs"))
    finally:
        con.close()


def _kill9_while_trials_run(d=None):
    mark = "SWEEPTEST_K9_%d" % os.getpid()
    d = Daemon(workers=2).start()
    try:
        # keep_going: an orphan does not die of EPIPE, only if it is killed
        spec = fake_spec(trials=6, parallel=2, params={"sleep_ms": 150, "epochs": 4,
                                                       "keep_going": 1})
        spec["trainer"]["env"] = {"SWEEPTEST_MARK": mark}
        sid = d.submit(spec)
        wait_for(lambda: d.ok({"op": "sweep", "sweep": sid})["sweep"]["counts"]["completed"] >= 1, 20)
        wait_for(lambda: d.ok({"op": "sweep", "sweep": sid})["sweep"]["counts"]["running"] >= 1, 20)
        done_before = {t["number"]: t for t in d.trials(sid) if t["status"] == "completed"}
        d.kill9()
        rows_before = epoch_rows(os.path.join(d.dir, "sweepd.db"))
        assert rows_before, "no epoch was committed before the kill"
        d2 = Daemon(workers=2, state_dir=d.dir).start()
        try:
            # the old trainers are gone once the new daemon is up
            old = [p for p in pids_with_env("SWEEPTEST_MARK=" + mark)]
            s = d2.wait_sweep(sid, timeout=60)
            assert s["status"] == "completed", s
            ts = d2.trials(sid)
            assert len(ts) == 6 and all(t["status"] == "completed" for t in ts), ts
            assert any(t["attempt"] >= 2 for t in ts), "no trial was requeued"
            for n, t in done_before.items():
                now = next(x for x in ts if x["number"] == n)
                assert now["attempt"] == t["attempt"] and now["objective"] == t["objective"], (t, now)
            rows_after = epoch_rows(os.path.join(d.dir, "sweepd.db"))
            assert rows_before <= rows_after, rows_before - rows_after
            assert wait_for(lambda: not pids_with_env("SWEEPTEST_MARK=" + mark)), "orphans left"
        finally:
            d2.cleanup()
    finally:
        d.cleanup()


def _orphans_gone_after_restart(params, min_pids, min_epochs, extra=()):
    """SIGKILL the daemon while its one trainer sits in a silent epoch (it
    writes nothing, so it cannot die of EPIPE); the restarted daemon must
    kill it, and everything it left, within a few seconds."""
    mark = "SWEEPTEST_SILENT_%d_%d_%d" % (os.getpid(), min_pids, len(extra))
    d = Daemon(workers=1, extra=extra).start()
    try:
        spec = fake_spec(trials=1, parallel=1, params=params)
        spec["trainer"]["env"] = {"SWEEPTEST_MARK": mark}
        sid = d.submit(spec)
        assert wait_for(lambda: d.trials(sid)[0]["status"] == "running" and
                        d.trials(sid)[0]["epochs"] >= min_epochs, 20), d.trials(sid)
        # session leaders: the trainer, and the grandchild once it setsid()ed
        # (its short-lived parent is neither)
        old = set(wait_for(lambda: len(session_leaders(mark)) >= min_pids and
                           session_leaders(mark), 10) or [])
        assert len(old) >= min_pids, old
        d.kill9()
        assert old <= set(pids_with_env("SWEEPTEST_MARK=" + mark)), \
            "the trainer died with the daemon: the test shows nothing"
        d2 = Daemon(workers=1, state_dir=d.dir, extra=extra).start()
        try:
            left = wait_for(lambda: not (old & set(pids_with_env("SWEEPTEST_MARK=" + mark))), 5)
            assert left, "orphans of the killed daemon still alive: %r" % (
                old & set(pids_with_env("SWEEPTEST_MARK=" + mark)))
            d2.ok({"op": "cancel", "sweep": sid})
        finally:
            d2.cleanup()
    finally:
        d.cleanup()
        for pid in old:   # whatever the daemon left, so as not to leak it
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _kill9_kills_trainer_in_silent_epoch():
    _orphans_gone_after_restart({"mode": "hang", "epochs": 3}, 1, 1)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def restart_kills(d, sid, pid, extra):
    """SIGKILLs d; pid must outlive it, and be gone within a few seconds
    of the next daemon's start on the same dir."""
    d.kill9()
    assert alive(pid), "%d died with the daemon: the test shows nothing" % pid
    d2 = Daemon(workers=1, state_dir=d.dir, extra=extra).start()
    try:
        assert wait_for(lambda: not alive(pid), 5), \
            "%d, left by the killed daemon's trial, is alive" % pid
        d2.ok({"op": "cancel", "sweep": sid})
    finally:
        d2.cleanup()


def _kill9_kills_trainer_by_pid_and_start_time():
    """Without cgroups, and with an empty environment, only the pid and the
    /proc start time stored for the trial tell the orphan (item 2)."""
    d = Daemon(workers=1, extra=["--no-cgroups"]).start()
    pid = None
    try:
        sid = d.submit(fake_spec(trials=1, parallel=1, params={
            "mode": "hang", "epochs": 3, "clear_env": 1}))
        assert wait_for(lambda: d.trials(sid)[0]["epochs"] >= 1, 20), d.trials(sid)
        con = sqlite3.connect(os.path.join(d.dir, "sweepd.db"), timeout=10)
        try:
            pid = con.execute("SELECT pid FROM trials WHERE status = 'running'").fetchone()[0]
        finally:
            con.close()
        assert wait_for(lambda: alive(pid) and
                        open("/proc/%d/environ" % pid, "rb").read() == b""), pid
        restart_kills(d, sid, pid, ["--no-cgroups"])
    finally:
        d.cleanup()
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)


def _kill9_kills_descendants_that_left_the_group():
    # the trainer sleeps silently in epoch 1; its grandchild setsid()ed away
    _orphans_gone_after_restart({"mode": "escape", "sleep_ms": 60000,
                                 "epochs": 1}, 2, 0)


def _kill9_kills_descendants_that_left_the_group_without_cgroups():
    # the fallback: they are found by the SWEEPD_TRIAL they inherited
    _orphans_gone_after_restart({"mode": "escape", "sleep_ms": 60000,
                                 "epochs": 1}, 2, 0, extra=["--no-cgroups"])


def _kill9_kills_descendants_with_no_environment():
    """Only a cgroup per trial can find these after a restart: the
    grandchild left the group, and its environment (and so SWEEPD_TRIAL)
    is empty."""
    d = Daemon(workers=1).start()
    pid = None
    try:
        if d.ok({"op": "stats"})["trial_cgroups"] is None:
            raise Skip("no writable cgroup v2 with cgroup.kill here; the "
                       "subreaper cannot find these after a restart")
        pidfile = os.path.join(d.dir, "grandchild.pid")
        sid = d.submit(fake_spec(trials=1, parallel=1, params={
            "mode": "escape", "sleep_ms": 60000, "epochs": 1,
            "pidfile": pidfile, "clear_env": 1}))
        assert wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip()), \
            d.trials(sid)
        pid = int(open(pidfile).read())
        assert wait_for(lambda: alive(pid) and
                        open("/proc/%d/environ" % pid, "rb").read() == b""), pid
        restart_kills(d, sid, pid, [])
    finally:
        d.cleanup()
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)


def _sigterm_requeues_running_trials():
    d = Daemon(workers=2).start()
    try:
        sid = d.submit(fake_spec(trials=4, parallel=2, params={"sleep_ms": 300}))
        wait_for(lambda: d.ok({"op": "sweep", "sweep": sid})["sweep"]["counts"]["running"] == 2, 20)
        assert d.stop(signal.SIGTERM) == 0
        assert not os.path.exists(d.sock)
        d2 = Daemon(workers=2, state_dir=d.dir).start()
        try:
            s = d2.wait_sweep(sid, timeout=60)
            assert s["status"] == "completed" and len(d2.trials(sid)) == 4, s
        finally:
            d2.cleanup()
    finally:
        d.cleanup()


def _newer_schema_is_refused():
    d = Daemon().start()
    d.stop()
    con = sqlite3.connect(os.path.join(d.dir, "sweepd.db"))
    con.execute("PRAGMA user_version = 999")
    con.commit()
    con.close()
    p = subprocess.run([SWEEPD, "--state-dir", d.dir], capture_output=True,
                       text=True, timeout=10)
    d.cleanup()
    assert p.returncode != 0 and "999" in p.stderr and "newer" in p.stderr, p.stderr


def _garbage_database_is_refused():
    d = Daemon()
    with open(os.path.join(d.dir, "sweepd.db"), "wb") as f:
        f.write(b"this is not a database at all" * 100)
    p = subprocess.run([SWEEPD, "--state-dir", d.dir], capture_output=True,
                       text=True, timeout=10)
    d.cleanup()
    assert p.returncode != 0 and "sweepd.db" in p.stderr, p.stderr


def _removed_lock_file_does_not_let_a_second_daemon_in():
    d = Daemon().start()
    try:
        lock = os.path.join(d.dir, "sweepd.lock")
        if os.path.exists(lock):
            os.unlink(lock)
        p = subprocess.run([SWEEPD, "--state-dir", d.dir], capture_output=True,
                           text=True, timeout=20)
        assert p.returncode != 0 and "already running" in p.stderr, \
            (p.returncode, p.stderr)
        assert d.ok({"op": "ping"}) and d.proc.poll() is None
    finally:
        d.cleanup()


def _socket_path_too_long_is_refused():
    base = tempfile.mkdtemp(prefix="sweepd-test-")
    try:
        # dir + "/sweepd.sock" is 108 bytes: one over what sun_path holds
        deep = os.path.join(base, "d" * (108 - len(base) - len("/sweepd.sock") - 1))
        assert len(deep + "/sweepd.sock") == 108
        p = subprocess.run([SWEEPD, "--state-dir", deep], capture_output=True,
                           text=True, timeout=20)
        assert p.returncode != 0, p.stderr
        assert "too long" in p.stderr and deep + "/sweepd.sock" in p.stderr, p.stderr
        # nothing was created or bound, in the dir or beside it
        assert not os.path.exists(deep) or os.listdir(deep) == [], os.listdir(deep)
        assert os.listdir(base) in ([], [os.path.basename(deep)]), os.listdir(base)
        # one byte less fits, and the daemon serves there
        ok = os.path.join(base, "d" * (len(os.path.basename(deep)) - 1))
        d = Daemon(state_dir=ok).start()
        try:
            assert d.ok({"op": "ping"}) and os.path.exists(os.path.join(ok, "sweepd.sock"))
        finally:
            d.cleanup()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _completed_sweeps_survive_restart():
    d = Daemon().start()
    try:
        sid = d.submit(fake_spec(trials=3))
        d.wait_sweep(sid)
        before = d.trials(sid)
        d.stop()
        d2 = Daemon(state_dir=d.dir).start()
        try:
            assert d2.trials(sid) == before
            assert d2.ok({"op": "best", "sweep": sid})["trial"]["objective"] == \
                max(t["objective"] for t in before)
        finally:
            d2.cleanup()
    finally:
        d.cleanup()


def _kill9_between_spawn_and_commit_leaves_no_trainer():
    """A daemon killed after it spawned a trainer but before it stored the
    start leaves a process whose trial is not `running` in the database
    (here: a trial id that was never stored at all). It carries the state
    dir's SWEEPD_TRIAL mark, and the next daemon kills it before loading."""
    d = Daemon()
    st = os.stat(d.dir)
    # Another state dir's mark: a directory of our own holds that identity
    # while the test runs (INO + 1 could be a state dir of a test running
    # beside this one, whose daemon then rightly killed the process).
    other_dir = tempfile.mkdtemp(prefix="sweepd-other-")
    ot = os.stat(other_dir)
    env = dict(os.environ, SWEEPD_TRIAL="%d:%d:424242" % (st.st_dev, st.st_ino))
    other = dict(os.environ, SWEEPD_TRIAL="%d:%d:424242" % (ot.st_dev, ot.st_ino))
    mine = subprocess.Popen(["sleep", "600"], env=env, start_new_session=True)
    theirs = subprocess.Popen(["sleep", "600"], env=other, start_new_session=True)
    try:
        d.start()
        assert wait_for(lambda: mine.poll() is not None, 5), \
            "a process with this state dir's mark outlived the restart"
        assert theirs.poll() is None, "another state dir's trainer was killed"
        assert "a previous sweepd left running" in d.log_text()
    finally:
        for p in (mine, theirs):
            if p.poll() is None:
                p.kill()
            p.wait()
        d.cleanup()
        os.rmdir(other_dir)


def trial_rows_read(log):
    """The count of the last start-up's log line "N trial rows read"."""
    lines = [l for l in log.splitlines() if "trial rows read" in l]
    assert lines, "no start-up line counting the trial rows read:\n" + log
    return int(lines[-1].split(" trial rows read")[0].split()[-1])


def _start_up_reads_no_trial_of_a_settled_ended_sweep():
    """At a start only active sweeps are loaded: an ended sweep's trials
    are read only when one was left queued or running (its end was
    interrupted), and then only those, which end as cancelled."""
    mark = "SWEEPTEST_SETTLE_%d" % os.getpid()
    d = Daemon(workers=1).start()
    try:
        done = d.submit(fake_spec(trials=5, parallel=1))
        d.wait_sweep(done)
        spec = fake_spec(trials=3, parallel=1,
                         params={"sleep_ms": 60000, "keep_going": 1})
        spec["trainer"]["env"] = {"SWEEPTEST_MARK": mark}
        cut = d.submit(spec)
        assert wait_for(lambda: d.ok({"op": "sweep", "sweep": cut})["sweep"]
                        ["counts"]["running"] == 1, 20)
        d.kill9()
        # the sweep was stored cancelled, and the daemon died before it
        # stored its trials' ends
        con = sqlite3.connect(os.path.join(d.dir, "sweepd.db"))
        with con:
            con.execute("UPDATE sweeps SET status = 'cancelled', "
                        "ended_at = 1 WHERE id = ?", (cut,))
            left = con.execute("SELECT count(*) FROM trials WHERE sweep_id "
                               "= ? AND status IN ('queued', 'running')",
                               (cut,)).fetchone()[0]
        con.close()
        assert left >= 1, left
        d2 = Daemon(workers=1, state_dir=d.dir).start()
        try:
            got = trial_rows_read(d2.log_text())
            assert got == left, (got, left, d2.log_text())
            ts = d2.trials(cut)
            assert [t["status"] for t in ts] == ["cancelled"] * left, ts
            assert all(t["error"]["class"] == "interrupted" and "while "
                       "sweepd was down" in t["error"]["message"]
                       for t in ts), ts
            assert wait_for(lambda: not pids_with_env("SWEEPTEST_MARK=" +
                                                      mark)), "orphan left"
            assert [t["status"] for t in d2.trials(done)] == \
                ["completed"] * 5
            d2.stop()
            d3 = Daemon(workers=1, state_dir=d.dir).start()
            try:
                assert trial_rows_read(d3.log_text()) == 0, d3.log_text()
            finally:
                d3.cleanup()
        finally:
            d2.cleanup()
    finally:
        d.cleanup()


TESTS = [_kill9_while_trials_run, _kill9_between_spawn_and_commit_leaves_no_trainer, _kill9_kills_trainer_in_silent_epoch,
         _kill9_kills_trainer_by_pid_and_start_time,
         _kill9_kills_descendants_that_left_the_group,
         _kill9_kills_descendants_that_left_the_group_without_cgroups,
         _kill9_kills_descendants_with_no_environment,
         _sigterm_requeues_running_trials,
         _newer_schema_is_refused, _garbage_database_is_refused,
         _completed_sweeps_survive_restart,
         _start_up_reads_no_trial_of_a_settled_ended_sweep,
         _removed_lock_file_does_not_let_a_second_daemon_in,
         _socket_path_too_long_is_refused]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
