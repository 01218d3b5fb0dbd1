/*
 * spec.c: the sweep spec validator.
 *
 * One function per section of the spec; each takes the section's path for
 * its messages and fills the struct being built. The first fault ends the
 * parse: one precise message is worth more to a user editing a file than a
 * list in which later entries are consequences of the first.
 *
 * Numbers are read from cJSON's valuedouble, never valueint, which cJSON
 * clamps to the int range without saying so.
 */
#include "daemon/search/spec.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define MAX_PARAMS        1024
#define MAX_CHOICES       100000
#define MAX_ARGS          4096
#define MAX_NAME          200
#define PATH_LEN          256     /* a field's path in messages */
#define WHERE_LEN         (PATH_LEN + 32)
#define DEFAULT_TRIALS    20
#define BIG_INT           JSON_EXACT_INT   /* 2^53: integers below are exact */
#define MAX_SECONDS       1e9
/* execve refuses a string over 128 KiB (MAX_ARG_STRLEN) with E2BIG, and
 * the whole of argv and environ past a quarter of the stack limit: every
 * trial would fail with "argument list too long". Refused at submit. */
#define MAX_PARAMS_JSON   65536   /* SWEEP_PARAMS, the longest it can get */
#define MAX_EXEC_STRING   65536   /* one command argument or NAME=value */
#define MAX_EXEC_TOTAL    524288  /* command, env and SWEEP_PARAMS in all */
#define NUMBER_TEXT       24      /* longest number json_print writes */

static const char *const dist_names[] = {
	[SPEC_CONST] = "constant", [SPEC_CHOICE] = "choice",
	[SPEC_UNIFORM] = "uniform", [SPEC_LOGUNIFORM] = "loguniform",
	[SPEC_INT] = "int", [SPEC_LOGINT] = "logint",
};

static const char *const retry_names[] = {
	"signal", "timeout", "stall", "oom", "exit",   /* enum spec_retry order */
};

/* ---- small helpers ---------------------------------------------------- */

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "a.b" from a path and a key; path "" gives just the key. */
static void
join(char *buf, size_t len, const char *path, const char *key)
{
	if (path[0])
		snprintf(buf, len, "%s.%s", path, key);
	else
		snprintf(buf, len, "%s", key);
}

/* A short rendering of v for messages (truncated with "..."). */
static void
show(char *buf, size_t len, const cJSON *v)
{
	char *s = json_print(v);

	if (!s) {
		snprintf(buf, len, "(value)");
		return;
	}
	if (strlen(s) > 40)
		snprintf(buf, len, "%.37s...", s);
	else
		snprintf(buf, len, "%s", s);
	cJSON_free(s);
}

static int
in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return 1;
	return 0;
}

/* Refuses a key given twice: cJSON keeps both and would silently read
 * the first. */
static int
check_dups(const cJSON *obj, const char *path, char *err, size_t errlen)
{
	const cJSON *it, *prev;

	cJSON_ArrayForEach(it, obj)
		for (prev = obj->child; prev != it; prev = prev->next)
			if (strcmp(prev->string, it->string) == 0)
				return fail(err, errlen, "%s%sduplicate field \"%s\"",
					    path, path[0] ? ": " : "", it->string);
	return 0;
}

/* Refuses duplicates and keys of obj not in allowed[n]; the message names
 * the field and lists the valid ones. */
static int
check_keys(const cJSON *obj, const char *path, const char *const *allowed,
	   size_t n, char *err, size_t errlen)
{
	const cJSON *it;
	char valid[512] = "";
	size_t used = 0;
	int rc = check_dups(obj, path, err, errlen);

	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, obj) {
		if (in_list(it->string, allowed, n))
			continue;
		for (size_t i = 0; i < n && used < sizeof valid; i++)
			used += (size_t)snprintf(valid + used, sizeof valid - used,
						 "%s%s", i ? ", " : "", allowed[i]);
		return fail(err, errlen, "%s%sunknown field \"%s\" (valid: %s)",
			    path, path[0] ? ": " : "", it->string, valid);
	}
	return 0;
}

/*
 * Integer obj[key] into *out, within [min, max]; def when absent.
 * "must be an integer >= min" when max is LONG_MAX.
 */
static int
get_int(const cJSON *obj, const char *key, const char *path, long min,
	long max, long def, long *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char where[256];
	double d;

	if (!v) {
		*out = def;
		return 0;
	}
	join(where, sizeof where, path, key);
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (isfinite(d) && d == floor(d) && d >= (double)min && d <= (double)max) {
		*out = (long)d;
		return 0;
	}
	if (max == LONG_MAX)
		return fail(err, errlen, "%s: must be an integer >= %ld", where, min);
	return fail(err, errlen, "%s: must be an integer from %ld to %ld", where,
		    min, max);
}

/* Number obj[key] in [min, max] into *out; def when absent. */
static int
get_num(const cJSON *obj, const char *key, const char *path, double min,
	double max, double def, double *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char where[256];

	if (!v) {
		*out = def;
		return 0;
	}
	join(where, sizeof where, path, key);
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	    v->valuedouble >= min && v->valuedouble <= max) {
		*out = v->valuedouble;
		return 0;
	}
	return fail(err, errlen, "%s: must be a number from %g to %g", where,
		    min, max);
}

/* String obj[key] (borrowed) or NULL when absent; "" is refused. */
static int
get_str(const cJSON *obj, const char *key, const char *path,
	const char **out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char where[256];

	*out = NULL;
	if (!v)
		return 0;
	join(where, sizeof where, path, key);
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return fail(err, errlen, "%s: must be a non-empty string", where);
	*out = v->valuestring;
	return 0;
}

/* The section obj[key]: NULL when absent, else it must be an object. */
static int
get_section(const cJSON *obj, const char *key, const cJSON **out, char *err,
	    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsObject(v))
		return fail(err, errlen, "%s: must be an object", key);
	*out = v;
	return 0;
}

/* Replaces or adds obj[key] = item (handed over; deleted on failure). */
static int
put(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return -ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item) ?
		       0 : (cJSON_Delete(item), -ENOMEM);
	return cJSON_AddItemToObject(obj, key, item) ? 0 :
	       (cJSON_Delete(item), -ENOMEM);
}

