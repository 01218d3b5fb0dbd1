/*
 * spec_grid.c: what grid search walks: the size of the grid, the digits
 * of one combination (conditions included), and the submit-time check that
 * a grid can be enumerated and holds the trials asked for.
 */
#include "daemon/search/spec_grid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/spec_param.h"
#include "daemon/search/spec_util.h"

/* Product of the grid lengths of the params with want[i] set (NULL: all),
 * capped at SPEC_MAX_TRIALS + 1; -1 when one cannot be enumerated. */
static long
grid_product(const struct spec *s, const unsigned char *want)
{
	long size = 1;

	for (int i = 0; i < s->n_params; i++) {
		long n;
		if (want && !want[i])
			continue;
		n = spec_param_grid_len(&s->params[i]);
		if (n < 0)
			return -1;
		size = size > (SPEC_MAX_TRIALS + 1L) / n ? SPEC_MAX_TRIALS + 1L :
		       size * n;
	}
	return size > SPEC_MAX_TRIALS ? SPEC_MAX_TRIALS + 1L : size;
}

/* The walk over the parents' combinations (see spec_grid_digits). */
struct cond_walk {
	unsigned char *is_parent;  /* [n]: named by some "when" */
	unsigned char *active;     /* [n]: of the current combination */
	unsigned char *rest;       /* [n]: active and not a parent */
	long *pd;                  /* [n]: the parents' digits */
	cJSON *vals;               /* the parents' values */
};

static void
walk_free(struct cond_walk *w)
{
	free(w->is_parent);
	free(w->active);
	free(w->rest);
	free(w->pd);
	cJSON_Delete(w->vals);
}

static int
walk_init(const struct spec *s, struct cond_walk *w)
{
	size_t n = (size_t)s->n_params;

	memset(w, 0, sizeof *w);
	w->is_parent = calloc(n, 1);
	w->active = calloc(n, 1);
	w->rest = calloc(n, 1);
	w->pd = calloc(n, sizeof *w->pd);
	if (!w->is_parent || !w->active || !w->rest || !w->pd)
		return -ENOMEM;
	for (int i = 0; i < s->n_params; i++)
		for (int k = 0; k < s->params[i].n_when; k++)
			w->is_parent[s->params[i].when[k].parent] = 1;
	return 0;
}

/* Sets up the current parent combination: values, activity, and whether
 * it is canonical (every inactive parent at digit 0). 1, 0 or -ENOMEM. */
static int
walk_combo(const struct spec *s, struct cond_walk *w)
{
	cJSON_Delete(w->vals);
	w->vals = cJSON_CreateObject();
	if (!w->vals)
		return -ENOMEM;
	for (int i = 0; i < s->n_params; i++) {
		cJSON *v;
		if (!w->is_parent[i])
			continue;
		v = spec_param_grid_value(&s->params[i], w->pd[i]);
		if (!v || !cJSON_AddItemToObject(w->vals, s->params[i].name, v)) {
			cJSON_Delete(v);
			return -ENOMEM;
		}
	}
	spec_active(s, w->vals, w->active);
	for (int i = 0; i < s->n_params; i++) {
		if (w->is_parent[i] && !w->active[i] && w->pd[i] != 0)
			return 0;
		w->rest[i] = w->active[i] && !w->is_parent[i];
	}
	return 1;
}

/* The next parent combination, last parent fastest; 0 after the last. */
static int
walk_next(const struct spec *s, struct cond_walk *w)
{
	for (int i = s->n_params - 1; i >= 0; i--) {
		if (!w->is_parent[i])
			continue;
		if (++w->pd[i] < spec_param_grid_len(&s->params[i]))
			return 1;
		w->pd[i] = 0;
	}
	return 0;
}

/*
 * Walks the canonical parent combinations: with idx < 0 returns the number
 * of combinations in all (capped at SPEC_MAX_TRIALS + 1); otherwise fills
 * digit[] for combination idx and returns 0 (-EINVAL past the end).
 */
