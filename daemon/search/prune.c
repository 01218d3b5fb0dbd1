/*
 * prune.c: median, ASHA and early-stopping rules over learning curves.
 *
 * Every rule compares best-so-far values, not the value at the epoch
 * itself: a noisy epoch should not decide a trial's fate, and a trial's
 * objective is its best epoch anyway.
 */
#include "daemon/search/prune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>

/* a better than b in the sweep's direction; NaN is never better. */
static int
better(const struct spec *s, double a, double b)
{
	if (isnan(a))
		return 0;
	if (isnan(b))
		return 1;
	return s->mode_max ? a > b : a < b;
}

/* The epoch number of point i of c. */
static int
epoch_at(const struct prune_curve *c, int i)
{
	return c->epoch ? c->epoch[i] : i + 1;
}

/* The last epoch c reached, 0 if none. */
static int
last_epoch(const struct prune_curve *c)
{
	return c->n > 0 ? epoch_at(c, c->n - 1) : 0;
}

/* Best finite value of c over its epochs up to e, NAN if none. */
static double
best_until(const struct spec *s, const struct prune_curve *c, int e)
{
	double best = NAN;

	for (int i = 0; i < c->n && epoch_at(c, i) <= e; i++)
		if (isfinite(c->v[i]) && better(s, c->v[i], best))
			best = c->v[i];
	return best;
}

int
prune_last_epoch(const struct prune_curve *c)
{
	return last_epoch(c);
}

double
prune_best_until(const struct spec *s, const struct prune_curve *c, int e)
{
	return best_until(s, c, e);
}

int
prune_budget(const struct spec *s, const cJSON *params)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(params, "epochs");
	int budget = s->prune_max_epochs;

	if (cJSON_IsNumber(e) && e->valuedouble >= 1 && e->valuedouble <= 1e9 &&
	    e->valuedouble == floor(e->valuedouble) &&
	    (budget == 0 || e->valuedouble < budget))
		budget = (int)e->valuedouble;
	return budget;
}

/* Whether me has run all the epochs it was set to. */
static int
at_budget(const struct prune_curve *me)
{
	return me->budget > 0 && last_epoch(me) >= me->budget;
}

static int
cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return a < b ? -1 : a > b;
}

int
prune_median(const struct spec *s, const struct prune_curve *me,
	     const struct prune_curve *others, int n_others, char *why,
	     size_t whylen)
{
	int e = last_epoch(me), n = 0, stop;
	double mine, median, *vals;

	if (me->done || e < 1 || e <= s->prune_warmup || n_others < 1 ||
	    at_budget(me))
		return 0;
	vals = malloc((size_t)n_others * sizeof *vals);
	if (!vals)
		return 0;   /* never stop a trial for want of memory */
	for (int i = 0; i < n_others; i++) {
		double b;
		if (!others[i].done || last_epoch(&others[i]) < e)
			continue;
		b = best_until(s, &others[i], e);
		if (isfinite(b))
			vals[n++] = b;
	}
	if (n < s->prune_min_trials || n == 0) {
		free(vals);
		return 0;
	}
	qsort(vals, (size_t)n, sizeof *vals, cmp_double);
	median = n % 2 ? vals[n / 2] : 0.5 * (vals[n / 2 - 1] + vals[n / 2]);
	free(vals);
	mine = best_until(s, me, e);
	stop = isnan(mine) || better(s, median, mine);
	if (stop && whylen > 0)
		snprintf(why, whylen, "median pruner: at epoch %d the best %s so "
			 "far, %.6g, is worse than the median %.6g of %d completed "
			 "trials at that epoch", e, s->metric, mine, median, n);
	return stop;
}

/* Whether e is a rung: min_epochs * eta^k for some k >= 0. */
static int
is_rung(const struct spec *s, int e)
{
	long r = s->prune_min_epochs;

	if (s->prune_eta < 2 || r < 1)
		return r == e;   /* spec_parse refuses these; never loop */
	while (r < e)
		r *= s->prune_eta;
	return r == e;
}

int
prune_asha_judges(const struct spec *s, const struct prune_curve *me)
{
	int e = last_epoch(me);

	return !me->done && e >= 1 && is_rung(s, e) && !at_budget(me);
}

