"""Client connections: the end of a client's input, and backpressure.

A client may half-close its write side once its requests are sent (as
`printf ... | socat - UNIX:sock` does): it still gets every reply, then the
daemon closes. A last request without its '\\n' is a request. A client that
sends requests without reading the replies stalls only itself: the daemon
stops reading from it while its unsent output is over a threshold, so its
memory stays bounded and other clients are served.
"""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, run_tests, wait_for, with_daemon

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


def half_closed(d, data):
    """Sends data on a new connection, half-closes it (SHUT_WR) and
    returns the replies that came before the daemon closed its side."""
    with d.connect() as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return replies(read_to_eof(s))


def replies(data):
    """The reply objects in data, every one a whole line."""
    assert not data or data.endswith(b"\n"), \
        "a reply was cut: %d bytes after the last newline" % (
            len(data) - data.rfind(b"\n") - 1)
    return [json.loads(l) for l in data.split(b"\n") if l]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def _half_close_after_one_request_gets_the_reply(d):
    got = half_closed(d, b'{"id":1,"op":"ping"}\n')
    assert [r["id"] for r in got] == [1] and got[0]["ok"], got


def _half_close_gets_every_queued_reply(d):
    sid = big_sweep(d)
    reqs = [{"id": i, "op": "trials", "sweep": sid} for i in range(5)]
    reqs.append({"id": 99, "op": "ping"})
    got = half_closed(d, b"".join(json.dumps(r).encode() + b"\n" for r in reqs))
    assert [r["id"] for r in got] == [0, 1, 2, 3, 4, 99], [r.get("id") for r in got]
    for r in got[:5]:
        assert r["ok"] and len(r["trials"]) == BIG_TRIALS, r.get("error")


def _half_closed_watcher_gets_its_reply_then_the_end(d):
    # A watch ends with the client's input: the reply is written, then
    # the connection closed, whether the sweep still runs or not.
    sid = d.submit(fake_spec(trials=2, parallel=2,
                             params={"epochs": 3, "sleep_ms": 200}))
    for want_end in (False, True):
        got = half_closed(d, b'{"id":5,"op":"watch","sweep":%d}\n' % sid)
        assert got[0]["id"] == 5 and got[0]["ok"], got[0]
        if want_end:
            assert [e["event"] for e in got[1:]] == ["sweep_ended"], got
        d.wait_sweep(sid)


def _last_line_without_newline_is_a_request(d):
    got = half_closed(d, b'{"id":1,"op":"ping"}')
    assert [r["id"] for r in got] == [1] and got[0]["ok"], got


def _last_line_without_newline_follows_the_others(d):
    got = half_closed(d, b'{"id":1,"op":"ping"}\n{"id":2,"op":"nope"}\r\n'
                      b'{"id":3,"op":"ping"}')
    assert [r["id"] for r in got] == [1, 2, 3], got
    assert got[1]["error"]["code"] == "unknown_op", got[1]
    assert got[2]["ok"], got[2]


def _unterminated_last_line_keeps_the_line_cap(d):
    # Over 1 MiB, no newline: refused as too large, not dispatched.
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
    got = half_closed(d, line)
    assert [r["id"] for r in got] == [2] and got[0]["ok"], got


def _client_that_does_not_read_stalls_only_itself(d):
    sid = big_sweep(d)
    pid = d.proc.pid
    for _ in range(3):   # the allocator's working set for one reply
        assert len(d.trials(sid)) == BIG_TRIALS
    base = rss_kb(pid)
    # 400 replies of a few hundred kB each: over 100 MB if all were queued.
    n = 400
    bound = 48 << 10   # kB: generous; one reply is well under 1 MB
    storm = d.connect()
    try:
        storm.sendall(b"".join(b'{"id":%d,"op":"trials","sweep":%d}\n' % (i, sid)
                               for i in range(n)))

        def held_or_grown():
            if rss_kb(pid) - base > bound:
                return "grown"
            st = d.ok({"op": "stats"})
            return "held" if st.get("paused_clients", 0) >= 1 else None

        state = wait_for(held_or_grown, timeout=60)
        assert state == "held", ("daemon RSS grew by %d kB (bound %d kB) while "
                                 "a client did not read" % (rss_kb(pid) - base, bound))
        # Others are served meanwhile, and the held client does not grow.
        for _ in range(5):
            assert d.ok({"op": "ping"})
            assert len(d.trials(sid)) == BIG_TRIALS
        st = d.ok({"op": "stats"})
        assert st["paused_clients"] == 1 and st["queued_output_bytes"] > 0, st
        grown = rss_kb(pid) - base
        assert grown < bound, "RSS grew by %d kB (bound %d kB)" % (grown, bound)
        # Once it reads, it gets every reply, in order.
        ids, buf = [], bytearray()
        while len(ids) < n:
            chunk = storm.recv(1 << 20)
            assert chunk, "connection closed after %d replies" % len(ids)
            buf += chunk
            *lines, rest = buf.split(b"\n")
            buf = bytearray(rest)
            for line in lines:
                r = json.loads(line)
                assert r["ok"] and len(r["trials"]) == BIG_TRIALS, r.get("error")
                ids.append(r["id"])
        assert ids == list(range(n)), ids[:10]
    finally:
        storm.close()
    st = wait_for(lambda: (lambda s: s if s["paused_clients"] == 0 else None)(
        d.ok({"op": "stats"})), timeout=30)
    assert st and st["paused_clients"] == 0, st


TESTS = [with_daemon(f, serving_after=True) for f in (
    _half_close_after_one_request_gets_the_reply,
    _half_close_gets_every_queued_reply,
    _half_closed_watcher_gets_its_reply_then_the_end,
    _last_line_without_newline_is_a_request,
    _last_line_without_newline_follows_the_others,
    _unterminated_last_line_keeps_the_line_cap,
    _client_that_does_not_read_stalls_only_itself,
)]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
