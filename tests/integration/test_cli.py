"""sweepctl against a real sweepd: every command, tables and --json."""
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import SWEEPCTL, Daemon, fake_spec, run_tests, wait_for


def with_sweep(fn):
    def wrapped():
        d = Daemon().start()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "spec.json")
                with open(path, "w") as f:
                    json.dump(fake_spec(trials=3, params={"x": {"uniform": [0, 1]}}), f)
                fn(d, path)
        finally:
            d.cleanup()
    wrapped.__name__ = fn.__name__
    return wrapped


def submit_and_wait(d, path):
    p = d.ctl("submit", path, check=0)
    sid = int(p.stdout.strip())
    d.ctl("wait", str(sid), check=0)
    return sid


def _submit_prints_the_id_and_wait_returns_0(d, path):
    sid = submit_and_wait(d, path)
    assert d.ok({"op": "sweep", "sweep": sid})["sweep"]["status"] == "completed"


def _json_submit_replies_with_sweep_id(d, path):
    p = d.ctl("--json", "submit", path, check=0)
    r = json.loads(p.stdout)
    assert r["ok"] and isinstance(r["sweep_id"], int), r


def _ls_status_trials_best_tables(d, path):
    sid = submit_and_wait(d, path)
    ls = d.ctl("ls", check=0).stdout
    assert "completed" in ls and str(sid) in ls, ls
    st = d.ctl("status", str(sid), check=0).stdout
    assert "completed" in st, st
    tr = d.ctl("trials", str(sid), check=0).stdout.splitlines()
    assert len([l for l in tr if "completed" in l]) == 3, tr
    best = d.ctl("best", str(sid), check=0).stdout
    obj = d.ok({"op": "best", "sweep": sid})["trial"]["objective"]
    assert ("%.4g" % obj) in best or ("%.4f" % obj) in best or str(obj)[:5] in best, (obj, best)


def _json_trials_and_best_shapes(d, path):
    sid = submit_and_wait(d, path)
    r = json.loads(d.ctl("--json", "trials", str(sid), check=0).stdout)
    for t in r["trials"]:
        for k in ("number", "params", "status", "objective", "best_epoch"):
            assert k in t, (k, t)
    b = json.loads(d.ctl("--json", "best", str(sid), check=0).stdout)
    assert b["trial"]["number"] in [t["number"] for t in r["trials"]]
    one = json.loads(d.ctl("--json", "trial", str(sid), "1", check=0).stdout)
    assert len(one["trial"]["curve"]) == 3


def _trial_shows_params_and_curve(d, path):
    sid = submit_and_wait(d, path)
    out = d.ctl("trial", str(sid), "2", check=0).stdout
    assert "val_acc" in out and "x" in out, out


def _errors_go_to_stderr_with_nonzero_exit(d, path):
    p = d.ctl("best", "999")
    assert p.returncode != 0 and "999" in p.stderr and not p.stdout.strip(), p
    p = d.ctl("best", "abc")
    assert p.returncode != 0 and p.stderr, p
    p = d.ctl("submit", "/nonexistent/spec.json")
    assert p.returncode != 0 and "/nonexistent/spec.json" in p.stderr, p
    p = d.ctl("frobnicate")
    assert p.returncode != 0 and p.stderr, p


def _bad_spec_error_names_the_field(d, path):
    spec = fake_spec(params={"lr": {"loguniform": [0, 1]}})
    with open(path, "w") as f:
        json.dump(spec, f)
    p = d.ctl("submit", path)
    assert p.returncode != 0 and "space.lr.loguniform" in p.stderr, p.stderr


def _cancel_pause_resume(d, path):
    spec = fake_spec(trials=4, parallel=1, params={"sleep_ms": 400})
    with open(path, "w") as f:
        json.dump(spec, f)
    sid = int(d.ctl("submit", path, check=0).stdout)
    d.ctl("pause", str(sid), check=0)
    d.ctl("resume", str(sid), check=0)
    d.ctl("cancel", str(sid), check=0)
    p = d.ctl("wait", str(sid))
    assert p.returncode != 0, p    # cancelled, not completed


