#!/usr/bin/env python3
"""label_curves.py: the labelling rules of curves/README.md, as code.

label(lines, ctx) -> (label, rule) for one trial's epoch lines and its
context (how it ended, params, trainer kind, the best train accuracy of
the sweep's trials that ended before it). Written from the README's rules,
not from common/diag.c: it shares no code or thresholds table with it.
"""
import math


def classes(params):
    if params.get("dataset") == "synthetic":
        return int(params.get("synthetic_classes", 5))
    return 10


def col(lines, key):
    return [ln.get(key) for ln in lines]


def nums(xs):
    return [x for x in xs if isinstance(x, (int, float))]


def bad(x):
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def has(lines, key):
    return any(key in ln for ln in lines)


def diverged(lines, k):
    for key in ("train_loss", "val_loss"):
        if has(lines, key) and any(key in ln and bad(ln[key]) for ln in lines):
            return "R1: %s NaN/inf" % key
    tl = col(lines, "train_loss")
    if has(lines, "train_loss") and not any(bad(x) for x in tl):
        for i in range(1, len(tl)):
            if tl[i] > 3 * tl[0]:
                return "R1: train_loss above 3x its epoch-1 value"
            if tl[i] > 2 * tl[i - 1] and tl[i] > 0.5 * tl[0]:
                return "R1: train_loss more than doubled in one epoch"
    last = lines[-1].get("grad_norm")
    ta = nums(col(lines, "train_acc"))
    if tl and not bad(tl[0]) and tl[0] > 10 * math.log(k):
        end = sum(ta[-3:]) / len(ta[-3:]) if ta else None
        low = 0.7 if k == 10 else 1.0 / k + 0.1
        if end is None or end < low:
            return "R1: epoch-1 train_loss above 10 ln K, not recovered"
    if last and all(g == 0 for g in last) and (not ta or ta[-1] < 0.99):
        return "R1: every gradient norm 0 at the end"
    return None


def at_chance(lines, k):
    chance = 1.0 / k
    va, ta = nums(col(lines, "val_acc")), nums(col(lines, "train_acc"))
    if va or ta:
        if max(va + ta) < chance + 0.1:
            return "R2: accuracy never above chance %.2f + 0.1" % chance
        return None
    vl = nums(col(lines, "val_loss")) or nums(col(lines, "train_loss"))
    if vl and min(vl) >= 0.95 * math.log(k):
        return "R2: loss never below 0.95 ln %d" % k
    return None


def plateau(lines, k):
    tl = nums(col(lines, "train_loss"))
    if len(tl) < 3 or tl[0] <= 0:
        return None
    if (tl[0] - min(tl)) / tl[0] < 0.03 and min(tl) > 1.05 * math.log(k):
        return "R3: train_loss gained < 3% of its first value, above ln K"
    return None


def grads(lines):
    ratios, top = [], 0.0
    for ln in lines:
        g = ln.get("grad_norm")
        if not g:
            continue
        top = max(top, max(g))
        if len(g) >= 2 and g[-1] > 0:
            ratios.append(g[0] / g[-1])
    if top > 1000:
        return "exploding_gradients", "R4: a grad norm above 1000"
    if ratios:
        ratios.sort()
        med = ratios[len(ratios) // 2]
        if med < 0.01:
            return "vanishing_gradients", "R4: input/output grad norm < 0.01"
        if med > 100:
            return "exploding_gradients", "R4: input/output grad norm > 100"
    return None


def overfit(lines):
    vl, tl = col(lines, "val_loss"), col(lines, "train_loss")
    if has(lines, "val_loss") and has(lines, "train_loss") and len(lines) >= 3:
        b = min(range(len(vl)), key=lambda i: vl[i])
        worse_train = (has(lines, "train_acc") and has(lines, "val_acc")
                       and lines[-1]["train_acc"] < lines[-1]["val_acc"])
        if (len(vl) - 1 - b >= 2 and vl[-1] >= 1.15 * vl[b]
                and tl[-1] < tl[b] and not worse_train):
            return "R5: val_loss 15%+ above its best, train_loss still lower"
    va, ta = col(lines, "val_acc"), col(lines, "train_acc")
    if has(lines, "val_acc") and has(lines, "train_acc") and len(lines) >= 2:
        if ta[-1] - va[-1] > 0.12 and ta[-1] - va[-1] > ta[0] - va[0]:
            return "R5: train_acc - val_acc above 0.12 and grown"
    return None


def still_improving(lines):
    key = "val_acc" if has(lines, "val_acc") else "val_loss"
    v = nums(col(lines, key))
    if len(v) < 4:
        return None
    if key == "val_loss":
        v = [-x for x in v]
    before, recent = max(v[:-3]), max(v[-3:])
    gain = recent - before if key == "val_acc" else (recent - before) / abs(before)
    if gain > 0.01:
        return "R6: best %s of the last 3 epochs %.3f better than before" % (key, gain)
    return None


def converged_low(lines, ctx):
    ta = nums(col(lines, "train_acc"))
    if not ta:
        return None
    end = sum(ta[-3:]) / len(ta[-3:])
    if classes(ctx["params"]) == 10 and end < 0.7:
        return "R7: train_acc %.3f < 0.7 (Fashion-MNIST)" % end
    best = ctx.get("sweep_best_train_acc")
    if best and end < 0.8 * best:
        return "R7: train_acc %.3f < 0.8 x the sweep's best %.3f" % (end, best)
    return None


def label(lines, ctx):
    k = classes(ctx["params"])
    end = ctx["end"]
    why = diverged(lines, k)
    if why:
        return "diverged", why
    g = grads(lines)
    if g:
        return g
    why = plateau(lines, k)
    if why:
        return "plateau", why
    why = at_chance(lines, k)
    if why:
        return "not_learning", why
    why = overfit(lines)
    if why:
        return "overfitting", why
    if end == "pruned":
        return "pruned", "R8: stopped by the pruner, no finding above"
    train = has(lines, "train_loss") or has(lines, "train_acc")
    val = has(lines, "val_loss") or has(lines, "val_acc")
    if not (train and val):
        return "partial_metrics", "R9: no %s metric" % ("train" if val else "val")
    if len(lines) < 3:
        return "insufficient_data", "R10: fewer than 3 epochs"
    if end == "completed":
        why = still_improving(lines)
        if why:
            return "not_converged", why
    why = converged_low(lines, ctx)
    if why:
        return "underfitting", why
    return "good_fit", "R11: none of the above"
