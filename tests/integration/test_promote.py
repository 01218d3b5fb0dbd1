"""ASHA's promotion (pruner.promote, docs/spec.md): a trial ASHA stopped at a
rung that is later within the rung's top 1/eta goes on, as a new attempt
that resumes where it was stopped; across a daemon killed while it runs.

The curves are scripted (tests/trainers/curve_trainer.py); parallel 1, so
the trials reach the rungs in order. Rungs 2 and 6 (min_epochs 2, eta 3),
4 epochs each. At rung 2 (best so far): trial 1 0.6, 2 0.65, 3 0.62 (two
were there before it, trial 2 ahead: stopped), 4-6 0.1 (stopped). Once all
six reached it, the top floor(6 / 3) = 2 are trials 2 and 3: trial 3 is
promoted, resumes after epoch 2 and ends at 0.92, the sweep's best."""
import json
import os
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, run_tests, wait_for, with_daemon

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINER = os.path.join(os.path.dirname(HERE), "trainers", "curve_trainer.py")
TABLE = [[0.5, 0.6, 0.65, 0.7], [0.6, 0.65, 0.7, 0.75],
         [0.55, 0.62, 0.9, 0.92]] + [[0.1] * 4] * 3


def spec(log, on_resume="resume", resumed_sleep_ms=None, promote=True):
    space = {"table": TABLE, "k": {"choice": list(range(6))}, "epochs": 4,
             "sleep_ms": 150, "log": log, "on_resume": on_resume}
    if resumed_sleep_ms is not None:
        space["resumed_sleep_ms"] = resumed_sleep_ms
    return {
        "name": "promote",
        "trainer": {"command": [sys.executable, TRAINER]},
        "objective": {"metric": "val_acc", "mode": "max"},
        "space": space,
        "search": {"algorithm": "random", "trials": 6, "parallel": 1,
                   "seed": 1},
        "enqueue": [{"k": i} for i in range(6)],
        # min_trials 0: judged from the third trial at a rung, without
        # waiting for completed ones, so that the six enqueued trials are
        # stopped and promoted as each test plans.
        "pruner": {"algorithm": "asha", "min_epochs": 2, "eta": 3,
                   "min_trials": 0, "promote": promote},
    }


def attempts(log, number):
    with open(log) as f:
        recs = [json.loads(l) for l in f if l.strip()]
    return [r for r in recs if r["number"] == number]


def rows(d, sid, number, attempt):
    return [r["epoch"] for r in d.ok({"op": "epochs", "sweep": sid})["epochs"]
            if r["number"] == number and r["attempt"] == attempt]


def check_sweep(d, sid, third_attempt):
    s = d.wait_sweep(sid, timeout=120)
    assert s["status"] == "completed", s
    ts = d.trials(sid)
    assert [t["status"] for t in ts] == ["completed"] * 3 + ["pruned"] * 3, \
        [(t["number"], t["status"], t["epochs"]) for t in ts]
    t3 = d.ok({"op": "trial", "sweep": sid, "number": 3})["trial"]
    assert t3["attempt"] == third_attempt, t3
    assert [p["epoch"] for p in t3["curve"]] == [1, 2, 3, 4], t3["curve"]
    assert t3["epochs"] == 4 and t3["objective"] == 0.92, t3
    assert t3["error"] is None, t3["error"]
    assert t3["diagnosis"]["ended"] != "pruned", t3["diagnosis"]
    for t in ts[3:]:
        assert t["epochs"] == 2 and t["attempt"] == 1, t
        assert "asha" in t["error"]["message"], t
    assert s["counts"]["completed"] == 3 and s["counts"]["pruned"] == 3, s
    best = d.ok({"op": "best", "sweep": sid})["trial"]
    assert best["number"] == 3, best
    return t3


def _stopped_trial_is_promoted_and_resumed(d):
    log = os.path.join(d.dir, "curve.log")
    sid = d.submit(spec(log))
    check_sweep(d, sid, 2)
    a = attempts(log, 3)
    assert [r["attempt"] for r in a] == [1, 2], a
    assert a[0]["resume"] is None and a[1]["resume"] == "1", a
    assert a[1]["resume_epoch"] == "2" and a[1]["first"] == 3, a
    assert rows(d, sid, 3, 1) == [1, 2] and rows(d, sid, 3, 2) == [3, 4]
    assert "promoted from the 2-epoch rung" in d.log_text(), d.log_text()
    # the trial says it was promoted, and from which rung; the others do not
    t3 = d.ok({"op": "trial", "sweep": sid, "number": 3})["trial"]
    assert t3["promotions"] == 1 and t3["promoted_rung"] == 2, t3
    shown = d.ctl("trial", str(sid), "3").stdout
    assert "promoted    from the 2-epoch rung (1 promotion)" in shown, shown
    for n in (1, 4):
        t = d.ok({"op": "trial", "sweep": sid, "number": n})["trial"]
        assert t["promotions"] == 0 and t["promoted_rung"] is None, t
        assert "promoted" not in d.ctl("trial", str(sid), str(n)).stdout
    # the stopped trials that stay outside the top are not started again
    for n in (4, 5, 6):
        assert len(attempts(log, n)) == 1, attempts(log, n)


