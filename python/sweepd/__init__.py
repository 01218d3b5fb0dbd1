"""sweepd from Python, standard library only (docs/python.md).

Trainer side, in a script the daemon runs: params, trial_dir,
resume_epoch, seed, report, final, stopping.

Client side: Client (submit, sweeps, status, trials, trial, best, wait,
watch, cancel, pause, resume, enqueue, export, export_dataframe, ask) and
Trial (ask and tell: report, tell, fail, prune). Daemon errors raise Error
with .code and .message.
"""
from sweepd.client import (Client, Error, Trial, default_state_dir,
                           socket_path)
from sweepd.lines import ReportError
from sweepd.trainer import (NoSweepError, final, params, report,
                            resume_epoch, seed, stopping, trial_dir)

__version__ = "0.1.0"

__all__ = ["Client", "Error", "Trial", "ReportError", "NoSweepError",
           "default_state_dir", "socket_path", "params", "trial_dir",
           "resume_epoch", "seed", "report", "final", "stopping"]
