#!/usr/bin/env python3
"""curves_from_sweep.py: turns one finished sweep into labelled curve files.

    curves_from_sweep.py SPEC TRIALS.json EPOCHS.json OUTDIR
    curves_from_sweep.py --relabel FILE...

TRIALS.json and EPOCHS.json are `sweepctl export ID --format json [--epochs]`.
Each trial with at least one epoch becomes OUTDIR/LABEL--SWEEP-tN.jsonl:
a "# intended:" comment, a "# trial:" comment with the JSON the diagnosis
is given (how the trial ended, its params, the space, the trainer kind and
the best train accuracy of the trials that ended before it), then its
report lines. LABEL comes from label_curves.py (the rules of
curves/README.md), never from the diagnosis.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import label_curves  # noqa: E402

SKIP = {"number", "attempt"}


def end_of(t):
    if t["status"] == "pruned":
        return "diverged" if (t.get("error_class") == "diverged") else "pruned"
    if t["status"] == "completed":
        if t["epochs"] < t.get("params.epochs", t["epochs"]):
            return "early_stopped"
        return "completed"
    return t["status"]


def main():
    spec_path, trials_path, epochs_path, out = sys.argv[1:5]
    spec = json.load(open(spec_path))
    trials = json.load(open(trials_path))
    epochs = json.load(open(epochs_path))
    builtin = "builtin" in spec["trainer"]
    curves = {}
    for e in epochs:
        curves.setdefault(e["number"], {})[e["epoch"]] = e
    best_train = None
    os.makedirs(out, exist_ok=True)
    for t in sorted(trials, key=lambda t: t.get("ended_at") or 0):
        c = curves.get(t["number"])
        if not c or t["status"] not in ("completed", "pruned"):
            continue
        lines = [{k: v for k, v in c[k2].items() if k not in SKIP}
                 for k2 in sorted(c)]
        params = {k[7:]: v for k, v in t.items() if k.startswith("params.")}
        ctx = {"end": end_of(t), "params": params, "space": spec["space"],
               "trainer": "builtin" if builtin else "external",
               "sweep_best_train_acc": best_train}
        chance = spec.get("diagnosis", {}).get("chance_acc")
        if chance:
            ctx["chance_acc"] = chance
        label, why = label_curves.label(lines, ctx)
        name = "%s--%s-t%d.jsonl" % (label, spec["name"], t["number"])
        with open(os.path.join(out, name), "w") as f:
            f.write("# intended: %s | rule: %s\n" % (label, why))
            f.write("# trial: %s\n" % json.dumps(ctx, separators=(",", ":")))
            for ln in lines:
                f.write(json.dumps(ln, separators=(",", ":")) + "\n")
            f.write(json.dumps({"final": True}) + "\n")
        accs = [ln["train_acc"] for ln in lines if isinstance(ln.get("train_acc"), (int, float))]
        if accs:
            best_train = max(best_train or 0, max(accs))
        print(name)


def relabel(paths):
    """Applies the current rules again to stored sweep curve files, renaming
    those whose label changed (after a rule was corrected)."""
    for path in paths:
        with open(path) as f:
            text = f.read().splitlines()
        if len(text) < 2 or not text[1].startswith("# trial: "):
            continue
        ctx = json.loads(text[1][len("# trial: "):])
        lines = [json.loads(t) for t in text[2:] if t and '"epoch"' in t]
        label, why = label_curves.label(lines, ctx)
        text[0] = "# intended: %s | rule: %s" % (label, why)
        d, base = os.path.split(path)
        new = os.path.join(d, label + "--" + base.split("--", 1)[1])
        with open(new, "w") as f:
            f.write("\n".join(text) + "\n")
        if new != path:
            os.unlink(path)
            print("%s -> %s" % (base, os.path.basename(new)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--relabel"]:
        relabel(sys.argv[2:])
    else:
        main()
