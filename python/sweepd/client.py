"""The client side: sweepd's socket protocol from Python (docs/python.md).

    c = sweepd.Client()                  # the state dir sweepctl would use
    sid = c.submit("configs/quickstart.json")
    c.wait(sid)
    print(c.best(sid)["params"])

Every daemon error raises sweepd.Error with the daemon's code
("not_found", "bad_request", "conflict", ...) and message; a daemon that
cannot be reached raises Error with code "unreachable".
"""
import json
import os
import select
import socket

from sweepd.lines import epoch_object, final_object, finite_or_none

SUN_PATH_MAX = 108        # sockaddr_un.sun_path, NUL included
ENDED = ("completed", "failed", "cancelled")


class Error(Exception):
    """A request the daemon refused, or a daemon that cannot be reached."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


def default_state_dir(environ=None):
    """The state dir sweepctl and sweepd default to (common/statedir.c):
    $SWEEP_STATE_DIR, else $XDG_STATE_HOME/sweepd (absolute only), else
    $HOME/.local/state/sweepd. Empty variables count as unset."""
    env = os.environ if environ is None else environ
    v = env.get("SWEEP_STATE_DIR")
    if v:
        return v
    v = env.get("XDG_STATE_HOME")
    if v and v.startswith("/"):
        return v + ("sweepd" if v == "/" else "/sweepd")
    v = env.get("HOME")
    if v:
        return v + (".local/state/sweepd" if v.endswith("/") else
                    "/.local/state/sweepd")
    raise Error("no_state_dir", "cannot find the state directory: set "
                "$SWEEP_STATE_DIR or $HOME, or pass state_dir")


def socket_path(state_dir):
    """state_dir + "/sweepd.sock", refused when sun_path cannot hold it."""
    if not state_dir:
        raise Error("bad_request", "the state directory is empty")
    path = state_dir + ("sweepd.sock" if state_dir.endswith("/") else
                        "/sweepd.sock")
    if len(os.fsencode(path)) >= SUN_PATH_MAX:
        raise Error("name_too_long", "socket path %s is longer than %d bytes"
                    % (path, SUN_PATH_MAX - 1))
    return path


class _Conn:
    """One connection: JSON lines each way."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as e:
            self.sock.close()
            raise Error("unreachable", "cannot connect to %s: %s (is sweepd "
                        "running?)" % (path, e.strerror or e)) from None
        self.buf = bytearray()

    def alive(self):
        """False when the daemon closed its end (it restarted, say)."""
        try:
            r, _, _ = select.select([self.sock], [], [], 0)
            return not r or self.sock.recv(1, socket.MSG_PEEK) != b""
        except OSError:
            return False

    def send(self, obj):
        self.sock.sendall(json.dumps(obj, separators=(",", ":"),
                                     allow_nan=False).encode() + b"\n")

    def read(self, timeout=None):
        """The next line as an object; None when the daemon closed."""
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line = bytes(self.buf[:nl])
                del self.buf[:nl + 1]
                return json.loads(line)
            if timeout is not None:
                self.sock.settimeout(timeout)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                return None
            self.buf += chunk

    def close(self):
        self.sock.close()


