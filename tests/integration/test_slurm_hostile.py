"""Hostile trainers under the Slurm launcher behave as under the local one
(tests/trainers/hostile_trainer.py, the same program and params through
each, in one daemon): a trainer that floods stdout and stderr, one that
writes a 100 KiB SWEEP line, one that leaves a setsid grandchild and
exits (the grandchild dies), one that ignores SIGTERM (it gets SIGTERM,
then SIGKILL after the grace, and its allocation is freed), and one whose
epoch numbers go back. Each test compares the two runs' outcome: status,
error class and message, objective, epochs. Skips, saying why, unless a
cluster answers sinfo (scripts/slurm-cluster.sh start, as root;
scripts/test.sh does)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import SWEEPD, Daemon, Skip, run_tests, slurm_or_skip, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTILE = os.path.join(os.path.dirname(HERE), "trainers", "hostile_trainer.py")
PY = sys.executable
LIMIT = 180   # s: a wait longer than this fails, never hangs
ALIVE = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED",
         "RESIZING", "SIGNALING", "STAGE_OUT")
SLURM = {"slurm": {"time": "00:10:00"}}


def need():
    slurm_or_skip()
    if not SWEEPD or not os.path.exists(SWEEPD):
        raise Skip("sweepd not built")


def daemon_extra():
    """--slurm-local where this sweepd has it: the test cluster's only node
    is this machine, and the state dir is under /tmp."""
    p = subprocess.run([SWEEPD, "--help"], capture_output=True, text=True, timeout=30)
    return ["--slurm-local"] if "--slurm-local" in p.stdout + p.stderr else []


def daemon():
    return Daemon(workers=2, extra=daemon_extra()).start()


def spec(name, launcher, params, **top):
    space = {"x": 0.5}
    space.update(params)
    s = {"name": name, "trainer": {"command": [PY, HOSTILE]},
         "objective": {"metric": "val_acc", "mode": "max"}, "space": space,
         "search": {"algorithm": "random", "trials": 1, "parallel": 1, "seed": 5},
         "launcher": launcher}
    s.update(top)
    return s


def alive_jobs(sid):
    """(id, state) of sweep sid's Slurm jobs that still hold or wait for an
    allocation (by job name, sweepd-<sweep>-<trial>-<attempt>)."""
    p = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%i|%T|%j"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = []
    for line in p.stdout.splitlines():
        jid, state, name = line.split("|", 2)
        if name.startswith("sweepd-%d-" % sid) and state in ALIVE:
            out.append((jid, state))
    return out


def outcome(d, sid):
    """What a one-trial sweep came to, to compare between launchers."""
    s = d.wait_sweep(sid, timeout=LIMIT)
    t = d.trials(sid)[0]
    err = t.get("error") or {}
    msg = err.get("message") if isinstance(err, dict) else err
    # "trial 1 of sweep 7": the same under both but for the sweep id
    msg = re.sub(r"sweep \d+", "sweep N", msg) if isinstance(msg, str) else msg
    return {"sweep": s["status"], "trial": t["status"],
            "class": err.get("class") if isinstance(err, dict) else None, "message": msg,
            "objective": t.get("objective"), "epochs": t.get("epochs"),
            "best_epoch": t.get("best_epoch")}


def both(name, params, after=None, **top):
    """Runs spec(params) through the local launcher, then Slurm; after(d,
    sid, launcher), when given, runs while each sweep runs. Returns the two
    outcomes and the Slurm sweep's id."""
    need()
    d = daemon()
    try:
        res = {}
        for lname, launcher in (("local", "local"), ("slurm", SLURM)):
            sid = d.submit(spec("%s-%s" % (name, lname), launcher, params(lname), **top))
            if after:
                after(d, sid, lname)
            res[lname] = outcome(d, sid)
            if lname == "slurm":
                assert wait_for(lambda: not alive_jobs(sid), timeout=60, step=0.2), \
                    "sweep %d's job still holds its allocation: %s" % (sid, alive_jobs(sid))
        return res["local"], res["slurm"], d
    finally:
        d.cleanup()


def same(local, slurm):
    assert local == slurm, "local launcher: %s\nslurm launcher: %s" % (
        json.dumps(local, indent=1), json.dumps(slurm, indent=1))


