"""sweep-worker's checkpoints and resume (docs/DESIGN.md, SWEEP_TRIAL_DIR;
worker/trainckpt.h), driving the binary directly with the environment the
daemon will give it: a run killed after epoch K and resumed with
SWEEP_RESUME=1 SWEEP_RESUME_EPOCH=K reports epochs K+1.. and the final line
exactly as a run never interrupted; a missing, stale, corrupt or foreign
checkpoint makes it start over (saying why), never crash; without
SWEEP_TRIAL_DIR nothing is written; --predict gives the final line's test
figures from best.weights."""
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Skip, run_tests

WORKER = os.environ.get("SWEEP_WORKER", "")
FASHION = "/usr/share/datasets/fashion-mnist"

# Every kind of state: BatchNorm running stats, dropout masks, Adam moments
# and step count, a cosine schedule (lr depends on the epoch), the order.
SYN = {"dataset": "synthetic", "synthetic_size": 5000, "val_size": 1000,
       "synthetic_test_size": 500, "hidden": [64, 32], "batchnorm": True,
       "dropout": 0.2, "optimizer": "adam", "lr_schedule": "cosine",
       "epochs": 6, "batch_size": 64}
SEED = "11"
SECONDS = re.compile(r'"seconds":[^,}]*,?')


def env(params, trial_dir=None, resume=None, seed=SEED, **extra):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
         "SWEEP_PARAMS": json.dumps(params), "SWEEP_SEED": seed}
    if trial_dir is not None:
        e["SWEEP_TRIAL_DIR"] = trial_dir
    if resume is not None:
        e["SWEEP_RESUME"] = "1"
        e["SWEEP_RESUME_EPOCH"] = str(resume)
    e.update(extra)
    return e


