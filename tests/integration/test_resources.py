"""Resources per trial (issue 14): the spec's "resources" {cpus, gpus},
the daemon's --cpus and --gpus, a trial started only when its CPUs and
GPUs are free, never one GPU for two trials, each trial told its devices
(CUDA_VISIBLE_DEVICES, SWEEP_GPUS) and its thread count (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS unless the spec's env sets them), a
spec asking for more than the daemon has refused at submit, and stats
saying what is in use and free. No GPU on the test machines: the devices
are ids the fake trainer reads from its environment and records (param
"record") with its start and end times."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import (SWEEPD, Daemon, fake_spec, run_tests, wait_for,
                      with_daemon)


def records(path):
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip()]


def overlapping(recs):
    """Every set of records that run at one instant: at each start, the
    records whose interval contains it."""
    for r in recs:
        yield [o for o in recs if o["start"] <= r["start"] < o["end"]]


def run_spec(d, spec, path):
    sid = d.submit(spec)
    s = d.wait_sweep(sid, timeout=120)
    assert s["status"] == "completed", s
    return sid


def _gpus_one_each(d):
    path = os.path.join(d.dir, "rec.jsonl")
    spec = fake_spec(trials=6, parallel=4,
                     params={"sleep_ms": 120, "record": path},
                     resources={"gpus": 1})
    run_spec(d, spec, path)
    recs = records(path)
    assert len(recs) == 6, recs
    for r in recs:
        assert r["CUDA_VISIBLE_DEVICES"] in ("0", "1"), r
        assert r["SWEEP_GPUS"] == r["CUDA_VISIBLE_DEVICES"], r
    for group in overlapping(recs):
        assert len(group) <= 2, group
        ids = [r["CUDA_VISIBLE_DEVICES"] for r in group]
        assert len(set(ids)) == len(ids), group


def _cpus_sum_within_capacity(d):
    path = os.path.join(d.dir, "rec.jsonl")
    big = fake_spec(name="big", trials=5, parallel=4,
                    params={"sleep_ms": 100, "record": path},
                    resources={"cpus": 2})
    small = fake_spec(name="small", trials=8, parallel=4,
                      params={"sleep_ms": 100, "record": path})
    a, b = d.submit(big), d.submit(small)
    for sid in (a, b):
        assert d.wait_sweep(sid, timeout=120)["status"] == "completed"
    recs = records(path)
    assert len(recs) == 13, recs
    cpus = {str(a): 2, str(b): 1}
    for r in recs:
        want = str(cpus[r["SWEEP_SWEEP_ID"]])
        assert r["SWEEP_CPUS"] == want, r
        assert r["OMP_NUM_THREADS"] == want, r
    for group in overlapping(recs):
        used = sum(cpus[r["SWEEP_SWEEP_ID"]] for r in group)
        assert used <= 4, (used, group)


def _too_many_gpus_refused(d):
    r = d.request({"op": "submit", "spec": fake_spec(resources={"gpus": 3})})
    assert r["ok"] is False, r
    msg = r["error"]["message"]
    assert "resources.gpus" in msg and "3" in msg and "2 GPUs (0,1)" in msg, msg
    r = d.request({"op": "submit", "spec": fake_spec(resources={"cpus": 5})})
    assert r["ok"] is False, r
    msg = r["error"]["message"]
    assert "resources.cpus" in msg and "4 CPUs" in msg, msg
    assert d.ok({"op": "sweeps"})["sweeps"] == [], "a refused spec was stored"


def _no_gpu_daemon_refuses_gpus(d):
    r = d.request({"op": "submit", "spec": fake_spec(resources={"gpus": 1})})
    assert r["ok"] is False and "no GPUs" in r["error"]["message"], r


def _bad_resources_named(d):
    cases = [({"cpus": 0}, "resources.cpus"), ({"gpus": -1}, "resources.gpus"),
             ({"cpus": 1.5}, "resources.cpus"), ({"gpu": 1}, "gpu"),
             ("2", "resources")]
    for res, word in cases:
        r = d.request({"op": "submit", "spec": fake_spec(resources=res)})
        assert r["ok"] is False, (res, r)
        assert word in r["error"]["message"], (res, r)


def _thread_vars_unless_spec_env(d):
    path = os.path.join(d.dir, "rec.jsonl")
    spec = fake_spec(trials=1, parallel=1, params={"record": path},
                     resources={"cpus": 3})
    spec["trainer"]["env"] = {"OMP_NUM_THREADS": "7"}
    run_spec(d, spec, path)
    r, = records(path)
    assert r["OMP_NUM_THREADS"] == "7", r
    assert r["OPENBLAS_NUM_THREADS"] == "3" and r["MKL_NUM_THREADS"] == "3", r
    # a 0-GPU trial on a daemon with GPUs sees none of them
    assert r["CUDA_VISIBLE_DEVICES"] == "" and r["SWEEP_GPUS"] == "", r


def _stats_in_use_and_free(d):
    spec = fake_spec(trials=1, parallel=1,
                     params={"mode": "hang", "epochs": 3},
                     resources={"cpus": 3, "gpus": 1})
    sid = d.submit(spec)
    assert wait_for(lambda: d.ok({"op": "stats"})["running"] == 1)
    st = d.ok({"op": "stats"})
    assert st["cpus"] == {"total": 4, "used": 3, "free": 1}, st
    g = st["gpus"]
    assert len(g["used"]) == 1 and len(g["free"]) == 1, g
    assert sorted(g["used"] + g["free"]) == [0, 1] and g["total"] == 2, g
    out = d.ctl("stats", check=0).stdout
    assert "3 used, 1 free of 4" in out, out
    assert "1 used, 1 free of 2" in out, out
    out = d.ctl("status", str(sid), check=0).stdout
    assert "3 CPUs, 1 GPU per trial" in out, out
    # and what the daemon has in use and free, under the sweep's status
    assert "daemon      CPUs 3 used, 1 free of 4; GPUs 1 used, 1 free of 2\n" \
        in out, out
    d.ok({"op": "cancel", "sweep": sid})
    d.wait_sweep(sid)
    # the cancelled trial gives its CPUs and GPU back once it has exited
    assert wait_for(lambda: d.ok({"op": "stats"})["running"] == 0)
    st = d.ok({"op": "stats"})
    assert st["cpus"]["used"] == 0 and st["gpus"]["used"] == [], st


def _freed_after_failures(d):
    """Trials that fail, are cancelled or retried give their GPU back: on a
    one-GPU daemon a later sweep still runs all its trials."""
    spec = fake_spec(trials=3, parallel=2, params={"mode": "exit3"},
                     resources={"gpus": 1})
    sid = d.submit(spec)
    d.wait_sweep(sid)
    hang = d.submit(fake_spec(trials=2, parallel=2, params={"mode": "hang"},
                              resources={"gpus": 1}))
    assert wait_for(lambda: d.ok({"op": "stats"})["running"] == 1)
    d.ok({"op": "cancel", "sweep": hang})
    d.wait_sweep(hang)
    ok = d.submit(fake_spec(trials=3, parallel=2, resources={"gpus": 1}))
    assert d.wait_sweep(ok)["status"] == "completed"
    assert d.ok({"op": "stats"})["gpus"]["free"] == [0]


def _restart_with_less_waits():
    """A sweep stored by a daemon with two GPUs, restarted with one: logged,
    its trials wait queued, none starts on a GPU it does not have."""
    d = Daemon(workers=2, extra=["--gpus", "0,1"]).start()
    try:
        sid = d.submit(fake_spec(trials=2, parallel=1, params={"mode": "hang"},
                                 resources={"gpus": 2}))
        assert wait_for(lambda: d.ok({"op": "stats"})["running"] == 1)
        d.stop()
        d.extra = ["--gpus", "0"]
        d.start()
        assert "resources.gpus: 2 asked for" in d.log_text(), d.log_text()
        st = d.ok({"op": "stats"})
        assert st["running"] == 0 and st["queued"] >= 1, st
        assert d.ok({"op": "sweep", "sweep": sid})["sweep"]["status"] == "running"
    finally:
        d.cleanup()


def _bad_daemon_options_refused():
    for args, word in ((["--gpus", "0,0"], "twice"),
                       (["--gpus", "0,x"], "\"x\""),
                       (["--gpus", "0,,1"], "empty"),
                       (["--cpus", "0"], "--cpus")):
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.run([SWEEPD, "--state-dir", tmp] + args,
                               capture_output=True, text=True, timeout=20)
            assert p.returncode != 0, (args, p)
            assert word in p.stderr, (args, p.stderr)


def _gpus_auto_env():
    # auto with no nvidia-smi on PATH: none, said in the log
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = "/nonexistent"
    try:
        d = Daemon(workers=2, extra=["--gpus", "auto"]).start()
    finally:
        os.environ["PATH"] = old
    try:
        assert "nvidia-smi" in d.log_text(), d.log_text()
        assert d.ok({"op": "stats"})["gpus"]["total"] == 0
    finally:
        d.cleanup()


if __name__ == "__main__":
    sys.exit(run_tests([
        with_daemon(_gpus_one_each, workers=8, extra=["--gpus", "0,1"]),
        with_daemon(_cpus_sum_within_capacity, workers=8,
                    extra=["--cpus", "4"]),
        with_daemon(_too_many_gpus_refused, extra=["--cpus", "4", "--gpus", "0,1"]),
        with_daemon(_no_gpu_daemon_refuses_gpus),
        with_daemon(_bad_resources_named),
        with_daemon(_thread_vars_unless_spec_env, extra=["--cpus", "4", "--gpus", "5"]),
        with_daemon(_stats_in_use_and_free, extra=["--cpus", "4", "--gpus", "0,1"]),
        with_daemon(_freed_after_failures, workers=4, extra=["--gpus", "0"]),
        _restart_with_less_waits,
        _bad_daemon_options_refused,
        _gpus_auto_env,
    ]))
