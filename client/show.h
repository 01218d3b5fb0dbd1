/*
 * show: sweepctl's human-readable rendering of the daemon's replies and
 * watch events. Each function takes the JSON the daemon sent (borrowed,
 * never modified), writes text to out and returns 0 or -ENOMEM. Fields that
 * are missing or of the wrong type print as "-" rather than failing: the
 * output is for reading, --json is for checking.
 *
 * `now` is passed in (not read from the clock) so that tests get stable
 * output.
 */
#ifndef SWEEPD_CLIENT_SHOW_H
#define SWEEPD_CLIENT_SHOW_H

#include <stdio.h>
#include <time.h>

#include <cJSON.h>

/* `ls`: sweeps is the reply's "sweeps" array. A table with the columns
 * ID NAME STATUS DONE/TOTAL RUNNING BEST CREATED, or "no sweeps". */
int show_sweeps(FILE *out, const cJSON *sweeps, time_t now);

/* `status`: sweep is the reply's "sweep" object (summary, spec, error,
 * verdicts, best_trial, advice). */
int show_sweep(FILE *out, const cJSON *sweep, time_t now);

/* `trials`: a table # STATUS OBJECTIVE BEST_EP EPOCHS VERDICT TIME PARAMS;
 * params equal in every trial are listed once below it. */
int show_trials(FILE *out, const cJSON *trials, time_t now);

/* `trial` and `best`: one trial object (with "stderr_tail" and "curve"
 * when the daemon sent them). The curve table is printed when with_curve
 * is set and the trial has a non-empty curve. */
int show_trial(FILE *out, const cJSON *trial, int with_curve, time_t now);

/* The learning curve (array of epoch objects) as a table: epoch first,
 * then the metrics present in any epoch, standard ones first; null or
 * missing values as "nan", arrays (grad_norm) as a/b/c. */
int show_curve(FILE *out, const cJSON *curve);

/* `stats`: the reply object. */
int show_stats(FILE *out, const cJSON *reply);
/* One line for `status`: the daemon's CPUs and GPUs in use and free (from
 * a stats reply; nothing when it has no "cpus"). */
void show_capacity(FILE *out, const cJSON *stats);
/* The "storage" member of a stats or sweep reply as one "storage" line
 * (key column w wide, 0: as show_sweep): "ok", or the outage; nothing
 * without the member. */
void show_storage(FILE *out, int w, const cJSON *reply);

/* `watch`: one line for one event, stamped with the local time `at`.
 * metric is the sweep's objective metric (may be NULL), shown first. */
int show_event(FILE *out, const cJSON *ev, const char *metric, time_t at);

#endif
