"""Trials through a real Slurm: the srun command line that
daemon/proc/slurm.c builds (printed by tests/proc/slurm_argv) runs the fake
trainer and the built-in trainer on the cluster; their `SWEEP` report lines
come back through srun's stdout while the job runs, and squeue finds the
job by its name. Skips, saying why, unless a cluster answers `sinfo`
(scripts/slurm-cluster.sh start brings one up, as root; CI does)."""
import json
import os
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import FAKE, WORKER, Skip, run_tests, slurm_or_skip

ARGV = os.environ.get("SLURM_ARGV", "")
LIMIT = 120   # s: a test that waits longer than this fails, never hangs
# a sweep id of this run's own: squeue remembers ended jobs for MinJobAge
RUN = os.getpid() * 1000 + int(time.time()) % 1000


def need():
    if not ARGV or not os.path.exists(ARGV):
        raise Skip("tests/proc/slurm_argv not built")
    slurm_or_skip()


def tool(*args, stdin=None):
    p = subprocess.run([ARGV] + [str(a) for a in args], input=stdin, capture_output=True,
                       timeout=LIMIT)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def srun_argv(opts, sweep, trial, attempt, cpus, gpus, mem, trainer):
    rc, out, err = tool("srun", json.dumps(opts), sweep, trial, attempt, cpus, gpus, mem,
                        *trainer)
    assert rc == 0, err
    return [a.decode() for a in out.split(b"\0")[:-1]]


def find(name):
    """(id, state, class, matches) of the job named name, or None."""
    rc, out, err = tool("squeue", name)
    assert rc == 0, err
    q = subprocess.run([a.decode() for a in out.split(b"\0")[:-1]], capture_output=True,
                       timeout=LIMIT)
    assert q.returncode == 0, q.stderr
    rc, out, err = tool("find", name, stdin=q.stdout)
    assert rc in (0, 1), err
    if rc == 1:
        return None
    jid, state, cls, matches = out.decode().split()
    return int(jid), state, cls, int(matches)


def trial_env(params):
    # as the daemon's child has it: SWEEP_REPORT_FD=3, which means nothing
    # on the node (srun does not pass fd 3 on)
    return dict(os.environ, SWEEP_PARAMS=json.dumps(params), SWEEP_SEED="7",
                SWEEP_REPORT_FD="3", SWEEP_ATTEMPT="1")


def read_lines(p, on_first=None):
    """Every stdout line of p until EOF, and whether the first report line
    came while p still ran; on_first() is called right then."""
    lines, buf, live, t0 = [], b"", None, time.monotonic()
    while True:
        assert time.monotonic() - t0 < LIMIT, "srun still running after %d s" % LIMIT
        r, _, _ = select.select([p.stdout], [], [], 1.0)
        if not r:
            continue
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        *whole, buf = buf.split(b"\n")
        for ln in whole:
            lines.append(ln.decode())
            if live is None and ln.startswith(b"SWEEP "):
                live = p.poll() is None
                if on_first:
                    on_first()
    assert buf == b"", "bytes after the last newline: %r" % buf
    return lines, live


def test_fake_trainer_reports_through_srun_and_squeue_finds_its_job():
    need()
    name = "sweepd-%d-901-1" % RUN
    argv = srun_argv({"time": "00:05:00"}, RUN, 901, 1, 1, 0, 0, [FAKE])
    seen = []
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=trial_env({"mode": "stdout", "epochs": 20, "sleep_ms": 300}))
    try:
        lines, live = read_lines(p, on_first=lambda: seen.append(find(name)))
    finally:
        if p.poll() is None:
            p.kill()
        err = p.communicate(timeout=LIMIT)[1].decode(errors="replace")
    assert p.returncode == 0, err
    reports = [json.loads(ln[len("SWEEP "):]) for ln in lines if ln.startswith("SWEEP ")]
    assert [x.get("epoch") for x in reports[:-1]] == list(range(1, 21)), lines
    assert reports[-1].get("final") is True, lines
    assert "some ordinary output" in lines, lines
    # the first line came while the trainer still ran: forwarded line by
    # line, not at exit; and squeue found the job then, running
    assert live, "the first report line arrived only after srun exited"
    assert seen and seen[0] is not None, "squeue did not find %s while it ran" % name
    jid, state, cls, matches = seen[0]
    assert (state, cls, matches) == ("RUNNING", "running", 1), seen
    assert jid > 0
    after = find(name)   # ended, or already forgotten by Slurm
    assert after is None or (after[0] == jid and after[2] in ("running", "ended")), after


def test_builtin_trainer_reports_on_stdout_under_srun():
    need()
    if not WORKER:
        raise Skip("sweep-worker not built")
    argv = srun_argv({}, RUN, 902, 2, 1, 0, 0, [WORKER])
    params = {"dataset": "synthetic", "synthetic_size": 600, "val_size": 200,
              "synthetic_test_size": 100, "epochs": 3}
    p = subprocess.run(argv, capture_output=True, env=trial_env(params), timeout=LIMIT)
    out, err = p.stdout.decode(), p.stderr.decode(errors="replace")
    # exit 2 "SWEEP_REPORT_FD: '3' is not an open file descriptor" if the
    # variable reached the trainer
    assert p.returncode == 0, err
    reports = [json.loads(ln[len("SWEEP "):]) for ln in out.splitlines()
               if ln.startswith("SWEEP ")]
    assert [x.get("epoch") for x in reports[:-1]] == [1, 2, 3], out
    assert reports[-1].get("final") is True and "test_acc" in reports[-1], out


