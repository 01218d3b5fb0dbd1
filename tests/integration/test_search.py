"""Search that beats random, through the daemon: TPE, the pruners, early
stopping for external trainers, and enqueued trials."""
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time

TRAIN_LONGER = ("more epochs", "train longer", "let it run", "wait for")


def _no_train_longer(t):
    """A trial the daemon stopped is diagnosed as stopped and never told
    to train longer (docs/diagnosis.md, "The trial")."""
    advice = " ".join(t["diagnosis"]["advice"])
    assert not any(w in advice for w in TRAIN_LONGER), t["diagnosis"]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, run_tests, with_daemon


def _tpe_concentrates_near_the_optimum(d):
    # the fake trainer's quality peaks at x = 0.3
    spec = fake_spec(trials=30, parallel=1, params={"x": {"uniform": [0, 1]}})
    # a fixed quarter of the trials as "good": with 30 trials the default
    # ("auto", 10 %) keeps exploring longer than this test waits
    spec["search"] = {"algorithm": "tpe", "trials": 30, "parallel": 1,
                      "seed": 3, "n_startup": 8, "gamma": 0.25}
    sid = d.submit(spec)
    assert d.wait_sweep(sid)["status"] == "completed"
    xs = [t["params"]["x"] for t in d.trials(sid)]
    early = statistics.median(abs(x - 0.3) for x in xs[:8])
    late = statistics.median(abs(x - 0.3) for x in xs[-10:])
    assert late < early / 2, (early, late, xs)


def _tpe_is_reproducible(d):
    spec = fake_spec(trials=15, parallel=1, params={"x": {"uniform": [0, 1]},
                                                    "k": {"choice": [1, 2, 3]}})
    spec["search"] = {"algorithm": "tpe", "trials": 15, "parallel": 1,
                      "seed": 11, "n_startup": 5}
    a, b = d.submit(spec), d.submit(spec)
    d.wait_sweep(a)
    d.wait_sweep(b)
    assert [t["params"] for t in d.trials(a)] == [t["params"] for t in d.trials(b)]


def _median_pruner_stops_bad_trials(d):
    spec = fake_spec(trials=12, parallel=1,
                     params={"x": {"uniform": [0, 1]}, "epochs": 6},
                     pruner={"algorithm": "median", "warmup_epochs": 1,
                             "min_trials": 2})
    sid = d.submit(spec)
    assert d.wait_sweep(sid)["status"] == "completed"
    ts = d.trials(sid)
    pruned = [t for t in ts if t["status"] == "pruned"]
    assert pruned, [t["status"] for t in ts]
    for t in pruned:
        assert t["epochs"] < 6 and t["error"]["class"] == "pruned", t
        assert "median" in t["error"]["message"], t
    done = [t["objective"] for t in ts if t["status"] == "completed"]
    assert max(done) >= max(t["objective"] for t in pruned)


def _asha_stops_at_rungs(d):
    spec = fake_spec(trials=12, parallel=2,
                     params={"x": {"uniform": [0, 1]}, "epochs": 9},
                     pruner={"algorithm": "asha", "min_epochs": 1, "eta": 3})
    sid = d.submit(spec)
    assert d.wait_sweep(sid)["status"] == "completed"
    ts = d.trials(sid)
    pruned = [t for t in ts if t["status"] == "pruned"]
    assert pruned and len(ts) == 12, [t["status"] for t in ts]
    for t in pruned:
        # Rungs at 1 and 3 epochs; the 9-epoch rung is the trials' last
        # epoch ("epochs": 9): a trial there has finished, it is not pruned.
        assert t["epochs"] in (1, 3), t
        assert t["diagnosis"]["ended"] == "pruned", t["diagnosis"]
        assert t["diagnosis"]["verdict"] != "underfitting", t["diagnosis"]
        _no_train_longer(t)
    for t in ts:
        if t["status"] == "completed":
            assert t["epochs"] == 9, t


