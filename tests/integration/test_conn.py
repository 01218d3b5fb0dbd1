"""Client connections: what a client gets at the end of its input.

A client may half-close its write side once its requests are sent (as
`printf ... | socat - UNIX:sock` does): it still gets every reply, then the
daemon closes. A last request without its '\\n' is a request.
"""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, run_tests

# A sweep whose `trials` reply is a few hundred kB: more than a Unix
# socket's buffers hold, so replies to it stay queued in the daemon until
# the client reads them.
BIG_TRIALS = 300


def big_sweep(d):
    sid = d.submit(fake_spec(name="big", trials=BIG_TRIALS, parallel=2,
                             params={"epochs": 2, "x": {"uniform": [0, 1]}}))
    d.wait_sweep(sid, timeout=300)
    return sid


def read_to_eof(s):
    """Every byte until the daemon closes the connection."""
    buf = bytearray()
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            return bytes(buf)
        buf += chunk


def replies(data):
    """The reply objects in data, every one a whole line."""
    assert not data or data.endswith(b"\n"), \
        "a reply was cut: %d bytes after the last newline" % (
            len(data) - data.rfind(b"\n") - 1)
    return [json.loads(l) for l in data.split(b"\n") if l]



def _half_close_after_one_request_gets_the_reply(d):
    with d.connect() as s:
        s.sendall(b'{"id":1,"op":"ping"}\n')
        s.shutdown(socket.SHUT_WR)
        got = replies(read_to_eof(s))
    assert [r["id"] for r in got] == [1] and got[0]["ok"], got


def _half_close_gets_every_queued_reply(d):
    sid = big_sweep(d)
    reqs = [{"id": i, "op": "trials", "sweep": sid} for i in range(5)]
    reqs.append({"id": 99, "op": "ping"})
    with d.connect() as s:
        s.sendall(b"".join(json.dumps(r).encode() + b"\n" for r in reqs))
        s.shutdown(socket.SHUT_WR)
        got = replies(read_to_eof(s))
    assert [r["id"] for r in got] == [0, 1, 2, 3, 4, 99], [r.get("id") for r in got]
    for r in got[:5]:
        assert r["ok"] and len(r["trials"]) == BIG_TRIALS, r.get("error")


def _half_closed_watcher_gets_its_reply_then_the_end(d):
    # A watch ends with the client's input: the reply is written, then
    # the connection closed, whether the sweep still runs or not.
    sid = d.submit(fake_spec(trials=2, parallel=2,
                             params={"epochs": 3, "sleep_ms": 200}))
    for want_end in (False, True):
        with d.connect() as s:
            s.sendall(b'{"id":5,"op":"watch","sweep":%d}\n' % sid)
            s.shutdown(socket.SHUT_WR)
            got = replies(read_to_eof(s))
        assert got[0]["id"] == 5 and got[0]["ok"], got[0]
        if want_end:
            assert [e["event"] for e in got[1:]] == ["sweep_ended"], got
        d.wait_sweep(sid)


def _last_line_without_newline_is_a_request(d):
    with d.connect() as s:
        s.sendall(b'{"id":1,"op":"ping"}')
        s.shutdown(socket.SHUT_WR)
        got = replies(read_to_eof(s))
    assert [r["id"] for r in got] == [1] and got[0]["ok"], got


def _last_line_without_newline_follows_the_others(d):
    with d.connect() as s:
        s.sendall(b'{"id":1,"op":"ping"}\n{"id":2,"op":"nope"}\r\n'
                  b'{"id":3,"op":"ping"}')
        s.shutdown(socket.SHUT_WR)
        got = replies(read_to_eof(s))
    assert [r["id"] for r in got] == [1, 2, 3], got
    assert got[1]["error"]["code"] == "unknown_op", got[1]
    assert got[2]["ok"], got[2]


def _unterminated_last_line_keeps_the_line_cap(d):
    # 1 MiB + 1 bytes, no newline: refused as too large, not dispatched.
    line = b'{"id":1,"op":"ping","pad":"' + b"x" * (1 << 20) + b'"}'
    with d.connect() as s:
        try:
            s.sendall(line)
            s.shutdown(socket.SHUT_WR)
            got = replies(read_to_eof(s))
        except (BrokenPipeError, ConnectionResetError):
            got = None   # closed before everything was sent: also a refusal
    if got is not None:
        assert len(got) == 1 and got[0]["error"]["code"] == "too_large", got
    # Exactly at the cap (1 MiB) and unterminated: a request.
    pad = (1 << 20) - len(b'{"id":2,"op":"ping","pad":""}')
    line = b'{"id":2,"op":"ping","pad":"' + b"y" * pad + b'"}'
    assert len(line) == 1 << 20
    with d.connect() as s:
        s.sendall(line)
        s.shutdown(socket.SHUT_WR)
        got = replies(read_to_eof(s))
    assert [r["id"] for r in got] == [2] and got[0]["ok"], got


def with_daemon(fn):
    def wrapped():
        d = Daemon().start()
        try:
            fn(d)
            assert d.ok({"op": "ping"})
            assert d.proc.poll() is None
        finally:
            d.cleanup()
    wrapped.__name__ = fn.__name__.lstrip("_")
    return wrapped


TESTS = [with_daemon(f) for f in (
    _half_close_after_one_request_gets_the_reply,
    _half_close_gets_every_queued_reply,
    _half_closed_watcher_gets_its_reply_then_the_end,
    _last_line_without_newline_is_a_request,
    _last_line_without_newline_follows_the_others,
    _unterminated_last_line_keeps_the_line_cap,
)]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
