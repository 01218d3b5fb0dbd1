/*
 * live: the state behind `sweepctl watch` on a terminal, and its drawing.
 *
 * The state (progress counts, the best trial, verdict counts, and each
 * running trial with its objective curve) starts from the watch reply's
 * sweep summary and moves on one watch event at a time (live_update).
 * live_render writes the whole view, laid out for a width and height, as
 * plain lines to a FILE *; putting it on the screen is the caller's
 * business (cmd_watch.c, with ncurses), so the tests can render to a
 * memstream and compare text.
 *
 * Nothing here reads the clock, the terminal or the socket.
 */
#ifndef SWEEPD_CLIENT_LIVE_H
#define SWEEPD_CLIENT_LIVE_H

#include <stddef.h>
#include <stdio.h>

#include <cJSON.h>

#include "common/vocab.h"

#define LIVE_CURVE_MAX 256     /* objective points kept per running trial */
#define LIVE_VERDICTS_MAX 16   /* distinct verdict names counted */
#define LIVE_NAME_MAX 64
#define LIVE_FAILURES_MAX 4    /* kinds of failure (class and message) kept */

/* Trial states as the summary's "counts" names them (common/vocab.h's). */
enum live_status {
	LIVE_QUEUED = TRIAL_QUEUED, LIVE_PENDING = TRIAL_PENDING,
	LIVE_RUNNING = TRIAL_RUNNING,
	LIVE_COMPLETED = TRIAL_COMPLETED, LIVE_FAILED = TRIAL_FAILED,
	LIVE_PRUNED = TRIAL_PRUNED, LIVE_CANCELLED = TRIAL_CANCELLED,
	LIVE_N_STATUS = TRIAL_N_STATUS
};

struct live_trial {
	int number, attempt;
	int epoch;              /* last epoch reported; 0 before the first */
	int epochs;             /* params.epochs; 0 when unknown */
	double value;           /* objective at the last epoch; NAN before */
	double *curve;          /* (n) objective by epoch, oldest dropped past
				 * LIVE_CURVE_MAX; owned */
	size_t n;
	char verdict[32];       /* the diagnosis so far; "" when none */
	int need_fetch;         /* seen first in an epoch event (it started
				 * before the watch): params and curve unknown */
	int pending;            /* a Slurm job still in Slurm's queue */
};

struct live {
	long long sweep;
	char name[LIVE_NAME_MAX], status[16], metric[LIVE_NAME_MAX];
	int mode_max;           /* 1: a higher objective is better */
	double created_at;      /* unix s; 0 when unknown */
	double ended_at;        /* unix s, once the sweep ended (from the
				 * summary); 0 while it runs */
	int total;              /* search.trials */
	int counts[LIVE_N_STATUS];
	int have_best, best_number;
	double best_value;
	struct { char name[32]; int n; } verdicts[LIVE_VERDICTS_MAX];
	int n_verdicts;
	int skip_verdicts;      /* trial_ended events already in verdicts[] */
	struct { char class[32], message[96]; int n; } failures[LIVE_FAILURES_MAX];
	int n_failures;         /* kinds of failure: the summary's "failures"
				 * (when the daemon sends them) plus the
				 * failed trial_ended events since */
	struct live_trial *run; /* (n_run) running trials by start; owned */
	size_t n_run, cap_run;
	int ended;              /* sweep_ended seen (or the summary says so) */
};

/* Sets up l from the watch reply's "sweep" summary (borrowed). Missing
 * fields are left empty. Returns 0 or -ENOMEM. Free with live_free. */
int live_init(struct live *l, long long sweep, const cJSON *summary);

/*
 * Verdict counts from the `trials` op's "trials" array (borrowed), fetched
 * after the watch began: the verdicts of the trials that have ended (a
 * running trial's diagnosis is provisional; its trial_ended event will
 * count it). The trial_ended events of trials that ended between the
 * watch reply and that reply are then already counted, so as many are
 * skipped: the difference between the ended trials in the array and the
 * ended counts l has. Returns 0.
 */
int live_seed_verdicts(struct live *l, const cJSON *trials);

/* Applies one watch event (borrowed): trial_started (counted pending when
 * it says so), trial_running, epoch, trial_ended, sweep_paused,
 * sweep_resumed, sweep_ended; others are ignored. Returns 0 or -ENOMEM (l stays usable). */
int live_update(struct live *l, const cJSON *ev);

/* Fills in a running trial first seen mid-way (need_fetch) from a `trial`
 * reply's "trial": its params (epochs) and its curve so far, merged with
 * the epochs events already gave. Clears need_fetch. Returns 0 or -ENOMEM. */
int live_seed_trial(struct live *l, const cJSON *trial);

/* The running trial with this number, or NULL. Borrowed from l. */
struct live_trial *live_find(struct live *l, int number);

/*
 * Writes the view: a header, a progress bar with elapsed and estimated
 * time left, the counts, one line per running trial (epoch i/n, current
 * objective, a sparkline of its curve, its verdict so far), the best
 * trial, the verdict counts and, when some trial failed, the most common
 * failure. It is laid out for width display columns (at least 20): the
 * sweep's name is cut before the status is, the bar and the sparklines
 * shrink before the time left and the verdicts do; whatever still does
 * not fit is cut at width. At most max_lines lines (at least 1) are
 * written: the running trials get what the other lines leave, and those
 * that do not fit are summed up in one line; on fewer lines still the last
 * ones go. now is the current unix time. Returns the number of lines.
 */
int live_render(FILE *out, const struct live *l, double now, int width,
		int max_lines);

/* The sparkline of v (n values) in at most width cells, the last ones
 * when there are more: one of ▁▂▃▄▅▆▇█ per value between their min and
 * max, a space for a non-finite one. Writes NUL-terminated UTF-8 into buf
 * (3 * width + 1 bytes). Returns buf. */
char *live_sparkline(char *buf, const double *v, size_t n, size_t width);

/* Frees what l owns; harmless twice and on a zeroed struct. */
void live_free(struct live *l);

#endif
