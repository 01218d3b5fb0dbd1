#!/usr/bin/python3
"""An external sweepd trainer in PyTorch: the textbook chapter's BNNet
(Linear 784->48, BatchNorm1d, ReLU, 48->24, BatchNorm1d, ReLU, 24->10) on
Fashion-MNIST, speaking the trial report protocol of docs/DESIGN.md through
the sweepd Python package (python/sweepd, docs/python.md).

Needs Debian's python3-torch and dataset-fashion-mnist; run it with
/usr/bin/python3 (Debian's interpreter, the one python3-torch is built for).
By hand:

    SWEEP_PARAMS='{"epochs":2,"train_fraction":0.1}' /usr/bin/python3 examples/pytorch_bnnet.py

reports on stdout ("SWEEP " lines) when SWEEP_REPORT_FD is unset. With
SWEEP_TRIAL_DIR it writes checkpoint-E.pt after every epoch (the last three
are kept) and best.pt, and with SWEEP_RESUME=1 SWEEP_RESUME_EPOCH=K it goes on
from checkpoint-K.pt, reporting from epoch K+1 (docs/pytorch.md). Hyperparameters (all
optional; anything else is refused with exit status 2): see PARAMS below and
docs/pytorch.md. Nothing is downloaded: the IDX files are read from data_dir.
"""
import gzip
import json
import math
import os
import random
import re
import struct
import sys
import time

try:
    import sweepd
except ImportError:     # a checkout: the package is in ../python
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "python"))
    import sweepd

EXIT_USAGE = 2
EXIT_STOPPED = 128 + 15     # as if killed by SIGTERM
CLASSES = 10

# name: (kind, default, check, description). check returns an error or None.
PARAMS = {
    "lr": ("float", 1e-3, lambda v: None if 0 < v <= 10 else "must be in (0, 10]",
           "learning rate"),
    "batch_size": ("int", 128, lambda v: None if 1 <= v <= 65536 else
                   "must be in [1, 65536]", "mini-batch size"),
    "epochs": ("int", 10, lambda v: None if 1 <= v <= 100000 else
               "must be in [1, 100000]", "training epochs"),
    "optimizer": ("enum", "adam", ("sgd", "momentum", "adam", "rmsprop"),
                  "update rule (torch.optim's SGD / SGD+momentum / Adam / RMSprop)"),
    "momentum": ("float", None, lambda v: None if 0 <= v < 1 else "must be in [0, 1)",
                 "momentum: default 0.9; rmsprop: default 0; ignored by sgd and adam"),
    "weight_decay": ("float", 0.0, lambda v: None if 0 <= v <= 1 else
                     "must be in [0, 1]", "L2 penalty (torch.optim's weight_decay)"),
    "dropout": ("float", 0.0, lambda v: None if 0 <= v < 1 else "must be in [0, 1)",
                "dropout probability after each hidden activation"),
    "batchnorm": ("bool", True, None, "BatchNorm1d after each hidden Linear"),
    "activation": ("enum", "relu", ("relu", "tanh", "sigmoid"), "hidden activation"),
    "hidden": ("int_list", [48, 24], None, "hidden widths, input side first"),
    "train_fraction": ("float", 1.0, lambda v: None if 0 < v <= 1 else
                       "must be in (0, 1]", "share of the training part trained on"),
    "val_size": ("int", 10000, lambda v: None if 1 <= v <= 59998 else
                 "must be in [1, 59998]",
                 "last samples of the shuffled training file held out for validation"),
    "split_seed": ("int", 0, lambda v: None if 0 <= v < 2**32 else
                   "must be in [0, 2^32)",
                   "seed of the train/val shuffle (fixed: every trial shares one val set)"),
    "patience": ("int", 0, lambda v: None if v >= 0 else "must be >= 0",
                 "early stopping: epochs without a lower val_loss; 0 = off"),
    "data_dir": ("string", "/usr/share/datasets/fashion-mnist", None,
                 "directory of the Fashion-MNIST IDX .gz files"),
}


def usage_error(msg):
    sys.stderr.write("pytorch_bnnet: %s\n" % msg)
    sys.exit(EXIT_USAGE)


