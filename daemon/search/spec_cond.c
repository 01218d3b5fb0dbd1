/*
 * spec_cond.c: the "when" conditions of the space (ConfigSpace's
 * InCondition): their parse, the cycle check and parents-first order,
 * which params a set of values makes active, and the check of a (partial)
 * params object against the space.
 */
#include "daemon/search/spec_cond.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/spec_param.h"
#include "daemon/search/spec_util.h"

/* The conditions of p from its "when" object, parents looked up by name. */
static int
parse_when(struct spec *s, struct spec_param *p, char *err, size_t errlen)
{
	char path[SPEC_WHERE_LEN], where[SPEC_WHERE_LEN + 16];
	const cJSON *c, *v;
	int n = cJSON_IsObject(p->when_json) ? cJSON_GetArraySize(p->when_json) : 0;
	int k = 0, j, rc;

	snprintf(path, sizeof path, "space.%s.when", p->name);
	if (n < 1)
		return spec_fail(err, errlen, "%s: must be a non-empty object: "
				 "{\"param\": [values...]}", path);
	if ((rc = spec_check_dups(p->when_json, path, err, errlen)) < 0)
		return rc;
	p->when = calloc((size_t)n, sizeof *p->when);
	if (!p->when)
		return -ENOMEM;
	cJSON_ArrayForEach(c, p->when_json) {
		snprintf(where, sizeof where, "%s.%s", path, c->string);
		p->when[k].parent = spec_param_index(s, c->string);
		if (p->when[k].parent < 0)
			return spec_fail(err, errlen, "%s: not a param of the space", where);
		if (&s->params[p->when[k].parent] == p)
			return spec_fail(err, errlen, "%s: a param cannot depend on itself",
					 where);
		if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) < 1)
			return spec_fail(err, errlen, "%s: must be a non-empty array of "
					 "values of %s", where, c->string);
		j = 0;
		cJSON_ArrayForEach(v, c) {
			snprintf(where, sizeof where, "%s.%s[%d]", path, c->string, j++);
			rc = spec_check_value(&s->params[p->when[k].parent], v, where, err,
					      errlen);
			if (rc < 0)
				return rc;
		}
		p->when[k].values = (cJSON *)c;
		p->n_when = ++k;
	}
	return 0;
}

/* Depth-first: state 0 unseen, 1 on the path, 2 done. A param reached
 * again while on the path closes a cycle, named parent by parent. */
static int
visit(struct spec *s, int i, signed char *state, int *path, int depth,
      int *n_order, char *err, size_t errlen)
{
	const struct spec_param *p = &s->params[i];
	char cycle[512];
	size_t used = 0;
	int rc, start = 0;

	if (state[i] == 2)
		return 0;
	path[depth] = i;
	if (state[i] == 1) {
		while (path[start] != i)
			start++;
		for (int d = start; d <= depth && used < sizeof cycle; d++)
			used += (size_t)snprintf(cycle + used, sizeof cycle - used,
						 "%s%s", d > start ? " -> " : "",
						 s->params[path[d]].name);
		return spec_fail(err, errlen, "space.%s.when: the conditions form a "
				 "cycle (%s)", s->params[i].name, cycle);
	}
	state[i] = 1;
	for (int k = 0; k < p->n_when; k++) {
		rc = visit(s, p->when[k].parent, state, path, depth + 1, n_order,
			   err, errlen);
		if (rc < 0)
			return rc;
	}
	state[i] = 2;
	s->order[(*n_order)++] = i;
	return 0;
}

/* Resolves every "when" and orders the params parents first. */
int
spec_parse_conditions(struct spec *s, char *err, size_t errlen)
{
	signed char *state = NULL;
	int *path = NULL, n_order = 0, rc = -ENOMEM;

	s->order = malloc((size_t)s->n_params * sizeof *s->order);
	state = calloc((size_t)s->n_params, 1);
	path = malloc(((size_t)s->n_params + 1) * sizeof *path);
	if (!s->order || !state || !path)
		goto out;
	for (int i = 0; i < s->n_params; i++) {
		if (!s->params[i].when_json)
			continue;
		s->conditional = 1;
		if ((rc = parse_when(s, &s->params[i], err, errlen)) < 0)
			goto out;
	}
	rc = 0;
	for (int i = 0; i < s->n_params && rc == 0; i++)
		rc = visit(s, i, state, path, 0, &n_order, err, errlen);
out:
	free(state);
	free(path);
	return rc;
}

