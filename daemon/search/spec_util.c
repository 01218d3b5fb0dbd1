/*
 * spec_util.c: the spec parser's small helpers: messages, typed field
 * reads, key checks, edits of the normalized JSON.
 *
 * Numbers are read from cJSON's valuedouble, never valueint, which cJSON
 * clamps to the int range without saying so.
 */
#include "daemon/search/spec_util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"

int
spec_fail(char *err, size_t errlen, const char *fmt, ...)
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
void
spec_join(char *buf, size_t len, const char *path, const char *key)
{
	if (path[0])
		snprintf(buf, len, "%s.%s", path, key);
	else
		snprintf(buf, len, "%s", key);
}

/* A short rendering of v for messages (truncated with "..."). */
void
spec_show(char *buf, size_t len, const cJSON *v)
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

int
spec_in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return 1;
	return 0;
}

/* Refuses a key given twice: cJSON keeps both and would silently read
 * the first. */
int
spec_check_dups(const cJSON *obj, const char *path, char *err, size_t errlen)
{
	const cJSON *it, *prev;

	cJSON_ArrayForEach(it, obj)
		for (prev = obj->child; prev != it; prev = prev->next)
			if (strcmp(prev->string, it->string) == 0)
				return spec_fail(err, errlen, "%s%sduplicate field \"%s\"",
						 path, path[0] ? ": " : "", it->string);
	return 0;
}

/* Refuses duplicates and keys of obj not in allowed[n]; the message names
 * the field and lists the valid ones. */
int
spec_check_keys(const cJSON *obj, const char *path, const char *const *allowed,
		size_t n, char *err, size_t errlen)
{
	const cJSON *it;
	char valid[512] = "";
	size_t used = 0;
	int rc = spec_check_dups(obj, path, err, errlen);

	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, obj) {
		if (spec_in_list(it->string, allowed, n))
			continue;
		for (size_t i = 0; i < n && used < sizeof valid; i++)
			used += (size_t)snprintf(valid + used, sizeof valid - used,
						 "%s%s", i ? ", " : "", allowed[i]);
		return spec_fail(err, errlen, "%s%sunknown field \"%s\" (valid: %s)",
				 path, path[0] ? ": " : "", it->string, valid);
	}
	return 0;
}

/*
 * Integer obj[key] into *out, within [min, max]; def when absent.
 * "must be an integer >= min" when max is LONG_MAX.
 */
int
spec_get_int(const cJSON *obj, const char *key, const char *path, long min,
	     long max, long def, long *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char where[256];
	double d;

	if (!v) {
		*out = def;
		return 0;
	}
	spec_join(where, sizeof where, path, key);
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (isfinite(d) && d == floor(d) && d >= (double)min && d <= (double)max) {
		*out = (long)d;
		return 0;
	}
	if (max == LONG_MAX)
		return spec_fail(err, errlen, "%s: must be an integer >= %ld", where, min);
	return spec_fail(err, errlen, "%s: must be an integer from %ld to %ld", where,
			 min, max);
}

/* Number obj[key] in [min, max] into *out; def when absent. */
int
spec_get_num(const cJSON *obj, const char *key, const char *path, double min,
	     double max, double def, double *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char where[256];

	if (!v) {
		*out = def;
		return 0;
	}
	spec_join(where, sizeof where, path, key);
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	    v->valuedouble >= min && v->valuedouble <= max) {
		*out = v->valuedouble;
		return 0;
	}
	return spec_fail(err, errlen, "%s: must be a number from %g to %g", where,
			 min, max);
}

/* String obj[key] (borrowed) or NULL when absent; "" is refused. */
int
spec_get_str(const cJSON *obj, const char *key, const char *path,
	     const char **out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char where[256];

	*out = NULL;
	if (!v)
		return 0;
	spec_join(where, sizeof where, path, key);
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return spec_fail(err, errlen, "%s: must be a non-empty string", where);
	*out = v->valuestring;
	return 0;
}

/* The section obj[key]: NULL when absent, else it must be an object. */
int
spec_get_section(const cJSON *obj, const char *key, const cJSON **out, char *err,
		 size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsObject(v))
		return spec_fail(err, errlen, "%s: must be an object", key);
	*out = v;
	return 0;
}

/* Replaces or adds obj[key] = item (handed over; deleted on failure). */
int
spec_put(cJSON *obj, const char *key, cJSON *item)
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
cJSON *
spec_put_section(cJSON *obj, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v)
		return v;
	return cJSON_AddObjectToObject(obj, key);
}

/* True when v holds a number that is not finite anywhere inside it: cJSON
 * reads 1e999 as inf, which would be stored as null. */
int
spec_has_nonfinite(const cJSON *v)
{
	const cJSON *it;

	if (cJSON_IsNumber(v))
		return !isfinite(v->valuedouble);
	cJSON_ArrayForEach(it, v)
		if (spec_has_nonfinite(it))
			return 1;
	return 0;
}

/* True when an object inside v repeats a key: cJSON keeps both, and such a
 * value is not even equal to itself (enqueue and grid compare values). */
int
spec_has_dup_key(const cJSON *v)
{
	const cJSON *it, *later;

	cJSON_ArrayForEach(it, v) {
		if (cJSON_IsObject(v))
			for (later = it->next; later; later = later->next)
				if (strcmp(it->string, later->string) == 0)
					return 1;
		if (spec_has_dup_key(it))
			return 1;
	}
	return 0;
}
