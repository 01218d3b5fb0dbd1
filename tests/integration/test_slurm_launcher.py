"""Sweeps whose trials run as Slurm jobs through srun (docs/slurm.md),
against a real cluster: the test trainer's and the built-in trainer's
sweeps complete with the objectives a local run gives; 1-GPU trials get
distinct devices from Slurm and a third waits as `pending`; cancel and
prune free the allocation; a trial preempted by a job in `high` is
requeued and resumes; sweepd killed with -9 leaves no job behind and no
trial counted twice; a missing partition fails the sweep with Slurm's
message. Skips, saying why, unless a cluster answers sinfo
(scripts/slurm-cluster.sh start, as root; scripts/test.sh does)."""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import (FAKE, WORKER, Daemon, Skip, fake_spec, run_tests, slurm_or_skip,
                      wait_for)

LIMIT = 120   # s: a wait longer than this fails, never hangs


def need():
    if not FAKE:
        raise Skip("fake trainer not built")
    slurm_or_skip()


def slurm_spec(trials=2, parallel=2, params=None, slurm=None, **top):
    spec = fake_spec("slurm", trials=trials, parallel=parallel, params=params, **top)
    spec["launcher"] = {"slurm": dict(slurm or {"time": "00:10:00"})}
    return spec


def jobs_of(d):
    """(id, state, name) of the jobs whose comment is this daemon's."""
    st = os.stat(d.dir)
    comment = "sweepd:%d:%d" % (st.st_dev, st.st_ino)
    p = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%i|%T|%k|%j"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    out = []
    for line in p.stdout.splitlines():
        jid, state, rest = line.split("|", 2)
        if rest.startswith(comment + "|"):
            out.append((int(jid), state, rest[len(comment) + 1:]))
    return out


def live_jobs(d):
    return [j for j in jobs_of(d) if j[1] in ("PENDING", "RUNNING", "CONFIGURING",
                                             "COMPLETING", "SUSPENDED")]


def daemon(extra=(), **kw):
    # the test cluster's only node is this machine: the state dir (and the
    # trial root in it) under /tmp is seen by the "compute node"
    d = Daemon(extra=["--slurm-local"] + list(extra), **kw).start()
    return d


def wait_ended(d, sid, timeout=LIMIT):
    return d.wait_sweep(sid, timeout=timeout)


def local_objectives(spec):
    """The same sweep run by the local launcher: {number: objective}."""
    spec = dict(spec)
    spec["launcher"] = "local"
    d = daemon(workers=2)
    try:
        sid = d.submit(spec)
        s = wait_ended(d, sid)
        assert s["status"] == "completed", s
        return {t["number"]: t["objective"] for t in d.trials(sid)}
    finally:
        d.cleanup()


def test_fake_trainer_sweep_completes_under_slurm():
    need()
    spec = slurm_spec(trials=3, parallel=2, params={"epochs": 3, "x": {"uniform": [0, 1]}})
    want = local_objectives(spec)
    d = daemon(workers=1)
    try:
        sid = d.submit(spec)
        s = wait_ended(d, sid)
        assert s["status"] == "completed", s
        ts = d.trials(sid)
        got = {t["number"]: t["objective"] for t in ts}
        assert got == want, (got, want)
        for t in ts:
            assert t["status"] == "completed" and t["attempt"] == 1, t
            assert isinstance(t["job"], (int, float)) and t["job"] > 0, t
            assert isinstance(t["queue_s"], (int, float)) and t["queue_s"] >= 0, t
            assert not t.get("error"), t
        # sweepctl trials --json shows the job too
        p = d.ctl("trials", str(sid), "--json", check=0)
        rows = json.loads(p.stdout)
        rows = rows.get("trials", rows) if isinstance(rows, dict) else rows
        assert all(r.get("job") for r in rows), p.stdout
        assert "Slurm job" in d.log_text()
        assert wait_for(lambda: not live_jobs(d), timeout=30), jobs_of(d)
    finally:
        d.cleanup()


def test_builtin_trainer_sweep_completes_under_slurm():
    need()
    if not WORKER or not os.path.exists(WORKER):
        raise Skip("sweep-worker not built")
    spec = {"name": "builtin-slurm",
            "trainer": {"builtin": "mlp", "dataset": "synthetic", "synthetic_size": 4000,
                        "val_size": 500, "synthetic_test_size": 500, "hidden": [16]},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"epochs": 2, "train_fraction": 0.02, "lr": {"choice": [0.01, 0.003]}},
            "search": {"algorithm": "grid", "trials": 2, "parallel": 2, "seed": 3},
            "launcher": {"slurm": {"partition": "debug"}}}
    want = local_objectives(spec)
    d = daemon(workers=1)
    try:
        sid = d.submit(spec)
        s = wait_ended(d, sid, timeout=300)
        assert s["status"] == "completed", s
        got = {t["number"]: t["objective"] for t in d.trials(sid)}
        assert got == want, (got, want)
    finally:
        d.cleanup()


