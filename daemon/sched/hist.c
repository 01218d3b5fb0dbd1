/*
 * hist.c: the per-sweep history for the pruners and TPE.
 */
#include "daemon/sched/hist.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/prune.h"
#include "daemon/search/rungs.h"
#include "daemon/search/sampler.h"

struct sweep_hist *
hist_at(struct hist *hs, int number)
{
	if (!hs->on || number < 1)
		return NULL;
	if (number > hs->cap) {
		int cap = hs->cap ? hs->cap : 16;
		struct sweep_hist *h;

		while (cap < number)
			cap *= 2;
		h = realloc(hs->v, (size_t)cap * sizeof *h);
		if (!h)
			return NULL;
		memset(h + hs->cap, 0, (size_t)(cap - hs->cap) * sizeof *h);
		for (int i = hs->cap; i < cap; i++)
			for (int j = 0; j < SPEC_MAX_OBJECTIVES; j++)
				h[i].values[j] = NAN;
		hs->v = h;
		hs->cap = cap;
	}
	rungs_touch(hs->rungs, number);   /* the caller may change the record */
	return &hs->v[number - 1];
}

void
hist_set_params(struct hist *hs, int number, const char *params_json)
{
	struct sweep_hist *h = hist_at(hs, number);

	if (!h)
		return;
	cJSON_Delete(h->params);
	h->params = cJSON_Parse(params_json);
	h->state = SAMPLER_RUNNING;
	h->value = NAN;
	for (int j = 0; j < SPEC_MAX_OBJECTIVES; j++)
		h->values[j] = NAN;
	h->n_curve = 0;
}

/* A lost batch's epochs (batch.c): the curve from epoch on goes, and the
 * best is what the trial's own curve kept. */
void
hist_cut(struct hist *hs, int number, int epoch, double best)
{
	struct sweep_hist *h = hist_at(hs, number);

	if (!h)
		return;
	while (h->n_curve > 0 && h->epochs[h->n_curve - 1] >= epoch)
		h->n_curve--;
	h->value = best;
}

/* Appends epoch's value to the trial's curve: memory and time by the line,
 * whatever the epoch number. Epochs of one attempt arrive ascending
 * (trial.c refuses others; the store loads them by attempt, then epoch);
 * one at or below the last is a later attempt's and replaces the curve
 * from there on (docs/DESIGN.md: the later attempt's row wins). */
void
hist_push(struct hist *hs, int number, int epoch, double v)
{
	struct sweep_hist *h = hist_at(hs, number);

	if (!h || epoch < 1)
		return;
	while (h->n_curve > 0 && epoch <= h->epochs[h->n_curve - 1])
		h->n_curve--;
	if (h->n_curve == h->cap_curve) {
		int cap = h->cap_curve ? h->cap_curve * 2 : 16;
		double *c = realloc(h->curve, (size_t)cap * sizeof *c);
		int *e;

		if (!c)
			return;
		h->curve = c;
		e = realloc(h->epochs, (size_t)cap * sizeof *e);
		if (!e)
			return;
		h->epochs = e;
		h->cap_curve = cap;
	}
	h->curve[h->n_curve] = v;
	h->epochs[h->n_curve] = epoch;
	h->n_curve++;
}

int
hist_last_epoch(const struct sweep_hist *h)
{
	return h->n_curve > 0 ? h->epochs[h->n_curve - 1] : 0;
}

void
hist_free(struct hist *hs)
{
	for (int i = 0; i < hs->cap; i++) {
		cJSON_Delete(hs->v[i].params);
		free(hs->v[i].curve);
		free(hs->v[i].epochs);
	}
	free(hs->v);
	hs->v = NULL;
	hs->cap = 0;
	rungs_free(hs->rungs);
	hs->rungs = NULL;
}

struct sampler_obs *
hist_build_obs(struct hist *hs, int n_created, int *n_out)
{
	struct sampler_obs *obs;
	int n = 0;

	*n_out = 0;
	if (!hs->on || n_created == 0)
		return NULL;
	obs = calloc((size_t)n_created, sizeof *obs);
	if (!obs)
		return NULL;
	for (int i = 0; i < n_created && i < hs->cap; i++) {
		struct sweep_hist *h = &hs->v[i];
		if (!h->params)
			continue;
		obs[n].params = h->params;
		obs[n].state = h->state;
		obs[n].value = h->value;
		obs[n].epochs = hist_last_epoch(h);
		n++;
	}
	*n_out = n;
	return obs;
}


/* Without such a value, TPE samples at random whatever the other
 * observations are. */
int
hist_any_valued(const struct hist *hs, int n_created)
{
	for (int i = 0; i < n_created && i < hs->cap; i++) {
		const struct sweep_hist *h = &hs->v[i];
		if (h->params && isfinite(h->value) &&
		    (h->state == SAMPLER_COMPLETE || h->state == SAMPLER_PRUNED))
			return 1;
	}
	return 0;
}

void
hist_curve(const struct sweep_hist *h, struct prune_curve *c)
{
	c->v = h->curve;
	c->epoch = h->epochs;
	c->n = h->n_curve;
	c->done = h->state == SAMPLER_COMPLETE;
	c->budget = 0;
}

/* rungs_get_fn over hs (a struct hist): record number as
 * hist_promotion's callers made prune_promote read it. */
static void
get_trial(void *arg, int number, struct rungs_trial *t)
{
	const struct hist *hs = arg;
	const struct sweep_hist *h;

	if (number > hs->cap)
		return;
	h = &hs->v[number - 1];
	hist_curve(h, &t->c);
	t->stopped = h->state == SAMPLER_PRUNED ? h->asha_rung : 0;
	t->promoted = h->promoted_rung;
}

/* Out of memory the index goes and the answer is 0: the next call makes
 * it again from every record. */
int
hist_promotion(struct hist *hs, const struct spec *sp, int n_created,
	       int *rung)
{
	int n = n_created < hs->cap ? n_created : hs->cap, number;

	*rung = 0;
	if (!hs->on || sp->pruner != SPEC_PRUNE_ASHA || !sp->prune_promote)
		return 0;
	if (!hs->rungs && !(hs->rungs = rungs_new()))
		return 0;
	number = rungs_promotable(hs->rungs, sp, n, get_trial, hs, rung);
	if (number < 0) {
		rungs_free(hs->rungs);
		hs->rungs = NULL;
		return 0;
	}
	return number;
}
