/*
 * spec.c: a parsed spec's lifetime and accessors. The parse itself is
 * spec_parse.c, one file per section below it (spec_param.c, spec_cond.c,
 * spec_grid.c, spec_trainer.c, spec_search.c, spec_limits.c).
 */
#include "daemon/search/spec.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/search/spec_util.h"

void
spec_free(struct spec *s)
{
	if (!s)
		return;
	free(s->name);
	cJSON_Delete(s->trainer);
	for (int i = 0; s->argv && i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	free(s->cwd);
	cJSON_Delete(s->env);
	for (int i = 0; i < s->n_objectives; i++)
		free(s->objectives[i].metric);
	for (int i = 0; i < s->n_params; i++) {
		free(s->params[i].name);
		cJSON_Delete(s->params[i].values);
		cJSON_Delete(s->params[i].grid);
		free(s->params[i].when);
		cJSON_Delete(s->params[i].when_json);
	}
	free(s->params);
	free(s->order);
	cJSON_Delete(s->diagnosis);
	cJSON_Delete(s->slurm);
	cJSON_Delete(s->enqueue);
	cJSON_Delete(s->json);
	free(s);
}

void
spec_set_seed(struct spec *s, uint64_t seed)
{
	cJSON *search;

	s->seed = seed & SPEC_MAX_SEED;
	s->has_seed = 1;
	search = s->json ? spec_put_section(s->json, "search") : NULL;
	if (search)
		spec_put(search, "seed", cJSON_CreateNumber((double)s->seed));
}

int
spec_param_index(const struct spec *s, const char *name)
{
	for (int i = 0; i < s->n_params; i++)
		if (s->params[i].name && strcmp(s->params[i].name, name) == 0)
			return i;
	return -1;
}

int
spec_n_enqueued(const struct spec *s)
{
	return s->enqueue ? s->n_enqueue : 0;
}

long
spec_param_grid_len(const struct spec_param *p)
{
	double n;

	if (p->grid)
		return cJSON_GetArraySize(p->grid);
	switch (p->kind) {
	case SPEC_CONST:
		return 1;
	case SPEC_CHOICE:
		return p->n_values;
	case SPEC_INT:
	case SPEC_LOGINT:
		n = p->high - p->low + 1;
		return n <= SPEC_MAX_INT_GRID ? (long)n : -1;
	case SPEC_UNIFORM:
	case SPEC_LOGUNIFORM:
		break;
	}
	return -1;
}

cJSON *
spec_param_grid_value(const struct spec_param *p, long i)
{
	long n = spec_param_grid_len(p);

	if (i < 0 || i >= n)
		return NULL;
	if (p->grid)
		return cJSON_Duplicate(cJSON_GetArrayItem(p->grid, (int)i), 1);
	if (p->kind == SPEC_CONST)
		return cJSON_Duplicate(p->values, 1);
	if (p->kind == SPEC_CHOICE)
		return cJSON_Duplicate(cJSON_GetArrayItem(p->values, (int)i), 1);
	return cJSON_CreateNumber(p->low + (double)i);
}
