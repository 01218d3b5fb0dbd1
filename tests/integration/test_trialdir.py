"""A directory per trial and resume, the daemon's side (docs/DESIGN.md,
SWEEP_TRIAL_DIR, SWEEP_RESUME): the directory is made 0700 before the
first attempt, is the same for every attempt and is kept after the end;
an attempt after an interruption gets SWEEP_RESUME=1 and
SWEEP_RESUME_EPOCH=K, the last stored epoch; the stored curve keeps each
epoch once, the later attempt's row winning; the built-in trainer killed
with the daemon in epoch 3 of 6 resumes and ends as an uninterrupted run;
`artifacts` lists the files, `clean` removes them (never an active
sweep's); --trial-root, and a root others may write to is refused."""
import json
import os
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import (Daemon, Skip, SWEEPD, WORKER, fake_spec, run_tests,
                      wait_for, with_daemon)


def trial_dir(d, sweep, number):
    return os.path.join(d.dir, "trials", str(sweep), str(number))


def fake_env_lines(path):
    with open(os.path.join(path, "fake.env")) as f:
        return [l.split() for l in f.read().splitlines()]


def running(d, sweep, number):
    return any(t["number"] == number and t["status"] == "running"
               for t in d.trials(sweep))


def curve_epochs(d, sweep, number):
    t = d.ok({"op": "trial", "sweep": sweep, "number": number})["trial"]
    return [p["epoch"] for p in t["curve"]], t


def _dir_same_across_attempts_and_kept(d):
    # attempt 1 reports epochs 1, 2 and dies by SIGKILL; the retry (it
    # ignores SWEEP_RESUME) starts over at 1 and reports 1..4
    spec = fake_spec(trials=1, parallel=1,
                     params={"epochs": 4, "kill_after": 2, "log_env": 1},
                     limits={"retries": 1})
    sid = d.submit(spec)
    s = d.wait_sweep(sid)
    assert s["status"] == "completed", s
    path = trial_dir(d, sid, 1)
    st = os.lstat(path)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700, \
        oct(st.st_mode)
    lines = fake_env_lines(path)
    assert lines == [["1", "-", "-", path], ["2", "1", "2", path]], lines
    epochs, t = curve_epochs(d, sid, 1)
    assert t["attempt"] == 2 and t["status"] == "completed", t
    # the restart's rows replaced the first attempt's: each epoch once
    assert epochs == [1, 2, 3, 4], epochs
    assert t["epochs"] == 4, t["epochs"]
    # every row stays stored under its attempt
    rows = d.ok({"op": "epochs", "sweep": sid})["epochs"]
    keys = [(r["attempt"], r["epoch"]) for r in rows]
    assert keys == [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (2, 4)], keys
    d.stop()
    d.start()
    assert os.path.isdir(path), "the trial directory went with a restart"
    epochs, _ = curve_epochs(d, sid, 1)
    assert epochs == [1, 2, 3, 4], epochs


def _sweep_dir_swapped_for_a_link_is_refused(d):
    """The sweep's directory is looked at again for every trial: once it
    is a symbolic link (here to a copy of itself), the next trial is
    refused, not made through the link."""
    spec = fake_spec(trials=2, parallel=1,
                     params={"epochs": 2, "sleep_ms": 400})
    sid = d.submit(spec)
    wait_for(lambda: any(t["status"] == "running" for t in d.trials(sid)))
    sdir = os.path.join(d.dir, "trials", str(sid))
    os.rename(sdir, sdir + ".real")
    os.symlink(sdir + ".real", sdir)
    d.wait_sweep(sid)
    second = [t for t in d.trials(sid) if t["number"] == 2][0]
    msg = (second["error"] or {}).get("message", "")
    assert second["status"] == "failed" and "symbolic link" in msg, second
    assert not os.path.exists(os.path.join(sdir + ".real", "2")), \
        os.listdir(sdir + ".real")


