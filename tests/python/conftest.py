"""Fixtures for the sweepd package's tests: a real sweepd on a temporary
state dir (tests/integration/sweeplib.py's Daemon) and a Client on it."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import sweeplib  # noqa: E402
import sweepd    # noqa: E402


def need_daemon():
    if not sweeplib.SWEEPD or not os.path.exists(sweeplib.SWEEPD):
        pytest.skip("sweepd not built (SWEEPD unset)")


@pytest.fixture
def daemon():
    need_daemon()
    d = sweeplib.Daemon(workers=2).start()
    try:
        yield d
    finally:
        d.cleanup()


@pytest.fixture
def client(daemon):
    c = sweepd.Client(state_dir=daemon.dir, timeout=30)
    try:
        yield c
    finally:
        c.close()


def fake_spec(**kw):
    if not sweeplib.FAKE:
        pytest.skip("fake trainer not built")
    return sweeplib.fake_spec(**kw)


def manual_spec(trials=4, parallel=1, **top):
    """A sweep whose trials are asked for and told (no process)."""
    spec = {
        "name": "manual",
        "trainer": {"manual": {}},
        "objective": {"metric": "val_acc", "mode": "max"},
        "space": {"x": {"uniform": [0.0, 1.0]}, "epochs": 3},
        "search": {"algorithm": "random", "trials": trials,
                   "parallel": parallel, "seed": 11},
    }
    spec.update(top)
    return spec


def py_env(**extra):
    """The environment for a Python child that imports sweepd."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + (
        ":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for k in [k for k in env if k.startswith("SWEEP_")]:
        del env[k]
    env.update(extra)
    return env
