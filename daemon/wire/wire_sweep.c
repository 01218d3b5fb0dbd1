/*
 * daemon/wire/wire_sweep.c: sweep summaries, as `sweeps`, `sweep`, `watch`
 * and the state changes reply them, built from the sweep rows, the best
 * trial and the failure groups of daemon/store/ (contract in wire.h, the
 * protocol in docs/DESIGN.md, "Client protocol").
 */
#include "daemon/wire/wire.h"
#include "daemon/wire/wire_impl.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/vocab.h"

/* The best trial's number and objective, for "best". */
struct best {
	int number;
	double objective;
};

static int
take_best(void *ud, const struct db_trial_rec *r)
{
	struct best *b = ud;

	b->number = r->number;
	b->objective = r->objective;
	return 0;
}

/* "best": {"number","objective"} of the sweep's best completed trial, or
 * null. mode_max picks the direction. */
static int
add_best(struct db *db, cJSON *sum, int64_t id, int mode_max)
{
	struct best b = { 0, NAN };
	cJSON *o;
	int rc = db_best_get(db, id, mode_max, take_best, &b);

	if (rc == -ENOENT) {
		cJSON_AddNullToObject(sum, "best");
		return 0;
	}
	if (rc < 0)
		return rc;
	if (isnan(b.objective))
		return -ENOMEM;   /* the query never yields a NULL objective */
	o = cJSON_AddObjectToObject(sum, "best");
	cJSON_AddNumberToObject(o, "number", b.number);
	cJSON_AddNumberToObject(o, "objective", b.objective);
	return 0;
}

/* "failures": the largest groups of failed trials, none queried when the
 * counters say there is no failed trial. */
static int
add_failures(struct db *db, cJSON *sum, int64_t id, int n_failed, int limit)
{
	cJSON *arr = NULL;
	int rc = 0;

	if (n_failed > 0)
		rc = wire_failures_json(db, id, limit, &arr);
	else
		arr = cJSON_CreateArray();
	if (rc == 0 && !arr)
		rc = -ENOMEM;
	if (rc == 0 && !cJSON_AddItemToObject(sum, "failures", arr)) {
		cJSON_Delete(arr);
		rc = -ENOMEM;
	}
	return rc;
}

/* "objective": {"metric","mode"} from the parsed spec; returns mode_max.
 * A spec with several objectives ("objectives"): the first is the
 * objective. The spec's default mode is max; only an explicit "min" flips
 * it. */
static int
add_objective(cJSON *sum, const cJSON *spec)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(spec, "objective");
	const cJSON *metric, *mode;
	int mode_max;
	cJSON *obj;

	if (!o)
		o = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec,
							"objectives"), 0);
	metric = cJSON_GetObjectItemCaseSensitive(o, "metric");
	mode = cJSON_GetObjectItemCaseSensitive(o, "mode");
	mode_max = !(cJSON_IsString(mode) && strcmp(mode->valuestring, "min") == 0);
	obj = cJSON_AddObjectToObject(sum, "objective");

	if (cJSON_IsString(metric))
		cJSON_AddStringToObject(obj, "metric", metric->valuestring);
	else
		cJSON_AddNullToObject(obj, "metric");
	cJSON_AddStringToObject(obj, "mode", mode_max ? "max" : "min");
	return mode_max;
}

/* The members every summary starts with, up to "counts". */
static void
add_head(cJSON *sum, const struct db_sweep_rec *r)
{
	cJSON *counts;

	cJSON_AddNumberToObject(sum, "id", (double)r->id);
	wire_add_str(sum, "name", r->name);
	wire_add_str(sum, "status", r->status);
	wire_add_num(sum, "created_at", r->created_at);
	wire_add_num(sum, "ended_at", r->ended_at);
	cJSON_AddNumberToObject(sum, "trials_total", r->trials_total);
	counts = cJSON_AddObjectToObject(sum, "counts");
	for (int i = 0; i < DB_TRIAL_STATUSES; i++)
		cJSON_AddNumberToObject(counts,
					vocab_trial_name((enum trial_status)i),
					r->counts[i]);
}

/* A summary from a sweep row; with_detail adds "spec" and "error". */
static int
sweep_summary(struct db *db, const struct db_sweep_rec *r, int with_detail,
	      cJSON **out)
{
	cJSON *sum = cJSON_CreateObject();
	cJSON *spec = r->spec_json ? cJSON_Parse(r->spec_json) : NULL;
	int mode_max, rc;

	*out = NULL;
	if (!sum) {
		cJSON_Delete(spec);
		return -ENOMEM;
	}
	add_head(sum, r);
	mode_max = add_objective(sum, spec);
	rc = add_best(db, sum, r->id, mode_max);
	if (rc == 0)
		rc = add_failures(db, sum, r->id, r->counts[TRIAL_FAILED],
				  with_detail ? WIRE_FAILURES_DETAIL : 1);
	if (rc == 0 && with_detail) {
		cJSON_AddItemToObject(sum, "spec", spec ? spec : cJSON_CreateNull());
		spec = NULL;
		wire_add_str(sum, "error", r->error);
	}
	cJSON_Delete(spec);
	if (rc < 0) {
		cJSON_Delete(sum);
		return rc;
	}
	*out = sum;
	return 0;
}

struct summaries {
	struct db *db;
	cJSON *c;      /* the array (list) or NULL (one, taken) */
	cJSON *one;
};

static int
append_summary(void *ud, const struct db_sweep_rec *r)
{
	struct summaries *s = ud;
	cJSON *sum;
	int rc = sweep_summary(s->db, r, 0, &sum);

	if (rc == 0 && !cJSON_AddItemToArray(s->c, sum)) {
		cJSON_Delete(sum);
		rc = -ENOMEM;
	}
	return rc;
}

int
wire_sweeps_json(struct db *db, cJSON **out)
{
	struct summaries s = { .db = db, .c = cJSON_CreateArray() };
	int rc = s.c ? db_sweeps_walk(db, append_summary, &s) : -ENOMEM;

	*out = NULL;
	if (rc < 0) {
		cJSON_Delete(s.c);
		return rc;
	}
	*out = s.c;
	return 0;
}

static int
take_summary(void *ud, const struct db_sweep_rec *r)
{
	struct summaries *s = ud;

	return sweep_summary(s->db, r, 1, &s->one);
}

int
wire_sweep_json(struct db *db, int64_t id, cJSON **out)
{
	struct summaries s = { .db = db };
	int rc = db_sweep_get(db, id, take_summary, &s);

	*out = rc == 0 ? s.one : NULL;
	if (rc < 0)
		cJSON_Delete(s.one);
	return rc;
}
