"""Bad client input never takes the daemon down; each gets a clear error."""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, read_line, run_tests, with_daemon


def raw(d, data):
    with d.connect() as s:
        s.sendall(data)
        return json.loads(read_line(s))


def _invalid_json(d):
    r = raw(d, b"{not json\n")
    assert r["ok"] is False and r["error"]["code"] == "bad_request", r


def _not_an_object(d):
    r = raw(d, b"[1,2,3]\n")
    assert r["error"]["code"] == "bad_request", r


def _missing_op(d):
    r = raw(d, b'{"id":4}\n')
    assert r["id"] == 4 and r["error"]["code"] == "bad_request", r
    assert '"op"' in r["error"]["message"], r


def _unknown_op(d):
    r = raw(d, b'{"id":"x","op":"frobnicate"}\n')
    assert r["id"] == "x" and r["error"]["code"] == "unknown_op", r
    assert "frobnicate" in r["error"]["message"], r


def _missing_and_bad_sweep_ids(d):
    r = d.request({"op": "best"})
    assert r["error"]["code"] == "bad_request" and "sweep" in r["error"]["message"], r
    r = d.request({"op": "best", "sweep": "3"})
    assert r["error"]["code"] == "bad_request", r
    r = d.request({"op": "best", "sweep": 1.5})
    assert r["error"]["code"] == "bad_request", r
    r = d.request({"op": "best", "sweep": 999})
    assert r["error"]["code"] == "not_found" and "999" in r["error"]["message"], r
    r = d.request({"op": "trial", "sweep": 999, "number": 1})
    assert r["error"]["code"] == "not_found", r


def _submit_without_spec(d):
    r = d.request({"op": "submit"})
    assert r["error"]["code"] == "bad_request" and "spec" in r["error"]["message"], r
    r = d.request({"op": "submit", "spec": {"space": {}}})
    assert r["error"]["code"] == "bad_request", r


def _spec_field_errors(d):
    cases = [
        ({"search": {"algorithm": "random", "trials": 0}}, "search.trials"),
        ({"objective": {"metric": "val_acc", "mode": "up"}}, "objective.mode"),
        ({"limits": {"retries": -1}}, "limits.retries"),
        ({"bogus": 1}, "bogus"),
    ]
    for override, field in cases:
        spec = fake_spec()
        spec.update(override)
        r = d.request({"op": "submit", "spec": spec})
        assert not r["ok"] and field in r["error"]["message"], (field, r)


def _two_mib_line_is_refused_and_others_served(d):
    with d.connect() as s:
        try:
            s.sendall(b"x" * (2 << 20))
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            r = json.loads(read_line(s))
            assert r["error"]["code"] == "too_large", r
        except (ConnectionError, OSError):
            pass   # closed before the reply could be read: also acceptable
    assert d.ok({"op": "ping"})


def _silent_client_does_not_block_others(d):
    quiet = d.connect()
    try:
        for _ in range(5):
            assert d.ok({"op": "ping"})
    finally:
        quiet.close()


def _client_that_leaves_mid_reply(d):
    sid = d.submit(fake_spec(trials=3))
    d.wait_sweep(sid)
    for _ in range(20):
        s = d.connect()
        s.sendall(b'{"op":"trials","sweep":%d}\n{"op":"sweeps"}\n' % sid)
        s.close()
    assert d.ok({"op": "ping"})


def _many_requests_on_one_connection(d):
    with d.connect() as s:
        s.sendall(b"".join(b'{"id":%d,"op":"ping"}\n' % i for i in range(50)))
        buf = b""
        while buf.count(b"\n") < 50:
            chunk = s.recv(65536)
            assert chunk
            buf += chunk
    ids = [json.loads(l)["id"] for l in buf.split(b"\n") if l]
    assert ids == list(range(50)), ids


def _request_split_across_writes(d):
    with d.connect() as s:
        for ch in b'{"id":9,"op":"ping"}\n':
            s.sendall(bytes([ch]))
        r = json.loads(read_line(s))
        assert r["id"] == 9 and r["ok"], r


def _watcher_that_does_not_read_is_dropped(d):
    s = d.connect()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sid = d.submit(fake_spec(trials=4, parallel=2, params={"epochs": 4000}))
    s.sendall(b'{"op":"watch","sweep":%d}\n' % sid)
    d.wait_sweep(sid, timeout=120)
    assert "is not reading: disconnected" in d.log_text()
    rss = d.ok({"op": "stats"})["rss_kb"]
    assert rss < 64 * 1024, rss
    s.close()


def builtin_spec(trainer=None, space=None):
    sp = {"epochs": 1}
    sp.update(space or {})
    tr = {"builtin": "mlp"}
    tr.update(trainer or {})
    return {"name": "b", "trainer": tr, "space": sp,
            "objective": {"metric": "val_acc", "mode": "max"},
            "search": {"algorithm": "random", "trials": 1}}


def _builtin_param_typos_name_the_path_and_the_valid_names(d):
    # A typo names where it is and lists what it could have been, as the
    # spec's own field typos do; a bad choice value names its index (1-based).
    cases = [
        (builtin_spec(trainer={"datset": "fashion"}),
         "trainer.datset: unknown param", True),
        (builtin_spec(space={"batch_sise": {"choice": [32, 64]}}),
         "space.batch_sise: unknown param", True),
        (builtin_spec(space={"batch_size": {"choice": [32, "x", 7]}}),
         "space.batch_size.choice[2]: ", False),
    ]
    for spec, prefix, lists in cases:
        r = d.request({"op": "submit", "spec": spec})
        assert not r["ok"], r
        msg = r["error"]["message"]
        assert msg.startswith(prefix), (prefix, msg)
        if lists:
            assert "valid names:" in msg and "dataset" in msg and \
                "batch_size" in msg and "lr" in msg, msg


TESTS = [with_daemon(f, serving_after=True) for f in [
    _builtin_param_typos_name_the_path_and_the_valid_names,
    _invalid_json, _not_an_object, _missing_op, _unknown_op,
    _missing_and_bad_sweep_ids, _submit_without_spec, _spec_field_errors,
    _two_mib_line_is_refused_and_others_served,
    _silent_client_does_not_block_others, _client_that_leaves_mid_reply,
    _many_requests_on_one_connection, _request_split_across_writes,
    _watcher_that_does_not_read_is_dropped]]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