class Client:
    """A connection to sweepd. state_dir: where sweepd.sock is (default:
    as sweepctl, see default_state_dir). timeout: seconds a reply may take
    (None: no limit)."""

    def __init__(self, state_dir=None, timeout=60.0):
        self.state_dir = state_dir if state_dir else default_state_dir()
        self.path = socket_path(self.state_dir)
        self.timeout = timeout
        self._conn = None
        self._id = 0

    # ---- plumbing ------------------------------------------------------

    def close(self):
        if self._conn:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, op, **fields):
        """Sends one request, returns the reply (a dict without "ok"), or
        raises Error with the daemon's code and message."""
        if self._conn and not self._conn.alive():
            self.close()
        if not self._conn:
            self._conn = _Conn(self.path, self.timeout)
        self._id += 1
        req = dict(fields, op=op, id=self._id)
        try:
            self._conn.send(req)
            while True:
                reply = self._conn.read(self.timeout)
                if reply is None:
                    raise Error("unreachable", "sweepd closed the connection "
                                "before replying to %r" % op)
                if reply.get("id") == self._id:
                    break
        except (OSError, ValueError, Error) as e:
            self.close()
            if isinstance(e, Error):
                raise
            raise Error("unreachable", "%s: %s" % (op, e)) from None
        return _unwrap(reply)

    # ---- queries ---------------------------------------------------------

    def ping(self):
        return self.request("ping")

    def stats(self):
        return self.request("stats")

    def submit(self, spec):
        """Submits a sweep: a dict, or the path of a JSON spec file (a
        relative trainer.cwd or data_dir is taken from the file's directory,
        as sweepctl does). Returns the new sweep's id."""
        if not isinstance(spec, dict):
            spec = _read_spec(os.fspath(spec))
        return self.request("submit", spec=spec)["sweep_id"]

    def sweeps(self):
        return self.request("sweeps")["sweeps"]

    def status(self, sweep):
        """The sweep's summary (status, counts, best_trial, verdicts)."""
        return self.request("sweep", sweep=sweep)["sweep"]

    def trials(self, sweep, status=None):
        """Every trial of the sweep; status (a name or a list of names)
        keeps only those."""
        got = self.request("trials", sweep=sweep)["trials"]
        if status is None:
            return got
        want = {status} if isinstance(status, str) else set(status)
        return [t for t in got if t.get("status") in want]

    def trial(self, sweep, number):
        """One trial with its learning curve and diagnosis."""
        return self.request("trial", sweep=sweep, number=number)["trial"]

    def best(self, sweep):
        return self.request("best", sweep=sweep)["trial"]

    def epochs(self, sweep, page=None):
        """Every epoch row of the sweep, every attempt, in (number,
        attempt, epoch) order: the daemon sends them a page per request
        (at most page rows when given), each reply's "next" is the next
        request's "after"."""
        rows, after = [], None
        while True:
            kw = {"after": after} if after else {}
            if page is not None:
                kw["limit"] = page
            r = self.request("epochs", sweep=sweep, **kw)
            rows += r["epochs"]
            after = r.get("next")
            if not after:
                return rows

    # ---- changes ---------------------------------------------------------

    def cancel(self, sweep):
        return self.request("cancel", sweep=sweep)["sweep"]

    def pause(self, sweep):
        return self.request("pause", sweep=sweep)["sweep"]

    def resume(self, sweep):
        return self.request("resume", sweep=sweep)["sweep"]

    def enqueue(self, sweep, params):
        """Runs these params next: a dict or a list of dicts (unspecified
        params are sampled). Returns how many trials were enqueued."""
        return self.request("enqueue", sweep=sweep, params=params)["enqueued"]

    def ask(self, sweep):
        """The next trial of a sweep whose trainer is {"manual": {}}, to
        run here: a Trial (params, report, tell, fail)."""
        got = self.request("ask", sweep=sweep)["trial"]
        return Trial(self, sweep, got)

    # ---- events ----------------------------------------------------------

    def watch(self, sweep):
        """An iterator of the sweep's events (trial_started, epoch,
        trial_ended, sweep_paused, sweep_resumed, sweep_ended; dicts as
        docs/DESIGN.md lists them), on a connection of its own; it ends
        after sweep_ended. Watching starts here, before the first next():
        no event after this call is missed. Close the iterator (or break
        out of the loop) to stop watching."""
        conn = _Conn(self.path, self.timeout)
        try:
            conn.send({"id": 1, "op": "watch", "sweep": sweep})
            reply = conn.read(self.timeout)
            if reply is None:
                raise Error("unreachable", "sweepd closed the connection")
            _unwrap(reply)
        except BaseException:
            conn.close()
            raise
        return self._events(conn, sweep)

    @staticmethod
    def _events(conn, sweep):
        try:
            while True:
                ev = conn.read(None)
                if ev is None:
                    raise Error("unreachable", "sweepd closed the watch of "
                                "sweep %s before it ended" % sweep)
                yield ev
                if ev.get("event") == "sweep_ended":
                    return
        finally:
            conn.close()

    def wait(self, sweep, timeout=None):
        """Blocks until the sweep ends; returns its summary. timeout in
        seconds (None: forever): TimeoutError when it passes."""
        conn = _Conn(self.path, self.timeout)
        try:
            conn.send({"id": 1, "op": "watch", "sweep": sweep})
            conn.sock.settimeout(timeout)
            _unwrap(conn.read())
            while True:
                ev = conn.read()
                if ev is None:
                    raise Error("unreachable", "sweepd closed the connection "
                                "before sweep %s ended" % sweep)
                if ev.get("event") == "sweep_ended":
                    break
        except socket.timeout:
            raise TimeoutError("sweep %s did not end within %g s"
                               % (sweep, timeout)) from None
        finally:
            conn.close()
        return self.status(sweep)

    # ---- export ----------------------------------------------------------

    def export(self, sweep, epochs=False):
        """The sweep's trials as flat dicts, the columns of `sweepctl
        export` (params as "params.NAME"); with epochs, one dict per
        reported epoch instead."""
        if epochs:
            return [dict(e) for e in self.epochs(sweep)]
        return [_flat(t) for t in self.trials(sweep)]

    def export_dataframe(self, sweep, epochs=False):
        """export() as a pandas DataFrame (ImportError without pandas)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("export_dataframe needs pandas "
                              "(apt-get install python3-pandas); export() "
                              "gives the same rows as dicts") from None
        return pandas.DataFrame(self.export(sweep, epochs=epochs))


class Trial:
    """A trial handed out by Client.ask: run it here and report.

        with client.ask(sid) as t:
            for epoch in range(1, 11):
                ...
                if t.report(epoch, val_loss=vl, val_acc=va):
                    break            # pruned, early-stopped or diverged
            t.tell(test_acc=ta)

    Leaving the with block on an exception fails the trial with it;
    leaving it normally tells the daemon the trial completed (if neither
    tell, fail nor prune was called)."""

    def __init__(self, client, sweep, info):
        self.client = client
        self.sweep = sweep
        self.number = _int(info["number"])
        self.attempt = _int(info.get("attempt", 1))
        self.params = info.get("params", {})
        self.seed = _int(info.get("seed"))
        self.trial_dir = info.get("trial_dir")
        self.heartbeat_s = info.get("heartbeat_s")
        self.stopped = None    # the daemon's reason once it stopped us
        self.ended = None      # the final status once ended

    def __repr__(self):
        return "<sweepd.Trial sweep %s number %s attempt %s %s>" % (
            self.sweep, self.number, self.attempt, self.ended or "running")

    def _req(self, op, **fields):
        return self.client.request(op, sweep=self.sweep, number=self.number,
                                   attempt=self.attempt, **fields)

    def report(self, epoch, **metrics):
        """Stores one epoch. True when the trial is to stop now (a pruner,
        early stopping or the divergence rule; the daemon has ended it,
        see .stopped and .ended)."""
        if self.ended:
            return True
        line = finite_or_none(epoch_object(epoch, metrics))
        r = self._req("report", metrics=line)
        if r.get("stop"):
            self.stopped = r.get("reason") or "stopped"
            self.ended = r.get("status") or "stopped"
            return True
        return False

    def should_prune(self):
        """Optuna's name: True once report() said stop."""
        return self.ended is not None

    def _end(self, status, **fields):
        if self.ended:
            return {"status": self.ended, "number": self.number}
        r = self._req("tell", status=status, **fields)
        t = r.get("trial") or {}
        self.ended = t.get("status", status)
        return t

    def tell(self, **final):
        """Ends the trial completed, with final metrics (test_acc=..., or
        the objective itself when no epoch was reported). Returns the
        stored trial. A trial the daemon stopped already: nothing sent."""
        obj = finite_or_none(final_object(final))
        obj.pop("final", None)
        return self._end("completed", metrics=obj)

    def fail(self, message):
        """Ends the trial failed, with this message."""
        return self._end("failed", error=str(message) or "failed")

    def prune(self, message=None):
        """Ends the trial pruned (by the caller's own rule)."""
        fields = {"error": str(message)} if message else {}
        return self._end("pruned", **fields)

    def __enter__(self):
        return self

    def __exit__(self, etype, exc, tb):
        if self.ended:
            return False
        if etype is None:
            self.tell()
        else:
            try:
                self.fail("%s: %s" % (etype.__name__, exc) if str(exc)
                          else etype.__name__)
            except Error:
                pass    # the original exception matters more
        return False


