#!/usr/bin/python3
"""sweep-worker accuracy check: the 15-epoch recipe (Adam 1e-3, batch 128,
best epoch by val_acc restored before the test) for the BNNet and the
256-128 MLP with dropout 0.2, beside PyTorch with the same recipe when
/usr/bin/python3 can import torch. Builds nothing.

  bench/worker/bench_accuracy.py BUILD_DIR [--no-torch] [--seeds N]
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
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return [l for l in lines if l.get("final")][0]


def worker(build, net, seed):
    env = dict(os.environ, SWEEP_SEED=str(seed))
    env["SWEEP_PARAMS"] = json.dumps(dict(NETS[net][1], epochs=15, batch_size=128,
                                          optimizer="adam", lr=1e-3))
    out = subprocess.run([os.path.join(build, "worker", "sweep-worker")], env=env,
                         check=True, capture_output=True, text=True).stdout
    return final_line(out)


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    build = args[0]
    seeds = int(args[args.index("--seeds") + 1]) if "--seeds" in args else 1
    use_torch = "--no-torch" not in args and subprocess.run(
        ["/usr/bin/python3", "-c", "import torch"], capture_output=True).returncode == 0
    print("| net | sweep-worker test_acc (seed: acc, best epoch) | PyTorch test_acc (this run)"
          " | PyTorch reference |")
    print("|---|---|---|---|")
    for net in NETS:
        accs = []
        for s in range(seeds):
            r = worker(build, net, s)
            accs.append(f"{s}: {r['test_acc']:.4f} (e{r['best_epoch']})")
        t = "n/a"
        if use_torch:
            out = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "torch_bench.py"),
                                  "accuracy", net], check=True, capture_output=True,
                                 text=True).stdout
            r = json.loads(out.splitlines()[-1])
            t = f"{r['test_acc']:.4f} (e{r['best_epoch']})"
        print(f"| {NETS[net][0]} | {'; '.join(accs)} | {t} | {REF[net]} |")


if __name__ == "__main__":
    main()