def _sweep_dir_replaced_by_another_is_used(d):
    """The sweep's directory is held open between trials, but the trial's
    directory goes where its path leads: once the sweep's directory is
    renamed away and a new one made in its place, the next trial's
    directory is made in the new one (where its SWEEP_TRIAL_DIR points),
    not in the one held; once it is removed, it is made again, 0700."""
    spec = fake_spec(trials=3, parallel=1,
                     params={"epochs": 2, "sleep_ms": 400})
    sid = d.submit(spec)
    sdir = os.path.join(d.dir, "trials", str(sid))
    assert wait_for(lambda: running(d, sid, 1)), d.trials(sid)
    os.rename(sdir, sdir + ".old")
    os.mkdir(sdir, 0o700)
    assert wait_for(lambda: running(d, sid, 2)), d.trials(sid)
    assert os.path.isdir(os.path.join(sdir, "2")), os.listdir(sdir)
    assert sorted(os.listdir(sdir + ".old")) == ["1"], os.listdir(sdir + ".old")
    subprocess.run(["rm", "-rf", sdir], check=True)
    assert d.wait_sweep(sid)["status"] == "completed", d.trials(sid)
    assert os.path.isdir(os.path.join(sdir, "3")), d.trials(sid)
    assert stat.S_IMODE(os.stat(sdir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(sdir, "3")).st_mode) == 0o700


def held_dirs(d):
    """The directories below the trial root the daemon holds open."""
    root = os.path.join(d.dir, "trials") + "/"
    fds = "/proc/%d/fd" % d.proc.pid
    out = []
    for f in os.listdir(fds):
        try:
            target = os.readlink(os.path.join(fds, f))
        except OSError:
            continue   # closed meanwhile
        if target.startswith(root):
            out.append(target[len(root):])
    return sorted(out)


def _two_sweeps_in_turn_each_in_its_own_dir(d):
    """Two sweeps whose trials start in turn (one worker): each trial's
    directory is made in its own sweep's directory, each sweep holds its
    own directory open while it is active (not one taking it from the
    other at each start), and an ended sweep holds none."""
    params = {"epochs": 2, "sleep_ms": 150, "log_env": 1}
    a = d.submit(fake_spec(name="a", trials=4, parallel=1, params=params))
    b = d.submit(fake_spec(name="b", trials=4, parallel=1, params=params))

    def started(sid, n):
        return sum(t["status"] != "queued" for t in d.trials(sid)) >= n
    assert wait_for(lambda: started(a, 2) and started(b, 2)), \
        (d.trials(a), d.trials(b))
    both = sorted([str(a), str(b)])
    assert wait_for(lambda: held_dirs(d) == both), (held_dirs(d), both)
    for sid in (a, b):
        assert d.wait_sweep(sid)["status"] == "completed", d.trials(sid)
        sdir = os.path.join(d.dir, "trials", str(sid))
        assert sorted(os.listdir(sdir)) == ["1", "2", "3", "4"], \
            os.listdir(sdir)
        for n in (1, 2, 3, 4):
            path = trial_dir(d, sid, n)
            assert fake_env_lines(path) == [["1", "-", "-", path]], path
            t = d.ok({"op": "trial", "sweep": sid, "number": n})["trial"]
            assert t["trial_dir"] == path, t
    assert held_dirs(d) == [], held_dirs(d)


HELD_MAX = 8   # TRIALDIR_HELD_MAX (daemon/sched/trialdir.h)


def _many_sweeps_hold_a_bounded_number_of_dirs(d):
    """Twelve sweeps taking turns on one worker: each would hold its
    directory until it ends, a descriptor per active sweep taken from the
    clients'; past HELD_MAX, one with nothing running gives it back (and
    opens it again at its next trial, in the same place)."""
    n = 12
    params = {"epochs": 2, "sleep_ms": 40}
    sids = [d.submit(fake_spec(name="s%d" % k, trials=3, parallel=1, params=params))
            for k in range(n)]
    most = 0

    def done():
        nonlocal most
        most = max(most, len(held_dirs(d)))
        return all(d.ok({"op": "sweep", "sweep": s})["sweep"]["status"] == "completed"
                   for s in sids)
    assert wait_for(done, timeout=120, step=0.01), [d.trials(s) for s in sids]
    assert 2 <= most <= HELD_MAX + 1, most   # + the one whose trial runs
    for sid in sids:
        sdir = os.path.join(d.dir, "trials", str(sid))
        assert sorted(os.listdir(sdir)) == ["1", "2", "3"], (sid, os.listdir(sdir))
    assert held_dirs(d) == [], held_dirs(d)