def _int(v):
    """An integer the daemon may have printed as 1.2e+15: an int again."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _unwrap(reply):
    if not isinstance(reply, dict):
        raise Error("internal", "reply is not an object: %r" % (reply,))
    if not reply.get("ok"):
        e = reply.get("error") or {}
        raise Error(e.get("code", "internal"), e.get("message", "no message"))
    reply = dict(reply)
    reply.pop("ok", None)
    reply.pop("id", None)
    return reply


def _read_spec(path):
    try:
        with open(path) as f:
            spec = json.load(f)
    except OSError as e:
        raise Error("bad_request", "cannot read %s: %s" % (path, e.strerror))
    except ValueError as e:
        raise Error("bad_request", "%s is not valid JSON: %s" % (path, e))
    if not isinstance(spec, dict):
        raise Error("bad_request", "%s: the spec must be a JSON object" % path)
    tr = spec.get("trainer")
    if isinstance(tr, dict):
        base = os.path.dirname(os.path.abspath(path))
        for key in ("cwd", "data_dir"):
            v = tr.get(key)
            if isinstance(v, str) and v and not v.startswith("/"):
                tr[key] = os.path.join(base, v)
        if "command" in tr and "cwd" not in tr:
            tr["cwd"] = base
    return spec


def _flat(t):
    """One trial as sweepctl export's flat record."""
    diag = t.get("diagnosis") or {}
    err = t.get("error") or {}
    rec = {k: t.get(k) for k in ("number", "status", "attempt", "objective",
                                 "best_epoch", "epochs", "test_loss",
                                 "test_acc")}
    rec["verdict"] = diag.get("verdict")
    rec["stop_epoch"] = diag.get("stop_epoch")
    rec["error_class"] = err.get("class")
    rec["error_message"] = err.get("message")
    rec["seed"] = _int(t.get("seed"))
    for k in ("started_at", "ended_at"):
        rec[k] = t.get(k)
    t0, t1 = t.get("started_at"), t.get("ended_at")
    rec["seconds"] = t1 - t0 if isinstance(t0, (int, float)) and \
        isinstance(t1, (int, float)) else None
    rec["promotions"] = t.get("promotions")
    for k, v in (t.get("params") or {}).items():
        rec["params." + k] = v
    return rec
