# %% [markdown]
# # Tuning BNNet from a notebook, with ask and tell
#
# No trainer script and no process per trial: this notebook asks sweepd for
# each trial's params, trains the model right here (the data is loaded
# once, for every trial), reports each epoch and tells the result. sweepd
# still picks the params (TPE), prunes bad trials (ASHA), diagnoses every
# learning curve and keeps it all. Run the cells in order, from the
# checkout's `examples/` directory, with a sweepd running
# (`build/sweepd --detach`) and Debian's `/usr/bin/python3` (python3-torch,
# dataset-fashion-mnist). As a script: `/usr/bin/python3
# examples/notebook_asktell.py`. docs/python.md explains the calls.

# %%
import os
import sys

try:
    HERE = os.path.dirname(os.path.abspath(__file__))
except NameError:                 # a notebook: started in examples/
    HERE = os.getcwd()
sys.path[:0] = [HERE, os.path.join(HERE, "..", "python")]
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")   # one core per trial, as in pytorch_bnnet

import torch
import torch.nn as nn

import pytorch_bnnet as bn        # the model, data and training epoch
import sweepd

TRIALS = int(os.environ.get("NB_TRIALS", "12"))
EPOCHS = int(os.environ.get("NB_EPOCHS", "6"))
FRACTION = float(os.environ.get("NB_TRAIN_FRACTION", "0.2"))
torch.set_num_threads(1)

# %% Load Fashion-MNIST once: every trial trains on the same split.
base = bn.parse_params({"train_fraction": FRACTION})
train_x, train_y, val_x, val_y, test_x, test_y = bn.load_split(base)

# %% The sweep: the trainer is this notebook.
client = sweepd.Client()
sid = client.submit({
    "name": "bnnet-notebook",
    "trainer": {"manual": {}},
    "objective": {"metric": "val_acc", "mode": "max"},
    "space": {
        "lr": {"loguniform": [1e-4, 1e-1]},
        "optimizer": {"choice": ["sgd", "momentum", "adam", "rmsprop"]},
        "batch_size": {"choice": [32, 64, 128]},
        "dropout": {"uniform": [0.0, 0.3]},
        "epochs": EPOCHS,
    },
    "search": {"algorithm": "tpe", "trials": TRIALS, "n_startup": 4},
    "pruner": {"algorithm": "asha", "min_epochs": 1, "eta": 3},
})
print("sweep", sid)

# %% One trial: train, report every epoch, stop when sweepd says so.
def run(t):
    p = bn.parse_params(dict(t.params, train_fraction=FRACTION))
    torch.manual_seed(t.seed)
    net = bn.build_net(p)
    opt = bn.build_optimizer(p, net.parameters())
    order = torch.Generator().manual_seed(t.seed)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    for epoch in range(1, p["epochs"] + 1):
        m = bn.train_epoch(p, net, opt, train_x, train_y, order)
        val_loss, val_acc = bn.evaluate(net, val_x, val_y, loss_fn)
        if t.report(epoch, val_loss=val_loss, val_acc=val_acc, **m):
            print("trial %d: %s at epoch %d" % (t.number, t.ended, epoch))
            return
    test_loss, test_acc = bn.evaluate(net, test_x, test_y, loss_fn)
    t.tell(test_loss=test_loss, test_acc=test_acc)
    print("trial %d: val_acc %.4f, test_acc %.4f" % (t.number, val_acc, test_acc))


# %% Ask, run, tell: an exception inside `with` fails the trial.
for _ in range(TRIALS):
    with client.ask(sid) as t:
        run(t)

# %% What came of it.
best = client.best(sid)
print("best: trial %d, val_acc %.4f, test_acc %.4f, %s" % (
    best["number"], best["objective"], best["test_acc"], best["params"]))
print("verdicts:", client.status(sid)["verdicts"])