def proc_alive(pid):
    """pid lives and is not a zombie (PID 1 here reaps slowly)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def read_pid(path):
    assert wait_for(lambda: os.path.exists(path), timeout=LIMIT, step=0.1), \
        "no pid written to %s" % path
    with open(path) as f:
        return int(f.read())


def kill_left(pidfiles):
    """SIGKILLs what a failed test left running (by its pid file)."""
    for path in pidfiles:
        try:
            with open(path) as f:
                pid = int(f.read())
        except (OSError, ValueError):
            continue
        if proc_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_trainer_flooding_stdout_and_stderr():
    local, slurm, _ = both("flood", lambda l: {"mode": "flood", "flood_mb": 4})
    same(local, slurm)
    assert local["trial"] == "completed", local


def test_a_100_kib_sweep_line():
    # under Slurm stdout is the only report channel: an overlong "SWEEP "
    # line there fails the trial as protocol, as on fd 3 locally (it was
    # skipped as the trainer's own output, and the epoch lost silently)
    local, slurm, _ = both("huge", lambda l: {"mode": "huge"})
    same(local, slurm)
    assert local["class"] == "protocol", local


def test_a_setsid_grandchild_left_behind_dies_with_its_trial():
    tmp = tempfile.mkdtemp(prefix="hostile-")
    files = {l: os.path.join(tmp, l + ".pid") for l in ("local", "slurm")}
    try:
        local, slurm, _ = both("orphan", lambda l: {"mode": "orphan", "pidfile": files[l]})
        same(local, slurm)
        assert local["trial"] == "completed", local
        for lname, path in files.items():
            pid = read_pid(path)
            assert wait_for(lambda: not proc_alive(pid), timeout=60, step=0.2), \
                "%s launcher: the trial's setsid grandchild %d outlived it" % (lname, pid)
    finally:
        kill_left(files.values())
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_trainer_that_ignores_sigterm_is_killed_after_the_grace():
    tmp = tempfile.mkdtemp(prefix="hostile-")
    pidf = {l: os.path.join(tmp, l + ".pid") for l in ("local", "slurm")}
    termf = {l: os.path.join(tmp, l + ".term") for l in ("local", "slurm")}
    pids = {}

    def cancel_when_running(d, sid, lname):
        pids[lname] = read_pid(pidf[lname])
        assert wait_for(lambda: (d.trials(sid)[0].get("epochs") or 0) >= 2, timeout=LIMIT,
                        step=0.1), d.trials(sid)
        d.ok({"op": "cancel", "sweep": sid})

    try:
        local, slurm, _ = both("noterm", lambda l: {"mode": "ignore_term", "epochs": 100000,
                                                    "pidfile": pidf[l], "termfile": termf[l]},
                               after=cancel_when_running)
        # outcome() compares epochs too; a cancelled run's count is when it
        # was cancelled, not the trainer's doing
        local.pop("epochs"), slurm.pop("epochs")
        same(local, slurm)
        assert local["sweep"] == "cancelled" and local["trial"] == "cancelled", local
        for lname in ("local", "slurm"):
            got = open(termf[lname]).read() if os.path.exists(termf[lname]) else ""
            # SIGTERM reached the trainer (scancel --signal=TERM, not srun's
            # SIGKILL at once), and it died all the same: SIGKILL after the
            # grace
            assert "TERM" in got, "%s launcher: the trainer never got SIGTERM" % lname
            assert wait_for(lambda: not proc_alive(pids[lname]), timeout=60, step=0.2), \
                "%s launcher: the trainer %d that ignores SIGTERM is still alive" % (
                    lname, pids[lname])
    finally:
        kill_left(pidf.values())
        shutil.rmtree(tmp, ignore_errors=True)


def test_epoch_numbers_that_go_back():
    local, slurm, _ = both("liar", lambda l: {"mode": "liar"})
    same(local, slurm)


if __name__ == "__main__":
    sys.exit(run_tests([test_a_trainer_flooding_stdout_and_stderr,
                        test_a_100_kib_sweep_line,
                        test_a_setsid_grandchild_left_behind_dies_with_its_trial,
                        test_a_trainer_that_ignores_sigterm_is_killed_after_the_grace,
                        test_epoch_numbers_that_go_back]))
