"""Trainers that crash, hang, lie or flood: each ends as a failed trial with
a clear reason, and the daemon serves on."""
import json
import os
import tempfile
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import (Daemon, Skip, fake_spec, pids_with_env, run_tests,
                      session_leaders, wait_for, with_daemon, base_cgroup)


def pid_alive(pid):
    """Whether pid runs (a zombie is not running)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def one_trial(d, mode, timeout=60, **top):
    spec = fake_spec(trials=1, parallel=1, params={"mode": mode}, **top)
    sid = d.submit(spec)
    d.wait_sweep(sid, timeout=timeout)
    ts = d.trials(sid)
    assert len(ts) == 1, ts
    full = d.ok({"op": "trial", "sweep": sid, "number": 1})["trial"]
    return full


def failed_with(t, cls, words):
    assert t["status"] == "failed", t
    err = t["error"] or {}
    assert err.get("class") == cls, err
    assert words in err.get("message", ""), err


def _segv_is_a_signal_failure(d):
    t = one_trial(d, "segv")
    failed_with(t, "signal", "signal 11")
    assert t["error"]["signal"] == 11
    assert len(t["curve"]) == 1, t["curve"]   # epoch 1 was committed


def _sigkill_is_a_signal_failure(d):
    failed_with(one_trial(d, "kill"), "signal", "signal 9")


def _nonzero_exit_keeps_stderr_tail(d):
    t = one_trial(d, "exit3")
    failed_with(t, "exit", "status 3")
    assert t["error"]["exit_code"] == 3
    assert "something went wrong" in (t.get("stderr_tail") or ""), t


def _garbage_line_is_quoted(d):
    t = one_trial(d, "garbage")
    failed_with(t, "protocol", "this is not json")


def _oversized_line_fails_the_trial(d):
    failed_with(one_trial(d, "huge_line"), "protocol", "64 KiB")


def _exit_zero_before_the_last_epoch_without_final_line_fails(d):
    # Every epoch then exit 0 without the final line completes (with a
    # note): test_morning.py. Stopping short of the epochs param does not.
    failed_with(one_trial(d, "short_no_final"), "exit", "final")


def _missing_objective_fails(d):
    failed_with(one_trial(d, "no_metric"), "exit", "val_acc")


def _closed_report_fd_fails(d):
    t = one_trial(d, "close_fd3")
    assert t["status"] == "failed", t


def _timeout_stops_a_hung_trainer(d):
    t = one_trial(d, "hang", limits={"trial_timeout_s": 0.5})
    failed_with(t, "timeout", "timed out")


def _sigterm_ignored_means_sigkill(d):
    t0 = time.time()
    spec = fake_spec(trials=1, parallel=1,
                     params={"mode": "ignore_term", "sleep_ms": 60000},
                     limits={"trial_timeout_s": 0.3})
    sid = d.submit(spec)
    s = d.wait_sweep(sid, timeout=30)
    t = d.trials(sid)[0]
    failed_with(t, "timeout", "timed out")
    assert time.time() - t0 >= 5, "SIGKILL came before the 5 s grace"


def _grandchildren_are_killed_with_the_trial(d):
    mark = "SWEEPTEST_FORK_%d" % os.getpid()
    spec = fake_spec(trials=1, parallel=1, params={"mode": "fork"})
    spec["trainer"]["env"] = {"SWEEPTEST_MARK": mark}
    sid = d.submit(spec)
    d.wait_sweep(sid)
    assert d.trials(sid)[0]["status"] == "completed"
    assert wait_for(lambda: not pids_with_env("SWEEPTEST_MARK=" + mark)), \
        "the trainer's child outlived the trial"


def kill_all(pids):
    for pid in pids:   # whatever the daemon left, so as not to leak it
        try:
            os.kill(pid, 9)
        except OSError:
            pass


def _escaped_grandchild_is_killed_with_the_trial(d):
    """A double-forked, setsid()ed grandchild holding fd 3 is outside the
    trial's process group; it must not outlive the trial all the same."""
    mark = "SWEEPTEST_ESCAPE_%d" % os.getpid()
    spec = fake_spec(trials=1, parallel=1, params={"mode": "escape", "epochs": 2})
    spec["trainer"]["env"] = {"SWEEPTEST_MARK": mark}
    try:
        sid = d.submit(spec)
        d.wait_sweep(sid)
        assert d.trials(sid)[0]["status"] == "completed", d.trials(sid)
        assert wait_for(lambda: not pids_with_env("SWEEPTEST_MARK=" + mark), 5), \
            "the escaped grandchild outlived the trial: %r" % pids_with_env(
                "SWEEPTEST_MARK=" + mark)
    finally:
        kill_all(pids_with_env("SWEEPTEST_MARK=" + mark))