def parse_params(raw):
    """Checks the params; returns a dict with every param filled in."""
    unknown = sorted(k for k in raw if k not in PARAMS)
    if unknown:
        usage_error("unknown param%s %s (known: %s)" % (
            "s" if len(unknown) > 1 else "", ", ".join("'%s'" % k for k in unknown),
            ", ".join(sorted(PARAMS))))
    out = {}
    for name, (kind, default, check, _) in PARAMS.items():
        if name not in raw:
            out[name] = default
            continue
        v = raw[name]
        bad = None
        if kind in ("int", "float"):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                bad = "expected a finite number, got %s" % json.dumps(v)
            elif kind == "int":
                if v != int(v):
                    bad = "%s is not an integer" % json.dumps(v)
                else:
                    v = int(v)
            else:
                v = float(v)
            if bad is None and check is not None:
                bad = check(v)
                if bad:
                    bad = "%s %s" % (json.dumps(v), bad)
        elif kind == "bool":
            if not isinstance(v, bool):
                bad = "expected true or false, got %s" % json.dumps(v)
        elif kind == "enum":
            if v not in check:
                bad = "%s is not one of %s" % (json.dumps(v), ", ".join(check))
        elif kind == "string":
            if not isinstance(v, str) or not v:
                bad = "expected a non-empty string"
        elif kind == "int_list":
            if (not isinstance(v, list) or len(v) > 64 or
                    any(isinstance(h, bool) or not isinstance(h, (int, float)) or
                        h != int(h) or not 1 <= h <= 65536 for h in v)):
                bad = "expected a list of at most 64 integers in [1, 65536]"
            else:
                v = [int(h) for h in v]
        if bad:
            usage_error("param '%s': %s" % (name, bad))
        out[name] = v
    if out["momentum"] is None:
        out["momentum"] = 0.9 if out["optimizer"] == "momentum" else 0.0
    if out["batchnorm"] and out["hidden"] and out["batch_size"] < 2:
        usage_error("param 'batch_size': batchnorm needs batches of 2 or more")
    return out


def read_idx(path, want_dims):
    """A gzipped IDX file (ubyte) as a numpy uint8 array."""
    import numpy as np
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SystemExit("pytorch_bnnet: cannot read %s: %s "
                         "(apt-get install dataset-fashion-mnist, or set data_dir)" % (path, e))
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != want_dims:
        raise SystemExit("pytorch_bnnet: %s is not an IDX ubyte file with %d dimensions"
                         % (path, want_dims))
    dims = struct.unpack(">%dI" % want_dims, data[4:4 + 4 * want_dims])
    start = 4 + 4 * want_dims
    count = 1
    for d in dims:
        count *= d
    if len(data) - start != count:
        raise SystemExit("pytorch_bnnet: %s: header says %d bytes of data, file has %d"
                         % (path, count, len(data) - start))
    return np.frombuffer(data, dtype=np.uint8, offset=start).reshape(dims)


def load_split(p):
    """(train_x, train_y, val_x, val_y, test_x, test_y) as torch tensors."""
    import numpy as np
    import torch

    def load(prefix):
        x = read_idx(os.path.join(p["data_dir"], prefix + "-images-idx3-ubyte.gz"), 3)
        y = read_idx(os.path.join(p["data_dir"], prefix + "-labels-idx1-ubyte.gz"), 1)
        if x.shape[0] != y.shape[0]:
            raise SystemExit("pytorch_bnnet: %s: %d images but %d labels"
                             % (prefix, x.shape[0], y.shape[0]))
        x = torch.from_numpy(x.reshape(x.shape[0], -1).astype(np.float32) / 255.0)
        return x, torch.from_numpy(y.astype(np.int64))

    x, y = load("train")
    tx, ty = load("t10k")
    n = x.shape[0]
    if p["val_size"] > n - 2:
        usage_error("param 'val_size': %d leaves fewer than 2 of the %d training samples"
                    % (p["val_size"], n))
    # One fixed shuffle (split_seed), so every trial is judged on the same
    # validation set; SWEEP_SEED drives everything else.
    perm = torch.from_numpy(np.random.RandomState(p["split_seed"]).permutation(n))
    n_train = n - p["val_size"]
    tr, va = perm[:n_train], perm[n_train:]
    keep = max(2, int(round(p["train_fraction"] * n_train)))
    tr = tr[:keep]
    return x[tr], y[tr], x[va], y[va], tx, ty


