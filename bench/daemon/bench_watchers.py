#!/usr/bin/env python3
"""Stalled-watcher benchmark for sweepd (issue 11, item 9). Not a test.

  bench/daemon/bench_watchers.py BUILD_DIR [--watchers 100] [--epochs 3000]

One daemon (--workers 2) and a sweep of 2 fake trainers writing --epochs
epochs each as fast as they can. --watchers connections subscribe to it
(`watch`, receive buffer 4 KiB) and never read. Printed: the daemon's peak
RSS (VmHWM) and its largest queued_output_bytes seen while the sweep runs,
how many watchers it disconnected, and its RSS once the sweep has ended and
every watcher is closed.
"""
import argparse
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import fake_sweep, proc_mb, request, start_daemon  # noqa: E402


def closed_by_daemon(s):
    s.settimeout(0.5)
    try:
        while s.recv(1 << 16):
            pass
        return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--watchers", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=3000)
    a = ap.parse_args()
    state = tempfile.mkdtemp(prefix="sweepd-watch-")
    proc, sock = start_daemon(a.build, state)
    socks = []
    try:
        spec = fake_sweep(a.build, "watched", a.epochs, trials=2, parallel=2)
        base = proc_mb(proc.pid, "VmRSS")
        sid = request(sock, {"op": "submit", "spec": spec})["sweep_id"]
        for _ in range(a.watchers):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(sock)
            s.sendall(b'{"op":"watch","sweep":%d}\n' % sid)
            socks.append(s)
        queued = 0
        t0 = time.time()
        while True:
            st = request(sock, {"op": "stats"})
            queued = max(queued, st["queued_output_bytes"])
            sw = request(sock, {"op": "sweep", "sweep": sid})["sweep"]
            if sw["status"] != "running":
                break
            time.sleep(0.05)
        took = time.time() - t0
        peak = proc_mb(proc.pid, "VmHWM")
        during = proc_mb(proc.pid, "VmRSS")
        dropped = sum(closed_by_daemon(s) for s in socks)
        for s in socks:
            s.close()
        time.sleep(0.5)
        request(sock, {"op": "ping"})
        after = proc_mb(proc.pid, "VmRSS")
        print("%d stalled watchers, 2 x %d epochs in %.1f s" %
              (a.watchers, a.epochs, took))
        print("RSS: %.0f MiB at start, peak %.0f MiB, %.0f MiB at the sweep's "
              "end, %.0f MiB after the watchers left" % (base, peak, during,
                                                         after))
        print("queued_output_bytes max %.1f MiB; watchers disconnected by the "
              "daemon: %d of %d" % (queued / 1048576.0, dropped, a.watchers))
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        proc.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
