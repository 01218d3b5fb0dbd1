#!/usr/bin/env python3
"""Dispatch benchmark for sweepd (issue 2's figures). Not a test.

  bench/daemon/bench_dispatch.py BUILD_DIR [--trials 2000] [--idle 60]
      [--latency-trials 10000] [--requests 5000] [--clients 20]
      [--limit N] [--pipeline K] [--sweepd-arg ARG] [--fill N]
      [--repeat N] [--skip-throughput] [--skip-latency]

1. Throughput: first the machine's limit, the rate at which this machine
   posix_spawns (new session) and reaps the same trivial trainer, 2 at a
   time, with no daemon (taken before and again after sweepd's run: the
   ratio is against their mean); then a sweep of --trials such trials
   (tests/trainers/fake_trainer: 5 epochs, no sleep), parallel 2, --workers
   2: trials/s overall and as a ratio of the limit, over the first 500 and
   over the last 500 (by end time; half the trials each below 1,000), the
   daemon's CPU time per trial (with and without the 20 ms status polls,
   whose cost is measured after the run), and its RSS after. With --fill N, the same
   daemon first runs a sweep of N such trials (10 epochs each; not timed),
   so that the timed sweep is dispatched by a daemon with that much more
   in its database and heap (its RSS is printed before the timed sweep).
   With --repeat N, N such runs one after the other, and then the median
   (and range) of their ratios, last/first and CPU per trial: the limit
   moves by a tenth or more between runs on a quiet 2-core machine.
2. Idle CPU: the daemon's user+system CPU time over --idle seconds with
   nothing to do.
3. Latency: with --latency-trials trials of 10 epochs each in the database
   (100,000 epoch rows for 10,000), --clients concurrent clients send
   --requests requests in all, half `best` and half `trials`: median and
   p99 per op, and the daemon's resident memory before and at its peak
   while they run (VmRSS sampled every 10 ms, and VmHWM). With --limit N,
   each `trials` request asks for one page of N trials (offsets go round
   the sweep) instead of all of them. With --pipeline K, each client sends
   K requests at once on one connection before it reads their replies (the
   latency of each is then from that send).
The load average is printed at the start and the end: the figures mean
little on a busy machine.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import request, start_daemon  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def pipelined(sock_path, reqs):
    """Sends every request of reqs at once on one connection, then reads
    the replies; returns them with the seconds each took from the send."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    t0 = time.perf_counter()
    s.sendall(b"".join((json.dumps(r) + "\n").encode() for r in reqs))
    out, buf = [], bytearray()
    while len(out) < len(reqs):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
        *lines, rest = buf.split(b"\n")
        buf = bytearray(rest)
        for line in lines:
            out.append((json.loads(line), time.perf_counter() - t0))
    s.close()
    return out


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime + stime


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def rss_kb(pid):
    return status_kb(pid, "VmRSS")


def loadavg():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def wait_done(sock, sid, every=0.02, polls=None):
    """Polls the sweep's status every `every` s: a watch subscription would
    add an event per epoch to what is measured. 20 ms: a 2,000-trial run
    lasts 3-5 s, so a 0.5 s poll moved its rate by up to 15%; a poll costs
    the daemon about 0.1-0.2 ms (poll_cpu). polls, a list: the number of
    polls made is appended."""
    n = 0
    while True:
        s = request(sock, {"op": "sweep", "sweep": sid})["sweep"]
        n += 1
        if s["status"] != "running":
            if polls is not None:
                polls.append(n)
            return s
        time.sleep(every)


def run_ns(pid):
    """CPU time of pid's main thread (the loop's), in ns:
    /proc/PID/schedstat, finer than the stat file's clock ticks."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def poll_cpu(pid, sock, sid, n=1000):
    """The daemon's CPU for one status poll of sweep sid (ended), in s:
    n polls back to back, as wait_done makes them."""
    t0 = run_ns(pid)
    for _ in range(n):
        request(sock, {"op": "sweep", "sweep": sid})
    return (run_ns(pid) - t0) / 1e9 / n


def wait_watching(sock, sid):
    """Blocks on a watch subscription until sweep_ended."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall((json.dumps({"op": "watch", "sweep": sid}) + "\n").encode())
    buf = b""
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        buf += chunk
        if b'"sweep_ended"' in buf:
            break
        buf = buf[buf.rfind(b"\n") + 1:] if b"\n" in buf else buf
    s.close()
    return request(sock, {"op": "sweep", "sweep": sid})["sweep"]