def _watch_ends_with_the_sweep(d, path):
    # A fast sweep can end before the watch subscribes, leaving nothing but
    # "sweep N completed". So: slow trials, one at a time, the sweep paused
    # until the watch has printed its header (it is subscribed by then);
    # trials 2 and 3 can only start after that.
    spec = fake_spec(trials=3, parallel=1, params={"sleep_ms": 100})
    with open(path, "w") as f:
        json.dump(spec, f)
    sid = int(d.ctl("submit", path, check=0).stdout)
    d.ctl("pause", str(sid), check=0)
    w = subprocess.Popen([SWEEPCTL, "--state-dir", d.dir, "watch", str(sid)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        head = w.stdout.readline()
        assert head.startswith("watching sweep %d " % sid), head
        d.ctl("resume", str(sid), check=0)
        out, err = w.communicate(timeout=60)
    finally:
        if w.poll() is None:
            w.kill()
            w.communicate()
    assert w.returncode == 0, (w.returncode, err)
    rows = [re.sub(r"^\[\d\d:\d\d:\d\d\] ", "", l) for l in out.splitlines()]
    # the resume that let the trials go is a line of its own
    for want in ("sweep %d resumed" % sid, "trial 3 started (attempt 1)",
                 "trial 3 epoch 3 ", "trial 3 completed"):
        assert any(r.startswith(want) for r in rows), (want, out)
    assert rows[-1] == "sweep %d completed" % sid, out


def _cannot_connect_is_reported(d, path):
    d.stop()
    p = d.ctl("ls")
    assert p.returncode != 0 and "sweepd.sock" in p.stderr, p.stderr


def _best_of_an_ended_sweep(d, path):
    # cancelled after one trial completed: best answers with it
    sid = d.submit(fake_spec(trials=4, parallel=1, params={
        "sleep_ms": {"choice": [0, 3000]}}, enqueue=[{"sleep_ms": 0}] + [{"sleep_ms": 3000}] * 3))
    assert wait_for(lambda: d.ok({"op": "trials", "sweep": sid})["trials"][0]
                    ["status"] == "completed", timeout=30)
    d.ok({"op": "cancel", "sweep": sid})
    p = d.ctl("best", str(sid))
    assert p.returncode == 0 and "trial 1 " in p.stdout, (p.stdout, p.stderr)
    # ended with no completed trial: said as ended, not "yet"
    for spec, cancel in ((fake_spec(trials=2, params={"mode": "exit3"}), False),
                         (fake_spec(trials=2, params={"sleep_ms": 5000}), True)):
        sid = d.submit(spec)
        if cancel:
            d.ok({"op": "cancel", "sweep": sid})
        status = d.wait_sweep(sid, timeout=60)["status"]
        p = d.ctl("best", str(sid))
        assert p.returncode == 1 and "yet" not in p.stderr, p.stderr
        assert "ended (%s) with no completed trial: 2 " % status in p.stderr or \
            "ended (%s) with no completed trial: 0 failed, 0 pruned, 2 cancelled" \
            % status in p.stderr, p.stderr


def _trials_sort_status_top(d, path):
    sid = d.submit(fake_spec(trials=6, parallel=2, params={
        "x": {"uniform": [0, 1]}, "mode": {"choice": ["ok", "ok", "exit3"]}}))
    d.wait_sweep(sid, timeout=60)
    ts = d.trials(sid)
    done = sorted((t for t in ts if t["status"] == "completed"),
                  key=lambda t: (-t["objective"], t["number"]))
    assert len(done) >= 2, ts
    p = d.ctl("trials", str(sid), "--status", "completed", "--sort",
              "objective", "--desc", "--top", "2", check=0)
    rows = [l.split() for l in p.stdout.splitlines() if re.match(r"\d+ +(completed|failed|pruned|cancelled|queued|running)\b", l)]
    assert [int(r[0]) for r in rows] == [t["number"] for t in done[:2]], (p.stdout, [(t["number"], t["objective"]) for t in done])
    assert "2 of 6 trials shown" in p.stdout, p.stdout
    # ascending by a param; a bad key or status is a usage error naming it
    p = d.ctl("trials", str(sid), "--sort", "x", check=0)
    rows = [int(l.split()[0]) for l in p.stdout.splitlines()
            if re.match(r"\d+ +(completed|failed|pruned|cancelled|queued|running)\b", l)]
    want = [t["number"] for t in sorted(ts, key=lambda t: (t["params"]["x"], t["number"]))]
    assert rows == want, (rows, want, p.stdout)
    p = d.ctl("trials", str(sid), "--sort", "nope")
    assert p.returncode == 2 and '"nope"' in p.stderr, p.stderr
    p = d.ctl("trials", str(sid), "--status", "done")
    assert p.returncode == 2 and "--status must be one of" in p.stderr, p.stderr
    p = d.ctl("trials", str(sid), "--top", "0")
    assert p.returncode == 2 and "--top" in p.stderr, p.stderr


def _rows_fit_the_width(d, path):
    sid = d.submit(fake_spec(trials=2, params={
        "a_rather_long_param_name": {"uniform": [0, 1]}, "x": {"uniform": [0, 1]}}))
    d.wait_sweep(sid)
    env = dict(os.environ, COLUMNS="50")
    for args in (["trials", str(sid)], ["ls"]):
        p = subprocess.run([SWEEPCTL, "--state-dir", d.dir] + args, env=env,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines and all(len(l) <= 50 for l in lines), lines
        assert any(l.endswith("~") for l in lines), lines   # cut, and says so
    # without a width (a pipe, no $COLUMNS) rows are whole
    env.pop("COLUMNS")
    p = subprocess.run([SWEEPCTL, "--state-dir", d.dir, "trials", str(sid)],
                       env=env, capture_output=True, text=True, timeout=30)
    assert "a_rather_long_param_name=" in p.stdout, p.stdout


def _ls_shows_recent_sweeps_and_all(d, path):
    old = d.submit(fake_spec(name="old-one", trials=1))
    new = d.submit(fake_spec(name="new-one", trials=1))
    d.wait_sweep(old)
    d.wait_sweep(new)
    db = sqlite3.connect(os.path.join(d.dir, "sweepd.db"), timeout=10)
    db.execute("UPDATE sweeps SET ended_at = ended_at - 8 * 86400, "
               "created_at = created_at - 8 * 86400 WHERE id = ?", (old,))
    db.commit()
    db.close()
    ls = d.ctl("ls", check=0).stdout
    assert "new-one" in ls and "old-one" not in ls, ls
    assert "1 older sweep (ended over 7 days ago) not shown: sweepctl ls --all" in ls, ls
    ls = d.ctl("ls", "--all", check=0).stdout
    assert "new-one" in ls and "old-one" in ls and "not shown" not in ls, ls


def _rm_asks_refuses_active_and_removes_everything(d, path):
    sid = d.submit(fake_spec(trials=2, params={"sleep_ms": 5000}))
    p = d.ctl("rm", str(sid), "--yes")
    assert p.returncode == 1 and "cancel it first" in p.stderr, p.stderr
    r = d.request({"op": "delete", "sweep": sid})     # the daemon refuses too
    assert not r["ok"] and r["error"]["code"] == "conflict", r
    d.ok({"op": "cancel", "sweep": sid})
    d.wait_sweep(sid)
    done = d.submit(fake_spec(trials=3))
    d.wait_sweep(done)
    for answer in ("", "n\n", "no way\n"):
        p = subprocess.run([SWEEPCTL, "--state-dir", d.dir, "rm", str(done)],
                           input=answer, capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and "not removed" in p.stderr, p.stderr
        assert d.ok({"op": "sweep", "sweep": done})
    p = subprocess.run([SWEEPCTL, "--state-dir", d.dir, "rm", str(done)],
                       input="y\n", capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "removed sweep %d" % done in p.stdout, p
    p = d.ctl("rm", str(sid), "--yes")
    assert p.returncode == 0, p.stderr
    for gone in (sid, done):
        r = d.request({"op": "sweep", "sweep": gone})
        assert r["error"]["code"] == "not_found", r
    db = sqlite3.connect(os.path.join(d.dir, "sweepd.db"), timeout=10)
    left = db.execute("SELECT (SELECT count(*) FROM trials), "
                      "(SELECT count(*) FROM epochs)").fetchone()
    db.close()
    assert left == (0, 0), left
    assert d.ctl("rm", str(done), "--yes").returncode == 1     # not twice
    # the daemon goes on: a new sweep runs and takes the next id
    nxt = d.submit(fake_spec(trials=1))
    assert nxt > done, (nxt, done)
    st = d.wait_sweep(nxt)
    assert st["status"] == "completed", st


def tpe_spec(trials):
    spec = fake_spec(trials=trials, parallel=1, params={"x": {"uniform": [0, 1]}})
    spec["search"].update({"algorithm": "tpe", "n_startup": 2, "seed": 11})
    return spec


def _extend_goes_on_where_it_stopped(d, path):
    sid = d.submit(tpe_spec(4))
    d.wait_sweep(sid)
    before = d.trials(sid)
    p = d.ctl("extend", str(sid), "--trials", "3")
    assert p.returncode == 0 and "sweep %d extended to 7 trials" % sid in p.stdout, p
    st = d.wait_sweep(sid)
    assert st["status"] == "completed" and st["trials_total"] == 7, st
    after = d.trials(sid)
    assert [t["number"] for t in after] == list(range(1, 8)), after
    for a, b in zip(before, after):      # the history is kept as it was
        assert (a["params"], a["objective"], a["seed"]) == \
            (b["params"], b["objective"], b["seed"]), (a, b)
    # TPE goes on from its observations: trials 5..7 are what one 7-trial
    # sweep of the same seed runs after the same first 4
    ref = d.submit(tpe_spec(7))
    d.wait_sweep(ref)
    assert [t["params"] for t in d.trials(ref)] == [t["params"] for t in after]
    # refused: an active sweep, a bad count
    live = d.submit(fake_spec(trials=2, params={"sleep_ms": 5000}))
    p = d.ctl("extend", str(live), "--trials", "1")
    assert p.returncode == 1 and "conflict" in p.stderr, p.stderr
    p = d.ctl("extend", str(sid), "--trials", "0")
    assert p.returncode == 2 and "--trials" in p.stderr, p.stderr
    p = d.ctl("extend", str(sid))
    assert p.returncode == 2 and "--trials" in p.stderr, p.stderr
    d.ok({"op": "cancel", "sweep": live})


def _extend_a_cancelled_sweep(d, path):
    sid = d.submit(fake_spec(trials=3, parallel=1, params={"sleep_ms": {"choice": [0, 3000]}},
                             enqueue=[{"sleep_ms": 0}, {"sleep_ms": 3000}, {"sleep_ms": 3000}]))
    assert wait_for(lambda: d.trials(sid)[0]["status"] == "completed", timeout=30)
    d.ok({"op": "cancel", "sweep": sid})
    d.wait_sweep(sid)
    # until the cancelled trial has stopped, extend says so, then works
    p = d.ctl("extend", str(sid), "--trials", "1")
    if p.returncode == 1:
        assert "still stopping its trials" in p.stderr, p.stderr
        p = wait_for(lambda: (lambda q: q if q.returncode != 1 else None)(
            d.ctl("extend", str(sid), "--trials", "1")), timeout=30)
    assert p and p.returncode == 0, p
    st = d.wait_sweep(sid, timeout=60)
    ts = d.trials(sid)
    assert len(ts) == 4 and ts[3]["status"] == "completed", ts
    assert ts[0]["status"] == "completed" and \
        [t["status"] for t in ts[1:3]] == ["cancelled", "cancelled"], ts
    assert st["status"] == "completed", st


def _rerun_repeats_a_trial_exactly(d, path):
    sid = d.submit(fake_spec(trials=3, params={"x": {"uniform": [0, 1]}}))
    d.wait_sweep(sid)
    orig = d.trials(sid)[1]
    p = d.ctl("rerun", str(sid), "2")
    assert p.returncode == 0 and "trial 4 re-runs trial 2" in p.stdout, p
    st = d.wait_sweep(sid)
    ts = d.trials(sid)
    assert len(ts) == 4 and st["trials_total"] == 4, ts
    new = ts[3]
    assert new["number"] == 4 and new["status"] == "completed", new
    assert (new["params"], new["seed"]) == (orig["params"], orig["seed"]), (new, orig)
    # the fake trainer is deterministic in (params, seed): the same curve
    assert new["objective"] == orig["objective"], (new, orig)
    p = d.ctl("rerun", str(sid), "9")
    assert p.returncode == 1 and "no trial 9" in p.stderr, p.stderr
    live = d.submit(fake_spec(trials=2, params={"sleep_ms": 5000}))
    p = d.ctl("rerun", str(live), "1")
    assert p.returncode == 1 and "conflict" in p.stderr, p.stderr
    d.ok({"op": "cancel", "sweep": live})


TESTS = [with_sweep(f) for f in [
    _rerun_repeats_a_trial_exactly,
    _extend_goes_on_where_it_stopped, _extend_a_cancelled_sweep,
    _rm_asks_refuses_active_and_removes_everything,
    _trials_sort_status_top, _rows_fit_the_width, _ls_shows_recent_sweeps_and_all,
    _best_of_an_ended_sweep,
    _submit_prints_the_id_and_wait_returns_0, _json_submit_replies_with_sweep_id,
    _ls_status_trials_best_tables, _json_trials_and_best_shapes,
    _trial_shows_params_and_curve, _errors_go_to_stderr_with_nonzero_exit,
    _bad_spec_error_names_the_field, _cancel_pause_resume,
    _watch_ends_with_the_sweep, _cannot_connect_is_reported]]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
