"""sweepd end to end with the fake trainer: sampling, scheduling, results."""
import itertools
import json
import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import (Daemon, Skip, fake_spec, pids_with_env, run_tests, wait_for, FAKE,
                      SWEEPD, with_daemon)


def _ping(d):
    r = d.ok({"op": "ping"})
    assert r["version"] and r["pid"] == d.proc.pid, r


def _socket_is_private(d):
    assert stat.S_IMODE(os.stat(d.sock).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(d.dir).st_mode) == 0o700


def _sweep_runs_to_completion(d):
    sid = d.submit(fake_spec(trials=4, params={"x": {"uniform": [0, 1]}}))
    s = d.wait_sweep(sid)
    assert s["status"] == "completed", s
    ts = d.trials(sid)
    assert [t["number"] for t in ts] == [1, 2, 3, 4]
    for t in ts:
        assert t["status"] == "completed", t
        assert isinstance(t["objective"], float), t
        assert t["best_epoch"] == 3, t   # the fake curve rises every epoch
        assert t["epochs"] == 3, t
        assert 0 <= t["params"]["x"] <= 1 and t["params"]["epochs"] == 3
    best = d.ok({"op": "best", "sweep": sid})["trial"]
    assert best["objective"] == max(t["objective"] for t in ts)
    one = d.ok({"op": "trial", "sweep": sid, "number": 2})["trial"]
    assert [e["epoch"] for e in one["curve"]] == [1, 2, 3]
    assert one["curve"][2]["val_acc"] == one["objective"]
    assert s["counts"]["completed"] == 4 and s["trials_total"] == 4


def _random_is_reproducible(d):
    spec = fake_spec(trials=5, parallel=2, params={
        "x": {"uniform": [0, 1]}, "lr": {"loguniform": [1e-4, 1e-1]},
        "k": {"choice": ["a", "b", "c"]}})
    a = d.submit(spec)
    b = d.submit(dict(spec, search=dict(spec["search"], parallel=1)))
    d.wait_sweep(a)
    d.wait_sweep(b)
    pa = [(t["params"], t["seed"]) for t in d.trials(a)]
    pb = [(t["params"], t["seed"]) for t in d.trials(b)]
    assert pa == pb, (pa, pb)
    assert len({json.dumps(p, sort_keys=True) for p, _ in pa}) == 5
    assert len({s for _, s in pa}) == 5
    c = d.submit(dict(spec, search=dict(spec["search"], seed=8)))
    d.wait_sweep(c)
    assert [t["params"] for t in d.trials(c)] != [p for p, _ in pa]


def _grid_enumerates_every_combination(d):
    spec = fake_spec(params={"x": {"choice": [0.1, 0.3, 0.5]},
                             "lr": {"choice": [0.01, 0.1]}})
    spec["search"] = {"algorithm": "grid", "parallel": 2}
    sid = d.submit(spec)
    s = d.wait_sweep(sid)
    assert s["status"] == "completed" and s["trials_total"] == 6, s
    got = sorted((t["params"]["x"], t["params"]["lr"]) for t in d.trials(sid))
    assert got == sorted(itertools.product([0.1, 0.3, 0.5], [0.01, 0.1])), got


def _grid_refuses_a_continuous_range(d):
    spec = fake_spec(params={"x": {"uniform": [0, 1]}})
    spec["search"] = {"algorithm": "grid"}
    r = d.request({"op": "submit", "spec": spec})
    assert not r["ok"] and r["error"]["code"] == "bad_request", r
    assert "x" in r["error"]["message"], r


def _spec_errors_name_the_field(d):
    spec = fake_spec(params={"lr": {"loguniform": [0, 1]}})
    r = d.request({"op": "submit", "spec": spec})
    assert not r["ok"], r
    assert "space.lr.loguniform" in r["error"]["message"], r
    spec = fake_spec()
    spec["search"]["parallel"] = "two"
    r = d.request({"op": "submit", "spec": spec})
    assert not r["ok"] and "search.parallel" in r["error"]["message"], r


def _parallel_bounds_concurrency(d):
    sid = d.submit(fake_spec(trials=4, parallel=1, params={"sleep_ms": 30}))
    d.wait_sweep(sid)
    ts = sorted(d.trials(sid), key=lambda t: t["started_at"])
    for a, b in zip(ts, ts[1:]):
        assert b["started_at"] >= a["ended_at"] - 1e-3, (a, b)


