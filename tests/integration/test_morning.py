"""The morning after (issue 12, issue 11 item 12): a sweep that cannot work
is refused at submit or fails fast with the reason; a sweep without a
completed trial never ends `completed`; `wait` says how it ended in its
exit status; `status` and `ls` group the failures; a trainer that gets the
protocol slightly wrong is told what was missing."""
import json
import os
import shutil
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import FAKE, fake_spec, run_tests, wait_for, with_daemon

NUMPY = "exited with status 1: ModuleNotFoundError: No module named 'numpy'"


def refused(d, spec, *words):
    r = d.request({"op": "submit", "spec": spec})
    assert not r.get("ok"), r
    msg = r["error"]["message"]
    for w in words:
        assert w in msg, (w, msg)
    return msg


def builtin_spec(metric):
    return {"trainer": {"builtin": "mlp", "dataset": "synthetic"},
            "objective": {"metric": metric, "mode": "max"},
            "space": {"epochs": 1}, "search": {"trials": 1}}


def _builtin_wrong_metric_refused(d):
    refused(d, builtin_spec("val_accuracy"), "objective.metric",
            '"val_accuracy"', "val_acc", "train_loss", "val_loss", "train_acc")
    r = d.request({"op": "submit", "spec": builtin_spec("val_acc")})
    assert r.get("ok"), r
    d.ok({"op": "cancel", "sweep": r["sweep_id"]})


def counts(s):
    return s["counts"]


def _same_early_failure_fails_fast(d):
    sid = d.submit(fake_spec(trials=20, parallel=1,
                             params={"mode": "import_error"}))
    s = d.wait_sweep(sid)
    assert s["status"] == "failed", s
    assert counts(s)["failed"] == 3, s
    assert counts(s)["completed"] == 0, s
    assert "first 3 trials" in s["error"] and NUMPY in s["error"], s["error"]
    assert s["failures"] == [{"class": "exit", "message": NUMPY,
                              "count": 3}], s["failures"]


def _parallel_early_failures_stop_too(d):
    sid = d.submit(fake_spec(trials=200, parallel=4,
                             params={"mode": "import_error"}))
    s = d.wait_sweep(sid)
    assert s["status"] == "failed", s
    n = counts(s)
    assert 3 <= n["failed"] <= 8, n    # not 200 burnt
    assert n["failed"] + n["cancelled"] + n["queued"] < 20, n


def _two_early_failures_then_success_completes(d):
    spec = fake_spec(trials=4, parallel=1,
                     params={"mode": {"choice": ["ok", "import_error"]}},
                     enqueue=[{"mode": "import_error"}, {"mode": "import_error"},
                              {"mode": "ok"}, {"mode": "import_error"}])
    s = d.wait_sweep(d.submit(spec))
    assert s["status"] == "completed", s
    assert counts(s)["failed"] == 3 and counts(s)["completed"] == 1, s
    assert s["failures"] == [{"class": "exit", "message": NUMPY,
                              "count": 3}], s["failures"]


def _protocol_errors_on_the_first_line_fail_fast(d):
    # The daemon stops such a trainer: whether it exits first or dies of
    # SIGTERM must not make the failures look different.
    quick, slow = {"sleep_ms": 0}, {"sleep_ms": 3000}
    for enq in ([quick] * 3, [slow] * 3, [quick, slow, quick, slow]):
        sid = d.submit(fake_spec(trials=20, parallel=1, params={
            "mode": "garbage_first", "sleep_ms": {"choice": [0, 3000]}},
            enqueue=enq))
        s = d.wait_sweep(sid)
        assert s["status"] == "failed", s
        assert "first 3 trials" in s["error"], s
        assert "Epoch 1/10" in s["error"], s
        assert s["failures"][0]["class"] == "protocol", s


def _different_early_failures_do_not_fail_fast(d):
    # Failing in different ways says the params matter: all trials run.
    spec = fake_spec(trials=5, parallel=1,
                     params={"mode": {"choice": ["ok", "import_error",
                                                 "plain_stdout"]}},
                     enqueue=[{"mode": "import_error"}, {"mode": "plain_stdout"},
                              {"mode": "import_error"}, {"mode": "import_error"},
                              {"mode": "ok"}])
    s = d.wait_sweep(d.submit(spec))
    assert s["status"] == "completed", s
    assert counts(s)["failed"] == 4 and counts(s)["completed"] == 1, s
    assert [f["count"] for f in s["failures"]] == [3, 1], s["failures"]
    assert s["failures"][1]["class"] == "protocol", s["failures"]


