/*
 * wire_front.c: `best`'s Pareto front with several objectives: each
 * completed trial's values at its best epoch of the first objective, the
 * non-dominated ones, their trial objects with "values" (contract in
 * wire.h).
 */
#include "daemon/wire/wire.h"
#include "daemon/wire/wire_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/pareto.h"
#include "daemon/search/spec.h"

/* The completed trials' values: number[n], v[n * k]; all owned. */
struct front_pts {
	const struct wire_objectives *o;   /* borrowed */
	int n, cap;
	int *number;
	double *v;
};

static int
grow(struct front_pts *p)
{
	int cap = p->cap ? p->cap * 2 : 64;
	int *num = realloc(p->number, (size_t)cap * sizeof *num);
	double *v;

	if (!num)
		return -ENOMEM;
	p->number = num;
	v = realloc(p->v, (size_t)cap * (size_t)p->o->k * sizeof *v);
	if (!v)
		return -ENOMEM;
	p->v = v;
	p->cap = cap;
	return 0;
}

/* One completed trial: kept when every objective is a finite number of
 * its best epoch's metrics. */
static int
add_point(void *ud, int number, const char *metrics_json)
{
	struct front_pts *p = ud;
	cJSON *m = metrics_json ? cJSON_Parse(metrics_json) : NULL;
	int k = p->o->k, rc = 0;

	if (!m)
		return 0;   /* stored objects parse; nothing to learn otherwise */
	if (p->n == p->cap && (rc = grow(p)) < 0)
		goto out;
	for (int j = 0; j < k; j++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(m,
							p->o->metrics[j]);
		if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
			goto out;
		p->v[p->n * k + j] = x->valuedouble;
	}
	p->number[p->n++] = number;
out:
	cJSON_Delete(m);
	return rc;
}

struct member {
	cJSON *arr;             /* borrowed: the front */
	const double *values;   /* borrowed [k] */
	int k;
};

static int
add_member(void *ud, const struct db_trial_rec *r)
{
	struct member *mb = ud;
	cJSON *t = wire_trial_object(r), *vals;

	if (!t)
		return -ENOMEM;
	vals = cJSON_AddArrayToObject(t, "values");
	for (int j = 0; vals && j < mb->k; j++)
		if (!cJSON_AddItemToArray(vals, cJSON_CreateNumber(mb->values[j])))
			vals = NULL;
	if (!vals || !cJSON_AddItemToArray(mb->arr, t)) {
		cJSON_Delete(t);
		return -ENOMEM;
	}
	return 0;
}

static int
build_front(struct db *db, int64_t sweep_id, const struct front_pts *p,
	    cJSON *arr)
{
	int *idx = p->n ? malloc((size_t)p->n * sizeof *idx) : NULL;
	int n, rc = 0;

	if (p->n && !idx)
		return -ENOMEM;
	n = p->n ? pareto_front(p->v, p->n, p->o->k, p->o->maximize, idx) : 0;
	if (n < 0)
		rc = n;
	for (int i = 0; rc == 0 && i < n; i++) {
		struct member mb = { arr, &p->v[idx[i] * p->o->k], p->o->k };
		rc = db_trial_get(db, sweep_id, p->number[idx[i]], add_member,
				  &mb);
	}
	free(idx);
	return rc;
}

int
wire_front_json(struct db *db, int64_t sweep_id,
		const struct wire_objectives *o, cJSON **out)
{
	struct front_pts p = { .o = o };
	cJSON *arr = NULL;
	int rc;

	*out = NULL;
	if (o->k < 2 || o->k > SPEC_MAX_OBJECTIVES)
		return -EINVAL;
	rc = db_best_epoch_metrics(db, sweep_id, add_point, &p);
	if (rc == 0 && !(arr = cJSON_CreateArray()))
		rc = -ENOMEM;
	if (rc == 0)
		rc = build_front(db, sweep_id, &p, arr);
	if (rc == 0) {
		*out = arr;
		arr = NULL;
	}
	cJSON_Delete(arr);
	free(p.number);
	free(p.v);
	return rc;
}

int
wire_front_spec_json(struct db *db, int64_t sweep_id, const cJSON *spec,
		     cJSON **out)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(spec, "objectives");
	const char *metrics[SPEC_MAX_OBJECTIVES];
	int maximize[SPEC_MAX_OBJECTIVES], k = 0;
	const cJSON *e;
	struct wire_objectives o = { 0, metrics, maximize };

	*out = NULL;
	cJSON_ArrayForEach(e, list) {
		const char *m = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(e, "metric"));
		const char *mode = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(e, "mode"));
		if (!m || k == SPEC_MAX_OBJECTIVES)
			return -EINVAL;   /* the stored spec was validated */
		metrics[k] = m;
		maximize[k++] = !(mode && strcmp(mode, "min") == 0);
	}
	if (k < 2)
		return 0;
	o.k = k;
	return wire_front_json(db, sweep_id, &o, out);
}

int
wire_front_add(struct db *db, int64_t sweep_id, const cJSON *spec,
	       int with_objectives, cJSON *dst)
{
	cJSON *sum = NULL, *front = NULL;
	int rc = 0;

	if (!spec) {
		rc = wire_sweep_json(db, sweep_id, &sum);
		spec = cJSON_GetObjectItemCaseSensitive(sum, "spec");
	}
	if (rc == 0)
		rc = wire_front_spec_json(db, sweep_id, spec, &front);
	if (rc == 0 && front) {
		cJSON_AddItemToObject(dst, "front", front);
		if (with_objectives)
			cJSON_AddItemToObject(dst, "objectives", cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(spec,
								 "objectives"), 1));
	}
	cJSON_Delete(sum);
	return rc;
}