def build_net(p):
    import torch.nn as nn
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[p["activation"]]
    layers, width = [], 28 * 28
    for h in p["hidden"]:
        layers.append(nn.Linear(width, h))
        if p["batchnorm"]:
            layers.append(nn.BatchNorm1d(h))
        layers.append(act())
        if p["dropout"] > 0:
            layers.append(nn.Dropout(p["dropout"]))
        width = h
    layers.append(nn.Linear(width, CLASSES))
    return nn.Sequential(*layers)


def build_optimizer(p, params):
    import torch.optim as optim
    o, lr, wd = p["optimizer"], p["lr"], p["weight_decay"]
    if o == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=wd)
    if o == "momentum":
        return optim.SGD(params, lr=lr, momentum=p["momentum"], weight_decay=wd)
    if o == "adam":
        return optim.Adam(params, lr=lr, weight_decay=wd)
    return optim.RMSprop(params, lr=lr, momentum=p["momentum"], weight_decay=wd)


def evaluate(net, x, y, loss_fn, batch=2000):
    """(mean loss, accuracy) in eval mode."""
    import torch
    net.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out = net(x[i:i + batch])
            total += loss_fn(out, y[i:i + batch]).item()
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return total / x.shape[0], correct / x.shape[0]


def train_epoch(p, net, opt, train_x, train_y, order_gen, stop=lambda: False):
    """One epoch in training mode: {"train_loss", "train_acc", "grad_norm"}
    (running means over the batches; grad_norm per Linear layer, input side
    first), or None when stop() turned true before a batch."""
    import torch
    import torch.nn as nn
    linears = [m for m in net if isinstance(m, nn.Linear)]
    mean_loss = nn.CrossEntropyLoss()
    n, bs = train_x.shape[0], p["batch_size"]
    net.train()
    order = torch.randperm(n, generator=order_gen)
    loss_sum, correct, seen, steps = 0.0, 0, 0, 0
    gsum = [0.0] * len(linears)
    for i in range(0, n, bs):
        if stop():
            return None
        idx = order[i:i + bs]
        if idx.shape[0] < 2 and p["batchnorm"] and p["hidden"]:
            continue        # BatchNorm cannot normalise one sample
        xb, yb = train_x[idx], train_y[idx]
        opt.zero_grad()
        out = net(xb)
        loss = mean_loss(out, yb)
        loss.backward()
        for k, lin in enumerate(linears):
            gsum[k] += lin.weight.grad.norm().item()
        opt.step()
        with torch.no_grad():
            loss_sum += loss.item() * yb.shape[0]
            correct += (out.argmax(1) == yb).sum().item()
        seen += yb.shape[0]
        steps += 1
    return {"train_loss": loss_sum / max(seen, 1),
            "train_acc": correct / max(seen, 1),
            "grad_norm": [g / max(steps, 1) for g in gsum]}


KEEP = 3    # checkpoints kept: the daemon's SWEEP_RESUME_EPOCH may lag by two


def checkpoint_path(tdir, epoch):
    return os.path.join(tdir, "checkpoint-%d.pt" % epoch)


