"""What one trainer or one client can cost the daemon is bounded: a report
line by the line (not by the epoch number it claims), a flooding trainer by
a batch per turn of the loop, a big `epochs` export by a page, stalled
watchers by the per-client and total output caps (docs/DESIGN.md)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import json
import socket

from sweeplib import (SANITIZED, fake_spec, read_line, run_tests, wait_for,
                      with_daemon)

# Every rule that keeps a per-sweep history: the pruner, early stopping and
# TPE all read it.
HISTORY = {
    "pruner": {"algorithm": "asha", "min_epochs": 1, "eta": 3},
    "early_stopping": {"patience": 1000},
}


def all_epochs(d, sid, limit=None, pages=None):
    """Every epoch row of the sweep, page after page of the `epochs` op;
    pages (a list) gets each page's length."""
    rows, after = [], None
    while True:
        req = {"op": "epochs", "sweep": sid}
        if limit is not None:
            req["limit"] = limit
        if after is not None:
            req["after"] = after
        r = d.ok(req)
        rows += r["epochs"]
        if pages is not None:
            pages.append(len(r["epochs"]))
        after = r["next"]
        if after is None:
            return rows
        assert r["epochs"], r   # a page that says more follows has rows


def history_spec(name, epoch_list, trials=2):
    spec = fake_spec(name, trials=trials, parallel=1,
                     params={"epoch_list": epoch_list}, **HISTORY)
    spec["search"]["algorithm"] = "tpe"
    return spec


def _peak_rss_mb(d):
    """The daemon's peak resident size so far (VmHWM), in MiB."""
    with open("/proc/%d/status" % d.proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmHWM in /proc/%d/status" % d.proc.pid)


def _an_epoch_over_the_limit_fails_the_trial_quoting_the_line(d):
    sid = d.submit(history_spec("huge-epoch", [1, 2147483647], trials=1))
    s = d.wait_sweep(sid, timeout=30)
    assert d.request({"op": "ping"}, timeout=5)["ok"]
    t = d.trials(sid)[0]
    assert t["status"] == "failed", t
    msg = t["error"]["message"]
    assert '"epoch":2147483647' in msg, t["error"]      # quotes the line
    assert "1 to 1000000000" in msg, t["error"]         # names the limit
    assert s["status"] in ("completed", "failed"), s


def _sparse_epoch_numbers_cost_what_their_lines_cost(d):
    """A trainer reporting its global step: four lines, epoch numbers up
    to the limit. The history keeps the lines, not every number between."""
    steps = [1, 1000, 500000000, 1000000000]
    sid = d.submit(history_spec("steps", steps, trials=3))
    d.wait_sweep(sid, timeout=60)
    assert d.request({"op": "ping"}, timeout=5)["ok"]
    for t in d.trials(sid):
        assert t["status"] in ("completed", "pruned"), t
    rows = all_epochs(d, sid)
    got = sorted({r["epoch"] for r in rows})
    assert got == steps, got
    if not SANITIZED:   # ASan's shadow memory and quarantine inflate RSS
        assert _peak_rss_mb(d) < 100, _peak_rss_mb(d)


def _ask(s, req):
    s.sendall((json.dumps(req) + "\n").encode())
    return json.loads(read_line(s))


FLOOD = 30000


def _a_flooding_trainer_leaves_the_loop_to_other_clients(d):
    """A trainer writing epoch lines as fast as it can (no sleep): other
    clients are served while it runs, and every epoch is stored once."""
    sid = d.submit(fake_spec("flood", trials=1, parallel=1,
                             params={"epochs": FLOOD}))
    pings = 0
    with d.connect() as s:
        assert wait_for(lambda: _ask(s, {"op": "trials", "sweep": sid})
                        ["trials"][0]["status"] == "running", timeout=10)
        while True:
            assert _ask(s, {"op": "ping"})["ok"]
            t = _ask(s, {"op": "trials", "sweep": sid})["trials"][0]
            if t["status"] != "running":
                break
            pings += 1
    d.wait_sweep(sid, timeout=60)
    t = d.trials(sid)[0]
    assert t["status"] == "completed", t
    # The flood takes seconds; a loop that serves others between batches
    # answers hundreds of pings meanwhile, one that reads the whole pipe
    # first answers a handful.
    assert pings >= 50, "only %d pings answered during the flood" % pings
    rows = all_epochs(d, sid)
    assert [r["epoch"] for r in rows] == list(range(1, FLOOD + 1)), len(rows)
    assert t["epochs"] == FLOOD, t


WATCHERS = 100


def _eof_after_draining(s):
    """Reads s to its end; True when the daemon closed it."""
    s.settimeout(30)
    try:
        while s.recv(1 << 16):
            pass
    except ConnectionResetError:
        pass
    return True


def _stalled_watchers_are_capped_and_their_memory_returned(d):
    """100 watchers that never read: each is disconnected once its queue
    passes the per-watcher cap (or the total one), the daemon stays small
    meanwhile, and gives the memory back once they are gone."""
    sid = d.submit(fake_spec("watched", trials=2, parallel=2,
                             params={"epochs": 3000, "sleep_ms": 0}))
    socks = []
    try:
        for _ in range(WATCHERS):
            s = d.connect()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b'{"op":"watch","sweep":%d}\n' % sid)
            socks.append(s)
        d.wait_sweep(sid, timeout=180)
        assert d.request({"op": "ping"}, timeout=5)["ok"]
        st = d.ok({"op": "stats"})
        # Those dropped are closed, those left hold at most the total cap.
        assert st["queued_output_bytes"] <= 33 << 20, st
        for s in socks:
            assert _eof_after_draining(s)
        assert "is not reading: disconnected" in d.log_text()
        if not SANITIZED:
            peak = _peak_rss_mb(d)
            assert peak < 100, "peak RSS %.0f MiB" % peak
            now = d.ok({"op": "stats"})["rss_kb"] / 1024.0
            assert now < 40, "RSS %.0f MiB after the watchers left" % now
    finally:
        for s in socks:
            s.close()


