"""A headless Chromium driven over the DevTools protocol on a pipe.

`--remote-debugging-pipe` makes Chromium read protocol commands from its
fd 3 and write replies and events to its fd 4, each a JSON object ended by
a NUL byte: no websocket library is needed. The page's console messages
and uncaught exceptions are collected, so a test can assert there were
none; evaluate() runs an expression in the page and returns its value.
"""
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--remote-debugging-pipe",
]


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, exe, width=1400, height=1000):
        self.profile = tempfile.mkdtemp(prefix="sweepd-cdp-")
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        # bash (dash takes one-digit fds only) puts the pipes on fds 3
        # and 4, then is Chromium
        self.proc = subprocess.Popen(
            ["bash", "-c", 'exec "$0" "$@" 3<&%d 4>&%d' % (to_child_r, from_child_w),
             exe] + FLAGS + ["--user-data-dir=" + self.profile,
                             "--window-size=%d,%d" % (width, height),
                             "about:blank"],
            pass_fds=(to_child_r, from_child_w),
            stdout=subprocess.DEVNULL, stderr=open(os.environ.get("CDP_LOG", os.devnull), "w"))
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events = []        # every event received, in order
        self.session = None

    def _send(self, method, params=None, session=True):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        return self._id

    def _read(self, timeout):
        end = time.time() + timeout
        while b"\0" not in self._buf:
            if time.time() > end:
                raise TimeoutError("no message from Chromium")
            r, _, _ = select.select([self._r], [], [], 0.5)
            if r:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise ConnectionError("Chromium closed its pipe")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=True, timeout=60):
        mid = self._send(method, params, session)
        while True:
            msg = self._read(timeout)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def open(self, url):
        """A new tab on url, attached, with the console watched."""
        target = self.call("Target.createTarget", {"url": "about:blank"},
                           session=False)["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.call(domain + ".enable")
        self.call("Page.navigate", {"url": url})

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr,
                                           "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate %r: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_for(self, expr, timeout=30, step=0.2):
        """Polls expr in the page until it is truthy; returns its value,
        or the last (falsy) one after timeout."""
        end = time.time() + timeout
        while True:
            try:
                v = self.evaluate(expr)
            except RuntimeError:
                v = None     # the document is not there yet
            if v or time.time() > end:
                return v
            time.sleep(step)

    def console_problems(self):
        """Console messages, uncaught exceptions and log entries (failed
        loads, CSP violations) of the page so far."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled":
                out.append("console.%s: %s" % (p.get("type"), [
                    a.get("value", a.get("description")) for a in p.get("args", [])]))
            elif m == "Runtime.exceptionThrown":
                out.append("exception: %s" % p.get("exceptionDetails"))
            elif m == "Log.entryAdded":
                entry = p.get("entry", {})
                if entry.get("level") in ("error", "warning"):
                    out.append("log %s: %s %s" % (entry.get("level"),
                                                  entry.get("text"), entry.get("url")))
        return out

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        shutil.rmtree(self.profile, ignore_errors=True)
