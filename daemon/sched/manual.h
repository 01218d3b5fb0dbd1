/*
 * manual.h: ask and tell (docs/DESIGN.md, "Ask and tell").
 *
 * A sweep whose trainer is {"manual": {}} runs no process: a client asks
 * for its next trial (`ask`), runs it wherever it likes (a notebook),
 * reports its epochs (`report`) and ends it (`tell`). An asked trial is
 * running, takes one of the sweep's search.parallel slots (not one of the
 * daemon's workers), and goes through the same code as a spawned one:
 * sched_trial_report for each epoch (storage, diagnosis, pruners, early
 * stopping, divergence, watchers) and sched_trial_ended for its end. One
 * timer per daemon, alive while a manual trial runs, fails the trials that
 * sent nothing for limits.heartbeat_s (stale, class "stall"), enforces
 * limits.trial_timeout_s, and ends the ones trial_stop was called for
 * (cancel, shutdown) on the next loop iteration.
 */
#ifndef SWEEPD_MANUAL_H
#define SWEEPD_MANUAL_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

struct sweep;
struct trial;

/* Hands out sw's next trial: fills reply["trial"] with number, attempt,
 * params, seed, trial_dir (null: no per-trial directories yet) and
 * heartbeat_s. 0, or a negative errno with the reason in err. */
int manual_ask(struct sweep *sw, cJSON *reply, char *err, size_t errlen);

/* Stores one epoch of trial number (attempt: 0 = any), req["metrics"]
 * being the report line as an object. reply["stop"] says whether the
 * daemon stopped the trial (then "status" and "reason" say how; the trial
 * has ended). */
int manual_report(struct sweep *sw, int64_t number, int64_t attempt,
		  const cJSON *req, cJSON *reply, char *err, size_t errlen);

/* Ends trial number: req["status"] "completed" (req["metrics"]: the final
 * line as an object), "failed" or "pruned" (req["error"]: why). Fills
 * reply["trial"] with the trial as stored. */
int manual_tell(struct sweep *sw, int64_t number, int64_t attempt,
		const cJSON *req, cJSON *reply, char *err, size_t errlen);

/* trial_stop on a manual trial: it is ended on the next loop iteration. */
void manual_stop(struct trial *t);

#endif
