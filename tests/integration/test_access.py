"""Access control: only the daemon's own user may talk to it."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, SWEEPD, Skip, run_tests

NOBODY = 65534

CLIENT = r'''
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect-error", e.errno)
    sys.exit(0)
try:
    s.sendall(b'{"id":1,"op":"ping"}\n')
    data = s.recv(4096)
except OSError as e:
    print("recv-error", e.errno)
    sys.exit(0)
print("reply" if data else "closed")
'''


def as_nobody(sock):
    if os.geteuid() != 0 or not shutil.which("runuser"):
        raise Skip("needs root and runuser")
    # nobody may not reach a Python under /root: use the system one.
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    p = subprocess.run(["runuser", "-u", "nobody", "--", py, "-c",
                        CLIENT, sock], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def _state_dir_and_socket_are_private():
    d = Daemon().start()
    try:
        assert stat.S_IMODE(os.stat(d.dir).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(d.sock).st_mode) == 0o600
        out = as_nobody(d.sock)
        assert out.startswith("connect-error"), out
    finally:
        d.cleanup()


def _peer_of_another_uid_is_refused():
    d = Daemon().start()
    try:
        # Open the file modes up: the uid check must refuse on its own.
        os.chmod(d.dir, 0o711)
        os.chmod(d.sock, 0o666)
        out = as_nobody(d.sock)
        assert out in ("closed", "recv-error 104", "recv-error 32"), out
        assert d.ok({"op": "ping"})
        assert "refused a client of another user" in d.log_text()
    finally:
        d.cleanup()


def start_fails(state_dir):
    """sweepd on state_dir: must exit non-zero at once; returns its stderr."""
    p = subprocess.run([SWEEPD, "--state-dir", state_dir, "--log",
                        os.path.join(state_dir, "test.log")],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0, "sweepd started on %s: %s" % (state_dir, p.stderr)
    return p.stderr


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root to chown to nobody")


def _state_dir_of_another_user_is_refused():
    need_root()
    d = tempfile.mkdtemp(prefix="sweepd-test-")
    try:
        os.chown(d, NOBODY, NOBODY)
        os.chmod(d, 0o700)
        err = start_fails(d)
        assert "owned by" in err and "nobody" in err and d in err, err
        assert os.listdir(d) == [], "sweepd touched the dir: %r" % os.listdir(d)
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _parent_another_user_can_change_is_refused():
    """Whoever may rename entries in a parent can swap the whole state dir
    between the checks and the opens: the parents must be root's or ours,
    and not writable by others unless sticky (as /tmp is)."""
    need_root()
    base = tempfile.mkdtemp(prefix="sweepd-test-")
    try:
        parent = os.path.join(base, "p")
        state = os.path.join(parent, "state")
        os.makedirs(state, mode=0o700)
        os.chown(parent, NOBODY, NOBODY)
        os.chmod(parent, 0o755)
        err = start_fails(state)
        assert parent in err and "nobody" in err, err
        os.chown(parent, 0, 0)
        os.chmod(parent, 0o777)
        err = start_fails(state)
        assert parent in err and "writable" in err, err
        assert os.listdir(state) == [], os.listdir(state)
        os.chmod(parent, 0o1777)   # sticky, like /tmp: fine
        d = Daemon(state_dir=state).start()
        try:
            assert d.ok({"op": "ping"})
        finally:
            d.cleanup()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _files_of_another_user_are_refused():
    """A database, socket or log that nobody owns in our own dir."""
    need_root()
    for name in ("sweepd.db", "sweepd.db-wal", "sweepd.sock", "test.log"):
        d = Daemon().start()
        try:
            d.stop()
            path = os.path.join(d.dir, name)
            if not os.path.exists(path):
                open(path, "wb").close()
            os.chown(path, NOBODY, NOBODY)
            before = os.stat(path)
            err = start_fails(d.dir)
            assert "owned by" in err and "nobody" in err and name in err, (name, err)
            after = os.stat(path)
            assert (after.st_uid, after.st_size, after.st_mtime_ns) == \
                (before.st_uid, before.st_size, before.st_mtime_ns), name
        finally:
            d.cleanup()


TESTS = [_state_dir_and_socket_are_private, _peer_of_another_uid_is_refused,
         _state_dir_of_another_user_is_refused, _files_of_another_user_are_refused,
         _parent_another_user_can_change_is_refused]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