# Six trials, one at a time, each worse than the one before (the fake
# trainer's quality peaks at x = 0.3), 9 epochs, rungs at 1 and 3.
WORSE_EACH_TIME = [{"x": 0.3 + 0.1 * i} for i in range(6)]


def asha_sweep(min_trials=None, sleep_ms=0):
    pruner = {"algorithm": "asha", "min_epochs": 1, "eta": 3}
    if min_trials is not None:
        pruner["min_trials"] = min_trials
    return fake_spec(trials=6, parallel=1,
                     params={"x": {"uniform": [0, 1]}, "epochs": 9,
                             "sleep_ms": sleep_ms},
                     pruner=pruner, enqueue=WORSE_EACH_TIME)


def completed_then_pruned(d, sid):
    """The numbers of the completed trials, and the epochs of the pruned
    ones, after checking that every trial is one or the other."""
    ts = d.trials(sid)
    assert [t["params"]["x"] for t in ts] == [p["x"] for p in WORSE_EACH_TIME], ts
    assert all(t["status"] in ("completed", "pruned") for t in ts), ts
    return ([t["number"] for t in ts if t["status"] == "completed"],
            [t["epochs"] for t in ts if t["status"] == "pruned"])


def _asha_waits_for_completed_trials(d):
    # min_trials 3: nothing is stopped until three trials completed; the
    # rest, worse than all three at the 1-epoch rung, stop there
    sid = d.submit(asha_sweep(min_trials=3))
    s = d.wait_sweep(sid)
    assert s["status"] == "completed", s
    assert s["spec"]["pruner"]["min_trials"] == 3, s["spec"]
    assert completed_then_pruned(d, sid) == ([1, 2, 3], [1, 1, 1])
    # 0, the rule without the wait: trial 3 is the third at the rung and
    # not its top third
    sid = d.submit(asha_sweep(min_trials=0))
    d.wait_sweep(sid)
    assert completed_then_pruned(d, sid) == ([1, 2], [1, 1, 1, 1])
    # unsaid: the default, 4, and the stored spec says so
    sid = d.submit(asha_sweep())
    s = d.wait_sweep(sid)
    assert s["spec"]["pruner"]["min_trials"] == 4, s["spec"]
    assert completed_then_pruned(d, sid) == ([1, 2, 3, 4], [1, 1])


def test_asha_sweep_stored_before_min_trials_keeps_its_rule():
    # A sweep whose stored spec has no pruner.min_trials (stored by a
    # version before ASHA had it) goes on after a restart with none, as it
    # began, not with the new default 4.
    d = Daemon(workers=1).start()
    try:
        sid = d.submit(asha_sweep(sleep_ms=30))
        d.ok({"op": "pause", "sweep": sid})
        d.stop()
        db = sqlite3.connect(os.path.join(d.dir, "sweepd.db"), timeout=10)
        with db:
            db.execute("UPDATE sweeps SET spec_json = json_remove(spec_json, "
                       "'$.pruner.min_trials') WHERE id = ?", (sid,))
            stored = db.execute("SELECT spec_json FROM sweeps WHERE id = ?",
                                (sid,)).fetchone()[0]
        db.close()
        assert "min_trials" not in stored, stored
        d.start()
        d.ok({"op": "resume", "sweep": sid})
        s = d.wait_sweep(sid)
        assert s["status"] == "completed", s
        assert completed_then_pruned(d, sid) == ([1, 2], [1, 1, 1, 1])
    finally:
        d.cleanup()


