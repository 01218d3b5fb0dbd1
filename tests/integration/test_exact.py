"""Every integer the daemon stores or sends round-trips exactly: seeds, int
params, constants, ids. What a double cannot hold (2^53 and up) is refused
with a message naming the field, never rounded."""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import (Daemon, FAKE, Skip, fake_spec, read_line, run_tests,
                      wait_for, with_daemon)

SEED = 8000000000000001        # 16 digits: cJSON's %.15g prints 8e+15
BIG = 2 ** 52 + 1              # an int param near 2^52
LIMIT = 2 ** 53


def recording_spec(logdir, trials, parallel=1, seed=SEED, **params):
    """A fake-trainer sweep whose trainers write the SWEEP_SEED and
    SWEEP_PARAMS they were given to logdir/NUMBER.ATTEMPT (through a
    temp file and a rename: a trainer the daemon's shutdown stops as it
    starts leaves no half-written record)."""
    if not FAKE:
        raise Skip("fake trainer not built")
    spec = fake_spec(trials=trials, parallel=parallel, params=params)
    spec["trainer"]["command"] = [
        "/bin/sh", "-c",
        'f="$SWEEP_TRIAL_NUMBER.$SWEEP_ATTEMPT" && '
        'printf "%s\\n%s\\n" "$SWEEP_SEED" "$SWEEP_PARAMS" > "$0/.$f" && '
        'mv "$0/.$f" "$0/$f" && exec "$1"',
        logdir, FAKE]
    if seed is None:
        del spec["search"]["seed"]
    else:
        spec["search"]["seed"] = seed
    return spec


def recorded(logdir):
    """{(number, attempt): (seed, params)} as the trainers got them."""
    out = {}
    for name in os.listdir(logdir):
        if name.startswith("."):
            continue   # its trainer was stopped before the rename
        number, attempt = (int(x) for x in name.split("."))
        with open(os.path.join(logdir, name)) as f:
            seed, params = f.read().split("\n", 1)
        out[(number, attempt)] = (int(seed), json.loads(params))
    return out


def check_trials_match_env(d, sid, logdir):
    got = recorded(logdir)
    ts = d.trials(sid)
    assert ts and len(got) >= len(ts), (ts, got)
    for t in ts:
        seed, params = got[(t["number"], t["attempt"])]
        assert t["seed"] == seed and type(t["seed"]) is int, (t, seed)
        assert t["params"] == params, (t["params"], params)
        one = d.ok({"op": "trial", "sweep": sid, "number": t["number"]})["trial"]
        assert one["seed"] == seed and one["params"] == params, (one, seed)
    return ts


def _explicit_seed_and_big_ints_exact(d):
    logdir = tempfile.mkdtemp(prefix="sweepd-exact-")
    try:
        spec = recording_spec(logdir, trials=3, big={"int": [BIG, BIG + 50]},
                              const=SEED, pick={"choice": [SEED, BIG]})
        sid = d.submit(spec)
        s = d.wait_sweep(sid, 60)
        assert s["status"] == "completed", s
        assert s["spec"]["search"]["seed"] == SEED, s["spec"]["search"]
        assert s["spec"]["space"]["const"] == SEED, s["spec"]["space"]
        assert s["spec"]["space"]["big"] == {"int": [BIG, BIG + 50]}, s["spec"]
        ts = check_trials_match_env(d, sid, logdir)
        for t in ts:
            p = t["params"]
            assert p["const"] == SEED and p["pick"] in (SEED, BIG), p
            assert type(p["big"]) is int and BIG <= p["big"] <= BIG + 50, p
    finally:
        shutil.rmtree(logdir, ignore_errors=True)


def _daemon_seed_is_the_one_trainers_get(d):
    logdir = tempfile.mkdtemp(prefix="sweepd-exact-")
    try:
        sid = d.submit(recording_spec(logdir, trials=30, parallel=2, seed=None,
                                      epochs=1))
        s = d.wait_sweep(sid, 120)
        assert s["status"] == "completed", s
        seed = s["spec"]["search"]["seed"]
        assert type(seed) is int and 0 <= seed < LIMIT, seed
        ts = check_trials_match_env(d, sid, logdir)
        assert all(type(t["seed"]) is int and t["seed"] < LIMIT for t in ts), ts
    finally:
        shutil.rmtree(logdir, ignore_errors=True)


def run_listing(d, sid):
    return [(t["number"], t["seed"], t["params"]) for t in d.trials(sid)]