int
prune_asha(const struct spec *s, const struct prune_curve *me,
	   const struct prune_curve *others, int n_others, char *why,
	   size_t whylen)
{
	int e = last_epoch(me), count = 1, ahead = 0, done = 0, keep;
	double mine;

	if (!prune_asha_judges(s, me))
		return 0;
	mine = best_until(s, me, e);
	for (int i = 0; i < n_others; i++) {
		if (last_epoch(&others[i]) < e)
			continue;
		count++;
		done += others[i].done;
		if (better(s, best_until(s, &others[i], e), mine))
			ahead++;
	}
	if (count < s->prune_eta)
		return 0;   /* too few at this rung to judge: promote */
	if (done < s->prune_min_trials)
		return 0;   /* no finished curve to judge against yet */
	keep = count / s->prune_eta;
	if (ahead < keep)
		return 0;
	if (whylen > 0)
		snprintf(why, whylen, "asha pruner: at the %d-epoch rung the best "
			 "%s so far, %.6g, has %d of %d trials ahead of it; only "
			 "the top %d (1/%d) go on", e, s->metric, mine, ahead, count,
			 keep, s->prune_eta);
	return 1;
}

/* The number of trials of c[0..n) that reached e with a value at e
 * strictly better than v (NaN never is; every value is better than NaN),
 * and in *count those that reached e. */
static int
ahead_at(const struct spec *s, const struct prune_curve *c, int n, int e,
	 double v, int *count)
{
	int ahead = 0;

	*count = 0;
	for (int i = 0; i < n; i++) {
		if (last_epoch(&c[i]) < e)
			continue;
		(*count)++;
		if (better(s, best_until(s, &c[i], e), v))
			ahead++;
	}
	return ahead;
}

/* The best promotable trial from rung r, -1 if none. */
static int
promote_from(const struct spec *s, const struct prune_curve *c,
	     const int *stopped, const int *promoted, int n, int r)
{
	int pick = -1, count, keep, ahead;
	double pick_v = NAN;

	for (int i = 0; i < n; i++) {
		double v;
		if (stopped[i] != r || promoted[i] >= r)
			continue;
		v = best_until(s, &c[i], r);
		if (!isfinite(v) || (pick >= 0 && !better(s, v, pick_v)))
			continue;
		ahead = ahead_at(s, c, n, r, v, &count);
		keep = count / s->prune_eta > 1 ? count / s->prune_eta : 1;
		if (ahead < keep) {
			pick = i;
			pick_v = v;
		}
	}
	return pick;
}

int
prune_promote(const struct spec *s, const struct prune_curve *c,
	      const int *stopped, const int *promoted, int n, int *rung)
{
	int top = 0;

	*rung = 0;
	for (int i = 0; i < n; i++)
		if (stopped[i] > promoted[i] && stopped[i] > top)
			top = stopped[i];
	/* Each rung a trial is stopped at, from the highest down. */
	while (top > 0) {
		int pick = promote_from(s, c, stopped, promoted, n, top), next = 0;
		if (pick >= 0) {
			*rung = top;
			return pick;
		}
		for (int i = 0; i < n; i++)
			if (stopped[i] > promoted[i] && stopped[i] < top &&
			    stopped[i] > next)
				next = stopped[i];
		top = next;
	}
	return -1;
}

int
prune_early_stop(const struct spec *s, const struct prune_curve *me,
		 char *why, size_t whylen)
{
	double best = NAN;
	int last = -1, idle;

	if (s->es_patience <= 0)
		return 0;
	for (int i = 0; i < me->n; i++) {
		double v = me->v[i];
		if (!isfinite(v))
			continue;
		/* Improving means beating best by more than min_delta. */
		if (last < 0 || (s->mode_max ? v - s->es_min_delta > best :
					       v + s->es_min_delta < best)) {
			best = v;
			last = i;
		}
	}
	if (last < 0)
		return 0;
	idle = last_epoch(me) - epoch_at(me, last);
	if (idle < s->es_patience)
		return 0;
	if (whylen > 0)
		snprintf(why, whylen, "early stopping: %s has not improved by more "
			 "than %g for %d epochs (best %.6g at epoch %d, patience %d)",
			 s->metric, s->es_min_delta, idle, best, epoch_at(me, last),
			 s->es_patience);
	return 1;
}
