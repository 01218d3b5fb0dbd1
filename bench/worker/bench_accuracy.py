#!/usr/bin/python3
"""sweep-worker accuracy check: the 15-epoch recipe (Adam 1e-3, batch 128,
best epoch by val_acc restored before the test) for the BNNet and the
256-128 MLP with dropout 0.2, beside PyTorch with the same recipe when
/usr/bin/python3 can import torch. Builds nothing.

  bench/worker/bench_accuracy.py BUILD_DIR [--no-torch] [--seeds N]
      [--nets bnnet,mlp] [--epochs 15] [--train-fraction F]

--epochs and --train-fraction shorten the recipe (a quick run; the
reference figures are for 15 epochs on all 50,000 samples).
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
REF = {"bnnet": 0.876, "mlp": 0.888}


def final_line(out):
    # no SWEEP_REPORT_FD: the report lines are on stdout, "SWEEP "-prefixed
    lines = [json.loads(l[6:]) for l in out.splitlines() if l.startswith("SWEEP {")]
    return [l for l in lines if l.get("final")][0]


def opt(args, name, default):
    return args[args.index(name) + 1] if name in args else default


def worker(build, net, seed, epochs, fraction):
    env = dict(os.environ, SWEEP_SEED=str(seed))
    env["SWEEP_PARAMS"] = json.dumps(dict(NETS[net][1], epochs=epochs, batch_size=128,
                                          optimizer="adam", lr=1e-3,
                                          train_fraction=fraction))
    out = subprocess.run([os.path.join(build, "sweep-worker")], env=env,
                         check=True, capture_output=True, text=True).stdout
    return final_line(out)


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    build = args[0]
    seeds = int(opt(args, "--seeds", "1"))
    epochs = int(opt(args, "--epochs", "15"))
    fraction = float(opt(args, "--train-fraction", "1"))
    nets = opt(args, "--nets", ",".join(NETS)).split(",")
    if not os.access(os.path.join(build, "sweep-worker"), os.X_OK):
        sys.exit(f"bench_accuracy: {build}/sweep-worker is missing: build {build} first")
    bad = [n for n in nets if n not in NETS]
    if bad:
        sys.exit(f"bench_accuracy: --nets: unknown {', '.join(bad)} (known: {', '.join(NETS)})")
    use_torch = "--no-torch" not in args and subprocess.run(
        ["/usr/bin/python3", "-c", "import torch"], capture_output=True).returncode == 0
    print("| net | sweep-worker test_acc (seed: acc, best epoch) | PyTorch test_acc (this run)"
          " | PyTorch reference |")
    print("|---|---|---|---|")
    for net in nets:
        accs = []
        for s in range(seeds):
            r = worker(build, net, s, epochs, fraction)
            accs.append(f"{s}: {r['test_acc']:.4f} (e{r['best_epoch']})")
        t = "n/a"
        if use_torch:
            out = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "torch_bench.py"),
                                  "accuracy", net, "--epochs", str(epochs),
                                  "--fraction", str(fraction)], check=True, capture_output=True,
                                 text=True).stdout
            r = json.loads(out.splitlines()[-1])
            t = f"{r['test_acc']:.4f} (e{r['best_epoch']})"
        print(f"| {NETS[net][0]} | {'; '.join(accs)} | {t} | {REF[net]} |")


if __name__ == "__main__":
    main()
