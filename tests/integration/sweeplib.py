"""Helpers for sweepd's integration tests: a real daemon on a temporary
state dir, a raw socket client, sweepctl, and a small TAP runner.

Paths come from the environment that meson sets: SWEEPD, SWEEPCTL,
FAKE_TRAINER (and SWEEP_WORKER when the built-in trainer is built).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

SWEEPD = os.environ.get("SWEEPD", "")
SWEEPCTL = os.environ.get("SWEEPCTL", "")
FAKE = os.environ.get("FAKE_TRAINER", "")
WORKER = os.environ.get("SWEEP_WORKER", "")
# Optional: run every daemon under valgrind memcheck. The value is the
# directory for the logs, sweepd-vg.PID.log: one per daemon, with the
# summary, plus a short one per trainer spawned (the fork before exec;
# trainers themselves are not traced). The daemon exits 99 on a memory
# error or a definitely lost block. Timeouts are stretched (SLOW).
VALGRIND = os.environ.get("SWEEPD_VALGRIND", "")
SLOW = 8 if VALGRIND else 1
# Set by scripts/sanitize.sh (to the sanitizers' names) when the programs
# under test are built with AddressSanitizer and UBSan: tests that cannot
# hold there skip, saying why.
SANITIZED = os.environ.get("SWEEPD_SANITIZED", "")


def daemon_command(args):
    if not VALGRIND:
        return args
    os.makedirs(VALGRIND, exist_ok=True)
    return ["valgrind", "--tool=memcheck", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--error-exitcode=99",
            "--log-file=" + os.path.join(VALGRIND, "sweepd-vg.%p.log")] + args


class Skip(Exception):
    pass


class Todo(Exception):
    """A test that fails on a known bug not fixed yet: TAP's "not ok ...
    # TODO why" (meson counts it as an expected failure, and its passing
    as unexpected, so the fix is noticed). Raise it with the bug and the
    assertion that failed."""


class Daemon:
    """sweepd running in the foreground on its own temporary state dir."""

    def __init__(self, workers=2, state_dir=None, extra=()):
        self.own_dir = state_dir is None
        self.dir = state_dir or tempfile.mkdtemp(prefix="sweepd-test-")
        self.workers = workers
        self.extra = list(extra)
        self.proc = None
        self.preexec = None   # run in the child before sweepd (rlimits)
        self.sock = os.path.join(self.dir, "sweepd.sock")
        self.log = os.path.join(self.dir, "test.log")
        self._id = 0

    def start(self, wait=True):
        args = [SWEEPD, "--state-dir", self.dir, "--workers", str(self.workers),
                "--log", self.log] + self.extra
        if WORKER:
            args += ["--worker", WORKER]
        self.proc = subprocess.Popen(daemon_command(args),
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     preexec_fn=self.preexec)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10.0):
        end = time.time() + timeout * SLOW
        while time.time() < end:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError("sweepd exited %d: %s" %
                                     (self.proc.returncode, err.decode()))
            try:
                r = self.request({"op": "ping"})
                if r.get("ok"):
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError("sweepd did not answer within %gs" % timeout)

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.sock)
        return s

    def request(self, req, timeout=30):
        """One request on a fresh connection; returns the reply object."""
        self._id += 1
        req = dict(req)
        req.setdefault("id", self._id)
        with self.connect() as s:
            s.settimeout(timeout)
            s.sendall((json.dumps(req) + "\n").encode())
            return json.loads(read_line(s))

    def ok(self, req):
        r = self.request(req)
        if not r.get("ok"):
            raise AssertionError("request %r failed: %r" % (req, r))
        return r

    def submit(self, spec):
        return self.ok({"op": "submit", "spec": spec})["sweep_id"]

    def wait_sweep(self, sweep, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            s = self.ok({"op": "sweep", "sweep": sweep})["sweep"]
            if s["status"] in ("completed", "failed", "cancelled"):
                return s
            time.sleep(0.05)
        raise AssertionError("sweep %d did not end within %gs" % (sweep, timeout))

    def trials(self, sweep):
        return self.ok({"op": "trials", "sweep": sweep})["trials"]

    def ctl(self, *args, check=None, timeout=60):
        """Runs sweepctl; returns CompletedProcess with text output."""
        if not SWEEPCTL or not os.path.exists(SWEEPCTL):
            raise Skip("sweepctl not built")
        p = subprocess.run([SWEEPCTL, "--state-dir", self.dir] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if check is not None and p.returncode != check:
            raise AssertionError("sweepctl %s exited %d (want %d)\nstdout: %s\n"
                                 "stderr: %s" % (" ".join(args), p.returncode,
                                                 check, p.stdout, p.stderr))
        return p

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("sweepd did not stop on signal %d" % sig)
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        try:
            self.stop()
        except AssertionError:
            pass
        if self.own_dir:
            remove_base_cgroup(self.dir)
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""


def base_cgroup(state_dir):
    """The cgroup a daemon on state_dir puts its trials under (trialcg.h:
    sweepd-DEV-INO beside the cgroup this process runs in, where the
    daemon runs too), or None without a cgroup v2 hierarchy."""
    mnt = own = None
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 2 and fields[2] == "cgroup2":
                mnt = fields[1]
                break
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                own = line[3:].strip()
    if not mnt or own is None:
        return None
    st = os.stat(state_dir)
    return os.path.join(mnt + own.rstrip("/"),
                        "sweepd-%d-%d" % (st.st_dev, st.st_ino))


def remove_base_cgroup(state_dir):
    """What a daemon killed with SIGKILL leaves of its trials' cgroups when
    no daemon is started on state_dir again (a test that kills its
    trainers by hand, test_group): the trial cgroups are killed and
    removed, then the base, so that the suite leaves none behind. A
    daemon that stops, or one restarted on the dir, removes them itself."""
    try:
        base = base_cgroup(state_dir)
    except OSError:
        return
    if not base or not os.path.isdir(base):
        return
    for root, _, _ in os.walk(base, topdown=False):
        if root != base:
            try:
                with open(os.path.join(root, "cgroup.kill"), "w") as f:
                    f.write("1")
            except OSError:
                pass
        for _ in range(250):
            try:
                os.rmdir(root)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)   # what was killed is still exiting


def read_line(s, limit=1 << 30):
    buf = bytearray()
    while True:
        nl = buf.find(b"\n")
        if nl >= 0:
            return bytes(buf[:nl])
        chunk = s.recv(65536)
        if not chunk:
            if buf:
                return bytes(buf)
            raise ConnectionError("connection closed")
        buf += chunk
        if len(buf) > limit:
            raise AssertionError("line over limit")


def fake_spec(name="t", trials=4, parallel=2, params=None, **top):
    """A sweep spec that runs the fake trainer."""
    if not FAKE:
        raise Skip("fake trainer not built")
    space = {"epochs": 3}
    space.update(params or {})
    spec = {
        "name": name,
        "trainer": {"command": [FAKE]},
        "objective": {"metric": "val_acc", "mode": "max"},
        "space": space,
        "search": {"algorithm": "random", "trials": trials,
                   "parallel": parallel, "seed": 7},
    }
    spec.update(top)
    return spec


def pids_with_env(marker):
    """pids of live processes whose environment contains marker."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if marker.encode() in f.read():
                    out.append(int(pid))
        except OSError:
            pass
    return out


