#!/usr/bin/env python3
"""Stalled-watcher benchmark for sweepd (issue 11, item 9). Not a test.

  bench/daemon/bench_watchers.py BUILD_DIR [--watchers 100] [--epochs 3000]

One daemon (--workers 2) and a sweep of 2 fake trainers writing --epochs
epochs each as fast as they can. --watchers connections subscribe to it
(`watch`, receive buffer 4 KiB) and never read. Printed: the daemon's peak
RSS (VmHWM) and its largest queued_output_bytes seen while the sweep runs,
how many watchers it disconnected, and its RSS once the sweep has ended and
every watcher is closed; then the database commits (stats `commits`) per
epoch and the daemon's CPU time over the sweep. --watchers 1 --read: one
watcher that reads every event, as `sweepctl watch` does.
"""
import argparse
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import fake_sweep, proc_mb, request, start_daemon  # noqa: E402


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain(s):
    try:
        while s.recv(1 << 16):
            pass
    except OSError:
        pass


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
    ap.add_argument("--read", action="store_true",
                    help="the watchers read what they are sent")
    a = ap.parse_args()
    state = tempfile.mkdtemp(prefix="sweepd-watch-")
    proc, sock = start_daemon(a.build, state)
    socks = []
    try:
        spec = fake_sweep(a.build, "watched", a.epochs, trials=2, parallel=2)
        base = proc_mb(proc.pid, "VmRSS")
        k0 = request(sock, {"op": "stats"}).get("commits")
        c0 = cpu_s(proc.pid)
        sid = request(sock, {"op": "submit", "spec": spec})["sweep_id"]
        for _ in range(a.watchers):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(sock)
            s.sendall(b'{"op":"watch","sweep":%d}\n' % sid)
            socks.append(s)
        if a.read:
            for s in socks:
                threading.Thread(target=drain, args=(s,), daemon=True).start()
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
        cpu = cpu_s(proc.pid) - c0
        k1 = request(sock, {"op": "stats"}).get("commits")
        peak = proc_mb(proc.pid, "VmHWM")
        during = proc_mb(proc.pid, "VmRSS")
        dropped = sum(closed_by_daemon(s) for s in socks)
        for s in socks:
            s.close()
        time.sleep(0.5)
        request(sock, {"op": "ping"})
        after = proc_mb(proc.pid, "VmRSS")
        print("%d %s watchers, 2 x %d epochs in %.1f s" %
              (a.watchers, "reading" if a.read else "stalled", a.epochs, took))
        print("RSS: %.0f MiB at start, peak %.0f MiB, %.0f MiB at the sweep's "
              "end, %.0f MiB after the watchers left" % (base, peak, during,
                                                         after))
        print("queued_output_bytes max %.1f MiB; watchers disconnected by the "
              "daemon: %d of %d" % (queued / 1048576.0, dropped, a.watchers))
        if k0 is not None and k1 is not None:
            print("commits: %d for 2 x %d epochs = %.3f per epoch; daemon CPU "
                  "%.2f s = %.1f us per epoch" % (k1 - k0, a.epochs,
                                               (k1 - k0) / (2.0 * a.epochs),
                                               cpu, 1e6 * cpu / (2.0 * a.epochs)))
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        proc.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