def _first_attempt_has_no_resume(d):
    sid = d.submit(fake_spec(trials=2, parallel=2,
                             params={"epochs": 2, "log_env": 1}))
    assert d.wait_sweep(sid)["status"] == "completed"
    for n in (1, 2):
        path = trial_dir(d, sid, n)
        assert fake_env_lines(path) == [["1", "-", "-", path]]


def _first_attempt_gets_a_new_dir(d):
    """A trial's first attempt never sees files it did not write: a
    directory already at its path with files in it (what a daemon killed
    between a trial's start and the commit of its row leaves, before the
    number is given again, maybe to other params) is moved aside to
    NUMBER.stale-1, kept whole, and the attempt gets a new empty one; an
    empty one is used as it is."""
    spec = fake_spec(trials=3, parallel=1,
                     params={"epochs": 2, "sleep_ms": 300, "log_env": 1})
    sid = d.submit(spec)
    sdir = os.path.join(d.dir, "trials", str(sid))
    assert wait_for(lambda: running(d, sid, 1)), d.trials(sid)
    stale = os.path.join(sdir, "2")
    os.mkdir(stale, 0o700)
    with open(os.path.join(stale, "fake.env"), "w") as f:
        f.write("1 - - %s\n" % stale)
    with open(os.path.join(stale, "checkpoint-7"), "w") as f:
        f.write("not yours")
    os.mkdir(os.path.join(sdir, "3"), 0o700)
    assert d.wait_sweep(sid)["status"] == "completed", d.trials(sid)
    for n in (2, 3):
        path = trial_dir(d, sid, n)
        assert fake_env_lines(path) == [["1", "-", "-", path]], \
            (n, fake_env_lines(path))
    assert sorted(os.listdir(trial_dir(d, sid, 2))) == ["fake.env"]
    moved = os.path.join(sdir, "2.stale-1")
    assert sorted(os.listdir(moved)) == ["checkpoint-7", "fake.env"], \
        os.listdir(sdir)
    with open(os.path.join(moved, "checkpoint-7")) as f:
        assert f.read() == "not yours"
    assert sorted(os.listdir(sdir)) == ["1", "2", "2.stale-1", "3"], \
        os.listdir(sdir)
    assert "2.stale-1" in d.log_text(), d.log_text()[-2000:]


# Honours SWEEP_RESUME_EPOCH: epoch 1 is the best (0.9), later ones 0.5;
# attempt 1 dies by SIGKILL after epoch 3.
RESUMING = r"""
start=$(( ${SWEEP_RESUME_EPOCH:-0} + 1 ))
e=$start
while [ $e -le 8 ]; do
  v=0.5; [ $e -eq 1 ] && v=0.9
  echo "{\"epoch\":$e,\"val_acc\":$v}" >&3
  [ "$SWEEP_ATTEMPT" = 1 ] && [ $e -eq 3 ] && kill -9 $$
  e=$((e + 1))
done
echo '{"final":true}' >&3
"""


def _early_stopping_sees_the_whole_curve(d):
    # patience 3: epochs 2, 3 (attempt 1) and 4 (attempt 2) bring nothing
    # over epoch 1's best, so the resumed attempt stops at epoch 4; one
    # that saw only its own epochs would run to 8
    spec = fake_spec(trials=1, parallel=1, limits={"retries": 1},
                     early_stopping={"patience": 3})
    spec["trainer"] = {"command": ["/bin/sh", "-c", RESUMING]}
    spec["space"] = {"x": 1}
    sid = d.submit(spec)
    assert d.wait_sweep(sid)["status"] == "completed"
    epochs, t = curve_epochs(d, sid, 1)
    assert t["attempt"] == 2, t
    assert epochs == [1, 2, 3, 4], (epochs, t)
    # the best epoch is the first attempt's
    assert t["objective"] == 0.9 and t["best_epoch"] == 1, t
    assert "may resume after epoch 3" in d.log_text()


