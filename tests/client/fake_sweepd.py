#!/usr/bin/env python3
"""A tiny stand-in for sweepd: canned replies for every op, for sweepctl's tests.

    fake_sweepd.py STATE_DIR

listens on STATE_DIR/sweepd.sock (one JSON object per line each way, as in
docs/DESIGN.md) and appends every request it gets and every line it sends to
STATE_DIR/fake.log as {"req": {...}, "sent": ["line", ...]}, so a test can
check what sweepctl sent and that --json printed the very bytes it got.

Canned data:
  sweep 1 "fashion-demo"  completed, trials 1 (completed), 2 (failed), 3 (pruned)
  sweep 2 "running-one"   running; watch pushes a few events, then completes
  sweep 3 "stopped"       cancelled; watch ends at once with "cancelled"
  sweep 4 (hidden)        watch sends one event and closes the connection
  sweep 5 (hidden)        trials returns 30000 trials (a reply of several MB)
  sweep 6 (hidden)        "synthetic": 24 generated trials with curves of every
                          shape (good fit, overfitting, diverged to 1e30, failed)
"""
import math
import json
import os
import socketserver
import sys
import threading

T0 = 1700000000  # 2023-11-14 22:13:20 UTC

CURVE = [
    {"epoch": 1, "train_loss": 0.61, "val_loss": 0.52, "train_acc": 0.78,
     "val_acc": 0.81, "lr": 0.001, "seconds": 2.1, "grad_norm": [0.31, 0.12]},
    {"epoch": 2, "train_loss": 0.45, "val_loss": 0.44, "train_acc": 0.84,
     "val_acc": 0.8612, "lr": 0.001, "seconds": 2.0, "grad_norm": [0.25, 0.1]},
    {"epoch": 3, "train_loss": 0.38, "val_loss": None, "train_acc": 0.87,
     "val_acc": 0.8812, "lr": 0.001, "seconds": 2.2, "top5": 0.99},
    {"epoch": 4, "train_loss": 0.30, "val_loss": 0.47, "train_acc": 0.9,
     "val_acc": 0.87, "lr": 0.0005, "seconds": 2.1},
]

DIAG_GOOD = {"verdict": "good_fit", "tags": ["early_stopping_point"],
             "stop_epoch": 3, "epochs_past_stop": 1,
             "reason": "val_loss settled near train_loss",
             "evidence": {"epochs": 4, "val_best_epoch": 3, "gap": 0.09,
                          "val_acc_end": 0.8561, "smooth": 3},
             "advice": ["keep early stopping at patience 1-2",
                        "try a slightly larger lr"],
             "not_judged": ["gradients: grad_norm not reported"]}
DIAG_OVER = {"verdict": "overfitting", "tags": [], "stop_epoch": 2,
             "epochs_past_stop": 2, "evidence": {"epochs": 4},
             "advice": ["add dropout"], "not_judged": []}


def trial(number, status, objective, params, **kw):
    t = {"id": 100 + number, "number": number, "status": status, "attempt": 1,
         "params": params, "seed": 4200 + number, "objective": objective,
         "best_epoch": 3 if objective is not None else None, "epochs": 4,
         "test_loss": None, "test_acc": None, "diagnosis": None, "error": None,
         "started_at": T0 + 10 * number, "ended_at": T0 + 10 * number + 95}
    t.update(kw)
    return t


TRIALS = [
    trial(1, "completed", 0.8812,
          {"lr": 0.001234, "batch_size": 64, "activation": "relu",
           "optimizer": "adam", "epochs": 4,
           "note": "a-very-long-parameter-value-that-needs-shortening"},
          test_loss=0.33, test_acc=0.884, diagnosis=DIAG_GOOD),
    trial(2, "failed", None,
          {"lr": 0.5, "batch_size": 32, "activation": "tanh",
           "optimizer": "sgd", "epochs": 4, "note": "short"},
          error={"class": "timeout", "message": "trial ran over 1800 s",
                 "exit_code": None, "signal": 15}),
    trial(3, "pruned", 0.61,
          {"lr": 0.0001, "batch_size": 128, "activation": "sigmoid",
           "optimizer": "sgd", "epochs": 4, "note": "short"},
          diagnosis=DIAG_OVER),
]
# ASHA's promotion (docs/cli.md): trial 1 was promoted once.
TRIALS[0]["promotions"] = 1
TRIALS[0]["promoted_rung"] = 2
# A completed trial's remark on how it ended ("note", DESIGN.md).
TRIALS[0]["note"] = "no final line: test metrics unknown"


