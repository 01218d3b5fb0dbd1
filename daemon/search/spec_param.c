/*
 * spec_param.c: the "space" section: each param's distribution, its
 * explicit grid points, and whether a value is one a param can take.
 */
#include "daemon/search/spec_param.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/search/spec_util.h"

#define MAX_PARAMS        1024
#define MAX_CHOICES       100000
#define BIG_INT           JSON_EXACT_INT   /* 2^53: integers below are exact */

const char *const spec_dist_names[] = {
	[SPEC_CONST] = "constant", [SPEC_CHOICE] = "choice",
	[SPEC_UNIFORM] = "uniform", [SPEC_LOGUNIFORM] = "loguniform",
	[SPEC_INT] = "int", [SPEC_LOGINT] = "logint",
};

int
spec_dist_is_integer(enum spec_dist k)
{
	return k == SPEC_INT || k == SPEC_LOGINT;
}

/* Whether v is a value p can take; the message starts with where. */
int
spec_check_value(const struct spec_param *p, const cJSON *v, const char *where,
		 char *err, size_t errlen)
{
	char shown[64];
	const cJSON *c;

	spec_show(shown, sizeof shown, v);
	switch (p->kind) {
	case SPEC_CONST:
		if (cJSON_Compare(v, p->values, 1))
			return 0;
		spec_show(shown, sizeof shown, p->values);
		return spec_fail(err, errlen, "%s: the space fixes %s to %s", where,
				 p->name, shown);
	case SPEC_CHOICE:
		cJSON_ArrayForEach(c, p->values)
			if (cJSON_Compare(v, c, 1))
				return 0;
		return spec_fail(err, errlen, "%s: %s is not one of the choice values",
				 where, shown);
	case SPEC_UNIFORM:
	case SPEC_LOGUNIFORM:
	case SPEC_INT:
	case SPEC_LOGINT:
		break;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return spec_fail(err, errlen, "%s: must be a number, not %s", where, shown);
	if (spec_dist_is_integer(p->kind) && v->valuedouble != floor(v->valuedouble))
		return spec_fail(err, errlen, "%s: must be an integer, not %s", where,
				 shown);
	if (v->valuedouble < p->low || v->valuedouble > p->high)
		return spec_fail(err, errlen, "%s: %s is outside the %s range [%g, %g]",
				 where, shown, spec_dist_names[p->kind], p->low, p->high);
	return 0;
}

static const char *const dist_keys[] = {
	"choice", "uniform", "loguniform", "int", "logint", "grid", "when",
};

/* [low, high] of a range distribution, checked for kind. */
static int
parse_range(struct spec_param *p, const cJSON *arr, const char *where,
	    char *err, size_t errlen)
{
	const cJSON *a = cJSON_GetArrayItem(arr, 0), *b = cJSON_GetArrayItem(arr, 1);
	int integer = spec_dist_is_integer(p->kind);

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != 2 ||
	    !cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
	    !isfinite(a->valuedouble) || !isfinite(b->valuedouble))
		return spec_fail(err, errlen, "%s: must be [low, high], two %s", where,
				 integer ? "integers" : "numbers");
	p->low = a->valuedouble;
	p->high = b->valuedouble;
	if (integer && (p->low != floor(p->low) || p->high != floor(p->high)))
		return spec_fail(err, errlen, "%s: low and high must be integers", where);
	if (integer && (fabs(p->low) >= BIG_INT || fabs(p->high) >= BIG_INT))
		return spec_fail(err, errlen, "%s: low and high must be below 2^53 "
				 "(9007199254740992) in magnitude, where every integer "
				 "is exact", where);
	if ((p->kind == SPEC_LOGUNIFORM) && p->low <= 0)
		return spec_fail(err, errlen, "%s: low must be > 0", where);
	if (p->kind == SPEC_LOGINT && p->low < 1)
		return spec_fail(err, errlen, "%s: low must be >= 1", where);
	if (integer && p->low > p->high)
		return spec_fail(err, errlen, "%s: low must be <= high", where);
	if (!integer && p->low >= p->high)
		return spec_fail(err, errlen, "%s: low must be < high", where);
	return 0;
}

static int
parse_choice(struct spec_param *p, const cJSON *arr, const char *where,
	     char *err, size_t errlen)
{
	int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;

	if (n < 1)
		return spec_fail(err, errlen, "%s: must be a non-empty array of values",
				 where);
	if (n > MAX_CHOICES)
		return spec_fail(err, errlen, "%s: more than %d values", where,
				 MAX_CHOICES);
	if (spec_has_nonfinite(arr))
		return spec_fail(err, errlen, "%s: numbers must be finite", where);
	if (spec_has_dup_key(arr))
		return spec_fail(err, errlen, "%s: an object repeats a key", where);
	p->values = cJSON_Duplicate(arr, 1);
	if (!p->values)
		return -ENOMEM;
	p->n_values = n;
	return 0;
}

