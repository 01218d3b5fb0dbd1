"""Ask and tell: a sweep whose trainer is {"manual": {}} runs no process;
a client asks for trials, reports epochs and tells the end. Pruning, early
stopping, divergence, the stale-trial timeout, retries, restarts, watch,
best and the errors, against a real daemon."""
import os
import re
import time

import pytest

import sweepd
from conftest import fake_spec, manual_spec
import sweeplib


def wait_status(client, sid, number, want, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        t = client.trial(sid, number)
        if t["status"] in want:
            return t
        time.sleep(0.05)
    raise AssertionError("trial %d is %s, not %s" % (number, t["status"], want))


def request(daemon, **req):
    return daemon.request(req)


# ---- the spec ----------------------------------------------------------------

@pytest.mark.parametrize("trainer,limits,why", [
    ({"manual": {}, "command": ["x"]}, None, "not several"),
    ({"manual": {"gpu": 1}}, None, "trainer.manual: must be {}"),
    ({"manual": []}, None, "trainer.manual: must be {}"),
    ({"manual": {}, "cwd": "/"}, None, "takes no other field"),
    ({"manual": {}}, {"stall_s": 5}, "limits.stall_s: a manual trainer runs no process"),
    ({"manual": {}}, {"memory_mb": 5}, "limits.memory_mb"),
    ({"manual": {}}, {"heartbeat_s": -1}, "limits.heartbeat_s: must be a number"),
    ({"command": ["x"]}, {"heartbeat_s": 5}, "limits.heartbeat_s: only for a manual"),
])
def test_manual_spec_is_checked(client, trainer, limits, why):
    spec = manual_spec()
    spec["trainer"] = trainer
    if limits:
        spec["limits"] = limits
    with pytest.raises(sweepd.Error, match=why) as e:
        client.submit(spec)
    assert e.value.code == "bad_request"


def test_heartbeat_default_is_stored(client):
    sid = client.submit(manual_spec())
    assert client.status(sid)["spec"]["limits"]["heartbeat_s"] == 600


# ---- ask ---------------------------------------------------------------------

def test_a_manual_sweep_runs_no_process(client):
    sid = client.submit(manual_spec(trials=2))
    time.sleep(0.3)   # what the scheduler would have started by now
    assert [t["status"] for t in client.trials(sid)] == []
    assert client.stats()["running"] == 0


def test_ask_gives_the_params_and_seed_the_search_would(client):
    space = {"x": {"uniform": [0.0, 1.0]}, "epochs": 3}
    spawned = client.submit(fake_spec(trials=3, parallel=1, params=space))
    client.wait(spawned, timeout=60)
    sid = client.submit(manual_spec(trials=3, space=space,
                                    search={"algorithm": "random",
                                            "trials": 3, "seed": 7}))
    for want in client.trials(spawned):
        t = client.ask(sid)
        assert (t.number, t.params, t.seed) == \
            (want["number"], want["params"], want["seed"])
        assert t.attempt == 1 and t.heartbeat_s == 600
        # the trial's own directory, made for it: STATE_DIR/trials/S/N
        assert t.trial_dir.endswith("/trials/%d/%d" % (sid, t.number)), \
            t.trial_dir
        assert os.path.isdir(t.trial_dir), t.trial_dir
        t.tell(val_acc=0.5)


def test_ask_sends_the_seed_as_an_exact_integer(client, daemon):
    # 53-bit seeds: printed with %.15g, many would come as 1.2e+15 floats.
    sid = client.submit(manual_spec(trials=20, parallel=20))
    want = {}
    with daemon.connect() as s:
        for i in range(20):
            s.sendall(('{"id":%d,"op":"ask","sweep":%d}\n' % (i, sid)).encode())
            line = sweeplib.read_line(s).decode()
            seed = re.search(r'"seed":([^,}]*)', line).group(1)
            assert re.fullmatch(r"\d+", seed), line
            want[i + 1] = int(seed)
    # docs/spec.md, "Seeds": splitmix64(seed + n * golden), 53 bits.
    m = (1 << 64) - 1
    for n, got in want.items():
        z = (11 + n * 0x9e3779b97f4a7c15) & m
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & m
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & m
        assert got == (z ^ (z >> 31)) & ((1 << 53) - 1), n


def test_an_asked_trial_is_running_and_takes_a_slot(client):
    sid = client.submit(manual_spec(trials=3, parallel=2))
    a, b = client.ask(sid), client.ask(sid)
    assert (a.number, b.number) == (1, 2)
    assert [t["status"] for t in client.trials(sid)] == ["running", "running"]
    assert client.stats()["running"] == 2
    with pytest.raises(sweepd.Error) as e:
        client.ask(sid)
    assert e.value.code == "conflict" and "search.parallel = 2" in e.value.message
    a.tell(val_acc=0.1)
    assert client.ask(sid).number == 3


def test_manual_trials_do_not_take_the_daemons_workers(client):
    # The daemon has 2 workers: two asked trials leave both to a spawned sweep.
    m = client.submit(manual_spec(trials=2, parallel=2))
    client.ask(m), client.ask(m)
    sid = client.submit(fake_spec(trials=2, parallel=2))
    assert client.wait(sid, timeout=60)["status"] == "completed"


def test_ask_refusals(client, daemon):
    spawned = client.submit(fake_spec(trials=1))
    with pytest.raises(sweepd.Error) as e:
        client.ask(spawned)
    assert e.value.code in ("bad_request", "conflict")
    sid = client.submit(manual_spec(trials=1))
    client.pause(sid)
    with pytest.raises(sweepd.Error, match="paused") as e:
        client.ask(sid)
    client.resume(sid)
    t = client.ask(sid)
    with pytest.raises(sweepd.Error, match="handed out") as e:
        client.ask(sid)
    assert e.value.code == "conflict"
    t.tell(val_acc=0.3)
    assert client.status(sid)["status"] == "completed"
    with pytest.raises(sweepd.Error, match="already ended"):
        client.ask(sid)


# ---- report and tell -----------------------------------------------------------

def test_reports_are_stored_diagnosed_and_watched(client):
    sid = client.submit(manual_spec(trials=1))
    events = client.watch(sid)
    t = client.ask(sid)
    for epoch in range(1, 4):
        assert t.report(epoch, train_loss=1.0 / epoch, val_loss=1.1 / epoch,
                        train_acc=0.5 + 0.1 * epoch, val_acc=0.45 + 0.1 * epoch,
                        grad_norm=[0.2, 0.1]) is False
    stored = t.tell(test_acc=0.7, best_epoch=3)
    assert stored["status"] == "completed"
    assert stored["objective"] == pytest.approx(0.75)
    assert stored["test_acc"] == pytest.approx(0.7)
    full = client.trial(sid, 1)
    assert [e["epoch"] for e in full["curve"]] == [1, 2, 3]
    assert full["diagnosis"]["verdict"]
    kinds = [ev["event"] for ev in events]
    assert kinds == ["trial_started", "epoch", "epoch", "epoch",
                     "trial_ended", "sweep_ended"]
    assert client.best(sid)["number"] == 1


def test_one_shot_tell_of_the_objective(client):
    sid = client.submit(manual_spec(trials=2))
    with client.ask(sid) as t:
        t.tell(val_acc=0.61)
    with client.ask(sid) as t:
        t.tell(val_acc=0.64)
    assert [x["objective"] for x in client.trials(sid)] == [0.61, 0.64]
    assert client.best(sid)["number"] == 2


def test_tell_without_the_objective_fails_the_trial(client):
    sid = client.submit(manual_spec(trials=1))
    stored = client.ask(sid).tell(test_acc=0.5)
    assert stored["status"] == "failed"
    assert "never reported the objective" in stored["error"]["message"]


def test_fail_and_prune(client):
    sid = client.submit(manual_spec(trials=2, parallel=2))
    a, b = client.ask(sid), client.ask(sid)
    a.report(1, val_acc=0.2)
    got = a.fail("CUDA out of memory")
    assert got["status"] == "failed"
    assert got["error"] == {"class": "exit", "message": "CUDA out of memory"} \
        or got["error"]["message"] == "CUDA out of memory"
    got = b.prune("my own rule")
    assert got["status"] == "pruned" and got["error"]["message"] == "my own rule"


def test_the_context_manager_fails_the_trial_on_an_exception(client):
    sid = client.submit(manual_spec(trials=2))
    with pytest.raises(ZeroDivisionError):
        with client.ask(sid) as t:
            t.report(1, val_acc=0.3)
            1 / 0
    got = client.trial(sid, 1)
    assert got["status"] == "failed"
    assert "ZeroDivisionError" in got["error"]["message"]
    with client.ask(sid) as t:       # a clean exit tells "completed"
        t.report(1, val_acc=0.4)
    assert client.trial(sid, 2)["status"] == "completed"


def test_pruner_stops_a_trial_through_report(client):
    spec = manual_spec(trials=3, parallel=1,
                       pruner={"algorithm": "median", "min_trials": 1})
    sid = client.submit(spec)
    with client.ask(sid) as t:
        for e in (1, 2, 3):
            assert t.report(e, val_acc=0.5 + 0.1 * e) is False
    t = client.ask(sid)
    assert t.report(1, val_acc=0.1) is True
    assert t.ended == "pruned" and "median" in t.stopped
    assert t.report(2, val_acc=0.9) is True    # nothing sent any more
    assert t.tell(test_acc=0.9)["status"] == "pruned"
    got = client.trial(sid, 2)
    assert got["status"] == "pruned" and got["error"]["class"] == "pruned"
    assert len(got["curve"]) == 1
    # the slot is free again
    assert client.ask(sid).number == 3


def test_early_stopping_through_report(client):
    sid = client.submit(manual_spec(trials=1, early_stopping={"patience": 1}))
    t = client.ask(sid)
    assert t.report(1, val_acc=0.5) is False
    assert t.report(2, val_acc=0.4) is True
    assert t.ended == "completed"
    assert client.trial(sid, 1)["objective"] == 0.5


def test_divergence_through_report(client):
    sid = client.submit(manual_spec(trials=1))
    t = client.ask(sid)
    assert t.report(1, train_loss=float("nan"), val_loss=float("inf"),
                    val_acc=0.1) is True
    got = client.trial(sid, 1)
    assert got["status"] == "pruned" and got["error"]["class"] == "diverged"


def test_report_and_tell_refusals(client, daemon):
    sid = client.submit(manual_spec(trials=2))
    t = client.ask(sid)
    t.report(2, val_acc=0.5)
    for req, code, why in [
        ({"metrics": {"epoch": 2, "val_acc": 0.5}}, "bad_request",
         "epoch 2 reported after epoch 2"),
        ({"metrics": {"epoch": 0}}, "bad_request",
         "must be an integer from 1 to 1000000000"),
        ({"metrics": {"val_acc": 1}}, "bad_request", "missing \\\"epoch\\\""),
        ({"metrics": {"final": True}}, "bad_request", "goes to tell"),
        ({"metrics": 3}, "bad_request", "must be an object"),
        ({}, "bad_request", "must be an object"),
    ]:
        r = request(daemon, op="report", sweep=sid, number=1, **req)
        assert not r["ok"] and r["error"]["code"] == code, r
        assert why.replace("\\", "") in r["error"]["message"], r
    r = request(daemon, op="report", sweep=sid, number=7,
                metrics={"epoch": 3})
    assert r["error"]["code"] == "not_found", r
    r = request(daemon, op="report", sweep=sid, metrics={"epoch": 3})
    assert "missing field \"number\"" in r["error"]["message"], r
    r = request(daemon, op="tell", sweep=sid, number=1, status="done")
    assert r["error"]["code"] == "bad_request" and "status" in r["error"]["message"]
    r = request(daemon, op="tell", sweep=sid, number=1, status="failed", error=3)
    assert r["error"]["code"] == "bad_request"
    r = request(daemon, op="tell", sweep=sid, number=1, status="completed",
                metrics={"final": False})
    assert "set by tell" in r["error"]["message"], r
    # none of that touched the trial
    assert client.trial(sid, 1)["status"] == "running"
    t.tell()
    with pytest.raises(sweepd.Error, match="not running: it is completed") as e:
        client.request("report", sweep=sid, number=1, metrics={"epoch": 9})
    assert e.value.code == "conflict"


def test_the_helper_refuses_before_sending(client):
    sid = client.submit(manual_spec(trials=1))
    t = client.ask(sid)
    with pytest.raises(sweepd.ReportError):
        t.report(0, val_acc=1)
    with pytest.raises(sweepd.ReportError):
        t.report(1, val_acc="high")
    assert client.trial(sid, 1)["status"] == "running"


# ---- the stale timeout, retries, cancel, restart, shutdown -----------------------

def test_a_silent_trial_is_failed_as_stale_and_its_slot_freed(client):
    sid = client.submit(manual_spec(trials=2, parallel=1,
                                    limits={"heartbeat_s": 0.3}))
    t = client.ask(sid)
    got = wait_status(client, sid, 1, ("failed",))
    assert got["error"]["class"] == "stall"
    assert "stale" in got["error"]["message"]
    assert "limits.heartbeat_s" in got["error"]["message"]
    with pytest.raises(sweepd.Error, match="is not running: it is failed") as e:
        t.report(1, val_acc=0.5)
    assert e.value.code == "conflict"
    assert client.ask(sid).number == 2     # the slot is free


def test_reports_keep_a_trial_alive(client):
    sid = client.submit(manual_spec(trials=1, limits={"heartbeat_s": 2}))
    t = client.ask(sid)
    for e in range(1, 9):       # 8 x 0.5 s: twice the heartbeat
        assert t.report(e, val_acc=0.1 * e) is False
        time.sleep(0.5)
    assert t.tell()["status"] == "completed"


def test_a_stale_trial_is_retried_with_its_params(client):
    # 2 s: the second attempt must not go stale before it reports.
    sid = client.submit(manual_spec(trials=1, limits={"heartbeat_s": 2,
                                                      "retries": 1}))
    first = client.ask(sid)
    wait_status(client, sid, 1, ("queued",))
    again = client.ask(sid)
    assert (again.number, again.attempt) == (1, 2)
    assert again.params == first.params and again.seed == first.seed
    with pytest.raises(sweepd.Error, match="attempt 2") as e:
        first.report(1, val_acc=0.5)
    assert e.value.code == "conflict"
    assert again.report(1, val_acc=0.5) is False
    assert again.tell()["status"] == "completed"


def test_cancel_ends_asked_trials(client):
    sid = client.submit(manual_spec(trials=3, parallel=2))
    a, b = client.ask(sid), client.ask(sid)
    client.cancel(sid)
    assert client.wait(sid, timeout=30)["status"] == "cancelled"
    # trial 3 was never created: trials are made when asked for
    assert [t["status"] for t in client.trials(sid)] == ["cancelled"] * 2
    with pytest.raises(sweepd.Error) as e:
        a.report(1, val_acc=0.5)
    assert e.value.code == "conflict"


def test_a_restart_requeues_an_asked_trial(client, daemon):
    sid = client.submit(manual_spec(trials=2))
    t = client.ask(sid)
    t.report(1, val_acc=0.5)
    assert daemon.stop() == 0, "shutdown with an asked trial must be clean"
    daemon.start()
    again = client.ask(sid)
    assert (again.number, again.attempt) == (1, 2)
    assert again.params == t.params
    assert client.trial(sid, 1)["status"] == "running"
    again.tell(val_acc=0.4)
    assert client.trial(sid, 1)["objective"] == 0.4


def test_tpe_learns_from_told_trials(client):
    spec = manual_spec(trials=8, space={"x": {"uniform": [0.0, 1.0]}},
                       search={"algorithm": "tpe", "trials": 8, "seed": 3,
                               "n_startup": 3})
    sid = client.submit(spec)
    for _ in range(8):
        with client.ask(sid) as t:
            t.report(1, val_acc=1.0 - abs(t.params["x"] - 0.2))
    s = client.status(sid)
    assert s["status"] == "completed"
    assert len(client.trials(sid, status="completed")) == 8


def test_sweepctl_shows_a_manual_sweep(client, daemon, tmp_path):
    sid = client.submit(manual_spec(trials=2, parallel=2,
                                    pruner={"algorithm": "median",
                                            "min_trials": 1}))
    a, b = client.ask(sid), client.ask(sid)
    for e in (1, 2):
        a.report(e, train_loss=1.0 / e, val_loss=1.0 / e, train_acc=0.6 + e / 10,
                 val_acc=0.55 + e / 10)
    a.tell(test_acc=0.7)
    assert b.report(1, val_acc=0.1) is True
    out = tmp_path / "r.html"
    daemon.ctl("report", str(sid), "-o", str(out), check=0)
    html = out.read_text()
    assert "pruned" in html and "median" in html
    p = daemon.ctl("trials", str(sid), check=0)
    assert "completed" in p.stdout and "pruned" in p.stdout
    p = daemon.ctl("best", str(sid), check=0)
    assert "0.75" in p.stdout
