"""Several objectives end to end: `best` returns the Pareto front of the
completed trials, each member with its values at its best epoch of the
first objective (docs/spec.md "objectives", docs/DESIGN.md "best"); TPE
runs with several objectives; sweepctl best and status print the front;
the HTML report draws the scatter of the first two objectives.

The fake trainer's val_acc peaks at lr = 0.01 and echoes lr in every epoch
line, so val_acc (max) and lr (min) conflict below lr = 0.01; mode "peak"
puts every trial's best val_acc at epoch 3 of 5, where its val_loss is not
its last (nor its lowest): a value read at any other epoch is caught.
"""
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import fake_spec, run_tests, with_daemon

OBJECTIVES = [{"metric": "val_acc", "mode": "max"},
              {"metric": "lr", "mode": "min"},
              {"metric": "val_loss", "mode": "min"}]


def mo_spec(algorithm="random", trials=12, objectives=OBJECTIVES):
    spec = fake_spec(name="pareto", trials=trials, parallel=2, params={
        "epochs": 5, "mode": "peak",
        "x": {"uniform": [0, 1]},
        "lr": {"loguniform": [1e-4, 1e-1]},
    })
    del spec["objective"]
    spec["objectives"] = objectives
    spec["search"]["algorithm"] = algorithm
    if algorithm == "tpe":
        spec["search"]["n_startup"] = 4
    return spec


def dominates(a, b, maxi):
    better = False
    for x, y, m in zip(a, b, maxi):
        if (x < y) if m else (x > y):
            return False
        if x != y:
            better = True
    return better


def expected_front(d, sid, objectives):
    """{number: values} of the non-dominated completed trials, by brute
    force over every pair, values read from each trial's curve at its
    best_epoch."""
    maxi = [o.get("mode", "max") == "max" for o in objectives]
    vals = {}
    for t in d.trials(sid):
        if t["status"] != "completed":
            continue
        full = d.ok({"op": "trial", "sweep": sid,
                     "number": t["number"]})["trial"]
        at = [e for e in full["curve"] if e["epoch"] == full["best_epoch"]]
        assert len(at) == 1, full
        vals[t["number"]] = [at[0][o["metric"]] for o in objectives]
    assert len(vals) >= 6, vals
    return {n: v for n, v in vals.items()
            if not any(dominates(w, v, maxi) for w in vals.values())}


def check_front(d, sid, objectives):
    want = expected_front(d, sid, objectives)
    r = d.ok({"op": "best", "sweep": sid})
    assert "front" in r, r
    assert r["objectives"] == objectives, r["objectives"]
    got = {t["number"]: t["values"] for t in r["front"]}
    assert got == want, (got, want)
    assert [t["number"] for t in r["front"]] == sorted(want), r["front"]
    for t in r["front"]:
        assert t["status"] == "completed" and t["best_epoch"] == 3, t
    # the single best by the first objective stays where it was
    assert r["trial"]["number"] in want, r["trial"]
    return r


def _best_is_the_pareto_front(d):
    sid = d.submit(mo_spec())
    sw = d.wait_sweep(sid)
    assert sw["status"] == "completed", sw
    r = check_front(d, sid, OBJECTIVES)
    assert 1 < len(r["front"]) < 12, r["front"]   # the objectives conflict
    assert sw["front"] == r["front"], (sw["front"], r["front"])


def _tpe_with_two_objectives(d):
    two = OBJECTIVES[:2]
    sid = d.submit(mo_spec("tpe", trials=12, objectives=two))
    sw = d.wait_sweep(sid, timeout=120)
    assert sw["status"] == "completed", sw
    done = [t for t in d.trials(sid) if t["status"] == "completed"]
    assert len(done) == 12, done
    check_front(d, sid, two)


def _single_objective_best_has_no_front(d):
    spec = fake_spec(trials=3, params={"x": {"uniform": [0, 1]}})
    sid = d.submit(spec)
    d.wait_sweep(sid)
    r = d.ok({"op": "best", "sweep": sid})
    assert "front" not in r and "trial" in r, r
    assert "front" not in d.ok({"op": "sweep", "sweep": sid})["sweep"]


def _sweepctl_prints_the_front(d):
    sid = d.submit(mo_spec(trials=8))
    d.wait_sweep(sid)
    front = d.ok({"op": "best", "sweep": sid})["front"]
    out = d.ctl("best", str(sid), check=0).stdout
    assert "Pareto front: %d trials (val_acc max, lr min, val_loss min)" \
        % len(front) in out, out
    for t in front:
        assert "#%d " % t["number"] in out, (t, out)
    js = json.loads(d.ctl("best", str(sid), "--json", check=0).stdout)
    assert [t["number"] for t in js["front"]] == \
        [t["number"] for t in front], js
    st = d.ctl("status", str(sid), check=0).stdout
    assert "Pareto front: %d trials" % len(front) in st, st
    for t in front:
        assert "#%d " % t["number"] in st, (t, st)


def _report_draws_the_front(d):
    sid = d.submit(mo_spec(trials=8))
    d.wait_sweep(sid)
    front = d.ok({"op": "best", "sweep": sid})["front"]
    done = [t for t in d.trials(sid) if t["status"] == "completed"]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.html")
        d.ctl("report", str(sid), "-o", path, check=0)
        with open(path) as f:
            page = f.read()
    assert "id='pareto'" in page, page[:2000]
    sec = page[page.index("id='pareto'"):]
    sec = sec[:sec.index("</svg>")]
    assert sec.count("class='pt front'") == len(front), sec
    assert sec.count("class='pt'") == len(done) - len(front), sec
    drawn = re.findall(r"<circle class='pt front'[^>]*><title>trial (\d+):",
                       sec)
    assert sorted(int(n) for n in drawn) == [t["number"] for t in front], sec
    assert "class='front-line'" in sec, sec


def _tpe_history_values_survive_a_reload(d):
    """extend loads an ended sweep again as a restart does: the values of
    its completed trials come back from the stored epoch rows, so MOTPE
    suggests after the reload exactly what it suggests in one go (a
    history whose completed trials lost their values would make TPE draw
    as if nothing were known). parallel 1: one order of results."""
    two = OBJECTIVES[:2]
    whole = mo_spec("tpe", trials=10, objectives=two)
    whole["search"]["parallel"] = 1
    part = json.loads(json.dumps(whole))
    part["search"]["trials"] = 6
    a = d.submit(whole)
    assert d.wait_sweep(a, timeout=120)["status"] == "completed"
    b = d.submit(part)
    assert d.wait_sweep(b, timeout=120)["status"] == "completed"
    d.ok({"op": "extend", "sweep": b, "trials": 4})
    assert d.wait_sweep(b, timeout=120)["status"] == "completed"
    pa = [t["params"] for t in d.trials(a)]
    pb = [t["params"] for t in d.trials(b)]
    assert len(pa) == len(pb) == 10, (pa, pb)
    assert pa == pb, [(i + 1, x, y) for i, (x, y) in
                      enumerate(zip(pa, pb)) if x != y]


TESTS = [with_daemon(f) for f in [
    _best_is_the_pareto_front, _tpe_with_two_objectives,
    _single_objective_best_has_no_front, _sweepctl_prints_the_front,
    _report_draws_the_front, _tpe_history_values_survive_a_reload]]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
