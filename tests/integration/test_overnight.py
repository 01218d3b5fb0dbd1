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
                      SANITIZED, SWEEPD, with_daemon)


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
    # 6 epochs 0.3 s apart: 1.8 s in all, never 1.5 s silent
    t = run_one(d, {"sleep_ms": 300, "epochs": 6}, {"stall_s": 1.5})
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


def skip_under_asan():
    # limits.memory_mb is an RLIMIT_AS on the trainer; an ASan-built trainer
    # reserves terabytes of address space for its shadow memory at start-up
    # and aborts before main under any such limit, so there is nothing to
    # test there.
    if SANITIZED:
        raise Skip("limits.memory_mb (RLIMIT_AS) leaves an ASan-built "
                   "trainer no room for its shadow memory (SWEEPD_SANITIZED)")


def _allocating_past_memory_mb_fails_as_oom(d):
    skip_under_asan()
    t = run_one(d, {"mode": "alloc", "alloc_mb": 256}, {"memory_mb": 64})
    failed_with(t, "oom")
    assert "out of memory" in (t.get("stderr_tail") or ""), t


def _allocating_within_memory_mb_completes(d):
    skip_under_asan()
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


# ---- storage faults --------------------------------------------------------

def tmpfs(size="2m"):
    """A fresh tmpfs of that size (root only), or Skip."""
    if os.geteuid() != 0:
        raise Skip("needs root to mount a tmpfs")
    mnt = tempfile.mkdtemp(prefix="sweepd-tmpfs-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs",
                        mnt], capture_output=True, text=True)
    if p.returncode != 0:
        os.rmdir(mnt)
        raise Skip("cannot mount a tmpfs: " + p.stderr.strip())
    return mnt


def umount(mnt):
    subprocess.run(["umount", "-l", mnt])
    os.rmdir(mnt)