/* obj[key] as an object, created when absent. NULL when out of memory. */
static cJSON *
put_section(cJSON *obj, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v)
		return v;
	return cJSON_AddObjectToObject(obj, key);
}

/* ---- values against a param ------------------------------------------ */

static int
is_integer_dist(enum spec_dist k)
{
	return k == SPEC_INT || k == SPEC_LOGINT;
}

/* Whether v is a value p can take; the message starts with where. */
static int
check_value(const struct spec_param *p, const cJSON *v, const char *where,
	    char *err, size_t errlen)
{
	char shown[64];
	const cJSON *c;

	show(shown, sizeof shown, v);
	switch (p->kind) {
	case SPEC_CONST:
		if (cJSON_Compare(v, p->values, 1))
			return 0;
		show(shown, sizeof shown, p->values);
		return fail(err, errlen, "%s: the space fixes %s to %s", where,
			    p->name, shown);
	case SPEC_CHOICE:
		cJSON_ArrayForEach(c, p->values)
			if (cJSON_Compare(v, c, 1))
				return 0;
		return fail(err, errlen, "%s: %s is not one of the choice values",
			    where, shown);
	case SPEC_UNIFORM:
	case SPEC_LOGUNIFORM:
	case SPEC_INT:
	case SPEC_LOGINT:
		break;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return fail(err, errlen, "%s: must be a number, not %s", where, shown);
	if (is_integer_dist(p->kind) && v->valuedouble != floor(v->valuedouble))
		return fail(err, errlen, "%s: must be an integer, not %s", where,
			    shown);
	if (v->valuedouble < p->low || v->valuedouble > p->high)
		return fail(err, errlen, "%s: %s is outside the %s range [%g, %g]",
			    where, shown, dist_names[p->kind], p->low, p->high);
	return 0;
}

/* ---- space ------------------------------------------------------------ */

static const char *const dist_keys[] = {
	"choice", "uniform", "loguniform", "int", "logint", "grid", "when",
};

/* [low, high] of a range distribution, checked for kind. */
static int
parse_range(struct spec_param *p, const cJSON *arr, const char *where,
	    char *err, size_t errlen)
{
	const cJSON *a = cJSON_GetArrayItem(arr, 0), *b = cJSON_GetArrayItem(arr, 1);
	int integer = is_integer_dist(p->kind);

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != 2 ||
	    !cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
	    !isfinite(a->valuedouble) || !isfinite(b->valuedouble))
		return fail(err, errlen, "%s: must be [low, high], two %s", where,
			    integer ? "integers" : "numbers");
	p->low = a->valuedouble;
	p->high = b->valuedouble;
	if (integer && (p->low != floor(p->low) || p->high != floor(p->high)))
		return fail(err, errlen, "%s: low and high must be integers", where);
	if (integer && (fabs(p->low) >= BIG_INT || fabs(p->high) >= BIG_INT))
		return fail(err, errlen, "%s: low and high must be below 2^53 "
			    "(9007199254740992) in magnitude, where every integer "
			    "is exact", where);
	if ((p->kind == SPEC_LOGUNIFORM) && p->low <= 0)
		return fail(err, errlen, "%s: low must be > 0", where);
	if (p->kind == SPEC_LOGINT && p->low < 1)
		return fail(err, errlen, "%s: low must be >= 1", where);
	if (integer && p->low > p->high)
		return fail(err, errlen, "%s: low must be <= high", where);
	if (!integer && p->low >= p->high)
		return fail(err, errlen, "%s: low must be < high", where);
	return 0;
}

/* True when v holds a number that is not finite anywhere inside it: cJSON
 * reads 1e999 as inf, which would be stored as null. */
static int
has_nonfinite(const cJSON *v)
{
	const cJSON *it;

	if (cJSON_IsNumber(v))
		return !isfinite(v->valuedouble);
	cJSON_ArrayForEach(it, v)
		if (has_nonfinite(it))
			return 1;
	return 0;
}

/* True when an object inside v repeats a key: cJSON keeps both, and such a
 * value is not even equal to itself (enqueue and grid compare values). */
static int
has_dup_key(const cJSON *v)
{
	const cJSON *it, *later;

	cJSON_ArrayForEach(it, v) {
		if (cJSON_IsObject(v))
			for (later = it->next; later; later = later->next)
				if (strcmp(it->string, later->string) == 0)
					return 1;
		if (has_dup_key(it))
			return 1;
	}
	return 0;
}

static int
parse_choice(struct spec_param *p, const cJSON *arr, const char *where,
	     char *err, size_t errlen)
{
	int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;

	if (n < 1)
		return fail(err, errlen, "%s: must be a non-empty array of values",
			    where);
	if (n > MAX_CHOICES)
		return fail(err, errlen, "%s: more than %d values", where,
			    MAX_CHOICES);
	if (has_nonfinite(arr))
		return fail(err, errlen, "%s: numbers must be finite", where);
	if (has_dup_key(arr))
		return fail(err, errlen, "%s: an object repeats a key", where);
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
	char where[WHERE_LEN];
	const cJSON *v;
	int i = 0, rc;

	snprintf(where, sizeof where, "%s.grid", path);
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1)
		return fail(err, errlen, "%s: must be a non-empty array of points",
			    where);
	cJSON_ArrayForEach(v, arr) {
		snprintf(where, sizeof where, "%s.grid[%d]", path, i++);
		rc = check_value(p, v, where, err, errlen);
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
	char where[WHERE_LEN];
	int rc;

	rc = check_keys(obj, path, dist_keys, sizeof dist_keys / sizeof dist_keys[0],
			err, errlen);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, obj) {
		if (strcmp(it->string, "grid") == 0 || strcmp(it->string, "when") == 0)
			continue;
		if (dist)
			return fail(err, errlen, "%s: more than one distribution "
				    "(\"%s\" and \"%s\"); give exactly one", path,
				    dist->string, it->string);
		dist = it;
	}
	if (!dist)
		return fail(err, errlen, "%s: needs one distribution: choice, "
			    "uniform, loguniform, int or logint", path);
	snprintf(where, sizeof where, "%s.%s", path, dist->string);
	for (int k = SPEC_CHOICE; k <= SPEC_LOGINT; k++)
		if (strcmp(dist->string, dist_names[k]) == 0)
			p->kind = (enum spec_dist)k;
	if (p->kind == SPEC_CHOICE)
		rc = parse_choice(p, dist, where, err, errlen);
	else
		rc = parse_range(p, dist, where, err, errlen);
	if (rc < 0)
		return rc;
	/* "when" is checked once every param is known (parse_conditions). */
	it = cJSON_GetObjectItemCaseSensitive(obj, "when");
	if (it && !(p->when_json = cJSON_Duplicate(it, 1)))
		return -ENOMEM;
	grid = cJSON_GetObjectItemCaseSensitive(obj, "grid");
	return grid ? parse_grid(p, grid, path, err, errlen) : 0;
}