def _restart_reruns_exactly():
    """A sweep interrupted by a restart gets the very params and seeds an
    uninterrupted daemon gives it."""
    top = logdir = tempfile.mkdtemp(prefix="sweepd-exact-")
    try:
        spec = recording_spec(logdir, trials=5, x={"uniform": [0, 1]},
                              n={"int": [BIG, BIG + 10 ** 6]})
        d = Daemon(workers=1).start()
        try:
            sid = d.submit(spec)
            assert d.wait_sweep(sid, 60)["status"] == "completed"
            want = run_listing(d, sid)
        finally:
            d.cleanup()
        spec["space"]["sleep_ms"] = 100
        logdir = os.path.join(logdir, "b")
        os.mkdir(logdir)
        spec["trainer"]["command"][3] = logdir
        d = Daemon(workers=1).start()
        try:
            sid = d.submit(spec)
            wait_for(lambda: any(t["status"] == "completed"
                                 for t in d.trials(sid)), 30)
            d.stop()
            d2 = Daemon(workers=1, state_dir=d.dir).start()
            try:
                s = d2.wait_sweep(sid, 60)
                assert s["status"] == "completed", s
                assert s["spec"]["search"]["seed"] == SEED, s["spec"]["search"]
                got = run_listing(d2, sid)
                for w, g in zip(want, got):
                    w[2]["sleep_ms"] = 100
                    assert w == g, (w, g)
                assert len(got) == len(want)
                check_trials_match_env(d2, sid, logdir)
            finally:
                d2.cleanup()
        finally:
            d.cleanup()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def raw(d, data):
    with d.connect() as s:
        s.sendall(data)
        return json.loads(read_line(s))


def _request_ids_exact_or_refused(d):
    for rid in (LIMIT - 1, -(LIMIT - 1), SEED, "x" * 20):
        r = d.request({"id": rid, "op": "ping"})
        assert r["ok"] and r["id"] == rid, (rid, r)
    for rid in (LIMIT, LIMIT + 1, 10 ** 20, 1.5):
        r = raw(d, b'{"id":%s,"op":"ping"}\n' % json.dumps(rid).encode())
        assert r["ok"] is False and r["error"]["code"] == "bad_request", (rid, r)
        assert '"id"' in r["error"]["message"], r
    for field in ("sweep", "number", "limit", "offset"):
        req = {"op": "trials" if field in ("limit", "offset") else "trial",
               "sweep": 1, "number": 1}
        req[field] = LIMIT + 1
        r = d.request(req)
        assert r["error"]["code"] == "bad_request", (field, r)
        assert field in r["error"]["message"], (field, r)


def _unrepresentable_integers_refused(d):
    cases = [
        ("search", {"seed": LIMIT}, "search.seed"),
        ("search", {"seed": LIMIT + 1}, "search.seed"),
        ("space", {"n": {"int": [0, LIMIT]}}, "space.n"),
        ("space", {"n": {"int": [-LIMIT, 0]}}, "space.n"),
        ("space", {"n": {"logint": [1, LIMIT + 2]}}, "space.n"),
    ]
    for section, change, where in cases:
        spec = fake_spec()
        spec[section].update(change)
        r = d.request({"op": "submit", "spec": spec})
        assert r["ok"] is False and r["error"]["code"] == "bad_request", (change, r)
        assert where in r["error"]["message"], (change, r)
    spec = fake_spec()
    spec["space"]["n"] = {"int": [LIMIT - 3, LIMIT - 1]}
    spec["search"]["seed"] = LIMIT - 1
    assert d.submit(spec) > 0


def _sweepctl_keeps_every_digit(d):
    """sweepctl reads the spec file and sends it again: the seed and an
    int constant must reach the daemon as written, and come back so in
    `--json` output and a JSON export."""
    spec = fake_spec(trials=2, params={"const": SEED, "n": {"int": [BIG, BIG + 9]}})
    spec["search"]["seed"] = SEED
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(spec, f)
    try:
        sid = int(d.ctl("submit", path, check=0).stdout)
        d.wait_sweep(sid)
        s = d.ok({"op": "sweep", "sweep": sid})["sweep"]
        assert s["spec"]["search"]["seed"] == SEED, s["spec"]["search"]
        assert s["spec"]["space"]["const"] == SEED, s["spec"]["space"]
        out = json.loads(d.ctl("--json", "trials", str(sid), check=0).stdout)
        raw = json.dumps(out)
        for t in d.trials(sid):
            assert str(t["seed"]) in raw and str(t["params"]["n"]) in raw, raw
        rows = json.loads(d.ctl("export", str(sid), "--format", "json",
                                check=0).stdout)
    finally:
        os.unlink(path)
    want = {t["number"]: t for t in d.trials(sid)}
    assert len(rows) == 2, rows
    for r in rows:
        t = want[r["number"]]
        assert r["seed"] == t["seed"] and r["params.const"] == SEED, (r, t)
        assert r["params.n"] == t["params"]["n"], (r, t)


TESTS = [with_daemon(f, serving_after=True) for f in [
    _sweepctl_keeps_every_digit,
    _explicit_seed_and_big_ints_exact, _daemon_seed_is_the_one_trainers_get,
    _request_ids_exact_or_refused, _unrepresentable_integers_refused,
]] + [_restart_reruns_exactly]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
