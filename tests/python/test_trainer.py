"""sweepd's trainer side: params, trial_dir, resume_epoch, seed, report,
final, stopping; with fd 3, without it (the SWEEP stdout prefix) and with
fd 3 closed; the lines the daemon would refuse; and a trainer written on
the helper run by a real daemon."""
import json
import math
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import sweepd
import sweeplib
from conftest import py_env, ROOT

PY = sys.executable


def run_py(code, env=None, pass_fds=(), **kw):
    return subprocess.run([PY, "-c", textwrap.dedent(code)], env=env,
                          pass_fds=pass_fds, capture_output=True, text=True,
                          timeout=60, **kw)


# ---- params, trial_dir, resume_epoch, seed ---------------------------------

def test_params_outside_a_sweep_without_defaults_raises(monkeypatch):
    monkeypatch.delenv("SWEEP_PARAMS", raising=False)
    with pytest.raises(sweepd.NoSweepError, match="SWEEP_PARAMS is not set"):
        sweepd.params()


def test_params_outside_a_sweep_gives_the_defaults(monkeypatch):
    monkeypatch.delenv("SWEEP_PARAMS", raising=False)
    d = {"lr": 0.1}
    got = sweepd.params(d)
    assert got == {"lr": 0.1}
    got["lr"] = 5
    assert d == {"lr": 0.1}, "params() must return a copy"


def test_params_in_a_sweep_win_over_defaults(monkeypatch):
    monkeypatch.setenv("SWEEP_PARAMS", '{"lr": 0.5, "hidden": [4, 2]}')
    assert sweepd.params() == {"lr": 0.5, "hidden": [4, 2]}
    assert sweepd.params({"lr": 0.1, "epochs": 3}) == \
        {"lr": 0.5, "epochs": 3, "hidden": [4, 2]}


@pytest.mark.parametrize("text,why", [("{lr", "not valid JSON"),
                                      ("[1]", "must be a JSON object")])
def test_params_bad_json_says_why(monkeypatch, text, why):
    monkeypatch.setenv("SWEEP_PARAMS", text)
    with pytest.raises(ValueError, match=why):
        sweepd.params({"lr": 1})


def test_trial_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SWEEP_TRIAL_DIR", "/tmp/t7")
    assert sweepd.trial_dir() == "/tmp/t7"
    assert sweepd.trial_dir("elsewhere") == "/tmp/t7"
    monkeypatch.delenv("SWEEP_TRIAL_DIR")
    # by hand: the default, created
    d = tmp_path / "ckpt" / "run1"
    assert sweepd.trial_dir(d) == str(d) and d.is_dir()
    assert sweepd.trial_dir(str(d)) == str(d)


def test_trial_dir_without_one_or_default_raises(monkeypatch):
    monkeypatch.delenv("SWEEP_TRIAL_DIR", raising=False)
    monkeypatch.delenv("SWEEP_PARAMS", raising=False)
    with pytest.raises(sweepd.NoSweepError, match="not a sweepd trial"):
        sweepd.trial_dir()
    monkeypatch.setenv("SWEEP_PARAMS", "{}")
    monkeypatch.setenv("SWEEP_TRIAL_DIR", "")
    with pytest.raises(sweepd.NoSweepError, match="gives its trials no directory"):
        sweepd.trial_dir()


def test_resume_epoch(monkeypatch):
    monkeypatch.delenv("SWEEP_RESUME", raising=False)
    monkeypatch.delenv("SWEEP_RESUME_EPOCH", raising=False)
    assert sweepd.resume_epoch() == 0
    monkeypatch.setenv("SWEEP_RESUME", "1")
    monkeypatch.setenv("SWEEP_RESUME_EPOCH", "4")
    assert sweepd.resume_epoch() == 4