def _without_promote_the_trial_stays_pruned(d):
    log = os.path.join(d.dir, "curve.log")
    sid = d.submit(spec(log, promote=False))
    assert d.wait_sweep(sid, timeout=120)["status"] == "completed"
    t3 = d.ok({"op": "trial", "sweep": sid, "number": 3})["trial"]
    assert t3["status"] == "pruned" and t3["attempt"] == 1, t3
    assert t3["promotions"] == 0 and t3["promoted_rung"] is None, t3
    assert len(attempts(log, 3)) == 1


def _a_trainer_that_starts_over_or_repeats_its_epoch(d):
    # told SWEEP_RESUME_EPOCH=2, one reports from epoch 1 again (no
    # checkpoint), one reports epoch 2 again: the later rows win, the curve
    # is 1..4 either way, and it is neither stopped at rung 2 again nor
    # promoted twice
    for how, second in (("restart", [1, 2, 3, 4]), ("repeat", [2, 3, 4])):
        log = os.path.join(d.dir, "curve-%s.log" % how)
        sid = d.submit(spec(log, on_resume=how))
        check_sweep(d, sid, 2)
        a = attempts(log, 3)
        assert [r["attempt"] for r in a] == [1, 2], (how, a)
        assert rows(d, sid, 3, 2) == second, (how, rows(d, sid, 3, 2))


def _a_promotion_its_row_refuses_is_not_tried_again(d):
    # trial 3's row no longer matches what the daemon knows (its stored
    # rung changed behind its back): the conditional UPDATE changes
    # nothing, the daemon says so once and does not try that promotion
    # again (promote.c), and the sweep ends with trial 3 still pruned
    log = os.path.join(d.dir, "curve.log")
    sp = spec(log)
    sp["space"]["sleep_ms"] = 400   # trials 4-6 run while it is changed
    sid = d.submit(sp)
    assert wait_for(lambda: d.trials(sid)[2:3] and
                    d.trials(sid)[2]["status"] == "pruned", timeout=60)
    d.ok({"op": "pause", "sweep": sid})
    assert wait_for(lambda: d.ok({"op": "sweep", "sweep": sid})
                    ["sweep"]["counts"]["running"] == 0, timeout=60)
    assert len(attempts(log, 6)) == 0, "trial 6 ran before the change"
    db = sqlite3.connect(os.path.join(d.dir, "sweepd.db"), timeout=10)
    with db:
        db.execute("UPDATE trials SET asha_rung = 99 WHERE sweep_id = ? "
                   "AND number = 3", (sid,))
    db.close()
    d.ok({"op": "resume", "sweep": sid})
    s = d.wait_sweep(sid, timeout=60)
    assert s["status"] == "completed", s
    t3 = d.ok({"op": "trial", "sweep": sid, "number": 3})["trial"]
    assert t3["status"] == "pruned" and t3["attempt"] == 1, t3
    assert d.log_text().count("cannot promote it") == 1, d.log_text()
    for n in range(1, 7):
        assert len(attempts(log, n)) == 1, (n, attempts(log, n))


def test_daemon_killed_while_a_promotion_runs():
    d = Daemon(workers=1).start()
    try:
        log = os.path.join(d.dir, "curve.log")
        sid = d.submit(spec(log, resumed_sleep_ms=1500))
        assert wait_for(lambda: os.path.exists(log) and
                        len(attempts(log, 3)) == 2, timeout=60)
        pid = attempts(log, 3)[1]["pid"]
        d.kill9()
        d.start()
        t3 = check_sweep(d, sid, 3)
        a = attempts(log, 3)
        # resumed once more after the restart, not lost, not run twice
        assert [r["attempt"] for r in a] == [1, 2, 3], a
        assert a[2]["resume"] == "1" and int(a[2]["resume_epoch"]) >= 2, a
        assert not os.path.exists("/proc/%d" % pid) or \
            open("/proc/%d/stat" % pid).read().split()[2] == "Z", pid
        for n in (4, 5, 6):
            assert len(attempts(log, n)) == 1, attempts(log, n)
        assert t3["status"] == "completed"
    finally:
        d.cleanup()


if __name__ == "__main__":
    sys.exit(run_tests([
        with_daemon(_stopped_trial_is_promoted_and_resumed, serving_after=True),
        with_daemon(_without_promote_the_trial_stays_pruned),
        with_daemon(_a_trainer_that_starts_over_or_repeats_its_epoch),
        with_daemon(_a_promotion_its_row_refuses_is_not_tried_again,
                    serving_after=True),
        test_daemon_killed_while_a_promotion_runs,
    ]))