SYN = {"builtin": "mlp", "dataset": "synthetic", "synthetic_size": 60000,
       "val_size": 2000, "synthetic_test_size": 1000, "hidden": [256, 128],
       "batchnorm": True, "dropout": 0.2, "optimizer": "adam",
       "lr_schedule": "cosine", "batch_size": 64}


def builtin_spec():
    return {"name": "resume", "trainer": dict(SYN),
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"epochs": 6},
            "search": {"algorithm": "random", "trials": 1, "parallel": 1,
                       "seed": 5}}


def without_seconds(curve):
    return [{k: v for k, v in p.items() if k != "seconds"} for p in curve]


def test_builtin_killed_with_the_daemon_in_epoch_3_resumes():
    if not WORKER or not os.path.exists(WORKER):
        raise Skip("sweep-worker not built")
    d = Daemon(workers=1).start()
    try:
        sid = d.submit(builtin_spec())
        # in epoch 3: epochs 1 and 2 stored
        assert wait_for(lambda: len(curve_epochs(d, sid, 1)[0]) >= 2,
                        timeout=120, step=0.01)
        d.kill9()
        d.start()
        s = d.wait_sweep(sid, timeout=300)
        assert s["status"] == "completed", s
        epochs, t = curve_epochs(d, sid, 1)
        assert epochs == [1, 2, 3, 4, 5, 6], epochs
        assert t["attempt"] == 2, t
        # the trial counts the epochs of its whole curve, not of its last
        # attempt alone ("at epoch 6 of 3" before)
        assert t["epochs"] == 6, t["epochs"]
        rows = d.ok({"op": "epochs", "sweep": sid})["epochs"]
        first = [r["epoch"] for r in rows if r["attempt"] == 1]
        second = [r["epoch"] for r in rows if r["attempt"] == 2]
        k = max(first)
        assert 2 <= k < 6, first
        assert second == list(range(k + 1, 7)), (first, second)
        assert ("may resume after epoch %d" % k) in d.log_text()
        assert ("resuming after epoch %d" % k) in (t.get("stderr_tail") or ""), \
            t.get("stderr_tail")
        files = os.listdir(trial_dir(d, sid, 1))
        assert "best.weights" in files, files
        listed = d.ok({"op": "artifacts", "sweep": sid, "number": 1})
        names = [f["name"] for f in listed["files"]]
        assert "best.weights" in names and "checkpoint-6" in names, names
        # the same sweep never interrupted
        ref_id = d.submit(builtin_spec())
        r = d.wait_sweep(ref_id, timeout=300)
        assert r["status"] == "completed", r
        _, ref = curve_epochs(d, ref_id, 1)
        assert ref["seed"] == t["seed"], (ref["seed"], t["seed"])
        assert without_seconds(t["curve"]) == without_seconds(ref["curve"])
        for key in ("objective", "best_epoch", "test_loss", "test_acc"):
            assert t[key] == ref[key], (key, t[key], ref[key])
    finally:
        d.cleanup()