def _fail_fast_stays_off_across_a_restart(d):
    # Trial 1 completed before the restart: the failures after it are not
    # "the first trials", so the sweep runs to its end and completes. Trial
    # 1 is slow, so that the pause holds every failure for the new daemon.
    spec = fake_spec(trials=5, parallel=1, params={
        "mode": {"choice": ["ok", "import_error"]},
        "sleep_ms": {"choice": [0, 500]}},
        enqueue=[{"mode": "ok", "sleep_ms": 500}] +
        [{"mode": "import_error", "sleep_ms": 0}] * 4)
    sid = d.submit(spec)
    d.ok({"op": "pause", "sweep": sid})
    assert wait_for(lambda: counts(d.ok({"op": "sweep", "sweep": sid})
                                   ["sweep"])["completed"] == 1, timeout=30)
    assert counts(d.ok({"op": "sweep", "sweep": sid})["sweep"])["failed"] == 0
    d.kill9()
    d.proc.stdout.close()
    d.proc.stderr.close()
    d.start()           # the same state dir
    d.ok({"op": "resume", "sweep": sid})
    s = d.wait_sweep(sid)
    assert s["status"] == "completed", s
    assert counts(s)["failed"] == 4, s


def _max_failures_overrides_fail_fast(d):
    spec = fake_spec(trials=10, parallel=1, params={"mode": "import_error"},
                     limits={"max_failures": 5})
    s = d.wait_sweep(d.submit(spec))
    assert s["status"] == "failed", s
    assert counts(s)["failed"] == 5, s
    assert "max_failures" in s["error"], s


def _late_failures_end_failed_not_completed(d):
    # exit3 fails at epoch 2, after reporting epoch 1: not a fail-fast case,
    # every trial runs; but with none completed the sweep is failed.
    sid = d.submit(fake_spec(trials=4, parallel=2, params={"mode": "exit3"}))
    s = d.wait_sweep(sid)
    assert s["status"] == "failed", s
    assert counts(s)["failed"] == 4, s
    assert "no trial completed" in s["error"], s
    assert "something went wrong" in s["error"], s
    [f] = s["failures"]
    assert f["class"] == "exit" and f["count"] == 4, f
    assert f["message"] == ("exited with status 3: fake_trainer: something "
                            "went wrong"), f


def _wait_exit_status_tells_the_end(d):
    path = os.path.join(d.dir, "spec.json")
    for mode, want, words in (("ok", 0, "completed"),
                              ("import_error", 4, "failed: the first 3")):
        with open(path, "w") as f:
            json.dump(fake_spec(trials=3, parallel=1,
                                params={"mode": mode}), f)
        sid = d.ctl("submit", path, check=0).stdout.strip()
        p = d.ctl("wait", sid, check=want)
        assert words in p.stdout, p.stdout
    with open(path, "w") as f:
        json.dump(fake_spec(trials=3, parallel=1,
                            params={"sleep_ms": 3000}), f)
    sid = d.ctl("submit", path, check=0).stdout.strip()
    d.ctl("cancel", sid, check=0)
    d.ctl("wait", sid, check=5)


def _status_and_ls_show_the_failures(d):
    sid = d.submit(fake_spec(trials=20, parallel=1,
                             params={"mode": "import_error"}))
    d.wait_sweep(sid)
    want = "3 failed: " + NUMPY
    p = d.ctl("status", str(sid), check=0)
    lines = p.stdout.splitlines()
    hit = [i for i, l in enumerate(lines) if "failures    3 failed: " in l]
    assert hit and hit[0] < 6, p.stdout          # near the top
    assert want in " ".join(p.stdout.split()), p.stdout   # wrapped at 80
    p = d.ctl("ls", check=0)
    assert want in " ".join(p.stdout.split()), p.stdout


def one_trial(d, mode, **params):
    params["mode"] = mode
    sid = d.submit(fake_spec(trials=1, parallel=1, params=params))
    d.wait_sweep(sid)
    return d.ok({"op": "trial", "sweep": sid, "number": 1})["trial"]


def _report_lines_without_prefix_get_a_hint(d):
    t = one_trial(d, "plain_stdout")
    assert t["status"] == "failed", t
    assert t["error"]["class"] == "protocol", t["error"]
    msg = t["error"]["message"]
    for w in ('"SWEEP "', "fd 3", "SWEEP_REPORT_FD", '{"epoch":1'):
        assert w in msg, (w, msg)


def _every_epoch_but_no_final_line_completes_with_a_note(d):
    t = one_trial(d, "no_final")
    assert t["status"] == "completed", t
    assert t["error"] is None, t
    assert "final" in (t.get("note") or ""), t
    assert t["objective"] is not None, t


