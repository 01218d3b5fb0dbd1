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


if __name__ == "__main__":
    sys.exit(run_tests([test_fake_trainer_reports_through_srun_and_squeue_finds_its_job,
                        test_builtin_trainer_reports_on_stdout_under_srun,
                        test_an_impossible_request_is_refused_not_left_pending,
                        test_an_unknown_partition_is_refused]))
