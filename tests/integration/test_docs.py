"""The docs cannot drift from the program: every sweepctl command line in a
code block of README.md and docs/ runs (as doctests do) against a real
sweepd holding small fake-trainer sweeps, exits 0, and prints what the
docs show after it; every `sweepctl WORD` the docs mention is a command;
the command tables list every command `sweepctl help` has."""
import glob
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import SWEEPCTL, Daemon, fake_spec, run_tests

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = [os.path.join(TOP, "README.md"), os.path.join(TOP, "worker", "README.md")] + \
    sorted(glob.glob(os.path.join(TOP, "docs", "*.md")))
CMD = re.compile(r"(?:^|\$\(|&& |\| |; )(?:build/)?sweepctl\s")
LONG_RUNNING = ("serve", "watch")


def blocks(path):
    """(line number, [lines]) of each fenced or 4-space indented block."""
    out, cur, fenced, start = [], None, False, 0
    with open(path) as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines, 1):
        if line.startswith("```"):
            if fenced:
                out.append((start, cur))
                cur, fenced = None, False
            else:
                cur, fenced, start = [], True, i + 1
            continue
        if fenced:
            cur.append(line)
        elif line.startswith("    ") and (cur is not None or
                                         i == 1 or not lines[i - 2].strip()):
            if cur is None:
                cur, start = [], i
            cur.append(line[4:])
        elif cur is not None and not line.strip():
            cur.append("")
        elif cur is not None:
            out.append((start, cur))
            cur = None
    if cur is not None:
        out.append((start, cur))
    return out


def examples():
    """(where, command, shown output lines or None) for every command line."""
    found = []
    for path in DOCS:
        for start, lines in blocks(path):
            for k, line in enumerate(lines):
                text = line[2:] if line.startswith("$ ") else line
                if not CMD.search(text) or "COMMAND" in text:
                    continue
                shown = None
                if line.startswith("$ "):
                    shown = []
                    for nxt in lines[k + 1:]:
                        if not nxt.strip() or nxt.startswith("$ "):
                            break
                        shown.append(nxt)
                where = "%s:%d" % (os.path.relpath(path, TOP), start + k)
                found.append((where, re.sub(r"\s+#.*$", "", text), shown))
    return found


def line_pattern(shown):
    """A doc's output line as a regex: numbers and hex tokens stand for any."""
    parts = re.split(r"([0-9a-f]{16,}|\d+(?:\.\d+)?)", shown)
    rx = "".join(re.escape(p) if i % 2 == 0 else r"[0-9a-f.]+"
                 for i, p in enumerate(parts))
    return re.compile(rx + r"\s*$")


def matches(shown, got):
    """shown lines (`...` for any lines; stderr lines skipped) against got."""
    shown = [s for s in shown if not s.startswith("sweepctl: ")]
    if "..." in shown:
        cut = shown.index("...")
        head, tail = shown[:cut], shown[cut + 1:]
        return matches(head, got[:len(head)]) and \
            (not tail or matches(tail, got[-len(tail):]))
    return len(shown) == len(got) and all(
        line_pattern(s).match(g) for s, g in zip(shown, got))


def setup(d, tmp, cmds):
    """Sweeps 1..3 (the docs' examples use 1 and 3; 3 has 60 trials) and a
    fake-trainer spec at every .json path the commands name."""
    for n in (2, 2, 60):
        sid = d.submit(fake_spec(trials=n, parallel=2, params={"epochs": 2}))
        d.wait_sweep(sid, timeout=120)
    for _, cmd, _ in cmds:
        for tok in shlex.split(cmd.replace("$(", " ").replace(")", " ")):
            if tok.endswith(".json"):
                p = os.path.join(tmp, tok)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w") as f:
                    json.dump(fake_spec(trials=2, params={"epochs": 2}), f)


