"""sweepctl watch on a terminal, in tmux, at several sizes.

A sweep of slow fake-trainer trials (and quick failing ones, so that some
trials are done and the time left shows) is watched in a detached tmux
session; the pane is resized from 120x30 to 60x20, to 80x6 and back, and
the screen (capture-pane) is checked after each size: one header, first;
every line one the view draws (no stale or garbled ones left over from the
last size); the layout of that width (the status in the header, the time
left on the bar line, the verdict at the end of a trial line). pause and
resume show in the header; when the sweep ends the last frame stays.

Skipped when tmux is not installed (Debian: apt-get install tmux).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import SWEEPCTL, Daemon, Skip, fake_spec, run_tests, wait_for

NAME = "a-sweep-name-long-enough-to-crowd-a-narrow-terminal"
VERDICTS = ("good_fit", "improving", "overfitting", "underfitting", "plateau",
            "diverged", "vanishing_gradients", "exploding_gradients",
            "insufficient_data", "unknown")
# What each line of a frame looks like (live.c); anything else on the
# screen is a leftover.
LINE_RES = [re.compile(r) for r in (
    r"^sweep \d+ ", r"^[█░]* ?\d+/\d+ trials  \d+%  elapsed ",
    r"^queued \d+  running \d+", r"^  #\d+ +epoch ", r"^  \.\.\. \d+ more running",
    r"^best      ", r"^verdicts  ", r"^failures  ")]


class Tmux:
    def __init__(self, tmp):
        if not shutil.which("tmux"):
            raise Skip("tmux is not installed")
        self.sock = os.path.join(tmp, "tmux.sock")

    def run(self, *args):
        return subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null"] +
                              list(args), capture_output=True, text=True,
                              timeout=30, check=True).stdout

    def start(self, w, h, command):
        self.run("new-session", "-d", "-s", "w", "-x", str(w), "-y", str(h),
                 command)
        # no status bar: the pane is the whole window (the view redraws
        # for the size it then gets)
        self.run("set-option", "-t", "w", "status", "off")

    def resize(self, w, h):
        self.run("resize-window", "-t", "w", "-x", str(w), "-y", str(h))

    def screen(self):
        return self.run("capture-pane", "-p", "-t", "w").split("\n")

    def kill(self):
        subprocess.run(["tmux", "-S", self.sock, "kill-server"],
                       capture_output=True, timeout=30)


def problems(lines, w, h):
    """What is wrong with a captured screen of w x h, as a list."""
    bad = []
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if len(lines) > h:
        bad.append("%d lines on a %d-row screen" % (len(lines), h))
    heads = [l for l in lines if l.startswith("sweep ")]
    if len(heads) != 1 or not lines or not lines[0].startswith("sweep "):
        bad.append("%d headers, first line %r" % (len(heads), lines[:1]))
    for l in lines:
        if len(l) > w:
            bad.append("%d columns: %r" % (len(l), l))
        if not any(r.match(l) for r in LINE_RES):
            bad.append("not a line of the view: %r" % l)
    return bad


def settled(t, w, h, pred=lambda lines: True):
    """The screen once it is a clean frame of w x h for which pred holds
    (the view redraws within a second); else the last one, for the
    message."""
    last = []

    def ok():
        last[:] = t.screen()
        rows = [l for l in last if l.strip()]
        return not problems(list(last), w, h) and pred(rows) and rows
    wait_for(ok, timeout=15, step=0.1)
    return [l for l in last if l.strip()]


def header(rows):
    return rows[0] if rows else ""


def _watch_redraws_cleanly_at_every_size():
    tmp = tempfile.mkdtemp(prefix="sweepd-watch-")
    t = Tmux(tmp)
    d = Daemon().start()
    try:
        # slow trials (20 s) and quick failures; seeded, so the same mix
        # every run
        sid = d.submit(fake_spec(name=NAME, trials=12, parallel=2, params={
            "epochs": 200, "sleep_ms": 100,
            "mode": {"choice": ["ok", "exit3", "ok"]}}))
        assert wait_for(lambda: d.ok({"op": "sweep", "sweep": sid})["sweep"]
                        ["counts"]["failed"] >= 1, timeout=30), "no failure"
        # the pane stays after the view exits, to show what it left;
        # stderr and the exit status go to files
        err, rc = os.path.join(tmp, "stderr"), os.path.join(tmp, "rc")
        t.start(120, 30, "env LANG=C.UTF-8 %s --state-dir %s watch %d 2>%s; "
                "echo $? >%s; sleep 60" % (SWEEPCTL, d.dir, sid, err, rc))
        rows = settled(t, 120, 30, lambda r: any(l.startswith("  #") and
                                                 re.search(r"epoch +\d+/200  val_acc 0", l)
                                                 for l in r))
        assert not problems(rows, 120, 30), (problems(rows, 120, 30), rows)
        assert header(rows).startswith("sweep %d %s  running  objective val_acc (max)"
                                       % (sid, NAME)), rows
        print("# 120x30:\n# " + "\n# ".join(rows))

        t.resize(60, 20)
        rows = settled(t, 60, 20, lambda r: "…" in header(r))
        assert not problems(rows, 60, 20), (problems(rows, 60, 20), rows)
        assert re.match(r"sweep %d a-sweep-name.*…  running" % sid, header(rows)), rows
        assert any(re.match(r"^[█░]+ \d+/12 trials .* left$", l) for l in rows), rows
        trial_rows = [l for l in rows if l.startswith("  #")]
        assert trial_rows and any(l.split()[-1] in VERDICTS for l in trial_rows), rows
        print("# 60x20:\n# " + "\n# ".join(rows))

        t.resize(80, 6)
        rows = settled(t, 80, 6, lambda r: len(header(r)) > 60)
        assert not problems(rows, 80, 6), (problems(rows, 80, 6), rows)
        assert len(rows) == 6 and rows[-1].startswith(("verdicts", "failures")), rows
        print("# 80x6:\n# " + "\n# ".join(rows))

        d.ok({"op": "pause", "sweep": sid})
        t.resize(120, 30)
        rows = settled(t, 120, 30, lambda r: NAME + "  paused  " in header(r))
        assert not problems(rows, 120, 30), (problems(rows, 120, 30), rows)
        assert len([l for l in rows if l.startswith("  #")]) >= 1, rows
        d.ok({"op": "resume", "sweep": sid})
        rows = settled(t, 120, 30, lambda r: NAME + "  running  " in header(r))
        assert NAME + "  running  " in header(rows), rows

        # the end: the view exits and its last frame stays
        d.ok({"op": "cancel", "sweep": sid})
        rows = settled(t, 120, 30, lambda r: "  cancelled  " in header(r))
        assert not problems(rows, 120, 30), (problems(rows, 120, 30), rows)
        assert "  cancelled  " in header(rows), rows
        assert wait_for(lambda: os.path.exists(rc) and open(rc).read().strip())
        with open(rc) as f, open(err) as g:
            # 5: cancelled (docs/cli.md)
            assert f.read().strip() == "5" and g.read() == "", (rc, open(err).read())
    finally:
        t.kill()
        d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def _watch_of_an_ended_sweep_shows_its_verdicts():
    """Watching a sweep that has ended already: its last frame counts the
    verdicts as `status` does, not "none yet"."""
    tmp = tempfile.mkdtemp(prefix="sweepd-watch-")
    t = Tmux(tmp)
    d = Daemon().start()
    try:
        sid = d.submit(fake_spec(trials=4, parallel=2, params={"epochs": 6}))
        assert wait_for(lambda: d.ok({"op": "sweep", "sweep": sid})["sweep"]
                        ["status"] == "completed", timeout=60)
        want = d.ok({"op": "sweep", "sweep": sid})["sweep"]["verdicts"]
        assert want, want
        t.start(120, 30, "env LANG=C.UTF-8 %s --state-dir %s watch %d; sleep 60"
                % (SWEEPCTL, d.dir, sid))
        rows = settled(t, 120, 30, lambda r: "  completed  " in header(r))
        assert not problems(rows, 120, 30), (problems(rows, 120, 30), rows)
        line = [l for l in rows if l.startswith("verdicts  ")]
        assert line and "none yet" not in line[0], (line, want)
        words = line[0].split()[1:]
        got = {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}
        assert got == want, (line, want)
    finally:
        t.kill()
        d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = [_watch_redraws_cleanly_at_every_size,
         _watch_of_an_ended_sweep_shows_its_verdicts]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