def test_an_impossible_request_is_refused_not_left_pending():
    need()
    argv = srun_argv({}, RUN, 903, 1, 1, 1000, 0, [FAKE])
    p = subprocess.run(argv, capture_output=True, env=trial_env({"epochs": 1}), timeout=LIMIT)
    err = p.stderr.decode(errors="replace")
    assert p.returncode != 0, err
    assert "srun: error:" in err, err
    job = find("sweepd-%d-903-1" % RUN)
    assert job is None or job[2] == "ended", job


def test_an_unknown_partition_is_refused():
    need()
    argv = srun_argv({"partition": "sweepd-no-such-partition"}, RUN, 904, 1, 1, 0, 0, [FAKE])
    p = subprocess.run(argv, capture_output=True, env=trial_env({"epochs": 1}), timeout=LIMIT)
    err = p.stderr.decode(errors="replace")
    assert p.returncode != 0, err
    assert "nvalid partition" in err, err


# A task that leaves a grandchild in a session of its own, which writes its
# pid to PIDFILE and sleeps; HOLD keeps srun's stdout open in it. Then the
# task prints "started" and sleeps (or exits, with EXIT).
GRANDCHILD = r"""
if [ -n "$HOLD" ]; then
    setsid -f sh -c 'echo $$ > "$PIDFILE.tmp"; mv "$PIDFILE.tmp" "$PIDFILE"; exec sleep 600' </dev/null
else
    setsid -f sh -c 'echo $$ > "$PIDFILE.tmp"; mv "$PIDFILE.tmp" "$PIDFILE"; exec sleep 600' </dev/null >/dev/null 2>&1
fi
while [ ! -s "$PIDFILE" ]; do sleep 0.05; done
echo started
[ -n "$EXIT" ] && exit 0
exec sleep 600
"""


def proc_start(pid):
    """(start time, state) of pid from /proc, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[19], fields[0]


def alive(pid, start):
    """pid is the process that started at start, and not a zombie (PID 1
    here reaps slowly: a dead grandchild can stay Z for a while)."""
    st = proc_start(pid)
    return st is not None and st[0] == start and st[1] not in ("Z", "X")


def gone_within(pid, start, limit):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if not alive(pid, start):
            return True
        time.sleep(0.1)
    return False


def proctrack():
    p = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True,
                       timeout=LIMIT)
    assert p.returncode == 0, p.stderr
    for ln in p.stdout.splitlines():
        k, _, v = ln.partition("=")
        if k.strip() == "ProctrackType":
            return v.strip()
    raise AssertionError("no ProctrackType in scontrol show config")


def grandchild_run(trial, how, hold=False):
    """Runs GRANDCHILD as trial `trial` of this run through the module's
    srun argv, ends it `how` ("cancel": scancel JOB; "kill": scancel
    --signal=KILL JOB.0, as the launcher does after the grace; "exit": the
    task exits by itself) and asserts that srun returns and the grandchild
    dies with its job."""
    need()
    track = proctrack()
    if track != "proctrack/cgroup":
        raise Skip("the cluster tracks a job's processes with %s, not proctrack/cgroup: "
                   "a process that leaves its session escapes its job there "
                   "(docs/slurm.md)" % track)
    name = "sweepd-%d-%d-1" % (RUN, trial)
    tmp = tempfile.mkdtemp(prefix="slurm-gc-")
    pidfile = os.path.join(tmp, "pid")
    argv = srun_argv({"time": "00:05:00"}, RUN, trial, 1, 1, 0, 0,
                     ["/bin/sh", "-c", GRANDCHILD])
    env = dict(trial_env({}), PIDFILE=pidfile, HOLD="1" if hold else "",
               EXIT="1" if how == "exit" else "")
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    pid = start = None
    try:
        line = p.stdout.readline()
        assert line == b"started\n", (line, p.poll())
        with open(pidfile) as f:
            pid = int(f.read())
        st = proc_start(pid)
        assert st is not None, "grandchild %d gone before its job ended" % pid
        start = st[0]
        job = find(name)
        assert job is not None, "squeue does not know %s" % name
        if how == "cancel":
            subprocess.run(["scancel", str(job[0])], check=True, timeout=LIMIT)
        elif how == "kill":
            subprocess.run(["scancel", "--signal=KILL", "%d.0" % job[0]], check=True,
                           timeout=LIMIT)
        try:
            p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("srun did not return within 60 s of the task's end "
                                 "(%s): a grandchild keeps its step alive" % how) from None
        assert gone_within(pid, start, 30), \
            "grandchild %d outlived its job (%s) by 30 s: it escaped the step" % (pid, how)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if pid is not None and start is not None and alive(pid, start):
            os.kill(pid, 9)
        subprocess.run(["rm", "-rf", tmp])


def test_a_setsid_grandchild_dies_when_its_job_is_cancelled():
    grandchild_run(905, "cancel")


def test_a_setsid_grandchild_dies_when_its_step_is_sigkilled():
    grandchild_run(906, "kill")


def test_a_setsid_grandchild_dies_when_its_task_exits():
    grandchild_run(907, "exit")


def test_a_grandchild_holding_stdout_does_not_keep_srun_running():
    grandchild_run(908, "exit", hold=True)


if __name__ == "__main__":
    sys.exit(run_tests([test_fake_trainer_reports_through_srun_and_squeue_finds_its_job,
                        test_builtin_trainer_reports_on_stdout_under_srun,
                        test_an_impossible_request_is_refused_not_left_pending,
                        test_an_unknown_partition_is_refused,
                        test_a_setsid_grandchild_dies_when_its_job_is_cancelled,
                        test_a_setsid_grandchild_dies_when_its_step_is_sigkilled,
                        test_a_setsid_grandchild_dies_when_its_task_exits,
                        test_a_grandchild_holding_stdout_does_not_keep_srun_running]))
