"""Input the daemon cannot keep as given is refused with a message saying
what is wrong, never silently cut, mangled or echoed: requests with
trailing data, "\\u0000" or invalid UTF-8, trial numbers past int, params
too large for the environment, report lines that break the protocol."""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, read_line, run_tests, with_daemon


def replies(d, data, n):
    """Sends data on one connection, half-closes, reads every reply line."""
    with d.connect() as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    lines = [json.loads(x) for x in buf.split(b"\n") if x]
    assert len(lines) == n, lines
    return lines


def refused(r, *words):
    assert r["ok"] is False and r["error"]["code"] == "bad_request", r
    for w in words:
        assert w in r["error"]["message"], (w, r)


def _trial_number_past_int_is_not_trial_1(d):
    sid = d.submit(fake_spec(trials=1, parallel=1))
    d.wait_sweep(sid)
    r = d.request({"op": "trial", "sweep": sid, "number": 2 ** 32 + 1})
    assert r["ok"] is False and r["error"]["code"] == "not_found", r
    assert str(2 ** 32 + 1) in r["error"]["message"], r
    assert d.ok({"op": "trial", "sweep": sid, "number": 1})["trial"]["number"] == 1


def _trailing_data_after_the_request_is_refused(d):
    r, = replies(d, b'{"id":1,"op":"ping"} {"id":2,"op":"ping"}\n', 1)
    refused(r, "after the request")
    r, = replies(d, b'{"id":1,"op":"ping"}x\n', 1)
    refused(r, "after the request")
    r, = replies(d, b'{"id":1,"op":"ping"} \t \r\n', 1)
    assert r["ok"] and r["id"] == 1, r
    # the connection goes on serving after a refused line
    a, b = replies(d, b'{"op":"ping"}{}\n{"id":3,"op":"ping"}\n', 2)
    refused(a)
    assert b["ok"] and b["id"] == 3, b


def _nul_escapes_are_refused(d):
    for where in ("name", "param", "value"):
        spec = fake_spec(name="a\u0000b" if where == "name" else "t")
        if where == "param":
            spec["space"]["p\u0000q"] = 1
        if where == "value":
            spec["space"]["mode"] = "ok\u0000segv"
        r = d.request({"op": "submit", "spec": spec})
        refused(r, "\\u0000")
    assert d.ok({"op": "sweeps"})["sweeps"] == []
    # an escaped backslash followed by u0000 is text, not a NUL
    spec = fake_spec(name="a\\u0000b")
    sid = d.submit(spec)
    assert d.ok({"op": "sweep", "sweep": sid})["sweep"]["name"] == "a\\u0000b"


def _sweepctl_refuses_nul_escapes_in_files(d):
    """sweepctl parses the file itself: it must not send the cut name."""
    import tempfile
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(fake_spec(name="a\u0000b"), f)
    try:
        p = d.ctl("submit", path)
    finally:
        os.unlink(path)
    assert p.returncode == 1 and "\\u0000" in p.stderr, (p.returncode, p.stderr)
    assert d.ok({"op": "sweeps"})["sweeps"] == []


def _invalid_utf8_is_refused(d):
    for bad in (b"\xff", b"caf\xc3", b"\xc0\xaf", b"\xed\xa0\x80"):
        line = (b'{"op":"submit","spec":' +
                json.dumps(fake_spec(name="NAME")).encode().replace(b"NAME", bad) +
                b'}\n')
        r, = replies(d, line, 1)
        refused(r, "UTF-8")
        assert "spec" not in r
    line = (b'{"op":"submit","spec":' +
            json.dumps(fake_spec(name="NAME")).encode().replace(
                b"NAME", "café".encode()) + b'}\n')
    r, = replies(d, line, 1)
    assert r["ok"], r
    assert d.ok({"op": "sweep", "sweep": r["sweep_id"]})["sweep"]["name"] == "café"


def _params_too_large_for_the_environment_are_refused(d):
    big = "x" * 200000
    cases = [
        {"blob": big},
        {"blob": {"choice": ["a", big]}},
        {"a": "x" * 40000, "b": "x" * 40000},
    ]
    for params in cases:
        r = d.request({"op": "submit", "spec": fake_spec(params=params)})
        refused(r, "SWEEP_PARAMS", "65536")
    spec = fake_spec()
    spec["trainer"]["env"] = {"BIG": big}
    refused(d.request({"op": "submit", "spec": spec}), "trainer.env.BIG")
    spec = fake_spec()
    spec["trainer"]["command"].append(big)
    refused(d.request({"op": "submit", "spec": spec}), "trainer.command[1]")
    assert d.ok({"op": "sweeps"})["sweeps"] == []
    # just under the limit runs
    sid = d.submit(fake_spec(trials=1, params={"blob": "x" * 60000}))
    s = d.wait_sweep(sid)
    assert s["status"] == "completed", d.trials(sid)


def shell_spec(script):
    spec = fake_spec(trials=1, parallel=1)
    spec["trainer"]["command"] = ["/bin/sh", "-c", script]
    return spec


def failed_trial(d, script):
    sid = d.submit(shell_spec(script))
    d.wait_sweep(sid)
    t, = d.trials(sid)
    return t


def _string_objective_says_string(d):
    t = failed_trial(d, "printf '%s\\n' '{\"epoch\":1,\"val_acc\":\"0.9\"}' "
                     "'{\"final\":true}' >&3")
    assert t["status"] == "failed", t
    msg = t["error"]["message"]
    assert "string" in msg and "val_acc" in msg and "0.9" in msg, msg
    assert "never reported" not in msg, msg


def _epoch_after_final_is_refused(d):
    t = failed_trial(d, "printf '%s\\n' '{\"epoch\":1,\"val_acc\":0.5}' "
                     "'{\"final\":true}' '{\"epoch\":2,\"val_acc\":0.9}' >&3")
    assert t["status"] == "failed", t
    msg = t["error"]["message"]
    assert "after the final line" in msg and '"epoch":2' in msg, msg
    assert t["objective"] != 0.9, t
    t = failed_trial(d, "printf '%s\\n' '{\"epoch\":1,\"val_acc\":0.5}' "
                     "'{\"final\":true}' '{\"final\":true}' >&3")
    assert t["status"] == "failed", t
    assert "after the final line" in t["error"]["message"], t


TESTS = [with_daemon(f, serving_after=True) for f in [
    _trial_number_past_int_is_not_trial_1,
    _trailing_data_after_the_request_is_refused,
    _nul_escapes_are_refused, _sweepctl_refuses_nul_escapes_in_files,
    _invalid_utf8_is_refused,
    _params_too_large_for_the_environment_are_refused,
    _string_objective_says_string, _epoch_after_final_is_refused,
]]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