def read_events(sock, events):
    """Appends the watch events read from sock until sweep_ended."""
    sock.settimeout(300)
    buf = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                ev = json.loads(line)
                events.append(ev)
                if ev.get("event") == "sweep_ended":
                    return
    except (OSError, ValueError):
        return
    finally:
        sock.close()


def test_gpu_trials_get_distinct_devices_and_a_third_is_pending():
    need()
    rec = None
    d = daemon(workers=8)
    try:
        rec = os.path.join(d.dir, "record.jsonl")
        spec = slurm_spec(trials=3, parallel=3,
                          params={"epochs": 40, "sleep_ms": 100, "record": rec},
                          resources={"gpus": 1})
        sid = d.submit(spec)
        # a watcher hears the queued job start (trial_running), the live
        # view's cue to stop showing it pending
        events = []
        w = d.connect()
        w.sendall((json.dumps({"op": "watch", "sweep": sid}) + "\n").encode())
        watcher = threading.Thread(target=read_events, args=(w, events), daemon=True)
        watcher.start()

        def states():
            return sorted(t["status"] for t in d.trials(sid))
        got = wait_for(lambda: states() == ["pending", "running", "running"],
                       timeout=LIMIT, step=0.1)
        assert got, states()
        p = d.ctl("trials", str(sid), check=0)
        assert "pending" in p.stdout, p.stdout
        c = d.ok({"op": "sweep", "sweep": sid})["sweep"]["counts"]
        assert c["pending"] + c["running"] == 3 and c["pending"] >= 1, c
        p = d.ctl("status", str(sid), check=0)
        assert "pending" in p.stdout, p.stdout
        s = wait_ended(d, sid, timeout=300)
        assert s["status"] == "completed", s
        with open(rec) as f:
            runs = [json.loads(line) for line in f]
        assert len(runs) == 3, runs
        runs.sort(key=lambda r: r["start"])
        # the first two overlapped, on distinct devices that Slurm gave
        a, b = runs[0], runs[1]
        assert a["start"] < b["end"] and b["start"] < a["end"], runs
        assert a["CUDA_VISIBLE_DEVICES"] is not None, runs
        assert {a["SWEEP_GPUS"], b["SWEEP_GPUS"]} == {""}, runs
        # the node's device of each job (SLURM_STEP_GPUS: with
        # ConstrainDevices a job's CUDA_VISIBLE_DEVICES counts from 0, so
        # only this one tells them apart everywhere)
        assert a["SLURM_STEP_GPUS"] is not None, runs
        assert a["SLURM_STEP_GPUS"] != b["SLURM_STEP_GPUS"], runs
        # and the third waited in Slurm's queue
        waited = [t for t in d.trials(sid) if t["queue_s"] and t["queue_s"] > 0.5]
        assert waited, d.trials(sid)
        watcher.join(30)
        ran = [e for e in events if e.get("event") == "trial_running"]
        assert any(e["number"] == waited[0]["number"] and e["queue_s"] > 0.5
                   for e in ran), events
        started = [e for e in events if e.get("event") == "trial_started"]
        assert all(isinstance(e.get("pending"), bool) for e in started), started
    finally:
        d.cleanup()


def running_trial(d, sid):
    ts = [t for t in d.trials(sid) if t["status"] == "running" and t.get("epochs", 0) >= 1]
    return ts[0] if ts else None


def test_cancel_frees_the_allocation():
    need()
    d = daemon(workers=1)
    try:
        # two 1-GPU jobs run, the third waits in the queue: all three go
        sid = d.submit(slurm_spec(trials=3, parallel=3, resources={"gpus": 1},
                                  params={"epochs": 1000, "sleep_ms": 100}))
        assert wait_for(lambda: sorted(j[1] for j in live_jobs(d)) ==
                        ["PENDING", "RUNNING", "RUNNING"], timeout=LIMIT, step=0.1), jobs_of(d)
        assert wait_for(lambda: sorted(t["status"] for t in d.trials(sid)) ==
                        ["pending", "running", "running"], timeout=30, step=0.1), d.trials(sid)
        d.ok({"op": "cancel", "sweep": sid})
        assert wait_for(lambda: not live_jobs(d), timeout=30, step=0.1), jobs_of(d)
        s = wait_ended(d, sid, timeout=60)
        assert s["status"] == "cancelled", s
        assert all(t["status"] == "cancelled" for t in d.trials(sid)), d.trials(sid)
    finally:
        d.cleanup()


