"""bench/benchlib.py: what every benchmark script needs to talk to a real
sweepd: one request on its own connection, and a daemon started on a
state dir. Stdlib only. Not a test."""
import json
import os
import socket
import subprocess
import time


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
    ping. Returns (Popen, socket path)."""
    exe = os.path.join(build, "sweepd")
    if not os.path.exists(exe):
        exe = os.path.join(build, "daemon", "sweepd")
    p = subprocess.Popen([exe, "--state-dir", state, "--workers", str(workers),
                          "--log", os.path.join(state, log), *extra])
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
