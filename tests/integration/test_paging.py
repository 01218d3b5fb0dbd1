"""`trials` pages: "limit" and "offset" cut the list, "total" counts it all."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, run_tests

N = 7


def numbers(r):
    return [t["number"] for t in r["trials"]]


def page(r):
    """What a failed check prints: the numbers and the total."""
    return numbers(r), r.get("total")


def _without_limit_or_offset_every_trial_and_the_total(d, sid):
    r = d.ok({"op": "trials", "sweep": sid})
    assert numbers(r) == list(range(1, N + 1)) and r.get("total") == N, page(r)


def _limit_and_offset_give_one_page_in_number_order(d, sid):
    whole = d.ok({"op": "trials", "sweep": sid})["trials"]
    r = d.ok({"op": "trials", "sweep": sid, "limit": 3, "offset": 2})
    assert numbers(r) == [3, 4, 5] and r.get("total") == N, page(r)
    assert r["trials"] == whole[2:5]   # the same objects as in the whole list
    r = d.ok({"op": "trials", "sweep": sid, "limit": 3})
    assert numbers(r) == [1, 2, 3] and r.get("total") == N, page(r)
    r = d.ok({"op": "trials", "sweep": sid, "offset": 5})
    assert numbers(r) == [6, 7] and r.get("total") == N, page(r)
    r = d.ok({"op": "trials", "sweep": sid, "limit": 100, "offset": 4})
    assert numbers(r) == [5, 6, 7], page(r)


def _pages_cover_the_list_once(d, sid):
    seen, offset = [], 0
    for _ in range(N + 1):
        r = d.ok({"op": "trials", "sweep": sid, "limit": 2, "offset": offset})
        if not r["trials"]:
            break
        seen += numbers(r)
        offset += len(r["trials"])
    assert seen == list(range(1, N + 1)), seen


def _empty_pages_still_count(d, sid):
    for req in ({"limit": 0}, {"offset": N}, {"offset": 10 ** 9, "limit": 5}):
        r = d.ok(dict({"op": "trials", "sweep": sid}, **req))
        assert r["trials"] == [] and r.get("total") == N, (req, page(r))


def _bad_limit_or_offset_is_refused_naming_the_field(d, sid):
    for field in ("limit", "offset"):
        for bad in (-1, 1.5, "3", True, None, [], 1e300):
            r = d.request({"op": "trials", "sweep": sid, field: bad})
            assert not r["ok"], (field, bad, page(r))
            assert r["error"]["code"] == "bad_request", (field, bad, r)
            assert '"%s"' % field in r["error"]["message"], (field, bad, r)
    r = d.request({"op": "trials", "sweep": 999, "limit": 1})
    assert r["error"]["code"] == "not_found", r


def _sweepctl_trials_pages_with_limit_and_offset(d, sid):
    p = d.ctl("trials", str(sid), "--limit", "2", "--offset", "5", check=0)
    rows = p.stdout.rstrip("\n").split("\n")
    assert [r.split()[0] for r in rows[1:3]] == ["6", "7"], rows
    assert rows[-1] == "2 of %d trials shown (#6 to #7)" % N, rows
    p = d.ctl("--json", "trials", str(sid), "--limit", "3", check=0)
    r = json.loads(p.stdout)
    assert numbers(r) == [1, 2, 3] and r["total"] == N, page(r)
    p = d.ctl("trials", str(sid), "--offset", "-1", check=2)
    assert "--offset must be a non-negative integer" in p.stderr, p.stderr


def with_sweep(fn):
    """fn(d, sid) on its own daemon, sid a finished sweep of N trials."""
    def wrapped():
        d = Daemon().start()
        try:
            sid = d.submit(fake_spec(trials=N, parallel=2))
            d.wait_sweep(sid)
            fn(d, sid)
        finally:
            d.cleanup()
    wrapped.__name__ = fn.__name__.lstrip("_")
    return wrapped


TESTS = [with_sweep(f) for f in (

    _without_limit_or_offset_every_trial_and_the_total,
    _limit_and_offset_give_one_page_in_number_order,
    _pages_cover_the_list_once,
    _empty_pages_still_count,
    _bad_limit_or_offset_is_refused_naming_the_field,
    _sweepctl_trials_pages_with_limit_and_offset,
)]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