def key(r):
    return (r["number"], r["attempt"], r["epoch"])


def _epochs_pages_give_every_row_once_in_order(d):
    """Retried trials too: rows of every attempt, (number, attempt, epoch)
    order, whatever the page size."""
    sid = d.submit(fake_spec("pages", trials=3, parallel=1,
                             params={"epochs": 5, "mode": "fail_once"},
                             limits={"retries": 1}))
    d.wait_sweep(sid)
    whole = all_epochs(d, sid)
    keys = [key(r) for r in whole]
    assert len(keys) == 15 and keys == sorted(set(keys)), keys
    assert {k[1] for k in keys} == {2}, keys   # the second attempts' rows
    for limit in (1, 4, 5, 14, 15, 16):
        pages = []
        rows = all_epochs(d, sid, limit=limit, pages=pages)
        assert rows == whole, (limit, [key(r) for r in rows])
        assert max(pages) <= limit, (limit, pages)
    r = d.ok({"op": "epochs", "sweep": sid, "after": {"number": 2,
                                                      "attempt": 2,
                                                      "epoch": 3}})
    assert [key(x) for x in r["epochs"]] == keys[8:] and r["next"] is None, r


def _epochs_without_a_limit_get_one_bounded_page(d):
    n = 12000
    sid = d.submit(fake_spec("big", trials=1, parallel=1,
                             params={"epochs": n}))
    d.wait_sweep(sid, timeout=120)
    r = d.ok({"op": "epochs", "sweep": sid})
    assert 0 < len(r["epochs"]) <= 10000 and r["next"] is not None, \
        (len(r["epochs"]), r.get("next"))
    rows = all_epochs(d, sid)
    assert [x["epoch"] for x in rows] == list(range(1, n + 1)), len(rows)
    p = d.ctl("export", str(sid), "--epochs", check=0)
    assert len(p.stdout.splitlines()) == 1 + n, len(p.stdout.splitlines())


def _bad_epochs_page_requests_are_refused_naming_the_field(d):
    sid = d.submit(fake_spec("bad", trials=1))
    d.wait_sweep(sid)
    for field, bad in (("limit", 0), ("limit", -1), ("limit", 1.5),
                       ("limit", "3"), ("after", 3), ("after", {}),
                       ("after", {"number": 1, "attempt": 1}),
                       ("after", {"number": -1, "attempt": 1, "epoch": 1})):
        r = d.request({"op": "epochs", "sweep": sid, field: bad})
        assert not r["ok"] and r["error"]["code"] == "bad_request", (bad, r)
        assert '"%s"' % field in r["error"]["message"], (field, bad, r)


TESTS = [
    with_daemon(_an_epoch_over_the_limit_fails_the_trial_quoting_the_line,
                serving_after=True),
    with_daemon(_sparse_epoch_numbers_cost_what_their_lines_cost,
                serving_after=True),
    with_daemon(_a_flooding_trainer_leaves_the_loop_to_other_clients,
                serving_after=True),
    with_daemon(_stalled_watchers_are_capped_and_their_memory_returned,
                serving_after=True),
    with_daemon(_epochs_pages_give_every_row_once_in_order),
    with_daemon(_epochs_without_a_limit_get_one_bounded_page),
    with_daemon(_bad_epochs_page_requests_are_refused_naming_the_field),
]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