def spec(fake, trials, epochs):
    return {"name": "bench", "trainer": {"command": [fake]},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"epochs": epochs, "x": {"uniform": [0, 1]}},
            "search": {"algorithm": "random", "trials": trials, "parallel": 2,
                       "seed": 1}}


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def machine_limit(fake, n, parallel=2):
    """Trials/s with no daemon: posix_spawn (a new session, as sweepd
    does) the same trivial trainer with the same params, `parallel` at a
    time, its report to /dev/null, and reap it; n runs in all."""
    env = dict(os.environ, SWEEP_PARAMS=json.dumps({"epochs": 5, "x": 0.5}),
               SWEEP_SEED="1")
    env.pop("SWEEP_REPORT_FD", None)
    null = [(os.POSIX_SPAWN_OPEN, fd, "/dev/null", os.O_RDWR, 0) for fd in (0, 1, 2)]
    running, started, failed = 0, 0, 0
    t0 = time.perf_counter()
    while started < n or running:
        while running < parallel and started < n:
            os.posix_spawn(fake, [fake], env, file_actions=null, setsid=True)
            running += 1
            started += 1
        _, status = os.wait()
        running -= 1
        failed += status != 0
    dt = time.perf_counter() - t0
    if failed:
        raise SystemExit("machine limit: %d of %d trainer runs failed" % (failed, n))
    return n / dt


