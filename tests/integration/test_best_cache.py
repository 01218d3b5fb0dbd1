"""`best` answers kept between requests (daemon/serve/ops_best.h) are the
answers a fresh read gives, byte for byte, after every kind of change: a
trial completes (better, worse, tied), fails, is pruned, is rerun; a
spawned sweep runs, is cancelled, resumed after a restart, removed with
`rm`; several objectives (the Pareto front). The fresh answer is the one a
restarted daemon gives on the same state dir (it starts with nothing
kept); before each change `best` is asked twice, so that the answer read
after it is the one kept, unless the change was seen.
"""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, read_line, run_tests, wait_for


def best_raw(d, sid):
    """The reply line of `best`, bytes as sent (fixed id)."""
    with d.connect() as s:
        s.sendall((json.dumps({"op": "best", "sweep": sid, "id": 1}) + "\n").encode())
        return read_line(s)


def asked_twice(d, sid):
    """Asks twice with nothing changing in between: the second answer is
    the kept one."""
    a, b = best_raw(d, sid), best_raw(d, sid)
    assert a == b, (a, b)
    return a


def settled(d, sid):
    """Waits until no trial of sid runs (the sweep paused or ended)."""
    assert wait_for(lambda: not [t for t in d.trials(sid)
                                 if t["status"] == "running"], 60)


def fresh(d, sid):
    """best_raw from the same state dir after a restart."""
    d.stop()
    d.start()
    return best_raw(d, sid)


def same_as_fresh(d, sid):
    kept = best_raw(d, sid)
    assert kept == fresh(d, sid), kept
    return json.loads(kept)


def manual_spec(objectives=None):
    spec = {"name": "kept", "trainer": {"manual": {}},
            "space": {"x": {"uniform": [0, 1]}},
            "search": {"algorithm": "random", "trials": 40, "parallel": 1,
                       "seed": 5}}
    if objectives:
        spec["objectives"] = objectives
    else:
        spec["objective"] = {"metric": "val_acc", "mode": "max"}
    return spec


def tell(d, sid, status="completed", metrics=None, epochs=()):
    t = d.ok({"op": "ask", "sweep": sid})["trial"]
    for e, m in enumerate(epochs, 1):
        d.ok({"op": "report", "sweep": sid, "number": t["number"],
              "metrics": dict(m, epoch=e)})
    req = {"op": "tell", "sweep": sid, "number": t["number"], "status": status}
    if metrics is not None:
        req["metrics"] = metrics
    if status == "failed":
        req["error"] = "boom"
    d.ok(req)
    return t["number"]


def number_of(reply):
    assert reply.get("ok"), reply
    return reply["trial"]["number"]


def _manual_trials(d):
    sid = d.submit(manual_spec())
    r = json.loads(best_raw(d, sid))
    assert not r["ok"] and "no completed trial" in r["error"]["message"], r
    one = tell(d, sid, metrics={"val_acc": 0.5})
    assert number_of(same_as_fresh(d, sid)) == one
    asked_twice(d, sid)
    two = tell(d, sid, metrics={"val_acc": 0.7})            # better
    assert number_of(same_as_fresh(d, sid)) == two
    asked_twice(d, sid)
    tell(d, sid, metrics={"val_acc": 0.6})                  # worse
    assert number_of(same_as_fresh(d, sid)) == two
    asked_twice(d, sid)
    tell(d, sid, metrics={"val_acc": 0.7})                  # tied: the first
    assert number_of(same_as_fresh(d, sid)) == two
    asked_twice(d, sid)
    tell(d, sid, status="failed")
    assert number_of(same_as_fresh(d, sid)) == two
    asked_twice(d, sid)
    tell(d, sid, status="pruned", epochs=[{"val_acc": 0.95}])
    assert number_of(same_as_fresh(d, sid)) == two
    asked_twice(d, sid)
    top = tell(d, sid, epochs=[{"val_acc": 0.8}, {"val_acc": 0.9}],
               metrics={"test_acc": 0.85})
    r = same_as_fresh(d, sid)
    assert number_of(r) == top and r["trial"]["objective"] == 0.9, r
    asked_twice(d, sid)
    d.ok({"op": "cancel", "sweep": sid})                    # now ended
    r = same_as_fresh(d, sid)
    assert number_of(r) == top, r


def _spawned_sweep_resumed_and_removed(d):
    # Slow enough (0.6 s a trial) that the sweep cannot end before the
    # pause below, even when its first trial ends late under load.
    spec = fake_spec(name="kept-run", trials=12, parallel=2,
                     params={"lr": {"loguniform": [1e-4, 1e-1]},
                             "sleep_ms": 200})
    sid = d.submit(spec)
    assert wait_for(lambda: json.loads(best_raw(d, sid)).get("ok"), 60)
    d.ok({"op": "pause", "sweep": sid})
    settled(d, sid)
    asked_twice(d, sid)
    same_as_fresh(d, sid)                                   # resumed after a restart
    asked_twice(d, sid)
    d.ok({"op": "resume", "sweep": sid})
    d.wait_sweep(sid)
    r = same_as_fresh(d, sid)
    done = [t for t in d.trials(sid) if t["status"] == "completed"]
    want = min(done, key=lambda t: (-t["objective"], t["number"]))
    assert number_of(r) == want["number"], (r, want)
    asked_twice(d, sid)
    d.ok({"op": "rerun", "sweep": sid, "number": want["number"]})
    same_as_fresh(d, sid)
    d.wait_sweep(sid)
    asked_twice(d, sid)
    d.ctl("rm", str(sid), "--yes", check=0)
    gone = json.loads(best_raw(d, sid))
    assert not gone["ok"] and gone["error"]["code"] == "not_found", gone
    assert gone == json.loads(fresh(d, sid))


def _several_objectives_front(d):
    sid = d.submit(manual_spec([{"metric": "val_acc", "mode": "max"},
                                {"metric": "seconds", "mode": "min"}]))
    tell(d, sid, epochs=[{"val_acc": 0.5, "seconds": 5}])
    r = same_as_fresh(d, sid)
    assert len(r["front"]) == 1, r
    asked_twice(d, sid)
    tell(d, sid, epochs=[{"val_acc": 0.4, "seconds": 1}])   # joins the front
    r = same_as_fresh(d, sid)
    assert len(r["front"]) == 2, r
    asked_twice(d, sid)
    tell(d, sid, epochs=[{"val_acc": 0.6, "seconds": 0.5}])  # dominates both
    r = same_as_fresh(d, sid)
    assert len(r["front"]) == 1 and number_of(r) == 3, r


def with_fresh_daemon(fn):
    def wrapped():
        d = Daemon().start()
        try:
            fn(d)
        finally:
            d.cleanup()
    wrapped.__name__ = fn.__name__
    return wrapped


if __name__ == "__main__":
    sys.exit(run_tests([with_fresh_daemon(f) for f in (
        _manual_trials, _spawned_sweep_resumed_and_removed,
        _several_objectives_front)]))