def session_leaders(mark):
    """pids_with_env("SWEEPTEST_MARK=" + mark) that lead a session: a
    trainer, and a descendant once it has setsid()ed."""
    out = []
    for pid in pids_with_env("SWEEPTEST_MARK=" + mark):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == pid:   # field 6, the session id
            out.append(pid)
    return out


def wait_for(pred, timeout=10.0, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def with_daemon(fn, serving_after=False, **kw):
    """A test that runs fn(d) on a fresh daemon, Daemon(**kw), and removes
    it afterwards. With serving_after, the daemon must still answer a ping
    when fn is done (a fault or bad input must not have stopped it)."""
    def wrapped():
        d = Daemon(**kw).start()
        try:
            fn(d)
            if serving_after:
                assert d.ok({"op": "ping"}), "the daemon stopped serving"
                assert d.proc.poll() is None, "the daemon exited"
        finally:
            d.cleanup()
    wrapped.__name__ = fn.__name__
    return wrapped


def run_tests(tests):
    """Runs each test function; prints TAP. Exit status 1 if any failed."""
    if not SWEEPD or not os.path.exists(SWEEPD):
        print("1..0 # SKIP sweepd not built")
        return 0
    failed = 0
    for i, fn in enumerate(tests, 1):
        try:
            fn()
            print("ok %d - %s" % (i, fn.__name__))
        except Skip as e:
            print("ok %d - %s # SKIP %s" % (i, fn.__name__, e))
        except Todo as e:
            print("not ok %d - %s # TODO %s" % (i, fn.__name__, str(e).splitlines()[0]))
            for line in str(e).splitlines()[1:]:
                print("# " + line)
        except Exception:
            failed += 1
            print("not ok %d - %s" % (i, fn.__name__))
            for line in traceback.format_exc().splitlines():
                print("# " + line)
        sys.stdout.flush()
    print("1..%d" % len(tests))
    return 1 if failed else 0


def slurm_or_skip():
    """Raises Skip, saying why, unless a Slurm cluster answers sinfo with a
    node; scripts/slurm-cluster.sh start makes one (CI does, as root)."""
    conf = os.environ.get("SLURM_CONF", "/etc/slurm/slurm.conf")
    if os.environ.get("SWEEPD_SLURM_SKIP"):   # scripts/test.sh says why
        raise Skip(os.environ["SWEEPD_SLURM_SKIP"])
    if not shutil.which("sinfo"):
        raise Skip("no sinfo on PATH (Slurm not installed; scripts/slurm-cluster.sh "
                   "start installs and starts a test cluster, as root)")
    if not os.path.exists(conf):
        # sinfo would retry a missing config for 60 s
        raise Skip("no Slurm config at %s (scripts/slurm-cluster.sh start, then "
                   "export SLURM_CONF)" % conf)
    try:
        p = subprocess.run(["sinfo", "--noheader", "--format=%T"], capture_output=True,
                           text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise Skip("sinfo (SLURM_CONF=%s) did not answer in 30 s" % conf) from None
    if p.returncode != 0 or not p.stdout.strip():
        raise Skip("sinfo (SLURM_CONF=%s) gives no node: exit %d, %s" %
                   (conf, p.returncode, (p.stderr.strip().splitlines() or [""])[-1]))