def windows(trials):
    """(window, first-window rate, last-window rate): 500 trials, or half
    of them when there are fewer than 1,000."""
    ends = sorted(t["ended_at"] for t in trials)
    starts = sorted(t["started_at"] for t in trials)
    w = min(500, len(trials) // 2)
    if w < 1 or ends[w - 1] <= starts[0] or ends[-1] <= ends[-w - 1]:
        return w, float("nan"), float("nan")
    return w, w / (ends[w - 1] - starts[0]), w / (ends[-1] - ends[-w - 1])


def throughput(args, fake):
    # The limit moves by a third between runs a minute apart on a quiet
    # 2-core machine: it is taken right before and right after sweepd's
    # run, and sweepd's rate is given against their mean.
    before = machine_limit(fake, args.trials)
    print("machine limit before: posix_spawn + reap of the trainer, parallel 2, "
          "no daemon, %d runs: %.0f trials/s" % (args.trials, before))
    state = tempfile.mkdtemp(prefix="sweepd-bench-")
    p, sock = start_daemon(args.build, state, extra=args.sweepd_arg)
    try:
        tck = os.sysconf("SC_CLK_TCK")
        if args.fill:
            t0 = time.time()
            fid = request(sock, {"op": "submit", "spec": spec(fake, args.fill, 10)})["sweep_id"]
            wait_done(sock, fid)
            print("filled %d trials x 10 epochs in %.1f s: daemon RSS %d kB before the "
                  "timed sweep" % (args.fill, time.time() - t0, rss_kb(p.pid)))
        k0 = request(sock, {"op": "stats"}).get("commits")
        c0 = cpu_ticks(p.pid)
        t0 = time.time()
        sid = request(sock, {"op": "submit", "spec": spec(fake, args.trials, 5)})["sweep_id"]
        polls = []
        s = wait_done(sock, sid, polls=polls)
        wall = time.time() - t0
        cpu = (cpu_ticks(p.pid) - c0) / tck
        k1 = request(sock, {"op": "stats"}).get("commits")
        after = machine_limit(fake, args.trials)
        limit = (before + after) / 2
        print("machine limit after: %.0f trials/s; their mean: %.0f trials/s"
              % (after, limit))
        trials = request(sock, {"op": "trials", "sweep": sid})["trials"]
        w, first, last = windows(trials)
        rate = len(trials) / wall
        span = max(t["ended_at"] for t in trials) - min(t["started_at"] for t in trials)
        own = len(trials) / span if span > 0 else float("nan")
        print("throughput: %d trials (5 epochs each), parallel 2, %s in %.2f s: "
              "%.0f trials/s = %.2f of the machine limit (%.0f/s = %.2f from the trials' "
              "own first start to last end); first %d: %.0f/s, last %d: %.0f/s "
              "(last/first %.2f)"
              % (len(trials), s["status"], wall, rate, rate / limit, own, own / limit,
                 w, first, w, last, last / first))
        print("daemon CPU: %.2f s for %d trials = %.2f ms per trial (the 20 ms status "
              "polls included)" % (cpu, len(trials), 1e3 * cpu / max(1, len(trials))))
        if k0 is not None and k1 is not None:
            print("database commits: %d for %d trials = %.2f per trial (the "
                  "status polls' none)" % (k1 - k0, len(trials),
                                           (k1 - k0) / max(1, len(trials))))
        each = poll_cpu(p.pid, sock, sid)
        print("status polls: %d during the run, %.3f ms of the daemon's CPU each "
              "(1,000 more after it): %.2f ms per trial; the daemon's CPU without "
              "them: %.2f ms per trial"
              % (polls[0], 1e3 * each, 1e3 * each * polls[0] / max(1, len(trials)),
                 1e3 * (cpu - each * polls[0]) / max(1, len(trials))))
        print("daemon RSS after %d trials: %d kB" % (len(trials), rss_kb(p.pid)))
        c0 = cpu_ticks(p.pid)
        time.sleep(args.idle)
        c1 = cpu_ticks(p.pid)
        print("idle CPU over %d s: %.3f s" % (args.idle, (c1 - c0) / tck))
        return {"ratio": rate / limit, "last_first": last / first,
                "cpu_ms": 1e3 * (cpu - each * polls[0]) / max(1, len(trials))}
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(state, ignore_errors=True)


def latency(args, fake):
    state = tempfile.mkdtemp(prefix="sweepd-bench-")
    p, sock = start_daemon(args.build, state)
    try:
        t0 = time.time()
        sid = request(sock, {"op": "submit",
                             "spec": spec(fake, args.latency_trials, 10)})["sweep_id"]
        wait_done(sock, sid)
        print("filled %d trials x 10 epochs in %.1f s" %
              (args.latency_trials, time.time() - t0))
        lat = {"best": [], "trials": []}
        errors = []
        per = args.requests // args.clients

        def make(k, i):
            op = "best" if (i + k) % 2 == 0 else "trials"
            req = {"id": i, "op": op, "sweep": sid}
            if op == "trials" and args.limit:
                req["limit"] = args.limit
                req["offset"] = (k * per + i) * args.limit % args.latency_trials
            return req

        def client(k):
            if args.pipeline > 1:
                for i in range(0, per, args.pipeline):
                    reqs = [make(k, j) for j in range(i, min(per, i + args.pipeline))]
                    ops = {q["id"]: q["op"] for q in reqs}
                    for r, dt in pipelined(sock, reqs):
                        lat[ops[r["id"]]].append(dt)
                        if not r.get("ok"):
                            errors.append(r)
                return
            for i in range(per):
                req = make(k, i)
                t = time.perf_counter()
                r = request(sock, req)
                lat[req["op"]].append(time.perf_counter() - t)
                if not r.get("ok"):
                    errors.append(r)

        peak = [rss_kb(p.pid)]
        running = [True]

        def sample():
            while running[0]:
                peak[0] = max(peak[0], rss_kb(p.pid))
                time.sleep(0.01)

        rss0 = peak[0]
        sampler = threading.Thread(target=sample)
        sampler.start()
        th = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        t0 = time.time()
        for t in th:
            t.start()
        for t in th:
            t.join()
        wall = time.time() - t0
        running[0] = False
        sampler.join()
        for op, v in lat.items():
            print("%-6s %5d requests, %d clients: median %.2f ms, p99 %.2f ms"
                  % (op, len(v), args.clients, 1e3 * pct(v, 0.5), 1e3 * pct(v, 0.99)))
        print("errors: %d; %d requests in %.1f s" % (len(errors), per * args.clients, wall))
        print("daemon RSS: %d kB before the clients, peak %d kB while they ran "
              "(VmHWM %d kB), %d kB after" % (rss0, peak[0],
                                              status_kb(p.pid, "VmHWM"), rss_kb(p.pid)))
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(state, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--idle", type=int, default=60)
    ap.add_argument("--latency-trials", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--limit", type=int, default=0,
                    help="trials requests ask for pages of this many")
    ap.add_argument("--pipeline", type=int, default=1,
                    help="requests each client sends before reading")
    ap.add_argument("--sweepd-arg", action="append", default=[],
                    help="an argument for sweepd in the throughput run "
                    "(--no-cgroups, say); repeatable")
    ap.add_argument("--fill", type=int, default=0,
                    help="trials the throughput daemon runs before the timed sweep")
    ap.add_argument("--repeat", type=int, default=1,
                    help="throughput runs, each with its own limits and "
                    "daemon; more than one adds their medians")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    args = ap.parse_args()
    fake = os.path.join(args.build, "tests", "trainers", "fake_trainer")
    print(loadavg(), "at the start")
    if not args.skip_throughput:
        runs = []
        for i in range(max(1, args.repeat)):
            if args.repeat > 1:
                print("-- throughput run %d of %d (%s)" % (i + 1, args.repeat, loadavg()))
            runs.append(throughput(args, fake))
        if len(runs) > 1:
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print("over %d runs: ratio median %.2f (%.2f-%.2f), last/first median %.2f, "
                  "daemon CPU without the polls median %.2f ms per trial"
                  % (len(runs), med["ratio"], min(r["ratio"] for r in runs),
                     max(r["ratio"] for r in runs), med["last_first"], med["cpu_ms"]))
    if not args.skip_latency:
        latency(args, fake)
    print(loadavg(), "at the end")


if __name__ == "__main__":
    main()
