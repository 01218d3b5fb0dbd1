"""examples/pytorch_bnnet.py, the PyTorch BNNet trainer: by hand (report
lines, refused params, SIGTERM) and end to end through a real sweepd.

Skips when Debian's /usr/bin/python3 cannot import torch
(apt-get install python3-torch) or the Fashion-MNIST files are missing
(apt-get install dataset-fashion-mnist).
"""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, Skip, run_tests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "examples", "pytorch_bnnet.py")
CONFIG = os.path.join(ROOT, "configs", "pytorch-bnnet.json")
PY = "/usr/bin/python3"
DATA = "/usr/share/datasets/fashion-mnist"
EPOCH_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")

_torch_ok = None


def need_torch():
    global _torch_ok
    if _torch_ok is None:
        try:
            _torch_ok = subprocess.run([PY, "-c", "import torch"], capture_output=True,
                                       timeout=120).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _torch_ok = False
    if not _torch_ok:
        raise Skip("%s cannot import torch (apt-get install python3-torch)" % PY)
    for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        if not os.path.exists(os.path.join(DATA, f)):
            raise Skip("%s missing (apt-get install dataset-fashion-mnist)" % f)


def run_script(params, seed=5, timeout=300, report_fd=True, extra_env=None):
    """Runs the trainer with the report on fd 3 (or stdout); returns
    (exit status, report lines as objects, stdout, stderr)."""
    env = dict(os.environ, SWEEP_PARAMS=json.dumps(params), SWEEP_SEED=str(seed),
               **(extra_env or {}))
    env.pop("SWEEP_REPORT_FD", None)
    if not report_fd:
        p = subprocess.run([PY, SCRIPT], env=env, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, [unprefix(l) for l in p.stdout.splitlines()], p.stdout, p.stderr
    r, w = os.pipe()
    env["SWEEP_REPORT_FD"] = "3"

    def report_on_3():
        # The pipe's write end as fd 3 in the child, like sweepd does it.
        if w != 3:
            os.dup2(w, 3)       # the copy is inheritable; w closes on exec
        else:
            os.set_inheritable(3, True)
    p = subprocess.Popen([PY, SCRIPT], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, close_fds=False,
                         preexec_fn=report_on_3)
    os.close(w)
    with os.fdopen(r) as f:
        report = f.read()
    out, err = p.communicate(timeout=timeout)
    return p.returncode, [json.loads(l) for l in report.splitlines()], out, err


def unprefix(line):
    """A stdout report line: the SWEEP prefix, then the JSON object."""
    assert line.startswith("SWEEP "), line
    return json.loads(line[len("SWEEP "):])


def check_epoch(line, n, layers=3):
    assert line["epoch"] == n, line
    for k in EPOCH_KEYS:
        assert isinstance(line[k], float) and math.isfinite(line[k]), (k, line)
    assert 0 <= line["train_acc"] <= 1 and 0 <= line["val_acc"] <= 1, line
    assert line["train_loss"] > 0 and line["val_loss"] > 0, line
    g = line["grad_norm"]
    assert len(g) == layers and all(isinstance(x, float) and x > 0 for x in g), line


def test_by_hand_one_epoch():
    need_torch()
    params = {"epochs": 1, "train_fraction": 0.05, "lr": 0.003, "batch_size": 64,
              "optimizer": "adam"}
    rc, lines, out, err = run_script(params)
    assert rc == 0, (rc, err)
    assert out == "", out            # with SWEEP_REPORT_FD, stdout stays clean
    assert len(lines) == 2, lines
    check_epoch(lines[0], 1)
    assert lines[0]["lr"] == 0.003, lines[0]
    assert lines[0]["val_acc"] > 0.5, lines[0]      # 2,500 samples: well above 10%
    fin = lines[1]
    assert fin["final"] is True and fin["best_epoch"] == 1, fin
    assert 0.5 < fin["test_acc"] <= 1 and math.isfinite(fin["test_loss"]), fin
    # Same seed, same run; SWEEP_REPORT_FD unset reports on stdout.
    rc2, lines2, _, err2 = run_script(params, report_fd=False)
    assert rc2 == 0, err2
    for a, b in zip(lines, lines2):
        a.pop("seconds", None), b.pop("seconds", None)
    assert lines == lines2, (lines, lines2)


def test_two_epochs_options():
    need_torch()
    # No batchnorm, tanh, dropout, one hidden layer, patience: still the protocol.
    params = {"epochs": 2, "train_fraction": 0.05, "batchnorm": False, "activation": "tanh",
              "dropout": 0.2, "hidden": [32], "optimizer": "momentum", "lr": 0.01,
              "patience": 3, "weight_decay": 1e-4, "val_size": 5000}
    rc, lines, _, err = run_script(params)
    assert rc == 0, (rc, err)
    assert len(lines) == 3, lines
    check_epoch(lines[0], 1, layers=2)
    check_epoch(lines[1], 2, layers=2)
    assert lines[2]["final"] is True and lines[2]["best_epoch"] in (1, 2), lines[2]


def test_checkpoints_and_bit_exact_resume():
    """With SWEEP_TRIAL_DIR: checkpoint-E.pt (last three) and best.pt;
    resumed after epoch 1 it reports epochs 2, 3 and the final line of the
    uninterrupted run exactly; a corrupt checkpoint is refused, saying so,
    and the run starts over with the same curve."""
    need_torch()
    params = {"epochs": 3, "train_fraction": 0.02, "dropout": 0.1, "optimizer": "adam"}
    tdir = tempfile.mkdtemp(prefix="bnnet-ckpt-")
    try:
        def strip(lines):
            return [dict((k, v) for k, v in l.items() if k != "seconds") for l in lines]
        rc, ref, _, err = run_script(params, extra_env={"SWEEP_TRIAL_DIR": tdir})
        assert rc == 0, err
        assert sorted(os.listdir(tdir)) == ["best.pt", "checkpoint-1.pt", "checkpoint-2.pt",
                                            "checkpoint-3.pt"]
        resume = {"SWEEP_TRIAL_DIR": tdir, "SWEEP_RESUME": "1", "SWEEP_RESUME_EPOCH": "1"}
        rc, lines, _, err = run_script(params, extra_env=resume)
        assert rc == 0, err
        assert strip(lines) == strip(ref[1:]), (lines, ref)
        with open(os.path.join(tdir, "checkpoint-2.pt"), "r+b") as f:
            f.truncate(100)
        rc, lines, _, err = run_script(params, extra_env=dict(resume,
                                                              SWEEP_RESUME_EPOCH="2"))
        assert rc == 0, err
        assert "cannot resume after epoch 2" in err and "starting over" in err, err
        assert strip(lines) == strip(ref), (lines, ref)
    finally:
        shutil.rmtree(tdir, ignore_errors=True)


def test_unknown_param_exits_2():
    need_torch()
    rc, lines, _, err = run_script({"epochs": 1, "learning_rate": 0.1})
    assert rc == 2, (rc, err)
    assert "learning_rate" in err and "unknown" in err, err
    assert lines == [], lines
    # A bad value is refused the same way, naming the field.
    rc, lines, _, err = run_script({"optimizer": "adagrad"})
    assert rc == 2 and "'optimizer'" in err and "adagrad" in err, (rc, err)
    rc, lines, _, err = run_script({"batch_size": 12.5})
    assert rc == 2 and "'batch_size'" in err, (rc, err)


def test_sigterm_stops_promptly():
    need_torch()
    env = dict(os.environ, SWEEP_SEED="1",
               SWEEP_PARAMS=json.dumps({"epochs": 100000, "train_fraction": 0.02}))
    env.pop("SWEEP_REPORT_FD", None)
    p = subprocess.Popen([PY, SCRIPT], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()     # training has started
        assert unprefix(first)["epoch"] == 1, first
        t = time.time()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=5)
        took = time.time() - t
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    rest = p.stdout.read()
    p.stdout.close()
    p.stderr.close()
    # Stopped within a batch, without a final line: 143, as if killed by it.
    assert p.returncode == 128 + signal.SIGTERM, p.returncode
    assert took < 3, took
    assert '"final"' not in rest, rest


def test_sweep_end_to_end():
    need_torch()
    with open(CONFIG) as f:
        spec = json.load(f)
    assert spec["trainer"]["command"][0] == PY, spec
    # The shipped config, shrunk: 2 trials of 2 epochs on 5% of the data.
    spec["name"] = "pytorch-bnnet-test"
    spec["trainer"] = {"command": [PY, SCRIPT], "cwd": ROOT}
    spec["space"]["epochs"] = 2
    spec["space"]["train_fraction"] = 0.05
    spec["search"] = dict(spec["search"], trials=2, parallel=2)
    d = Daemon(workers=2).start()
    try:
        sid = d.submit(spec)
        s = d.wait_sweep(sid, timeout=240)
        assert s["status"] == "completed", (s, d.log_text()[-3000:])
        ts = d.trials(sid)
        assert len(ts) == 2, ts
        for t in ts:
            assert t["status"] == "completed", t
            assert isinstance(t["objective"], float) and 0 < t["objective"] <= 1, t
            assert t["best_epoch"] in (1, 2), t
            assert t["params"]["epochs"] == 2, t
            assert t["params"]["optimizer"] in ("sgd", "momentum", "adam", "rmsprop"), t
            one = d.ok({"op": "trial", "sweep": sid, "number": t["number"]})["trial"]
            curve = one["curve"]
            assert [e["epoch"] for e in curve] == [1, 2], one
            for e in curve:
                for k in ("train_loss", "train_acc", "val_loss", "val_acc"):
                    assert isinstance(e[k], float) and math.isfinite(e[k]), (k, e)
            assert one["objective"] == max(e["val_acc"] for e in curve), one
            assert math.isclose(one["params"]["lr"], t["params"]["lr"]), one
        # Each trial got its own params (random search, seed 1).
        assert ts[0]["params"] != ts[1]["params"], ts
    finally:
        d.cleanup()


def test_shipped_config_via_sweepctl():
    """configs/pytorch-bnnet.json as shipped: sweepctl resolves the relative
    script path from configs/, and its trials report epochs. Cancelled after
    the first reported epoch (the whole sweep takes minutes)."""
    need_torch()
    d = Daemon(workers=2).start()
    try:
        p = d.ctl("submit", CONFIG, check=0)
        sid = int(p.stdout.strip())

        def first_epoch():
            ts = d.trials(sid)
            bad = [t for t in ts if t["status"] == "failed"]
            assert not bad, bad
            return [t for t in ts if (t.get("epochs") or 0) >= 1]
        end = time.time() + 180
        started = []
        while time.time() < end and not started:
            started = first_epoch()
            time.sleep(0.2)
        assert started, (d.trials(sid), d.log_text()[-3000:])
        t = started[0]
        one = d.ok({"op": "trial", "sweep": sid, "number": t["number"]})["trial"]
        assert one["curve"][0]["epoch"] == 1 and 0 < one["curve"][0]["val_acc"] <= 1, one
        assert one["params"]["epochs"] == 10, one
        d.ctl("cancel", str(sid), check=0)
        s = d.wait_sweep(sid, timeout=30)
        assert s["status"] == "cancelled", s
    finally:
        d.cleanup()


if __name__ == "__main__":
    sys.exit(run_tests([test_by_hand_one_epoch, test_two_epochs_options,
                        test_checkpoints_and_bit_exact_resume,
                        test_unknown_param_exits_2, test_sigterm_stops_promptly,
                        test_sweep_end_to_end, test_shipped_config_via_sweepctl]))