def test_prune_frees_the_allocation():
    need()
    d = daemon(workers=1)
    try:
        # trial 1 (x at the peak) completes; trial 2 is worse at every
        # epoch and long: the median pruner stops it at its first epoch
        spec = slurm_spec(trials=2, parallel=1,
                          params={"epochs": {"choice": [3, 1000]}, "sleep_ms": 100,
                                  "x": {"choice": [0.3, 1.0]}},
                          enqueue=[{"epochs": 3, "x": 0.3}, {"epochs": 1000, "x": 1.0}],
                          pruner={"algorithm": "median", "min_trials": 1})
        sid = d.submit(spec)
        s = wait_ended(d, sid, timeout=LIMIT)
        assert s["status"] == "completed", s
        t1, t2 = d.trials(sid)
        assert t1["status"] == "completed" and t2["status"] == "pruned", (t1, t2)
        assert t2["epochs"] < 20, t2
        assert wait_for(lambda: not live_jobs(d), timeout=30, step=0.1), jobs_of(d)
    finally:
        d.cleanup()


def test_timeout_counts_run_time_and_frees_the_allocation():
    need()
    d = daemon(workers=1)
    try:
        spec = slurm_spec(trials=2, parallel=1, params={"epochs": 1000, "sleep_ms": 100})
        spec["limits"] = {"trial_timeout_s": 3}
        sid = d.submit(spec)
        s = wait_ended(d, sid, timeout=LIMIT)
        ts = d.trials(sid)
        assert all(t["status"] == "failed" and t["error"]["class"] == "timeout" for t in ts), ts
        assert wait_for(lambda: not live_jobs(d), timeout=30, step=0.1), jobs_of(d)
        # the timeout counted run time: each ran about 3 s of epochs
        assert all(t["epochs"] >= 5 for t in ts), ts
        assert s["status"] in ("failed", "completed"), s
    finally:
        d.cleanup()


def test_preempted_trial_is_requeued_and_resumes():
    need()
    d = daemon(workers=1)
    try:
        spec = slurm_spec(trials=1, parallel=1,
                          params={"epochs": 30, "sleep_ms": 150, "log_env": 1},
                          resources={"cpus": 1})
        # the whole node: a job in high then has to preempt it
        spec["launcher"]["slurm"]["extra"] = ["--exclusive"]
        sid = d.submit(spec)
        assert wait_for(lambda: running_trial(d, sid) and running_trial(d, sid)["epochs"] >= 3,
                        timeout=LIMIT, step=0.1), d.trials(sid)
        hi = subprocess.run(["srun", "-p", "high", "--exclusive", "--job-name=preemptor",
                             "true"], capture_output=True, text=True, timeout=LIMIT)
        assert hi.returncode == 0, hi.stderr
        s = wait_ended(d, sid, timeout=300)
        assert s["status"] == "completed", s
        t = d.trials(sid)[0]
        assert t["status"] == "completed" and t["attempt"] >= 2, t
        with open(os.path.join(d.dir, "trials", str(sid), "1", "fake.env")) as f:
            lines = f.read().split("\n")
        assert any(ln.split()[1:2] == ["1"] and ln.split()[2] != "-" for ln in lines if ln), lines
        assert "preempted" in d.log_text(), d.log_text()[-2000:]
    finally:
        d.cleanup()


def test_kill9_with_jobs_running_leaves_none_and_counts_once():
    need()
    d = daemon(workers=1)
    try:
        sid = d.submit(slurm_spec(trials=2, parallel=2, params={"epochs": 12, "sleep_ms": 200}))
        assert wait_for(lambda: len([j for j in live_jobs(d) if j[1] == "RUNNING"]) == 2,
                        timeout=LIMIT, step=0.1), jobs_of(d)
        before = {j[0] for j in live_jobs(d)}
        d.kill9()
        d.start()
        # the old jobs are gone by the time it serves
        assert not (before & {j[0] for j in live_jobs(d)}), (before, jobs_of(d))
        s = wait_ended(d, sid, timeout=300)
        assert s["status"] == "completed", s
        ts = d.trials(sid)
        assert len(ts) == 2 and all(t["status"] == "completed" for t in ts), ts
        assert all(t["attempt"] == 2 for t in ts), ts
        assert s["counts"]["completed"] == 2, s
        assert wait_for(lambda: not live_jobs(d), timeout=30), jobs_of(d)
    finally:
        d.cleanup()


