"""The trainer side: what a script that sweepd runs needs (docs/python.md).

    import sweepd
    p = sweepd.params({"lr": 1e-3, "epochs": 5})   # defaults: runs by hand too
    first = 1       # or resume_epoch() + 1 after loading the checkpoint of
                    # that epoch from trial_dir() (docs/pytorch.md)
    for epoch in range(first, p["epochs"] + 1):
        ...
        sweepd.report(epoch, train_loss=tl, val_loss=vl, val_acc=va)
        if sweepd.stopping():
            break
    sweepd.final(test_acc=ta)

Reports go to the pipe named by SWEEP_REPORT_FD (fd 3). When that variable
is unset, or the fd is not open (a launcher such as srun that passes only
stdin, stdout and stderr), they go to stdout with the "SWEEP " prefix,
which the daemon reads as well.
"""
import errno
import json
import os
import signal
import stat
import sys

from sweepd.lines import ReportError, epoch_object, final_object, to_line


class NoSweepError(RuntimeError):
    """params() outside a sweep (SWEEP_PARAMS unset) and no defaults."""


def params(defaults=None):
    """The trial's params (SWEEP_PARAMS, a JSON object) as a dict.

    defaults, when given, fill in what the sweep does not set, and are
    the whole answer outside a sweep, so the same script runs by hand.
    Outside a sweep without defaults: NoSweepError."""
    text = os.environ.get("SWEEP_PARAMS")
    if text is None:
        if defaults is None:
            raise NoSweepError(
                "SWEEP_PARAMS is not set: this is not a sweepd trial. Run it "
                "from a sweep, or give defaults: sweepd.params({'lr': 1e-3})")
        return dict(defaults)
    try:
        got = json.loads(text)
    except ValueError as e:
        raise ValueError("SWEEP_PARAMS is not valid JSON: %s" % e) from None
    if not isinstance(got, dict):
        raise ValueError("SWEEP_PARAMS must be a JSON object, not %s"
                         % type(got).__name__)
    out = dict(defaults or {})
    out.update(got)
    return out


def trial_dir(default=None):
    """The trial's own directory (SWEEP_TRIAL_DIR): it exists, is the same
    for every attempt of the trial and is kept after it ends; keep
    checkpoints and artifacts there.

    default, when given, is the answer where the daemon gives none (by
    hand, outside a sweep): it is created if missing, so the same script
    runs both ways. Without a directory and without default:
    NoSweepError."""
    got = os.environ.get("SWEEP_TRIAL_DIR")
    if got:
        return got
    if default is None:
        if os.environ.get("SWEEP_PARAMS") is None:
            raise NoSweepError(
                "SWEEP_TRIAL_DIR is not set: this is not a sweepd trial. Run "
                "it from a sweep, or give a default: sweepd.trial_dir('ckpt')")
        raise NoSweepError(
            "SWEEP_TRIAL_DIR is not set: this sweepd gives its trials no "
            "directory; give a default: sweepd.trial_dir('ckpt')")
    default = os.fspath(default)
    os.makedirs(default, exist_ok=True)
    return default


def _env_int(name, default):
    v = os.environ.get(name)
    if v is None or v == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise ValueError("%s must be an integer, not %r" % (name, v)) from None


def resume_epoch():
    """K when this attempt resumes after epoch K (SWEEP_RESUME=1 and
    SWEEP_RESUME_EPOCH=K, K >= 1, the last epoch sweepd stored), else 0.

    A trainer that finds its checkpoint of epoch K continues and reports
    from K + 1; one that has none starts over from epoch 1 (docs/DESIGN.md).
    ValueError for what the contract never sets: SWEEP_RESUME other than 1,
    SWEEP_RESUME_EPOCH missing, not an integer >= 1, or set alone."""
    resume = os.environ.get("SWEEP_RESUME") or None
    text = os.environ.get("SWEEP_RESUME_EPOCH") or None
    if resume is None:
        if text is not None:
            raise ValueError("SWEEP_RESUME_EPOCH is %r but SWEEP_RESUME is not "
                             "set: set SWEEP_RESUME=1 too, or neither" % text)
        return 0
    if resume != "1":
        raise ValueError("SWEEP_RESUME must be 1 (or unset), not %r" % resume)
    if text is None:
        raise ValueError("SWEEP_RESUME=1 needs SWEEP_RESUME_EPOCH, the last "
                         "epoch stored")
    n = _env_int("SWEEP_RESUME_EPOCH", 0)
    if n < 1:
        raise ValueError("SWEEP_RESUME_EPOCH must be >= 1, not %d" % n)
    return n


def seed():
    """SWEEP_SEED as an int, or None outside a sweep."""
    return _env_int("SWEEP_SEED", None)


class _Channel:
    """Where report lines go: the report fd, else stdout with "SWEEP "."""

    def __init__(self):
        self.fd = None
        self.checked = False

    def _pick(self):
        self.checked = True
        v = os.environ.get("SWEEP_REPORT_FD")
        if not v:
            return
        try:
            fd = int(v)
        except ValueError:
            raise ValueError("SWEEP_REPORT_FD must be a file descriptor "
                             "number, not %r" % v) from None
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            return          # not open here: stdout, with the prefix
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISREG(mode) \
                or stat.S_ISCHR(mode):
            self.fd = fd

    def write(self, line):
        if not self.checked:
            self._pick()
        data = (line + "\n").encode("utf-8", "surrogatepass")
        if self.fd is not None:
            try:
                self._write_all(self.fd, data)
                return
            except OSError as e:
                if e.errno != errno.EBADF:
                    raise   # EPIPE: the daemon is gone (BrokenPipeError)
                self.fd = None    # closed under us: fall back
        sys.stdout.write("SWEEP " + line + "\n")
        sys.stdout.flush()

    @staticmethod
    def _write_all(fd, data):
        while data:
            n = os.write(fd, data)
            data = data[n:]


_channel = _Channel()


def report(epoch, **metrics):
    """Reports one epoch: report(3, train_loss=0.4, val_acc=0.81).

    Metrics are numbers (NaN and inf allowed) or None; grad_norm is a list
    of numbers, input side first. Raises ReportError for a line sweepd
    would refuse."""
    _channel.write(to_line(epoch_object(epoch, metrics)))


def final(**metrics):
    """The final line, once, after the last epoch: final(best_epoch=7,
    test_loss=0.33, test_acc=0.88). A trial ends completed when the
    process then exits with status 0."""
    _channel.write(to_line(final_object(metrics)))


_stop = {"installed": False, "flag": False, "previous": None}


def _on_sigterm(signum, frame):
    _stop["flag"] = True
    prev = _stop["previous"]
    if callable(prev):
        prev(signum, frame)


def stopping():
    """True once SIGTERM arrived: the daemon wants the trial to stop
    (pruned, cancelled, timed out, shutting down). The first call installs
    the SIGTERM handler, so call it once before training; from then on
    SIGTERM no longer kills the process: check stopping() every epoch (or
    step), save what you need and return. The daemon sends SIGKILL 5 s
    after SIGTERM."""
    if not _stop["installed"]:
        _stop["installed"] = True
        try:
            _stop["previous"] = signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:
            # Not the main thread: signals cannot be caught here.
            _stop["installed"] = False
            raise RuntimeError("sweepd.stopping() must first be called from "
                               "the main thread (it installs a SIGTERM "
                               "handler)") from None
    return _stop["flag"]


__all__ = ["NoSweepError", "ReportError", "params", "trial_dir",
           "resume_epoch", "seed", "report", "final", "stopping"]
