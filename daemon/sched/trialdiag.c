/*
 * trialdiag.c: runs common/diag.c on a trial with its context (see
 * trialdiag.h).
 */
#include "daemon/sched/trialdiag.h"

#include <math.h>
#include <string.h>

#include "daemon/search/spec.h"
#include "worker/params.h"

enum diag_end
tdiag_end_of(const struct trial *t, enum trial_status st)
{
	switch (st) {
	case TRIAL_RUNNING:
	case TRIAL_PENDING:
	case TRIAL_QUEUED:
		return DIAG_RUNNING;
	case TRIAL_PRUNED:
		return DIAG_PRUNED;
	case TRIAL_COMPLETED:
		return t->stop == STOP_EARLY ? DIAG_EARLY_STOPPED : DIAG_COMPLETED;
	default:
		return DIAG_FAILED;
	}
}

/* A param of the trial, else the trainer option of the same name. */
static const cJSON *
setting(const struct spec *sp, const cJSON *params, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, name);

	return v ? v : cJSON_GetObjectItemCaseSensitive(sp->trainer, name);
}

double
tdiag_chance(const struct spec *sp, const cJSON *params)
{
	const cJSON *d, *k;

	if (!sp->builtin)
		return NAN;
	d = setting(sp, params, "dataset");
	if (!d || (cJSON_IsString(d) && strcmp(d->valuestring, "fashion-mnist") == 0))
		return 0.1;
	if (!cJSON_IsString(d) || strcmp(d->valuestring, "synthetic") != 0)
		return NAN;
	k = setting(sp, params, "synthetic_classes");
	if (!k) {   /* sweep-worker's own default, from its table */
		struct params def;

		params_defaults(&def);
		return 1.0 / def.synthetic_classes;
	}
	return cJSON_IsNumber(k) && k->valuedouble >= 2 ? 1.0 / k->valuedouble
						       : NAN;
}

cJSON *
tdiag_run(const struct sweep *sw, const struct trial *t, enum diag_end end)
{
	const struct spec *sp = sw->spec;
	cJSON *params = t->params_json ? cJSON_Parse(t->params_json) : NULL;
	struct diag_trial dt;
	cJSON *d;

	diag_trial_init(&dt, end);
	dt.params = params;
	dt.space = cJSON_GetObjectItemCaseSensitive(sp->json, "space");
	dt.builtin = sp->builtin;
	dt.chance_acc = tdiag_chance(sp, params);
	dt.sweep_best_train_acc = sw->best_train_acc;
	d = diag_trial_curve(&sw->diag, t->curve, t->n_curve, sp->mode_max, &dt);
	cJSON_Delete(params);
	return d;
}

void
tdiag_note_end(struct sweep *sw, const struct trial *t)
{
	for (int i = 0; i < t->n_curve; i++) {
		double a = t->curve[i].train_acc;

		if (isfinite(a) && !(a <= sw->best_train_acc))
			sw->best_train_acc = a;
	}
}
