"""File descriptors: running out of them is the daemon's own trouble, not
the trials'. Idle clients cannot take the descriptors trials need (clients
are capped below RLIMIT_NOFILE), and a spawn that fails with EMFILE, ENFILE
or EAGAIN holds the trial (requeued, not failed, not counted) until
descriptors are free again."""
import json
import os
import resource
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, fake_spec, read_line, run_tests, wait_for

NOFILE = 64


class Control:
    """One connection kept open, so that requests need no new descriptor
    in the daemon."""

    def __init__(self, d):
        self.s = d.connect()
        self.n = 0

    def ok(self, req):
        self.n += 1
        req = dict(req, id=self.n)
        self.s.sendall((json.dumps(req) + "\n").encode())
        r = json.loads(read_line(self.s))
        assert r.get("ok"), (req, r)
        return r

    def close(self):
        self.s.close()


def trials_of(c, sid):
    return c.ok({"op": "trials", "sweep": sid})["trials"]


def wait_done(c, sid, timeout=60):
    assert wait_for(lambda: c.ok({"op": "sweep", "sweep": sid})["sweep"]["status"]
                    in ("completed", "failed", "cancelled"), timeout), \
        c.ok({"op": "sweep", "sweep": sid})
    return c.ok({"op": "sweep", "sweep": sid})["sweep"]


def _idle_clients_cannot_starve_trials():
    d = Daemon(workers=2)
    d.preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    d.start()
    idle = []
    try:
        c = Control(d)
        for _ in range(2 * NOFILE):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            try:
                s.connect(d.sock)
            except OSError:
                s.close()
                continue
            idle.append(s)
        st = c.ok({"op": "stats"})
        assert "max_clients" in st and 1 <= st["max_clients"] < NOFILE, st
        assert wait_for(lambda: c.ok({"op": "stats"})["clients"] == st["max_clients"]), st
        # one over the cap was told why before it was closed
        busy = None
        for s in idle[st["max_clients"]:]:
            try:
                line = read_line(s)
            except (OSError, ConnectionError):
                continue
            busy = json.loads(line)
            break
        assert busy and not busy["ok"] and busy["error"]["code"] == "busy" and \
            "max_clients" in busy["error"]["message"], busy
        sid = c.ok({"op": "submit", "spec": fake_spec(trials=6, parallel=2)})["sweep_id"]
        s = wait_done(c, sid)
        ts = trials_of(c, sid)
        assert s["status"] == "completed", s
        assert all(t["status"] == "completed" and t["attempt"] == 1 for t in ts), ts
        c.close()
    finally:
        for s in idle:
            s.close()
        d.cleanup()


def _emfile_at_spawn_holds_the_trial():
    d = Daemon(workers=2).start()
    try:
        c = Control(d)
        # A reply means the daemon has accepted c: counted before that,
        # its accept would be the call that fails, and libuv answers an
        # accept's EMFILE by closing the new connection (the submit below
        # then meets ECONNRESET).
        c.ok({"op": "stats"})
        soft, hard = resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE)
        # no descriptor left: the next open, pipe or accept fails with
        # EMFILE. The limit is the lowest free descriptor, not the count
        # of open ones: a hole below the count would take one more.
        fds = {int(f) for f in os.listdir("/proc/%d/fd" % d.proc.pid)}
        lowest_free = min(set(range(max(fds) + 2)) - fds)
        resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (lowest_free, hard))
        try:
            sid = c.ok({"op": "submit", "spec": fake_spec(trials=4, parallel=2)})["sweep_id"]
            assert wait_for(lambda: not c.ok({"op": "stats"})["spawn"]["ok"], 10), \
                c.ok({"op": "stats"})
            st = c.ok({"op": "stats"})["spawn"]
            assert "too many open files" in st["message"].lower(), st
            assert st["error"] == "EMFILE", st
            ts = trials_of(c, sid)
            assert all(t["status"] == "queued" and t["attempt"] == 0 for t in ts), ts
            sw = c.ok({"op": "sweep", "sweep": sid})["sweep"]
            assert sw["status"] == "running" and sw["counts"]["failed"] == 0, sw
        finally:
            resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
        s = wait_done(c, sid)
        ts = trials_of(c, sid)
        assert s["status"] == "completed", s
        assert all(t["status"] == "completed" and t["attempt"] == 1 for t in ts), ts
        assert c.ok({"op": "stats"})["spawn"]["ok"]
        c.close()
        log = d.log_text()
        assert log.count("cannot start trials") == 1, log
    finally:
        d.cleanup()


TESTS = [_idle_clients_cannot_starve_trials, _emfile_at_spawn_holds_the_trial]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