@pytest.mark.parametrize("resume,epoch,why", [
    (None, "4", "SWEEP_RESUME is not set"),
    ("1", None, "needs SWEEP_RESUME_EPOCH"),
    ("1", "x", "SWEEP_RESUME_EPOCH must be an integer"),
    ("1", "0", "SWEEP_RESUME_EPOCH must be >= 1"),
    ("1", "-1", "SWEEP_RESUME_EPOCH must be >= 1"),
    ("yes", "3", "SWEEP_RESUME must be 1"),
])
def test_resume_epoch_refuses_what_the_contract_never_sets(monkeypatch, resume,
                                                           epoch, why):
    for name, v in (("SWEEP_RESUME", resume), ("SWEEP_RESUME_EPOCH", epoch)):
        if v is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, v)
    with pytest.raises(ValueError, match=why):
        sweepd.resume_epoch()


def test_seed(monkeypatch):
    monkeypatch.delenv("SWEEP_SEED", raising=False)
    assert sweepd.seed() is None
    monkeypatch.setenv("SWEEP_SEED", "8000000000000001")
    assert sweepd.seed() == 8000000000000001


# ---- where reports go ------------------------------------------------------

REPORTER = """
    import sweepd
    sweepd.report(1, train_loss=0.5, val_acc=float("nan"), lr=None,
                  grad_norm=[0.1, float("inf")])
    sweepd.report(2, val_acc=0.75, val_loss=float("-inf"))
    sweepd.final(best_epoch=2, test_acc=0.7)
    print("done")
"""


def parse(line):
    return json.loads(line)   # Python reads NaN and Infinity back


def check_lines(lines):
    assert len(lines) == 3, lines
    a, b, c = (parse(x) for x in lines)
    assert a["epoch"] == 1 and a["train_loss"] == 0.5 and math.isnan(a["val_acc"])
    assert a["lr"] is None and a["grad_norm"][0] == 0.1
    assert a["grad_norm"][1] == math.inf
    assert b == {"epoch": 2, "val_acc": 0.75, "val_loss": -math.inf}
    assert c == {"final": True, "best_epoch": 2, "test_acc": 0.7}


