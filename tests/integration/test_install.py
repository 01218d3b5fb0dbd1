"""`meson install --destdir TMP`: the tree a lab server gets. Binaries on
PATH, the trainer and the exec wrapper in libexec where sweepd looks for them, the systemd user
unit's ExecStart for the prefix, man pages that render and list every
command, and a bash completion that completes them."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Skip, run_tests

BUILD = os.environ.get("MESON_BUILD_DIR", "")
PREFIX = os.environ.get("SWEEPD_PREFIX", "")
LIBEXEC = os.environ.get("SWEEPD_LIBEXECDIR", "")
TREE = {}


def tree():
    """Installs once into a temporary destdir; returns its prefix dir."""
    if "root" in TREE:
        return TREE["root"]
    if not BUILD or not PREFIX or not shutil.which("meson"):
        raise Skip("no build dir or meson to install from")
    dest = tempfile.mkdtemp(prefix="sweepd-install-")
    TREE["dest"] = dest
    p = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild",
                        "--quiet", "--destdir", dest],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr + p.stdout
    TREE["root"] = dest + PREFIX
    return TREE["root"]


def path(rel):
    return os.path.join(tree(), rel)


def commands():
    """The command names `sweepctl help` lists, from the installed one."""
    out = subprocess.run([path("bin/sweepctl"), "help"], capture_output=True,
                         text=True, timeout=10).stdout
    names = re.findall(r"^  ([a-z]+)", out, re.M)
    assert len(names) > 10, out
    return names


def test_programs_on_path_trainer_in_libexec():
    for b in ("sweepd", "sweepctl"):
        assert os.access(path("bin/" + b), os.X_OK), b
    assert not os.path.exists(path("bin/sweep-worker")), \
        "the trainer is not a user command: it belongs in libexec"
    worker = tree() + LIBEXEC[len(PREFIX):] + "/sweep-worker"
    assert LIBEXEC.startswith(PREFIX) and "libexec" in LIBEXEC, LIBEXEC
    assert os.access(worker, os.X_OK), worker
    p = subprocess.run([worker, "--params-table"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 0 and "lr" in p.stdout, p.stdout + p.stderr
    # no exec wrapper any more: sweepd sets a trial's limits in the child
    assert not os.path.exists(path("bin/sweepd-exec"))
    assert not os.path.exists(tree() + LIBEXEC[len(PREFIX):] + "/sweepd-exec")


def test_sweepd_defaults_to_the_installed_trainer():
    # Nothing beside the installed sweepd: its default --worker is the
    # libexec path it was built for.
    env = dict(os.environ)
    env.pop("SWEEPD_WORKER", None)
    p = subprocess.run([path("bin/sweepd"), "--help"], capture_output=True,
                       text=True, timeout=10, env=env)
    assert p.returncode == 0, p.stderr
    assert LIBEXEC + "/sweep-worker" in p.stdout + p.stderr, p.stdout


def test_unit_execstart_is_the_installed_sweepd():
    unit = path("lib/systemd/user/sweepd.service")
    with open(unit) as f:
        text = f.read()
    assert "@" not in re.sub(r"^#.*$", "", text, flags=re.M), text
    m = re.search(r"^ExecStart=(\S+)", text, re.M)
    assert m and m.group(1) == PREFIX + "/bin/sweepd", text
    assert os.access(TREE["dest"] + m.group(1), os.X_OK), m.group(1)
    doc = re.search(r"file://(\S+)", text).group(1)
    assert os.path.exists(TREE["dest"] + doc), doc


def test_man_pages_render_and_list_every_command():
    if not shutil.which("groff"):
        raise Skip("no groff to render the man pages")
    for page in ("share/man/man8/sweepd.8", "share/man/man1/sweepctl.1"):
        p = subprocess.run(["groff", "-mandoc", "-Tutf8", "-ww", "-z",
                            path(page)], capture_output=True, text=True,
                           timeout=20)
        assert p.returncode == 0 and not p.stderr, (page, p.stderr)
    with open(path("share/man/man1/sweepctl.1")) as f:
        listed = re.findall(r"^\.It Cm (\S+)", f.read(), re.M)
    missing = [c for c in commands() if c not in listed]
    assert not missing, "sweepctl(1) lacks %s" % missing


def test_bash_completion_completes_the_commands():
    comp = path("share/bash-completion/completions/sweepctl")
    script = ('PATH=%s:$PATH; . %s; COMP_WORDS=(sweepctl ""); COMP_CWORD=1; '
              '_sweepctl; printf "%%s\\n" "${COMPREPLY[@]}"; '
              'COMP_WORDS=(sweepctl export 1 --format ""); COMP_CWORD=4; '
              '_sweepctl; printf "fmt:%%s\\n" "${COMPREPLY[@]}"; '
              'COMP_WORDS=(sweepctl trials 1 --s); COMP_CWORD=3; '
              '_sweepctl; printf "opt:%%s\\n" "${COMPREPLY[@]}"'
              % (path("bin"), comp))
    p = subprocess.run(["bash", "-c", script], capture_output=True,
                       text=True, timeout=20)
    assert p.returncode == 0 and not p.stderr, p.stderr
    got = p.stdout.split()
    assert sorted(w for w in got if not w.startswith(("fmt:", "opt:"))) == \
        sorted(commands()), got
    assert "fmt:csv" in got and "fmt:json" in got, got
    assert sorted(w for w in got if w.startswith("opt:")) == \
        ["opt:--sort", "opt:--status"], got


def test_docs_installed():
    for doc in ("README.md", "cli.md", "spec.md", "DESIGN.md"):
        assert os.path.getsize(path("share/doc/sweepd/" + doc)) > 0, doc


if __name__ == "__main__":
    try:
        rc = run_tests([test_programs_on_path_trainer_in_libexec,
                        test_sweepd_defaults_to_the_installed_trainer,
                        test_unit_execstart_is_the_installed_sweepd,
                        test_man_pages_render_and_list_every_command,
                        test_bash_completion_completes_the_commands,
                        test_docs_installed])
    finally:
        if "dest" in TREE:
            shutil.rmtree(TREE["dest"], ignore_errors=True)
    sys.exit(rc)