static int
parse_param(struct spec_param *p, const cJSON *item, char *err, size_t errlen)
{
	char path[PATH_LEN];

	if (!item->string[0] || strlen(item->string) > MAX_NAME)
		return fail(err, errlen, "space: param names must have 1 to %d "
			    "bytes", MAX_NAME);
	snprintf(path, sizeof path, "space.%s", item->string);
	p->name = strdup(item->string);
	if (!p->name)
		return -ENOMEM;
	if (cJSON_IsObject(item))
		return parse_dist(p, item, path, err, errlen);
	if (cJSON_IsNull(item))
		return fail(err, errlen, "%s: null is not a value (give a constant "
			    "or a distribution)", path);
	if (has_nonfinite(item))
		return fail(err, errlen, "%s: numbers must be finite", path);
	if (has_dup_key(item))
		return fail(err, errlen, "%s: an object repeats a key", path);
	p->kind = SPEC_CONST;
	p->values = cJSON_Duplicate(item, 1);
	p->n_values = 1;
	return p->values ? 0 : -ENOMEM;
}

static int
parse_space(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *space = cJSON_GetObjectItemCaseSensitive(root, "space");
	const cJSON *it;
	int n, i = 0, rc;

	if (!space)
		return fail(err, errlen, "space: required (the params to search)");
	n = cJSON_IsObject(space) ? cJSON_GetArraySize(space) : 0;
	if (n < 1)
		return fail(err, errlen, "space: must be a non-empty object of "
			    "params");
	if (n > MAX_PARAMS)
		return fail(err, errlen, "space: more than %d params", MAX_PARAMS);
	rc = check_dups(space, "space", err, errlen);
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

/* ---- conditions ("when") ---------------------------------------------- */

/* The conditions of p from its "when" object, parents looked up by name. */
static int
parse_when(struct spec *s, struct spec_param *p, char *err, size_t errlen)
{
	char path[WHERE_LEN], where[WHERE_LEN + 16];
	const cJSON *c, *v;
	int n = cJSON_IsObject(p->when_json) ? cJSON_GetArraySize(p->when_json) : 0;
	int k = 0, j, rc;

	snprintf(path, sizeof path, "space.%s.when", p->name);
	if (n < 1)
		return fail(err, errlen, "%s: must be a non-empty object: "
			    "{\"param\": [values...]}", path);
	if ((rc = check_dups(p->when_json, path, err, errlen)) < 0)
		return rc;
	p->when = calloc((size_t)n, sizeof *p->when);
	if (!p->when)
		return -ENOMEM;
	cJSON_ArrayForEach(c, p->when_json) {
		snprintf(where, sizeof where, "%s.%s", path, c->string);
		p->when[k].parent = spec_param_index(s, c->string);
		if (p->when[k].parent < 0)
			return fail(err, errlen, "%s: not a param of the space", where);
		if (&s->params[p->when[k].parent] == p)
			return fail(err, errlen, "%s: a param cannot depend on itself",
				    where);
		if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) < 1)
			return fail(err, errlen, "%s: must be a non-empty array of "
				    "values of %s", where, c->string);
		j = 0;
		cJSON_ArrayForEach(v, c) {
			snprintf(where, sizeof where, "%s.%s[%d]", path, c->string, j++);
			rc = check_value(&s->params[p->when[k].parent], v, where, err,
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
		return fail(err, errlen, "space.%s.when: the conditions form a "
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
static int
parse_conditions(struct spec *s, char *err, size_t errlen)
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
 * Recursion ends: the conditions have no cycle (parse_conditions).
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

/* ---- trainer ---------------------------------------------------------- */

static const char *const external_keys[] = { "command", "cwd", "env" };

static int
parse_env(struct spec *s, const cJSON *env, char *err, size_t errlen)
{
	const cJSON *it;
	int rc;

	if (!cJSON_IsObject(env))
		return fail(err, errlen, "trainer.env: must be an object of "
			    "strings");
	rc = check_dups(env, "trainer.env", err, errlen);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, env) {
		if (!it->string[0] || strchr(it->string, '='))
			return fail(err, errlen, "trainer.env: \"%s\" is not a "
				    "variable name", it->string);
		if (strncmp(it->string, "SWEEP_", 6) == 0)
			return fail(err, errlen, "trainer.env.%s: reserved (sweepd "
				    "sets the SWEEP_ variables)", it->string);
		if (!cJSON_IsString(it))
			return fail(err, errlen, "trainer.env.%s: must be a string",
				    it->string);
		if (strlen(it->string) + 1 + strlen(it->valuestring) >
		    MAX_EXEC_STRING)
			return fail(err, errlen, "trainer.env.%s: %zu bytes; an "
				    "environment string holds at most %d",
				    it->string, strlen(it->valuestring),
				    MAX_EXEC_STRING);
	}
	s->env = cJSON_Duplicate(env, 1);
	return s->env ? 0 : -ENOMEM;
}

static int
parse_command(struct spec *s, const cJSON *cmd, char *err, size_t errlen)
{
	const cJSON *it;
	int n = cJSON_IsArray(cmd) ? cJSON_GetArraySize(cmd) : 0, i = 0;

	if (n < 1)
		return fail(err, errlen, "trainer.command: must be a non-empty "
			    "array of strings, e.g. [\"python3\", \"train.py\"]");
	if (n > MAX_ARGS)
		return fail(err, errlen, "trainer.command: more than %d arguments",
			    MAX_ARGS);
	s->argv = calloc((size_t)n + 1, sizeof *s->argv);
	if (!s->argv)
		return -ENOMEM;
	cJSON_ArrayForEach(it, cmd) {
		if (!cJSON_IsString(it) || !it->valuestring[0])
			return fail(err, errlen, "trainer.command[%d]: must be a "
				    "non-empty string", i);
		if (strlen(it->valuestring) > MAX_EXEC_STRING)
			return fail(err, errlen, "trainer.command[%d]: %zu bytes; "
				    "an argument holds at most %d", i,
				    strlen(it->valuestring), MAX_EXEC_STRING);
		s->argv[i] = strdup(it->valuestring);
		if (!s->argv[i])
			return -ENOMEM;
		s->argc = ++i;
	}
	return 0;
}

static int
parse_external(struct spec *s, const cJSON *tr, char *err, size_t errlen)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(tr, "env");
	const char *cwd;
	int rc;

	rc = check_keys(tr, "trainer", external_keys,
			sizeof external_keys / sizeof external_keys[0], err, errlen);
	if (rc < 0)
		return rc;
	rc = parse_command(s, cJSON_GetObjectItemCaseSensitive(tr, "command"),
			   err, errlen);
	if (rc < 0)
		return rc;
	rc = get_str(tr, "cwd", "trainer", &cwd, err, errlen);
	if (rc < 0)
		return rc;
	if (cwd && cwd[0] != '/')
		return fail(err, errlen, "trainer.cwd: must be an absolute path, "
			    "not \"%s\" (sweepctl resolves relative ones)", cwd);
	if (cwd && !(s->cwd = strdup(cwd)))
		return -ENOMEM;
	return env ? parse_env(s, env, err, errlen) : 0;
}

/* The built-in trainer: its other keys are sweep-worker options, checked
 * against the worker's table by builtin_check_spec(). */
static int
parse_builtin(struct spec *s, const cJSON *tr, char *err, size_t errlen)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(tr, "builtin");
	const cJSON *it;
	int rc;

	rc = check_dups(tr, "trainer", err, errlen);
	if (rc < 0)
		return rc;
	if (!cJSON_IsString(b) || strcmp(b->valuestring, "mlp") != 0)
		return fail(err, errlen, "trainer.builtin: must be \"mlp\" (the "
			    "only built-in trainer)");
	cJSON_ArrayForEach(it, tr) {
		if (strcmp(it->string, "cwd") == 0 || strcmp(it->string, "env") == 0)
			return fail(err, errlen, "trainer.%s: only for an external "
				    "trainer (\"command\")", it->string);
		if (spec_param_index(s, it->string) >= 0)
			return fail(err, errlen, "trainer.%s: also in space; set it "
				    "in one place", it->string);
	}
	s->builtin = 1;
	return 0;
}

/* {"manual": {}}: trials are asked for and told by a client (manual.c). */
static int
parse_manual(struct spec *s, const cJSON *tr, char *err, size_t errlen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(tr, "manual");

	if (cJSON_GetArraySize(tr) != 1)
		return fail(err, errlen, "trainer: \"manual\" takes no other "
			    "field (the client that asks runs the trial)");
	if (!cJSON_IsObject(m) || cJSON_GetArraySize(m) != 0)
		return fail(err, errlen, "trainer.manual: must be {} (it has no "
			    "options yet)");
	s->manual = 1;
	return 0;
}

static int
parse_trainer(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "trainer");
	int has_b, has_c, has_m;

	if (!tr)
		return fail(err, errlen, "trainer: required: {\"builtin\": \"mlp\"} "
			    "or {\"command\": [...]}");
	if (!cJSON_IsObject(tr))
		return fail(err, errlen, "trainer: must be an object");
	has_b = cJSON_HasObjectItem(tr, "builtin");
	has_c = cJSON_HasObjectItem(tr, "command");
	has_m = cJSON_HasObjectItem(tr, "manual");
	if (has_b + has_c + has_m != 1)
		return fail(err, errlen, "trainer: needs one of \"builtin\", "
			    "\"command\" or \"manual\"%s",
			    has_b + has_c + has_m ? ", not several" : "");
	s->trainer = cJSON_Duplicate(tr, 1);
	if (!s->trainer)
		return -ENOMEM;
	if (has_m)
		return parse_manual(s, tr, err, errlen);
	return has_b ? parse_builtin(s, tr, err, errlen) :
		       parse_external(s, tr, err, errlen);
}