def _helper_of_a_running_trainer_is_spared(d):
    """A process a trainer put in a session of its own lives as long as the
    trainer does, though it is reparented to the daemon: other trials that
    end meanwhile do not kill it. It goes when its trainer has gone."""
    mark = "SWEEPTEST_HELPER_%d" % os.getpid()
    spec = fake_spec(name="a", trials=1, parallel=1,
                     params={"mode": "escape", "sleep_ms": 1500, "epochs": 2})
    spec["trainer"]["env"] = {"SWEEPTEST_MARK": mark}
    try:
        a = d.submit(spec)
        assert wait_for(lambda: len(session_leaders(mark)) == 2), \
            pids_with_env("SWEEPTEST_MARK=" + mark)
        helper = set(session_leaders(mark))
        b = d.submit(fake_spec(name="b", trials=3, parallel=1, params={"epochs": 1}))
        d.wait_sweep(b)
        assert d.ok({"op": "sweep", "sweep": a})["sweep"]["status"] == "running"
        assert helper <= set(pids_with_env("SWEEPTEST_MARK=" + mark)), \
            "a running trainer's helper was killed"
        d.wait_sweep(a)
        assert d.trials(a)[0]["status"] == "completed", d.trials(a)
        assert wait_for(lambda: not pids_with_env("SWEEPTEST_MARK=" + mark), 5), \
            pids_with_env("SWEEPTEST_MARK=" + mark)
    finally:
        kill_all(pids_with_env("SWEEPTEST_MARK=" + mark))


def _escaped_grandchild_is_killed_at_shutdown(extra=()):
    mark = "SWEEPTEST_ESCSHUT_%d" % os.getpid()
    d = Daemon(extra=extra).start()
    try:
        spec = fake_spec(trials=1, parallel=1,
                         params={"mode": "escape", "sleep_ms": 60000, "epochs": 1})
        spec["trainer"]["env"] = {"SWEEPTEST_MARK": mark}
        d.submit(spec)
        assert wait_for(lambda: len(session_leaders(mark)) >= 2), \
            pids_with_env("SWEEPTEST_MARK=" + mark)
        assert d.stop() == 0
        assert wait_for(lambda: not pids_with_env("SWEEPTEST_MARK=" + mark), 5), \
            "descendants outlived the daemon's shutdown: %r" % pids_with_env(
                "SWEEPTEST_MARK=" + mark)
    finally:
        d.cleanup()
        kill_all(pids_with_env("SWEEPTEST_MARK=" + mark))


def _flooding_trainer_keeps_memory_bounded(d):
    before = d.ok({"op": "stats"})["rss_kb"]
    t = one_trial(d, "flood", timeout=120)
    assert t["status"] == "completed", t
    assert len(t["stderr_tail"]) <= 4096
    after = d.ok({"op": "stats"})["rss_kb"]
    assert after - before < 20 * 1024, (before, after)


def _python_nan_is_read_and_stops_the_trial(d):
    spec = fake_spec(trials=1, parallel=1, params={"mode": "pynan", "epochs": 8})
    sid = d.submit(spec)
    d.wait_sweep(sid)
    t = d.ok({"op": "trial", "sweep": sid, "number": 1})["trial"]
    assert t["status"] == "pruned", t
    assert t["diagnosis"]["verdict"] == "diverged", t["diagnosis"]
    assert len(t["curve"]) == 3, t["curve"]   # stopped at the first NaN


