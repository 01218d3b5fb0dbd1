#!/usr/bin/python3
"""PyTorch side of sweep-worker's benchmarks: the same nets, data, split and
preprocessing, one thread.

  torch_bench.py speed NET BATCH... [--fraction F]   per batch size, one
      warm-up epoch, then the fastest of 3 timed epochs (the steady state,
      as sweep-worker --bench); --fraction trains on that share of the
      training part (a quick run)
  torch_bench.py accuracy NET [--epochs 15] [--fraction F]   the 15-epoch
      recipe: test accuracy

NET is bnnet (784-48-BN-ReLU-24-BN-ReLU-10) or mlp (784-256-ReLU-Drop(0.2)-
128-ReLU-Drop(0.2)-10). Prints one JSON object per line. Data: Debian's
Fashion-MNIST; the last 10,000 of a shuffled training file are validation,
pixels standardised with the training part's global mean and std, as
sweep-worker does.
"""
import gzip
import json
import os
import sys
import time

# Debian's torch does its BLAS work in the system OpenBLAS, whose own
# thread pool torch.set_num_threads does not reach: without these the
# "one thread" runs used a second core.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

DATA = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")


def read_idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load():
    x = read_idx("train-images-idx3-ubyte.gz").reshape(60000, 784).astype(np.float32)
    y = read_idx("train-labels-idx1-ubyte.gz").astype(np.int64)
    xt = read_idx("t10k-images-idx3-ubyte.gz").reshape(10000, 784).astype(np.float32)
    yt = read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64)
    perm = np.random.default_rng(0).permutation(60000)
    tr, va = perm[:50000], perm[50000:]
    mean, std = x[tr].mean(), x[tr].std()
    f = lambda a: torch.from_numpy((a - mean) / std)
    return (f(x[tr]), torch.from_numpy(y[tr]), f(x[va]), torch.from_numpy(y[va]),
            f(xt), torch.from_numpy(yt))


def make(net):
    if net == "bnnet":
        return nn.Sequential(nn.Linear(784, 48), nn.BatchNorm1d(48), nn.ReLU(),
                             nn.Linear(48, 24), nn.BatchNorm1d(24), nn.ReLU(),
                             nn.Linear(24, 10))
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(128, 10))


def epoch(model, opt, x, y, bs, max_batches=None):
    model.train()
    perm = torch.randperm(len(x))
    n = 0
    for b, i in enumerate(range(0, len(x), bs)):
        if max_batches is not None and b >= max_batches:
            break
        idx = perm[i:i + bs]
        if len(idx) < 2:
            break
        xb, yb = x[idx], y[idx]
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        n += len(idx)
    return n


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    logits = model(x)
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


def blas_in_use():
    """The BLAS shared objects mapped into this process, resolved."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "blas" in path:
                libs.add(os.path.realpath(path))
    return sorted(libs)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    args = sys.argv[1:]
    flags = {"--fraction": 1.0, "--epochs": 15}
    for name in flags:
        if name in args:
            i = args.index(name)
            flags[name] = type(flags[name])(args[i + 1])
            del args[i:i + 2]
    fraction, epochs = flags["--fraction"], flags["--epochs"]
    mode, net = args[0], args[1]
    x, y, xv, yv, xt, yt = load()
    # the first round(fraction * n) of the (already shuffled) training
    # part, as sweep-worker's train_fraction keeps
    keep = max(2, round(fraction * len(x)))
    x, y = x[:keep], y[:keep]
    if mode == "speed":
        for bs in map(int, args[2:]):
            model = make(net)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            epoch(model, opt, x, y, bs)   # warm-up epoch, as sweep-worker --bench
            dt = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                n = epoch(model, opt, x, y, bs)
                dt = min(dt, time.perf_counter() - t0)
            print(json.dumps({"net": net, "batch": bs, "samples": n, "seconds": dt,
                              "samples_per_s": n / dt, "torch": torch.__version__,
                              "threads": torch.get_num_threads(),
                              "blas": blas_in_use()}), flush=True)
    else:
        model = make(net)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        best = (-1.0, None, 0)
        for e in range(1, epochs + 1):
            epoch(model, opt, x, y, 128)
            vl, va = evaluate(model, xv, yv)
            if va > best[0]:
                best = (va, {k: v.clone() for k, v in model.state_dict().items()}, e)
        last_tl, last_ta = evaluate(model, xt, yt)
        model.load_state_dict(best[1])
        tl, ta = evaluate(model, xt, yt)
        print(json.dumps({"net": net, "best_epoch": best[2], "test_loss": tl, "test_acc": ta,
                          "last_epoch_test_acc": last_ta}), flush=True)


if __name__ == "__main__":
    main()