def _early_stopping_for_external_trainers(d):
    spec = fake_spec(trials=1, parallel=1,
                     params={"mode": "peak", "epochs": 12, "sleep_ms": 100},
                     early_stopping={"patience": 2, "min_delta": 0.0})
    sid = d.submit(spec)
    d.wait_sweep(sid)
    t = d.ok({"op": "trial", "sweep": sid, "number": 1})["trial"]
    assert t["status"] == "completed", t
    assert t["best_epoch"] == 3 and t["epochs"] < 12, t
    assert t["diagnosis"]["ended"] == "early_stopped", t["diagnosis"]
    assert t["diagnosis"]["verdict"] != "not_converged", t["diagnosis"]
    _no_train_longer(t)


def _enqueued_trials_run_first(d):
    spec = fake_spec(trials=5, parallel=1, params={"x": {"uniform": [0, 1]},
                                                   "lr": {"loguniform": [1e-3, 1e-1]}})
    spec["enqueue"] = [{"x": 0.3, "lr": 0.01}, {"x": 0.9}]
    sid = d.submit(spec)
    d.wait_sweep(sid)
    ts = d.trials(sid)
    assert ts[0]["params"]["x"] == 0.3 and ts[0]["params"]["lr"] == 0.01
    assert ts[1]["params"]["x"] == 0.9 and 1e-3 <= ts[1]["params"]["lr"] <= 1e-1


def _enqueue_on_a_running_sweep(d):
    spec = fake_spec(trials=4, parallel=1,
                     params={"x": {"uniform": [0, 1]}, "sleep_ms": 150})
    sid = d.submit(spec)
    r = d.ok({"op": "enqueue", "sweep": sid, "params": [{"x": 0.42}]})
    assert r["enqueued"] == 1
    d.wait_sweep(sid)
    xs = [t["params"]["x"] for t in d.trials(sid)]
    assert xs[1] == 0.42, xs     # trial 1 was running; the enqueued one is next
    r = d.request({"op": "enqueue", "sweep": sid, "params": {"x": 0.5}})
    assert not r["ok"] and r["error"]["code"] == "conflict", r   # sweep ended


def _enqueue_checks_room_and_values(d):
    spec = fake_spec(trials=2, parallel=1,
                     params={"x": {"uniform": [0, 1]}, "sleep_ms": 300})
    sid = d.submit(spec)
    r = d.request({"op": "enqueue", "sweep": sid, "params": [{"x": 0.1}, {"x": 0.2}]})
    assert not r["ok"] and "room" in r["error"]["message"], r
    r = d.request({"op": "enqueue", "sweep": sid, "params": {"x": 7}})
    assert not r["ok"] and "x" in r["error"]["message"], r
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"x": 0.25}, f)
    try:
        p = d.ctl("enqueue", str(sid), f.name)
        assert p.returncode == 0, p.stderr
    finally:
        os.unlink(f.name)
    d.wait_sweep(sid)
    assert [t["params"]["x"] for t in d.trials(sid)][1] == 0.25