def _missing_command_fails_cleanly(d):
    # A missing command is refused at submit (test_morning.py); one that
    # cannot be executed at spawn time (its interpreter is missing) fails
    # its trial, naming it.
    spec = fake_spec(trials=1, parallel=1)
    spec["trainer"]["command"] = ["/nonexistent/trainer"]
    r = d.request({"op": "submit", "spec": spec})
    assert not r["ok"] and "/nonexistent/trainer" in r["error"]["message"], r
    script = os.path.join(d.dir, "t.sh")
    with open(script, "w") as f:
        f.write("#!/nonexistent/interpreter\n")
    os.chmod(script, 0o755)
    spec["trainer"]["command"] = [script]
    sid = d.submit(spec)
    d.wait_sweep(sid)
    t = d.trials(sid)[0]
    assert t["status"] == "failed" and script in t["error"]["message"], t
    # its cgroup, where there is one, is left with nothing in it: kept
    # for the next attempt
    assert wait_for(lambda: busy_cgroups(d) == []), busy_cgroups(d)
    assert len(trial_cgroups(d)) <= 1, trial_cgroups(d)


def trial_cgroups(d):
    """The names of the trial cgroups under the daemon's (none without
    one): busy, kept for the next attempt, or still emptying."""
    base = d.ok({"op": "stats"})["trial_cgroups"]
    # the suite's own cleanup of killed daemons' cgroups (sweeplib) finds
    # them where the daemon says they are
    assert not base or base == base_cgroup(d.dir), (base, base_cgroup(d.dir))
    if not base:
        return []
    return sorted(n for n in os.listdir(base)
                  if os.path.isdir(os.path.join(base, n)))


def busy_cgroups(d):
    """Those of trial_cgroups with a process in them (or under them)."""
    base = d.ok({"op": "stats"})["trial_cgroups"]
    busy = []
    for n in trial_cgroups(d):
        try:
            with open(os.path.join(base, n, "cgroup.events")) as f:
                if "populated 1" in f.read():
                    busy.append(n)
        except FileNotFoundError:
            pass   # removed meanwhile
    return busy


def recorded_cgroups(path):
    """The cgroup of each trial the fake trainer recorded in path (the
    last part of its path: the name under the daemon's base)."""
    with open(path) as f:
        return [os.path.basename(json.loads(line)["cgroup"]) for line in f]


def _ended_trials_leave_no_cgroup(d):
    """Each attempt's cgroup is left with nothing in it when its trainer
    exits: kept for the next attempt when its trainer left it empty (so
    that no more are made than run at once), killed and removed when
    something was left in it (escape), and such a cgroup is never given
    to a later trial: Linux kills at birth what is cloned into a cgroup
    once killed, so the trials after the escapes would fail."""
    if not d.ok({"op": "stats"})["trial_cgroups"]:
        raise Skip("no trial cgroups here")
    rec = [os.path.join(d.dir, "rec%d.jsonl" % i) for i in range(3)]
    sid = d.submit(fake_spec(trials=6, parallel=2, params={
        "epochs": 2, "record": rec[0]}))
    assert d.wait_sweep(sid)["status"] == "completed"
    used = recorded_cgroups(rec[0])
    assert len(used) == 6 and len(set(used)) <= 2, used
    assert wait_for(lambda: busy_cgroups(d) == []), busy_cgroups(d)
    assert set(trial_cgroups(d)) <= set(used), (trial_cgroups(d), used)
    sid = d.submit(fake_spec(trials=2, parallel=2, params={
        "mode": "escape", "epochs": 1, "record": rec[1]}))
    d.wait_sweep(sid)
    escaped = recorded_cgroups(rec[1])
    assert len(escaped) == 2, escaped
    assert wait_for(lambda: not set(escaped) & set(trial_cgroups(d))), \
        (escaped, trial_cgroups(d))
    sid = d.submit(fake_spec(trials=4, parallel=2, params={
        "epochs": 2, "record": rec[2]}))
    s = d.wait_sweep(sid)
    assert s["status"] == "completed", d.trials(sid)
    after = recorded_cgroups(rec[2])
    assert len(after) == 4 and not set(after) & set(escaped), (after, escaped)
    assert wait_for(lambda: busy_cgroups(d) == []), busy_cgroups(d)


WRITER_TRAINER = r"""#!/bin/sh
# Reports its epochs, then writes 1 to its own cgroup's file $2 (and so,
# for cgroup.freeze, freezes itself: the daemon's timeout ends it; for
# cgroup.kill, ends itself and all it started, as a process manager run
# inside it might).
cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
mnt=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
echo "$cg" >> "$1"
for e in 1 2; do echo "{\"epoch\": $e, \"val_acc\": 0.5}" >&3; done
echo '{"final": true}' >&3
echo 1 > "$mnt$cg/$2"
sleep 60
"""


