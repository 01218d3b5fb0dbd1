#!/usr/bin/env python3
"""sweepctl end to end against fake_sweepd.py: every command, human and --json.

Prints TAP. SWEEPCTL names the binary (meson sets it).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SWEEPCTL = os.environ.get("SWEEPCTL", "")
ENV = dict(os.environ, TZ="UTC", LC_ALL="C.UTF-8")
ENV.pop("SWEEP_STATE_DIR", None)


class Fake:
    """The fake daemon on its own temporary state dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sweepctl-")
        self.sock = os.path.join(self.dir, "sweepd.sock")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fake_sweepd.py"), self.dir])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.sock)
                s.close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("fake_sweepd did not start")

    def ctl(self, *args, env=None, stdin=None, cwd=None):
        e = dict(ENV, **(env or {}))
        return subprocess.run([SWEEPCTL, "--state-dir", self.dir] + list(args),
                              capture_output=True, text=True, timeout=60,
                              env=e, cwd=cwd)

    def log(self):
        path = os.path.join(self.dir, "fake.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(l) for l in f]

    def last(self, op):
        """The last logged exchange for op."""
        for entry in reversed(self.log()):
            if entry["req"] and entry["req"].get("op") == op:
                return entry
        raise AssertionError("no %s request logged" % op)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


FAKE = None
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def expect(p, code, out=None, err=None):
    assert p.returncode == code, "exit %d, wanted %d\nstdout:\n%s\nstderr:\n%s" % (
        p.returncode, code, p.stdout, p.stderr)
    for s in ([out] if isinstance(out, str) else out or []):
        assert s in p.stdout, "stdout lacks %r:\n%s" % (s, p.stdout)
    for s in ([err] if isinstance(err, str) else err or []):
        assert s in p.stderr, "stderr lacks %r:\n%s" % (s, p.stderr)


def lines_of(text):
    return text.rstrip("\n").split("\n")


def col(header, name):
    i = header.find(name)
    assert i >= 0, (name, header)
    return i


# ---- usage ---------------------------------------------------------------

@test
def help_lists_every_command():
    p = FAKE.ctl("--help")
    expect(p, 0, out="usage: sweepctl [--state-dir DIR] [--json] COMMAND [ARGS]")
    for c in ("submit", "ls", "status", "trials", "trial", "best", "watch",
              "wait", "cancel", "pause", "resume", "enqueue", "stats",
              "shutdown", "curve", "export", "report"):
        assert re.search(r"^  %s\b" % c, p.stdout, re.M), c
    assert p.stderr == ""


@test
def no_command_is_a_usage_error():
    p = FAKE.ctl()
    expect(p, 2, err=["sweepctl: no command given", "usage: sweepctl"])
    assert p.stdout == ""


@test
def unknown_command_is_a_usage_error():
    expect(FAKE.ctl("frobnicate"), 2,
           err=['sweepctl: unknown command "frobnicate"', "usage: sweepctl"])


@test
def non_numeric_sweep_id():
    p = FAKE.ctl("status", "abc")
    expect(p, 2, err=['sweepctl: sweep id must be a positive integer, got "abc"',
                      "usage: sweepctl [--state-dir DIR] [--json] status SWEEP"])
    for bad in ("0", "-3", "1.5", "12x", ""):
        expect(FAKE.ctl("best", bad), 2, err="sweep id must be a positive integer")
    expect(FAKE.ctl("trial", "1", "x"), 2,
           err='trial number must be a positive integer, got "x"')


@test
def missing_and_extra_arguments():
    expect(FAKE.ctl("trial", "1"), 2,
           err=["sweepctl: trial: missing argument (SWEEP N)", "usage:"])
    expect(FAKE.ctl("ls", "extra"), 2,
           err='sweepctl: ls: unexpected argument "extra"')
    expect(FAKE.ctl("status", "1", "2"), 2, err='unexpected argument "2"')
    expect(FAKE.ctl("submit"), 2, err="submit: missing argument (FILE)")
    expect(FAKE.ctl("ls", "--bogus"), 2, err="sweepctl: ls: unknown option --bogus")
    expect(FAKE.ctl("ls", "--state-dir"), 2, err="--state-dir needs a directory")
    # Nothing was sent for any of these.
    assert not [e for e in FAKE.log() if e["req"] and e["req"].get("op") == "trial"
                and e["req"].get("number") is None]


@test
def cannot_connect_names_the_socket():
    d = tempfile.mkdtemp()
    try:
        p = subprocess.run([SWEEPCTL, "--state-dir", d, "ls"], capture_output=True,
                           text=True, env=ENV, timeout=30)
        expect(p, 3)
        assert p.stderr == ("sweepctl: cannot connect to %s/sweepd.sock: No such "
                            "file or directory (is sweepd running?)\n" % d), p.stderr
        assert p.stdout == ""
    finally:
        shutil.rmtree(d)


@test
def state_dir_from_environment_and_equals_form():
    p = subprocess.run([SWEEPCTL, "ping"], capture_output=True, text=True,
                       env=dict(ENV, SWEEP_STATE_DIR=FAKE.dir), timeout=30)
    expect(p, 0, out="sweepd 0.1.0 (pid 4242)")
    p = subprocess.run([SWEEPCTL, "--state-dir=" + FAKE.dir, "ping", "--json"],
                       capture_output=True, text=True, env=ENV, timeout=30)
    expect(p, 0)
    assert json.loads(p.stdout)["pid"] == 4242


# ---- reading -------------------------------------------------------------

def json_is_what_was_sent(p, op):
    """--json printed exactly the reply line the fake sent."""
    sent = FAKE.last(op)["sent"]
    assert p.stdout == sent[0] + "\n", (p.stdout[:300], sent[0][:300])


@test
def ping_human_and_json():
    expect(FAKE.ctl("ping"), 0, out="sweepd 0.1.0 (pid 4242)\n")
    p = FAKE.ctl("--json", "ping")
    expect(p, 0)
    json_is_what_was_sent(p, "ping")


@test
def ls_table():
    # the fake's ended sweeps ended in 2023: only --all lists them
    p = FAKE.ctl("ls")
    expect(p, 0)
    assert "fashion-demo" not in p.stdout and "running-one" in p.stdout, p.stdout
    assert p.stdout.endswith("2 older sweeps (ended over 7 days ago) not "
                             "shown: sweepctl ls --all\n"), p.stdout
    p = FAKE.ctl("ls", "--all")
    expect(p, 0)
    rows = lines_of(p.stdout)
    head = rows[0]
    assert re.match(r"ID +NAME +STATUS +DONE/TOTAL +RUNNING +BEST +CREATED$", head), head
    assert len(rows) == 8, rows
    # Under the table, the largest group of each sweep's failures.
    assert rows[4:] == ["", "failures (the largest group of each sweep):",
                        "  sweep 1: 1 failed: exited with status 1: "
                        "ModuleNotFoundError: No module named",
                        "           'numpy'"], rows
    rows = rows[:4]
    r1 = rows[1]
    assert r1.split()[0] == "1" and "fashion-demo" in r1, r1
    # Columns line up: each value starts where its header starts (left
    # aligned) or ends where it ends (right aligned).
    assert r1[col(head, "NAME"):].startswith("fashion-demo"), r1
    assert r1[col(head, "STATUS"):].startswith("completed"), r1
    done_end = col(head, "DONE/TOTAL") + len("DONE/TOTAL")
    assert r1[:done_end].endswith("3/3"), r1
    assert rows[2][:done_end].endswith("2/10"), rows[2]
    assert r1[col(head, "BEST"):].startswith("val_acc=0.8812 (#1)"), r1
    assert r1[col(head, "CREATED"):] == "2023-11-14 22:13", r1
    assert rows[3][col(head, "BEST"):].startswith("-"), rows[3]
    assert not any(r.endswith(" ") for r in rows), rows


@test
def ls_json_is_the_reply_as_sent():
    p = FAKE.ctl("ls", "--json")
    expect(p, 0)
    json_is_what_was_sent(p, "sweeps")
    assert [s["id"] for s in json.loads(p.stdout)["sweeps"]] == [1, 2, 3]


@test
def importance_table():
    p = FAKE.ctl("importance", "1")
    expect(p, 0, out=["what mattered in sweep 1: share of the objective's variance "
                      "over 4 completed trials\n",
                      "  lr                    0.610  " + "#" * 24 + "\n",
                      "  z                     0.000  \n",
                      "diagnosed overfitting (1 of 2 trials):\n"])
    # a verdict lists its top 3 only
    assert p.stdout.count("  z ") == 1, p.stdout
    p = FAKE.ctl("importance", "1", "--json")
    expect(p, 0)
    json_is_what_was_sent(p, "importance")


@test
def status_summary():
    p = FAKE.ctl("status", "1")
    expect(p, 0, out=[
        "sweep 1: fashion-demo\n",
        "  status      completed\n"
        "  failures    1 failed: exited with status 1: ModuleNotFoundError: No module\n"
        "              named 'numpy'\n"
        "  created     2023-11-14 22:13, ended 2023-11-14 23:15 (1h02m)\n",
        "  progress    3/3 done, 0 running, 0 queued\n",
        "  trials      1 completed, 1 failed, 1 pruned\n",
        "  objective   val_acc (max)\n",
        "  verdicts    good_fit 1, overfitting 1\n",
        "best trial #1\n",
        "  objective   val_acc=0.8812 at epoch 3\n",
        "  verdict     good_fit\n",
        "advice for the best trial\n  - keep early stopping at patience 1-2\n"
        "  - try a slightly larger lr\n"])
    assert "lr=0.001234 batch_size=64 activation=relu" in p.stdout
    # the top 3 of `importance`, nothing when no share is known yet
    assert ("what mattered: lr 0.61, x 0.20, batch 0.01 (share of the objective's "
            "variance over 4 trials; sweepctl importance 1)\n") in p.stdout, p.stdout
    p = FAKE.ctl("status", "3")
    assert "what mattered" not in p.stdout, p.stdout
    # a daemon that refuses the importance op: status without that line
    p2 = FAKE.ctl("status", "2")
    expect(p2, 0, out=["sweep 2: "])
    assert "what mattered" not in p2.stdout and "importance" not in p2.stderr, \
        (p2.stdout, p2.stderr)
    expect(p, 0, out=["  status      cancelled\n  error       cancelled by a client\n",
                      "best trial: none completed yet\n",
                      "  verdicts    none yet\n"])
    p = FAKE.ctl("--json", "status", "1")
    expect(p, 0)
    json_is_what_was_sent(p, "sweep")
    expect(FAKE.ctl("status", "6"), 0, out=[
        "  failures    2 failed: exit code 1\n"
        "              1 more failed in other ways (sweepctl trials)\n"])


@test
def trials_table():
    p = FAKE.ctl("trials", "1")
    expect(p, 0)
    rows = lines_of(p.stdout)
    head = rows[0]
    assert re.match(r"# +STATUS +OBJECTIVE +BEST_EP +EPOCHS +VERDICT +TIME +PARAMS$",
                    head), head
    assert len(rows) == 5, rows
    st, v, pa = col(head, "STATUS"), col(head, "VERDICT"), col(head, "PARAMS")
    assert rows[1][st:].startswith("completed "), rows[1]
    assert rows[2][st:].startswith("failed(timeout)"), rows[2]
    assert rows[3][st:].startswith("pruned "), rows[3]
    assert rows[1][v:].startswith("good_fit"), rows[1]
    assert rows[3][v:].startswith("overfitting"), rows[3]
    assert rows[2][v:].startswith("-"), rows[2]
    obj_end = col(head, "OBJECTIVE") + len("OBJECTIVE")
    assert rows[1][:obj_end].endswith("0.8812") and rows[2][:obj_end].endswith("-")
    assert "1m35s" in rows[1], rows[1]
    # Long values are shortened, constant params move below the table.
    assert rows[1][pa:].startswith("lr=0.001234 batch_size=64 activation=relu "
                                   "optimizer=adam note=a-very-long-p…"), rows[1]
    assert "epochs=" not in rows[1]
    assert rows[4] == "same in every trial: epochs=4", rows[4]
    p = FAKE.ctl("--json", "trials", "1")
    expect(p, 0)
    json_is_what_was_sent(p, "trials")
    expect(FAKE.ctl("trials", "2"), 0, out="no trials yet\n")


@test
def trials_limit_and_offset_ask_for_a_page():
    p = FAKE.ctl("trials", "1", "--limit", "2", "--offset=1")
    expect(p, 0)
    req = FAKE.last("trials")["req"]
    assert req["limit"] == 2 and req["offset"] == 1, req
    rows = lines_of(p.stdout)
    assert [r.split()[0] for r in rows[1:3]] == ["2", "3"], rows
    assert rows[-1] == "2 of 3 trials shown (#2 to #3)", rows
    p = FAKE.ctl("trials", "1", "--limit=5")
    expect(p, 0)
    assert FAKE.last("trials")["req"]["limit"] == 5
    assert "offset" not in FAKE.last("trials")["req"]
    assert "trials shown" not in p.stdout, p.stdout   # all 3 fit
    expect(FAKE.ctl("trials", "1", "--offset", "3"), 0,
           out="no trials in this range: the sweep has 3\n")
    p = FAKE.ctl("--json", "trials", "1", "--limit", "1")
    expect(p, 0)
    json_is_what_was_sent(p, "trials")
    for bad in ("-1", "x", "1.5", ""):
        expect(FAKE.ctl("trials", "1", "--limit", bad), 2,
               err='--limit must be a non-negative integer, got "%s"' % bad)
    expect(FAKE.ctl("trials", "1", "--offset=-2"), 2,
           err='--offset must be a non-negative integer, got "-2"')
    expect(FAKE.ctl("trials", "1", "--limit"), 2, err="--limit needs a value")
    expect(FAKE.ctl("ls", "--limit", "2"), 2, err="ls: unknown option --limit")


@test
def trial_with_curve():
    p = FAKE.ctl("trial", "1", "1")
    expect(p, 0, out=[
        "trial 1 (attempt 1, seed 4201)\n",
        "  status      completed\n"
        "  note        no final line: test metrics unknown\n",
        "  objective   0.8812 at epoch 3 of 4\n",
        "  test        loss 0.33, acc 0.884\n",
        "  promoted    from the 2-epoch rung (1 promotion)\n",
        "params\n  lr          0.001234\n  batch_size  64\n",
        "  note        a-very-long-parameter-value-that-needs-shortening\n",
        "diagnosis: good_fit\n",
        "  reason      val_loss settled near train_loss\n",
        "  tags        early_stopping_point\n",
        "  stop epoch  3 (1 epoch past it)\n",
        "  evidence    epochs=4 val_best_epoch=3 gap=0.09 val_acc_end=0.8561 smooth=3\n"
        # an *_end figure beside the curve's last row: said what it is
        "              *_end: the mean of the last 3 epochs, not the last value\n",
        "  advice\n    - keep early stopping at patience 1-2\n",
        "  not judged\n    - gradients: grad_norm not reported\n",
        "curve\n"])
    rows = lines_of(p.stdout.split("curve\n", 1)[1])
    assert rows[0].split() == ["epoch", "train_loss", "val_loss", "train_acc",
                               "val_acc", "lr", "seconds", "grad_norm", "top5"], rows[0]
    assert rows[1].split() == ["1", "0.61", "0.52", "0.78", "0.81", "0.001",
                               "2.1", "0.31/0.12", "nan"], rows[1]
    assert rows[3].split()[2] == "nan" and rows[3].split()[8] == "0.99", rows[3]
    assert len(rows) == 5
    p = FAKE.ctl("trial", "1", "1", "--json")
    expect(p, 0)
    json_is_what_was_sent(p, "trial")
    assert len(json.loads(p.stdout)["trial"]["curve"]) == 4


@test
def failed_trial_shows_error_and_stderr():
    p = FAKE.ctl("trial", "1", "2")
    expect(p, 0, out=["  status      failed(timeout)\n", "error: timeout\n",
                      "  objective   - (4 epochs reported)\n",
                      "  message     trial ran over 1800 s\n",
                      "  signal      15\n",
                      "  stderr (tail)\n    | Traceback (most recent call last):\n"
                      "    | RuntimeError: out of patience\n"])
    assert "exit code" not in p.stdout
    expect(FAKE.ctl("trial", "1", "9"), 1,
           err="sweepctl: sweep 1 has no trial 9 (not_found)")


@test
def best_is_the_trial_without_curve():
    p = FAKE.ctl("best", "1")
    expect(p, 0, out=["best trial of sweep 1: trial 1 (attempt 1, seed 4201)\n",
                      "diagnosis: good_fit\n"])
    assert "curve" not in p.stdout
    p = FAKE.ctl("best", "1", "--json")
    expect(p, 0)
    json_is_what_was_sent(p, "best")


@test
def daemon_errors_go_to_stderr_with_exit_1():
    p = FAKE.ctl("best", "2")
    expect(p, 1)
    assert p.stderr == "sweepctl: sweep 2 has no completed trial yet (not_found)\n"
    assert p.stdout == ""
    p = FAKE.ctl("status", "99")
    expect(p, 1, err="sweepctl: no sweep 99 (not_found)")
    p = FAKE.ctl("--json", "status", "99")
    expect(p, 1, err="no sweep 99")
    assert json.loads(p.stdout)["error"]["code"] == "not_found"


# ---- changing ------------------------------------------------------------

def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


@test
def submit_resolves_paths_against_the_spec_file():
    d = tempfile.mkdtemp()
    try:
        os.makedirs(os.path.join(d, "sub", "code"))
        write(os.path.join(d, "sub", "code", "train.py"), "")
        os.chmod(write(os.path.join(d, "sub", "t.sh"), "#!/bin/sh\n"), 0o755)
        spec = write(os.path.join(d, "sub", "spec.json"), json.dumps({
            "name": "ext", "trainer": {"command": ["python3", "train.py"],
                                       "cwd": "code", "data_dir": "../data"}}))
        p = FAKE.ctl("submit", "sub/spec.json", cwd=d)
        expect(p, 0)
        assert p.stdout == "7\n", p.stdout
        real = os.path.realpath(d)
        tr = FAKE.last("submit")["req"]["spec"]["trainer"]
        assert tr["cwd"] == real + "/sub/code", tr
        assert tr["data_dir"] == real + "/sub/../data", tr
        # No cwd for an external command: the spec file's directory.
        write(spec, json.dumps({"trainer": {"command": ["./t.sh"]}}))
        expect(FAKE.ctl("submit", spec), 0)
        assert FAKE.last("submit")["req"]["spec"]["trainer"]["cwd"] == real + "/sub"
        # Absolute paths and the built-in trainer are left as they are.
        write(spec, json.dumps({"trainer": {"builtin": "mlp", "data_dir": "/abs"}}))
        expect(FAKE.ctl("submit", spec), 0)
        assert FAKE.last("submit")["req"]["spec"]["trainer"] == {
            "builtin": "mlp", "data_dir": "/abs"}
        p = FAKE.ctl("--json", "submit", spec)
        expect(p, 0)
        json_is_what_was_sent(p, "submit")
    finally:
        shutil.rmtree(d)


@test
def submit_checks_the_trainer_before_sending():
    # fake_sweepd takes any spec: these refusals are sweepctl's own.
    d = tempfile.mkdtemp()
    try:
        spec = os.path.join(d, "spec.json")
        real = os.path.realpath(d)
        n = len(FAKE.log())
        for trainer, msg in (
                ({"command": ["no-such-trainer-xyz"]},
                 'trainer.command[0]: "no-such-trainer-xyz" not found on PATH'),
                ({"command": ["./t.sh"]},
                 "trainer.command[0]: %s/t.sh does not exist" % real),
                ({"command": ["sh"], "cwd": "gone"},
                 "trainer.cwd: %s/gone does not exist" % real),
                ({"command": ["sh", "train.py"]},
                 'trainer.command[1]: script "train.py" not found '
                 "(looked for %s/train.py)" % real)):
            write(spec, json.dumps({"trainer": trainer}))
            expect(FAKE.ctl("submit", spec), 1, err="sweepctl: %s: %s" % (spec, msg))
        assert len(FAKE.log()) == n, "nothing is sent"
        os.chmod(write(os.path.join(d, "t.sh"), "#!/bin/sh\n"), 0o644)
        write(spec, json.dumps({"trainer": {"command": ["./t.sh"]}}))
        expect(FAKE.ctl("submit", spec), 1, err="t.sh is not executable")
        os.chmod(os.path.join(d, "t.sh"), 0o755)
        expect(FAKE.ctl("submit", spec), 0)
    finally:
        shutil.rmtree(d)


@test
def submit_invalid_json_names_file_and_position():
    d = tempfile.mkdtemp()
    try:
        spec = write(os.path.join(d, "spec.json"), '{\n  "name": "x"\n  "space": {}\n}\n')
        n = len(FAKE.log())
        p = FAKE.ctl("submit", spec)
        expect(p, 1, err="sweepctl: %s: invalid JSON at line 3, column 3 "
                         "(near '\"space\": {} }')" % spec)
        assert p.stdout == ""
        write(spec, '{"name": ')
        expect(FAKE.ctl("submit", spec), 1,
               err="%s: invalid JSON: unexpected end of file" % spec)
        write(spec, '[1, 2]')
        expect(FAKE.ctl("submit", spec), 1,
               err="%s: a sweep spec must be a JSON object" % spec)
        assert len(FAKE.log()) == n, "nothing is sent for a bad file"
        p = FAKE.ctl("submit", "/nonexistent/spec.json")
        expect(p, 1, err="sweepctl: cannot read /nonexistent/spec.json: "
                         "No such file or directory")
    finally:
        shutil.rmtree(d)


@test
def submit_rejected_by_the_daemon():
    d = tempfile.mkdtemp()
    try:
        spec = write(os.path.join(d, "spec.json"), '{"name": "bad"}')
        p = FAKE.ctl("submit", spec)
        expect(p, 1, err="sweepctl: space.lr.loguniform: low must be > 0, got 0 "
                         "(bad_request)")
        assert p.stdout == ""
    finally:
        shutil.rmtree(d)


@test
def cancel_pause_resume():
    expect(FAKE.ctl("cancel", "2"), 0, out="sweep 2 cancelled\n")
    expect(FAKE.ctl("pause", "2"), 0, out="sweep 2 paused\n")
    expect(FAKE.ctl("resume", "2"), 0, out="sweep 2 running\n")
    assert FAKE.last("resume")["req"]["sweep"] == 2
    expect(FAKE.ctl("cancel", "1"), 1,
           err="sweepctl: sweep 1 has already ended (conflict)")
    p = FAKE.ctl("--json", "pause", "2")
    expect(p, 0)
    json_is_what_was_sent(p, "pause")


@test
def enqueue_object_or_array():
    d = tempfile.mkdtemp()
    try:
        one = write(os.path.join(d, "one.json"), '{"lr": 0.01}')
        many = write(os.path.join(d, "many.json"), '[{"lr": 0.01}, {"lr": 0.1}]')
        expect(FAKE.ctl("enqueue", "2", one), 0, out="enqueued 1 trial on sweep 2\n")
        assert FAKE.last("enqueue")["req"]["params"] == {"lr": 0.01}
        expect(FAKE.ctl("enqueue", "2", many), 0, out="enqueued 2 trials on sweep 2\n")
        assert FAKE.last("enqueue")["req"]["params"] == [{"lr": 0.01}, {"lr": 0.1}]
        bad = write(os.path.join(d, "bad.json"), '[{"lr": 0.01}, 3]')
        expect(FAKE.ctl("enqueue", "2", bad), 1,
               err="sweepctl: %s: params[2]: must be an object of params" % bad)
        expect(FAKE.ctl("enqueue", "1", one), 1, err="(conflict)")
        expect(FAKE.ctl("enqueue", "x", one), 2, err="sweep id must be")
    finally:
        shutil.rmtree(d)


@test
def stats_and_shutdown():
    p = FAKE.ctl("stats")
    expect(p, 0, out=["  uptime         1h02m\n", "  memory (rss)   12.3 MiB\n",
                      "  open fds       14\n", "  running        2\n",
                      "  queued         6\n", "  trials run     40\n",
                      "  sweeps active  1\n", "  clients        1\n",
                      "  paused clients 0\n", "  workers        2\n",
                      "  output queued  2 KiB\n"])
    p = FAKE.ctl("stats", "--json")
    expect(p, 0)
    json_is_what_was_sent(p, "stats")
    expect(FAKE.ctl("shutdown"), 0, out="sweepd shutting down\n")


# ---- watching ------------------------------------------------------------

STAMP = r"\[\d\d:\d\d:\d\d\] "


@test
def watch_prints_one_line_per_event():
    p = FAKE.ctl("watch", "2")
    expect(p, 0)
    rows = lines_of(p.stdout)
    assert rows[0] == ("watching sweep 2 (running-one): running, 2/10 trials done, "
                       "2 running"), rows[0]
    want = [
        "trial 3 started (attempt 1)  lr=0.01 batch_size=64",
        "trial 3 epoch 1  val_acc=0.8512 train_loss=0.41 val_loss=0.5",
        "trial 3 epoch 2  val_acc=0.84 train_loss=0.3 val_loss=0.6  [overfitting]",
        "trial 3 completed  val_acc=0.8512 (best epoch 1)  overfitting",
        "trial 4 failed  error crash: exit code 1",
        "trial 5 pruned  val_acc=0.6878 (best epoch 3)  why: asha pruner: at the 3-epoch rung",
        "sweep 2 completed",
    ]
    assert len(rows) == 1 + len(want), rows
    for got, w in zip(rows[1:], want):
        assert re.match(STAMP + re.escape(w) + "$", got), (got, w)


@test
def watch_json_prints_the_lines_as_sent():
    p = FAKE.ctl("--json", "watch", "2")
    expect(p, 0)
    assert p.stdout.split("\n")[:-1] == FAKE.last("watch")["sent"], p.stdout


@test
def watch_exit_codes():
    p = FAKE.ctl("watch", "3")
    expect(p, 5)
    assert re.match(STAMP + "sweep 3 cancelled$", lines_of(p.stdout)[-1]), p.stdout
    p = FAKE.ctl("watch", "4")
    expect(p, 3, err="sweepctl: connection to sweepd closed before sweep 4 ended")
    assert "trial 3 started" in p.stdout
    expect(FAKE.ctl("watch", "99"), 1, err="no sweep 99 (not_found)")


@test
def wait_is_quiet_and_exits_by_outcome():
    p = FAKE.ctl("wait", "2")
    expect(p, 0)
    rows = lines_of(p.stdout)
    assert len(rows) == 1 and re.match(STAMP + "sweep 2 completed$", rows[0]), rows
    expect(FAKE.ctl("wait", "1"), 0, out="sweep 1 completed")
    expect(FAKE.ctl("wait", "3"), 5, out="sweep 3 cancelled")
    p = FAKE.ctl("--json", "wait", "3")
    expect(p, 5)
    assert json.loads(p.stdout) == {"event": "sweep_ended", "sweep": 3,
                                    "status": "cancelled"}
    expect(FAKE.ctl("wait", "4"), 3, err="closed before sweep 4 ended")
    # A failed sweep: its own exit status, and the reason on the line.
    p = FAKE.ctl("wait", "8")
    expect(p, 4, out="sweep 8 failed: the first 3 trials failed the same way "
                     "before reporting any epoch: exited with status 1: "
                     "ModuleNotFoundError: No module named 'numpy'")
    expect(FAKE.ctl("watch", "8"), 4, out="sweep 8 failed: the first 3")
    # "completed" without a completed trial is no success either
    expect(FAKE.ctl("wait", "9"), 4, out="sweep 9 completed")


@test
def large_reply_is_read_whole():
    p = FAKE.ctl("trials", "5", "--json")
    expect(p, 0)
    assert len(p.stdout) > 5_000_000, len(p.stdout)
    assert len(json.loads(p.stdout)["trials"]) == 30000
    p = FAKE.ctl("trials", "5")
    expect(p, 0)
    rows = lines_of(p.stdout)
    assert len(rows) == 1 + 30000 + 1, len(rows)
    assert rows[-1].startswith("same in every trial: lr=0.001 batch_size=64 pad=xxx")


# ---- issue 7: curve, export, report ----------------------------------------

@test
def curve_draws_both_charts_with_the_stop_marked():
    p = FAKE.ctl("curve", "1", "1", "--width", "40", "--height", "6")
    expect(p, 0, out=[
        "sweep 1 trial 1: completed, verdict good_fit, early stopping point at "
        "epoch 3 (1 epoch past it)\n", "\nloss\n",
        "\nval_acc (objective, max)\n"])
    rows = lines_of(p.stdout)
    loss = rows.index("loss")
    # 6 chart rows, the axis, its labels, the legend
    chart = rows[loss + 1:loss + 7]
    assert all(re.match(r"^ *\S* [\u2524\u2502]", r) for r in chart), chart
    assert any(re.search("[\u2801-\u28ff]", r) for r in chart), chart
    assert "\u2534" in rows[loss + 7], rows[loss + 7]
    assert "stop 3" in rows[loss + 8], rows[loss + 8]
    assert "train_loss" in rows[loss + 9] and "\u2022 val_loss" in rows[loss + 9]
    assert "\u2022 val_acc" in p.stdout and "train_acc" in p.stdout
    assert "\033[" not in p.stdout, "no colour when stdout is not a terminal"
    assert [e["req"]["op"] for e in FAKE.log()[-2:]] == ["trial", "sweep"]


@test
def curve_of_a_diverged_trial_uses_a_log_axis():
    p = FAKE.ctl("curve", "6", "3", "--width", "40")
    expect(p, 0, out=["verdict diverged", "(log scale)"])


@test
def curve_json_and_usage():
    p = FAKE.ctl("--json", "curve", "1", "1")
    expect(p, 0)
    json_is_what_was_sent(p, "trial")
    expect(FAKE.ctl("curve", "1", "1", "--width", "5"), 2,
           err='--width must be an integer from 20 to 400, got "5"')
    expect(FAKE.ctl("curve", "1"), 2, err="curve: missing argument")
    expect(FAKE.ctl("curve", "1", "9"), 1, err="sweep 1 has no trial 9 (not_found)")
    expect(FAKE.ctl("ls", "--width", "50"), 2, err="sweepctl: ls: unknown option --width")


@test
def export_trials_csv_and_json():
    p = FAKE.ctl("export", "1")
    expect(p, 0)
    rows = lines_of(p.stdout)
    assert rows[0] == ("number,status,attempt,objective,best_epoch,epochs,test_loss,"
                       "test_acc,verdict,stop_epoch,error_class,error_message,seed,"
                       "started_at,ended_at,seconds,promotions,params.lr,params.batch_size,"
                       "params.activation,params.optimizer,params.epochs,params.note"), rows[0]
    assert rows[1].startswith("1,completed,1,0.8812,3,4,0.33,0.884,good_fit,3,,,4201,"
                              "1700000010,1700000105,95,1,0.001234,64,relu,adam,4,"), rows[1]
    assert rows[2].startswith("2,failed,1,,,4,,,,,timeout,trial ran over 1800 s,"), rows[2]
    assert len(rows) == 4
    p = FAKE.ctl("export", "1", "--format", "json")
    expect(p, 0)
    recs = json.loads(p.stdout)
    assert [r["number"] for r in recs] == [1, 2, 3]
    assert recs[1]["error_class"] == "timeout" and recs[0]["params.lr"] == 0.001234
    assert len(lines_of(p.stdout)) == 5   # [, 3 records, ]


@test
def export_epochs_to_a_file():
    d = tempfile.mkdtemp()
    try:
        path = os.path.join(d, "epochs.csv")
        p = FAKE.ctl("export", "1", "--epochs", "-o", path)
        expect(p, 0)
        assert p.stdout == ""
        assert FAKE.last("epochs")["req"]["sweep"] == 1
        # 8 rows, pages of 3: the client asked for each page after the last
        reqs = [e["req"] for e in FAKE.log() if e["req"] and
                e["req"].get("op") == "epochs"][-3:]
        assert [r.get("after") for r in reqs] == [
            None, {"number": 1, "attempt": 1, "epoch": 3},
            {"number": 3, "attempt": 1, "epoch": 2}], reqs
        with open(path) as f:
            rows = f.read().splitlines()
        assert rows[0] == ("number,attempt,epoch,train_loss,val_loss,train_acc,val_acc,"
                           "lr,seconds,grad_norm,top5"), rows[0]
        assert rows[1] == '1,1,1,0.61,0.52,0.78,0.81,0.001,2.1,"[0.31,0.12]",', rows[1]
        assert len(rows) == 1 + 8   # trials 1 and 3, 4 epochs each
        expect(FAKE.ctl("export", "1", "--format", "xml"), 2,
               err='--format must be csv or json, got "xml"')
        expect(FAKE.ctl("export", "99"), 1, err="no sweep 99 (not_found)")
        bad = os.path.join(d, "no", "such", "dir.csv")
        expect(FAKE.ctl("export", "1", "-o", bad), 1, err="cannot write %s" % bad)
    finally:
        shutil.rmtree(d)


@test
def report_writes_one_self_contained_file():
    d = tempfile.mkdtemp()
    try:
        path = os.path.join(d, "report.html")
        p = FAKE.ctl("report", "6", "-o", path)
        expect(p, 0, err="wrote %s" % path)
        ops = [e["req"]["op"] for e in FAKE.log() if e["req"]]
        # every epoch page, then what mattered
        assert ops[-1] == "importance" and ops[-2] == "epochs" and \
            ops.count("epochs") > 1, ops[-12:]
        with open(path) as f:
            html = f.read()
        assert "<h2 id='importance'>What mattered</h2>" in html
        assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")
        assert "http" not in html and "src=" not in html
        assert "synthetic &lt;&amp;&gt;" in html and "<&>" not in html
        # history + overlay + 24 curve panels + 4 searched params +
        # parallel coordinates
        assert html.count("<svg") == 1 + 1 + 24 + 4 + 1, html.count("<svg")
        assert html.count("<tr><td class='n'") == 24
        assert ">lr (log scale)</text>" in html
        # a daemon that refuses the importance op: the report is written,
        # and says why that section is empty
        older = os.path.join(d, "older.html")
        p = FAKE.ctl("report", "2", "-o", older)
        expect(p, 0, err="wrote %s" % older)
        with open(older) as f:
            html = f.read()
        assert ("The daemon gave no importance: unknown op &quot;importance&quot; "
                "(unknown_op).") in html, html
        assert html.endswith("</html>\n")
        # default name, in the current directory
        p = FAKE.ctl("report", "1", cwd=d)
        expect(p, 0, err="wrote sweep-1-report.html")
        assert os.path.exists(os.path.join(d, "sweep-1-report.html"))
        # a failed fetch leaves no file behind
        gone = os.path.join(d, "gone.html")
        expect(FAKE.ctl("report", "99", "-o", gone), 1, err="no sweep 99")
        assert not os.path.exists(gone)
    finally:
        shutil.rmtree(d)


def main():
    global FAKE
    if not SWEEPCTL or not os.path.exists(SWEEPCTL):
        print("1..0 # SKIP SWEEPCTL not set")
        return 0
    FAKE = Fake()
    failed = 0
    try:
        for i, t in enumerate(TESTS, 1):
            try:
                t()
                print("ok %d - %s" % (i, t.__name__))
            except Exception as e:  # noqa: BLE001 - report and go on
                failed += 1
                print("not ok %d - %s" % (i, t.__name__))
                for l in ("%s: %s" % (type(e).__name__, e)).splitlines():
                    print("# " + l)
            sys.stdout.flush()
    finally:
        FAKE.close()
    print("1..%d" % len(TESTS))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
