#!/usr/bin/env python3
"""A minimal external trainer for sweepd: no framework, just the protocol.

It "trains" a noisy quadratic: val_acc peaks at lr = 1e-2 and a dropout of
0.2, so a sweep over configs/example-external.json has something to find.
Run it by hand with: SWEEP_PARAMS='{"lr":0.01,"dropout":0.2}' python3 toy_trainer.py
"""
import json
import math
import os
import random
import time

params = json.loads(os.environ.get("SWEEP_PARAMS", "{}"))
seed = int(os.environ.get("SWEEP_SEED", "0"))
fd = int(os.environ.get("SWEEP_REPORT_FD", "1"))
report = os.fdopen(fd, "w", buffering=1)

rng = random.Random(seed)
lr = float(params.get("lr", 1e-3))
dropout = float(params.get("dropout", 0.0))
epochs = int(params.get("epochs", 10))
quality = 0.92 - 0.03 * (math.log10(lr) + 2) ** 2 - 0.4 * (dropout - 0.2) ** 2

best = (-1.0, 0)
for epoch in range(1, epochs + 1):
    progress = 1 - math.exp(-0.5 * epoch)
    val_acc = quality * progress + rng.gauss(0, 0.003)
    train_acc = min(1.0, val_acc + 0.01 * epoch * (0.3 - dropout))
    line = {"epoch": epoch, "train_loss": 2.3 * (1 - train_acc),
            "train_acc": train_acc, "val_loss": 2.3 * (1 - val_acc),
            "val_acc": val_acc, "lr": lr, "seconds": 0.05}
    report.write(json.dumps(line) + "\n")
    best = max(best, (val_acc, epoch))
    time.sleep(0.05)
report.write(json.dumps({"final": True, "best_epoch": best[1]}) + "\n")