/* ---- what a trainer is started with ----------------------------------- */

/* Bytes json_print(v) writes; 0 when out of memory. */
static size_t
printed_len(const cJSON *v)
{
	char *s = json_print(v);
	size_t n = s ? strlen(s) : 0;

	cJSON_free(s);
	return n;
}

/* The longest value p can give a trial, as JSON text. */
static size_t
param_value_max(const struct spec_param *p)
{
	const cJSON *c;
	size_t n, max = 0;

	if (p->kind == SPEC_CONST)
		return printed_len(p->values);
	if (p->kind != SPEC_CHOICE)
		return NUMBER_TEXT;
	cJSON_ArrayForEach(c, p->values)
		if ((n = printed_len(c)) > max)
			max = n;
	return max;
}

/* The longest "key":value of p in SWEEP_PARAMS, comma included. */
static size_t
param_member_max(const struct spec_param *p)
{
	cJSON *key = cJSON_CreateString(p->name);
	size_t n = key ? printed_len(key) : 0;

	cJSON_Delete(key);
	return n + 2 + param_value_max(p);
}

/* The longest SWEEP_PARAMS a trial can get (the built-in trainer's options
 * go in too), and the argv and environ it comes with, against what execve
 * takes. */
static int
check_exec_size(const struct spec *s, char *err, size_t errlen)
{
	size_t total = 2, big = 0, n, exec = 0;
	const char *big_name = NULL;
	const cJSON *it;

	for (int i = 0; i < s->n_params; i++) {
		n = param_member_max(&s->params[i]);
		total += n;
		if (n > big) {
			big = n;
			big_name = s->params[i].name;
		}
	}
	if (s->builtin)
		total += printed_len(s->trainer);
	if (total > MAX_PARAMS_JSON)
		return fail(err, errlen, "space: a trial's params can take %zu "
			    "bytes as JSON (space.%s up to %zu); SWEEP_PARAMS holds "
			    "at most %d", total, big_name ? big_name : "?", big,
			    MAX_PARAMS_JSON);
	for (int i = 0; i < s->argc; i++)
		exec += strlen(s->argv[i]) + 1;
	cJSON_ArrayForEach(it, s->env)
		exec += strlen(it->string) + strlen(it->valuestring) + 2;
	if (exec + total > MAX_EXEC_TOTAL)
		return fail(err, errlen, "trainer: the command, its env and "
			    "SWEEP_PARAMS take up to %zu bytes; a trainer can be "
			    "started with at most %d", exec + total,
			    MAX_EXEC_TOTAL);
	return 0;
}