static long
cond_grid(const struct spec *s, long idx, long *digit)
{
	struct cond_walk w;
	long total = 0, block, walked = 0;
	int rc = walk_init(s, &w);

	if (rc < 0 || grid_product(s, w.is_parent) < 0) {
		total = rc < 0 ? rc : -1;
		goto out;
	}
	do {
		if (++walked > SPEC_MAX_COND_GRID) {
			total = SPEC_MAX_TRIALS + 1L;   /* refused by spec_check_grid */
			goto out;
		}
		if ((rc = walk_combo(s, &w)) <= 0) {
			if (rc < 0) {
				total = rc;
				goto out;
			}
			continue;
		}
		block = grid_product(s, w.rest);
		if (block < 0) {
			total = -1;
			goto out;
		}
		if (idx >= 0 && idx < total + block) {
			idx -= total;
			for (int i = s->n_params - 1; i >= 0; i--) {
				long len = spec_param_grid_len(&s->params[i]);
				digit[i] = w.is_parent[i] && w.active[i] ? w.pd[i] : -1;
				if (!w.rest[i])
					continue;
				digit[i] = idx % len;
				idx /= len;
			}
			total = 0;
			goto out;
		}
		total += block;
		if (total > SPEC_MAX_TRIALS)
			break;
	} while (walk_next(s, &w));
	if (idx >= 0)
		total = -EINVAL;
	else if (total > SPEC_MAX_TRIALS)
		total = SPEC_MAX_TRIALS + 1L;
out:
	walk_free(&w);
	return total;
}

long
spec_grid_size(const struct spec *s)
{
	if (!s->conditional)
		return grid_product(s, NULL);
	return cond_grid(s, -1, NULL);
}

int
spec_grid_digits(const struct spec *s, long idx, long *digit)
{
	long rc;

	if (idx < 0)
		return -EINVAL;
	if (s->conditional) {
		rc = cond_grid(s, idx, digit);
		return rc < 0 ? (int)rc : 0;
	}
	if (idx >= grid_product(s, NULL))
		return -EINVAL;
	for (int i = s->n_params - 1; i >= 0; i--) {
		long len = spec_param_grid_len(&s->params[i]);
		digit[i] = idx % len;
		idx /= len;
	}
	return 0;
}

/* Combinations of the params some "when" names (capped). */
static long
parents_product(const struct spec *s)
{
	long size = 1;

	for (int i = 0; i < s->n_params; i++) {
		int named = 0;
		for (int j = 0; j < s->n_params && !named; j++)
			for (int k = 0; k < s->params[j].n_when; k++)
				named |= s->params[j].when[k].parent == i;
		if (named)
			size = size > SPEC_MAX_COND_GRID ? size :
			       size * spec_param_grid_len(&s->params[i]);
	}
	return size;
}

/* Grid search: every param enumerable; trials defaults to the grid size
 * plus the enqueued sets and may not exceed it. */
int
spec_check_grid(struct spec *s, int trials_given, char *err, size_t errlen)
{
	long size = spec_grid_size(s);
	long room;

	if (size == -ENOMEM)
		return -ENOMEM;
	if (size < 0) {
		for (int i = 0; i < s->n_params; i++) {
			const struct spec_param *p = &s->params[i];
			if (spec_param_grid_len(p) >= 0)
				continue;
			if (spec_dist_is_integer(p->kind))
				return spec_fail(err, errlen, "space.%s: grid search "
						 "enumerates int ranges of at most %d "
						 "values; give it \"grid\" points or "
						 "use random or tpe", p->name,
						 SPEC_MAX_INT_GRID);
			return spec_fail(err, errlen, "space.%s: grid search cannot "
					 "enumerate a continuous %s range; give it "
					 "\"grid\" points or use random or tpe",
					 p->name, spec_dist_names[p->kind]);
		}
		return spec_fail(err, errlen, "search.algorithm: the grid cannot be "
				 "enumerated");
	}
	if (s->conditional && parents_product(s) > SPEC_MAX_COND_GRID)
		return spec_fail(err, errlen, "space: grid search walks at most %d "
				 "combinations of the params that \"when\" names",
				 SPEC_MAX_COND_GRID);
	room = size + spec_n_enqueued(s);
	if (room > SPEC_MAX_TRIALS)
		return spec_fail(err, errlen, "search.algorithm: the grid has more than "
				 "%d combinations", SPEC_MAX_TRIALS);
	if (!trials_given)
		s->trials = (int)room;
	else if (s->trials > room)
		return spec_fail(err, errlen, "search.trials: %d is more than the grid's "
				 "%ld combinations (plus %d enqueued)", s->trials,
				 size, spec_n_enqueued(s));
	return 0;
}
