/*
 * hist_mo.c: several objectives' values in the history (hist_mo.h).
 */
#include "daemon/sched/hist_mo.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include <cJSON.h>

void
hist_set_values(struct hist *hs, int number, const double *v, int k)
{
	struct sweep_hist *h = hist_at(hs, number);

	for (int j = 0; h && j < k && j < SPEC_MAX_OBJECTIVES; j++)
		h->values[j] = v[j];
}

void
hist_record_report(struct hist *hs, int number, const struct spec *sp,
		   const struct report_line *r)
{
	double v[SPEC_MAX_OBJECTIVES];

	for (int j = 0; j < sp->n_objectives; j++)
		v[j] = report_get(r, sp->objectives[j].metric);
	hist_set_values(hs, number, v, sp->n_objectives);
}

struct load_ctx {
	struct hist *hs;          /* borrowed */
	const struct spec *sp;    /* borrowed */
};

static int
load_row(void *ud, int number, const char *metrics_json)
{
	struct load_ctx *c = ud;
	cJSON *m = metrics_json ? cJSON_Parse(metrics_json) : NULL;
	double v[SPEC_MAX_OBJECTIVES];

	for (int j = 0; j < c->sp->n_objectives; j++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(m,
					c->sp->objectives[j].metric);
		v[j] = cJSON_IsNumber(x) ? x->valuedouble : NAN;
	}
	hist_set_values(c->hs, number, v, c->sp->n_objectives);
	cJSON_Delete(m);
	return 0;
}

int
hist_load_values(struct hist *hs, struct db *db, int64_t sweep_id,
		 const struct spec *sp)
{
	struct load_ctx c = { hs, sp };

	if (!hs->on || sp->n_objectives < 2)
		return 0;
	return db_best_epoch_metrics(db, sweep_id, load_row, &c);
}

/* The same walk as hist_build_obs: trials with params, by number. */
int
hist_objs_build(struct hist_objs *m, const struct hist *hs,
		const struct spec *sp, int n_created,
		const struct sampler_objectives **objs)
{
	int k = sp->n_objectives, n = 0;

	*objs = NULL;
	m->values = NULL;
	if (k < 2)
		return 0;
	m->values = malloc((size_t)(n_created > 0 ? n_created : 1) *
			   (size_t)k * sizeof *m->values);
	if (!m->values)
		return -ENOMEM;
	for (int i = 0; i < n_created && i < hs->cap; i++) {
		if (!hs->v[i].params)
			continue;
		for (int j = 0; j < k; j++)
			m->values[n * k + j] = hs->v[i].values[j];
		n++;
	}
	for (int j = 0; j < k; j++)
		m->maximize[j] = sp->objectives[j].mode_max;
	m->o = (struct sampler_objectives){ k, m->maximize, m->values };
	*objs = &m->o;
	return 0;
}

void
hist_objs_free(struct hist_objs *m)
{
	free(m->values);
	m->values = NULL;
}