/* ---- objective -------------------------------------------------------- */

static const char *const objective_keys[] = { "metric", "mode" };

static int
parse_objective(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *obj;
	const char *metric, *mode;
	int rc, acc, loss;

	rc = get_section(root, "objective", &obj, err, errlen);
	if (rc < 0)
		return rc;
	if (!obj)
		return fail(err, errlen, "objective: required, e.g. {\"metric\": "
			    "\"val_acc\", \"mode\": \"max\"}");
	rc = check_keys(obj, "objective", objective_keys, 2, err, errlen);
	if (rc < 0)
		return rc;
	rc = get_str(obj, "metric", "objective", &metric, err, errlen);
	if (rc < 0)
		return rc;
	if (!metric)
		return fail(err, errlen, "objective.metric: required (a key of the "
			    "trainer's epoch lines, e.g. \"val_acc\")");
	if (strcmp(metric, "epoch") == 0)
		return fail(err, errlen, "objective.metric: \"epoch\" is the epoch "
			    "number, not a metric");
	rc = get_str(obj, "mode", "objective", &mode, err, errlen);
	if (rc < 0)
		return fail(err, errlen, "objective.mode: must be \"max\" or \"min\"");
	if (mode && strcmp(mode, "max") != 0 && strcmp(mode, "min") != 0)
		return fail(err, errlen, "objective.mode: must be \"max\" or "
			    "\"min\", not \"%s\"", mode);
	/* Guessing the direction is safe only for names that say it. */
	acc = strstr(metric, "acc") != NULL;
	loss = strstr(metric, "loss") != NULL;
	if (!mode && acc == loss)
		return fail(err, errlen, "objective.mode: required for metric "
			    "\"%s\" (\"max\" or \"min\"); only a name with \"acc\" "
			    "or \"loss\" in it has a default", metric);
	s->mode_max = mode ? strcmp(mode, "max") == 0 : acc;
	s->metric = strdup(metric);
	return s->metric ? 0 : -ENOMEM;
}

/* ---- search ----------------------------------------------------------- */

static const char *const search_keys[] = {
	"algorithm", "trials", "parallel", "seed", "n_startup", "gamma",
	"n_candidates",
};
static const char *const tpe_keys[] = { "n_startup", "gamma", "n_candidates" };

static int
parse_algorithm(struct spec *s, const cJSON *search, char *err, size_t errlen)
{
	const char *alg;
	int rc;

	rc = get_str(search, "algorithm", "search", &alg, err, errlen);
	if (rc < 0 || !alg) {
		s->algorithm = SPEC_RANDOM;
		return rc < 0 ? fail(err, errlen, "search.algorithm: must be "
				     "\"grid\", \"random\" or \"tpe\"") : 0;
	}
	if (strcmp(alg, "grid") == 0)
		s->algorithm = SPEC_GRID;
	else if (strcmp(alg, "random") == 0)
		s->algorithm = SPEC_RANDOM;
	else if (strcmp(alg, "tpe") == 0)
		s->algorithm = SPEC_TPE;
	else
		return fail(err, errlen, "search.algorithm: must be \"grid\", "
			    "\"random\" or \"tpe\", not \"%s\"", alg);
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
static int
check_grid(struct spec *s, int trials_given, char *err, size_t errlen)
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
			if (is_integer_dist(p->kind))
				return fail(err, errlen, "space.%s: grid search "
					    "enumerates int ranges of at most %d "
					    "values; give it \"grid\" points or "
					    "use random or tpe", p->name,
					    SPEC_MAX_INT_GRID);
			return fail(err, errlen, "space.%s: grid search cannot "
				    "enumerate a continuous %s range; give it "
				    "\"grid\" points or use random or tpe",
				    p->name, dist_names[p->kind]);
		}
		return fail(err, errlen, "search.algorithm: the grid cannot be "
			    "enumerated");
	}
	if (s->conditional && parents_product(s) > SPEC_MAX_COND_GRID)
		return fail(err, errlen, "space: grid search walks at most %d "
			    "combinations of the params that \"when\" names",
			    SPEC_MAX_COND_GRID);
	room = size + spec_n_enqueued(s);
	if (room > SPEC_MAX_TRIALS)
		return fail(err, errlen, "search.algorithm: the grid has more than "
			    "%d combinations", SPEC_MAX_TRIALS);
	if (!trials_given)
		s->trials = (int)room;
	else if (s->trials > room)
		return fail(err, errlen, "search.trials: %d is more than the grid's "
			    "%ld combinations (plus %d enqueued)", s->trials,
			    size, spec_n_enqueued(s));
	return 0;
}