def run(cmd, env, cwd):
    first = re.sub(r"^(?:build/)?sweepctl\s+", "", cmd).split()
    if first and first[0] in LONG_RUNNING:
        p = subprocess.Popen(["bash", "-c", "exec " + cmd], env=env, cwd=cwd,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        line = p.stdout.readline()
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=20)
        return 0 if line else p.returncode, [line.rstrip("\n")], ""
    p = subprocess.run(["bash", "-c", cmd], env=env, cwd=cwd, timeout=120,
                       capture_output=True, text=True)
    return p.returncode, p.stdout.rstrip("\n").split("\n"), p.stderr


def test_every_documented_command_runs_as_shown():
    cmds = examples()
    assert len(cmds) >= 6, cmds
    d = Daemon().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            setup(d, tmp, cmds)
            bindir = os.path.join(tmp, "bin")
            os.makedirs(os.path.join(tmp, "build"))
            os.makedirs(bindir)
            for link in (os.path.join(bindir, "sweepctl"),
                         os.path.join(tmp, "build", "sweepctl")):
                os.symlink(os.path.abspath(SWEEPCTL), link)
            env = dict(os.environ, SWEEP_STATE_DIR=d.dir,
                       PATH=bindir + ":" + os.environ.get("PATH", ""))
            bad = []
            for where, cmd, shown in cmds:
                rc, out, err = run(cmd, env, tmp)
                if rc != 0:
                    bad.append("%s: `%s` exited %d: %s" % (where, cmd, rc, err.strip()))
                elif shown is not None and not matches(shown, out):
                    bad.append("%s: `%s` printed %r, the docs show %r"
                               % (where, cmd, out, shown))
            assert not bad, "\n".join(bad)
    finally:
        d.cleanup()


def help_commands():
    out = subprocess.run([SWEEPCTL, "help"], capture_output=True, text=True,
                         timeout=10).stdout
    return re.findall(r"^  ([a-z]+)", out, re.M), out


def test_synopsis_is_the_usage_line():
    _, out = help_commands()
    usage = out.split("\n")[0].replace("usage: ", "")
    for path in DOCS:
        for _, lines in blocks(path):
            for line in lines:
                if "COMMAND" in line and "sweepctl " in line:
                    assert line.replace("build/", "").strip() == usage, \
                        (path, line, usage)


def test_every_mentioned_command_exists():
    names, _ = help_commands()
    bad = []
    for path in DOCS:
        with open(path) as f:
            text = f.read()
        # in code: inline spans that start with it, and command lines of
        # code blocks (a comment in a Python block is not a command)
        code = [c for c in re.findall(r"`([^`\n]+)`", text)
                if re.match(r"(?:build/)?sweepctl ", c)] + \
            [l for _, ls in blocks(path) for l in ls
             if CMD.search(l[2:] if l.startswith("$ ") else l)]
        for m in re.finditer(r"(?:build/)?sweepctl ((?:--[a-z-]+ )*)([a-z]+)\b",
                             "\n".join(code)):
            if m.group(2) not in names:
                bad.append("%s: `%s`" % (os.path.relpath(path, TOP), m.group(0)))
    assert not bad, "not sweepctl commands: %s" % bad


def test_command_tables_list_every_command():
    names, _ = help_commands()
    for doc in ("README.md", "docs/cli.md"):
        with open(os.path.join(TOP, doc)) as f:
            text = f.read()
        listed = set(re.findall(r"^\| `([a-z]+)[ `,]", text, re.M)) | \
            set(re.findall(r"^\| `[a-z]+`, `([a-z]+)`", text, re.M)) | \
            set(re.findall(r"`, `([a-z]+) SWEEP` \|", text))
        missing = [n for n in names if n not in listed and n != "help"]
        assert not missing, "%s's command table lacks %s" % (doc, missing)


if __name__ == "__main__":
    sys.exit(run_tests([test_synopsis_is_the_usage_line,
                        test_every_mentioned_command_exists,
                        test_command_tables_list_every_command,
                        test_every_documented_command_runs_as_shown]))
