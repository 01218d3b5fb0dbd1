"""examples/notebook_asktell.py, the ask-and-tell notebook, run as a
script against a real daemon (small: 3 trials of 2 epochs on 2% of the
data). Skips without Debian's python3-torch or the Fashion-MNIST files."""
import os
import subprocess

import pytest

from conftest import ROOT, py_env

PY = "/usr/bin/python3"
DATA = "/usr/share/datasets/fashion-mnist"


def need_torch():
    try:
        ok = subprocess.run([PY, "-c", "import torch"], capture_output=True,
                            timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        pytest.skip("%s cannot import torch (apt-get install python3-torch)" % PY)
    if not os.path.exists(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")):
        pytest.skip("%s missing (apt-get install dataset-fashion-mnist)" % DATA)


def test_notebook_asktell_runs_a_sweep(daemon, client):
    need_torch()
    env = py_env(SWEEP_STATE_DIR=daemon.dir, NB_TRIALS="3", NB_EPOCHS="2",
                 NB_TRAIN_FRACTION="0.02")
    p = subprocess.run([PY, os.path.join(ROOT, "examples", "notebook_asktell.py")],
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "best: trial" in p.stdout, p.stdout
    (s,) = client.sweeps()
    assert s["status"] == "completed", s
    trials = client.trials(s["id"])
    assert len(trials) == 3
    assert all(t["status"] in ("completed", "pruned") for t in trials), trials
    done = [t for t in trials if t["status"] == "completed"]
    assert done and all(0 < t["test_acc"] <= 1 for t in done), done
    full = client.trial(s["id"], done[0]["number"])
    assert len(full["curve"]) == 2 and full["diagnosis"]["verdict"]