def start(e):
    """The worker with its report lines on a pipe (SWEEP_REPORT_FD)."""
    if not WORKER or not os.path.exists(WORKER):
        raise Skip("sweep-worker not built")
    r, w = os.pipe()
    e = dict(e, SWEEP_REPORT_FD=str(w))
    p = subprocess.Popen([WORKER], env=e, pass_fds=[w], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    os.close(w)
    return p, os.fdopen(r, "r")


def run(e):
    """(exit status, report lines with "seconds" removed, stderr)."""
    p, rep = start(e)
    lines = [SECONDS.sub("", l.rstrip("\n")) for l in rep]
    err = p.stderr.read()
    p.wait(timeout=300)
    rep.close()
    return p.returncode, lines, err


PIPE_CAP = 4096
SECONDS_MAX = len('"seconds":') + 16 + 1    # %.10g is at most 16 characters


def run_blocked(e, trial_dir, ref, k, sig=signal.SIGKILL):
    """Runs until checkpoint k + 1 is on disk while report line k + 1 can
    not be delivered (a pipe of one page, filled so that exactly k lines
    fit: the write of line k + 1 blocks), then sends sig: a trainer killed
    ahead of what its reader stored, deterministically. Returns the report
    lines that were delivered."""
    if not WORKER or not os.path.exists(WORKER):
        raise Skip("sweep-worker not built")
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, PIPE_CAP)
    room = sum(len(l) + 1 + SECONDS_MAX for l in ref[:k])
    assert room + 1 < PIPE_CAP and len(ref[k]) > k * SECONDS_MAX
    os.write(w, b"#" * (PIPE_CAP - room - 1) + b"\n")
    p = subprocess.Popen([WORKER], env=dict(e, SWEEP_REPORT_FD=str(w)), pass_fds=[w],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    ahead = os.path.join(trial_dir, "checkpoint-%d" % (k + 1))
    deadline = time.time() + 120
    while not os.path.exists(ahead) and p.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    ended = p.poll()
    p.send_signal(sig)
    if sig == signal.SIGKILL:
        # reap it before reading: a reader that drained the pipe first
        # could let the blocked write of line k + 1 complete before the
        # kill lands (pipe_write rechecks for room before for signals)
        p.wait(timeout=60)
    # read until the worker is gone: one blocked in write() on SIGTERM
    # finishes that line, then stops within a batch
    with os.fdopen(r, "r") as rep:
        got = [SECONDS.sub("", l.rstrip("\n")) for l in rep][1:]
    p.wait(timeout=60)
    assert ended is None and os.path.exists(ahead), \
        "the run ended (%s) or never wrote %s" % (ended, ahead)
    return got


def epoch_of(line):
    return json.loads(line).get("epoch")


class TempDirs:
    def __enter__(self):
        self.root = tempfile.mkdtemp(prefix="sweep-resume-")
        return self

    def new(self, name):
        path = os.path.join(self.root, name)
        os.mkdir(path)
        return path

    def __exit__(self, *exc):
        shutil.rmtree(self.root, ignore_errors=True)


def reference(params=SYN):
    """An uninterrupted run without a trial dir: the curve to match."""
    rc, lines, err = run(env(params))
    assert rc == 0, err
    assert len(lines) == params["epochs"] + 1 and '"final":true' in lines[-1], lines
    return lines


def check_resumed(ref, lines, k):
    assert [epoch_of(l) for l in lines[:-1]] == list(range(k + 1, len(ref))), lines
    for want, got in zip(ref[k:], lines):
        assert want == got, "after resuming from epoch %d:\n  want %s\n  got  %s" % (
            k, want, got)


def test_writing_checkpoints_changes_no_figure():
    ref = reference()
    with TempDirs() as t:
        d = t.new("trial")
        rc, lines, err = run(env(SYN, d))
        assert rc == 0, err
        assert lines == ref
        names = sorted(os.listdir(d))
        assert names == ["best.weights", "checkpoint-4", "checkpoint-5", "checkpoint-6"], \
            names


def test_killed_after_epoch_3_resumes_bit_exactly():
    """SIGKILL with checkpoint 4 written and line 4 undelivered (the daemon
    stored 3): resumed with K = 3, epochs 4..6 and the final line are those
    of the uninterrupted run."""
    ref = reference()
    with TempDirs() as t:
        d = t.new("trial")
        assert run_blocked(env(SYN, d), d, ref, 3) == ref[:3]
        rc, lines, err = run(env(SYN, d, resume=3))
        assert rc == 0, err
        assert "resuming after epoch 3" in err, err
        check_resumed(ref, lines, 3)


def test_sigterm_then_resume_twice():
    """Stopped by SIGTERM (a daemon shutting down) during epoch 2, resumed
    from the last line delivered, stopped again, resumed again: still the
    same run."""
    ref = reference()
    with TempDirs() as t:
        d = t.new("trial")
        got = run_blocked(env(SYN, d), d, ref, 1, signal.SIGTERM)
        # the blocked line 2 goes out once read, then SIGTERM stops epoch 3
        assert got == ref[:2], got
        rc, lines, err = run(env(SYN, d, resume=2))
        assert rc == 0, err
        check_resumed(ref, lines, 2)
        rc, lines, err = run(env(SYN, d, resume=4))
        assert rc == 0, err
        check_resumed(ref, lines, 4)


def test_checkpoint_ahead_of_the_daemon_resumes_from_k():
    """The trainer got further than the daemon stored: a finished run,
    resumed from K = 4 and K = 5 (checkpoints 4..6 are kept)."""
    ref = reference()
    with TempDirs() as t:
        d = t.new("trial")
        assert run(env(SYN, d))[0] == 0
        for k in (6, 5, 4):
            rc, lines, err = run(env(SYN, d, resume=k))
            assert rc == 0, err
            check_resumed(ref, lines, k)
        # resuming from 4 removed what came after it, then wrote 5 and 6 again
        assert sorted(os.listdir(d))[-3:] == ["checkpoint-4", "checkpoint-5",
                                              "checkpoint-6"]


def test_no_checkpoint_of_k_starts_over():
    ref = reference()
    with TempDirs() as t:
        d = t.new("trial")
        assert run(env(SYN, d))[0] == 0      # keeps checkpoints 4..6 only
        rc, lines, err = run(env(SYN, d, resume=2))
        assert rc == 0, err
        assert "cannot resume after epoch 2" in err and "checkpoint-2" in err, err
        assert "starting over from epoch 1" in err, err
        assert lines == ref
        # starting over removed the other run's checkpoints
        assert "checkpoint-5" in os.listdir(d)   # written again by this run
        e = t.new("empty")
        rc, lines, err = run(env(SYN, e, resume=3))
        assert rc == 0 and lines == ref and "starting over" in err, err


def corrupt(path, how):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if how == "truncate":
        data = data[:len(data) // 2]
    elif how == "flip":
        data[len(data) // 2] ^= 0x40
    elif how == "version":
        data[8] = 9
    elif how == "magic":
        data[0:8] = b"GARBAGE!"
    with open(path, "wb") as f:
        f.write(data)


def test_corrupt_checkpoint_is_refused_and_the_run_starts_over():
    ref = reference()
    why = {"truncate": "truncated", "flip": "checksum", "version": "version 9",
           "magic": "magic"}
    with TempDirs() as t:
        for how, says in why.items():
            d = t.new(how)
            assert run(env(SYN, d))[0] == 0
            corrupt(os.path.join(d, "checkpoint-5"), how)
            rc, lines, err = run(env(SYN, d, resume=5))
            assert rc == 0, err
            assert says in err and "starting over from epoch 1" in err, (how, err)
            assert lines == ref, how


def test_checkpoint_of_other_params_or_seed_is_refused():
    ref = reference()
    with TempDirs() as t:
        d = t.new("trial")
        assert run(env(dict(SYN, lr=0.002), d))[0] == 0
        rc, lines, err = run(env(SYN, d, resume=5))
        assert rc == 0 and "other params" in err, err
        assert lines == ref
        d2 = t.new("seed")
        assert run(env(SYN, d2, seed="12"))[0] == 0
        rc, lines, err = run(env(SYN, d2, resume=5))
        assert rc == 0 and "seed 12" in err, err
        assert lines == ref


def test_patience_stop_survives_a_resume():
    """A run that early-stopped after epoch 3, killed before its final line
    could be stored, resumed from 3: no more epochs, the same final line."""
    params = dict(SYN, patience=2, min_delta=1.0)
    rc, ref, err = run(env(params))
    assert rc == 0 and len(ref) == 4 and "no improvement" in err, (ref, err)
    with TempDirs() as t:
        d = t.new("trial")
        assert run(env(params, d))[0] == 0
        rc, lines, err = run(env(params, d, resume=3))
        assert rc == 0, err
        assert lines == ref[3:], lines


def test_without_trial_dir_nothing_is_written():
    with TempDirs() as t:
        cwd = t.new("cwd")
        if not WORKER:
            raise Skip("sweep-worker not built")
        e = env(dict(SYN, epochs=2), resume=1)
        p = subprocess.run([WORKER], env=e, cwd=cwd, capture_output=True, text=True,
                           timeout=120)
        assert p.returncode == 0, p.stderr
        assert "without SWEEP_TRIAL_DIR" in p.stderr, p.stderr
        assert os.listdir(cwd) == []
        assert os.listdir(t.root) == ["cwd"]


def test_bad_resume_environment_exits_2():
    if not WORKER:
        raise Skip("sweep-worker not built")
    with TempDirs() as t:
        d = t.new("trial")
        cases = [
            ({"SWEEP_RESUME": "2", "SWEEP_RESUME_EPOCH": "3"}, "SWEEP_RESUME='2'"),
            ({"SWEEP_RESUME": "1"}, "SWEEP_RESUME_EPOCH='(unset)'"),
            ({"SWEEP_RESUME": "1", "SWEEP_RESUME_EPOCH": "0"}, "SWEEP_RESUME_EPOCH='0'"),
            ({"SWEEP_RESUME": "1", "SWEEP_RESUME_EPOCH": "3x"}, "SWEEP_RESUME_EPOCH='3x'"),
            ({"SWEEP_RESUME_EPOCH": "3"}, "SWEEP_RESUME is not set"),
            ({"SWEEP_TRIAL_DIR": os.path.join(d, "nope")}, "nope': No such file"),
        ]
        for extra, says in cases:
            e = env(SYN, d)
            e.update(extra)
            p = subprocess.run([WORKER], env=e, capture_output=True, text=True,
                               timeout=60)
            assert p.returncode == 2 and says in p.stderr, (extra, p.returncode, p.stderr)
        assert os.listdir(d) == []


def test_predict_gives_the_final_lines_test_figures():
    with TempDirs() as t:
        d = t.new("trial")
        rc, lines, err = run(env(SYN, d))
        assert rc == 0, err
        final = json.loads(lines[-1])
        p = subprocess.run([WORKER, "--predict", os.path.join(d, "best.weights")],
                           env={"PATH": "/usr/bin:/bin"}, capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        got = json.loads(p.stdout)
        # the same numbers, printed the same way
        want = lines[-1].replace('"final":true,', "")[:-1]
        assert p.stdout.startswith(want + ","), (p.stdout, want)
        assert got["best_epoch"] == final["best_epoch"]
        assert got["test_samples"] == SYN["synthetic_test_size"]
        # a corrupt file, a checkpoint instead of weights, no file: exit 2
        bad = os.path.join(d, "bad.weights")
        shutil.copy(os.path.join(d, "best.weights"), bad)
        corrupt(bad, "flip")
        for path, says in ((bad, "checksum"), (os.path.join(d, "checkpoint-6"), "kind"),
                           (os.path.join(d, "none"), "No such file")):
            p = subprocess.run([WORKER, "--predict", path], capture_output=True,
                               text=True, timeout=60)
            assert p.returncode == 2 and says in p.stderr and path in p.stderr, p.stderr
            assert p.stdout == ""


def test_fashion_mnist_with_augmentation_resumes_bit_exactly():
    """Real images, shift augmentation (its own rng stream) and a small
    part of the training set."""
    if not os.path.exists(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz")):
        raise Skip("%s missing (apt-get install dataset-fashion-mnist)" % FASHION)
    params = {"train_fraction": 0.04, "augment": "shift", "batchnorm": True,
              "dropout": 0.1, "optimizer": "momentum", "epochs": 4}
    with TempDirs() as t:
        cache = {"SWEEP_DATA_CACHE": t.new("cache")}   # decode the images once
        rc, ref, err = run(env(params, **cache))
        assert rc == 0 and len(ref) == 5, err
        d = t.new("trial")
        assert run_blocked(env(params, d, **cache), d, ref, 2) == ref[:2]
        rc, lines, err = run(env(params, d, resume=2, **cache))
        assert rc == 0, err
        check_resumed(ref, lines, 2)


if __name__ == "__main__":
    sys.exit(run_tests([
        test_writing_checkpoints_changes_no_figure,
        test_killed_after_epoch_3_resumes_bit_exactly,
        test_sigterm_then_resume_twice,
        test_checkpoint_ahead_of_the_daemon_resumes_from_k,
        test_no_checkpoint_of_k_starts_over,
        test_corrupt_checkpoint_is_refused_and_the_run_starts_over,
        test_checkpoint_of_other_params_or_seed_is_refused,
        test_patience_stop_survives_a_resume,
        test_without_trial_dir_nothing_is_written,
        test_bad_resume_environment_exits_2,
        test_predict_gives_the_final_lines_test_figures,
        test_fashion_mnist_with_augmentation_resumes_bit_exactly,
    ]))