def summary(sid, name, status, counts, best=None, ended=True):
    c = {"queued": 0, "running": 0, "completed": 0, "failed": 0,
         "pruned": 0, "cancelled": 0}
    c.update(counts)
    return {"id": sid, "name": name, "status": status,
            "created_at": T0, "ended_at": T0 + 3725 if ended else None,
            "trials_total": 3 if sid != 2 else 10, "counts": c,
            "objective": {"metric": "val_acc", "mode": "max"}, "best": best}


SWEEPS = {
    1: summary(1, "fashion-demo", "completed",
               {"completed": 1, "failed": 1, "pruned": 1},
               {"number": 1, "objective": 0.8812}),
    2: summary(2, "running-one", "running",
               {"completed": 2, "running": 2, "queued": 6},
               {"number": 2, "objective": 0.75}, ended=False),
    3: summary(3, "stopped", "cancelled", {"cancelled": 3}),
}
NUMPY = "exited with status 1: ModuleNotFoundError: No module named 'numpy'"
SWEEPS[1]["failures"] = [{"class": "exit", "message": NUMPY, "count": 1}]
FAILED8 = ("the first 3 trials failed the same way before reporting any "
           "epoch: " + NUMPY)

SPEC = {"name": "fashion-demo", "trainer": {"builtin": "mlp"},
        "objective": {"metric": "val_acc", "mode": "max"},
        "space": {"lr": {"loguniform": [1e-4, 1e-1]},
                  "batch_size": {"choice": [32, 64, 128]},
                  "activation": {"choice": ["relu", "tanh", "sigmoid"]},
                  "optimizer": {"choice": ["sgd", "adam"]}, "epochs": 4,
                  "note": {"choice": ["short"]}},
        "search": {"algorithm": "random", "trials": 3}}

WATCH2 = [
    {"event": "trial_started", "sweep": 2, "number": 3, "attempt": 1,
     "params": {"lr": 0.01, "batch_size": 64}},
    {"event": "epoch", "sweep": 2, "number": 3, "epoch": 1,
     "metrics": {"epoch": 1, "train_loss": 0.41, "val_loss": 0.5,
                 "val_acc": 0.8512, "grad_norm": [1, 2]},
     "objective": 0.8512, "diagnosis": None},
    {"event": "epoch", "sweep": 2, "number": 3, "epoch": 2,
     "metrics": {"epoch": 2, "train_loss": 0.3, "val_loss": 0.6,
                 "val_acc": 0.84},
     "objective": 0.84, "diagnosis": {"verdict": "overfitting"}},
    {"event": "trial_ended", "sweep": 2, "number": 3, "status": "completed",
     "objective": 0.8512, "best_epoch": 1, "error": None,
     "diagnosis": {"verdict": "overfitting"}},
    {"event": "trial_ended", "sweep": 2, "number": 4, "status": "failed",
     "objective": None, "best_epoch": None,
     "error": {"class": "crash", "message": "exit code 1"}, "diagnosis": None},
    {"event": "trial_ended", "sweep": 2, "number": 5, "status": "pruned",
     "objective": 0.6878, "best_epoch": 3,
     "error": {"class": "pruned", "message": "asha pruner: at the 3-epoch rung"},
     "diagnosis": {"verdict": "pruned"}},
    {"event": "sweep_ended", "sweep": 2, "status": "completed"},
]


