"""The examples of docs/python.md, run as written: section 1's train.py
and spec.json through section 3's queries, and section 2's notebook, each
against a real daemon. A doc example that stops working fails here."""
import os
import re
import subprocess
import sys

from conftest import ROOT, py_env

DOC = os.path.join(ROOT, "docs", "python.md")


def blocks():
    with open(DOC) as f:
        text = f.read()
    return re.findall(r"```(python|json)\n(.*?)```", text, re.S)


def run(code, cwd, env):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_doc_has_its_four_examples():
    assert [k for k, _ in blocks()] == ["python", "json", "python", "python"]


def test_script_spec_and_queries(daemon, client, tmp_path):
    (_, train), (_, spec), _, (_, query) = blocks()
    (tmp_path / "train.py").write_text(train)
    (tmp_path / "spec.json").write_text(
        spec.replace("/path/to/sweepd/python", os.path.join(ROOT, "python")))
    env = py_env(SWEEP_STATE_DIR=daemon.dir)
    by_hand = run(train, tmp_path, env)
    assert by_hand.returncode == 0, by_hand.stderr
    assert by_hand.stdout.startswith("SWEEP {\"epoch\":1,")
    p = run(query, tmp_path, env)
    assert p.returncode == 0, p.stderr
    assert "12 trials;" in p.stdout, p.stdout
    (s,) = client.sweeps()
    assert s["status"] == "completed"
    done = client.trials(s["id"], status="completed")
    assert done and client.best(s["id"])["objective"] < 0.1


def test_notebook(daemon, client, tmp_path):
    _, _, (_, notebook), _ = blocks()
    p = run(notebook, tmp_path, py_env(SWEEP_STATE_DIR=daemon.dir))
    assert p.returncode == 0, p.stderr
    assert "'lr':" in p.stdout, p.stdout
    (s,) = client.sweeps()
    assert s["status"] == "completed"
    assert len(client.trials(s["id"])) == 12
