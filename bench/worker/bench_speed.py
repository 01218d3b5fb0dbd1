#!/usr/bin/python3
"""sweep-worker speed benchmark: samples/s of one training epoch (50,000
Fashion-MNIST samples, Adam) for the BNNet and the 256-128 MLP at batch
sizes 32..256, beside PyTorch (one thread, same nets, same data) when
/usr/bin/python3 can import torch, and the single-thread sgemm peak.
Builds nothing.

  bench/worker/bench_speed.py BUILD_DIR [--no-torch] [--repeat N]
      [--nets bnnet,mlp] [--batches 32,64,128,256] [--train-fraction F]
      [--peak-size 2048]

Both sides time steady-state epochs: one whole warm-up epoch, then the
fastest of three. Prints a markdown table; each figure is the best of N
runs (default 1). --train-fraction trains on that share of the 50,000
samples (a quick run; the figures then mean little). The load average is
printed with the figures.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NETS = {
    "bnnet": ("BNNet 784-48-BN-24-BN-10", {"hidden": [48, 24], "batchnorm": True}),
    "mlp": ("MLP 784-256-128-10, dropout 0.2", {"hidden": [256, 128], "dropout": 0.2}),
}
BATCHES = [32, 64, 128, 256]
TORCH_REF = {"bnnet": [22.7, 41.9, 59.5, 95.2], "mlp": [11.7, 15.5, 19.1, 24.1]}


def run_json(cmd, env=None):
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def worker_speed(build, net, bs, fraction):
    env = dict(os.environ)
    env["SWEEP_PARAMS"] = json.dumps(dict(NETS[net][1], batch_size=bs, optimizer="adam",
                                          lr=1e-3, train_fraction=fraction))
    return run_json([os.path.join(build, "sweep-worker"), "--bench"], env)[0]


def opt(args, name, default):
    return args[args.index(name) + 1] if name in args else default


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    build, use_torch = args[0], "--no-torch" not in args
    repeat = int(opt(args, "--repeat", "1"))
    nets = opt(args, "--nets", ",".join(NETS)).split(",")
    batches = [int(b) for b in opt(args, "--batches", "32,64,128,256").split(",")]
    fraction = float(opt(args, "--train-fraction", "1"))
    for name in [os.path.join(build, "sweep-worker"),
                 os.path.join(build, "bench", "worker", "sgemm_peak")]:
        if not os.access(name, os.X_OK):
            sys.exit(f"bench_speed: {name} is missing: build {build} first (ninja -C {build})")
    bad = [n for n in nets if n not in NETS]
    if bad:
        sys.exit(f"bench_speed: --nets: unknown {', '.join(bad)} (known: {', '.join(NETS)})")
    print(f"load average at the start: {loadavg()}\n")
    peak = max(run_json([os.path.join(build, "bench", "worker", "sgemm_peak"),
                         opt(args, "--peak-size", "2048"), "5"])[0]
               ["gflops"] for _ in range(repeat))
    torch_res, blas = {}, None
    if use_torch:
        probe = subprocess.run(["/usr/bin/python3", "-c", "import torch"], capture_output=True)
        use_torch = probe.returncode == 0
    print(f"single-thread sgemm peak ({opt(args, '--peak-size', '2048')}^3): {peak:.1f} GFLOP/s\n")
    print("| net | batch | sweep-worker samples/s | GFLOP/s | % of peak | PyTorch samples/s"
          " (this run) | speed-up | PyTorch reference |")
    print("|---|---|---|---|---|---|---|---|")
    for net in nets:
        w = {bs: max((worker_speed(build, net, bs, fraction) for _ in range(repeat)),
                     key=lambda r: r["samples_per_s"]) for bs in batches}
        t = {}
        if use_torch:
            for _ in range(repeat):
                for r in run_json(["/usr/bin/python3", os.path.join(HERE, "torch_bench.py"),
                                   "speed", net, "--fraction", str(fraction)] +
                                  [str(b) for b in batches]):
                    if r["batch"] not in t or r["samples_per_s"] > t[r["batch"]]:
                        t[r["batch"]] = r["samples_per_s"]
                    blas = r["blas"], r["torch"], r["threads"]
        for bs in batches:
            r = w[bs]
            ts = t.get(bs)
            sps = r["samples_per_s"]
            tcol = "%.1fk" % (ts / 1e3) if ts else "n/a"
            ratio = "%.2fx" % (sps / ts) if ts else "n/a"
            print(f"| {NETS[net][0]} | {bs} | {sps / 1e3:.1f}k | {r['gflops']:.1f} | "
                  f"{100 * r['gflops'] / peak:.0f}% | {tcol} | {ratio} | {TORCH_REF[net][BATCHES.index(bs)] if bs in BATCHES else 'n/a'}k |")
    print(f"\nload average at the end: {loadavg()}")
    if blas:
        print(f"\nPyTorch {blas[1]}, {blas[2]} thread(s), BLAS mapped: {', '.join(blas[0])}")
    elif not use_torch:
        print("\nPyTorch not run (python3-torch not importable or --no-torch)")


if __name__ == "__main__":
    main()