/* Whether v is one of the values of condition c. */
static int
cond_holds(const struct spec_cond *c, const cJSON *v)
{
	const cJSON *it;

	if (!v)
		return 0;
	cJSON_ArrayForEach(it, c->values)
		if (cJSON_Compare(v, it, 1))
			return 1;
	return 0;
}

void
spec_active(const struct spec *s, const cJSON *params, unsigned char *active)
{
	for (int o = 0; o < s->n_params; o++) {
		int i = s->order ? s->order[o] : o;
		const struct spec_param *p = &s->params[i];

		active[i] = 1;
		for (int k = 0; k < p->n_when && active[i]; k++) {
			const struct spec_param *q = &s->params[p->when[k].parent];
			active[i] = active[p->when[k].parent] &&
				    cond_holds(&p->when[k],
					       cJSON_GetObjectItemCaseSensitive(params,
										q->name));
		}
	}
}

int
spec_drop_inactive(const struct spec *s, cJSON *params)
{
	unsigned char *active;

	if (!s->conditional)
		return 0;
	active = malloc((size_t)s->n_params);
	if (!active)
		return -ENOMEM;
	spec_active(s, params, active);
	for (int i = 0; i < s->n_params; i++)
		if (!active[i])
			cJSON_DeleteItemFromObjectCaseSensitive(params,
								s->params[i].name);
	free(active);
	return 0;
}

/*
 * Whether a partial params object rules param i out: some condition's
 * parent is given a value outside the list, or is ruled out itself.
 * Recursion ends: the conditions have no cycle (spec_parse_conditions).
 */
static int
ruled_out(const struct spec *s, const cJSON *params, int i, int *why)
{
	const struct spec_param *p = &s->params[i];

	for (int k = 0; k < p->n_when; k++) {
		int q = p->when[k].parent;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(params,
								  s->params[q].name);
		if ((v && !cond_holds(&p->when[k], v)) ||
		    (!v && ruled_out(s, params, q, why))) {
			*why = k;
			return 1;
		}
	}
	return 0;
}

/* Refuses a param of params that params itself rules out. */
static int
check_applies(const struct spec *s, const cJSON *params, const char *where,
	      char *err, size_t errlen)
{
	const cJSON *it;
	char shown[64];
	int why;

	cJSON_ArrayForEach(it, params) {
		int i = spec_param_index(s, it->string);
		const struct spec_param *p = &s->params[i];
		const char *parent;
		const cJSON *pv;

		if (!ruled_out(s, params, i, &why))
			continue;
		parent = s->params[p->when[why].parent].name;
		pv = cJSON_GetObjectItemCaseSensitive(params, parent);
		if (pv)
			spec_show(shown, sizeof shown, pv);
		return spec_fail(err, errlen, "%s.%s: does not apply when %s is %s "
				 "(space.%s.when)", where, it->string, parent,
				 pv ? shown : "inactive", it->string);
	}
	return 0;
}

int
spec_check_params(const struct spec *s, const cJSON *params,
		  const char *where, char *err, size_t errlen)
{
	const cJSON *it;
	char path[300];
	int i, rc;

	if (!cJSON_IsObject(params))
		return spec_fail(err, errlen, "%s: must be an object of params", where);
	rc = spec_check_dups(params, where, err, errlen);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, params) {
		snprintf(path, sizeof path, "%s.%s", where, it->string);
		i = spec_param_index(s, it->string);
		if (i < 0)
			return spec_fail(err, errlen, "%s: not a param of the space",
					 path);
		rc = spec_check_value(&s->params[i], it, path, err, errlen);
		if (rc < 0)
			return rc;
	}
	return check_applies(s, params, where, err, errlen);
}
