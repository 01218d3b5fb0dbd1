"""sweepd.Client against a real daemon: every query and change, watch and
wait, export, the state dir lookup sweepctl uses, and the errors."""
import json
import os
import socket
import subprocess

import pytest

import sweepd
from conftest import fake_spec, need_daemon
import sweeplib


# ---- the state dir, as sweepctl finds it -----------------------------------

@pytest.mark.parametrize("env,want", [
    ({"SWEEP_STATE_DIR": "/s", "XDG_STATE_HOME": "/x", "HOME": "/h"}, "/s"),
    ({"SWEEP_STATE_DIR": "", "XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/sweepd"),
    ({"XDG_STATE_HOME": "/", "HOME": "/h"}, "/sweepd"),
    ({"XDG_STATE_HOME": "rel/x", "HOME": "/h"}, "/h/.local/state/sweepd"),
    ({"HOME": "/h/"}, "/h/.local/state/sweepd"),
])
def test_default_state_dir_follows_statedir_c(env, want):
    assert sweepd.default_state_dir(env) == want


def test_no_state_dir_at_all_is_an_error():
    with pytest.raises(sweepd.Error) as e:
        sweepd.default_state_dir({})
    assert e.value.code == "no_state_dir"


def test_socket_path():
    assert sweepd.socket_path("/a/b") == "/a/b/sweepd.sock"
    assert sweepd.socket_path("/a/b/") == "/a/b/sweepd.sock"
    with pytest.raises(sweepd.Error) as e:
        sweepd.socket_path("/" + "d" * 100)
    assert e.value.code == "name_too_long"


def test_client_and_sweepctl_find_the_same_daemon(tmp_path, monkeypatch):
    need_daemon()
    if not sweeplib.SWEEPCTL:
        pytest.skip("sweepctl not built")
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    d = sweeplib.Daemon(state_dir=str(xdg / "sweepd")).start()
    try:
        monkeypatch.delenv("SWEEP_STATE_DIR", raising=False)
        monkeypatch.setenv("XDG_STATE_HOME", str(xdg))
        with sweepd.Client() as c:
            assert c.ping()["pid"] == d.proc.pid
        p = subprocess.run([sweeplib.SWEEPCTL, "ping"], capture_output=True,
                           text=True, env=dict(os.environ), timeout=30)
        assert p.returncode == 0, p.stderr
    finally:
        d.cleanup()


def test_no_daemon_is_unreachable(tmp_path):
    c = sweepd.Client(state_dir=str(tmp_path))
    with pytest.raises(sweepd.Error) as e:
        c.ping()
    assert e.value.code == "unreachable"
    assert str(tmp_path) in e.value.message


# ---- queries and changes ---------------------------------------------------

def test_submit_sweeps_status_trials_trial_best(client):
    sid = client.submit(fake_spec(trials=3, parallel=2))
    assert isinstance(sid, int)
    assert [s["id"] for s in client.sweeps()] == [sid]
    s = client.wait(sid, timeout=60)
    assert s["status"] == "completed"
    assert client.status(sid)["status"] == "completed"
    ts = client.trials(sid)
    assert [t["number"] for t in ts] == [1, 2, 3]
    assert len(client.trials(sid, status="completed")) == 3
    assert client.trials(sid, status=["failed", "pruned"]) == []
    t = client.trial(sid, 2)
    assert t["number"] == 2 and len(t["curve"]) == 3
    best = client.best(sid)
    assert best["objective"] == max(x["objective"] for x in ts)


def test_submit_a_file_resolves_cwd_like_sweepctl(client, tmp_path):
    spec = fake_spec(trials=1)
    spec["trainer"]["cwd"] = "."
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    sid = client.submit(str(path))
    stored = client.status(sid)["spec"]
    assert stored["trainer"]["cwd"] == os.path.join(str(tmp_path), ".")
    assert client.wait(sid, timeout=60)["status"] == "completed"


def test_submit_an_unreadable_or_bad_file(client, tmp_path):
    with pytest.raises(sweepd.Error, match="cannot read"):
        client.submit(str(tmp_path / "nope.json"))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(sweepd.Error, match="not valid JSON"):
        client.submit(str(tmp_path / "bad.json"))


def test_daemon_errors_carry_code_and_message(client):
    with pytest.raises(sweepd.Error) as e:
        client.status(999)
    assert e.value.code == "not_found" and e.value.message == "no sweep 999"
    spec = fake_spec()
    spec["serach"] = {}
    with pytest.raises(sweepd.Error) as e:
        client.submit(spec)
    assert e.value.code == "bad_request" and "serach" in e.value.message
    sid = client.submit(fake_spec(trials=1))
    with pytest.raises(sweepd.Error) as e:
        client.trial(sid, 99)
    assert e.value.code == "not_found"


def test_pause_resume_cancel(client):
    sid = client.submit(fake_spec(trials=20, parallel=1,
                                  params={"sleep_ms": 200, "epochs": 50}))
    assert client.pause(sid)["status"] == "paused"
    with pytest.raises(sweepd.Error) as e:
        client.pause(sid)
    assert e.value.code == "conflict"
    assert client.resume(sid)["status"] == "running"
    assert client.cancel(sid)["status"] == "cancelled"
    with pytest.raises(sweepd.Error) as e:
        client.cancel(sid)
    assert e.value.code == "conflict"


def test_wait_times_out_on_a_paused_sweep(client):
    sid = client.submit(fake_spec(trials=2, parallel=1,
                                  params={"sleep_ms": 200, "epochs": 50}))
    client.pause(sid)
    with pytest.raises(TimeoutError):
        client.wait(sid, timeout=0.3)
    client.cancel(sid)
    assert client.wait(sid, timeout=60)["status"] == "cancelled"


def test_enqueue(client):
    # Room for the two whatever ran before the pause (about one trial).
    sid = client.submit(fake_spec(trials=6, parallel=1,
                                  params={"x": {"uniform": [0, 1]},
                                          "sleep_ms": 50}))
    client.pause(sid)
    assert client.enqueue(sid, [{"x": 0.25}, {"x": 0.75}]) == 2
    client.resume(sid)
    client.wait(sid, timeout=60)
    xs = sorted(t["params"]["x"] for t in client.trials(sid))
    assert 0.25 in xs and 0.75 in xs
    with pytest.raises(sweepd.Error) as e:
        client.enqueue(sid, {"x": 2})
    assert e.value.code == "conflict"   # the sweep has ended


def test_watch_yields_every_event_then_ends(client):
    # Each trial takes >= 1.2 s: the watch starts before the second one.
    sid = client.submit(fake_spec(trials=2, parallel=1,
                                  params={"sleep_ms": 400}))
    events = list(client.watch(sid))
    kinds = [ev["event"] for ev in events]
    assert kinds[-1] == "sweep_ended" and kinds.count("sweep_ended") == 1
    assert events[-1]["status"] == "completed"
    started = [ev["number"] for ev in events if ev["event"] == "trial_started"]
    ended = [ev["number"] for ev in events if ev["event"] == "trial_ended"]
    assert 2 in started and ended[-1] == 2
    epochs = [(ev["number"], ev["epoch"]) for ev in events
              if ev["event"] == "epoch" and ev["number"] == 2]
    assert epochs == [(2, 1), (2, 2), (2, 3)]
    assert all(ev["sweep"] == sid for ev in events)


def test_watch_of_an_unknown_sweep_raises(client):
    with pytest.raises(sweepd.Error) as e:
        client.watch(424242)
    assert e.value.code == "not_found"


def test_export_rows_like_sweepctl(client, daemon):
    sid = client.submit(fake_spec(trials=2, parallel=2,
                                  params={"x": {"uniform": [0, 1]}}))
    client.wait(sid, timeout=60)
    rows = client.export(sid)
    assert [r["number"] for r in rows] == [1, 2]
    for r in rows:
        assert r["status"] == "completed"
        assert 0 <= r["params.x"] <= 1 and r["params.epochs"] == 3
        assert r["seconds"] >= 0
    p = daemon.ctl("export", str(sid), "--format", "json", check=0)
    want = json.loads(p.stdout)
    assert [sorted(r) for r in rows] == [sorted(r) for r in want]
    assert [r["objective"] for r in rows] == [r["objective"] for r in want]
    ep = client.export(sid, epochs=True)
    assert len(ep) == 6 and {"number", "epoch", "val_acc"} <= set(ep[0])
    # The daemon pages the epochs: pages of 4 give the same rows, in order.
    assert client.epochs(sid, page=4) == client.epochs(sid) and len(ep) == 6
    assert [(r["number"], r["epoch"]) for r in client.epochs(sid, page=1)] \
        == [(n, e) for n in (1, 2) for e in (1, 2, 3)]


def test_export_dataframe(client):
    sid = client.submit(fake_spec(trials=1))
    client.wait(sid, timeout=60)
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            client.export_dataframe(sid)
        pytest.skip("pandas not installed: only the ImportError is checked")
    df = client.export_dataframe(sid)
    assert len(df) == 1 and "params.x" in df.columns


def test_a_restarted_daemon_is_reconnected(daemon, client):
    assert client.ping()["pid"] == daemon.proc.pid
    daemon.stop()
    daemon.start()
    assert client.ping()["pid"] == daemon.proc.pid


def test_a_reply_never_comes_from_another_request(client, daemon):
    # Two clients interleaved on their own connections.
    other = sweepd.Client(state_dir=daemon.dir)
    try:
        a = client.submit(fake_spec(trials=1))
        b = other.submit(fake_spec(trials=1))
        assert a != b
        assert client.status(a)["id"] == a and other.status(b)["id"] == b
    finally:
        other.close()