static int
parse_search(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *search, *gamma;
	long trials, parallel, seed, startup, cands;
	int rc;

	rc = get_section(root, "search", &search, err, errlen);
	if (rc < 0)
		return rc;
	rc = check_keys(search, "search", search_keys,
			sizeof search_keys / sizeof search_keys[0], err, errlen);
	if (rc < 0)
		return rc;
	rc = parse_algorithm(s, search, err, errlen);
	if (rc < 0)
		return rc;
	if (s->algorithm != SPEC_TPE)
		for (size_t i = 0; i < sizeof tpe_keys / sizeof tpe_keys[0]; i++)
			if (cJSON_HasObjectItem(search, tpe_keys[i]))
				return fail(err, errlen, "search.%s: only for "
					    "algorithm \"tpe\"", tpe_keys[i]);
	if ((rc = get_int(search, "trials", "search", 1, SPEC_MAX_TRIALS,
			  DEFAULT_TRIALS, &trials, err, errlen)) < 0 ||
	    (rc = get_int(search, "parallel", "search", 1, SPEC_MAX_PARALLEL, 1,
			  &parallel, err, errlen)) < 0 ||
	    (rc = get_int(search, "seed", "search", 0, (long)SPEC_MAX_SEED, 0,
			  &seed, err, errlen)) < 0 ||
	    (rc = get_int(search, "n_startup", "search", 0, SPEC_MAX_TRIALS, 10,
			  &startup, err, errlen)) < 0 ||
	    (rc = get_int(search, "n_candidates", "search", 1, 10000, 24,
			  &cands, err, errlen)) < 0)
		return rc;
	/* "auto" (the default, 0 here) is Optuna's rule, min(ceil(0.1 n), 25)
	 * good trials: a fixed 0.25 locked onto one categorical value in
	 * bench/search's runs. */
	gamma = cJSON_GetObjectItemCaseSensitive(search, "gamma");
	if (cJSON_IsString(gamma) && strcmp(gamma->valuestring, "auto") == 0) {
		s->tpe_gamma = 0;
	} else {
		rc = get_num(search, "gamma", "search", 0, 1, 0, &s->tpe_gamma,
			     err, errlen);
		if (rc < 0 || (gamma && (s->tpe_gamma <= 0 || s->tpe_gamma >= 1)))
			return fail(err, errlen, "search.gamma: must be \"auto\" "
				    "or a number between 0 and 1 (exclusive)");
	}
	s->trials = (int)trials;
	s->parallel = (int)parallel;
	s->seed = (uint64_t)seed;
	s->has_seed = cJSON_HasObjectItem(search, "seed");
	s->tpe_n_startup = (int)startup;
	s->tpe_n_candidates = (int)cands;
	if (s->algorithm == SPEC_GRID)
		return check_grid(s, cJSON_HasObjectItem(search, "trials"), err,
				  errlen);
	return 0;
}

/* ---- early stopping, pruner, limits ----------------------------------- */

static const char *const es_keys[] = { "patience", "min_delta" };

static int
parse_early_stopping(struct spec *s, const cJSON *root, char *err,
		     size_t errlen)
{
	const cJSON *es;
	long patience;
	int rc;

	rc = get_section(root, "early_stopping", &es, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = check_keys(es, "early_stopping", es_keys, 2, err, errlen)) < 0 ||
	    (rc = get_int(es, "patience", "early_stopping", 0, 1000000, 0,
			  &patience, err, errlen)) < 0 ||
	    (rc = get_num(es, "min_delta", "early_stopping", 0, HUGE_VAL, 0,
			  &s->es_min_delta, err, errlen)) < 0)
		return rc;
	s->es_patience = (int)patience;
	return 0;
}

static const char *const pruner_keys[] = {
	"algorithm", "min_epochs", "eta", "warmup_epochs", "min_trials",
	"max_epochs",
};

/* Which options each pruner takes: a key for another one is refused, so
 * "eta" on a median pruner does not pass for a setting that works. */
static int
pruner_option_ok(enum spec_pruner p, const char *key)
{
	if (strcmp(key, "algorithm") == 0)
		return 1;
	if (strcmp(key, "max_epochs") == 0)
		return p != SPEC_PRUNE_NONE;
	if (p == SPEC_PRUNE_ASHA)
		return strcmp(key, "min_epochs") == 0 || strcmp(key, "eta") == 0;
	if (p == SPEC_PRUNE_MEDIAN)
		return strcmp(key, "warmup_epochs") == 0 ||
		       strcmp(key, "min_trials") == 0;
	return 0;
}

static int
parse_pruner(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	static const char *const names[] = {
		[SPEC_PRUNE_NONE] = "none", [SPEC_PRUNE_MEDIAN] = "median",
		[SPEC_PRUNE_ASHA] = "asha",
	};
	const cJSON *pr, *it;
	const char *alg;
	long min_epochs, eta, warmup, min_trials, max_epochs;
	int rc, found = 0;

	s->pruner = SPEC_PRUNE_NONE;
	rc = get_section(root, "pruner", &pr, err, errlen);
	if (rc < 0)
		return rc;
	rc = check_keys(pr, "pruner", pruner_keys,
			sizeof pruner_keys / sizeof pruner_keys[0], err, errlen);
	if (rc < 0)
		return rc;
	rc = get_str(pr, "algorithm", "pruner", &alg, err, errlen);
	if (pr && (rc < 0 || !alg))
		return fail(err, errlen, "pruner.algorithm: required: \"median\", "
			    "\"asha\" or \"none\"");
	for (int i = 0; alg && i < 3; i++)
		if (strcmp(alg, names[i]) == 0) {
			s->pruner = (enum spec_pruner)i;
			found = 1;
		}
	if (alg && !found)
		return fail(err, errlen, "pruner.algorithm: must be \"median\", "
			    "\"asha\" or \"none\", not \"%s\"", alg);
	cJSON_ArrayForEach(it, pr)
		if (!pruner_option_ok(s->pruner, it->string))
			return fail(err, errlen, "pruner.%s: not an option of the "
				    "\"%s\" pruner", it->string, alg);
	if ((rc = get_int(pr, "min_epochs", "pruner", 1, 1000000, 1,
			  &min_epochs, err, errlen)) < 0 ||
	    (rc = get_int(pr, "eta", "pruner", 2, 1000, 3, &eta, err,
			  errlen)) < 0 ||
	    (rc = get_int(pr, "warmup_epochs", "pruner", 0, 1000000, 0, &warmup,
			  err, errlen)) < 0 ||
	    (rc = get_int(pr, "min_trials", "pruner", 1, 1000000, 5,
			  &min_trials, err, errlen)) < 0 ||
	    (rc = get_int(pr, "max_epochs", "pruner", 1, 1000000, 0,
			  &max_epochs, err, errlen)) < 0)
		return rc;
	s->prune_max_epochs = (int)max_epochs;
	s->prune_min_epochs = (int)min_epochs;
	s->prune_eta = (int)eta;
	s->prune_warmup = (int)warmup;
	s->prune_min_trials = (int)min_trials;
	return 0;
}