def save_atomic(obj, path):
    """torch.save to a temp file, fsync, rename: a kill leaves the old file whole."""
    import torch
    with open(path + ".tmp", "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + ".tmp", path)


def load_checkpoint(tdir, k, p, seed):
    """The state saved after epoch k, or None (saying why on stderr)."""
    import torch
    path = checkpoint_path(tdir, k)
    try:
        state = torch.load(path)
        if (state["epoch"], state["params"], state["seed"]) != (k, p, seed):
            raise ValueError("written for epoch %s of other params or seed" % state["epoch"])
        return state
    except Exception as e:      # missing, truncated, corrupt, foreign: start over
        sys.stderr.write("pytorch_bnnet: cannot resume after epoch %d from %s: %s; "
                         "starting over from epoch 1\n" % (k, path, e))
        return None


def main():
    try:
        p, seed = parse_params(sweepd.params({})), sweepd.seed() or 0
    except ValueError as e:
        usage_error(str(e))

    # One thread. torch.set_num_threads(1) alone is not enough with Debian's
    # python3-torch: it calls the system libblas.so.3 (OpenBLAS, pthread
    # build), which starts its own thread per core unless told otherwise
    # before it is loaded.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    import numpy as np
    import torch
    import torch.nn as nn

    sweepd.stopping()   # from here on, SIGTERM sets a flag, checked per batch
    torch.set_num_threads(1)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed % 2**64)

    train_x, train_y, val_x, val_y, test_x, test_y = load_split(p)
    net = build_net(p)
    opt = build_optimizer(p, net.parameters())
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    order_gen = torch.Generator().manual_seed(seed % 2**64)

    best_acc, best_epoch, best_state = -1.0, 0, None
    best_loss, since_loss, stopped = math.inf, 0, False
    try:
        tdir = sweepd.trial_dir()
    except sweepd.NoSweepError:
        tdir = None             # by hand: no checkpoints
    first, k = 1, sweepd.resume_epoch()
    state = load_checkpoint(tdir, k, p, seed) if tdir and k else None
    if state:                   # resumed after epoch k: go on from k + 1
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        torch.set_rng_state(state["torch_rng"])         # dropout
        order_gen.set_state(state["order_rng"])         # batch order
        best_acc, best_epoch, best_state, best_loss, since_loss, stopped = state["book"]
        first = k + 1
    elif tdir:                  # starting over: another run's files would mislead
        for name in os.listdir(tdir):
            if re.fullmatch(r"checkpoint-\d+\.pt(\.tmp)?|best\.pt", name):
                os.remove(os.path.join(tdir, name))
    for epoch in range(first, p["epochs"] + 1):
        if stopped:             # early-stopped or diverged before the interruption
            break
        t0 = time.monotonic()
        m = train_epoch(p, net, opt, train_x, train_y, order_gen, sweepd.stopping)
        if m is None:
            sys.stderr.write("pytorch_bnnet: SIGTERM during epoch %d, stopping\n"
                             % epoch)
            os._exit(EXIT_STOPPED)  # at once: tearing torch down takes seconds
        val_loss, val_acc = evaluate(net, val_x, val_y, loss_fn)
        train_loss = m["train_loss"]
        seconds = round(time.monotonic() - t0, 4)

        improved = val_acc > best_acc
        if improved:
            best_acc, best_epoch = val_acc, epoch
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        diverged = not math.isfinite(train_loss) or not math.isfinite(val_loss)
        if val_loss < best_loss:
            best_loss, since_loss = val_loss, 0
        else:
            since_loss += 1
        stopped = diverged or bool(p["patience"] and since_loss >= p["patience"])
        if tdir:    # before the report line: the daemon's K never outruns the files
            save_atomic({"epoch": epoch, "params": p, "seed": seed,
                         "net": net.state_dict(), "opt": opt.state_dict(),
                         "torch_rng": torch.get_rng_state(),
                         "order_rng": order_gen.get_state(),
                         "book": (best_acc, best_epoch, best_state, best_loss,
                                  since_loss, stopped)}, checkpoint_path(tdir, epoch))
            if epoch > KEEP and os.path.exists(checkpoint_path(tdir, epoch - KEEP)):
                os.remove(checkpoint_path(tdir, epoch - KEEP))
            if improved:
                save_atomic({"params": p, "seed": seed, "best_epoch": epoch,
                             "state_dict": best_state}, os.path.join(tdir, "best.pt"))
        sweepd.report(epoch, val_loss=val_loss, val_acc=val_acc,
                      lr=opt.param_groups[0]["lr"], seconds=seconds, **m)

        if diverged:
            sys.stderr.write("pytorch_bnnet: loss is %s at epoch %d, diverged: stopping\n"
                             % (train_loss if not math.isfinite(train_loss) else val_loss,
                                epoch))
        elif stopped:
            sys.stderr.write("pytorch_bnnet: early stop after epoch %d (val_loss not "
                             "below %.6g for %d epochs)\n" % (epoch, best_loss, since_loss))

    net.load_state_dict(best_state)
    test_loss, test_acc = evaluate(net, test_x, test_y, loss_fn)
    sweepd.final(best_epoch=best_epoch, test_loss=test_loss, test_acc=test_acc)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.stderr.write("pytorch_bnnet: the report pipe is closed, stopping\n")
        os._exit(1)