def _stopping_early_without_final_line_fails(d):
    t = one_trial(d, "short_no_final")
    assert t["status"] == "failed", t
    msg = t["error"]["message"]
    assert "after epoch 2 of 3" in msg and '"final"' in msg, msg


def external(cmd, **tr):
    spec = fake_spec(trials=3, parallel=1)
    spec["trainer"] = dict({"command": cmd}, **tr)
    return spec


def _daemon_checks_command_and_cwd(d):
    tmp = tempfile.mkdtemp()
    try:
        refused(d, external(["/nonexistent/trainer"]), "trainer.command[0]",
                "/nonexistent/trainer", "does not exist")
        refused(d, external(["no-such-trainer-xyz"]), "trainer.command[0]",
                "not found on PATH")
        refused(d, external(["no-such-trainer-xyz"], env={"PATH": tmp}),
                "trainer.command[0]", tmp)
        refused(d, external([FAKE], cwd="/nonexistent/dir"), "trainer.cwd",
                "/nonexistent/dir", "does not exist")
        plain = os.path.join(tmp, "plain.sh")
        with open(plain, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        refused(d, external([FAKE], cwd=plain), "trainer.cwd",
                "not a directory")
        refused(d, external([plain]), "trainer.command[0]", "not executable")
        refused(d, external(["./plain.sh"], cwd=tmp), "trainer.command[0]",
                "not executable")
        refused(d, external([FAKE, "train.py"], cwd=tmp), "trainer.command[1]",
                "train.py", tmp)
        # Found through the spec's own PATH, relative to cwd, or absolute.
        shutil.copy(FAKE, os.path.join(tmp, "faketrainer"))
        for spec in (external(["faketrainer"], env={"PATH": tmp}),
                     external(["./faketrainer"], cwd=tmp),
                     external([FAKE])):
            s = d.wait_sweep(d.submit(spec))
            assert s["status"] == "completed", s
    finally:
        shutil.rmtree(tmp)


def _trainer_that_cannot_start_fails_fast(d):
    # Executable, so submit takes it; its interpreter is missing, so every
    # exec fails: the sweep fails after the first 3, not 50 later.
    tmp = tempfile.mkdtemp()
    try:
        script = os.path.join(tmp, "t.sh")
        with open(script, "w") as f:
            f.write("#!/nonexistent/interpreter\n")
        os.chmod(script, stat.S_IRWXU)
        s = d.wait_sweep(d.submit(dict(external([script]),
                                       search={"trials": 50, "parallel": 1})))
        assert s["status"] == "failed", s
        assert counts(s)["failed"] == 3, s
        assert "cannot start" in s["error"], s
    finally:
        shutil.rmtree(tmp)


def _sweepctl_checks_before_sending(d):
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, "spec.json")

        def submit(trainer, code, *words):
            spec = fake_spec(trials=1, parallel=1)
            spec["trainer"] = trainer
            with open(path, "w") as f:
                json.dump(spec, f)
            p = d.ctl("submit", path, check=code)
            for w in words:
                assert w in p.stderr, (w, p.stderr)

        submit({"command": ["no-such-trainer-xyz"]}, 1, "trainer.command[0]",
               "not found on PATH")
        submit({"command": [FAKE], "cwd": "missing"}, 1, "trainer.cwd",
               os.path.join(os.path.realpath(tmp), "missing"))
        submit({"command": [FAKE, "train.py"]}, 1, "trainer.command[1]",
               "train.py")
        with open(os.path.join(tmp, "train.py"), "w") as f:
            f.write("# the fake trainer ignores it\n")
        submit({"command": [FAKE, "train.py"]}, 0)
    finally:
        shutil.rmtree(tmp)


TESTS = [
    _builtin_wrong_metric_refused, _same_early_failure_fails_fast,
    _parallel_early_failures_stop_too,
    _two_early_failures_then_success_completes,
    _protocol_errors_on_the_first_line_fail_fast,
    _different_early_failures_do_not_fail_fast,
    _fail_fast_stays_off_across_a_restart,
    _max_failures_overrides_fail_fast, _late_failures_end_failed_not_completed,
    _wait_exit_status_tells_the_end, _status_and_ls_show_the_failures,
    _report_lines_without_prefix_get_a_hint,
    _every_epoch_but_no_final_line_completes_with_a_note,
    _stopping_early_without_final_line_fails, _daemon_checks_command_and_cwd,
    _trainer_that_cannot_start_fails_fast, _sweepctl_checks_before_sending,
]

if __name__ == "__main__":
    sys.exit(run_tests([with_daemon(t, serving_after=True) for t in TESTS]))