static const char *const limits_keys[] = {
	"trial_timeout_s", "retries", "max_failures", "stall_s", "memory_mb",
	"nice", "retry_on", "heartbeat_s",
};

/* A manual trainer runs no process: the process limits cannot apply, and
 * heartbeat_s applies to nothing else. */
static int
check_manual_limits(const struct spec *s, const cJSON *lim, char *err,
		    size_t errlen)
{
	static const char *const process_only[] = { "stall_s", "memory_mb", "nice" };

	if (!s->manual) {
		if (cJSON_HasObjectItem(lim, "heartbeat_s"))
			return fail(err, errlen, "limits.heartbeat_s: only for a "
				    "manual trainer ({\"manual\": {}}); a process "
				    "trainer has limits.stall_s");
		return 0;
	}
	for (size_t i = 0; i < sizeof process_only / sizeof process_only[0]; i++)
		if (cJSON_HasObjectItem(lim, process_only[i]))
			return fail(err, errlen, "limits.%s: a manual trainer runs "
				    "no process%s", process_only[i],
				    i == 0 ? "; use limits.heartbeat_s" : "");
	return 0;
}

static int
parse_retry_on(struct spec *s, const cJSON *lim, char *err, size_t errlen)
{
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(lim, "retry_on");
	const cJSON *it;
	int i = 0;

	s->retry_on = SPEC_RETRY_ALL;
	if (!ro)
		return 0;
	if (!cJSON_IsArray(ro))
		return fail(err, errlen, "limits.retry_on: must be an array of "
			    "failure classes (signal, timeout, stall, oom, exit)");
	s->retry_on = 0;
	cJSON_ArrayForEach(it, ro) {
		unsigned bit = 0;
		for (unsigned k = 0; k < 5 && cJSON_IsString(it); k++)
			if (strcmp(it->valuestring, retry_names[k]) == 0)
				bit = 1u << k;
		if (!bit)
			return fail(err, errlen, "limits.retry_on[%d]: must be one "
				    "of \"signal\", \"timeout\", \"stall\", \"oom\", "
				    "\"exit\"", i);
		s->retry_on |= bit;
		i++;
	}
	return 0;
}

static int
parse_limits(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *lim;
	long retries, max_failures, memory_mb, nice_v;
	int rc;

	rc = get_section(root, "limits", &lim, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = check_keys(lim, "limits", limits_keys,
			     sizeof limits_keys / sizeof limits_keys[0], err,
			     errlen)) < 0 ||
	    (rc = get_num(lim, "trial_timeout_s", "limits", 0, MAX_SECONDS, 0,
			  &s->timeout_s, err, errlen)) < 0 ||
	    (rc = get_num(lim, "stall_s", "limits", 0, MAX_SECONDS, 0,
			  &s->stall_s, err, errlen)) < 0 ||
	    (rc = get_num(lim, "heartbeat_s", "limits", 0, MAX_SECONDS,
			  SPEC_HEARTBEAT_S, &s->heartbeat_s, err, errlen)) < 0 ||
	    (rc = check_manual_limits(s, lim, err, errlen)) < 0 ||
	    (rc = get_int(lim, "retries", "limits", 0, 100, 0, &retries, err,
			  errlen)) < 0 ||
	    (rc = get_int(lim, "max_failures", "limits", 0, SPEC_MAX_TRIALS, 0,
			  &max_failures, err, errlen)) < 0 ||
	    (rc = get_int(lim, "memory_mb", "limits", 0, 1L << 30, 0, &memory_mb,
			  err, errlen)) < 0 ||
	    (rc = get_int(lim, "nice", "limits", 0, 19, 0, &nice_v, err,
			  errlen)) < 0)
		return rc;
	s->retries = (int)retries;
	s->max_failures = (int)max_failures;
	s->has_max_failures = cJSON_GetObjectItemCaseSensitive(lim,
							      "max_failures") != NULL;
	s->memory_mb = memory_mb;
	s->nice = (int)nice_v;
	return parse_retry_on(s, lim, err, errlen);
}

/* ---- name, diagnosis, enqueue ----------------------------------------- */

static int
parse_name(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const char *name;
	int rc = get_str(root, "name", "", &name, err, errlen);

	if (rc < 0)
		return rc;
	if (!name)
		name = "sweep";
	if (strlen(name) > MAX_NAME)
		return fail(err, errlen, "name: longer than %d bytes", MAX_NAME);
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return fail(err, errlen, "name: control characters are "
				    "not allowed");
	s->name = strdup(name);
	return s->name ? 0 : -ENOMEM;
}

static int
parse_enqueue(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *eq = cJSON_GetObjectItemCaseSensitive(root, "enqueue");
	const cJSON *it;
	char where[64];
	int i = 0, rc;

	if (!eq)
		return 0;
	if (!cJSON_IsArray(eq))
		return fail(err, errlen, "enqueue: must be an array of param "
			    "objects");
	cJSON_ArrayForEach(it, eq) {
		snprintf(where, sizeof where, "enqueue[%d]", ++i);   /* 1-based */
		if (!cJSON_IsObject(it))
			return fail(err, errlen, "%s: must be an object of params",
				    where);
		rc = spec_check_params(s, it, where, err, errlen);
		if (rc < 0)
			return rc;
	}
	s->enqueue = cJSON_Duplicate(eq, 1);
	s->n_enqueue = i;
	return s->enqueue ? 0 : -ENOMEM;
}