def test_report_writes_to_the_report_fd():
    r, w = os.pipe()
    p = subprocess.Popen([PY, "-c", "import os\nos.dup2(%d, 3)\nos.close(%d)\n"
                          % (w, w) + textwrap.dedent(REPORTER)],
        env=py_env(SWEEP_REPORT_FD="3"), pass_fds=(w,),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(w)
    with os.fdopen(r) as f:
        lines = f.read().splitlines()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    check_lines(lines)
    assert out == "done\n", "nothing but the script's own output on stdout"


def test_report_without_the_fd_uses_the_stdout_prefix():
    p = run_py(REPORTER, env=py_env())
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[-1] == "done"
    assert all(x.startswith("SWEEP ") for x in lines[:-1]), lines
    check_lines([x[len("SWEEP "):] for x in lines[:-1]])


def test_report_with_fd_3_closed_uses_the_stdout_prefix():
    # SWEEP_REPORT_FD=3 but no fd 3 (a launcher that passes only 0-2).
    p = run_py("import os\ntry:\n    os.close(3)\nexcept OSError:\n    pass\n"
               + textwrap.dedent(REPORTER), env=py_env(SWEEP_REPORT_FD="3"))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 4 and all(x.startswith("SWEEP ") for x in lines[:3])
    check_lines([x[len("SWEEP "):] for x in lines[:3]])


def test_report_fd_that_is_not_a_number_is_refused():
    p = run_py("import sweepd\nsweepd.report(1, val_acc=0.5)",
               env=py_env(SWEEP_REPORT_FD="three"))
    assert p.returncode != 0
    assert "SWEEP_REPORT_FD must be a file descriptor number" in p.stderr


# ---- what the daemon would refuse ------------------------------------------

@pytest.mark.parametrize("call,why", [
    (lambda: sweepd.report(0, val_acc=1), "epoch must be an integer from 1"),
    (lambda: sweepd.report(1.5, val_acc=1), "epoch must be an integer"),
    (lambda: sweepd.report(True, val_acc=1), "epoch must be an integer"),
    (lambda: sweepd.report("1", val_acc=1), "epoch must be an integer"),
    (lambda: sweepd.report(2 ** 31, val_acc=1), "epoch must be an integer"),
    (lambda: sweepd.report(1, val_acc="0.9"), "must be a number"),
    (lambda: sweepd.report(1, val_acc=True), "must be a number"),
    (lambda: sweepd.report(1, **{"": 1.0}), "non-empty string"),
    (lambda: sweepd.report(1, **{"a\0b": 1.0}), "contains a NUL"),
    (lambda: sweepd.report(1, **{"m" * 64: 1.0}), "longer than 63 bytes"),
    (lambda: sweepd.report(1, **{"\u00e9" * 32: 1.0}), "longer than 63 bytes"),
    (lambda: sweepd.report(1, **{"a\ud800": 1.0}), "not valid UTF-8"),
    (lambda: sweepd.report(1, **{"m%d" % i: 1.0 for i in range(33)}),
     "more than 32 metrics"),
    (lambda: sweepd.report(1, grad_norm=[0.1] * 65), "65 entries"),
    (lambda: sweepd.report(1, grad_norm=[0.1, "x"]), r"grad_norm\[1\]"),
    (lambda: sweepd.report(1, grad_norm=0.3), "must be a list"),
    (lambda: sweepd.report(1, final=True), "not a metric name"),
    (lambda: sweepd.final(best_epoch=-1), "best_epoch must be an integer"),
    (lambda: sweepd.final(epoch=0), "epoch must be an integer from 1"),
    (lambda: sweepd.final(final=False), "set by final"),
])
def test_refused_lines_raise_report_error(call, why):
    with pytest.raises(sweepd.ReportError, match=why):
        call()


def test_accepted_edge_values():
    # The same limits from the other side: these the daemon takes.
    line = sweepd.lines.to_line(sweepd.lines.epoch_object(
        2 ** 31 - 1, {"m" * 63: 1, **{"k%d" % i: 0.0 for i in range(31)}}))
    assert len(json.loads(line)) == 33
    assert sweepd.lines.final_object({"best_epoch": 0, "epoch": None}) == \
        {"final": True, "best_epoch": 0}
    assert sweepd.lines.epoch_object(3.0, {})["epoch"] == 3


# The raw lines behind some of those refusals, written by a trainer that
# does not use the helper: the daemon must fail each trial as "protocol",
# i.e. the helper refuses what the daemon refuses.
RAW_BAD = ['{"epoch":0,"val_acc":0.5}', '{"epoch":1.5,"val_acc":0.5}',
           '{"epoch":1,"%s":0.5}' % ("m" * 64),
           '{"epoch":1,"grad_norm":[%s]}' % ",".join(["0.1"] * 65),
           '{"final":true,"best_epoch":-1}', '{"epoch":1,"a\\u0000b":1}']


def test_the_daemon_refuses_what_the_helper_refuses(daemon):
    script = os.path.join(daemon.dir, "raw.py")
    with open(script, "w") as f:
        f.write("import json, os\nline = json.loads(os.environ['SWEEP_PARAMS'])"
                "['line']\nos.write(3, (line + '\\n').encode())\n"
                "os.write(3, b'{\"final\":true}\\n')\n")
    spec = {"name": "raw", "trainer": {"command": [PY, script]},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"line": {"choice": RAW_BAD}},
            "search": {"algorithm": "grid", "parallel": 2},
            # every trial fails the same way before an epoch: without a
            # max_failures of its own, fail-fast would end the sweep after
            # 3 of them (docs/spec.md); 0 = never end it for failures
            "limits": {"max_failures": 0}}
    sid = daemon.submit(spec)
    daemon.wait_sweep(sid)
    trials = daemon.trials(sid)
    assert len(trials) == len(RAW_BAD)
    for t in trials:
        assert t["status"] == "failed", t
        assert t["error"]["class"] == "protocol", t


# ---- stopping --------------------------------------------------------------