def test_missing_partition_fails_the_sweep_with_slurms_message():
    need()
    d = daemon(workers=1)
    try:
        sid = d.submit(slurm_spec(trials=5, parallel=1, slurm={"partition": "nope"}))
        s = wait_ended(d, sid, timeout=LIMIT)
        assert s["status"] == "failed", s
        assert "Invalid partition name specified" in (s.get("error") or ""), s
        ts = [t for t in d.trials(sid) if t["status"] != "cancelled"]
        assert len(ts) == 1, d.trials(sid)
        assert ts[0]["error"]["class"] == "launcher", ts[0]
        assert "srun: error" not in (ts[0].get("stderr_tail") or ""), ts[0]
    finally:
        d.cleanup()


def test_an_unreachable_controller_fails_the_sweep_not_hangs_it():
    # the cluster's own config with the controller's port moved to one
    # nobody listens on: srun gives up after its retries (about 9 s here)
    need()
    conf = os.environ["SLURM_CONF"]
    tmp = tempfile.mkdtemp(prefix="sweepd-noctld-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(conf) as f:
        text = f.read()
    assert "SlurmctldPort=" in text, conf
    bad = os.path.join(tmp, "slurm.conf")
    with open(bad, "w") as f:
        f.write(re.sub(r"(?m)^SlurmctldPort=.*$", "SlurmctldPort=%d" % port, text))
    os.environ["SLURM_CONF"] = bad
    try:
        d = daemon(workers=1)
    finally:
        os.environ["SLURM_CONF"] = conf
    try:
        sid = d.submit(slurm_spec(trials=4, parallel=1))
        s = wait_ended(d, sid, timeout=LIMIT)
        assert s["status"] == "failed", s
        assert "contact slurm controller" in (s.get("error") or ""), s
        ts = [t for t in d.trials(sid) if t["status"] != "cancelled"]
        assert len(ts) == 1, d.trials(sid)
        assert ts[0]["error"]["class"] == "launcher", ts[0]
    finally:
        d.cleanup()
        subprocess.run(["rm", "-rf", tmp])


def test_trial_root_under_tmp_is_refused_without_slurm_local():
    need()
    d = Daemon(workers=1).start()
    try:
        r = d.request({"op": "submit", "spec": slurm_spec(trials=1, parallel=1)})
        assert not r.get("ok"), r
        msg = r["error"]["message"] if isinstance(r.get("error"), dict) else str(r)
        assert "--slurm-local" in msg and "/tmp" in msg, r
        assert not live_jobs(d), jobs_of(d)
    finally:
        d.cleanup()


def test_daemon_default_launcher_and_a_spec_of_its_own():
    need()
    d = daemon(workers=1, extra=["--launcher", "slurm", "--slurm-partition", "debug",
                                 "--slurm-time", "00:05:00"])
    try:
        sid = d.submit(fake_spec("default", trials=1, parallel=1))
        s = wait_ended(d, sid)
        assert s["status"] == "completed", s
        assert d.trials(sid)[0]["job"], d.trials(sid)
        spec = fake_spec("local", trials=1, parallel=1)
        spec["launcher"] = "local"
        sid = d.submit(spec)
        assert wait_ended(d, sid)["status"] == "completed"
        assert d.trials(sid)[0]["job"] is None, d.trials(sid)
    finally:
        d.cleanup()


if __name__ == "__main__":
    sys.exit(run_tests([
        test_fake_trainer_sweep_completes_under_slurm,
        test_builtin_trainer_sweep_completes_under_slurm,
        test_gpu_trials_get_distinct_devices_and_a_third_is_pending,
        test_cancel_frees_the_allocation,
        test_prune_frees_the_allocation,
        test_timeout_counts_run_time_and_frees_the_allocation,
        test_preempted_trial_is_requeued_and_resumes,
        test_kill9_with_jobs_running_leaves_none_and_counts_once,
        test_missing_partition_fails_the_sweep_with_slurms_message,
        test_an_unreachable_controller_fails_the_sweep_not_hangs_it,
        test_daemon_default_launcher_and_a_spec_of_its_own,
        test_trial_root_under_tmp_is_refused_without_slurm_local,
    ]))