/* After search: the enqueued sets are trials too. */
static int
check_enqueue_room(const struct spec *s, char *err, size_t errlen)
{
	int n = spec_n_enqueued(s);

	if (n > s->trials)
		return fail(err, errlen, "enqueue: %d param sets but search.trials "
			    "is %d", n, s->trials);
	return 0;
}

static int
parse_diagnosis(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *d;
	int rc = get_section(root, "diagnosis", &d, err, errlen);

	if (rc < 0 || !d)
		return rc;
	s->diagnosis = cJSON_Duplicate(d, 1);
	return s->diagnosis ? 0 : -ENOMEM;
}

/* ---- the normalized JSON ---------------------------------------------- */

static const char *const search_names[] = {
	[SPEC_GRID] = "grid", [SPEC_RANDOM] = "random", [SPEC_TPE] = "tpe",
};

/* s->json: the input with every default that matters to a reader (and to
 * the search) written out, so a stored spec means the same thing even if
 * a default changes in a later version. */
static int
normalize(struct spec *s, const cJSON *root)
{
	cJSON *j = cJSON_Duplicate(root, 1), *sec;
	int rc = -ENOMEM;

	if (!j)
		return -ENOMEM;
	if (put(j, "name", cJSON_CreateString(s->name)) < 0)
		goto fail;
	sec = put_section(j, "objective");
	if (!sec || put(sec, "mode", cJSON_CreateString(s->mode_max ? "max" :
							   "min")) < 0)
		goto fail;
	sec = put_section(j, "search");
	if (!sec ||
	    put(sec, "algorithm", cJSON_CreateString(search_names[s->algorithm])) < 0 ||
	    put(sec, "trials", cJSON_CreateNumber(s->trials)) < 0 ||
	    put(sec, "parallel", cJSON_CreateNumber(s->parallel)) < 0)
		goto fail;
	if (s->algorithm == SPEC_TPE &&
	    (put(sec, "n_startup", cJSON_CreateNumber(s->tpe_n_startup)) < 0 ||
	     put(sec, "gamma", s->tpe_gamma > 0 ? cJSON_CreateNumber(s->tpe_gamma) :
				   cJSON_CreateString("auto")) < 0 ||
	     put(sec, "n_candidates", cJSON_CreateNumber(s->tpe_n_candidates)) < 0))
		goto fail;
	if (s->manual && (!(sec = put_section(j, "limits")) ||
	    put(sec, "heartbeat_s", cJSON_CreateNumber(s->heartbeat_s)) < 0))
		goto fail;
	sec = cJSON_GetObjectItemCaseSensitive(j, "pruner");
	if (s->pruner == SPEC_PRUNE_ASHA &&
	    (put(sec, "min_epochs", cJSON_CreateNumber(s->prune_min_epochs)) < 0 ||
	     put(sec, "eta", cJSON_CreateNumber(s->prune_eta)) < 0))
		goto fail;
	if (s->pruner == SPEC_PRUNE_MEDIAN &&
	    (put(sec, "warmup_epochs", cJSON_CreateNumber(s->prune_warmup)) < 0 ||
	     put(sec, "min_trials", cJSON_CreateNumber(s->prune_min_trials)) < 0))
		goto fail;
	s->json = j;
	return 0;
fail:
	cJSON_Delete(j);
	return rc;
}

/* ---- public ----------------------------------------------------------- */

static const char *const top_keys[] = {
	"name", "trainer", "objective", "space", "search", "early_stopping",
	"pruner", "limits", "diagnosis", "enqueue",
};

int
spec_parse(const cJSON *json, struct spec **out, char *err, size_t errlen)
{
	struct spec *s;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if (!cJSON_IsObject(json))
		return fail(err, errlen, "spec: must be a JSON object");
	rc = check_keys(json, "", top_keys, sizeof top_keys / sizeof top_keys[0],
			err, errlen);
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	/* Space first: the trainer and enqueue checks look params up. */
	if ((rc = parse_name(s, json, err, errlen)) < 0 ||
	    (rc = parse_space(s, json, err, errlen)) < 0 ||
	    (rc = parse_conditions(s, err, errlen)) < 0 ||
	    (rc = parse_trainer(s, json, err, errlen)) < 0 ||
	    (rc = check_exec_size(s, err, errlen)) < 0 ||
	    (rc = parse_objective(s, json, err, errlen)) < 0 ||
	    (rc = parse_enqueue(s, json, err, errlen)) < 0 ||
	    (rc = parse_search(s, json, err, errlen)) < 0 ||
	    (rc = check_enqueue_room(s, err, errlen)) < 0 ||
	    (rc = parse_early_stopping(s, json, err, errlen)) < 0 ||
	    (rc = parse_pruner(s, json, err, errlen)) < 0 ||
	    (rc = parse_limits(s, json, err, errlen)) < 0 ||
	    (rc = parse_diagnosis(s, json, err, errlen)) < 0 ||
	    (rc = normalize(s, json)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory while reading the spec");
	spec_free(s);
	return rc;
}

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
	free(s->metric);
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
	search = s->json ? put_section(s->json, "search") : NULL;
	if (search)
		put(search, "seed", cJSON_CreateNumber((double)s->seed));
}

int
spec_param_index(const struct spec *s, const char *name)
{
	for (int i = 0; i < s->n_params; i++)
		if (s->params[i].name && strcmp(s->params[i].name, name) == 0)
			return i;
	return -1;
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
			total = SPEC_MAX_TRIALS + 1L;   /* refused by check_grid */
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

int
spec_n_enqueued(const struct spec *s)
{
	return s->enqueue ? s->n_enqueue : 0;
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
			show(shown, sizeof shown, pv);
		return fail(err, errlen, "%s.%s: does not apply when %s is %s "
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
		return fail(err, errlen, "%s: must be an object of params", where);
	rc = check_dups(params, where, err, errlen);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, params) {
		snprintf(path, sizeof path, "%s.%s", where, it->string);
		i = spec_param_index(s, it->string);
		if (i < 0)
			return fail(err, errlen, "%s: not a param of the space",
				    path);
		rc = check_value(&s->params[i], it, path, err, errlen);
		if (rc < 0)
			return rc;
	}
	return check_applies(s, params, where, err, errlen);
}
