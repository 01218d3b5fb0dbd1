"""Access control: only the daemon's own user may talk to it."""
import os
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, Skip, run_tests

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


TESTS = [_state_dir_and_socket_are_private, _peer_of_another_uid_is_refused]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