def _conditional_params_only_when_active(d):
    # The trainer records the SWEEP_PARAMS it is started with.
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "params.log")
        spec = fake_spec(trials=0, parallel=2, params={
            "opt": {"choice": ["sgd", "momentum", "nesterov"]},
            "x": {"uniform": [0, 1], "grid": [0.2, 0.4],
                  "when": {"opt": ["momentum", "nesterov"]}},
            "damp": {"choice": [0, 1], "when": {"opt": ["nesterov"]}}})
        fake = spec["trainer"]["command"][0]
        spec["trainer"]["command"] = [
            "/bin/sh", "-c", 'printf "%s\\n" "$SWEEP_PARAMS" >> "$0"; exec "$1"',
            log, fake]
        spec["search"] = {"algorithm": "grid", "parallel": 2}
        sid = d.submit(spec)
        assert d.wait_sweep(sid)["status"] == "completed"
        ts = d.trials(sid)
        # sgd: 1; momentum: 2 x; nesterov: 2 x times 2 damp = 7
        assert len(ts) == 7, [t["params"] for t in ts]
        seen = set()
        for t in ts:
            p = t["params"]
            assert ("x" in p) == (p["opt"] != "sgd"), p
            assert ("damp" in p) == (p["opt"] == "nesterov"), p
            seen.add(json.dumps(p, sort_keys=True))
        assert len(seen) == 7, seen
        with open(log) as f:
            started = [json.loads(line) for line in f if line.strip()]
        assert len(started) == 7, started
        for p in started:
            assert ("x" in p) == (p["opt"] != "sgd"), p
            assert ("damp" in p) == (p["opt"] == "nesterov"), p
    bad = fake_spec(params={"a": {"choice": [1, 2], "when": {"b": [1]}},
                            "b": {"choice": [1, 2], "when": {"a": [1]}}})
    r = d.request({"op": "submit", "spec": bad})
    assert not r["ok"] and "space.a.when: the conditions form a cycle (a -> b -> a)" \
        in r["error"]["message"], r
    bad = fake_spec(params={"m": {"uniform": [0, 1], "when": {"optimizer": ["x"]}}})
    r = d.request({"op": "submit", "spec": bad})
    assert not r["ok"] and "space.m.when.optimizer: not a param of the space" \
        in r["error"]["message"], r
    mlp = {"trainer": {"builtin": "mlp", "dataset": "synthetic"},
           "objective": {"metric": "val_acc", "mode": "max"},
           "space": {"optimizer": {"choice": ["adam", "momentum"]},
                     "momentum": {"uniform": [0, 0.9]}}}
    r = d.request({"op": "submit", "spec": mlp})
    assert not r["ok"] and "space.momentum: applies only when optimizer is" \
        in r["error"]["message"], r


def _tpe_off_the_loop_survives_cancel_and_shutdown(d):
    # TPE suggestions run on the thread pool: a sweep cancelled or a
    # daemon stopped while one is pending must neither lose nor duplicate
    # a trial, nor crash (ASan runs this too).
    spec = fake_spec(trials=400, parallel=4, params={
        "x": {"uniform": [0, 1]}, "k": {"choice": [1, 2, 3]}, "epochs": 1})
    spec["search"] = {"algorithm": "tpe", "trials": 400, "parallel": 4,
                      "seed": 5, "n_startup": 2}
    sid = d.submit(spec)
    while len(d.trials(sid)) < 30:
        time.sleep(0.02)
    d.ok({"op": "cancel", "sweep": sid})
    assert d.wait_sweep(sid)["status"] == "cancelled"
    ts = d.trials(sid)
    assert [t["number"] for t in ts] == list(range(1, len(ts) + 1)), ts
    assert len(ts) < 400
    assert len({json.dumps(t["params"], sort_keys=True) for t in ts}) == len(ts)
    other = d.submit(spec)
    while len(d.trials(other)) < 20:
        time.sleep(0.02)
    assert d.stop() == 0


def _importance_names_what_mattered(d):
    # The fake trainer's quality: 0.9 - 0.5 (x - 0.3)^2 - 0.02 (log10 lr + 2)^2;
    # over these ranges x carries ~89 % of its variance, lr ~11 %, z none.
    spec = fake_spec(trials=80, parallel=4, params={
        "x": {"uniform": [0, 1]}, "lr": {"loguniform": [1e-4, 1]},
        "z": {"uniform": [0, 1]}})
    sid = d.submit(spec)
    assert d.wait_sweep(sid)["status"] == "completed"
    imp = d.ok({"op": "importance", "sweep": sid})["importance"]
    assert imp["trials"] == 80, imp
    names = [p["param"] for p in imp["objective"]]
    assert names[0] == "x" and set(names) == {"x", "lr", "z"}, imp   # no constant
    share = {p["param"]: p["share"] for p in imp["objective"]}
    assert share["x"] > 0.6 and share["z"] < 0.1, imp
    assert isinstance(imp["verdicts"], list), imp
    p = d.ctl("importance", str(sid))
    assert p.returncode == 0 and "x" in p.stdout and "80 completed trials" in p.stdout, \
        (p.stdout, p.stderr)
    p = d.ctl("status", str(sid))
    assert p.returncode == 0 and "what mattered: x " in p.stdout, (p.stdout, p.stderr)
    assert "sampled together" not in p.stdout, p.stdout   # shares sum under 1
    p = d.ctl("--json", "importance", str(sid))
    assert json.loads(p.stdout)["importance"]["objective"][0]["param"] == "x", p.stdout
    r = d.request({"op": "importance", "sweep": 999})
    assert not r["ok"] and r["error"]["code"] == "not_found", r