def synthetic():
    """24 trials whose curves follow their params: high lr diverges, no
    dropout overfits, sigmoid with low lr plateaus. Deterministic."""
    trials, epochs = [], []
    acts = ["relu", "tanh", "sigmoid"]
    for n in range(1, 25):
        lr = 10 ** (-4 + 3.5 * ((n * 0.618) % 1))
        act = acts[n % 3]
        drop = round(0.5 * ((n * 0.381) % 1), 3)
        params = {"lr": lr, "batch_size": [32, 64, 128][n % 3],
                  "activation": act, "dropout": drop, "epochs": 12}
        curve, verdict = [], "good_fit"
        if n % 8 == 5:
            t = trial(n, "failed", None, params,
                      error={"class": "crash", "message": "exit code 1",
                             "exit_code": 1, "signal": None})
            t["epochs"] = 0
            trials.append(t)
            continue
        for e in range(1, 13):
            if lr > 0.05:
                verdict = "diverged"
                tl = 0.6 * 10 ** (2.5 * e) if e > 2 else 0.6
                vl = tl * 1.1
                acc = 0.1
            elif drop < 0.1:
                verdict = "overfitting"
                tl = 0.8 * math.exp(-0.3 * e)
                vl = 0.45 + 0.02 * (e - 5) ** 2 / 3
                acc = 0.86 - 0.004 * abs(e - 5)
            elif act == "sigmoid" and lr < 0.001:
                verdict = "plateau"
                tl = vl = 2.3 - 0.001 * e
                acc = 0.1 + 0.001 * e
            else:
                tl = 0.35 + 0.5 * math.exp(-0.4 * e)
                vl = tl + 0.03
                acc = 0.89 - 0.3 * math.exp(-0.5 * e) - lr
            row = {"epoch": e, "train_loss": tl, "val_loss": vl,
                   "train_acc": acc + 0.01, "val_acc": acc}
            curve.append(row)
            epochs.append(dict({"number": n, "attempt": 1}, **row))
        best = max(curve, key=lambda r: r["val_acc"])
        stop = min(curve, key=lambda r: r["val_loss"])["epoch"]
        status = "pruned" if verdict == "plateau" else "completed"
        t = trial(n, status, best["val_acc"], params,
                  diagnosis={"verdict": verdict, "tags": [], "stop_epoch": stop,
                             "epochs_past_stop": 12 - stop, "evidence": {},
                             "advice": ["lower the learning rate"]
                             if verdict == "diverged" else [],
                             "not_judged": []})
        t["best_epoch"], t["epochs"] = best["epoch"], 12
        trials.append(t)
    return trials, epochs


SYN_TRIALS, SYN_EPOCHS = synthetic()
SYN_SPEC = {"name": "synthetic", "trainer": {"builtin": "mlp"},
            "objective": {"metric": "val_acc", "mode": "max"},
            "space": {"lr": {"loguniform": [1e-4, 0.3]},
                      "batch_size": {"choice": [32, 64, 128]},
                      "activation": {"choice": ["relu", "tanh", "sigmoid"]},
                      "dropout": {"uniform": [0, 0.5]}, "epochs": 12},
            "search": {"algorithm": "random", "trials": 24}}

LOCK = threading.Lock()
STATE_DIR = ""


def err(code, message):
    return {"ok": False, "error": {"code": code, "message": message}}


def sweep_id(req):
    s = req.get("sweep")
    if not isinstance(s, int) or s < 1:
        return None, err("bad_request", '"sweep" must be a positive integer')
    if s not in SWEEPS and s not in (4, 5, 6, 8, 9):
        return None, err("not_found", "no sweep %d" % s)
    return s, None


def big_trials():
    return [trial(n, "completed", 0.5 + n * 1e-6,
                  {"lr": 0.001, "batch_size": 64, "pad": "x" * 100})
            for n in range(1, 30001)]


def epochs_of(sid):
    out = []
    for t in TRIALS:
        if t["status"] == "failed":
            continue
        for e in CURVE:
            row = {"number": t["number"], "attempt": 1}
            row.update(e)
            out.append(row)
    return out


def page(req, trials):
    """The `trials` reply: the page that "limit" and "offset" ask for
    (unchecked: the real daemon's checks are tested against it) and the
    total."""
    off = req.get("offset", 0)
    lim = req.get("limit", len(trials))
    return {"ok": True, "total": len(trials), "trials": trials[off:off + lim]}


EPOCH_PAGE = 3   # small, so that clients must page as with the real daemon


