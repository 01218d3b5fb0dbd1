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


# docs/pytorch.md's ten lines, with a tiny net (dropout, so torch's RNG
# matters) around them: what the doc tells a user to add must resume.
TEN_LINES_AROUND = """
import json, sys, torch
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.3),
                          torch.nn.Linear(8, 2))
opt = torch.optim.Adam(net.parameters(), lr=0.05)
x, y, epochs = torch.randn(64, 4), torch.randint(0, 2, (64,)), 4
"""
TRAIN_STEP = """
    idx = torch.randperm(64)[:32]
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(net(x[idx]), y[idx])
    loss.backward(); opt.step()
    val_loss, val_acc = float(loss), float((net(x).argmax(1) == y).float().mean())
"""


def ten_lines():
    import re
    with open(os.path.join(ROOT, "docs", "pytorch.md")) as f:
        text = f.read()
    sec = text[text.index("## Checkpoints and resume"):]
    (code,) = re.findall(r"```python\n(.*?)```", sec, re.S)[:1]
    lines = [l for l in code.splitlines() if l.strip()]
    # the loop, its body and its report line are the user's already
    added = [l for l in lines if not l.lstrip().startswith(("for ", "...", "sweepd.report"))]
    assert len(added) <= 10, "the doc promises ten lines: %d" % len(added)
    step = [l for l in lines if l.strip().startswith("...")]
    assert len(step) == 1, lines
    return TEN_LINES_AROUND + code.replace(step[0], TRAIN_STEP.strip("\n"))


def test_pytorch_doc_ten_lines_resume_exactly(tmp_path):
    need_torch()
    script = tmp_path / "train.py"
    script.write_text(ten_lines())
    tdir = tmp_path / "trial"
    tdir.mkdir()

    def run(**extra):
        p = subprocess.run([PY, str(script)], env=py_env(SWEEP_TRIAL_DIR=str(tdir), **extra),
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        return [l for l in p.stdout.splitlines() if l.startswith("SWEEP ")]

    full = run()
    assert len(full) == 4 and '"epoch":1,' in full[0], full
    assert sorted(os.listdir(tdir)) == ["checkpoint-%d.pt" % e for e in (1, 2, 3, 4)]
    resumed = run(SWEEP_RESUME="1", SWEEP_RESUME_EPOCH="2")
    assert resumed == full[2:], (resumed, full)
    # no checkpoint of K: starts over, the same run again
    os.remove(tdir / "checkpoint-3.pt")
    assert run(SWEEP_RESUME="1", SWEEP_RESUME_EPOCH="3") == full