def _importance_says_when_shares_overlap(d):
    """Params that were always sampled together (as TPE does, more or
    less) each get the whole effect: the shares then sum over 1, and the
    views say why instead of printing "share of the variance" figures
    that cannot all be shares."""
    pairs = [{"x": 0.3, "twin": "a"}] * 6 + [{"x": 0.9, "twin": "b"}] * 6
    spec = fake_spec(trials=12, parallel=2, params={
        "x": {"choice": [0.3, 0.9]}, "twin": {"choice": ["a", "b"]}})
    spec["enqueue"] = pairs
    sid = d.submit(spec)
    assert d.wait_sweep(sid)["status"] == "completed"
    imp = d.ok({"op": "importance", "sweep": sid})["importance"]
    share = {p["param"]: p["share"] for p in imp["objective"]}
    assert share["x"] > 0.9 and share["twin"] > 0.9, imp
    total = "%.2f" % (share["x"] + share["twin"])
    p = d.ctl("importance", str(sid))
    assert p.returncode == 0 and "sum to %s" % total in p.stdout and \
        "sampled together" in p.stdout, (p.stdout, p.stderr)
    p = d.ctl("status", str(sid))
    assert p.returncode == 0 and "what mattered: " in p.stdout and \
        "sum %s" % total in p.stdout, (p.stdout, p.stderr)


def _several_objectives_first_is_the_objective(d):
    """With "objectives", the first is the sweep's objective wherever a
    single one is read: the sweep's objective and its best (docs/spec.md,
    "objectives"); sweepctl refuses what the daemon refuses."""
    spec = fake_spec(trials=4, parallel=2, params={"x": {"uniform": [0, 1]}})
    del spec["objective"]
    spec["objectives"] = [{"metric": "val_loss"},
                          {"metric": "seconds", "mode": "min"}]
    sid = d.submit(spec)
    sw = d.wait_sweep(sid)
    assert sw["status"] == "completed", sw
    assert sw["objective"] == {"metric": "val_loss", "mode": "min"}, sw
    done = [t for t in d.trials(sid) if t["status"] == "completed"]
    assert len({t["objective"] for t in done}) > 1, done
    want = min(done, key=lambda t: (t["objective"], t["number"]))
    assert sw["best"]["number"] == want["number"], (sw["best"], done)
    spec["pruner"] = {"algorithm": "asha"}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        p = d.ctl("submit", f.name)
    finally:
        os.unlink(f.name)
    assert p.returncode != 0, p
    assert "pruner.metric: required with several objectives" in p.stderr, p.stderr


TESTS = [with_daemon(f) for f in [
    _importance_names_what_mattered,
    _importance_says_when_shares_overlap,
    _tpe_off_the_loop_survives_cancel_and_shutdown,
    _conditional_params_only_when_active,
    _tpe_concentrates_near_the_optimum, _tpe_is_reproducible,
    _median_pruner_stops_bad_trials, _asha_stops_at_rungs,
    _asha_waits_for_completed_trials,
    _early_stopping_for_external_trainers, _enqueued_trials_run_first,
    _enqueue_on_a_running_sweep, _enqueue_checks_room_and_values,
    _several_objectives_first_is_the_objective]] + [
    test_asha_sweep_stored_before_min_trials_keeps_its_rule]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