def cgroup_writer_then_two(d, cgfile, timeout_s):
    """A trial whose trainer writes its own cgroup's cgfile (limits
    trial_timeout_s timeout_s), then a sweep of two fake trials one at a
    time, which must complete. The writer's trial, its cgroup's name and
    the two trials' cgroups."""
    if not d.ok({"op": "stats"})["trial_cgroups"]:
        raise Skip("no trial cgroups here")
    script = os.path.join(d.dir, "writer.sh")
    rec = os.path.join(d.dir, "writer.rec")
    after = os.path.join(d.dir, "after.rec")
    with open(script, "w") as f:
        f.write(WRITER_TRAINER)
    os.chmod(script, 0o755)
    spec = fake_spec(trials=1, parallel=1, limits={"trial_timeout_s": timeout_s})
    spec["trainer"]["command"] = [script, rec, cgfile]
    sid = d.submit(spec)
    d.wait_sweep(sid, timeout=60)
    t = d.trials(sid)[0]
    written = os.path.basename(open(rec).read().strip())
    sid = d.submit(fake_spec(trials=2, parallel=1, params={
        "epochs": 2, "record": after}, limits={"trial_timeout_s": 20}))
    assert d.wait_sweep(sid, timeout=60)["status"] == "completed", d.trials(sid)
    return t, written, recorded_cgroups(after)


def _frozen_cgroup_is_not_given_again(d):
    """A trainer that leaves its cgroup frozen: that cgroup is retired, not
    kept, so the next trials do not start frozen (they would hang until
    their timeout) and complete."""
    t, frozen, after = cgroup_writer_then_two(d, "cgroup.freeze", 2)
    assert t["status"] == "failed" and "timed out" in t["error"]["message"], t
    assert frozen not in after, (frozen, after)
    assert wait_for(lambda: frozen not in trial_cgroups(d)), trial_cgroups(d)


def _self_killed_cgroup_is_not_given_again(d):
    """A trainer that writes its own cgroup's cgroup.kill leaves a cgroup
    that looks as made (empty, unfrozen) but that Linux kills at birth
    whatever is cloned into next: it must not be kept, or every later
    trial in it dies of SIGKILL before its first line."""
    _, killed, after = cgroup_writer_then_two(d, "cgroup.kill", 20)
    assert killed not in after, (killed, after)


NEST_TRAINER = r"""#!/bin/sh
# Makes cgroups inside its own trial's cgroup and leaves a sleeper two
# levels down, as a trainer that runs its work under systemd-run or a
# container tool might: the trial's cgroup cannot be removed until those
# are.
cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
base="$1" pidfile="$2"
dir="$base/${cg##*/}"
mkdir -p "$dir/nest/deeper" || exit 7
sh -c 'echo $$ > "$1/nest/deeper/cgroup.procs" && echo $$ > "$2" && exec sleep 600' \
    sh "$dir" "$pidfile" &
i=0
while [ ! -s "$pidfile" ]; do
    i=$((i + 1)); [ $i -lt 500 ] || exit 8; sleep 0.01
done
for e in 1 2; do echo "{\"epoch\": $e, \"val_acc\": 0.5}" >&3; done
echo '{"final": true}' >&3
"""


def _nested_cgroups_are_removed_with_the_trial(d):
    """A trainer that makes cgroups inside its own (and leaves a process
    in one of them) leaves nothing: the process is killed and every
    cgroup under the trial's removed, deepest first."""
    base = d.ok({"op": "stats"})["trial_cgroups"]
    if not base:
        raise Skip("no trial cgroups here")
    script = os.path.join(d.dir, "nest.sh")
    pidfile = os.path.join(d.dir, "nest.pid")
    with open(script, "w") as f:
        f.write(NEST_TRAINER)
    os.chmod(script, 0o755)
    spec = fake_spec(trials=1, parallel=1, params={"epochs": 2})
    spec["trainer"]["command"] = [script, base, pidfile]
    sid = d.submit(spec)
    assert d.wait_sweep(sid)["status"] == "completed", d.trials(sid)
    pid = int(open(pidfile).read())
    assert wait_for(lambda: not pid_alive(pid)), "the nested sleeper lives"
    # the trial's cgroup held cgroups of its own: not kept, but removed
    assert wait_for(lambda: trial_cgroups(d) == []), trial_cgroups(d)