static int
parse_grid(struct spec_param *p, const cJSON *arr, const char *path,
	   char *err, size_t errlen)
{
	char where[SPEC_WHERE_LEN];
	const cJSON *v;
	int i = 0, rc;

	snprintf(where, sizeof where, "%s.grid", path);
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1)
		return spec_fail(err, errlen, "%s: must be a non-empty array of points",
				 where);
	cJSON_ArrayForEach(v, arr) {
		snprintf(where, sizeof where, "%s.grid[%d]", path, i++);
		rc = spec_check_value(p, v, where, err, errlen);
		if (rc < 0)
			return rc;
	}
	p->grid = cJSON_Duplicate(arr, 1);
	return p->grid ? 0 : -ENOMEM;
}

/* One distribution object: exactly one distribution key, maybe "grid". */
static int
parse_dist(struct spec_param *p, const cJSON *obj, const char *path,
	   char *err, size_t errlen)
{
	const cJSON *it, *dist = NULL, *grid;
	char where[SPEC_WHERE_LEN];
	int rc;

	rc = spec_check_keys(obj, path, dist_keys, sizeof dist_keys / sizeof dist_keys[0],
			     err, errlen);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, obj) {
		if (strcmp(it->string, "grid") == 0 || strcmp(it->string, "when") == 0)
			continue;
		if (dist)
			return spec_fail(err, errlen, "%s: more than one distribution "
					 "(\"%s\" and \"%s\"); give exactly one", path,
					 dist->string, it->string);
		dist = it;
	}
	if (!dist)
		return spec_fail(err, errlen, "%s: needs one distribution: choice, "
				 "uniform, loguniform, int or logint", path);
	snprintf(where, sizeof where, "%s.%s", path, dist->string);
	for (int k = SPEC_CHOICE; k <= SPEC_LOGINT; k++)
		if (strcmp(dist->string, spec_dist_names[k]) == 0)
			p->kind = (enum spec_dist)k;
	if (p->kind == SPEC_CHOICE)
		rc = parse_choice(p, dist, where, err, errlen);
	else
		rc = parse_range(p, dist, where, err, errlen);
	if (rc < 0)
		return rc;
	/* "when" is checked once every param is known (spec_parse_conditions). */
	it = cJSON_GetObjectItemCaseSensitive(obj, "when");
	if (it && !(p->when_json = cJSON_Duplicate(it, 1)))
		return -ENOMEM;
	grid = cJSON_GetObjectItemCaseSensitive(obj, "grid");
	return grid ? parse_grid(p, grid, path, err, errlen) : 0;
}

static int
parse_param(struct spec_param *p, const cJSON *item, char *err, size_t errlen)
{
	char path[SPEC_PATH_LEN];

	if (!item->string[0] || strlen(item->string) > SPEC_MAX_NAME)
		return spec_fail(err, errlen, "space: param names must have 1 to %d "
				 "bytes", SPEC_MAX_NAME);
	snprintf(path, sizeof path, "space.%s", item->string);
	p->name = strdup(item->string);
	if (!p->name)
		return -ENOMEM;
	if (cJSON_IsObject(item))
		return parse_dist(p, item, path, err, errlen);
	if (cJSON_IsNull(item))
		return spec_fail(err, errlen, "%s: null is not a value (give a constant "
				 "or a distribution)", path);
	if (spec_has_nonfinite(item))
		return spec_fail(err, errlen, "%s: numbers must be finite", path);
	if (spec_has_dup_key(item))
		return spec_fail(err, errlen, "%s: an object repeats a key", path);
	p->kind = SPEC_CONST;
	p->values = cJSON_Duplicate(item, 1);
	p->n_values = 1;
	return p->values ? 0 : -ENOMEM;
}

int
spec_parse_space(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *space = cJSON_GetObjectItemCaseSensitive(root, "space");
	const cJSON *it;
	int n, i = 0, rc;

	if (!space)
		return spec_fail(err, errlen, "space: required (the params to search)");
	n = cJSON_IsObject(space) ? cJSON_GetArraySize(space) : 0;
	if (n < 1)
		return spec_fail(err, errlen, "space: must be a non-empty object of "
				 "params");
	if (n > MAX_PARAMS)
		return spec_fail(err, errlen, "space: more than %d params", MAX_PARAMS);
	rc = spec_check_dups(space, "space", err, errlen);
	if (rc < 0)
		return rc;
	s->params = calloc((size_t)n, sizeof *s->params);
	if (!s->params)
		return -ENOMEM;
	cJSON_ArrayForEach(it, space) {
		s->n_params = i + 1;   /* so spec_free sees a half-built one */
		rc = parse_param(&s->params[i++], it, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}
