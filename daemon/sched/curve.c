/*
 * curve.c: a trial's learning curve in memory (curve.h).
 */
#include "daemon/sched/curve.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "daemon/sched/state.h"
#include "daemon/sched/trial.h"
#include "daemon/search/spec.h"

int
curve_append(struct trial *t, const struct report_line *r, double objective)
{
	struct diag_epoch *e;
	double *g = NULL;

	if (t->n_curve == t->cap_curve) {
		int cap = t->cap_curve ? t->cap_curve * 2 : 16;
		struct diag_epoch *c = realloc(t->curve, (size_t)cap * sizeof *c);
		if (!c)
			return -ENOMEM;
		t->curve = c;
		t->cap_curve = cap;
	}
	if (r->n_grad > 0) {
		g = malloc((size_t)r->n_grad * sizeof *g);
		if (!g)
			return -ENOMEM;
		memcpy(g, r->grad_norm, (size_t)r->n_grad * sizeof *g);
	}
	e = &t->curve[t->n_curve];
	/* A NaN loss reads as +inf there, so "diverged" is told from "not
	 * reported" even at epoch 1. */
	if (diag_epoch_from_report(e, r, NULL) < 0) {
		free(g);
		return -EINVAL;
	}
	t->n_curve++;
	e->objective = objective;
	e->grad_norm = g;
	return 0;
}

/* What the progress of t counts as its best: the first epoch of the best
 * finite objective (progress.c keeps it the same way, epoch by epoch). */
void
curve_take_best(struct trial *t)
{
	int mode_max = t->sweep->spec->mode_max;

	t->best = NAN;
	t->best_epoch = 0;
	for (int i = 0; i < t->n_curve; i++) {
		double v = t->curve[i].objective;
		if (!isfinite(v))
			continue;
		if (!isfinite(t->best) || (mode_max ? v > t->best : v < t->best)) {
			t->best = v;
			t->best_epoch = t->curve[i].epoch;
		}
	}
}

void
curve_cut(struct trial *t, int epoch)
{
	int n = t->n_curve;

	while (t->n_curve > 0 && t->curve[t->n_curve - 1].epoch >= epoch) {
		t->n_curve--;
		free((void *)t->curve[t->n_curve].grad_norm);
	}
	if (t->n_curve != n)
		curve_take_best(t);
}