def _missing_command_is_named_under_limits(d):
    """Limits (and a cgroup) are set in the spawned child before it execs:
    its exec failing must read like uv_spawn's, not "exited with 127"."""
    # nice, not memory_mb: RLIMIT_AS leaves an ASan-built sweepd no room
    # A missing command is refused at submit now; an interpreter that is
    # missing is only found when the kernel execs the script.
    spec = fake_spec(trials=1, parallel=1, limits={"nice": 1})
    script = os.path.join(d.dir, "t.sh")
    with open(script, "w") as f:
        f.write("#!/nonexistent/interpreter\n")
    os.chmod(script, 0o755)
    spec["trainer"]["command"] = [script]
    sid = d.submit(spec)
    d.wait_sweep(sid)
    t = d.trials(sid)[0]
    msg = t["error"]["message"]
    assert t["status"] == "failed" and msg.startswith("cannot start " + script), t


def _missing_cwd_is_named(d):
    """A cwd missing at submit is refused there; one removed after submit,
    before its trial starts, must still be named when the trial fails."""
    spec = fake_spec(trials=1, parallel=1)
    spec["trainer"]["cwd"] = "/nonexistent/workdir"
    r = d.request({"op": "submit", "spec": spec})
    assert not r["ok"] and "trainer.cwd" in r["error"]["message"], r
    # Hold every worker with hanging trials so the second sweep queues.
    blocker = d.submit(fake_spec(trials=d.workers, parallel=d.workers,
                                 params={"mode": "hang"}))
    wait_for(lambda: sum(t["status"] == "running"
                         for t in d.trials(blocker)) == d.workers)
    workdir = tempfile.mkdtemp(dir=d.dir)
    spec["trainer"]["cwd"] = workdir
    sid = d.submit(spec)
    os.rmdir(workdir)
    d.ok({"op": "cancel", "sweep": blocker})
    d.wait_sweep(sid)
    t = d.trials(sid)[0]
    msg = t["error"]["message"]
    assert t["status"] == "failed" and workdir in msg and "cwd" in msg, t


TESTS = [with_daemon(f, serving_after=True) for f in [
    _segv_is_a_signal_failure, _sigkill_is_a_signal_failure,
    _nonzero_exit_keeps_stderr_tail, _garbage_line_is_quoted,
    _oversized_line_fails_the_trial, _exit_zero_before_the_last_epoch_without_final_line_fails,
    _missing_objective_fails, _closed_report_fd_fails,
    _timeout_stops_a_hung_trainer, _sigterm_ignored_means_sigkill,
    _grandchildren_are_killed_with_the_trial,
    _flooding_trainer_keeps_memory_bounded,
    _python_nan_is_read_and_stops_the_trial, _missing_command_fails_cleanly,
    _missing_cwd_is_named, _missing_command_is_named_under_limits,
    _ended_trials_leave_no_cgroup, _frozen_cgroup_is_not_given_again,
    _self_killed_cgroup_is_not_given_again,
    _nested_cgroups_are_removed_with_the_trial,
    _escaped_grandchild_is_killed_with_the_trial,
    _helper_of_a_running_trainer_is_spared]]
TESTS.append(_escaped_grandchild_is_killed_at_shutdown)
# The fallback where no cgroup v2 can be had: the subreaper alone.
NO_CG = ["--no-cgroups"]


def _without_cgroups_escaped_grandchild_is_killed_with_the_trial(d):
    _escaped_grandchild_is_killed_with_the_trial(d)


def _without_cgroups_helper_of_a_running_trainer_is_spared(d):
    _helper_of_a_running_trainer_is_spared(d)


def _without_cgroups_escaped_grandchild_is_killed_at_shutdown():
    _escaped_grandchild_is_killed_at_shutdown(NO_CG)


TESTS += [with_daemon(f, serving_after=True, extra=NO_CG) for f in [
    _without_cgroups_escaped_grandchild_is_killed_with_the_trial,
    _without_cgroups_helper_of_a_running_trainer_is_spared]]
TESTS.append(_without_cgroups_escaped_grandchild_is_killed_at_shutdown)

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
