"""The trial report line (docs/DESIGN.md, "Trial report protocol"), built
and checked on the Python side.

The daemon's parser is common/report.c; everything it would refuse is
refused here first, with a ReportError that names the fault, so a mistake
shows up in the trainer's own traceback instead of as a failed trial:

- an epoch line needs "epoch", an integer >= 1 (and at most 2^31 - 1);
- a final line's "best_epoch" is an integer >= 0 or None, its "epoch" an
  integer >= 1 or None;
- "grad_norm" is a list of at most 64 numbers (None allowed);
- a metric name is 1..63 bytes of valid UTF-8, without a NUL; at most 32 metrics
  (which also keeps a line far below the daemon's 64 KiB).

One rule is stricter than the daemon: a metric whose value is not a number
(a string, a bool) is refused, where the daemon would silently ignore it
and the trial would fail later with "never reported the objective metric".
NaN and +-inf are allowed (json.dumps writes them as NaN and Infinity,
which the daemon reads).
"""
import json
import math
import numbers

MAX_METRICS = 32
MAX_GRAD = 64
MAX_NAME = 63          # bytes, the NUL of REPORT_MAX_NAME not counted
MAX_INT = 2 ** 31 - 1
RESERVED = ("epoch", "final", "best_epoch", "grad_norm")


class ReportError(ValueError):
    """A report line sweepd would refuse (the message says why)."""


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _int(name, v, low, allow_none=False):
    if v is None and allow_none:
        return None
    if not _is_number(v) or not math.isfinite(v) or v != int(v) or \
            not low <= v <= MAX_INT:
        raise ReportError("%s must be an integer from %d to %d%s, not %r" % (
            name, low, MAX_INT, " or None" if allow_none else "", v))
    return int(v)


def _grad(v):
    if v is None:
        return None
    if not isinstance(v, (list, tuple)):
        raise ReportError("grad_norm must be a list of numbers, not %s"
                          % type(v).__name__)
    if len(v) > MAX_GRAD:
        raise ReportError("grad_norm has %d entries, at most %d allowed"
                          % (len(v), MAX_GRAD))
    for i, g in enumerate(v):
        if g is not None and not _is_number(g):
            raise ReportError("grad_norm[%d] must be a number or None, not %r"
                              % (i, g))
    return [None if g is None else float(g) for g in v]


def _metrics(metrics, out):
    n = 0
    for name, v in metrics.items():
        if not isinstance(name, str) or not name:
            raise ReportError("a metric name must be a non-empty string, "
                              "not %r" % (name,))
        if "\0" in name:
            raise ReportError("metric name %r contains a NUL" % name)
        try:
            size = len(name.encode("utf-8"))
        except UnicodeEncodeError:
            raise ReportError("metric name %r is not valid UTF-8 (a lone "
                              "surrogate)" % name) from None
        if size > MAX_NAME:
            raise ReportError("metric name %r is longer than %d bytes"
                              % (name[:40] + "...", MAX_NAME))
        if name in RESERVED:
            raise ReportError("%r is not a metric name here" % name)
        if v is not None and not _is_number(v):
            raise ReportError(
                "metric %r must be a number (or None), not %s %r: sweepd "
                "keeps only numbers" % (name, type(v).__name__, v))
        n += 1
        if n > MAX_METRICS:
            raise ReportError("more than %d metrics" % MAX_METRICS)
        out[name] = None if v is None else float(v)
    return out


def epoch_object(epoch, metrics):
    """The epoch line as a dict, checked."""
    metrics = dict(metrics)
    grad = metrics.pop("grad_norm", None)
    obj = {"epoch": _int("epoch", epoch, 1)}
    _metrics(metrics, obj)
    grad = _grad(grad)
    if grad is not None:
        obj["grad_norm"] = grad
    return obj


def final_object(metrics):
    """The final line as a dict, checked."""
    metrics = dict(metrics)
    obj = {"final": True}
    if "best_epoch" in metrics:
        b = _int("best_epoch", metrics.pop("best_epoch"), 0, allow_none=True)
        if b is not None:
            obj["best_epoch"] = b
    if "epoch" in metrics:
        e = _int("epoch", metrics.pop("epoch"), 1, allow_none=True)
        if e is not None:
            obj["epoch"] = e
    if "final" in metrics:
        raise ReportError("'final' is set by final() itself")
    grad = _grad(metrics.pop("grad_norm", None))
    _metrics(metrics, obj)
    if grad is not None:
        obj["grad_norm"] = grad
    return obj


def to_line(obj):
    """One line of the fd 3 protocol: NaN and Infinity as json.dumps writes
    them (the daemon reads them)."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=True)


def finite_or_none(obj):
    """obj with every non-finite float replaced by None: the client
    protocol is strict JSON (the daemon reads None as NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite_or_none(v) for v in obj]
    return obj