def epochs_page(req, rows):
    """The `epochs` reply: the rows after "after" in (number, attempt,
    epoch) order, at most "limit" (EPOCH_PAGE by default), and "next"."""
    def key(r):
        return (r["number"], r["attempt"], r["epoch"])
    a = req.get("after")
    after = key(a) if a else (0, 0, 0)
    rest = sorted((r for r in rows if key(r) > after), key=key)
    page = rest[:req.get("limit", EPOCH_PAGE)]
    nxt = None
    if len(rest) > len(page):
        nxt = {k: page[-1][k] for k in ("number", "attempt", "epoch")}
    return {"ok": True, "epochs": page, "next": nxt}


def answer(req):
    """(reply dict, [event dicts], close_after) for one request."""
    op = req.get("op")
    if op == "ping":
        return {"ok": True, "version": "0.1.0", "pid": 4242}, [], False
    if op == "submit":
        spec = req.get("spec")
        if not isinstance(spec, dict):
            return err("bad_request", '"spec" must be a JSON object'), [], False
        if spec.get("name") == "bad":
            return err("bad_request",
                       "space.lr.loguniform: low must be > 0, got 0"), [], False
        return {"ok": True, "sweep_id": 7}, [], False
    if op == "sweeps":
        return {"ok": True, "sweeps": [SWEEPS[k] for k in sorted(SWEEPS)]}, [], False
    if op == "stats":
        return {"ok": True, "uptime_s": 3725, "rss_kb": 12595, "open_fds": 14,
                "running": 2, "queued": 6, "trials_run": 40,
                "sweeps_active": 1, "clients": 1, "paused_clients": 0,
                "queued_output_bytes": 1536, "workers": 2}, [], False
    if op == "shutdown":
        return {"ok": True}, [], False
    sid, e = sweep_id(req)
    if e and op in ("sweep", "trials", "trial", "best", "cancel", "pause",
                    "resume", "watch", "enqueue", "epochs", "importance"):
        return e, [], False
    if op == "importance" and sid == 2:   # as a sweepd from before the op
        return err("unknown_op", 'unknown op "importance"'), [], False
    if op == "importance":
        shares = [{"param": "lr", "share": 0.61}, {"param": "x", "share": 0.2},
                  {"param": "batch", "share": 0.01}, {"param": "z", "share": 0.0}]
        return {"ok": True, "importance": {
            "method": "main-effect variance shares", "trials": 4 if sid == 1 else 0,
            "objective": shares if sid == 1 else [{"param": "lr", "share": None}],
            "verdicts": [{"verdict": "overfitting", "trials": 1, "of": 2,
                          "params": shares}] if sid == 1 else []}}, [], False
    if op == "sweep" and sid == 6:
        best = max((t for t in SYN_TRIALS if t["status"] == "completed"),
                   key=lambda t: t["objective"])
        s = summary(6, "synthetic <&> \"quoted\"", "completed",
                    {"completed": 17, "failed": 3, "pruned": 4},
                    {"number": best["number"], "objective": best["objective"]})
        # 3 failed, the reply groups 2 of them (a daemon shows at most 10)
        s["failures"] = [{"class": "crash", "message": "exit code 1",
                          "count": 2}]
        s.update(spec=SYN_SPEC, error=None, best_trial=best, advice=[
            "<b>not bold</b>: escape me"],
            verdicts={"good_fit": 9, "overfitting": 4, "diverged": 4, "plateau": 4})
        s["trials_total"] = 24
        return {"ok": True, "sweep": s}, [], False
    if op == "sweep":
        s = dict(SWEEPS[sid])
        s["spec"] = SPEC
        s["error"] = None if sid != 3 else "cancelled by a client"
        if sid == 1:
            s["verdicts"] = {"good_fit": 1, "overfitting": 1}
            s["best_trial"] = TRIALS[0]
            s["advice"] = DIAG_GOOD["advice"]
        else:
            s["verdicts"] = {}
            s["best_trial"] = None
            s["advice"] = []
        return {"ok": True, "sweep": s}, [], False
    if op == "trials":
        if sid == 5:
            return page(req, big_trials()), [], False
        if sid == 6:
            return page(req, SYN_TRIALS), [], False
        return page(req, TRIALS if sid == 1 else []), [], False
    if op == "epochs" and sid == 6:
        return epochs_page(req, SYN_EPOCHS), [], False
    if op == "epochs":
        return epochs_page(req, epochs_of(sid) if sid == 1 else []), [], False
    if op == "trial" and sid == 6:
        n = req.get("number")
        t = dict(SYN_TRIALS[n - 1])
        t["curve"] = [{k: v for k, v in e.items() if k not in ("number", "attempt")}
                      for e in SYN_EPOCHS if e["number"] == n]
        t["stderr_tail"] = ""
        return {"ok": True, "trial": t}, [], False
    if op == "trial":
        n = req.get("number")
        if sid != 1 or not isinstance(n, int) or not 1 <= n <= len(TRIALS):
            return err("not_found", "sweep %d has no trial %s" % (sid, n)), [], False
        t = dict(TRIALS[n - 1])
        t["curve"] = CURVE if n != 2 else CURVE[:1]
        t["stderr_tail"] = ("Traceback (most recent call last):\n"
                            "RuntimeError: out of patience\n") if n == 2 else ""
        return {"ok": True, "trial": t}, [], False
    if op == "best":
        if sid != 1:
            return err("not_found",
                       "sweep %d has no completed trial yet" % sid), [], False
        return {"ok": True, "trial": TRIALS[0]}, [], False
    if op in ("cancel", "pause", "resume"):
        if sid != 2:
            return err("conflict", "sweep %d has already ended" % sid), [], False
        s = dict(SWEEPS[2])
        s["status"] = {"cancel": "cancelled", "pause": "paused",
                       "resume": "running"}[op]
        return {"ok": True, "sweep": s}, [], False
    if op == "enqueue":
        p = req.get("params")
        if sid != 2:
            return err("conflict", "sweep %d has already ended" % sid), [], False
        return {"ok": True, "enqueued": len(p) if isinstance(p, list) else 1}, [], False
    if op == "watch":
        if sid == 9:   # stored "completed" by an older sweepd, none completed
            return ({"ok": True, "sweep": summary(9, "old", "completed",
                                                   {"failed": 3})},
                    [{"event": "sweep_ended", "sweep": 9,
                      "status": "completed"}], False)
        if sid == 8:
            return ({"ok": True, "sweep": summary(8, "broken", "running", {},
                                                   ended=False)},
                    [{"event": "sweep_ended", "sweep": 8, "status": "failed",
                      "error": FAILED8}], False)
        if sid == 4:
            return ({"ok": True, "sweep": summary(4, "dropper", "running", {},
                                                   ended=False)},
                    [WATCH2[0]], True)
        events = WATCH2 if sid == 2 else [
            {"event": "sweep_ended", "sweep": sid,
             "status": SWEEPS[sid]["status"]}]
        return {"ok": True, "sweep": SWEEPS[sid]}, events, sid == 2
    return err("unknown_op", 'unknown op "%s"' % op), [], False


def line(obj):
    return json.dumps(obj, separators=(",", ":"))


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        for raw in self.rfile:
            try:
                req = json.loads(raw)
                if not isinstance(req, dict):
                    raise ValueError
            except ValueError:
                self.send([line(err("bad_request", "request is not a JSON object"))], None)
                continue
            reply, events, close = answer(req)
            reply = dict({"id": req.get("id")}, **reply)
            sent = [line(reply)] + [line(e) for e in events]
            self.send(sent, req)
            if close:
                return

    def send(self, sent, req):
        with LOCK:
            with open(os.path.join(STATE_DIR, "fake.log"), "a") as f:
                f.write(json.dumps({"req": req, "sent": sent}) + "\n")
        for s in sent:
            self.wfile.write(s.encode() + b"\n")
        self.wfile.flush()


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    global STATE_DIR
    STATE_DIR = sys.argv[1]
    path = os.path.join(STATE_DIR, "sweepd.sock")
    if os.path.exists(path):
        os.unlink(path)
    with Server(path, Handler) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
