#!/usr/bin/python3
"""The Optuna side of bench_e2e.py: configs/quickstart.json's sweep under
Optuna (Debian's python3-optuna 3.1) driving the same BNNet in PyTorch
(python3-torch), the way an Optuna user would write it. Not a test.

  /usr/bin/python3 bench/e2e/optuna_bnnet.py SPEC.json WORKDIR [--workers 2]

SPEC.json is the spec as sweepd stored it (the `spec` of its `sweep`
reply: every default written out), which bench_e2e.py passes.

The study: TPESampler (seeded from the spec, its n_startup trials random),
SuccessiveHalvingPruner with the spec's ASHA rungs (min_resource =
min_epochs, reduction_factor = eta) and sweepd's wait for min_trials
completed trials before any stop (Optuna's pruner has no such option, so
a wrapper adds it), SQLite storage in WORKDIR/optuna.db,
--workers worker processes (one torch thread each) sharing the study until
search.trials trials exist. The data are sweep-worker's: its train/val split
(the same xoshiro256** shuffle of split_seed 0, val_size 10,000),
train_fraction of the training part, one mean and std from that part. The
net and its init follow sweep-worker's (Linear -> BatchNorm1d -> activation
-> dropout per hidden layer; He normal for relu with Glorot uniform on the
output layer, Glorot uniform for tanh and sigmoid, small_normal N(0, 0.01));
the optimisers are torch.optim's. Each trial returns its best val_acc and
keeps the test accuracy of that epoch's weights as a user attribute.

Prints one JSON object: wall seconds (worker start to the last trial's
end), trials, best val_acc, that trial's test_acc and params, pruned.
"""
import gzip
import json
import multiprocessing as mp
import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
M64 = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9e3779b97f4a7c15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return x, z ^ (z >> 31)


class Xoshiro:
    """worker/rng.c's xoshiro256** with its seeding, for the split."""

    def __init__(self, seed, stream):
        _, t = splitmix64(stream)
        x = seed ^ t
        self.s = []
        for _ in range(4):
            x, v = splitmix64(x)
            self.s.append(v)

    def next(self):
        s = self.s
        rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & M64
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, n):
        m = (self.next() >> 32) * n
        low = m & 0xffffffff
        if low < n:
            threshold = ((1 << 32) - n) % n
            while low < threshold:
                m = (self.next() >> 32) * n
                low = m & 0xffffffff
        return m >> 32

    def shuffle(self, a):
        for i in range(len(a), 1, -1):
            j = self.below(i)
            a[i - 1], a[j] = a[j], a[i - 1]


def read_idx(name):
    with gzip.open(os.path.join(DATA, name + ".gz")) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(val_size=10000, split_seed=0):
    """sweep-worker's split: train part and val part of one shuffle."""
    x = read_idx("train-images-idx3-ubyte").reshape(60000, 784)
    y = read_idx("train-labels-idx1-ubyte").astype(np.int64)
    xt = read_idx("t10k-images-idx3-ubyte").reshape(10000, 784)
    yt = read_idx("t10k-labels-idx1-ubyte").astype(np.int64)
    perm = list(range(len(x)))
    Xoshiro(split_seed, 1).shuffle(perm)   # RNG_SPLIT = 1
    perm = np.array(perm)
    n_part = len(x) - val_size
    return x, y, xt, yt, perm[:n_part], perm[n_part:]


def prepared(data, fraction):
    import torch
    x, y, xt, yt, part, val = data
    tr = part[:max(2, int(round(fraction * len(part))))]
    xtr = x[tr].astype(np.float64)
    mean = xtr.mean()
    std = np.sqrt(max((xtr * xtr).mean() - mean * mean, 1e-12))
    f = lambda a: torch.from_numpy(((a.astype(np.float64) - mean) / std).astype(np.float32))
    return (f(x[tr]), torch.from_numpy(y[tr]), f(x[val]), torch.from_numpy(y[val]),
            f(xt), torch.from_numpy(yt))


def build(p, hidden):
    import torch
    from torch import nn
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[p["activation"]]
    layers, fan = [], 784
    for h in hidden:
        layers.append(nn.Linear(fan, h))
        if p["batchnorm"]:
            layers.append(nn.BatchNorm1d(h))
        layers.append(act())
        if p["dropout"] > 0:
            layers.append(nn.Dropout(p["dropout"]))
        fan = h
    layers.append(nn.Linear(fan, 10))
    net = nn.Sequential(*layers)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    for i, m in enumerate(linears):
        nn.init.zeros_(m.bias)
        if p["init"] == "small_normal":
            nn.init.normal_(m.weight, 0.0, 0.01)
        elif p["activation"] == "relu" and i < len(linears) - 1:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        else:
            nn.init.xavier_uniform_(m.weight)
    return net


