"""bench/benchlib.py: what every benchmark script needs to talk to a real
sweepd: one request on its own connection, and a daemon started on a
state dir. Stdlib only. Not a test."""
import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time

_daemons = []


def _stop_daemons():
    """atexit: terminates every daemon start_daemon started that is still
    running, so a bench that fails or is killed leaves none behind."""
    for p in _daemons:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _exit_on_signal(signum, frame):
    sys.exit(128 + signum)


def _guard_daemons():
    """Once, before the first daemon starts: _stop_daemons at exit, and
    SIGTERM and SIGHUP exit through Python (finally blocks, then atexit)
    instead of killing the bench with its daemons still running."""
    if _guard_daemons.done:
        return
    _guard_daemons.done = True
    atexit.register(_stop_daemons)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _exit_on_signal)


_guard_daemons.done = False


def read_line(s):
    """One reply line from socket s: (line without '\\n', bytes after it).
    ConnectionError if the daemon closes first."""
    buf = bytearray()
    while True:
        nl = buf.find(b"\n")
        if nl >= 0:
            return bytes(buf[:nl]), bytes(buf[nl + 1:])
        chunk = s.recv(1 << 20)
        if not chunk:
            raise ConnectionError("closed before the reply")
        buf += chunk


def request(sock_path, req, timeout=None):
    """Sends req on a new connection (as sweepctl does) and returns the
    parsed reply, ok or not."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall((json.dumps(req) + "\n").encode())
        return json.loads(read_line(s)[0])
    finally:
        s.close()


def start_daemon(build, state, log="bench.log", workers=2, extra=()):
    """Starts BUILD's sweepd on state (--workers workers, its log in
    state/log, extra arguments appended) and waits until it answers a
    ping. Returns (Popen, socket path). A daemon still running when the
    bench exits (an exception, SIGTERM, SIGHUP) is terminated then."""
    exe = os.path.join(build, "sweepd")
    if not os.path.exists(exe):
        exe = os.path.join(build, "daemon", "sweepd")
    _guard_daemons()
    p = subprocess.Popen([exe, "--state-dir", state, "--workers", str(workers),
                          "--log", os.path.join(state, log), *extra])
    _daemons.append(p)
    sock = os.path.join(state, "sweepd.sock")
    for _ in range(1000):
        try:
            if request(sock, {"op": "ping"})["ok"]:
                return p, sock
        except OSError:
            time.sleep(0.01)
    raise SystemExit("sweepd did not start")


def proc_mb(pid, key):
    """A memory figure of /proc/PID/status (VmRSS, VmHWM, ...) in MiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def fake_sweep(build, name, epochs, trials=1, parallel=1):
    """A sweep spec of BUILD's fake trainer (tests/trainers) writing epochs
    epoch lines as fast as it can, trials trials, parallel at a time."""
    fake = os.path.join(build, "tests", "trainers", "fake_trainer")
    return {"name": name, "trainer": {"command": [fake]},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"epochs": epochs},
            "search": {"algorithm": "random", "trials": trials,
                       "parallel": parallel, "seed": 1}}