def fill(path):
    """Writes zeros to path until the file system is full."""
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
    # and the last few bytes a 64 KiB chunk could not take
    with open(path, "ab", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass


def storage(d):
    return d.ok({"op": "stats"})["storage"]


def completed(d, sid):
    return {t["number"]: t["objective"] for t in d.trials(sid)
            if t["status"] == "completed"}


def stopped_and_held(d, sid, code):
    """The outage is reported, no trial runs, the sweep is still running."""
    st = wait_for(lambda: not storage(d)["ok"] and storage(d), timeout=20)
    assert st and st["error"] == code, st
    assert wait_for(lambda: d.ok({"op": "stats"})["running"] == 0, timeout=20)
    time.sleep(0.5)
    assert d.ok({"op": "stats"})["running"] == 0   # none starts
    r = d.ok({"op": "sweep", "sweep": sid})
    assert r["sweep"]["status"] == "running", r
    assert r["storage"]["error"] == code and r["storage"]["message"], r
    for args in (["stats"], ["status", str(sid)]):   # people see it too
        out = d.ctl(*args, check=0).stdout
        assert "storage" in out and code in out, out
    return st


def _disk_full_holds_the_sweep_and_loses_nothing():
    # 8 MiB: room for the WAL to reach its 4 MiB checkpoint once the filler
    # is gone (in 2 MiB it would fill the disk again by itself)
    mnt = tmpfs("8m")
    log = tempfile.mktemp(prefix="sweepd-test-", suffix=".log")
    d = None
    try:
        state = os.path.join(mnt, "state")
        d = Daemon(state_dir=state, extra=["--log", log])
        d.log = log
        d.start()
        sid = d.submit(fake_spec(trials=30, parallel=2,
                                 params={"sleep_ms": 40, "epochs": 5,
                                         "x": {"uniform": [0, 1]}},
                                 limits={"max_failures": 1}))
        assert wait_for(lambda: len(completed(d, sid)) >= 3, timeout=30)
        fill(os.path.join(mnt, "filler"))
        st = stopped_and_held(d, sid, "disk_full")
        assert "disk full" in st["message"], st
        acked = completed(d, sid)
        assert acked
        # reads are served; writes say exactly what is wrong
        assert d.ok({"op": "best", "sweep": sid})["trial"]["number"] in acked
        r = d.request({"op": "submit", "spec": fake_spec(name="later")})
        assert not r["ok"] and r["error"]["code"] == "disk_full", r
        assert "storage: cannot store" in d.log_text(), d.log_text()
        assert "disk full" in d.log_text()
        # space comes back: the sweep goes on by itself and finishes
        os.unlink(os.path.join(mnt, "filler"))
        s = d.wait_sweep(sid, timeout=90)
        assert s["status"] == "completed", s
        assert s["counts"]["completed"] == 30, s
        assert storage(d) == {"ok": True}
        got = completed(d, sid)
        assert all(got[n] == v for n, v in acked.items()), (acked, got)
        assert "writes go through again" in d.log_text()
        d.stop()
        d = Daemon(state_dir=state, extra=["--log", log]).start()
        assert completed(d, sid) == got
        con = sqlite3.connect(os.path.join(state, "sweepd.db"))
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
    finally:
        if d:
            d.cleanup()
        umount(mnt)
        if os.path.exists(log):
            os.unlink(log)


def chattr(flag, *paths):
    p = subprocess.run(["chattr", flag] + list(paths), capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise Skip("chattr %s: %s" % (flag, p.stderr.strip()))


def _database_made_read_only_while_running():
    """chattr +i: as root, file modes do not stop writes; the immutable flag
    does (EPERM), which the daemon reports as read_only."""
    if os.geteuid() != 0:
        raise Skip("chattr +i needs root")
    d = Daemon().start()
    files = [os.path.join(d.dir, f) for f in ("sweepd.db", "sweepd.db-wal")]
    try:
        sid = d.submit(fake_spec(trials=20, parallel=2,
                                 params={"sleep_ms": 40, "epochs": 5}))
        assert wait_for(lambda: len(completed(d, sid)) >= 2, timeout=30)
        chattr("+i", *files)
        try:
            st = stopped_and_held(d, sid, "read_only")
            assert "read-only" in st["message"], st
            acked = completed(d, sid)
            r = d.request({"op": "pause", "sweep": sid})
            assert not r["ok"] and r["error"]["code"] == "read_only", r
        finally:
            chattr("-i", *files)
        s = d.wait_sweep(sid, timeout=60)
        assert s["status"] == "completed" and s["counts"]["completed"] == 20, s
        got = completed(d, sid)
        assert all(got[n] == v for n, v in acked.items())
    finally:
        d.cleanup()


def _read_only_database_refuses_to_start():
    if os.geteuid() != 0:
        raise Skip("chattr +i needs root")
    d = Daemon().start()
    db = os.path.join(d.dir, "sweepd.db")
    try:
        d.submit(fake_spec(trials=1))
        d.stop()
        chattr("+i", db)
        try:
            p = subprocess.run([SWEEPD, "--state-dir", d.dir], capture_output=True,
                               text=True, timeout=10)
        finally:
            chattr("-i", db)
        assert p.returncode == 1, p
        assert "sweepd.db" in p.stderr and "read-only" in p.stderr, p.stderr
    finally:
        d.cleanup()


def _corrupted_page_refuses_to_start():
    d = Daemon().start()
    db = os.path.join(d.dir, "sweepd.db")
    try:
        sid = d.submit(fake_spec(trials=3))
        d.wait_sweep(sid)
        d.stop()   # checkpointed into the main file
        size = os.path.getsize(db)
        assert size >= 4 * 4096, size
        with open(db, "r+b") as f:   # page 3: a b-tree page, not the header
            f.seek(2 * 4096)
            f.write(bytes((i * 37 + 11) & 0xff for i in range(4096)))
        p = subprocess.run([SWEEPD, "--state-dir", d.dir], capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == 1, p
        assert "sweepd.db" in p.stderr and "corrupt" in p.stderr, p.stderr
    finally:
        d.cleanup()


TESTS = [
    with_daemon(_silent_trainer_is_stopped_as_stall, serving_after=True),
    with_daemon(_reporting_trainer_is_not_a_stall, serving_after=True),
    with_daemon(_class_not_in_retry_on_is_not_retried, serving_after=True),
    with_daemon(_class_in_retry_on_is_retried, serving_after=True),
    with_daemon(_stall_is_retried_when_listed, serving_after=True),
    with_daemon(_allocating_past_memory_mb_fails_as_oom, serving_after=True),
    with_daemon(_allocating_within_memory_mb_completes, serving_after=True),
    with_daemon(_nice_is_applied_to_the_trainer, serving_after=True),
    _sigint_requeues_like_sigterm,
    with_daemon(_sighup_reopens_the_log, serving_after=True),
    _detach_returns_once_listening,
    _disk_full_holds_the_sweep_and_loses_nothing,
    _database_made_read_only_while_running,
    _read_only_database_refuses_to_start,
    _corrupted_page_refuses_to_start,
]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