def _sweeps_share_workers_round_robin(d):
    a = d.submit(fake_spec(name="a", trials=6, parallel=2, params={"sleep_ms": 40}))
    b = d.submit(fake_spec(name="b", trials=6, parallel=2, params={"sleep_ms": 40}))
    d.wait_sweep(a)
    d.wait_sweep(b)
    ta, tb = d.trials(a), d.trials(b)
    # With 2 workers shared round-robin, b starts before a is done.
    assert min(t["started_at"] for t in tb) < max(t["ended_at"] for t in ta)
    # and never more than 2 trials overlap at any moment
    iv = [(t["started_at"], t["ended_at"]) for t in ta + tb]
    for t0, _ in iv:
        live = sum(1 for s, e in iv if s <= t0 + 1e-4 and e > t0 + 1e-4)
        assert live <= 2, live


def _retries_rerun_a_failed_trial(d):
    spec = fake_spec(trials=2, params={"mode": "fail_once"},
                     limits={"retries": 1})
    sid = d.submit(spec)
    s = d.wait_sweep(sid)
    assert s["status"] == "completed", s
    for t in d.trials(sid):
        assert t["status"] == "completed" and t["attempt"] == 2, t


def _max_failures_fails_the_sweep(d):
    spec = fake_spec(trials=10, parallel=1, params={"mode": "exit3"},
                     limits={"max_failures": 2})
    sid = d.submit(spec)
    s = d.wait_sweep(sid)
    assert s["status"] == "failed", s
    st = [t["status"] for t in d.trials(sid)]
    assert st.count("failed") == 2, st
    assert "max_failures" in (d.ok({"op": "sweep", "sweep": sid})["sweep"].get("error") or ""), s


def _cancel_stops_running_trials(d):
    mark = "SWEEPTEST_%d" % os.getpid()
    spec = fake_spec(trials=6, parallel=2, params={"sleep_ms": 5000})
    spec["trainer"]["env"] = {"SWEEPTEST_MARK": mark}
    sid = d.submit(spec)
    wait_for(lambda: d.ok({"op": "sweep", "sweep": sid})["sweep"]["counts"]["running"] == 2)
    r = d.ok({"op": "cancel", "sweep": sid})
    assert r["sweep"]["status"] == "cancelled", r
    s = d.wait_sweep(sid, timeout=15)
    assert s["status"] == "cancelled"
    st = [t["status"] for t in d.trials(sid)]
    assert st.count("cancelled") == len(st) and len(st) == 2, st
    from sweeplib import pids_with_env
    assert wait_for(lambda: not pids_with_env("SWEEPTEST_MARK=" + mark)), "trainers left"
    r = d.request({"op": "cancel", "sweep": sid})
    assert not r["ok"] and r["error"]["code"] == "conflict", r


def _pause_starts_no_new_trials(d):
    sid = d.submit(fake_spec(trials=4, parallel=1, params={"sleep_ms": 100}))
    d.ok({"op": "pause", "sweep": sid})
    time.sleep(0.8)
    s = d.ok({"op": "sweep", "sweep": sid})["sweep"]
    done = s["counts"]["completed"] + s["counts"]["running"]
    assert s["status"] == "paused" and done <= 1, s
    time.sleep(0.5)
    s2 = d.ok({"op": "sweep", "sweep": sid})["sweep"]
    assert s2["counts"]["completed"] + s2["counts"]["running"] == done, s2
    d.ok({"op": "resume", "sweep": sid})
    assert d.wait_sweep(sid)["status"] == "completed"


def _stdout_prefixed_reports_work(d):
    sid = d.submit(fake_spec(trials=1, params={"mode": "stdout"}))
    s = d.wait_sweep(sid)
    t = d.trials(sid)[0]
    assert s["status"] == "completed" and t["status"] == "completed", t


def _stdout_report_after_an_overlong_line_is_kept(d):
    # The trainer's own 100,000-byte line (over the 64 KiB report cap, not a
    # report) arrives in the same write as epoch 2's report: the long line is
    # skipped, no report is.
    sid = d.submit(fake_spec(trials=1, params={"mode": "noisy_stdout",
                                               "epochs": 4}))
    assert d.wait_sweep(sid)["status"] == "completed"
    t = d.ok({"op": "trial", "sweep": sid, "number": 1})["trial"]
    assert [ep["epoch"] for ep in t["curve"]] == [1, 2, 3, 4], t["curve"]
    assert t["status"] == "completed", t


def _watch_streams_events_until_the_end(d):
    sid = d.submit(fake_spec(trials=2, parallel=1, params={"sleep_ms": 50}))
    from sweeplib import read_line
    s = d.connect()
    s.sendall(b'{"id":1,"op":"watch","sweep":%d}\n' % sid)
    first = json.loads(read_line(s))
    assert first["ok"] and first["sweep"]["id"] == sid
    events = []
    buf = b""
    while True:
        chunk = s.recv(65536)
        assert chunk, "connection closed before sweep_ended"
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            events.append(json.loads(line))
        if events and events[-1]["event"] == "sweep_ended":
            break
    s.close()
    kinds = [e["event"] for e in events]
    assert kinds.count("trial_ended") == 2 and kinds[-1] == "sweep_ended", kinds
    assert "epoch" in kinds and events[-1]["status"] == "completed"


