"""Every benchmark under bench/ runs, on a tiny budget, against this build
and prints its figures: a renamed binary, a changed op or a moved option
breaks a test here instead of the next person who wants the numbers.
Figures are not judged (tests assert behaviour, never timings), only that
each script finishes and prints the lines its README promises.

Skips, saying why: the PyTorch and Optuna parts when /usr/bin/python3
cannot import torch / optuna, the Fashion-MNIST parts when the data set is
missing, the Slurm part when `sinfo` does not answer (no cluster: see
scripts/slurm-cluster.sh), and everything under the sanitizers (a benchmark there measures
nothing and takes minutes).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import SANITIZED, SWEEPD, Skip, run_tests, slurm_or_skip

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BENCH = os.path.join(ROOT, "bench")
BUILD = os.path.dirname(SWEEPD)
PY = "/usr/bin/python3"
FMNIST = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
NUM = r"[0-9]+(\.[0-9]+)?"
_imports = {}


def can_import(mods):
    if mods not in _imports:
        _imports[mods] = subprocess.run([PY, "-c", "import " + mods],
                                        capture_output=True).returncode == 0
    return _imports[mods]


def need(torch=False, optuna=False, data=False):
    if SANITIZED:
        raise Skip("benchmarks run in the normal build only (sanitized: %s)" % SANITIZED)
    if data and not os.path.exists(FMNIST):
        raise Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    if torch and not can_import("torch"):
        raise Skip("%s cannot import torch (apt-get install python3-torch)" % PY)
    if optuna and not can_import("optuna"):
        raise Skip("%s cannot import optuna (apt-get install python3-optuna)" % PY)


def run(cmd, *patterns, timeout=600):
    """Runs cmd from the top of the tree; asserts exit 0 and that every
    regex of patterns matches its stdout. Returns the stdout."""
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    out = p.stdout
    assert p.returncode == 0, "%s: exit %d\n%s\n%s" % (cmd, p.returncode, out[-3000:],
                                                         p.stderr[-3000:])
    for pat in patterns:
        assert re.search(pat, out, re.M), "%s: no line matches %r in:\n%s" % (cmd, pat,
                                                                               out[-3000:])
    return out


def script(rel):
    return [sys.executable, os.path.join(BENCH, rel)]


def test_dispatch():
    need()
    run(script("daemon/bench_dispatch.py") +
        [BUILD, "--trials", "20", "--idle", "1", "--latency-trials", "20", "--requests", "20",
         "--clients", "2"],
        r"^machine limit before: .* %s trials/s$" % NUM,
        r"^machine limit after: %s trials/s; their mean: %s trials/s$" % (NUM, NUM),
        r"^throughput: 20 trials .* completed .* of the machine limit",
        r"^daemon CPU: .* ms per trial", r"^best +10 requests", r"^errors: 0")


def test_dispatch_repeated():
    need()
    run(script("daemon/bench_dispatch.py") +
        [BUILD, "--trials", "20", "--idle", "0", "--repeat", "2", "--skip-latency"],
        r"^-- throughput run 2 of 2 ",
        r"^over 2 runs: ratio median %s \(%s-%s\), last/first median %s, daemon CPU "
        r"without the polls median %s ms per trial$" % (NUM, NUM, NUM, NUM, NUM))


def test_enqueue():
    need()
    run(script("daemon/bench_enqueue.py") + [BUILD, "--sets", "50"],
        r"^random +submit +50 sets", r"^random +enqueue +50 sets")


def test_load():
    need()
    run(script("daemon/bench_load.py") + [BUILD, "--clients", "4", "--requests", "40",
                                           "--burst", "4"],
        r"^ +best +[0-9]+ requests: median", r"^daemon after: rss")


def test_soak():
    need()
    run(script("daemon/bench_soak.py") + [BUILD, "--trials", "30", "--warmup", "10",
                                           "--epochs", "1"],
        r"^trials/s: %s overall" % NUM, r"^zombie children",
        r"^last 15 / first 15: %s" % NUM)


def test_spawn_program():
    need()
    run([os.path.join(BUILD, "bench", "daemon", "bench_spawn"), "--runs", "3",
         "--heap", "0,4"],
        r"^heap 4 MB \(RSS [0-9]+ MB\), 3 runs of /bin/true:$",
        r"^  uv_spawn \(fork\) +%s ms per run" % NUM,
        r"^  child_start \(posix_spawn, pidfd\) +%s ms per run" % NUM)


def test_json_program():
    need()
    run([os.path.join(BUILD, "bench", "daemon", "bench_json"), "--rounds", "2"],
        r"^json_print, 2 rounds of 1000 numbers:$",
        r"^  reported figures \(%%\.10g\) +%s ns per number" % NUM,
        r"^  computed figures \(17 digits\) +%s ns per number" % NUM)


def test_cgroup_program():
    need()
    out = run([os.path.join(BUILD, "bench", "daemon", "bench_cgroup"), "--runs", "3"],
              r"^(3 runs of /bin/true each|no per-trial cgroups here)")
    if "no per-trial cgroups" not in out:
        for mode in ("none", "new", "kept", "trialcg"):
            assert re.search(r"^  %s +%s us per run  clone3 +%s us" % (mode, NUM, NUM),
                             out, re.M), out


def test_search_synth():
    need()
    run(script("search/bench_search.py") + ["synth", BUILD, "--seeds", "1", "--trials", "4"],
        r"^\| sweepd tpe \(parallel 1\) \| %s" % NUM)


def test_search_cond():
    need()
    run(script("search/bench_cond.py") + [BUILD, "--seeds", "1", "--trials", "12"],
        r"^\| tpe, conditions \| %s" % NUM, r"^\| tpe, flattened \| %s" % NUM,
        r"^\| random \| %s" % NUM,
        r"^after 12: tpe with conditions vs flattened \(w/l/t over seeds\): [0-9]+/")


def test_search_importance():
    need()
    run(script("search/bench_importance.py") + [BUILD, "--seeds", "1", "--trials", "12",
                                                 "--mc", "20000"],
        r"^true main-effect shares by Monte Carlo \(20000 samples",
        r"^\| x1 \| 0\.[0-9]+ \| ", r"^seed 1: 12 trials, Spearman ",
        r"^rank correlation: median .* matches in [01]/1 seeds")


def test_search_optuna():
    need(optuna=True)
    run([PY, os.path.join(BENCH, "search", "bench_search.py"), "optuna", BUILD, "--seeds", "1",
         "--trials", "4"], r"^\| optuna")


def test_search_fashion():
    need(data=True)
    with open(os.path.join(ROOT, "configs", "tpe-asha-fashion.json")) as f:
        spec = json.load(f)
    # the same spec, small nets on 2 % of the data for 2 epochs
    spec["space"].update(hidden={"choice": [[48, 24], [16]]}, epochs=2, train_fraction=0.02)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    out_json = f.name + ".out.json"
    try:
        run(script("search/bench_search.py") + ["fashion", BUILD, "--seeds", "1", "--trials",
                                                "2", "--config", f.name, "--target", "0.1",
                                                "--out", out_json],
            r"^seed 1 tpe\+asha: completed, best %s" % NUM,
            r"^seed 1 random +: completed, best %s" % NUM, r"^\| search \| time to 0\.100")
        # the stored sweeps feed the offline replay and the re-run
        run(script("search/bench_ranks.py") + [out_json, "--epochs", "1,2", "--good", "0"],
            r"^\| 1 \| %s \[%s, %s\] over 2 sweeps \| [0-9]" % (NUM, NUM, NUM),
            r"^\| 2 \| ")
        out = run(script("search/bench_rerun.py") + [BUILD, out_json, "--best-below", "1.01",
                                                     "--reps", "1", "--target", "0"],
                  r"^2 trials re-run 1 times each: 2 of 2 re-runs reach 0\.00")
        assert len(re.findall(r"^\S+ seed 1 trial [0-9]+ \(%s\): %s; mean" % (NUM, NUM),
                              out, re.M)) == 2, out
    finally:
        os.unlink(f.name)
        if os.path.exists(out_json):
            os.unlink(out_json)


def _started_daemon(pid):
    """The sweepd child of pid once its socket exists (start_daemon has
    then recorded it), or None."""
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        kids = [int(c) for c in f.read().split()]
    for c in kids:
        try:
            with open("/proc/%d/cmdline" % c) as f:
                argv = f.read().split("\0")
        except FileNotFoundError:
            continue
        if os.path.basename(argv[0]) == "sweepd" and "--state-dir" in argv:
            state = argv[argv.index("--state-dir") + 1]
            if os.path.exists(os.path.join(state, "sweepd.sock")):
                return c
    return None


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def test_killed_bench_stops_its_daemon():
    """SIGTERM to a bench mid-run: it exits and the sweepd it started (and
    so its trainers) does not outlive it."""
    need()
    p = subprocess.Popen(script("search/bench_search.py") +
                         ["synth", BUILD, "--seeds", "1000", "--trials", "24"],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    daemon = None
    try:
        for _ in range(600):
            daemon = _started_daemon(p.pid)
            if daemon:
                break
            time.sleep(0.05)
        assert daemon, "bench_search.py started no sweepd: %s" % p.stderr.read()
        p.terminate()
        p.wait(timeout=60)
        assert p.returncode != 0, "the bench ran to the end: nothing was killed"
        # the daemon was the bench's child: when the bench is gone it was
        # reaped by init, or is still running
        for _ in range(200):
            if not _alive(daemon):
                break
            time.sleep(0.05)
        assert not _alive(daemon), "sweepd %d outlived its bench" % daemon
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if daemon and _alive(daemon):
            os.kill(daemon, 9)


def test_db_and_tpe_programs():
    need()
    run([os.path.join(BUILD, "bench", "db", "bench_db"), "--sweeps", "2", "--trials", "5",
         "--epochs", "2", "--calls", "10", "--inserts", "10"],
        r"^wire_best_json +median", r"^epoch insert")
    run([os.path.join(BUILD, "bench", "search", "bench_tpe"), "10"],
        r"^univariate TPE", r"10 observations: one suggestion median")
    run([os.path.join(BUILD, "bench", "search", "bench_tpe"), "--multivariate", "10"],
        r"^multivariate TPE", r"10 observations: one suggestion median")


def test_worker_speed():
    need(data=True)
    torch = ["--no-torch"] if not can_import("torch") else []
    out = run(script("worker/bench_speed.py") +
              [BUILD, "--nets", "bnnet", "--batches", "256", "--train-fraction", "0.02",
               "--peak-size", "256"] + torch,
              r"^\| BNNet .* \| 256 \| %sk \|" % NUM, r"^load average at the end")
    if not torch:
        assert re.search(r"^\| BNNet .* \| 256 \| [^|]+ \| [^|]+ \| [^|]+ \| %sk \|" % NUM,
                         out, re.M), out


def test_worker_accuracy():
    need(data=True)
    torch = ["--no-torch"] if not can_import("torch") else []
    run(script("worker/bench_accuracy.py") +
        [BUILD, "--nets", "bnnet", "--epochs", "1", "--train-fraction", "0.02"] + torch,
        r"^\| BNNet .* \| 0: 0\.[0-9]+ \(e1\) \|")


def test_worker_resume():
    need(data=True)
    run(script("worker/bench_resume.py") +
        [BUILD, "--epochs", "3", "--kill-after", "1", "--train-fraction", "0.02"],
        r"^uninterrupted, checkpoints: +%s s wall +%s s CPU +test_acc 0\.[0-9]+$"
        % (NUM, NUM),
        r"^killed \+ resumed: +%s s" % NUM,
        r"^checkpoint: [0-9]+ bytes, .* written in %s ms per epoch" % NUM,
        r"^curves equal: yes")


def test_worker_startup():
    need(data=True)
    run(script("worker/bench_startup.py") + [BUILD, "--trials", "2", "--train-fraction", "0.02"],
        r"^trial 1: %s s wall, epochs %s s, start-up and exit -?%s s  \(builds the data cache\)"
        % (NUM, NUM, NUM),
        r"^median over trials 2-2: %s s wall, -?%s s of it not in an epoch" % (NUM, NUM),
        r"^sweep: completed, 2 trials of 1 epoch")


def test_e2e():
    need(torch=True, optuna=True, data=True)
    run(script("e2e/bench_e2e.py") + [BUILD, "--trials", "3", "--epochs", "3",
                                       "--train-fraction", "0.02", "--no-install"],
        r"^\| sweepd \(built-in trainer\) \| %s \| 3 \|" % NUM,
        r"^\| Optuna 3\.[0-9.]+ \+ PyTorch \| %s \|" % NUM,
        r"^Optuna wall / sweepd wall: %s" % NUM)


def test_slurm_srun():
    need()
    slurm_or_skip()
    run(script("slurm/bench_srun.py") + ["--runs", "2"],
        r"^  median %s ms, min" % NUM, r"^  10 lines; arrival of the newline",
        r"^  3 lines of \[18, 102429, 18\] bytes", r"^  100000 lines in %s s, all, in order" % NUM)


def test_slurm_launcher():
    need()
    slurm_or_skip()
    run(script("slurm/bench_launcher.py") +
        [BUILD, "--trials", "4", "--latency-runs", "2", "--free-runs", "1",
         "--builtin-lrs", "2", "--builtin-epochs", "1"],
        r"^  local: 4 trials in %s s, %s trials/s, 4 completed; started -> first line: "
        r"median %s ms" % (NUM, NUM, NUM),
        r"^  slurm: 4 trials in %s s, %s trials/s, 4 completed" % (NUM, NUM),
        r"^  slurm: median %s ms, min %s ms, max %s ms \(n=2\)" % (NUM, NUM, NUM),
        r"^  cancel -> squeue shows no live job: median %s ms" % NUM,
        r"^  pruned -> squeue shows no live job: median %s ms" % NUM,
        r"^  same val_acc for every lr: yes; same best params: yes; same best val_acc: yes",
        timeout=900)


def test_epochs_export():
    need()
    run(script("daemon/bench_epochs.py") + [BUILD, "--trials", "20", "--epochs", "5"],
        r"^100 rows \(20 trials x 5 epochs\), %s MB in [0-9]+ request" % NUM,
        r"^slowest request [0-9]+ ms; worst ping meanwhile [0-9]+ ms",
        r"^RSS [0-9]+ MiB before, peak [0-9]+ MiB")


def test_flood():
    need()
    run(script("daemon/bench_flood.py") + [BUILD, "--epochs", "2000"],
        r"^flood: 1 trainer\(s\) x 2000 epochs, all 2000 stored, %s s, [0-9]+ epochs/s" % NUM,
        r"^ping: [0-9]+ answered, median %s ms, p99 %s ms" % (NUM, NUM))


def test_views():
    need()
    run(script("daemon/bench_views.py") + [BUILD, "--trials", "6", "--epochs", "3",
                                             "--repeat", "1"],
        r"^report: 6 trials x 3 epochs: median %s s, worst %s s, [0-9]+ bytes" % (NUM, NUM),
        r"^serve /body: median %s s, worst %s s, [0-9]+ bytes" % (NUM, NUM))


def test_watchers():
    need()
    for extra, pat in ((["--watchers", "3"], r"^3 stalled watchers, 2 x 200 epochs"),
                       (["--watchers", "1", "--read"], r"^1 reading watchers, 2 x 200 epochs")):
        run(script("daemon/bench_watchers.py") + [BUILD, "--epochs", "200"] + extra, pat,
            r"^RSS: [0-9]+ MiB at start, peak [0-9]+ MiB",
            r"^commits: [0-9]+ for 2 x 200 epochs = %s per epoch; daemon CPU %s s" % (NUM, NUM))


def test_promote():
    need()
    run(script("daemon/bench_promote.py") + [BUILD, "--trials", "30", "--others", "10"],
        r"^A: 30 trials, .* %s s wall, daemon %s s CPU, %s ms per trial, [0-9]+ promotions"
        % (NUM, NUM, NUM),
        r"^B beside A's wait: 10 trials, %s s wall, daemon %s s CPU, %s ms per trial"
        % (NUM, NUM, NUM))


def test_asktell():
    need()
    run(script("python/bench_asktell.py") + ["--build", BUILD, "--trials", "20",
                                               "--epochs", "2"],
        r"^ask\+tell: +20 trials in %s s: [0-9]+ trials/s" % NUM,
        r"^ask\+report\*2\+tell: 20 trials in %s s: [0-9]+ trials/s" % NUM)


def test_trial_writes_program():
    need()
    run([os.path.join(BUILD, "bench", "db", "bench_trial"), "--trials", "20"],
        r"^all +%s us per trial" % NUM, r"^written +%s kB per trial" % NUM)


def test_search_motpe():
    need()
    optuna = [] if can_import("optuna") else ["--no-optuna"]
    out = run([PY, os.path.join(BENCH, "search/bench_motpe.py"), BUILD, "--seeds", "1",
               "--trials", "20", "--dims", "5", "--at", "20", "--problems", "zdt1",
               "--optuna", "tpe"] + optuna,
              r"^\| sweepd MOTPE \| %s " % NUM, r"^\| sweepd random \| %s " % NUM)
    if not optuna:
        assert re.search(r"^\| Optuna .*\| %s " % NUM, out, re.M), out


def test_search_stall():
    need()
    for client in ("python", "c"):
        run(script("search/bench_stall.py") + [BUILD, "--obs", "100", "--clients", "2",
                                                 "--seconds", "1", "--client", client],
            r"^100 trials enqueued ran in %s s" % NUM,
            r"requests from 2 (clients|connections) in 1 s: median %s ms, p99 %s ms.*errors 0"
            % (NUM, NUM),
            r"^TPE trials created meanwhile: [0-9]+")


# Not run on their own: each is a part of a script above, which runs it.
HELPERS = {"e2e/optuna_bnnet.py": "e2e/bench_e2e.py",
           "search/imp_objective.py": "search/bench_importance.py",
           "search/synth_objective.c": "search/bench_search.py",
           "search/bench_motpe.c": "search/bench_motpe.py",
           "search/bench_best.c": "search/bench_stall.py",
           "worker/sgemm_peak.c": "worker/bench_speed.py",
           "worker/torch_bench.py": "worker/bench_speed.py"}


def test_every_benchmark_is_run_here():
    """A new script under bench/ gets its smoke test here, or is named as
    a part of one that has: none rots unseen."""
    me = open(os.path.abspath(__file__)).read()
    tests = me.split("\nHELPERS = ")[0]
    missing = []
    for sub in sorted(os.listdir(BENCH)):
        if not os.path.isdir(os.path.join(BENCH, sub)):
            continue
        for f in sorted(os.listdir(os.path.join(BENCH, sub))):
            rel = sub + "/" + f
            stem = os.path.splitext(f)[0]
            if not f.endswith((".py", ".c")):
                continue
            if rel in HELPERS:
                part_of = open(os.path.join(BENCH, HELPERS[rel])).read()
                if stem not in part_of:
                    missing.append("%s (its script %s does not name it)" % (rel, HELPERS[rel]))
                continue
            if not (f.endswith(".py") and '"%s"' % rel in tests or
                    f.endswith(".c") and '"%s"' % stem in tests):
                missing.append(rel)
    assert not missing, "benchmarks no test here runs: %s" % ", ".join(missing)


if __name__ == "__main__":
    # every test_ function, in the order written (a list kept by hand
    # left test_json_program out of the suite for a session)
    sys.exit(run_tests([f for n, f in list(globals().items())
                        if n.startswith("test_") and callable(f)]))
