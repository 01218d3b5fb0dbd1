"""Overnight-proof (issue 6): trainer limits (stall, retry_on, memory,
nice), signals (SIGINT, SIGHUP), --detach, and storage faults (read-only
database, full disk, corrupted file)."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import (Daemon, Skip, fake_spec, read_line, run_tests, wait_for,
                      SWEEPD)


def with_daemon(fn, **kw):
    def wrapped():
        d = Daemon(**kw).start()
        try:
            fn(d)
            assert d.ok({"op": "ping"})   # still serving
        finally:
            d.cleanup()
    wrapped.__name__ = fn.__name__
    return wrapped


def run_one(d, params, limits, timeout=60):
    sid = d.submit(fake_spec(trials=1, parallel=1, params=params, limits=limits))
    d.wait_sweep(sid, timeout=timeout)
    return d.ok({"op": "trial", "sweep": sid, "number": 1})["trial"]


def failed_with(t, cls):
    assert t["status"] == "failed", t
    assert (t["error"] or {}).get("class") == cls, t["error"]


def db_rows(dbpath, sql):
    con = sqlite3.connect(dbpath, timeout=10)
    try:
        return list(con.execute(sql))
    finally:
        con.close()


# ---- limits --------------------------------------------------------------

def _silent_trainer_is_stopped_as_stall(d):
    t0 = time.time()
    t = run_one(d, {"mode": "stall"}, {"stall_s": 0.5})
    failed_with(t, "stall")
    assert "limits.stall_s" in t["error"]["message"], t["error"]
    assert len(t["curve"]) == 1, t["curve"]   # epoch 1 came, then silence
    assert time.time() - t0 < 10


def _reporting_trainer_is_not_a_stall(d):
    # 6 epochs 0.3 s apart: 1.8 s in all, never 1 s silent
    t = run_one(d, {"sleep_ms": 300, "epochs": 6}, {"stall_s": 1})
    assert t["status"] == "completed", t


def _class_not_in_retry_on_is_not_retried(d):
    t = run_one(d, {"mode": "fail_once"},
                {"retries": 2, "retry_on": ["signal", "timeout"]})
    failed_with(t, "exit")
    assert t["attempt"] == 1, t


def _class_in_retry_on_is_retried(d):
    t = run_one(d, {"mode": "fail_once"}, {"retries": 2, "retry_on": ["exit"]})
    assert t["status"] == "completed" and t["attempt"] == 2, t


def _stall_is_retried_when_listed(d):
    t = run_one(d, {"mode": "stall"},
                {"stall_s": 0.3, "retries": 1, "retry_on": ["stall"]})
    failed_with(t, "stall")
    assert t["attempt"] == 2, t   # retried once, stalled again


def _allocating_past_memory_mb_fails_as_oom(d):
    t = run_one(d, {"mode": "alloc", "alloc_mb": 256}, {"memory_mb": 64})
    failed_with(t, "oom")
    assert "out of memory" in (t.get("stderr_tail") or ""), t


def _allocating_within_memory_mb_completes(d):
    t = run_one(d, {"mode": "alloc", "alloc_mb": 16}, {"memory_mb": 128})
    assert t["status"] == "completed", t


def _nice_is_applied_to_the_trainer(d):
    t = run_one(d, {"mode": "nice", "epochs": 2}, {"nice": 7})
    assert t["status"] == "completed", t
    assert [e["nice"] for e in t["curve"]] == [7, 7], t["curve"]
    t = run_one(d, {"mode": "nice", "epochs": 1}, {})
    assert t["curve"][0]["nice"] == os.getpriority(os.PRIO_PROCESS, 0), t


# ---- signals and --detach -----------------------------------------------

def _sigint_requeues_like_sigterm():
    d = Daemon(workers=2).start()
    try:
        sid = d.submit(fake_spec(trials=4, parallel=2,
                                 params={"sleep_ms": 400, "epochs": 5}))
        wait_for(lambda: d.ok({"op": "stats"})["running"] == 2, timeout=10)
        time.sleep(0.5)
        assert d.stop(signal.SIGINT) == 0
        assert "Interrupt: shutting down" in d.log_text(), d.log_text()
        rows = db_rows(os.path.join(d.dir, "sweepd.db"),
                       "SELECT number, status FROM trials")
        assert rows and all(st == "queued" for _, st in rows), rows
        assert not os.path.exists(d.sock)
        d = Daemon(workers=2, state_dir=d.dir).start()
        s = d.wait_sweep(sid, timeout=60)
        assert s["status"] == "completed" and s["counts"]["completed"] == 4, s
        assert max(t["attempt"] for t in d.trials(sid)) == 2
    finally:
        d.cleanup()
        if d.dir:
            subprocess.run(["rm", "-rf", d.dir])


def _sighup_reopens_the_log(d):
    old = d.log + ".1"
    os.rename(d.log, old)
    d.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: os.path.exists(d.log), timeout=5), "no new log"
    d.submit(fake_spec(name="after-hup", trials=1, parallel=1))
    assert wait_for(lambda: "after-hup" in d.log_text(), timeout=5), d.log_text()
    with open(old) as f:
        assert "after-hup" not in f.read()


def _detach_returns_once_listening():
    state = tempfile.mkdtemp(prefix="sweepd-test-")
    pid = None
    try:
        p = subprocess.run([SWEEPD, "--state-dir", state, "--workers", "1",
                            "--detach"], capture_output=True, timeout=20)
        assert p.returncode == 0, p
        d = Daemon(state_dir=state)
        r = d.ok({"op": "ping"})   # no retry: it listens already
        pid = r["pid"]
        assert os.getsid(pid) == pid, "not in its own session"
        sid = d.submit(fake_spec(trials=2, parallel=1))
        assert d.wait_sweep(sid)["status"] == "completed"
        assert d.ok({"op": "shutdown"})
        assert wait_for(lambda: not os.path.exists("/proc/%d" % pid), timeout=10)
        pid = None
        with open(os.path.join(state, "sweepd.log")) as f:
            log = f.read()
        assert "listening" in log and "sweepd stopped" in log, log
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
        subprocess.run(["rm", "-rf", state])


TESTS = [
    with_daemon(_silent_trainer_is_stopped_as_stall),
    with_daemon(_reporting_trainer_is_not_a_stall),
    with_daemon(_class_not_in_retry_on_is_not_retried),
    with_daemon(_class_in_retry_on_is_retried),
    with_daemon(_stall_is_retried_when_listed),
    with_daemon(_allocating_past_memory_mb_fails_as_oom),
    with_daemon(_allocating_within_memory_mb_completes),
    with_daemon(_nice_is_applied_to_the_trainer),
    _sigint_requeues_like_sigterm,
    with_daemon(_sighup_reopens_the_log),
    _detach_returns_once_listening,
]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