def _watch_sees_pause_and_resume(d):
    # sweep_paused and sweep_resumed reach the sweep's watchers, so a live
    # view can say "paused" instead of "running".
    sid = d.submit(fake_spec(trials=2, parallel=1, params={"sleep_ms": 100}))
    from sweeplib import read_line
    s = d.connect()
    s.sendall(b'{"id":1,"op":"watch","sweep":%d}\n' % sid)
    assert json.loads(read_line(s))["ok"]
    d.ok({"op": "pause", "sweep": sid})
    d.ok({"op": "resume", "sweep": sid})
    events, buf = [], b""
    while not events or events[-1]["event"] != "sweep_ended":
        chunk = s.recv(65536)
        assert chunk, "connection closed before sweep_ended"
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            events.append(json.loads(line))
    s.close()
    mine = [e for e in events if e["event"] in ("sweep_paused", "sweep_resumed")]
    assert [e["event"] for e in mine] == ["sweep_paused", "sweep_resumed"], events
    assert [e["status"] for e in mine] == ["paused", "running"], mine
    assert all(e["sweep"] == sid for e in mine), mine


def _search_trials_is_a_total(d):
    sid = d.submit(fake_spec(trials=3))
    d.wait_sweep(sid)
    assert len(d.trials(sid)) == 3


def _second_daemon_on_the_same_dir_is_refused(d):
    p = subprocess.run([SWEEPD, "--state-dir", d.dir], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode != 0 and "already running" in p.stderr, p.stderr
    assert d.ok({"op": "ping"})


def _stats_reports_the_daemon(d):
    r = d.ok({"op": "stats"})
    for k in ("uptime_s", "rss_kb", "open_fds", "running", "queued",
              "trials_run", "clients", "commits"):
        assert k in r, (k, r)
    assert r["rss_kb"] > 0 and r["open_fds"] > 0
    # a submit is a commit at least (the sweep's row)
    d.submit(fake_spec(trials=1, parallel=1))
    assert d.ok({"op": "stats"})["commits"] > r["commits"]


def _shutdown_op_stops_the_daemon(d):
    r = d.ok({"op": "shutdown"})
    assert d.proc.wait(10) == 0


def _running_trainer_with(d, marker):
    """Starts a one-trial sweep of a hanging trainer on d; True when a
    trainer process with marker in its environment shows up."""
    sid = d.ok({"op": "submit", "spec": fake_spec(trials=1, parallel=1,
                                                  params={"mode": "hang"})})["sweep_id"]
    try:
        return bool(wait_for(lambda: pids_with_env(marker), timeout=30))
    finally:
        d.ok({"op": "cancel", "sweep": sid})


def _trainers_get_the_data_cache_dir(d):
    # the built-in trainer keeps its prepared data there (worker/dcache.h)
    assert _running_trainer_with(d, "SWEEP_DATA_CACHE=%s/cache\0" % d.dir)


def test_data_cache_dir_of_the_caller_is_kept():
    saved = os.environ.get("SWEEP_DATA_CACHE")
    os.environ["SWEEP_DATA_CACHE"] = ""
    d = Daemon()
    try:
        d.start()
        # set but empty (no cache) is the caller's choice, not overridden
        assert _running_trainer_with(d, "\0SWEEP_DATA_CACHE=\0")
    finally:
        if saved is None:
            os.environ.pop("SWEEP_DATA_CACHE", None)
        else:
            os.environ["SWEEP_DATA_CACHE"] = saved
        d.cleanup()


TESTS = [with_daemon(f) for f in [
    _watch_sees_pause_and_resume,
    _ping, _socket_is_private, _sweep_runs_to_completion, _random_is_reproducible,
    _grid_enumerates_every_combination, _grid_refuses_a_continuous_range,
    _spec_errors_name_the_field, _parallel_bounds_concurrency,
    _retries_rerun_a_failed_trial, _max_failures_fails_the_sweep,
    _cancel_stops_running_trials, _pause_starts_no_new_trials,
    _stdout_prefixed_reports_work, _stdout_report_after_an_overlong_line_is_kept,
    _watch_streams_events_until_the_end,
    _search_trials_is_a_total, _second_daemon_on_the_same_dir_is_refused,
    _stats_reports_the_daemon, _shutdown_op_stops_the_daemon,
    _trainers_get_the_data_cache_dir]] + [test_data_cache_dir_of_the_caller_is_kept]
TESTS.insert(8, with_daemon(_sweeps_share_workers_round_robin, workers=2))

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