def _trial_best_artifacts_and_clean(d):
    sid = d.submit(fake_spec(trials=1, parallel=1,
                             params={"epochs": 2, "log_env": 1}))
    assert d.wait_sweep(sid)["status"] == "completed"
    path = trial_dir(d, sid, 1)
    t = d.ok({"op": "trial", "sweep": sid, "number": 1})["trial"]
    assert t["trial_dir"] == path, t
    b = d.ok({"op": "best", "sweep": sid})["trial"]
    assert b["trial_dir"] == path, b
    out = d.ctl("trial", str(sid), "1", check=0).stdout
    assert "trial dir" in out and path in out, out
    r = d.ok({"op": "artifacts", "sweep": sid, "number": 1})
    assert r["trial_dir"] == path, r
    size = os.path.getsize(os.path.join(path, "fake.env"))
    assert [(f["name"], f["size"]) for f in r["files"]] == [("fake.env", size)]
    assert abs(r["files"][0]["mtime"] -
               os.path.getmtime(os.path.join(path, "fake.env"))) < 1e-3
    out = d.ctl("artifacts", str(sid), "1", check=0).stdout
    assert "fake.env" in out and path in out, out
    j = json.loads(d.ctl("--json", "artifacts", str(sid), "1", check=0).stdout)
    assert j["files"][0]["name"] == "fake.env", j
    r = d.request({"op": "artifacts", "sweep": sid, "number": 9})
    assert r["error"]["code"] == "not_found", r
    # an active sweep's directories are refused; nothing is removed
    busy = d.submit(fake_spec(trials=1, parallel=1,
                              params={"epochs": 50, "sleep_ms": 200,
                                      "log_env": 1}))
    assert wait_for(lambda: os.path.exists(
        os.path.join(trial_dir(d, busy, 1), "fake.env")))
    p = d.ctl("clean", str(busy), "--yes")
    assert p.returncode != 0 and "still active" in p.stderr, p
    assert os.path.exists(os.path.join(trial_dir(d, busy, 1), "fake.env"))
    d.ok({"op": "cancel", "sweep": busy})
    d.wait_sweep(busy)
    # without --yes and no answer: kept
    p = d.ctl("clean", str(sid))
    assert p.returncode != 0 and os.path.isdir(path), p
    out = d.ctl("clean", str(sid), "--yes", check=0).stdout
    assert "1 files" in out, out
    assert not os.path.exists(os.path.join(d.dir, "trials", str(sid)))
    assert os.path.isdir(trial_dir(d, busy, 1)), "clean took another sweep's"
    r = d.ok({"op": "artifacts", "sweep": sid, "number": 1})
    assert r["files"] == [], r
    # after rm, clean still finds what is left; then the id is unknown
    d.ok({"op": "delete", "sweep": busy})
    r = d.ok({"op": "clean", "sweep": busy})
    assert r["removed_files"] == 1, r
    r = d.request({"op": "clean", "sweep": busy})
    assert r["error"]["code"] == "not_found", r


def test_trial_root_option_and_refusals():
    root = tempfile.mkdtemp(prefix="sweepd-troot-")
    try:
        d = Daemon(extra=["--trial-root", os.path.join(root, "t")]).start()
        try:
            sid = d.submit(fake_spec(trials=1, params={"epochs": 1,
                                                       "log_env": 1}))
            assert d.wait_sweep(sid)["status"] == "completed"
            path = os.path.join(root, "t", str(sid), "1")
            assert fake_env_lines(path) == [["1", "-", "-", path]]
            assert not os.path.exists(trial_dir(d, sid, 1))
        finally:
            d.cleanup()
        bad = os.path.join(root, "open")
        os.mkdir(bad)
        os.chmod(bad, 0o777)
        state = tempfile.mkdtemp(prefix="sweepd-test-")
        p = subprocess.run([SWEEPD, "--state-dir", state, "--trial-root", bad],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0, p
        assert bad in p.stderr and "writable" in p.stderr, p.stderr
        if os.geteuid() == 0:
            # another user's directory, named or reached through a link of
            # ours: they could swap what trials write (and resume from)
            theirs = os.path.join(root, "theirs")
            os.mkdir(theirs, 0o755)
            os.chown(theirs, 65534, 65534)
            link = os.path.join(root, "link")
            os.symlink(theirs, link)
            for given in (theirs, link):
                p = subprocess.run([SWEEPD, "--state-dir", state,
                                    "--trial-root", given],
                                   capture_output=True, text=True, timeout=30)
                assert p.returncode != 0, p
                assert theirs in p.stderr and "uid 65534" in p.stderr, \
                    p.stderr
    finally:
        subprocess.run(["rm", "-rf", root])


if __name__ == "__main__":
    sys.exit(run_tests([
        with_daemon(_dir_same_across_attempts_and_kept, serving_after=True),
        with_daemon(_first_attempt_has_no_resume),
        with_daemon(_first_attempt_gets_a_new_dir),
        with_daemon(_sweep_dir_swapped_for_a_link_is_refused),
        with_daemon(_sweep_dir_replaced_by_another_is_used),
        with_daemon(_two_sweeps_in_turn_each_in_its_own_dir, workers=1),
        with_daemon(_many_sweeps_hold_a_bounded_number_of_dirs, workers=1),
        with_daemon(_trial_best_artifacts_and_clean, serving_after=True),
        with_daemon(_early_stopping_sees_the_whole_curve),
        test_builtin_killed_with_the_daemon_in_epoch_3_resumes,
        test_trial_root_option_and_refusals,
    ]))