def test_stopping_turns_sigterm_into_a_flag():
    p = subprocess.Popen([PY, "-c", textwrap.dedent("""
        import sys, time, sweepd
        assert sweepd.stopping() is False
        print("ready", flush=True)
        while not sweepd.stopping():
            time.sleep(0.01)
        print("stopped cleanly", flush=True)
    """)], env=py_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    assert p.stdout.readline() == "ready\n"
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert out == "stopped cleanly\n"


def test_stopping_outside_the_main_thread_says_why():
    p = run_py("""
        import threading, sweepd
        out = []
        def f():
            try:
                sweepd.stopping()
            except RuntimeError as e:
                out.append(str(e))
        t = threading.Thread(target=f); t.start(); t.join()
        print(out[0])
    """, env=py_env())
    assert "main thread" in p.stdout, p.stderr


# ---- a trainer on the helper, run by a real daemon -------------------------

TRAINER = """
import os, sys, time, sweepd
p = sweepd.params({"x": 0.5, "epochs": 3})
if p.get("close_fd3"):
    os.close(3)
assert "SWEEP_TRIAL_DIR" not in os.environ or os.path.isdir(sweepd.trial_dir())
sweepd.stopping()
for epoch in range(sweepd.resume_epoch() + 1, p["epochs"] + 1):
    acc = 0.5 + 0.1 * epoch * p["x"]
    sweepd.report(epoch, train_loss=1.0 / epoch, val_loss=1.2 / epoch,
                  train_acc=acc + 0.01, val_acc=acc,
                  seed_mod=sweepd.seed() % 1000003)
    time.sleep(p.get("sleep", 0))
    if sweepd.stopping():
        open(p["marker"], "w").write("stopped at epoch %d" % epoch)
        sys.exit(0)
sweepd.final(test_acc=0.5 + p["x"] / 10)
"""


def helper_spec(daemon, **space):
    script = os.path.join(daemon.dir, "trainer.py")
    with open(script, "w") as f:
        f.write(TRAINER)
    sp = {"x": {"uniform": [0.1, 0.9]}, "epochs": 3}
    sp.update(space)
    return {"name": "helper", "trainer": {"command": [PY, script],
                                          "env": {"PYTHONPATH":
                                                  os.path.join(ROOT, "python")}},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": sp,
            "search": {"algorithm": "random", "trials": 2, "parallel": 2,
                       "seed": 5}}


@pytest.mark.parametrize("close_fd3", [False, True],
                         ids=["fd3", "fd3-closed-stdout-prefix"])
def test_trainer_on_the_helper_completes_under_sweepd(daemon, close_fd3):
    sid = daemon.submit(helper_spec(daemon, close_fd3=close_fd3))
    s = daemon.wait_sweep(sid)
    assert s["status"] == "completed", s
    for t in daemon.trials(sid):
        assert t["status"] == "completed", t
        assert t["epochs"] == 3
        assert t["test_acc"] == pytest.approx(0.5 + t["params"]["x"] / 10)
        assert t["objective"] == pytest.approx(0.5 + 0.3 * t["params"]["x"])
        curve = daemon.ok({"op": "trial", "sweep": sid,
                           "number": t["number"]})["trial"]["curve"]
        assert curve[0]["seed_mod"] == t["seed"] % 1000003


def test_stopping_sees_the_daemons_sigterm(daemon):
    marker = os.path.join(daemon.dir, "stopped")
    spec = helper_spec(daemon, epochs=1000, sleep=0.05, marker=marker)
    spec["search"]["trials"] = 1
    sid = daemon.submit(spec)
    assert sweeplib.wait_for(lambda: (daemon.trials(sid) or [{}])[0]
                             .get("epochs"), timeout=30)
    daemon.ok({"op": "cancel", "sweep": sid})
    assert sweeplib.wait_for(lambda: os.path.exists(marker), timeout=30), \
        "the trainer never saw stopping() turn true"
    assert open(marker).read().startswith("stopped at epoch")
    assert daemon.wait_sweep(sid)["status"] == "cancelled"