def optimizer(p, params):
    import torch
    o = p["optimizer"]
    if o == "sgd":
        return torch.optim.SGD(params, lr=p["lr"])
    if o == "momentum":
        return torch.optim.SGD(params, lr=p["lr"], momentum=0.9)
    if o == "adam":
        return torch.optim.Adam(params, lr=p["lr"])
    return torch.optim.RMSprop(params, lr=p["lr"], alpha=0.99)


def accuracy(net, x, y):
    import torch
    net.eval()
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


def suggest(trial, space):
    """The spec's space through Optuna's suggest API."""
    p = {}
    for name, d in space.items():
        if isinstance(d, dict) and "choice" in d:
            p[name] = trial.suggest_categorical(name, d["choice"])
        elif isinstance(d, dict) and "loguniform" in d:
            p[name] = trial.suggest_float(name, *d["loguniform"], log=True)
        elif isinstance(d, dict) and "uniform" in d:
            p[name] = trial.suggest_float(name, *d["uniform"])
        else:
            p[name] = d
    return p


def objective(trial, data, space, cache):
    import optuna
    import torch
    import torch.nn.functional as F
    p = suggest(trial, space)
    torch.manual_seed(trial.number)
    if p["train_fraction"] not in cache:
        cache[p["train_fraction"]] = prepared(data, p["train_fraction"])
    x, y, xv, yv, xt, yt = cache[p["train_fraction"]]
    net = build(p, p["hidden"])
    opt = optimizer(p, net.parameters())
    best, best_state = -1.0, None
    for epoch in range(1, p["epochs"] + 1):
        net.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), p["batch_size"]):
            idx = perm[i:i + p["batch_size"]]
            if len(idx) < 2 and p["batchnorm"]:
                break
            opt.zero_grad()
            loss = F.cross_entropy(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
        va = accuracy(net, xv, yv)
        if va > best:
            best, best_state = va, {k: v.clone() for k, v in net.state_dict().items()}
        trial.report(va, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    net.load_state_dict(best_state)
    trial.set_user_attr("test_acc", accuracy(net, xt, yt))
    return best


def waiting(optuna, inner, min_trials):
    """inner, but stopping no trial at a step until min_trials completed
    trials reached it (sweepd's pruner.min_trials). inner is asked first
    every time: SuccessiveHalvingPruner records the trial's rung value
    when asked, and that record is what later trials are ranked against."""
    done = (optuna.trial.TrialState.COMPLETE,)

    class Waiting(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            stop = inner.prune(study, trial)
            step = trial.last_step
            if not stop or step is None:
                return False
            n = sum(1 for t in study.get_trials(deepcopy=False, states=done)
                    if t.last_step is not None and t.last_step >= step)
            return n >= min_trials
    return Waiting()


def worker(k, url, name, spec, seed):
    import optuna
    import torch
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = load()
    pr = spec["pruner"]
    study = optuna.load_study(
        study_name=name, storage=url,
        # each process its own seed: two with one seed would draw the same
        # random start-up trials
        sampler=optuna.samplers.TPESampler(seed=seed + k,
                                           n_startup_trials=spec["search"]["n_startup"]),
        pruner=waiting(optuna, optuna.pruners.SuccessiveHalvingPruner(
            min_resource=pr["min_epochs"], reduction_factor=pr["eta"],
            min_early_stopping_rate=0), pr["min_trials"]))
    cache = {}
    study.optimize(lambda t: objective(t, data, spec["space"], cache),
                   callbacks=[optuna.study.MaxTrialsCallback(spec["search"]["trials"],
                                                             states=None)])


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    import optuna
    spec = json.load(open(args[0]))
    workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 2
    url = "sqlite:///" + os.path.join(os.path.abspath(args[1]), "optuna.db")
    name = spec["name"]
    study = optuna.create_study(study_name=name, storage=url, direction="maximize")
    t0 = time.time()
    procs = [mp.Process(target=worker, args=(k, url, name, spec, spec["search"]["seed"]))
             for k in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    wall = time.time() - t0
    if any(p.exitcode for p in procs):
        sys.exit("optuna_bnnet: a worker process failed (exit %s)"
                 % [p.exitcode for p in procs])
    study = optuna.load_study(study_name=name, storage=url)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    best = max(done, key=lambda t: t.value) if done else None
    print(json.dumps({"wall_s": wall, "trials": len(study.trials), "completed": len(done),
                      "pruned": len(pruned), "best_val_acc": best.value if best else None,
                      "best_test_acc": best.user_attrs.get("test_acc") if best else None,
                      "best_params": best.params if best else None,
                      "optuna": optuna.__version__}))


if __name__ == "__main__":
    main()
